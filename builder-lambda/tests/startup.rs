//! A bad or missing setting stops the real binary at start, non-zero, with
//! a message naming the variable.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

fn start(env: &[(&str, &str)]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_builder-lambda"));
    command.env_clear().env("LOCAL_HTTP", "127.0.0.1:1");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_settings_stop_the_binary_naming_the_variable() {
    let (code, stderr) = start(&[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("IF_BUCKET is not set"), "{stderr}");

    let base = [
        ("IF_BUCKET", "b"),
        ("AWS_ACCESS_KEY_ID", "AK"),
        ("AWS_SECRET_ACCESS_KEY", "SK"),
        ("IF_EXTERNAL_URL", "https://factory.example.com"),
        ("IF_DISPATCH_SECRET", "0123456789abcdef0123456789abcdef"),
    ];
    let (code, stderr) = start(&base);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("set exactly one of IF_SIGNING_KEY and IF_SIGNING_KEY_SECRET_ID"),
        "{stderr}"
    );

    let mut with_key = base.to_vec();
    with_key.push((
        "IF_SIGNING_KEY",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ));
    let (code, stderr) = start(&with_key);
    assert_ne!(code, 0);
    assert!(stderr.contains("IF_SIGNING_KEY:"), "{stderr}");

    let mut bad_log = base.to_vec();
    bad_log.push(("IF_LOG", "[[["));
    let (code, stderr) = start(&bad_log);
    assert_ne!(code, 0);
    assert!(stderr.contains("IF_LOG"), "{stderr}");
}
