//! One build per key at a time within this process.
//!
//! Concurrent identical jobs queue on a per-key async lock; the first runs
//! its lookup-or-build, and each later one, once it holds the lock, finds
//! the record the first wrote in the bucket and answers it without
//! building. The map holds only keys with a job in flight (an entry is
//! removed by the last job that used it), so its size is bounded by the
//! number of concurrent requests.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// See the module docs.
#[derive(Debug, Default)]
pub struct SingleFlight {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SingleFlight {
    /// Runs `work` while no other work of `key` runs in this process.
    pub async fn run<T>(&self, key: &str, work: impl Future<Output = T>) -> T {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(locks.entry(key.to_owned()).or_default())
        };
        let result = {
            let _held = lock.lock().await;
            work.await
        };
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and ours: nobody else waits on this key.
        if Arc::strong_count(&lock) == 2 {
            locks.remove(key);
        }
        result
    }

    /// Keys with work in flight or waiting.
    pub fn in_flight(&self) -> usize {
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn same_key_runs_one_at_a_time_and_is_forgotten() {
        let flights = Arc::new(SingleFlight::default());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (flights, running, most) = (flights.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    flights
                        .run("k", async {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert_eq!(flights.in_flight(), 0);
    }
}
