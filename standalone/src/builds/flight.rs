//! The single-flight table, the semaphore and the failure memory. See the
//! [module docs](super).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use factory_core::frontend::PlatformError;
use tokio::sync::{Semaphore, watch};

use crate::metrics::Metrics;

/// What a build job found.
#[derive(Debug)]
pub enum Outcome<T> {
    /// It built (and stored) the output.
    Built(T),
    /// The output was already stored; nothing was built.
    Found(T),
}

/// Limits of a [`Builds`].
#[derive(Debug, Clone, Copy)]
pub struct BuildsConfig {
    /// Builds running at once (at least one).
    pub concurrency: usize,
    /// A build running longer is abandoned and reported as failed.
    pub timeout: Duration,
    /// How long a failure is answered without retrying.
    pub failure_ttl: Duration,
}

type Shared<T> = watch::Receiver<Option<Result<T, PlatformError>>>;

struct State<K, T> {
    running: HashMap<K, Shared<T>>,
    failures: HashMap<K, (Instant, PlatformError)>,
}

/// Single-flight builds keyed by `K` producing `T`. See the module docs.
pub struct Builds<K, T> {
    state: Arc<Mutex<State<K, T>>>,
    permits: Arc<Semaphore>,
    config: BuildsConfig,
    metrics: Arc<Metrics>,
}

impl<K, T> std::fmt::Debug for Builds<K, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builds")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<K, T> Builds<K, T>
where
    K: Clone + Eq + Hash + Send + std::fmt::Display + 'static,
    T: Clone + Send + Sync + 'static,
{
    /// An empty table.
    pub fn new(config: BuildsConfig, metrics: Arc<Metrics>) -> Self {
        Builds {
            state: Arc::new(Mutex::new(State {
                running: HashMap::new(),
                failures: HashMap::new(),
            })),
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            config,
            metrics,
        }
    }

    /// The outcome of the build of `key`: joins a running one, answers a
    /// remembered failure, or starts `job` (labelled `kind` in metrics).
    pub async fn run<F, Fut>(&self, key: &K, kind: &str, job: F) -> Result<T, PlatformError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Outcome<T>, PlatformError>> + Send + 'static,
    {
        let mut receiver = {
            let mut state = lock(&self.state);
            let now = Instant::now();
            state
                .failures
                .retain(|_, (at, _)| now.duration_since(*at) < self.config.failure_ttl);
            if let Some((_, error)) = state.failures.get(key) {
                return Err(error.clone());
            }
            match state.running.get(key) {
                Some(receiver) => receiver.clone(),
                None => {
                    let (sender, receiver) = watch::channel(None);
                    state.running.insert(key.clone(), receiver.clone());
                    self.spawn(key.clone(), kind.to_owned(), job(), sender);
                    receiver
                }
            }
        };
        let outcome = receiver
            .wait_for(Option::is_some)
            .await
            .map_err(|_| PlatformError::Internal("the build task ended without a result".into()))?;
        match &*outcome {
            Some(result) => result.clone(),
            None => Err(PlatformError::Internal(
                "the build task ended without a result".into(),
            )),
        }
    }

    /// How many builds are running or queued.
    pub fn in_flight(&self) -> usize {
        lock(&self.state).running.len()
    }

    /// Waits until no build is running or queued, or `grace` has passed;
    /// returns how many were still running then.
    pub async fn drain(&self, grace: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let left = self.in_flight();
            if left == 0 || tokio::time::Instant::now() >= deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn spawn<Fut>(
        &self,
        key: K,
        kind: String,
        job: Fut,
        sender: watch::Sender<Option<Result<T, PlatformError>>>,
    ) where
        Fut: Future<Output = Result<Outcome<T>, PlatformError>> + Send + 'static,
    {
        let state = Arc::clone(&self.state);
        let permits = Arc::clone(&self.permits);
        let metrics = Arc::clone(&self.metrics);
        let config = self.config;
        tokio::spawn(async move {
            // Clears the key even if the job panics, so later callers start
            // a new build instead of waiting on a dead one.
            let cleanup = Cleanup {
                state: Arc::clone(&state),
                key: Some(key.clone()),
            };
            let result = match permits.acquire_owned().await {
                Err(_) => Err(PlatformError::Unavailable(
                    "the builder is shutting down".into(),
                )),
                Ok(_permit) => {
                    metrics.builds_running.inc();
                    let started = Instant::now();
                    let result = tokio::time::timeout(config.timeout, job).await;
                    metrics.builds_running.dec();
                    let seconds = started.elapsed().as_secs_f64();
                    match result {
                        Ok(Ok(Outcome::Found(value))) => Ok(value),
                        Ok(Ok(Outcome::Built(value))) => {
                            metrics.build_finished(&kind, "ok", seconds);
                            Ok(value)
                        }
                        Ok(Err(error)) => {
                            tracing::warn!(%key, kind, %error, "build failed");
                            metrics.build_finished(&kind, "failed", seconds);
                            Err(error)
                        }
                        Err(_) => {
                            let error = PlatformError::BuildFailed(format!(
                                "the build took longer than {}s and was abandoned",
                                config.timeout.as_secs()
                            ));
                            tracing::warn!(%key, kind, %error, "build timed out");
                            metrics.build_finished(&kind, "timeout", seconds);
                            Err(error)
                        }
                    }
                }
            };
            {
                let mut guard = lock(&state);
                if let Err(error @ PlatformError::BuildFailed(_)) = &result {
                    guard.failures.insert(key, (Instant::now(), error.clone()));
                }
            }
            drop(cleanup);
            // Waiters that went away are no reason to fail.
            let _ = sender.send(Some(result));
        });
    }
}

/// Removes a key from the running builds when dropped.
struct Cleanup<K: Eq + Hash, T> {
    state: Arc<Mutex<State<K, T>>>,
    key: Option<K>,
}

impl<K: Eq + Hash, T> Drop for Cleanup<K, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.state).running.remove(&key);
        }
    }
}

fn lock<K, T>(state: &Mutex<State<K, T>>) -> std::sync::MutexGuard<'_, State<K, T>> {
    // The maps stay consistent across a panic elsewhere (single inserts and removes).
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn builds(concurrency: usize, ttl: Duration) -> Builds<String, u32> {
        Builds::new(
            BuildsConfig {
                concurrency,
                timeout: Duration::from_millis(500),
                failure_ttl: ttl,
            },
            Arc::new(Metrics::new()),
        )
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_build() {
        let b = Arc::new(builds(2, Duration::from_secs(60)));
        let count = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (b, count) = (Arc::clone(&b), Arc::clone(&count));
            tasks.push(tokio::spawn(async move {
                b.run(&"k".to_owned(), "kernel", move || async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(Outcome::Built(count.fetch_add(1, Ordering::SeqCst) + 7))
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(b.in_flight(), 0);
    }

    #[tokio::test]
    async fn failures_are_remembered_until_the_ttl_and_timeouts_fail() {
        let b = builds(1, Duration::from_millis(100));
        let fail = || async { Err(PlatformError::BuildFailed("nope".into())) };
        let key = "k".to_owned();
        assert_eq!(
            b.run(&key, "x", fail).await,
            Err(PlatformError::BuildFailed("nope".into()))
        );
        // Remembered: the job is not run again.
        let r = b.run(&key, "x", || async { Ok(Outcome::Built(1)) }).await;
        assert_eq!(r, Err(PlatformError::BuildFailed("nope".into())));
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(
            b.run(&key, "x", || async { Ok(Outcome::Built(1)) }).await,
            Ok(1)
        );
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(Outcome::Built(2))
        };
        let r = b.run(&"slow".to_owned(), "x", slow).await;
        assert!(matches!(r, Err(PlatformError::BuildFailed(m)) if m.contains("longer than")));
    }

    #[tokio::test]
    async fn a_panicking_build_does_not_wedge_its_key() {
        let b = builds(1, Duration::from_secs(60));
        let key = "k".to_owned();
        #[allow(clippy::panic)]
        let r = b
            .run(&key, "x", || async {
                panic!("boom") as Result<Outcome<u32>, _>
            })
            .await;
        assert!(matches!(r, Err(PlatformError::Internal(_))));
        assert_eq!(
            b.run(&key, "x", || async { Ok(Outcome::Built(3)) }).await,
            Ok(3)
        );
    }

    #[tokio::test]
    async fn a_dropped_caller_does_not_cancel_the_build() {
        let b = builds(1, Duration::from_secs(60));
        let done = Arc::new(AtomicU32::new(0));
        let d = Arc::clone(&done);
        let key = "k".to_owned();
        let call = b.run(&key, "x", move || async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            d.store(1, Ordering::SeqCst);
            Ok(Outcome::Built(1))
        });
        // Poll once (spawning the build), then drop the caller.
        let _ = tokio::time::timeout(Duration::from_millis(5), call).await;
        assert_eq!(b.drain(Duration::from_secs(2)).await, 0);
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }
}
