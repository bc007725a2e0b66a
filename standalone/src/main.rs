//! The `image-factory` binary: parses the command line and hands over to
//! the subcommand (`cli/`), on a multi-threaded tokio runtime where it
//! needs one. Errors are printed once, with their causes, and exit with
//! status 1 (clap's own usage errors exit with 2).

mod cli;
mod config;
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
        Command::Build(args) => on_runtime(cli::build::run(*args)),
        Command::Serve(args) => on_runtime(cli::serve::run(*args)),
        Command::Mirror(args) => on_runtime(cli::mirror::run(*args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

/// Runs `job` on a multi-threaded tokio runtime, reporting its error.
fn on_runtime<E: std::error::Error>(
    job: impl std::future::Future<Output = Result<(), E>>,
) -> Result<(), ()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(report)?;
    runtime.block_on(job).map_err(report)
}

/// Prints an error and its causes on stderr, skipping causes whose text
/// the message already contains.
fn report(error: impl std::error::Error) {
    let mut text = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    eprintln!("{text}");
}
