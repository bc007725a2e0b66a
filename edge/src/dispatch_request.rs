//! The signed HTTP request that carries a job to the builder.
//!
//! Two independent signatures, as `factory_core::dispatch` describes: SigV4
//! for the Lambda Function URL (`AuthType=AWS_IAM`, service `lambda`, body
//! hash signed and sent as `x-amz-content-sha256`) and the dispatch HMAC the
//! builder checks itself. Built as a plain `http::Request` from the time and
//! nonce the caller supplies, so it is deterministic and host-testable; the
//! Worker only copies it into a `fetch`.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use factory_core::dispatch::BUILD_PATH;
use factory_core::dispatch::auth::{NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

use crate::config::{AwsCredentials, BuilderConfig};

/// A request that could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot sign the builder request: {0}")]
pub struct DispatchSignError(pub String);

/// `POST <builder>/build` with `body`, signed at `now_secs` (Unix seconds)
/// with `nonce` (32–64 lowercase hex digits from a CSPRNG).
pub fn build_request(
    builder: &BuilderConfig,
    credentials: &AwsCredentials,
    body: Vec<u8>,
    now_secs: u64,
    nonce: &str,
) -> Result<http::Request<Vec<u8>>, DispatchSignError> {
    let fail = |e: &dyn std::fmt::Display| DispatchSignError(e.to_string());
    let url = format!("{}{BUILD_PATH}", builder.url);
    let uri: http::Uri = url.parse().map_err(|e| fail(&e))?;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .ok_or_else(|| DispatchSignError(format!("{url} has no host")))?;
    let hmac = builder
        .secret
        .sign("POST", uri.path(), &body, now_secs, nonce)
        .map_err(|e| fail(&e))?;
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
        (TIMESTAMP_HEADER, hmac.timestamp.as_str()),
        (NONCE_HEADER, hmac.nonce.as_str()),
        (SIGNATURE_HEADER, hmac.signature.as_str()),
    ];
    let identity = credentials.signing_credentials().into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&builder.region)
        .name("lambda")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(now_secs))
        .settings(settings)
        .build()
        .map_err(|e| fail(&e))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(&body),
    )
    .map_err(|e| fail(&e))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| fail(&e))?.into_parts();
    let mut request = http::Request::builder().method("POST").uri(uri);
    for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
        request = request.header(*name, *value);
    }
    for (name, value) in instructions.headers() {
        request = request.header(name, value);
    }
    request.body(body).map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use factory_core::dispatch::auth::{AuthHeaders, DispatchSecret, ReplayGuard};

    use super::*;

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn builder() -> BuilderConfig {
        BuilderConfig {
            url: "http://127.0.0.1:9000".into(),
            region: "us-east-1".into(),
            secret: DispatchSecret::new(&[9u8; 32]).unwrap(),
        }
    }

    fn credentials() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }
    }

    #[test]
    fn the_builder_accepts_the_hmac_once() {
        let request =
            build_request(&builder(), &credentials(), b"{}".to_vec(), 1000, NONCE).unwrap();
        assert_eq!(request.uri(), "http://127.0.0.1:9000/build");
        let header = |n: &str| request.headers()[n].to_str().unwrap().to_owned();
        let auth = AuthHeaders {
            timestamp: header(TIMESTAMP_HEADER),
            nonce: header(NONCE_HEADER),
            signature: header(SIGNATURE_HEADER),
        };
        let secret = DispatchSecret::new(&[9u8; 32]).unwrap();
        let mut guard = ReplayGuard::new();
        secret
            .verify("POST", "/build", request.body(), &auth, 1001, &mut guard)
            .unwrap();
        assert!(
            secret
                .verify("POST", "/build", request.body(), &auth, 1001, &mut guard)
                .is_err()
        );
    }

    #[test]
    fn sigv4_signs_the_body_hash_for_lambda() {
        let request =
            build_request(&builder(), &credentials(), b"{}".to_vec(), 1000, NONCE).unwrap();
        let header = |n: &str| request.headers()[n].to_str().unwrap().to_owned();
        assert_eq!(
            header("x-amz-content-sha256"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let auth = header("authorization");
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/19700101/us-east-1/lambda/aws4_request"
            ),
            "{auth}"
        );
        assert!(auth.contains("x-factory-signature"), "{auth}");
        assert_eq!(header("x-amz-date"), "19700101T001640Z");
        // Another body gives another signature.
        let other = build_request(&builder(), &credentials(), b"[]".to_vec(), 1000, NONCE).unwrap();
        assert_ne!(
            other.headers()["authorization"],
            request.headers()["authorization"]
        );
    }
}
