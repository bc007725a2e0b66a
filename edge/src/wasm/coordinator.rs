//! `BuildCoordinator`: one Durable Object per asset key, per installer
//! repository and tag, and one for catalog refreshes.
//!
//! Every miss anywhere is sent to the object named after what it needs
//! (`id_from_name`), and the object makes at most one builder call for it at
//! a time: the call is a shared future kept in the object, and requests that
//! arrive while it runs await the same future (Durable Objects deliver
//! requests concurrently while an outbound fetch is pending). The builder's
//! answer is judged (`crate::coordination::judge`) before anything is
//! stored; what passed is written to KV and, for builds, to the object's own
//! storage too, because KV is eventually consistent and the object is not.
//! A failed build is answered again for a minute without asking the builder
//! (`RememberedFailure`); other failures are retried by the next request.

// `#[durable_object]` generates undocumented glue methods.
#![allow(missing_docs)]

use std::cell::RefCell;

use factory_core::dispatch::{BuildJob, MAX_DISPATCH_BODY};
use futures::FutureExt as _;
use futures::future::{LocalBoxFuture, Shared};
use worker::{
    Date, DurableObject, Env, Fetch, Headers, Method, Request, RequestInit, Response, State,
    Storage, console_error, durable_object,
};

use super::env::{self, BUILDS, CATALOGS, RECORDS};
use super::random;
use crate::coordination::{
    Failure, FailureClass, RememberedFailure, Settled, Verified, coordinator_name, judge,
};
use crate::dispatch_request::build_request;
use crate::stored::{StoredAsset, installer_writes};
use crate::{ids, keys};

/// Where the object keeps a settled build.
const SETTLED: &str = "settled";

type Flight = Shared<LocalBoxFuture<'static, Result<Settled, Failure>>>;

/// The Durable Object class (binding `BUILDS`).
#[durable_object]
pub struct BuildCoordinator {
    state: State,
    env: Env,
    flight: RefCell<Option<Flight>>,
    failed: RefCell<Option<RememberedFailure>>,
}

impl std::fmt::Debug for BuildCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildCoordinator")
            .field("building", &self.flight.borrow().is_some())
            .finish()
    }
}

impl DurableObject for BuildCoordinator {
    fn new(state: State, env: Env) -> Self {
        BuildCoordinator {
            state,
            env,
            flight: RefCell::new(None),
            failed: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let job: BuildJob = match req.json().await {
            Ok(job) => job,
            Err(e) => {
                return answer(&Err(Failure::new(
                    FailureClass::Internal,
                    format!("job: {e}"),
                )));
            }
        };
        let keep = !matches!(job, BuildJob::RefreshCatalogs);
        if keep && let Ok(Some(settled)) = self.state.storage().get::<Settled>(SETTLED).await {
            return answer(&Ok(settled));
        }
        let remembered = self
            .failed
            .borrow()
            .as_ref()
            .and_then(|r| r.at(now_ms()).cloned());
        if let Some(failure) = remembered {
            return answer(&Err(failure));
        }
        let flight = {
            let mut slot = self.flight.borrow_mut();
            match slot.as_ref() {
                Some(running) => running.clone(),
                None => {
                    let storage = keep.then(|| self.state.storage());
                    let started = run(self.env.clone(), storage, job).boxed_local().shared();
                    *slot = Some(started.clone());
                    started
                }
            }
        };
        let result = flight.await;
        {
            let mut slot = self.flight.borrow_mut();
            if slot.as_ref().is_some_and(|f| f.peek().is_some()) {
                *slot = None;
            }
        }
        *self.failed.borrow_mut() = match &result {
            Ok(_) => None,
            Err(failure) => RememberedFailure::of(failure, now_ms()),
        };
        answer(&result)
    }
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

fn answer(result: &Result<Settled, Failure>) -> worker::Result<Response> {
    match result {
        Ok(settled) => Response::from_json(settled),
        Err(failure) => Ok(Response::from_json(failure)?.with_status(failure.status())),
    }
}

/// One builder call: dispatch, judge, store.
async fn run(env: Env, storage: Option<Storage>, job: BuildJob) -> Result<Settled, Failure> {
    let config =
        env::config(&env).map_err(|e| Failure::new(FailureClass::Unavailable, e.to_string()))?;
    let (status, body) = call_builder(&config, &job).await?;
    let verified = judge(&job, status, &body, &config.public_key).inspect_err(|f| {
        if f.class == FailureClass::Refused {
            console_error!("{} job refused: {}", job.kind(), f.message);
        }
    })?;
    let settled = store(&env, verified).await?;
    if let Some(storage) = storage
        && let Err(e) = storage.put(SETTLED, &settled).await
    {
        console_error!("keeping the settled build in the object: {e}");
    }
    Ok(settled)
}

async fn call_builder(
    config: &crate::config::EdgeConfig,
    job: &BuildJob,
) -> Result<(u16, Vec<u8>), Failure> {
    let internal = |what: &str, e: &dyn std::fmt::Display| {
        Failure::new(FailureClass::Internal, format!("{what}: {e}"))
    };
    let body = serde_json::to_vec(job).map_err(|e| internal("encoding the job", &e))?;
    let nonce = ids::nonce(random::bytes16().map_err(|e| internal("nonce", &e))?);
    let now = Date::now().as_millis() / 1000;
    let signed = build_request(&config.builder, &config.credentials, body, now, &nonce)
        .map_err(|e| internal("signing", &e))?;
    let headers = Headers::new();
    for (name, value) in signed.headers() {
        let value = value.to_str().map_err(|e| internal("header", &e))?;
        headers
            .set(name.as_str(), value)
            .map_err(|e| internal("header", &e))?;
    }
    let (parts, body) = signed.into_parts();
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    let request = Request::new_with_init(&parts.uri.to_string(), &init)
        .map_err(|e| internal("builder request", &e))?;
    let mut response = Fetch::Request(request).send().await.map_err(|e| {
        Failure::new(
            FailureClass::Unavailable,
            format!("the builder is unreachable: {e}"),
        )
    })?;
    let status = response.status_code();
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_DISPATCH_BODY) {
        return Err(Failure::new(
            FailureClass::Refused,
            format!("builder answer refused: larger than {MAX_DISPATCH_BODY} bytes"),
        ));
    }
    let body = response.bytes().await.map_err(|e| {
        Failure::new(
            FailureClass::Unavailable,
            format!("reading the builder's answer: {e}"),
        )
    })?;
    if body.len() > MAX_DISPATCH_BODY {
        return Err(Failure::new(
            FailureClass::Refused,
            format!("builder answer refused: larger than {MAX_DISPATCH_BODY} bytes"),
        ));
    }
    Ok((status, body))
}

/// Writes what passed to KV.
async fn store(env: &Env, verified: Verified) -> Result<Settled, Failure> {
    let kv = |name: &str| {
        env.kv(name)
            .map_err(|e| Failure::new(FailureClass::Unavailable, format!("{name} binding: {e}")))
    };
    match verified {
        Verified::Asset(statement, record) => {
            let stored = StoredAsset::new(&statement, record);
            put(&kv(RECORDS)?, &keys::asset(&statement.key), &json(&stored)?).await?;
            Ok(Settled::Asset(stored))
        }
        Verified::Installer(installer) => {
            let records = kv(RECORDS)?;
            for (key, value) in installer_writes(&installer) {
                put(&records, &key, &value).await?;
            }
            Ok(Settled::Installer {
                index: factory_core::dispatch::WireManifest::from_record(&installer.index),
            })
        }
        Verified::Catalogs(catalogs) => {
            let store = kv(CATALOGS)?;
            for (tag, release) in &catalogs.releases {
                put(&store, &keys::release(tag), &json(release)?).await?;
            }
            put(&store, keys::CATALOG_TAGS, &json(&catalogs.versions)?).await?;
            Ok(Settled::Catalogs {
                versions: catalogs.versions.len(),
            })
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value)
        .map_err(|e| Failure::new(FailureClass::Internal, format!("encoding: {e}")))
}

async fn put(kv: &worker::kv::KvStore, key: &str, value: &str) -> Result<(), Failure> {
    kv.put(key, value)
        .map_err(|e| Failure::new(FailureClass::Unavailable, format!("KV {key}: {e}")))?
        .execute()
        .await
        .map_err(|e| Failure::new(FailureClass::Unavailable, format!("KV {key}: {e}")))
}

/// Sends `job` to its coordinator and waits for it to settle.
pub(crate) async fn settle(env: &Env, job: &BuildJob) -> Result<Settled, Failure> {
    let unavailable = |e: worker::Error| {
        Failure::new(FailureClass::Unavailable, format!("build coordinator: {e}"))
    };
    let name = coordinator_name(job)?;
    let stub = env
        .durable_object(BUILDS)
        .map_err(unavailable)?
        .id_from_name(&name)
        .map_err(unavailable)?
        .get_stub()
        .map_err(unavailable)?;
    let body = serde_json::to_string(job)
        .map_err(|e| Failure::new(FailureClass::Internal, format!("encoding the job: {e}")))?;
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(unavailable)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let request =
        Request::new_with_init("https://coordinator/settle", &init).map_err(unavailable)?;
    let mut response = stub
        .fetch_with_request(request)
        .await
        .map_err(unavailable)?;
    if response.status_code() == 200 {
        response.json::<Settled>().await.map_err(unavailable)
    } else {
        let status = response.status_code();
        match response.json::<Failure>().await {
            Ok(failure) => Err(failure),
            Err(e) => Err(Failure::new(
                FailureClass::Internal,
                format!("build coordinator answered {status}: {e}"),
            )),
        }
    }
}
