//! CPU per cached request in workerd: our Worker answering an iPXE script
//! from the Cache API, next to JavaScript Workers doing the least a Worker
//! can (a Cache API hit, a constant), first under `wrangler dev` (as the
//! end-to-end tests run it) and then in plain workerd with nothing in front
//! (see `factory_serverless_tests::Direct`), over the same state.
//!
//! workerd reports no CPU time outside Cloudflare, so the figure is the
//! workerd processes' user+system CPU (from /proc) over a round of requests
//! on one keep-alive connection (curl), after a warm-up round of the same
//! size, divided by the request count. It includes workerd's own HTTP
//! handling and the simulated Cache API, neither billed to a Worker on
//! Cloudflare: an upper bound on the isolate's CPU time. The bench also
//! prints ours minus the simulated lookup (the Cache API Worker's figure
//! over the constant Worker's), an estimate closer to what is billed.
//! (V8's sampling profiler through workerd's inspector was tried for a
//! direct figure; its samples are too sparse and land on awaits.)
//!
//! `cargo bench -p factory-serverless-tests --bench cached_request_cpu`
//! (BENCH_REQUESTS, default 2000). Needs what the end-to-end tests need.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use factory_serverless_tests::{
    Deployment, Direct, Worker, create_schematic, curl, workerd_cpu_ticks,
};
use factory_test_support::run;

const VERSION: &str = "v1.12.4";
const SCHEMATIC: &str = "customization:\n  extraKernelArgs:\n    - console=ttyS0\n";

/// Whether the answers measured must come from the Cache API.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    CacheHit,
    Computed,
}

/// (CPU ms, wall ms) per request of the workerd processes under `pid`.
fn per_request(dir: &Path, pid: u32, url: &str, requests: usize, expect: Expect) -> (f64, f64) {
    let first = curl(&[url]);
    assert_eq!(first.status, 200, "{url}: {}", first.text());
    // The first answer stored it (in the background); the rest are hits.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let again = curl(&[url]);
    let hit = again.header("cf-cache-status") == Some("HIT");
    assert_eq!(
        hit,
        expect == Expect::CacheHit,
        "{url}: {:?}",
        again.headers
    );
    let list = dir.join(format!("urls-{pid}"));
    std::fs::write(
        &list,
        format!("url = \"{url}\"\noutput = \"/dev/null\"\n").repeat(requests),
    )
    .unwrap();
    let round = || {
        run(Command::new("curl")
            .args(["-sS", "--fail", "-K"])
            .arg(&list))
    };
    round();
    let before = workerd_cpu_ticks(pid);
    let wall = Instant::now();
    round();
    let wall = wall.elapsed().as_secs_f64() * 1000.0;
    let ticks = workerd_cpu_ticks(pid) - before;
    // USER_HZ is 100 on Linux: a tick is 10 ms.
    let cpu = ticks as f64 * 10.0;
    (cpu / requests as f64, wall / requests as f64)
}

fn main() {
    let requests: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let (deployment, _) = Deployment::start(true, 3600);
    let Deployment {
        worker,
        builder,
        s3,
        registry,
        dir,
    } = deployment;
    let id = create_schematic(&worker.base, SCHEMATIC);
    // Catalogs come from the builder through the cron trigger.
    let scheduled = curl(&[&worker.url("/__scheduled?cron=*/30+*+*+*+*")]);
    assert_eq!(scheduled.status, 200, "{}", scheduled.text());
    let pxe = format!("/pxe/{id}/{VERSION}/metal-amd64");
    let script = curl(&[&worker.url(&pxe)]);
    assert!(script.text().starts_with("#!ipxe"), "{}", script.text());

    let wrangler_ours = per_request(
        dir.path(),
        worker.pid(),
        &worker.url(&pxe),
        requests,
        Expect::CacheHit,
    );
    let floor = Worker::start_floor(dir.path());
    let wrangler_floor = per_request(
        dir.path(),
        floor.pid(),
        &floor.url("/cached"),
        requests,
        Expect::CacheHit,
    );
    drop(floor);

    let bindings = worker.bindings().to_vec();
    let state = worker.stop();
    let direct = Direct::start(dir.path(), &state, &bindings);
    let ours_url = format!("{}{pxe}", direct.ours);
    let answer = curl(&[&ours_url]);
    assert!(
        answer.text().starts_with("#!ipxe"),
        "{}\n{}",
        answer.text(),
        direct.log_text()
    );
    let direct_ours = per_request(
        dir.path(),
        direct.pid(),
        &ours_url,
        requests,
        Expect::CacheHit,
    );
    let direct_hit = per_request(
        dir.path(),
        direct.pid(),
        &format!("{}/cached", direct.cache_hit),
        requests,
        Expect::CacheHit,
    );
    let direct_constant = per_request(
        dir.path(),
        direct.pid(),
        &format!("{}/", direct.constant),
        requests,
        Expect::Computed,
    );
    drop(direct);
    drop((builder, s3, registry));

    println!(
        "CPU (and wall) per request, {requests} requests on one connection after as many warm-up requests:"
    );
    println!("| Worker | wrangler dev | plain workerd |");
    println!("|---|---|---|");
    let row = |name: &str, wrangler: Option<(f64, f64)>, plain: (f64, f64)| {
        let wrangler = wrangler.map_or("–".to_owned(), |(cpu, wall)| {
            format!("{cpu:.3} ms ({wall:.3} ms)")
        });
        println!(
            "| {name} | {wrangler} | {:.3} ms ({:.3} ms) |",
            plain.0, plain.1
        );
    };
    row("ours, cached iPXE script", Some(wrangler_ours), direct_ours);
    row(
        "JavaScript, Cache API hit",
        Some(wrangler_floor),
        direct_hit,
    );
    row("JavaScript, constant answer", None, direct_constant);
    println!(
        "ours over the JavaScript Cache API hit: {:+.3} ms (plain workerd), {:+.3} ms (wrangler dev)",
        direct_ours.0 - direct_hit.0,
        wrangler_ours.0 - wrangler_floor.0
    );
    // Locally a Cache API lookup is Miniflare's cache Worker (another
    // isolate, SQLite, a file read) in the same process; on Cloudflare it is
    // not the Worker's CPU. Its cost is the hit Worker's over the constant's.
    let lookup = direct_hit.0 - direct_constant.0;
    println!(
        "simulated Cache API lookup: {lookup:.3} ms; ours without it: {:.3} ms (plain workerd)",
        direct_ours.0 - lookup
    );
}
