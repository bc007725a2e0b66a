//! SigV4 query signing of object-store downloads, computed in the Worker.
//!
//! A download is a redirect to `GET <endpoint>/<bucket>/<key>?X-Amz-...`
//! (path-style, so any S3-compatible store works, R2 and s3s-fs included).
//! The `response-content-disposition` and `response-content-type` overrides
//! are part of the signed query, so the object store answers with the file
//! name the client asked for and nobody can change it. Signing uses
//! `aws-sigv4` with an explicit time: wasm32 has no clock behind
//! `SystemTime::now`, the Worker passes `Date.now()`.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::config::{AwsCredentials, S3Config};

/// Characters SigV4 leaves unencoded: `A-Z a-z 0-9 - _ . ~`.
pub(crate) const AWS_QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Like [`AWS_QUERY`] but keeping `/` (object keys in paths).
const AWS_PATH: &AsciiSet = &AWS_QUERY.remove(b'/');

/// A URL that could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot presign {url}: {reason}")]
pub struct PresignError {
    /// The URL being signed.
    pub url: String,
    /// What went wrong.
    pub reason: String,
}

/// Response header overrides carried in a presigned download.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides<'a> {
    /// `response-content-disposition`.
    pub content_disposition: Option<&'a str>,
    /// `response-content-type`.
    pub content_type: Option<&'a str>,
}

/// Where a download of `object_key` should go: the public base when one is
/// configured, a presigned URL valid for `s3.presign_ttl` seconds otherwise.
pub fn download_url(
    s3: &S3Config,
    object_key: &str,
    overrides: Overrides<'_>,
    now: SystemTime,
) -> Result<String, PresignError> {
    if let Some(base) = &s3.public_blob_url {
        return Ok(format!("{base}/{}", encode_path(object_key)));
    }
    let url = format!("{}/{}/{}", s3.endpoint, s3.bucket, encode_path(object_key));
    let mut query = Vec::new();
    if let Some(disposition) = overrides.content_disposition {
        query.push(("response-content-disposition", disposition));
    }
    if let Some(content_type) = overrides.content_type {
        query.push(("response-content-type", content_type));
    }
    presign_get(
        &url,
        &query,
        &s3.region,
        &s3.credentials,
        now,
        Duration::from_secs(s3.presign_ttl),
    )
}

/// Presigns `GET url?query` for service `s3` in `region`.
pub fn presign_get(
    url: &str,
    query: &[(&str, &str)],
    region: &str,
    credentials: &AwsCredentials,
    now: SystemTime,
    expires_in: Duration,
) -> Result<String, PresignError> {
    let fail = |reason: String| PresignError {
        url: url.to_owned(),
        reason,
    };
    let mut unsigned = url.to_owned();
    for (i, (name, value)) in query.iter().enumerate() {
        unsigned.push(if i == 0 { '?' } else { '&' });
        unsigned.push_str(&encode_query(name));
        unsigned.push('=');
        unsigned.push_str(&encode_query(value));
    }
    let identity = credentials.signing_credentials().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| fail(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        "GET",
        unsigned.as_str(),
        std::iter::empty(),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| fail(e.to_string()))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| fail(e.to_string()))?
        .into_parts();
    let mut signed = unsigned.clone();
    let mut first = query.is_empty();
    for (name, value) in instructions.params() {
        signed.push(if first { '?' } else { '&' });
        first = false;
        signed.push_str(&encode_query(name));
        signed.push('=');
        signed.push_str(&encode_query(value));
    }
    Ok(signed)
}

fn encode_query(s: &str) -> String {
    utf8_percent_encode(s, AWS_QUERY).to_string()
}

fn encode_path(s: &str) -> String {
    utf8_percent_encode(s, AWS_PATH).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn example_credentials() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        }
    }

    /// The presigned-URL example of the Amazon S3 API reference
    /// ("Authenticating Requests: Using Query Parameters").
    #[test]
    fn matches_the_aws_documentation_vector() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let url = presign_get(
            "https://examplebucket.s3.amazonaws.com/test.txt",
            &[],
            "us-east-1",
            &example_credentials(),
            at,
            Duration::from_secs(86400),
        )
        .unwrap();
        assert!(url.starts_with("https://examplebucket.s3.amazonaws.com/test.txt?"));
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
            "X-Amz-Date=20130524T000000Z",
            "X-Amz-Expires=86400",
            "X-Amz-SignedHeaders=host",
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
    }

    fn s3(public: Option<&str>) -> S3Config {
        S3Config {
            endpoint: "http://127.0.0.1:8014".into(),
            bucket: "artifacts".into(),
            region: "us-east-1".into(),
            public_blob_url: public.map(str::to_owned),
            presign_ttl: 60,
            credentials: example_credentials(),
        }
    }

    #[test]
    fn overrides_are_encoded_and_signed() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let url = download_url(
            &s3(None),
            "blobs/sha256/abc",
            Overrides {
                content_disposition: Some("attachment; filename=\"metal amd64.iso\""),
                content_type: Some("application/octet-stream"),
            },
            at,
        )
        .unwrap();
        assert!(url.starts_with(
            "http://127.0.0.1:8014/artifacts/blobs/sha256/abc?response-content-disposition=attachment%3B%20filename%3D%22metal%20amd64.iso%22&response-content-type=application%2Foctet-stream&X-Amz-"
        ), "{url}");
        assert!(url.contains("X-Amz-Expires=60"));
        // A different name is a different signature.
        let other = download_url(
            &s3(None),
            "blobs/sha256/abc",
            Overrides {
                content_disposition: Some("attachment; filename=\"x.iso\""),
                content_type: Some("application/octet-stream"),
            },
            at,
        )
        .unwrap();
        let sig = |u: &str| u.split("X-Amz-Signature=").nth(1).unwrap().to_owned();
        assert_ne!(sig(&url), sig(&other));
    }

    #[test]
    fn a_public_base_is_used_unsigned() {
        let url = download_url(
            &s3(Some("https://cdn.example.com")),
            "blobs/sha256/abc",
            Overrides::default(),
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(url, "https://cdn.example.com/blobs/sha256/abc");
    }
}
