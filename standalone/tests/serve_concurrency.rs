//! 50 simultaneous requests for one missing asset: exactly one build (on
//! the `/metrics` counter) and 50 identical bodies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod serve_support;

use serve_support::{Factory, SCHEMATIC, Upstream, VERSION, curl};

#[test]
fn fifty_requests_one_build() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let factory = Factory::start(&upstream.addr, &dir.path().join("data"));
    let id = factory.create_schematic(SCHEMATIC);
    let url = factory.url(&format!("/image/{id}/{VERSION}/initramfs-amd64.xz"));
    assert_eq!(factory.metric_sum("image_factory_builds_total"), 0.0);

    let replies: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50).map(|_| s.spawn(|| curl(&[&url]))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &replies {
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let first = &replies[0].body;
    assert!(first.len() > 1000);
    assert!(replies.iter().all(|r| &r.body == first), "bodies differ");
    assert_eq!(
        factory.metric_sum("image_factory_builds_total"),
        1.0,
        "{}",
        factory.log_text()
    );
    // A later request is a cache hit, not a build.
    assert_eq!(&curl(&[&url]).body, first);
    assert_eq!(factory.metric_sum("image_factory_builds_total"), 1.0);
}
