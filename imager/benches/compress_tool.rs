//! A small driver for `benches/compress.sh`, and a quick in-memory benchmark.
//!
//! - `compress_tool gen OUT MIB CORPUS`: writes a disk-image-like file of
//!   `MIB` MiB in 10 MiB stripes: half zero runs (free space, left as holes
//!   when the file is copied sparse), 30% pseudo-random bytes (already
//!   compressed content: squashfs, vmlinuz) and 20% taken from `CORPUS`
//!   (binaries and text). Deterministic for a given corpus.
//! - `compress_tool compress FORMAT IN OUT [THREADS [ZSTD_JOB_MIB]]`:
//!   `compress_file` with upstream's defaults (`xz`, `zst`, `gz`, `tar.gz`,
//!   `raw`); THREADS 0 = all CPUs.
//! - no arguments (what `cargo bench` runs): compresses 24 MiB of generated
//!   data in memory in every format and prints throughput and ratio.
//!
//! The comparison with the CLI tools, wall time and peak RSS is the shell
//! script's job; this binary stays a thin, measurable wrapper.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Instant;

use factory_core::image_path::OutFormat;
use factory_imager::compress::{CompressOptions, compress_file, encoder};

const MIB: usize = 1024 * 1024;

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    match strs.as_slice() {
        ["gen", out, mib, corpus] => generate(Path::new(out), mib.parse()?, Path::new(corpus)),
        ["compress", format, input, output, rest @ ..] => {
            let threads = rest.first().map_or(Ok(0), |t| t.parse())?;
            let zstd_job_size = match rest.get(1) {
                Some(mib) => Some(mib.parse::<u32>()? << 20),
                None => None,
            };
            let options = CompressOptions {
                threads,
                zstd_job_size,
                ..CompressOptions::default()
            };
            let started = Instant::now();
            let written = compress_file(
                parse_format(format)?,
                Path::new(input),
                Path::new(output),
                &options,
            )?;
            println!("{written} bytes in {:.2?}", started.elapsed());
            Ok(())
        }
        [] | ["--bench", ..] => quick_bench(),
        _ => {
            Err("usage: compress_tool gen OUT MIB CORPUS | compress FORMAT IN OUT [THREADS [ZSTD_JOB_MIB]]".into())
        }
    }
}

fn parse_format(name: &str) -> Res<OutFormat> {
    Ok(match name {
        "raw" => OutFormat::Raw,
        "xz" => OutFormat::Xz,
        "zst" => OutFormat::Zst,
        "gz" => OutFormat::Gz,
        "tar.gz" => OutFormat::TarGz,
        other => return Err(format!("unknown format {other:?}").into()),
    })
}

/// xorshift64: fast, deterministic filler for "already compressed" stripes.
struct Noise(u64);

impl Noise {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let bytes = self.0.to_le_bytes();
            let n = chunk.len();
            chunk.copy_from_slice(bytes.get(..n).unwrap_or(&bytes));
        }
    }
}

/// What each MiB of a 10 MiB stripe holds: Random, Corpus or Zeros.
const STRIPE: &[u8; 10] = b"RCZZRZCZRZ";

fn generate(out: &Path, mib: usize, corpus: &Path) -> Res<()> {
    let mut corpus = std::fs::read(corpus)?;
    if corpus.is_empty() {
        corpus.push(b'\n');
    }
    let mut file = BufWriter::new(File::create(out)?);
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut buf = vec![0u8; MIB];
    let mut at = 0usize;
    for (i, kind) in STRIPE.iter().cycle().take(mib).enumerate() {
        match kind {
            b'R' => noise.fill(&mut buf),
            b'C' => {
                for byte in buf.iter_mut() {
                    *byte = corpus.get(at % corpus.len()).copied().unwrap_or(0);
                    at += 1;
                }
            }
            _ => buf.fill(0),
        }
        file.write_all(&buf)?;
        if i % 50 == 49 {
            eprint!(".");
        }
    }
    file.flush()?;
    eprintln!();
    Ok(())
}

fn quick_bench() -> Res<()> {
    let mut noise = Noise(42);
    let mut data = vec![0u8; 24 * MIB];
    for (i, chunk) in data.chunks_mut(MIB).enumerate() {
        match STRIPE.get(i % STRIPE.len()) {
            Some(b'R') => noise.fill(chunk),
            Some(b'C') => {
                let text =
                    b"machine: install: disk: /dev/sda image: ghcr.io/siderolabs/installer\n";
                for (j, byte) in chunk.iter_mut().enumerate() {
                    *byte = text.get(j % text.len()).copied().unwrap_or(0);
                }
            }
            _ => {}
        }
    }
    for format in [
        OutFormat::Xz,
        OutFormat::Zst,
        OutFormat::Gz,
        OutFormat::TarGz,
    ] {
        let options = CompressOptions {
            input_size: Some(data.len() as u64),
            ..CompressOptions::default()
        };
        let started = Instant::now();
        let mut enc = encoder(format, Vec::new(), &options)?;
        let mut reader = &data[..];
        let mut buf = vec![0u8; MIB];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            enc.write_all(buf.get(..n).unwrap_or_default())?;
        }
        let out = enc.finish()?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<7} {:>7.1} MiB/s  ratio {:.3}",
            format.as_str(),
            data.len() as f64 / MIB as f64 / secs,
            out.len() as f64 / data.len() as f64
        );
    }
    Ok(())
}
