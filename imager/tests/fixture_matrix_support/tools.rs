//! Running the real tools the matrix checks with: each one is looked up
//! first, and a missing tool fails the test naming its Debian package
//! (tests install nothing and never skip). The lookup and the runners are
//! `factory_test_support`'s, under the names the matrix uses.

use std::path::Path;
use std::process::Command;

pub use factory_test_support::{run_bytes as run, run_with_input, tool as require_tool};

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
