//! `image-factory build SCHEMATIC VERSION PATH -o FILE`: one asset, built
//! without a server, exactly as the server would build it.
//!
//! The steps are the server's: parse the schematic (the factory's rules),
//! read the release catalog from upstream, turn `PATH` (`kernel-amd64`,
//! `metal-amd64.iso`, ...) into a build profile with core's path grammar
//! and profile rules, then `factory_imager::build::build`. The defaults
//! (external URL included, which is named inside the initramfs) equal
//! `serve`'s, so the bytes equal what a default server would serve.
//!
//! The builder reports no byte progress, so a terminal gets a spinner
//! naming the current step; a pipe or file gets nothing but the result.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use factory_core::image_path::{self, PathError};
use factory_core::profile::{ProfileContext, ProfileError, build_profile};
use factory_core::version::{InvalidVersion, TalosVersion};
use factory_imager::build::{BuildContext, BuildError, build};
use factory_imager::catalog::{self, CatalogError};
use factory_imager::pull::PullError;
use indicatif::{ProgressBar, ProgressStyle};

use super::schematic::{SchematicFileError, read_schematic};
use super::upstream::UpstreamArgs;

/// Arguments of `image-factory build`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BuildArgs {
    /// Schematic file (YAML or JSON; `-` for stdin).
    pub(crate) schematic: PathBuf,
    /// Talos version, e.g. v1.12.4.
    pub(crate) version: String,
    /// Asset, as in `/image/<id>/<version>/PATH`: kernel-amd64, initramfs-amd64.xz, ...
    pub(crate) path: String,
    /// Where to write the asset.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// Where upstream content comes from.
    #[command(flatten)]
    pub(crate) upstream: UpstreamArgs,
    /// Factory URL recorded in the schematic extension (as `serve --external-url`).
    #[arg(
        long,
        env = "IF_EXTERNAL_URL",
        default_value = "http://127.0.0.1:8080/"
    )]
    pub(crate) external_url: String,
}

/// A one-shot build failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OneShotError {
    /// The schematic file.
    #[error(transparent)]
    Schematic(#[from] SchematicFileError),
    /// The version argument.
    #[error(transparent)]
    Version(#[from] InvalidVersion),
    /// The asset path.
    #[error("asset path {path:?}: {source}")]
    Path {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: PathError,
    },
    /// The upstream registry client.
    #[error("opening upstream: {0}")]
    Upstream(#[from] PullError),
    /// The release catalog.
    #[error("reading the catalog of {version}: {source}")]
    Catalog {
        /// The version.
        version: TalosVersion,
        /// Why.
        #[source]
        source: CatalogError,
    },
    /// The schematic and path cannot be built for this version.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The build.
    #[error("building {path}: {source}")]
    Build {
        /// The asset path.
        path: String,
        /// Why.
        #[source]
        source: BuildError,
    },
}

/// Runs the build and reports the result on stderr.
pub(crate) async fn run(args: BuildArgs) -> Result<(), OneShotError> {
    let spinner = spinner();
    let schematic = read_schematic(&args.schematic)?;
    let id = schematic.id();
    let version: TalosVersion = args.version.parse()?;
    let output = image_path::parse(&args.path).map_err(|source| OneShotError::Path {
        path: args.path.clone(),
        source,
    })?;
    let puller = args.upstream.puller()?;

    spinner.set_message(format!("reading the {version} catalog"));
    let release = catalog::release(&puller, &version)
        .await
        .map_err(|source| OneShotError::Catalog {
            version: version.clone(),
            source,
        })?;
    let context = ProfileContext {
        version: &version,
        catalog: &release,
        secureboot_enabled: false,
    };
    let profile = build_profile(output, &schematic, id.as_str(), &context)?;

    spinner.set_message(format!("building {}", args.path));
    let work_root = work_root(&args.output);
    let ctx = BuildContext {
        puller: &puller,
        external_url: &args.external_url,
        work_root: &work_root,
    };
    let built = build(&ctx, &profile, &schematic, &args.output)
        .await
        .map_err(|source| OneShotError::Build {
            path: args.path.clone(),
            source,
        })?;
    spinner.finish_and_clear();
    eprintln!(
        "{}: {} bytes, sha256 {}",
        built.path.display(),
        built.size,
        built.sha256
    );
    Ok(())
}

/// Intermediates go next to the output, so the final rename stays on one
/// file system.
fn work_root(output: &Path) -> PathBuf {
    match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// A spinner on stderr; indicatif draws nothing when stderr is not a terminal.
fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message("reading the schematic");
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
