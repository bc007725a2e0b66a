//! Which answers the Worker keeps in the Cache API, and for how long.
//!
//! Decided by route in the adapter (core's responses carry no cacheability
//! marker yet). Only small answers that cannot change are cached for long:
//! iPXE scripts (a schematic is content-addressed, a version's script never
//! changes) and manifests addressed by digest. Catalog answers (`/versions`,
//! extension and overlay lists) change when upstream releases, so they get a
//! short TTL. Only `GET`s without `Origin` (CORS answers vary by origin) and
//! only `200` answers are stored; everything else always reaches the
//! frontend.

/// How long a cacheable answer may be served from cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheRule {
    /// `Cache-Control: max-age` in seconds.
    pub max_age: u32,
}

/// One year: answers that never change.
pub const IMMUTABLE: CacheRule = CacheRule {
    max_age: 365 * 24 * 3600,
};

/// Catalog answers.
pub const CATALOG: CacheRule = CacheRule { max_age: 60 };

/// The rule for a request, if it may be answered from cache.
pub fn rule(method: &http::Method, path: &str, has_origin: bool) -> Option<CacheRule> {
    if method != http::Method::GET || has_origin {
        return None;
    }
    if path.starts_with("/pxe/") {
        return Some(IMMUTABLE);
    }
    if path == "/versions" {
        return Some(CATALOG);
    }
    if path.starts_with("/version/")
        && (path.ends_with("/extensions/official") || path.ends_with("/overlays/official"))
    {
        return Some(CATALOG);
    }
    if path.starts_with("/v2/") && path.contains("/manifests/sha256:") {
        return Some(IMMUTABLE);
    }
    None
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    #[test]
    fn only_immutable_and_catalog_routes_are_cached() {
        let get = |p: &str| rule(&Method::GET, p, false);
        assert_eq!(get("/pxe/abc/v1.12.4/metal-amd64"), Some(IMMUTABLE));
        assert_eq!(
            get("/v2/installer/abc/manifests/sha256:00"),
            Some(IMMUTABLE)
        );
        assert_eq!(get("/versions"), Some(CATALOG));
        assert_eq!(get("/version/v1.12.4/extensions/official"), Some(CATALOG));
        assert_eq!(get("/v2/installer/abc/manifests/v1.12.4"), None);
        assert_eq!(get("/image/abc/v1.12.4/kernel-amd64"), None);
        assert_eq!(get("/schematics"), None);
        assert_eq!(rule(&Method::HEAD, "/pxe/a/b/c", false), None);
        assert_eq!(rule(&Method::GET, "/pxe/a/b/c", true), None);
    }
}
