//! The Cache API for the answers `crate::cache_policy` allows.
//!
//! A hit is answered before the frontend (and its configuration) is even
//! built, with a fresh `X-Request-ID`. A miss is stored after it is
//! answered (`wait_until`), with `Cache-Control: public, max-age=N` on the
//! stored copy only.

use worker::{Cache, Context, Response};

use crate::cache_policy::CacheRule;

/// The cached answer for `url`, if any.
pub(crate) async fn lookup(url: &str, request_id: &str) -> Option<Response> {
    let mut hit = Cache::default().get(url, false).await.ok().flatten()?;
    let _ = hit.headers_mut().set("x-request-id", request_id);
    Some(hit)
}

/// Stores a copy of `response` under `url` in the background.
pub(crate) fn store(ctx: &Context, url: String, response: &mut Response, rule: CacheRule) {
    let Ok(copy) = response.cloned() else {
        return;
    };
    let control = format!("public, max-age={}", rule.max_age);
    if copy.headers().set("cache-control", &control).is_err() {
        return;
    }
    ctx.wait_until(async move {
        if let Err(e) = Cache::default().put(url.as_str(), copy).await {
            worker::console_error!("cache put: {e}");
        }
    });
}
