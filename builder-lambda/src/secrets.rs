//! AWS credentials and a minimal Secrets Manager client: one
//! `GetSecretValue` call, SigV4-signed with `aws-sigv4`, sent with reqwest.
//!
//! The builder reads at most two secrets, once, at cold start; the full AWS
//! SDK (its config loader, retry machinery, and a client per service) would
//! add minutes of compile and megabytes of binary for that. The call is the
//! documented JSON 1.1 protocol: `POST /` with
//! `X-Amz-Target: secretsmanager.GetSecretValue` and `{"SecretId": ...}`.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

/// The longest secret answer read (Secrets Manager's own limit is 64 KiB of
/// secret; the JSON around it is small). Larger answers are refused.
pub const MAX_SECRET_RESPONSE: usize = 256 * 1024;
/// How long one Secrets Manager call may take.
pub const SECRETS_TIMEOUT: Duration = Duration::from_secs(10);

/// Static credentials, as Lambda puts them in the environment.
#[derive(Clone)]
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN` (temporary credentials).
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A failed secret read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The HTTP client could not be made.
    #[error("creating the HTTP client: {0}")]
    Client(String),
    /// Signing failed.
    #[error("signing the request: {0}")]
    Signing(String),
    /// The call did not complete.
    #[error("calling Secrets Manager at {endpoint}: {reason}")]
    Transport {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// Secrets Manager refused.
    #[error("Secrets Manager answered {status} for {secret_id}: {body}")]
    Refused {
        /// The secret.
        secret_id: String,
        /// The HTTP status.
        status: u16,
        /// The start of the error body.
        body: String,
    },
    /// The answer is not what the API documents.
    #[error("malformed Secrets Manager answer for {secret_id}: {reason}")]
    Malformed {
        /// The secret.
        secret_id: String,
        /// Why.
        reason: String,
    },
}

/// See the module docs.
#[derive(Debug)]
pub struct SecretsManager {
    endpoint: String,
    region: String,
    credentials: AwsCredentials,
    client: reqwest::Client,
}

#[derive(serde::Deserialize)]
struct GetSecretValueOutput {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
}

impl SecretsManager {
    /// A client of `endpoint` (default: the regional AWS endpoint).
    pub fn new(
        endpoint: Option<String>,
        region: &str,
        credentials: AwsCredentials,
    ) -> Result<SecretsManager, SecretsError> {
        let endpoint = endpoint
            .unwrap_or_else(|| format!("https://secretsmanager.{region}.amazonaws.com"))
            .trim_end_matches('/')
            .to_owned();
        let client = reqwest::Client::builder()
            .timeout(SECRETS_TIMEOUT)
            .build()
            .map_err(|e| SecretsError::Client(e.to_string()))?;
        Ok(SecretsManager {
            endpoint,
            region: region.to_owned(),
            credentials,
            client,
        })
    }

    /// The `SecretString` of `secret_id` (a name or ARN).
    pub async fn get_secret_string(&self, secret_id: &str) -> Result<String, SecretsError> {
        let body = serde_json::to_vec(&serde_json::json!({ "SecretId": secret_id }))
            .map_err(|e| SecretsError::Signing(e.to_string()))?;
        let url = format!("{}/", self.endpoint);
        let headers = self.sign(&url, &body, SystemTime::now())?;
        let mut request = self.client.post(&url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let transport = |e: reqwest::Error| SecretsError::Transport {
            endpoint: self.endpoint.clone(),
            reason: e.to_string(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_SECRET_RESPONSE as u64)
        {
            return Err(SecretsError::Malformed {
                secret_id: secret_id.to_owned(),
                reason: format!("answer larger than {MAX_SECRET_RESPONSE} bytes"),
            });
        }
        let bytes = response.bytes().await.map_err(transport)?;
        if bytes.len() > MAX_SECRET_RESPONSE {
            return Err(SecretsError::Malformed {
                secret_id: secret_id.to_owned(),
                reason: format!("answer larger than {MAX_SECRET_RESPONSE} bytes"),
            });
        }
        if status != 200 {
            let text = String::from_utf8_lossy(&bytes);
            return Err(SecretsError::Refused {
                secret_id: secret_id.to_owned(),
                status,
                body: text.chars().take(300).collect(),
            });
        }
        let parsed: GetSecretValueOutput =
            serde_json::from_slice(&bytes).map_err(|e| SecretsError::Malformed {
                secret_id: secret_id.to_owned(),
                reason: e.to_string(),
            })?;
        parsed.secret_string.ok_or_else(|| SecretsError::Malformed {
            secret_id: secret_id.to_owned(),
            reason: "no SecretString (binary secrets are not supported)".into(),
        })
    }

    /// The headers of a signed `GetSecretValue` POST of `body` to `url`.
    fn sign(
        &self,
        url: &str,
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, SecretsError> {
        let fixed = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "secretsmanager.GetSecretValue"),
        ];
        let identity = aws_credential_types::Credentials::new(
            self.credentials.access_key_id.clone(),
            self.credentials.secret_access_key.clone(),
            self.credentials.session_token.clone(),
            None,
            "environment",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("secretsmanager")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| SecretsError::Signing(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            url,
            fixed.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| SecretsError::Signing(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| SecretsError::Signing(e.to_string()))?
            .into_parts();
        let mut headers: Vec<(String, String)> = fixed
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        headers.extend(
            instructions
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_owned())),
        );
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_signed_for_secretsmanager() {
        let client = SecretsManager::new(
            None,
            "eu-west-1",
            AwsCredentials {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: Some("token".into()),
            },
        )
        .unwrap();
        let headers = client
            .sign(
                "https://secretsmanager.eu-west-1.amazonaws.com/",
                b"{}",
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            )
            .unwrap();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        let auth = get("authorization").unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/eu-west-1/secretsmanager/aws4_request"
            ),
            "{auth}"
        );
        assert!(auth.contains("x-amz-target"), "{auth}");
        assert_eq!(get("x-amz-security-token"), Some("token"));
        assert_eq!(get("x-amz-date"), Some("20231114T221320Z"));
    }
}
