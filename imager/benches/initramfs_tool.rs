//! Our side of the initramfs benchmark (`benches/initramfs.sh`): builds the
//! initramfs with extensions from layer tarballs, as the builder does after
//! a pull (flatten each layer, load, build), so flattening is timed too.
//!
//! Usage: `initramfs_tool <base-initramfs> <out> <segment-cache|-> <layer.tar>...`
//! (`-`: no segment cache). Prints the summary on stderr.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use factory_imager::extension::{Extension, Limits, flatten_layers};
use factory_imager::initramfs::{InitramfsSettings, build_initramfs};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: initramfs_tool <base> <out> <segment-cache|-> <layer.tar>...");
        std::process::exit(2);
    }
    let base = PathBuf::from(&args[0]);
    let out = PathBuf::from(&args[1]);
    let work = tempfile::tempdir_in(out.parent().unwrap()).unwrap();
    let limits = Limits::default();
    let mut extensions = Vec::new();
    for (i, layer) in args[3..].iter().enumerate() {
        let layer = BufReader::new(File::open(layer).unwrap());
        let tree = flatten_layers([layer], &work.path().join(format!("ext-{i}")), &limits).unwrap();
        extensions.push(Extension::load(tree, &limits).unwrap());
    }
    let mut settings = InitramfsSettings::new("1.12.0".parse().unwrap());
    if args[2] != "-" {
        settings.segment_cache = Some(PathBuf::from(&args[2]));
    }
    let scratch = work.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut writer = BufWriter::new(File::create(&out).unwrap());
    let summary = build_initramfs(&base, extensions, &settings, &scratch, &mut writer).unwrap();
    writer.flush().unwrap();
    eprintln!("{summary:?}");
}
