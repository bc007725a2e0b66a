//! The Cache API for the answers `crate::cache_policy` allows.
//!
//! A hit is answered before the frontend (and its configuration) is even
//! built, with a fresh `X-Request-ID`. A miss is stored after it is
//! answered (`wait_until`), with `Cache-Control: public, max-age=N` on the
//! stored copy only, and without its `Vary: Origin` (requests with an
//! `Origin` never read the cache, so the copy never meets one).

use worker::{Cache, Context, Headers, Response};

use crate::cache_policy::CacheRule;

/// The cached answer for `url`, if any.
pub(crate) async fn lookup(url: &str, request_id: &str) -> Option<Response> {
    let hit = Cache::default().get(url, false).await.ok().flatten()?;
    // A cached response's headers are immutable: copy them.
    let headers = Headers::new();
    for (name, value) in hit.headers().entries() {
        headers.append(&name, &value).ok()?;
    }
    headers.set("x-request-id", request_id).ok()?;
    let status = hit.status_code();
    let (_, body) = hit.into_parts();
    Some(
        Response::builder()
            .with_status(status)
            .with_headers(headers)
            .body(body),
    )
}

/// Stores a copy of `response` under `url` in the background.
pub(crate) fn store(ctx: &Context, url: String, response: &mut Response, rule: CacheRule) {
    let Ok(copy) = response.cloned() else {
        return;
    };
    let control = format!("public, max-age={}", rule.max_age);
    if copy.headers().set("cache-control", &control).is_err()
        || copy.headers().delete("vary").is_err()
    {
        return;
    }
    ctx.wait_until(async move {
        if let Err(e) = Cache::default().put(url.as_str(), copy).await {
            worker::console_error!("cache put: {e}");
        }
    });
}
