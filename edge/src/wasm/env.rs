//! Reading the configuration and bindings from the Worker's `Env`.
//!
//! The parsed configuration is kept per isolate (vars and secrets cannot
//! change without a new deployment, hence a new isolate), so a request pays
//! for parsing the public key once, not every time. A configuration that does
//! not parse is not kept: it is reported on every request until fixed.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::config::{ConfigError, EdgeConfig};

/// KV: canonical schematics by ID.
pub(crate) const SCHEMATICS: &str = "SCHEMATICS";
/// KV: verified records, manifests, tags, referrers, blob presence.
pub(crate) const RECORDS: &str = "RECORDS";
/// KV: version tags and release catalogs.
pub(crate) const CATALOGS: &str = "CATALOGS";
/// Durable Object namespace of `BuildCoordinator`.
pub(crate) const BUILDS: &str = "BUILDS";

thread_local! {
    static CONFIG: RefCell<Option<Rc<EdgeConfig>>> = const { RefCell::new(None) };
}

/// The configuration, parsed once per isolate.
pub(crate) fn config(env: &Env) -> Result<Rc<EdgeConfig>, ConfigError> {
    if let Some(config) = CONFIG.with(|c| c.borrow().clone()) {
        return Ok(config);
    }
    let config = Rc::new(EdgeConfig::from_lookup(|name| lookup(env, name))?);
    CONFIG.with(|c| *c.borrow_mut() = Some(Rc::clone(&config)));
    Ok(config)
}

/// A var or a secret, as text.
fn lookup(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .ok()
        .map(|s| s.to_string())
        .or_else(|| env.var(name).ok().map(|v| v.to_string()))
}
