//! Running the real tools the matrix checks with: each one is looked up
//! first, and a missing tool fails the test naming its Debian package
//! (tests install nothing and never skip).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The path of `tool`, or a failure naming the Debian package to install.
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{tool}` is required by this test: install the Debian package `{package}`")
        })
}

/// Runs a command, asserting success; returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a command with `input` on stdin, asserting success; returns stdout.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `cpio -itv` of an uncompressed newc archive: one line per entry.
pub fn cpio_list(archive: &[u8]) -> Vec<String> {
    let cpio = require_tool("cpio", "cpio");
    let out = run_with_input(Command::new(cpio).args(["-itv", "--quiet"]), archive);
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Extracts an uncompressed newc archive into `dir` with `cpio -id`.
pub fn cpio_extract(archive: &[u8], dir: &Path) {
    let cpio = require_tool("cpio", "cpio");
    std::fs::create_dir_all(dir).unwrap();
    run_with_input(
        Command::new(cpio)
            .args(["-id", "--quiet", "--no-absolute-filenames"])
            .current_dir(dir),
        archive,
    );
}
