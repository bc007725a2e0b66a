//! Fifty concurrent requests for one missing asset cause exactly one build
//! (by the metrics counter) and all get the same record; a build whose
//! requester goes away still finishes and is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use factory_core::frontend::Platform;

use common::{SyntheticRegistry, builds, open, profile, settings, stored_schematic};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_requests_one_build_and_abandoned_requests_still_build() {
    let upstream = SyntheticRegistry::start();
    let data = tempfile::tempdir().unwrap();
    let (platform, metrics) = open(&settings(&upstream, data.path())).await;
    let schematic = stored_schematic(&platform).await;
    let (key, prof) = profile(&platform, "initramfs-amd64.xz", &schematic, "v1.12.4").await;

    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (platform, key, prof) = (platform.clone(), key.clone(), prof.clone());
        tasks.push(tokio::spawn(
            async move { platform.asset(&key, &prof).await },
        ));
    }
    let mut records = Vec::new();
    for task in tasks {
        records.push(task.await.unwrap().unwrap());
    }
    assert_eq!(builds(&metrics, "initramfs", "ok"), 1);
    assert!(records.iter().all(|r| *r == records[0]));
    assert_eq!(metrics.cache_hits.get() + metrics.cache_misses.get(), 50);
    assert!(records[0].size > 0);

    // A request dropped right after it started its build: the build goes on.
    let (kkey, kprof) = profile(&platform, "kernel-amd64", &schematic, "v1.11.5").await;
    let call = {
        let (platform, kkey, kprof) = (platform.clone(), kkey.clone(), kprof.clone());
        tokio::spawn(async move { platform.asset(&kkey, &kprof).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    call.abort();
    assert_eq!(platform.drain(Duration::from_secs(120)).await, 0);
    assert_eq!(builds(&metrics, "kernel", "ok"), 1);
    let hits = metrics.cache_hits.get();
    platform.asset(&kkey, &kprof).await.unwrap();
    assert_eq!(metrics.cache_hits.get(), hits + 1);
    assert_eq!(builds(&metrics, "kernel", "ok"), 1);
}
