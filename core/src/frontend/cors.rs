//! CORS as upstream configures `rs/cors`: any origin by default, `GET`,
//! `HEAD` and `OPTIONS`, the `Cache-Control` request header, and the download
//! headers exposed so a browser wizard can read file names and sizes.

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::response::{self, Response};

const ALLOWED_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];
const ALLOWED_HEADERS: [&str; 1] = ["cache-control"];
const EXPOSED_HEADERS: &str = "Content-Disposition, Content-Length, Content-Type";

/// Which origins may read responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsPolicy {
    allowed_origins: Vec<String>,
}

impl Default for CorsPolicy {
    fn default() -> Self {
        CorsPolicy {
            allowed_origins: vec!["*".to_owned()],
        }
    }
}

impl CorsPolicy {
    /// A policy allowing these origins (`*` allows any).
    pub fn new(allowed_origins: Vec<String>) -> Self {
        CorsPolicy { allowed_origins }
    }

    fn allows_any(&self) -> bool {
        self.allowed_origins.iter().any(|o| o == "*")
    }

    fn allows(&self, origin: &str) -> bool {
        self.allows_any()
            || self
                .allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
    }

    fn allow_origin_value(&self, origin: &str) -> String {
        if self.allows_any() {
            "*".to_owned()
        } else {
            origin.to_owned()
        }
    }

    /// Answers a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`), or
    /// `None` if the request is not one.
    pub(crate) fn preflight<O>(&self, method: &Method, headers: &HeaderMap) -> Option<Response<O>> {
        if method != Method::OPTIONS {
            return None;
        }
        let requested_method = header_str(headers, header::ACCESS_CONTROL_REQUEST_METHOD)?;
        let mut response = response::empty(StatusCode::NO_CONTENT);
        let h = response.headers_mut();
        h.insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        let Some(origin) = header_str(headers, header::ORIGIN) else {
            return Some(response);
        };
        if !self.allows(origin) {
            return Some(response);
        }
        let requested_method = requested_method.to_ascii_uppercase();
        if !ALLOWED_METHODS.contains(&requested_method.as_str()) {
            return Some(response);
        }
        let requested_headers: Vec<String> =
            header_str(headers, header::ACCESS_CONTROL_REQUEST_HEADERS)
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default();
        if !requested_headers
            .iter()
            .all(|h| ALLOWED_HEADERS.contains(&h.as_str()) || h == "origin")
        {
            return Some(response);
        }
        response::set_header(
            &mut response,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            &self.allow_origin_value(origin),
        );
        response::set_header(
            &mut response,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            &requested_method,
        );
        if !requested_headers.is_empty() {
            response::set_header(
                &mut response,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                &requested_headers.join(", "),
            );
        }
        Some(response)
    }

    /// Adds the CORS headers of an actual (non-preflight) request.
    pub(crate) fn decorate<O>(
        &self,
        method: &Method,
        request_headers: &HeaderMap,
        response: &mut Response<O>,
    ) {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
        let Some(origin) = header_str(request_headers, header::ORIGIN) else {
            return;
        };
        if !self.allows(origin) || !ALLOWED_METHODS.contains(&method.as_str()) {
            return;
        }
        response::set_header(
            response,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            &self.allow_origin_value(origin),
        );
        response::set_header(
            response,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            EXPOSED_HEADERS,
        );
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn preflight_reflects_method_and_headers() {
        let policy = CorsPolicy::default();
        let req = headers(&[
            ("origin", "https://example.com"),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "Cache-Control"),
        ]);
        let r = policy.preflight::<()>(&Method::OPTIONS, &req).unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        assert_eq!(r.headers()["access-control-allow-methods"], "GET");
        assert_eq!(r.headers()["access-control-allow-headers"], "cache-control");
    }

    #[test]
    fn preflight_refuses_other_methods_silently() {
        let policy = CorsPolicy::default();
        let req = headers(&[
            ("origin", "https://x"),
            ("access-control-request-method", "DELETE"),
        ]);
        let r = policy.preflight::<()>(&Method::OPTIONS, &req).unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }

    #[test]
    fn plain_options_is_not_a_preflight() {
        assert!(
            CorsPolicy::default()
                .preflight::<()>(&Method::OPTIONS, &HeaderMap::new())
                .is_none()
        );
    }

    #[test]
    fn actual_requests_expose_download_headers() {
        let policy = CorsPolicy::new(vec!["https://ok.example".into()]);
        let mut r = response::empty::<()>(StatusCode::OK);
        policy.decorate(
            &Method::GET,
            &headers(&[("origin", "https://ok.example")]),
            &mut r,
        );
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://ok.example"
        );
        assert_eq!(
            r.headers()["access-control-expose-headers"],
            EXPOSED_HEADERS
        );
        let mut r = response::empty::<()>(StatusCode::OK);
        policy.decorate(
            &Method::GET,
            &headers(&[("origin", "https://evil.example")]),
            &mut r,
        );
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
}
