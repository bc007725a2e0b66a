//! The builder's settings, read once from the environment at start (see the
//! crate docs for the variables).
//!
//! Everything is checked here, before the first request: a missing bucket,
//! an unparsable key or a short dispatch secret stops the process with a
//! message naming the variable, instead of failing every job later. Secrets
//! named by `*_SECRET_ID` are fetched from Secrets Manager now (cold start),
//! never per request.

use std::net::SocketAddr;
use std::path::PathBuf;

use factory_core::dispatch::auth::DispatchSecret;
use factory_imager::signing::{MAX_KEY_PEM_LEN, SigningKey};

use crate::cache_limit::DEFAULT_CACHE_MAX_BYTES;
use crate::secrets::{AwsCredentials, SecretsError, SecretsManager};

/// Default region of the bucket and Secrets Manager.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default upstream registry.
pub const DEFAULT_UPSTREAM_REGISTRY: &str = "ghcr.io";
/// Default upstream namespace: none. The imager's namespace is a path
/// prefix *before* `siderolabs/imager` (a pull-through cache project), so
/// upstream's own layout needs no prefix.
pub const DEFAULT_UPSTREAM_NAMESPACE: &str = "";
/// Default cache directory (Lambda's writable `/tmp`).
pub const DEFAULT_CACHE_DIR: &str = "/tmp/image-factory";

/// A setting that is missing or wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A variable's value is unusable.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Both or neither of two alternatives are set.
    #[error("set exactly one of {0} and {1}")]
    OneOf(&'static str, &'static str),
    /// A secret could not be read from Secrets Manager.
    #[error("{name}: {source}")]
    Secret {
        /// The variable naming the secret.
        name: &'static str,
        /// Why.
        #[source]
        source: SecretsError,
    },
}

/// See the module docs.
#[derive(Debug)]
pub struct Config {
    /// `IF_BUCKET`.
    pub bucket: String,
    /// `IF_S3_REGION`.
    pub region: String,
    /// `IF_S3_ENDPOINT`.
    pub s3_endpoint: Option<String>,
    /// `AWS_*` credentials.
    pub credentials: AwsCredentials,
    /// From `IF_SIGNING_KEY` or `IF_SIGNING_KEY_SECRET_ID`.
    pub signing_key: SigningKey,
    /// From `IF_DISPATCH_SECRET` or `IF_DISPATCH_SECRET_ID`.
    pub dispatch_secret: DispatchSecret,
    /// `IF_UPSTREAM_REGISTRY`.
    pub upstream_registry: String,
    /// `IF_UPSTREAM_NAMESPACE`.
    pub upstream_namespace: String,
    /// `IF_UPSTREAM_INSECURE`.
    pub upstream_insecure: bool,
    /// `IF_EXTERNAL_URL`.
    pub external_url: String,
    /// `IF_CACHE_DIR`.
    pub cache_dir: PathBuf,
    /// `IF_CACHE_MAX_BYTES`.
    pub cache_max_bytes: u64,
    /// `LOCAL_HTTP`.
    pub local_http: Option<SocketAddr>,
}

/// How the environment is read (a closure in tests).
pub trait Env {
    /// The value of `name`, if set and not empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Reads the process environment.
    pub async fn from_env() -> Result<Config, ConfigError> {
        Config::read(&ProcessEnv).await
    }

    /// Reads `env`, fetching `*_SECRET_ID` secrets from Secrets Manager.
    pub async fn read(env: &dyn Env) -> Result<Config, ConfigError> {
        let required = |name: &'static str| env.get(name).ok_or(ConfigError::Missing(name));
        let bucket = required("IF_BUCKET")?;
        let region = env
            .get("IF_S3_REGION")
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let s3_endpoint = env
            .get("IF_S3_ENDPOINT")
            .map(check_url("IF_S3_ENDPOINT"))
            .transpose()?;
        let credentials = AwsCredentials {
            access_key_id: required("AWS_ACCESS_KEY_ID")?,
            secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
            session_token: env.get("AWS_SESSION_TOKEN"),
        };
        let external_url = check_url("IF_EXTERNAL_URL")(required("IF_EXTERNAL_URL")?)?;
        let upstream_insecure = match env.get("IF_UPSTREAM_INSECURE").as_deref() {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "IF_UPSTREAM_INSECURE",
                    reason: format!("{other:?} is not true, false, 1 or 0"),
                });
            }
        };
        let cache_max_bytes = match env.get("IF_CACHE_MAX_BYTES") {
            None => DEFAULT_CACHE_MAX_BYTES,
            Some(raw) => raw.parse::<u64>().map_err(|e| ConfigError::Invalid {
                name: "IF_CACHE_MAX_BYTES",
                reason: format!("{raw:?} is not a number of bytes: {e}"),
            })?,
        };
        let local_http = env
            .get("LOCAL_HTTP")
            .map(|raw| {
                raw.parse::<SocketAddr>().map_err(|e| ConfigError::Invalid {
                    name: "LOCAL_HTTP",
                    reason: format!("{raw:?} is not an address and port: {e}"),
                })
            })
            .transpose()?;
        let secrets = SecretsManager::new(
            env.get("IF_SECRETS_ENDPOINT")
                .map(check_url("IF_SECRETS_ENDPOINT"))
                .transpose()?,
            &region,
            credentials.clone(),
        )
        .map_err(|source| ConfigError::Secret {
            name: "IF_SECRETS_ENDPOINT",
            source,
        })?;
        let key_pem = one_of(env, &secrets, "IF_SIGNING_KEY", "IF_SIGNING_KEY_SECRET_ID").await?;
        if key_pem.len() > MAX_KEY_PEM_LEN {
            return Err(ConfigError::Invalid {
                name: "IF_SIGNING_KEY",
                reason: format!("longer than {MAX_KEY_PEM_LEN} bytes"),
            });
        }
        let signing_key = SigningKey::from_pem(&key_pem).map_err(|e| ConfigError::Invalid {
            name: "IF_SIGNING_KEY",
            reason: e.to_string(),
        })?;
        let secret = one_of(env, &secrets, "IF_DISPATCH_SECRET", "IF_DISPATCH_SECRET_ID").await?;
        let dispatch_secret =
            DispatchSecret::new(secret.as_bytes()).map_err(|e| ConfigError::Invalid {
                name: "IF_DISPATCH_SECRET",
                reason: e.to_string(),
            })?;
        Ok(Config {
            bucket,
            region,
            s3_endpoint,
            credentials,
            signing_key,
            dispatch_secret,
            upstream_registry: env
                .get("IF_UPSTREAM_REGISTRY")
                .unwrap_or_else(|| DEFAULT_UPSTREAM_REGISTRY.to_owned()),
            upstream_namespace: env
                .get("IF_UPSTREAM_NAMESPACE")
                .unwrap_or_else(|| DEFAULT_UPSTREAM_NAMESPACE.to_owned()),
            upstream_insecure,
            external_url,
            cache_dir: env
                .get("IF_CACHE_DIR")
                .map_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR), PathBuf::from),
            cache_max_bytes,
            local_http,
        })
    }
}

/// The value of `direct`, or the secret named by `by_id`; exactly one.
async fn one_of(
    env: &dyn Env,
    secrets: &SecretsManager,
    direct: &'static str,
    by_id: &'static str,
) -> Result<String, ConfigError> {
    match (env.get(direct), env.get(by_id)) {
        (Some(value), None) => Ok(value),
        (None, Some(id)) => {
            secrets
                .get_secret_string(&id)
                .await
                .map_err(|source| ConfigError::Secret {
                    name: by_id,
                    source,
                })
        }
        _ => Err(ConfigError::OneOf(direct, by_id)),
    }
}

/// Accepts `http://` and `https://` URLs only.
fn check_url(name: &'static str) -> impl Fn(String) -> Result<String, ConfigError> {
    move |url| {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(url),
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!("{url:?} is not an http:// or https:// URL"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Map(HashMap<&'static str, String>);

    impl Env for Map {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    fn base() -> Map {
        let key = SigningKey::generate().unwrap().to_pkcs8_pem().unwrap();
        Map(HashMap::from([
            ("IF_BUCKET", "b".to_owned()),
            ("AWS_ACCESS_KEY_ID", "AK".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "SK".to_owned()),
            ("IF_EXTERNAL_URL", "https://factory.example.com".to_owned()),
            ("IF_SIGNING_KEY", key.to_string()),
            ("IF_DISPATCH_SECRET", "x".repeat(32)),
        ]))
    }

    #[tokio::test]
    async fn defaults_apply() {
        let config = Config::read(&base()).await.unwrap();
        assert_eq!(config.region, DEFAULT_REGION);
        assert_eq!(config.upstream_registry, "ghcr.io");
        assert_eq!(config.upstream_namespace, "");
        assert!(!config.upstream_insecure);
        assert_eq!(config.cache_dir, PathBuf::from(DEFAULT_CACHE_DIR));
        assert!(config.local_http.is_none());
        assert_eq!(config.cache_max_bytes, DEFAULT_CACHE_MAX_BYTES);
    }

    #[tokio::test]
    async fn bad_settings_name_the_variable() {
        let mut env = base();
        env.0.remove("IF_BUCKET");
        let e = Config::read(&env).await.unwrap_err().to_string();
        assert!(e.contains("IF_BUCKET"), "{e}");

        let mut env = base();
        env.0.insert("IF_DISPATCH_SECRET", "short".into());
        let e = Config::read(&env).await.unwrap_err().to_string();
        assert!(e.contains("IF_DISPATCH_SECRET"), "{e}");

        let mut env = base();
        env.0.insert("IF_DISPATCH_SECRET_ID", "arn".into());
        let e = Config::read(&env).await.unwrap_err().to_string();
        assert!(e.contains("exactly one"), "{e}");

        let mut env = base();
        env.0.insert("IF_SIGNING_KEY", "not a key".into());
        let e = Config::read(&env).await.unwrap_err().to_string();
        assert!(e.contains("IF_SIGNING_KEY"), "{e}");

        let mut env = base();
        env.0
            .insert("IF_EXTERNAL_URL", "factory.example.com".into());
        let e = Config::read(&env).await.unwrap_err().to_string();
        assert!(e.contains("IF_EXTERNAL_URL"), "{e}");

        let mut env = base();
        env.0.insert("IF_CACHE_MAX_BYTES", "4G".into());
        let e = Config::read(&env).await.unwrap_err().to_string();
        assert!(e.contains("IF_CACHE_MAX_BYTES"), "{e}");

        let mut env = base();
        env.0.insert("LOCAL_HTTP", "localhost".into());
        let e = Config::read(&env).await.unwrap_err().to_string();
        assert!(e.contains("LOCAL_HTTP"), "{e}");
    }
}
