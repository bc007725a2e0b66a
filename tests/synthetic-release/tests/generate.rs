//! The generator end to end with stand-in Debian inputs: deterministic,
//! cached, careful with foreign directories.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::fs;

use synthetic_release::{Config, Error, SUMMARY_FILE, generate};

fn config(inputs: &std::path::Path, out: std::path::PathBuf) -> Config {
    Config {
        inputs: inputs.to_owned(),
        out,
        versions: vec!["v1.12.4".to_owned(), "v1.7.7".to_owned()],
        force: false,
    }
}

#[test]
fn generation_is_deterministic_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    common::stand_in_inputs(&dir.path().join("debian"));
    let inputs = dir.path().join("debian");

    let first = generate(&config(&inputs, dir.path().join("a"))).unwrap();
    let second = generate(&config(&inputs, dir.path().join("b"))).unwrap();
    assert!(!first.reused && !second.reused);
    let index_a = fs::read(dir.path().join("a/index.json")).unwrap();
    let index_b = fs::read(dir.path().join("b/index.json")).unwrap();
    assert_eq!(index_a, index_b, "index.json differs between two runs");
    assert_eq!(first.summary, second.summary);
    assert_eq!(first.summary.versions, ["v1.7.7", "v1.12.4"]);

    // Every blob is byte-identical too.
    let list = |d: &str| {
        let mut names: Vec<_> = fs::read_dir(dir.path().join(d).join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    assert_eq!(list("a"), list("b"));

    // Same inputs again: kept as is.
    let again = generate(&config(&inputs, dir.path().join("a"))).unwrap();
    assert!(again.reused);
    // Forced: regenerated, same bytes.
    let mut forced = config(&inputs, dir.path().join("a"));
    forced.force = true;
    assert!(!generate(&forced).unwrap().reused);
    assert_eq!(fs::read(dir.path().join("a/index.json")).unwrap(), index_a);
    assert!(!dir.path().join("a.partial").exists());

    // Different inputs: a new fingerprint, regenerated.
    let kernel = inputs.join(format!("root/boot/vmlinuz-{}", common::RELEASE));
    fs::write(kernel, b"another kernel\n").unwrap();
    let changed = generate(&config(&inputs, dir.path().join("a"))).unwrap();
    assert!(!changed.reused);
    assert_ne!(changed.summary.fingerprint, first.summary.fingerprint);
}

#[test]
fn foreign_directories_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    common::stand_in_inputs(&dir.path().join("debian"));
    let out = dir.path().join("precious");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("notes.txt"), "keep me").unwrap();
    let err = generate(&config(&dir.path().join("debian"), out.clone())).unwrap_err();
    assert!(matches!(err, Error::ForeignOutput { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(!out.join(SUMMARY_FILE).exists());
}

#[test]
fn missing_inputs_and_unknown_versions_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let err = generate(&config(dir.path(), dir.path().join("out"))).unwrap_err();
    assert!(matches!(err, Error::MissingInput { .. }));
    assert!(err.to_string().contains("fetch-debian-inputs.sh"), "{err}");

    common::stand_in_inputs(&dir.path().join("debian"));
    let mut bad = config(&dir.path().join("debian"), dir.path().join("out"));
    bad.versions = vec!["v1.8.0".to_owned()];
    let err = generate(&bad).unwrap_err();
    assert!(matches!(err, Error::UnknownVersion { .. }), "{err}");
}
