//! Configuration precedence with the real binary: flags over `IF_*`
//! environment over the config file, observed by where it listens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod serve_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::curl;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve` with `args` and `env`, returns the port among
/// `candidates` that answers `/healthz`, then stops it.
fn listening_port(args: &[String], env: &[(&str, String)], candidates: &[u16]) -> u16 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_image-factory"))
        .arg("serve")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        if let Some(port) = candidates
            .iter()
            .find(|p| curl(&[&format!("http://127.0.0.1:{p}/healthz")]).status == 200)
        {
            break Some(*port);
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    found.expect("serve did not answer on any candidate port")
}

#[test]
fn flags_beat_environment_beat_file() {
    let dir = tempfile::tempdir().unwrap();
    let (file_port, env_port, flag_port) = (free_port(), free_port(), free_port());
    let candidates = [file_port, env_port, flag_port];
    let config = dir.path().join("factory.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{file_port}\nmetrics-listen: 127.0.0.1:{}\ndata-dir: {}\n\
             upstream-registry: 127.0.0.1:1\nupstream-insecure: true\n",
            free_port(),
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let file_arg = vec!["--config".to_owned(), config.display().to_string()];
    assert_eq!(listening_port(&file_arg, &[], &candidates), file_port);
    let env = [("IF_LISTEN", format!("127.0.0.1:{env_port}"))];
    assert_eq!(listening_port(&file_arg, &env, &candidates), env_port);
    let mut flags = file_arg.clone();
    flags.extend(["--listen".to_owned(), format!("127.0.0.1:{flag_port}")]);
    assert_eq!(listening_port(&flags, &env, &candidates), flag_port);
    // The config file can also come from the environment.
    assert_eq!(
        listening_port(
            &[],
            &[("IF_CONFIG", config.display().to_string())],
            &candidates
        ),
        file_port
    );
}

#[test]
fn bad_config_fails_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("factory.toml");
    std::fs::write(&config, "build-timeout = \"forever\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_image-factory"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("build-timeout"), "{stderr}");
}
