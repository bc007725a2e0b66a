//! OCI distribution error bodies: `{"errors":[{"code":...,"message":...,"detail":...}]}`.
//!
//! Upstream writes every error as plain text; registry clients (containerd,
//! crane, skopeo) show the `message` of a JSON error body to the user, so our
//! registry frontend answers with the spec's JSON instead, and keeps upstream's
//! text as the message. The codes are the fourteen of the distribution spec;
//! the status for each is the one the Docker distribution registry (the
//! spec's origin) uses, since the spec itself does not pair them.

use std::fmt;

/// An error code from the distribution spec's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OciErrorCode {
    /// `BLOB_UNKNOWN`: blob unknown to registry.
    BlobUnknown,
    /// `BLOB_UPLOAD_INVALID`: blob upload invalid.
    BlobUploadInvalid,
    /// `BLOB_UPLOAD_UNKNOWN`: blob upload unknown to registry.
    BlobUploadUnknown,
    /// `DIGEST_INVALID`: provided digest did not match uploaded content.
    DigestInvalid,
    /// `MANIFEST_BLOB_UNKNOWN`: manifest references a manifest or blob unknown to registry.
    ManifestBlobUnknown,
    /// `MANIFEST_INVALID`: manifest invalid.
    ManifestInvalid,
    /// `MANIFEST_UNKNOWN`: manifest unknown to registry.
    ManifestUnknown,
    /// `NAME_INVALID`: invalid repository name.
    NameInvalid,
    /// `NAME_UNKNOWN`: repository name not known to registry.
    NameUnknown,
    /// `SIZE_INVALID`: provided length did not match content length.
    SizeInvalid,
    /// `UNAUTHORIZED`: authentication required.
    Unauthorized,
    /// `DENIED`: requested access to the resource is denied.
    Denied,
    /// `UNSUPPORTED`: the operation is unsupported.
    Unsupported,
    /// `TOOMANYREQUESTS`: too many requests.
    TooManyRequests,
}

impl OciErrorCode {
    /// Every code, in the spec's table order.
    pub const ALL: [OciErrorCode; 14] = [
        OciErrorCode::BlobUnknown,
        OciErrorCode::BlobUploadInvalid,
        OciErrorCode::BlobUploadUnknown,
        OciErrorCode::DigestInvalid,
        OciErrorCode::ManifestBlobUnknown,
        OciErrorCode::ManifestInvalid,
        OciErrorCode::ManifestUnknown,
        OciErrorCode::NameInvalid,
        OciErrorCode::NameUnknown,
        OciErrorCode::SizeInvalid,
        OciErrorCode::Unauthorized,
        OciErrorCode::Denied,
        OciErrorCode::Unsupported,
        OciErrorCode::TooManyRequests,
    ];

    /// The code as it appears in the body (`MANIFEST_UNKNOWN`).
    pub fn as_str(self) -> &'static str {
        match self {
            OciErrorCode::BlobUnknown => "BLOB_UNKNOWN",
            OciErrorCode::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            OciErrorCode::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            OciErrorCode::DigestInvalid => "DIGEST_INVALID",
            OciErrorCode::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            OciErrorCode::ManifestInvalid => "MANIFEST_INVALID",
            OciErrorCode::ManifestUnknown => "MANIFEST_UNKNOWN",
            OciErrorCode::NameInvalid => "NAME_INVALID",
            OciErrorCode::NameUnknown => "NAME_UNKNOWN",
            OciErrorCode::SizeInvalid => "SIZE_INVALID",
            OciErrorCode::Unauthorized => "UNAUTHORIZED",
            OciErrorCode::Denied => "DENIED",
            OciErrorCode::Unsupported => "UNSUPPORTED",
            OciErrorCode::TooManyRequests => "TOOMANYREQUESTS",
        }
    }

    /// The spec's description of the code, usable as a default message.
    pub fn description(self) -> &'static str {
        match self {
            OciErrorCode::BlobUnknown => "blob unknown to registry",
            OciErrorCode::BlobUploadInvalid => "blob upload invalid",
            OciErrorCode::BlobUploadUnknown => "blob upload unknown to registry",
            OciErrorCode::DigestInvalid => "provided digest did not match uploaded content",
            OciErrorCode::ManifestBlobUnknown => {
                "manifest references a manifest or blob unknown to registry"
            }
            OciErrorCode::ManifestInvalid => "manifest invalid",
            OciErrorCode::ManifestUnknown => "manifest unknown to registry",
            OciErrorCode::NameInvalid => "invalid repository name",
            OciErrorCode::NameUnknown => "repository name not known to registry",
            OciErrorCode::SizeInvalid => "provided length did not match content length",
            OciErrorCode::Unauthorized => "authentication required",
            OciErrorCode::Denied => "requested access to the resource is denied",
            OciErrorCode::Unsupported => "the operation is unsupported",
            OciErrorCode::TooManyRequests => "too many requests",
        }
    }

    /// The HTTP status Docker distribution pairs with the code.
    pub fn status(self) -> u16 {
        match self {
            OciErrorCode::BlobUnknown
            | OciErrorCode::BlobUploadUnknown
            | OciErrorCode::ManifestBlobUnknown
            | OciErrorCode::ManifestUnknown
            | OciErrorCode::NameUnknown => 404,
            OciErrorCode::BlobUploadInvalid
            | OciErrorCode::DigestInvalid
            | OciErrorCode::ManifestInvalid
            | OciErrorCode::NameInvalid
            | OciErrorCode::SizeInvalid => 400,
            OciErrorCode::Unauthorized => 401,
            OciErrorCode::Denied => 403,
            OciErrorCode::Unsupported => 405,
            OciErrorCode::TooManyRequests => 429,
        }
    }
}

impl fmt::Display for OciErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an OCI error body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct OciError {
    /// The spec code.
    pub code: OciErrorCode,
    /// Human-readable text; upstream's message where there is one.
    pub message: String,
    /// Optional structured data for the client; omitted from the body when `None`.
    pub detail: Option<serde_json::Value>,
}

impl OciError {
    /// An error with a message and no detail.
    pub fn new(code: OciErrorCode, message: impl Into<String>) -> Self {
        OciError {
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// An error whose message is the code's spec description.
    pub fn from_code(code: OciErrorCode) -> Self {
        OciError::new(code, code.description())
    }

    /// Sets the detail.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The HTTP status to answer with (the code's status).
    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

/// The JSON body for `errors`: `{"errors":[{"code":"...","message":"...","detail":...}]}`,
/// keys in that order, `detail` left out when absent.
pub fn error_body(errors: &[OciError]) -> String {
    let mut out = String::from(r#"{"errors":["#);
    for (index, error) in errors.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(r#"{"code":"#);
        push_json_string(&mut out, error.code.as_str());
        out.push_str(r#","message":"#);
        push_json_string(&mut out, &error.message);
        if let Some(detail) = &error.detail {
            out.push_str(r#","detail":"#);
            // `Value`'s Display is its compact JSON and cannot fail.
            out.push_str(&detail.to_string());
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn push_json_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::Value::from(text).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_statuses_and_descriptions() {
        let table: Vec<(OciErrorCode, &str, u16)> = OciErrorCode::ALL
            .into_iter()
            .map(|code| (code, code.as_str(), code.status()))
            .collect();
        assert_eq!(
            table,
            vec![
                (OciErrorCode::BlobUnknown, "BLOB_UNKNOWN", 404),
                (OciErrorCode::BlobUploadInvalid, "BLOB_UPLOAD_INVALID", 400),
                (OciErrorCode::BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404),
                (OciErrorCode::DigestInvalid, "DIGEST_INVALID", 400),
                (
                    OciErrorCode::ManifestBlobUnknown,
                    "MANIFEST_BLOB_UNKNOWN",
                    404
                ),
                (OciErrorCode::ManifestInvalid, "MANIFEST_INVALID", 400),
                (OciErrorCode::ManifestUnknown, "MANIFEST_UNKNOWN", 404),
                (OciErrorCode::NameInvalid, "NAME_INVALID", 400),
                (OciErrorCode::NameUnknown, "NAME_UNKNOWN", 404),
                (OciErrorCode::SizeInvalid, "SIZE_INVALID", 400),
                (OciErrorCode::Unauthorized, "UNAUTHORIZED", 401),
                (OciErrorCode::Denied, "DENIED", 403),
                (OciErrorCode::Unsupported, "UNSUPPORTED", 405),
                (OciErrorCode::TooManyRequests, "TOOMANYREQUESTS", 429),
            ]
        );
        for code in OciErrorCode::ALL {
            // The spec: "only uppercase alphabetic characters and underscores".
            assert!(
                code.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_')
            );
            assert_eq!(code.to_string(), code.as_str());
            assert!(!code.description().is_empty());
        }
        assert_eq!(
            OciErrorCode::NameInvalid.description(),
            "invalid repository name"
        );
    }

    #[test]
    fn bodies_are_exact() {
        let cases: Vec<(Vec<OciError>, &str)> = vec![
            (vec![], r#"{"errors":[]}"#),
            (
                vec![OciError::from_code(OciErrorCode::ManifestUnknown)],
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown to registry"}]}"#,
            ),
            (
                vec![OciError::new(
                    OciErrorCode::NameUnknown,
                    r#"schematic ID "aaaaaaaaaaaa" not found"#,
                )],
                r#"{"errors":[{"code":"NAME_UNKNOWN","message":"schematic ID \"aaaaaaaaaaaa\" not found"}]}"#,
            ),
            (
                vec![
                    OciError::new(OciErrorCode::NameInvalid, "invalid image: foo")
                        .with_detail(serde_json::json!({"image": "foo"})),
                    OciError::new(OciErrorCode::Denied, "line\nbreak <&>")
                        .with_detail(serde_json::json!(["a", 1, null])),
                    OciError::new(OciErrorCode::TooManyRequests, "")
                        .with_detail(serde_json::Value::Null),
                ],
                concat!(
                    r#"{"errors":[{"code":"NAME_INVALID","message":"invalid image: foo","detail":{"image":"foo"}},"#,
                    r#"{"code":"DENIED","message":"line\nbreak <&>","detail":["a",1,null]},"#,
                    r#"{"code":"TOOMANYREQUESTS","message":"","detail":null}]}"#
                ),
            ),
        ];
        for (errors, want) in cases {
            assert_eq!(error_body(&errors), want);
        }
    }

    #[test]
    fn status_follows_code_and_display_names_both() {
        let error = OciError::new(
            OciErrorCode::Unauthorized,
            "authentication required to access this schematic",
        );
        assert_eq!(error.status(), 401);
        assert_eq!(
            error.to_string(),
            "UNAUTHORIZED: authentication required to access this schematic"
        );
    }
}
