//! The Worker's entry points: `fetch` (every HTTP request) and `scheduled`
//! (the cron trigger that refreshes catalogs).
//!
//! `fetch` answers cacheable routes from the Cache API first, then reads the
//! configuration (503 naming the missing setting if it is incomplete), runs
//! the core frontend over [`EdgePlatform`], turns a refused builder answer
//! into `502`, and stores the `200`s core marks cacheable (see
//! [`crate::cache_policy`]).

use factory_core::frontend::{Cacheable, CorsPolicy, Frontend, FrontendConfig};
use worker::{
    Context, Env, Request, Response, ScheduleContext, ScheduledEvent, console_error, console_log,
    event,
};

use super::platform::EdgePlatform;
use super::{cache, catalogs, env, http_io, random};
use crate::{cache_policy, ids};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let url = req.url()?;
    let method =
        http::Method::from_bytes(req.method().as_ref().as_bytes()).unwrap_or(http::Method::GET);
    let has_origin = req.headers().has("origin").unwrap_or(true);
    let rule = cache_policy::rule(&method, url.path(), has_origin);
    if rule.is_some() {
        let request_id = req
            .headers()
            .get("x-request-id")
            .ok()
            .flatten()
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .or_else(|| random::bytes16().ok().map(ids::uuid_v4))
            .unwrap_or_default();
        if let Some(hit) = cache::lookup(url.as_str(), &request_id).await {
            return Ok(hit);
        }
    }
    let config = match env::config(&env) {
        Ok(config) => config,
        Err(e) => {
            console_error!("{e}");
            return http_io::text(503, &e.to_string());
        }
    };
    let frontend_config = FrontendConfig {
        external_url: config.external_url.clone(),
        pxe_url: config.pxe_url.clone(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        cors: CorsPolicy::default(),
        secureboot_enabled: false,
    };
    let frontend = match Frontend::new(EdgePlatform::new(env, config), frontend_config) {
        Ok(frontend) => frontend,
        Err(e) => return http_io::text(503, &format!("the image factory is misconfigured: {e}")),
    };
    // A request the runtime accepted but `http` does not, or a body that
    // broke off: the client's fault, and never an exception page.
    let request = match http_io::to_core(&mut req).await {
        Ok(request) => request,
        Err(e) => return http_io::text(400, &format!("bad request: {e}")),
    };
    let response = frontend.handle(request).await;
    if let Some(reason) = frontend.platform().refusal()
        && response.status().is_server_error()
    {
        console_error!("answering 502: {reason}");
        return http_io::text(502, &format!("bad gateway: {reason}"));
    }
    let status = response.status();
    let marked = response.extensions().get::<Cacheable>().copied();
    let mut answer = match http_io::from_core(response).await {
        Ok(answer) => answer,
        Err(e) => {
            console_error!("answering: {e}");
            return http_io::text(500, "internal server error");
        }
    };
    if let Some(rule) =
        cache_policy::store_rule(rule, marked).filter(|_| status == http::StatusCode::OK)
    {
        cache::store(&ctx, url.to_string(), &mut answer, rule);
    }
    Ok(answer)
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match catalogs::refresh(&env).await {
        Ok(()) => console_log!("catalogs refreshed"),
        Err(failure) => console_error!("catalog refresh failed: {failure}"),
    }
}
