//! The serverless deployment end to end: the real Worker in workerd, the
//! real builder in local mode, s3s-fs (SigV4 enforced) and the synthetic
//! release in Debian's docker-registry, with the standalone factory as the
//! reference for bytes. Needs: `edge/build.sh` run, `npm ci` in `edge/`,
//! `s3s-fs` 0.14.1 (cargo), and the Debian packages docker-registry, skopeo,
//! curl, jq and openssl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::process::Command;
use std::time::{Duration, Instant};

use factory_serverless_tests::{
    DISPATCH_SECRET, Deployment, Standalone, Worker, WorkerSettings, create_schematic, curl,
};
use factory_test_support::{run, tool};
use sha2::{Digest as _, Sha256};

const VERSION: &str = "v1.12.4";
const SCHEMATIC: &str = "customization:\n  extraKernelArgs:\n    - console=ttyS0\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n";
/// Short enough to watch a URL expire, long enough for a client to follow it.
const PRESIGN_TTL: u64 = 10;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn serverless_matches_the_standalone_and_builds_once() {
    let (d, public_pem) = Deployment::start(true, PRESIGN_TTL);
    let standalone = Standalone::start(d.dir.path(), &d.registry.addr, &d.worker.url("/"));
    let w = &d.worker;

    // Not ready until a catalog exists; /readyz itself never asks the builder.
    let refreshes = d.builder.invocations("refreshCatalogs");
    assert_eq!(curl(&[&w.url("/readyz")]).status, 503);
    assert_eq!(d.builder.invocations("refreshCatalogs"), refreshes);

    // Schematics: same ID on both.
    let id = create_schematic(&w.base, SCHEMATIC);
    assert_eq!(id, create_schematic(&standalone.base, SCHEMATIC));

    // iPXE script: the same text up to the base URL.
    let pxe = format!("/pxe/{id}/{VERSION}/metal-amd64");
    let edge_script = curl(&[&w.url(&pxe)]);
    assert_eq!(
        edge_script.status,
        200,
        "{}\n{}",
        edge_script.text(),
        w.log_text()
    );
    let reference = curl(&[&standalone.url(&pxe)]);
    assert_eq!(
        edge_script.text().replace(&w.pxe_base, "BASE"),
        reference.text().replace(&w.base, "BASE")
    );

    // One list of requests, the same statuses and bodies from both.
    same_answers(w, &standalone, &id);

    // Kernel and initramfs: 302 to a presigned URL; the bytes equal the standalone's.
    for asset in ["kernel-amd64", "initramfs-amd64.xz"] {
        let path = format!("/image/{id}/{VERSION}/{asset}");
        let redirect = curl(&[&w.url(&path)]);
        assert_eq!(
            redirect.status,
            302,
            "{}\n{}",
            redirect.text(),
            d.builder.log_text()
        );
        let location = redirect.header("location").unwrap().to_owned();
        assert!(location.contains("X-Amz-Signature="), "{location}");
        let fetched = curl(&[&location]);
        assert_eq!(fetched.status, 200, "{}", fetched.text());
        let expected = curl(&[&standalone.url(&path)]);
        assert_eq!(expected.status, 200);
        if fetched.body != expected.body {
            let keep = std::env::temp_dir().join("edge-e2e-mismatch");
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::write(keep.join(format!("edge-{asset}")), &fetched.body).unwrap();
            std::fs::write(keep.join(format!("standalone-{asset}")), &expected.body).unwrap();
            panic!(
                "{asset} differs from the standalone's (both kept in {})",
                keep.display()
            );
        }
        assert!(
            fetched
                .header("content-disposition")
                .is_some_and(|v| v.contains(asset)),
            "{:?}",
            fetched.headers
        );
        // HEAD from the record.
        let head = curl(&["-I", &w.url(&path)]);
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("content-length"),
            Some(expected.body.len().to_string().as_str())
        );
        // On the PXE host: no redirect, the bytes themselves; ranges pass through.
        let pxe_host = curl(&[&format!("{}{path}", w.pxe_base)]);
        assert_eq!(pxe_host.status, 200, "{}", pxe_host.text());
        assert_eq!(sha256(&pxe_host.body), sha256(&expected.body));
        let part = curl(&["-r", "100-199", &format!("{}{path}", w.pxe_base)]);
        assert_eq!(part.status, 206);
        assert_eq!(part.body, expected.body[100..200]);
    }

    // Presigned URLs expire.
    let path = format!("/image/{id}/{VERSION}/kernel-amd64");
    let location = curl(&[&w.url(&path)])
        .header("location")
        .unwrap()
        .to_owned();
    assert_eq!(curl(&[&location]).status, 200);
    std::thread::sleep(Duration::from_secs(PRESIGN_TTL + 2));
    let expired = curl(&[&location]);
    assert_eq!(expired.status, 403, "{}", expired.text());

    // 20 concurrent misses for one new asset: one builder invocation.
    let other = create_schematic(
        &w.base,
        "customization:\n  extraKernelArgs:\n    - console=ttyS1\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n",
    );
    let before = d.builder.invocations("asset");
    let url = w.url(&format!("/image/{other}/{VERSION}/initramfs-amd64.xz"));
    let clients: Vec<_> = (0..20)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || curl(&[&url]).status)
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 302), "{statuses:?}");
    assert_eq!(d.builder.invocations("asset") - before, 1);

    // The installer through the Worker with skopeo; first pull timed.
    tool("skopeo", "skopeo");
    let host = w.base.trim_start_matches("http://");
    let image = format!("docker://{host}/installer/{id}:{VERSION}");
    let out = d.dir.path().join("installer-oci");
    let started = Instant::now();
    run(Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", "--all", &image])
        .arg(format!("oci:{}:installer", out.display())));
    let first_pull = started.elapsed();

    // Its cosign signature verifies with openssl against the served key.
    let index = curl(&[
        "-H",
        "Accept: application/vnd.oci.image.index.v1+json",
        &w.url(&format!("/v2/installer/{id}/manifests/{VERSION}")),
    ]);
    assert_eq!(index.status, 200, "{}", index.text());
    let digest = index.header("docker-content-digest").unwrap().to_owned();
    assert_eq!(format!("sha256:{}", sha256(&index.body)), digest);
    let sig_tag = digest.replace(':', "-") + ".sig";
    let sig = curl(&[
        "-H",
        "Accept: application/vnd.oci.image.manifest.v1+json",
        &w.url(&format!("/v2/installer/{id}/manifests/{sig_tag}")),
    ]);
    assert_eq!(sig.status, 200, "{}", sig.text());
    let sig: serde_json::Value = serde_json::from_slice(&sig.body).unwrap();
    let layer = &sig["layers"][0];
    let payload = curl(&[
        "-L",
        &w.url(&format!(
            "/v2/installer/{id}/blobs/{}",
            layer["digest"].as_str().unwrap()
        )),
    ]);
    assert_eq!(payload.status, 200);
    let served_key = curl(&[&w.url("/oci/cosign/signing-key.pub")]);
    assert_eq!(served_key.status, 200);
    let files = d.dir.path();
    std::fs::write(files.join("payload.json"), &payload.body).unwrap();
    std::fs::write(files.join("served.pub"), &served_key.body).unwrap();
    std::fs::write(
        files.join("sig.b64"),
        layer["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let sig_der = files.join("sig.der");
    let decoded = Command::new("base64")
        .arg("-d")
        .arg(files.join("sig.b64"))
        .output()
        .unwrap();
    std::fs::write(&sig_der, decoded.stdout).unwrap();
    let verified = run(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(files.join("served.pub"))
        .arg("-signature")
        .arg(&sig_der)
        .arg(files.join("payload.json")));
    assert!(verified.contains("Verified OK"), "{verified}");
    assert_eq!(served_key.text().trim(), public_pem.trim());

    // The cron trigger refreshes catalogs through the builder.
    let refreshes = d.builder.invocations("refreshCatalogs");
    let scheduled = curl(&[&w.url("/__scheduled?cron=*/30+*+*+*+*")]);
    assert_eq!(scheduled.status, 200, "{}", scheduled.text());
    assert_eq!(d.builder.invocations("refreshCatalogs"), refreshes + 1);
    assert_eq!(curl(&[&w.url("/readyz")]).status, 200);

    eprintln!(
        "FIGURES: first installer pull through the Worker (both arches, build included): {:.1} s",
        first_pull.as_secs_f64()
    );
}

#[test]
fn answers_the_builder_signed_with_another_key_are_refused() {
    let (d, _) = Deployment::start(false, 60);
    let w = &d.worker;
    let id = create_schematic(&w.base, SCHEMATIC);
    let r = curl(&[&w.url(&format!("/image/{id}/{VERSION}/kernel-amd64"))]);
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("builder answer refused"), "{}", r.text());
    // Nothing was stored: asking again asks the builder again.
    let before = d.builder.invocations("asset");
    let again = curl(&[&w.url(&format!("/image/{id}/{VERSION}/kernel-amd64"))]);
    assert_eq!(again.status, 502);
    assert_eq!(d.builder.invocations("asset"), before + 1);
}

#[test]
fn a_failed_build_is_answered_again_without_the_builder() {
    let (d, _) = Deployment::start(true, 60);
    let w = &d.worker;
    let id = create_schematic(&w.base, SCHEMATIC);
    // Every layer upstream (the only blobs over 4 KiB) now has other bytes
    // of the same length: pulls fail their digest check, builds fail.
    let mut damaged = 0;
    let blobs = d.registry.storage().join("docker/registry/v2/blobs");
    for entry in walk(&blobs) {
        let len = std::fs::metadata(&entry).unwrap().len();
        if entry.ends_with("data") && len > 4096 {
            std::fs::write(&entry, vec![0u8; usize::try_from(len).unwrap()]).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged > 0, "no layers under {}", blobs.display());
    let path = w.url(&format!("/image/{id}/{VERSION}/kernel-amd64"));
    let before = d.builder.invocations("asset");
    let failed = curl(&[&path]);
    assert_eq!(failed.status, 500, "{}", failed.text());
    assert_eq!(d.builder.invocations("asset"), before + 1);
    // The same answer, without another hopeless build.
    for _ in 0..3 {
        let again = curl(&[&path]);
        assert_eq!((again.status, again.text()), (500, failed.text()));
    }
    assert_eq!(d.builder.invocations("asset"), before + 1);
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_missing_setting_is_a_503_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let worker = Worker::start(
        dir.path(),
        Worker::reserve_port(),
        &WorkerSettings {
            public_key_pem: String::new(),
            builder_url: "http://127.0.0.1:9".into(),
            s3_endpoint: "http://127.0.0.1:9".into(),
            dispatch_secret: DISPATCH_SECRET.into(),
            presign_ttl: 60,
        },
    );
    for path in ["/healthz", "/versions", "/schematics"] {
        let r = curl(&[&worker.url(path)]);
        assert_eq!(r.status, 503, "{path}: {}", r.text());
        assert_eq!(
            r.text(),
            "the image factory is not configured: COSIGN_PUBLIC_KEY is not set\n"
        );
    }
}

/// Requests that need no build: both deployments must give the same status
/// and body (base URLs aside).
fn same_answers(w: &Worker, standalone: &Standalone, id: &str) {
    let unknown = "0".repeat(64);
    let paths = [
        "/versions".to_owned(),
        format!("/version/{VERSION}/extensions/official"),
        format!("/version/{VERSION}/overlays/official"),
        format!("/schematics/{id}"),
        format!("/schematics/{unknown}"),
        format!("/image/{unknown}/{VERSION}/kernel-amd64"),
        format!("/image/{id}/v1.12/kernel-amd64"),
        format!("/image/{id}/v9.9.9/kernel-amd64"),
        format!("/image/{id}/{VERSION}/nonsense.bin"),
        format!("/image/{id}/{VERSION}/cmdline-metal-amd64"),
        format!("/pxe/{id}/{VERSION}/metal-arm64"),
        "/v2/".to_owned(),
        format!("/v2/installer/{id}/manifests/sha256:{unknown}"),
        format!("/v2/installer/{unknown}/manifests/{VERSION}"),
        "/nope".to_owned(),
        "/versions/".to_owned(),
    ];
    for path in paths {
        let edge = curl(&[&w.url(&path)]);
        let reference = curl(&[&standalone.url(&path)]);
        assert_eq!(edge.status, reference.status, "{path}: {}", edge.text());
        assert_eq!(
            edge.text().replace(&w.pxe_base, "BASE"),
            reference.text().replace(&w.base, "BASE"),
            "{path}"
        );
    }
    let post = |base: &str| {
        curl(&[
            "-X",
            "POST",
            "--data-binary",
            "customization:\n  bogus: 1\n",
            &format!("{base}/schematics"),
        ])
    };
    let (edge, reference) = (post(&w.base), post(&standalone.base));
    assert_eq!(
        (edge.status, edge.text()),
        (reference.status, reference.text())
    );
}
