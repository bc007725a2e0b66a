//! The `image-factory` binary: parses the command line, sets up logging and
//! the tokio runtime, and hands over to the subcommand. Errors are printed
//! once, with their causes, and exit with status 1 (clap's own usage
//! errors exit with 2).

mod cli;
mod config;
// Wired to the server by `serve` once the storage platform is merged.
#[allow(dead_code)]
mod http;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command, SchematicCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Schematic {
            command: SchematicCommand::Id { file },
        } => cli::schematic::print_id(&file).map_err(report),
        Command::Build(args) => {
            runtime().and_then(|rt| rt.block_on(cli::build::run(*args)).map_err(report))
        }
        Command::Serve(_args) => Err(report(NotYet)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("serve is wired when the storage platform lands")]
struct NotYet;

/// The multi-threaded tokio runtime.
fn runtime() -> Result<tokio::runtime::Runtime, ()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| report(e))
}

/// Prints an error and its causes on stderr.
fn report(error: impl std::error::Error) {
    let mut text = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(&format!(": {line}"));
        }
        source = cause.source();
    }
    eprintln!("{text}");
}
