//! The command line: `serve`, `schematic id`, `build`, `mirror`. Each
//! subcommand lives in its own module; this one only declares the grammar.

pub(crate) mod build;
pub(crate) mod mirror;
pub(crate) mod schematic;
pub(crate) mod serve;
pub(crate) mod upstream;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The Talos Linux Image Factory in one binary: HTTP, PXE and OCI registry
/// frontends over embedded storage, with in-process builds.
#[derive(Debug, Parser)]
#[command(name = "image-factory", version, about, long_about = None)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the factory (HTTP API, PXE, OCI registry, /metrics on a second port).
    Serve(Box<crate::config::ServeArgs>),
    /// Schematic tools.
    Schematic {
        /// What to do with a schematic.
        #[command(subcommand)]
        command: SchematicCommand,
    },
    /// Build one asset without a server (e.g. `build s.yaml v1.12.4 kernel-amd64 -o vmlinuz`).
    Build(Box<build::BuildArgs>),
    /// Copy Talos releases with their extensions and overlays into an OCI layout or a registry.
    Mirror(Box<mirror::MirrorArgs>),
}

/// `image-factory schematic ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum SchematicCommand {
    /// Print the ID the factory gives a schematic file (`-` for stdin), offline.
    Id {
        /// The schematic (YAML or JSON).
        file: PathBuf,
    },
}
