//! Faults, with the real binary: SIGKILL in the middle of a build, the
//! upstream registry going away, and a graceful SIGTERM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod serve_support;

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serve_support::{Answer, Factory, SCHEMATIC, Upstream, VERSION, curl, free_port};

/// Polls `check` every 20 ms for up to `limit`.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A factory over an upstream of its own, with a build of the initramfs
/// under way: a curl in `client` waits for `path`. Fields drop in order, so
/// the factory stops before its upstream.
struct BuildUnderWay {
    factory: Factory,
    id: String,
    path: String,
    client: JoinHandle<Answer>,
    _dir: tempfile::TempDir,
    _upstream: Upstream,
}

/// Starts the factory, creates [`SCHEMATIC`] and asks for its initramfs,
/// returning once the build runs.
fn start_a_build() -> BuildUnderWay {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let factory = Factory::start(&upstream.addr, &dir.path().join("data"));
    let id = factory.create_schematic(SCHEMATIC);
    let path = format!("/image/{id}/{VERSION}/initramfs-amd64.xz");
    let url = factory.url(&path);
    let client = std::thread::spawn(move || curl(&[&url]));
    assert!(
        wait_for(Duration::from_secs(30), || factory
            .metric("image_factory_builds_running")
            >= 1.0),
        "the build never started:\n{}",
        factory.log_text()
    );
    BuildUnderWay {
        factory,
        id,
        path,
        client,
        _dir: dir,
        _upstream: upstream,
    }
}

#[test]
fn killed_mid_build_restarts_clean_and_rebuilds() {
    // Start a build and SIGKILL the factory while it runs.
    let BuildUnderWay {
        mut factory,
        id,
        path,
        client,
        _dir,
        _upstream,
    } = start_a_build();
    factory.kill();
    let cut = client.join().unwrap();
    assert_ne!(cut.status, 200, "the build finished before the kill");

    // Restart on the same data: the schematic survived, nothing partial is
    // served, and the asset is rebuilt.
    factory.restart();
    let schematic = curl(&[&factory.url(&format!("/schematics/{id}"))]);
    assert_eq!(schematic.status, 200);
    let head = curl(&["-I", &factory.url(&path)]);
    let full = curl(&[&factory.url(&path)]);
    assert_eq!(full.status, 200, "{}", full.text());
    assert_eq!(head.header("content-length"), full.header("content-length"));
    assert_eq!(
        full.header("etag").unwrap().trim_matches('"'),
        sha256_hex(&full.body)
    );
    assert_eq!(factory.metric_sum("image_factory_builds_total"), 1.0);
}

#[test]
fn sigterm_lets_a_running_build_finish() {
    let BuildUnderWay {
        mut factory,
        path,
        client,
        _dir,
        _upstream,
        ..
    } = start_a_build();
    let status = factory.terminate(Duration::from_secs(60));
    assert!(status.success(), "{status}:\n{}", factory.log_text());
    let reply = client.join().unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The finished build was kept: after a restart it is served, not rebuilt.
    factory.restart();
    let again = curl(&[&factory.url(&path)]);
    assert!(again.body == reply.body);
    assert_eq!(factory.metric_sum("image_factory_builds_total"), 0.0);
}

#[test]
fn upstream_down_serves_cached_and_explains_uncached() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let factory = Factory::start_with(
        &upstream.addr,
        &dir.path().join("data"),
        &["--catalog-refresh", "1s"],
    );
    let id = factory.create_schematic(SCHEMATIC);
    let cached = factory.url(&format!("/image/{id}/{VERSION}/kernel-amd64"));
    let before = curl(&[&cached]);
    assert_eq!(before.status, 200);
    assert_eq!(curl(&[&factory.url("/readyz")]).status, 200);

    upstream.stop();

    // Cached: still served, same bytes.
    let after = curl(&[&cached]);
    assert_eq!(after.status, 200, "{}", after.text());
    assert!(after.body == before.body);
    // Uncached: 503 with a reason.
    let uncached = curl(&[&factory.url(&format!("/image/{id}/{VERSION}/kernel-arm64"))]);
    assert_eq!(uncached.status, 503, "{}", uncached.text());
    assert!(uncached.text().trim().len() > 10, "{}", uncached.text());
    // Schematics keep working.
    assert_eq!(factory.create_schematic("customization: {}\n").len(), 64);
    // Readiness says why once the refresh failed.
    assert!(
        wait_for(Duration::from_secs(20), || curl(&[&factory.url("/readyz")])
            .status
            == 503),
        "/readyz stayed ready:\n{}",
        factory.log_text()
    );
    let ready = curl(&[&factory.url("/readyz")]);
    assert!(ready.text().starts_with("not ready: "), "{}", ready.text());
}

#[test]
fn starts_without_upstream_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port.
    let port = free_port();
    let mut factory = Factory::start(&format!("127.0.0.1:{port}"), &dir.path().join("data"));
    assert_eq!(factory.create_schematic("customization: {}\n").len(), 64);
    assert!(wait_for(Duration::from_secs(20), || curl(&[
        &factory.url("/readyz")
    ])
    .status
        == 503));
    let status = factory.terminate(Duration::from_secs(20));
    assert!(status.success(), "{status}:\n{}", factory.log_text());
    let log = factory.log_text();
    assert!(log.contains("cannot refresh catalogs"), "{log}");
    assert!(log.contains("shut down"), "{log}");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}
