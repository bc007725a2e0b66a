//! `synthetic-release`: writes the synthetic Talos release as an OCI layout.
//!
//! ```text
//! synthetic-release --inputs CACHE_DIR --out LAYOUT_DIR [--versions v1.12.4,v1.7.7] [--force]
//! ```
//!
//! `CACHE_DIR` is what `tests/scripts/fetch-debian-inputs.sh` filled. Prints
//! one `<reference> <digest>` line per tagged image. Argument parsing is by
//! hand: four flags do not justify a parser dependency.

use std::path::PathBuf;
use std::process::ExitCode;

use synthetic_release::{Config, generate};

const USAGE: &str = "usage: synthetic-release --inputs CACHE_DIR --out LAYOUT_DIR \
[--versions v1.12.4,...] [--force]";

/// A command line that cannot be run.
#[derive(Debug, thiserror::Error)]
enum UsageError {
    #[error("{flag} needs a value")]
    MissingValue { flag: String },
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("--inputs and --out are required")]
    MissingRequired,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, UsageError> {
    let mut inputs = None;
    let mut out = None;
    let mut versions = Vec::new();
    let mut force = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next().ok_or_else(|| UsageError::MissingValue {
                flag: flag.to_owned(),
            })
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--inputs" => inputs = Some(PathBuf::from(value("--inputs")?)),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--versions" => versions.extend(
                value("--versions")?
                    .split(',')
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
            ),
            "--force" => force = true,
            _ => return Err(UsageError::Unknown(arg)),
        }
    }
    match (inputs, out) {
        (Some(inputs), Some(out)) => Ok(Some(Config {
            inputs,
            out,
            versions,
            force,
        })),
        _ => Err(UsageError::MissingRequired),
    }
}

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("synthetic-release: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match generate(&config) {
        Ok(outcome) => {
            let state = if outcome.reused {
                "up to date"
            } else {
                "generated"
            };
            eprintln!(
                "synthetic-release: {} {state} (kernel {}, {} images)",
                config.out.display(),
                outcome.summary.kernel_release,
                outcome.summary.images.len()
            );
            for image in &outcome.summary.images {
                println!("{} {}", image.reference, image.digest);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("synthetic-release: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_flags() {
        let config = parse(args(&[
            "--inputs",
            "i",
            "--out",
            "o",
            "--versions",
            "v1.7.7,v1.12.4",
            "--force",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(config.versions, ["v1.7.7", "v1.12.4"]);
        assert!(config.force);
        assert!(parse(args(&["--out", "o"])).is_err());
        assert!(parse(args(&["--inputs"])).is_err());
        assert!(parse(args(&["--bogus"])).is_err());
        assert!(parse(args(&["--help"])).unwrap().is_none());
    }
}
