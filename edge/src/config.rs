//! The Worker's configuration, read from its vars and secrets.
//!
//! Parsed from a lookup function (the Worker passes `env.var`/`env.secret`,
//! tests pass a map) so that every rule is testable on the host. Nothing is
//! defaulted silently except what `wrangler.toml` documents as optional: a
//! missing or malformed required setting is a [`ConfigError`] that the Worker
//! answers with `503` and the setting's name, never a panic.

use factory_core::catalog::VersionPolicy;
use factory_core::dispatch::auth::DispatchSecret;
use factory_core::record::PublicKey;
use factory_core::version::TalosVersion;

/// The presigned URL lifetime when `PRESIGN_TTL_SECONDS` is not set.
pub const DEFAULT_PRESIGN_TTL_SECONDS: u64 = 3600;
/// The longest presigned URL lifetime SigV4 allows (seven days).
pub const MAX_PRESIGN_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// A setting that is missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required var or secret is not set.
    #[error("the image factory is not configured: {0} is not set")]
    Missing(&'static str),
    /// A setting does not parse.
    #[error("the image factory is misconfigured: {name}: {reason}")]
    Invalid {
        /// The var or secret.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
}

/// Where objects live and how to sign URLs for them.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The S3-compatible endpoint, no trailing slash (`https://s3.eu-west-1.amazonaws.com`).
    pub endpoint: String,
    /// The bucket (addressed path-style: `<endpoint>/<bucket>/<key>`).
    pub bucket: String,
    /// The signing region.
    pub region: String,
    /// When set, downloads redirect to `<public_blob_url>/<key>` unsigned.
    pub public_blob_url: Option<String>,
    /// Presigned URL lifetime in seconds.
    pub presign_ttl: u64,
    /// The key presigned URLs are signed with: `S3_ACCESS_KEY_ID` /
    /// `S3_SECRET_ACCESS_KEY` when set (an R2 token: the `AWS_*` key must
    /// stay the IAM user's, which invokes the builder), else the `AWS_*` key.
    pub credentials: AwsCredentials,
}

/// AWS credentials (secrets), used for presigning and for invoking the builder.
#[derive(Clone)]
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
}

impl AwsCredentials {
    /// This key as SigV4 signing credentials (builder calls and presigned
    /// URLs sign with it the same way).
    pub fn signing_credentials(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "image-factory-edge",
        )
    }
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AwsCredentials({}, ..)", self.access_key_id)
    }
}

/// How to reach the builder.
#[derive(Debug, Clone)]
pub struct BuilderConfig {
    /// The Function URL, no trailing slash; jobs go to `<url>/build`.
    pub url: String,
    /// The Lambda's region (SigV4 service `lambda`).
    pub region: String,
    /// The HMAC secret the builder checks.
    pub secret: DispatchSecret,
}

/// Everything the Worker needs.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// `EXTERNAL_URL`.
    pub external_url: String,
    /// `PXE_URL`, if iPXE is served on its own host.
    pub pxe_url: Option<String>,
    /// The object store.
    pub s3: S3Config,
    /// The builder.
    pub builder: BuilderConfig,
    /// The `AWS_*` key: invokes the builder (and presigns unless the
    /// object store has its own, see [`S3Config::credentials`]).
    pub credentials: AwsCredentials,
    /// `COSIGN_PUBLIC_KEY`, as given (served at `/oci/cosign/signing-key.pub`).
    pub cosign_public_key_pem: String,
    /// The parsed key every builder answer is verified with.
    pub public_key: PublicKey,
    /// `MIN_VERSION` and `BROKEN_VERSIONS`.
    pub policy: VersionPolicy,
}

impl EdgeConfig {
    /// Reads the configuration through `lookup` (var or secret name → value;
    /// empty values count as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<EdgeConfig, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let external_url = url_setting("EXTERNAL_URL", required("EXTERNAL_URL")?)?;
        let pxe_url = get("PXE_URL")
            .map(|v| url_setting("PXE_URL", v))
            .transpose()?;
        let s3_region = required("S3_REGION")?;
        let credentials = AwsCredentials {
            access_key_id: required("AWS_ACCESS_KEY_ID")?,
            secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
        };
        let s3_credentials = match (get("S3_ACCESS_KEY_ID"), get("S3_SECRET_ACCESS_KEY")) {
            (None, None) => credentials.clone(),
            (Some(access_key_id), Some(secret_access_key)) => AwsCredentials {
                access_key_id,
                secret_access_key,
            },
            (None, Some(_)) => return Err(ConfigError::Missing("S3_ACCESS_KEY_ID")),
            (Some(_), None) => return Err(ConfigError::Missing("S3_SECRET_ACCESS_KEY")),
        };
        let s3 = S3Config {
            endpoint: trim_base(&url_setting("S3_ENDPOINT", required("S3_ENDPOINT")?)?),
            bucket: bucket_setting(required("S3_BUCKET")?)?,
            region: s3_region.clone(),
            public_blob_url: get("PUBLIC_BLOB_URL")
                .map(|v| url_setting("PUBLIC_BLOB_URL", v).map(|u| trim_base(&u)))
                .transpose()?,
            presign_ttl: match get("PRESIGN_TTL_SECONDS") {
                None => DEFAULT_PRESIGN_TTL_SECONDS,
                Some(v) => ttl_setting(&v)?,
            },
            credentials: s3_credentials,
        };
        let secret = required("DISPATCH_SECRET")?;
        let builder = BuilderConfig {
            url: trim_base(&url_setting("BUILDER_URL", required("BUILDER_URL")?)?),
            region: get("BUILDER_REGION").unwrap_or(s3_region),
            secret: DispatchSecret::new(secret.as_bytes()).map_err(|e| ConfigError::Invalid {
                name: "DISPATCH_SECRET",
                reason: e.to_string(),
            })?,
        };
        let cosign_public_key_pem = required("COSIGN_PUBLIC_KEY")?;
        let public_key =
            PublicKey::from_pem(&cosign_public_key_pem).map_err(|e| ConfigError::Invalid {
                name: "COSIGN_PUBLIC_KEY",
                reason: e.to_string(),
            })?;
        let mut policy = VersionPolicy::default();
        if let Some(min) = get("MIN_VERSION") {
            policy.min_version = version_setting("MIN_VERSION", &min)?;
        }
        if let Some(broken) = get("BROKEN_VERSIONS") {
            policy.broken = broken
                .split([',', ' '])
                .filter(|v| !v.is_empty())
                .map(|v| version_setting("BROKEN_VERSIONS", v))
                .collect::<Result<_, _>>()?;
        }
        Ok(EdgeConfig {
            external_url,
            pxe_url,
            s3,
            builder,
            credentials,
            cosign_public_key_pem,
            public_key,
            policy,
        })
    }
}

fn url_setting(name: &'static str, value: String) -> Result<String, ConfigError> {
    let value = value.trim().to_owned();
    let ok = value
        .parse::<http::Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http" | "https")))
        .is_some_and(|u| u.authority().is_some());
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("{value:?} is not an absolute http(s) URL"),
        })
    }
}

fn trim_base(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

fn bucket_setting(value: String) -> Result<String, ConfigError> {
    let ok = (3..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name: "S3_BUCKET",
            reason: format!("{value:?} is not a bucket name (3-63 of a-z 0-9 . -)"),
        })
    }
}

fn ttl_setting(value: &str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(ttl) if (1..=MAX_PRESIGN_TTL_SECONDS).contains(&ttl) => Ok(ttl),
        _ => Err(ConfigError::Invalid {
            name: "PRESIGN_TTL_SECONDS",
            reason: format!("{value:?} is not a whole number from 1 to {MAX_PRESIGN_TTL_SECONDS}"),
        }),
    }
}

fn version_setting(name: &'static str, value: &str) -> Result<TalosVersion, ConfigError> {
    TalosVersion::parse_tolerant(value.trim()).map_err(|e| ConfigError::Invalid {
        name,
        reason: format!("{value:?}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use super::*;

    const PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEz4kS0pCdgXtEzQ3BKNdKDeJGq2LC
YQsCQRCnVpYKCpgujVRNvdv8BHlq0PPGskuL8wytRjszNleWWUI5Bi+mMQ==
-----END PUBLIC KEY-----
";

    pub(crate) fn settings() -> HashMap<&'static str, String> {
        HashMap::from([
            ("EXTERNAL_URL", "https://factory.example.com/".to_owned()),
            (
                "S3_ENDPOINT",
                "https://s3.eu-west-1.amazonaws.com/".to_owned(),
            ),
            ("S3_BUCKET", "factory-artifacts".to_owned()),
            ("S3_REGION", "eu-west-1".to_owned()),
            (
                "BUILDER_URL",
                "https://abc.lambda-url.eu-west-1.on.aws".to_owned(),
            ),
            ("DISPATCH_SECRET", "s".repeat(32)),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "secret".to_owned()),
            ("COSIGN_PUBLIC_KEY", PEM.to_owned()),
        ])
    }

    fn parse(map: &HashMap<&'static str, String>) -> Result<EdgeConfig, ConfigError> {
        EdgeConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn the_object_store_may_have_its_own_key() {
        let config = parse(&settings()).unwrap();
        assert_eq!(config.s3.credentials.access_key_id, "AKIDEXAMPLE");
        let mut map = settings();
        map.insert("S3_ACCESS_KEY_ID", "R2KEY".to_owned());
        assert_eq!(
            parse(&map).unwrap_err(),
            ConfigError::Missing("S3_SECRET_ACCESS_KEY")
        );
        map.insert("S3_SECRET_ACCESS_KEY", "r2secret".to_owned());
        let config = parse(&map).unwrap();
        assert_eq!(config.s3.credentials.access_key_id, "R2KEY");
        assert_eq!(config.credentials.access_key_id, "AKIDEXAMPLE");
    }

    #[test]
    fn a_complete_configuration_parses_with_defaults() {
        let config = parse(&settings()).unwrap();
        assert_eq!(config.s3.endpoint, "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(config.s3.presign_ttl, DEFAULT_PRESIGN_TTL_SECONDS);
        assert_eq!(config.builder.region, "eu-west-1");
        assert!(config.pxe_url.is_none() && config.s3.public_blob_url.is_none());
        assert_eq!(config.policy, VersionPolicy::default());
    }

    #[test]
    fn every_required_setting_is_named_when_missing() {
        for name in settings().keys() {
            let mut map = settings();
            map.insert(name, "  ".to_owned());
            assert_eq!(parse(&map).unwrap_err(), ConfigError::Missing(name));
        }
    }

    #[test]
    fn malformed_settings_are_refused_with_their_name() {
        let cases = [
            ("EXTERNAL_URL", "factory.example.com"),
            ("S3_BUCKET", "Bad_Bucket"),
            ("PRESIGN_TTL_SECONDS", "0"),
            ("PRESIGN_TTL_SECONDS", "604801"),
            ("DISPATCH_SECRET", "short"),
            ("COSIGN_PUBLIC_KEY", "not a key"),
            ("MIN_VERSION", "one"),
            ("PXE_URL", "ftp://pxe"),
        ];
        for (name, value) in cases {
            let mut map = settings();
            map.insert(name, value.to_owned());
            match parse(&map).unwrap_err() {
                ConfigError::Invalid { name: got, .. } => assert_eq!(got, name),
                other => panic!("{name}: {other}"),
            }
        }
    }

    #[test]
    fn policy_settings_are_read() {
        let mut map = settings();
        map.insert("MIN_VERSION", "v1.10.0".into());
        map.insert("BROKEN_VERSIONS", "v1.10.1, v1.11.0".into());
        let policy = parse(&map).unwrap().policy;
        assert_eq!(policy.min_version, TalosVersion::new(1, 10, 0));
        assert_eq!(policy.broken.len(), 2);
    }
}
