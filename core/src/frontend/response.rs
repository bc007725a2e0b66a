//! Response bodies and the small constructors every handler shares.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

/// A response body: nothing, bytes the frontend made, or an object the
/// platform streams (the adapter knows how).
#[derive(Debug)]
pub enum Body<O> {
    /// No body (HEAD, 204, 304, redirects).
    Empty,
    /// Bytes produced by the frontend.
    Bytes(Bytes),
    /// Stored bytes, streamed by the adapter.
    Object(O),
}

impl<O> Body<O> {
    /// The body's bytes if the frontend produced them (tests, small answers).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Bytes(b) => Some(b),
            Body::Empty => Some(&[]),
            Body::Object(_) => None,
        }
    }
}

/// A frontend response.
pub type Response<O> = http::Response<Body<O>>;

/// A marker in a response's extensions: this successful answer may be
/// stored and replayed by an adapter's cache.
///
/// The contract, for whoever replays: the response (status, headers, body)
/// depends only on the request's method, URI, `Host`, `Accept`,
/// `Content-Type` and body, and on the state named by the variant. Requests
/// carrying other headers that the frontend reads (`Origin`, `Range`,
/// conditionals, `X-Request-ID`) must not be answered from a cache, and a
/// replay must carry a fresh `X-Request-ID` (and `Date`). Only handlers set
/// it, only on success; errors are never marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cacheable {
    /// Never changes: content-addressed (a manifest by digest, the answer
    /// to posting a schematic, whose ID is the hash of its content).
    Immutable,
    /// Valid while the versions list and release catalogs stay as they are
    /// (a PXE script: its version can be withdrawn, its catalog re-read).
    UntilCatalogsChange,
}

/// Marks `response` as cacheable (see [`Cacheable`]).
pub(crate) fn mark_cacheable<O>(response: &mut Response<O>, kind: Cacheable) {
    response.extensions_mut().insert(kind);
}

pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
pub(crate) const APPLICATION_JSON: &str = "application/json";

/// A response with a status, a content type and a body.
pub(crate) fn with_body<O>(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<O> {
    let body: Bytes = body.into();
    let mut response = http::Response::new(Body::Bytes(body.clone()));
    *response.status_mut() = status;
    set_header(&mut response, header::CONTENT_TYPE, content_type);
    set_header(
        &mut response,
        header::CONTENT_LENGTH,
        &body.len().to_string(),
    );
    response
}

/// A plain-text message followed by a newline, as Go's `http.Error` writes it.
pub(crate) fn text<O>(status: StatusCode, message: &str) -> Response<O> {
    let mut body = String::with_capacity(message.len() + 1);
    body.push_str(message);
    body.push('\n');
    let mut response = with_body(status, TEXT_PLAIN, body);
    set_header(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    response
}

/// JSON the way Go's `json.NewEncoder(w).Encode(v)` writes it: `<`, `>`, `&`,
/// U+2028 and U+2029 escaped, and a trailing newline.
pub(crate) fn go_json<O, T: serde::Serialize>(status: StatusCode, value: &T) -> Response<O> {
    match serde_json::to_string(value) {
        Ok(encoded) => {
            let mut body = go_html_escape(&encoded);
            body.push('\n');
            with_body(status, APPLICATION_JSON, body)
        }
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "internal server error"),
    }
}

/// Go's encoder escapes these characters inside strings; outside strings
/// they cannot occur in JSON, so a global replacement is exact.
fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A response with no body.
pub(crate) fn empty<O>(status: StatusCode) -> Response<O> {
    let mut response = http::Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}

/// Sets a header, skipping values that are not valid header text (they
/// cannot come from our own code paths, and a response is better than none).
pub(crate) fn set_header<O>(response: &mut Response<O>, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// Drops the body, keeping headers (HEAD answers).
pub(crate) fn without_body<O>(response: Response<O>) -> Response<O> {
    let (parts, _) = response.into_parts();
    http::Response::from_parts(parts, Body::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_json_escapes_like_encoding_json() {
        let r: Response<()> = go_json(StatusCode::OK, &serde_json::json!({"a": "<b>&\u{2028}"}));
        assert_eq!(
            r.body().as_bytes().unwrap(),
            b"{\"a\":\"\\u003cb\\u003e\\u0026\\u2028\"}\n"
        );
    }

    #[test]
    fn text_adds_newline() {
        let r: Response<()> = text(StatusCode::NOT_FOUND, "nope");
        assert_eq!(r.body().as_bytes().unwrap(), b"nope\n");
        assert_eq!(r.headers()["content-type"], TEXT_PLAIN);
        assert_eq!(r.headers()["content-length"], "5");
    }
}
