//! Which answers the Worker keeps in the Cache API, and for how long.
//!
//! Two decisions. Whether to *look* in the cache is made by route before the
//! frontend runs ([`rule`]: a hit must not cost a frontend). Whether to
//! *store* an answer follows core's own marker ([`Cacheable`], set by the
//! handlers that know their answer is content-addressed or valid until the
//! catalogs change) through [`store_rule`]; only the catalog answers, which
//! core does not mark, are stored by route with a short TTL. Only `GET`s
//! without `Origin` (CORS answers vary by origin) and only `200` answers are
//! stored; everything else always reaches the frontend.

use factory_core::frontend::Cacheable;

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

/// Answers valid until the catalogs change (iPXE scripts): as long as the
/// cron trigger's refresh period (`wrangler.toml`, every 30 minutes).
pub const UNTIL_CATALOGS_CHANGE: CacheRule = CacheRule { max_age: 30 * 60 };

/// The rule to store an answer with: the answer's own marker, or the
/// catalog rule for the catalog routes; nothing when `lookup` (the route
/// rule of the request) says the request may not use the cache.
pub fn store_rule(lookup: Option<CacheRule>, marked: Option<Cacheable>) -> Option<CacheRule> {
    let lookup = lookup?;
    match marked {
        Some(Cacheable::Immutable) => Some(IMMUTABLE),
        Some(Cacheable::UntilCatalogsChange) => Some(UNTIL_CATALOGS_CHANGE),
        None => (lookup == CATALOG).then_some(CATALOG),
    }
}

/// The rule for a request, if it may be answered from cache.
pub fn rule(method: &http::Method, path: &str, has_origin: bool) -> Option<CacheRule> {
    if method != http::Method::GET || has_origin {
        return None;
    }
    if path.starts_with("/pxe/") {
        return Some(UNTIL_CATALOGS_CHANGE);
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
        assert_eq!(
            get("/pxe/abc/v1.12.4/metal-amd64"),
            Some(UNTIL_CATALOGS_CHANGE)
        );
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

    #[test]
    fn answers_are_stored_by_their_marker() {
        let pxe = rule(&Method::GET, "/pxe/a/v1.12.4/metal-amd64", false);
        assert_eq!(
            store_rule(pxe, Some(Cacheable::UntilCatalogsChange)),
            Some(UNTIL_CATALOGS_CHANGE)
        );
        // An unmarked answer on a cacheable route (an error page, say) is not stored.
        assert_eq!(store_rule(pxe, None), None);
        let manifest = rule(&Method::GET, "/v2/installer/a/manifests/sha256:00", false);
        assert_eq!(
            store_rule(manifest, Some(Cacheable::Immutable)),
            Some(IMMUTABLE)
        );
        assert_eq!(
            store_rule(rule(&Method::GET, "/versions", false), None),
            Some(CATALOG)
        );
        // Marked, but the request may not use the cache (POST, Origin).
        assert_eq!(store_rule(None, Some(Cacheable::Immutable)), None);
    }
}
