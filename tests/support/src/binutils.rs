//! PE files as GNU binutils (package `binutils`) read them: the section
//! table per `objdump -h` and one section's bytes per `objcopy`, so tests
//! check what we write against an independent reader. binutils reads
//! x86-64 PE only.

use std::path::Path;
use std::process::Command;

use crate::command::{run, run_bytes, tool};

/// One row of `objdump -h` (sizes and offsets are hex in its output).
#[derive(Debug, Clone)]
pub struct SectionRow {
    /// The section name, e.g. `.linux`.
    pub name: String,
    /// The section's size.
    pub size: u64,
    /// Its virtual address (image base included).
    pub vma: u64,
    /// Its offset in the file.
    pub file_off: u64,
}

/// The section table of `path` per `objdump -h`, in file order.
pub fn objdump_sections(path: &Path) -> Vec<SectionRow> {
    let text = run(Command::new(tool("objdump", "binutils"))
        .arg("-h")
        .arg(path));
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                [index, name, size, vma, _lma, file_off, _align]
                    if index.parse::<u32>().is_ok() =>
                {
                    Some(SectionRow {
                        name: (*name).to_owned(),
                        size: u64::from_str_radix(size, 16).unwrap(),
                        vma: u64::from_str_radix(vma, 16).unwrap(),
                        file_off: u64::from_str_radix(file_off, 16).unwrap(),
                    })
                }
                _ => None,
            }
        })
        .collect()
}

/// The (first) section `name` of `path` as `objcopy -O binary
/// --only-section` extracts it, through a file in `dir`.
pub fn objcopy_section(path: &Path, name: &str, dir: &Path) -> Vec<u8> {
    let out = dir.join(format!("section{name}"));
    run_bytes(
        Command::new(tool("objcopy", "binutils"))
            .args(["-O", "binary"])
            .arg(format!("--only-section={name}"))
            .arg(path)
            .arg(&out),
    );
    std::fs::read(out).unwrap()
}
