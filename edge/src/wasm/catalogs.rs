//! Version tags and release catalogs: KV, an isolate-local copy, and an
//! on-demand refresh through the builder when KV has none.
//!
//! KV holds what the last refresh (cron or on demand) found; the isolate
//! keeps what it read for [`LOCAL_TTL_MS`] so that requests do not each pay a
//! KV read and a JSON parse of the catalog. At most [`MAX_LOCAL_RELEASES`]
//! catalogs are kept; past that the local copy is dropped and re-read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use factory_core::catalog::ReleaseCatalog;
use factory_core::dispatch::BuildJob;
use worker::{Date, Env};

use super::coordinator;
use super::env::CATALOGS;
use crate::coordination::{Failure, FailureClass};
use crate::keys;

/// How long an isolate trusts its copy of the catalogs.
const LOCAL_TTL_MS: u64 = 60_000;
/// The most release catalogs an isolate keeps.
const MAX_LOCAL_RELEASES: usize = 64;

type Stamped<T> = (u64, Rc<T>);

thread_local! {
    static TAGS: RefCell<Option<Stamped<Vec<String>>>> = const { RefCell::new(None) };
    static RELEASES: RefCell<HashMap<String, Stamped<ReleaseCatalog>>> = RefCell::new(HashMap::new());
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(FailureClass::Unavailable, format!("{what}: {e}"))
}

/// Every upstream version tag (before the version policy).
pub(crate) async fn tags(env: &Env) -> Result<Rc<Vec<String>>, Failure> {
    let now = Date::now().as_millis();
    if let Some(tags) = TAGS.with(|t| {
        t.borrow()
            .as_ref()
            .filter(|(at, _)| now.saturating_sub(*at) < LOCAL_TTL_MS)
            .map(|(_, tags)| Rc::clone(tags))
    }) {
        return Ok(tags);
    }
    let tags = match read_tags(env).await? {
        Some(tags) => tags,
        None => {
            refresh(env).await?;
            read_tags(env).await?.ok_or_else(|| {
                Failure::new(
                    FailureClass::Unavailable,
                    "no version catalog yet: the builder's refresh stored none",
                )
            })?
        }
    };
    let tags = Rc::new(tags);
    TAGS.with(|t| *t.borrow_mut() = Some((now, Rc::clone(&tags))));
    Ok(tags)
}

/// Whether KV holds any version tags (no refresh: `/readyz` must not build).
pub(crate) async fn have_tags(env: &Env) -> Result<bool, Failure> {
    Ok(read_tags(env).await?.is_some_and(|tags| !tags.is_empty()))
}

async fn read_tags(env: &Env) -> Result<Option<Vec<String>>, Failure> {
    let kv = env
        .kv(CATALOGS)
        .map_err(|e| unavailable("CATALOGS binding", e))?;
    kv.get(keys::CATALOG_TAGS)
        .json::<Vec<String>>()
        .await
        .map_err(|e| unavailable("reading version tags", e))
}

/// The catalog of `tag`, refreshing once if KV has none.
pub(crate) async fn release(env: &Env, tag: &str) -> Result<Option<Rc<ReleaseCatalog>>, Failure> {
    let now = Date::now().as_millis();
    if let Some(found) = RELEASES.with(|r| {
        r.borrow()
            .get(tag)
            .filter(|(at, _)| now.saturating_sub(*at) < LOCAL_TTL_MS)
            .map(|(_, c)| Rc::clone(c))
    }) {
        return Ok(Some(found));
    }
    let catalog = match read_release(env, tag).await? {
        Some(c) => Some(c),
        None => {
            refresh(env).await?;
            read_release(env, tag).await?
        }
    };
    let Some(catalog) = catalog else {
        return Ok(None);
    };
    let catalog = Rc::new(catalog);
    RELEASES.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() >= MAX_LOCAL_RELEASES {
            r.clear();
        }
        r.insert(tag.to_owned(), (now, Rc::clone(&catalog)));
    });
    Ok(Some(catalog))
}

async fn read_release(env: &Env, tag: &str) -> Result<Option<ReleaseCatalog>, Failure> {
    let kv = env
        .kv(CATALOGS)
        .map_err(|e| unavailable("CATALOGS binding", e))?;
    kv.get(&keys::release(tag))
        .json::<ReleaseCatalog>()
        .await
        .map_err(|e| unavailable("reading a release catalog", e))
}

/// Refreshes the catalogs through the builder (one refresh at a time, via
/// the catalog coordinator) and forgets the isolate's copy.
pub(crate) async fn refresh(env: &Env) -> Result<(), Failure> {
    coordinator::settle(env, &BuildJob::RefreshCatalogs).await?;
    TAGS.with(|t| *t.borrow_mut() = None);
    RELEASES.with(|r| r.borrow_mut().clear());
    Ok(())
}
