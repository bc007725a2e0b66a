//! `image-factory mirror VERSION... --to DIR|REGISTRY`: copies Talos
//! releases, with every extension and overlay their catalogs pin, from the
//! upstream into an OCI layout directory or another registry, for
//! air-gapped factories (`serve --upstream-layout DIR`, or
//! `serve --upstream-registry HOST --upstream-namespace PREFIX`).
//!
//! The copying is `factory_imager::mirror`; this module parses the target,
//! shows progress (a spinner with counts on a terminal, nothing otherwise)
//! and prints the summary. Runs are resumable: re-running copies only what
//! is missing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Args};
use factory_core::version::{InvalidVersion, TalosVersion};
use factory_imager::mirror::{MirrorError, MirrorEvent, MirrorTarget, mirror_release};
use factory_imager::pull::PullError;
use indicatif::{ProgressBar, ProgressStyle};

use super::upstream::UpstreamArgs;

/// Arguments of `image-factory mirror`.
#[derive(Debug, Clone, Args)]
pub(crate) struct MirrorArgs {
    /// Talos versions to copy, e.g. v1.12.4 v1.11.5.
    #[arg(required = true, value_name = "VERSION")]
    pub(crate) versions: Vec<String>,
    /// Target: a directory (a path with `/`, or an existing directory) becomes an OCI layout;
    /// otherwise HOST[:PORT][/NAMESPACE] of a registry.
    #[arg(long, value_name = "DIR|REGISTRY")]
    pub(crate) to: String,
    /// Push to the target registry over plain HTTP.
    #[arg(long, num_args = 0..=1, default_value = "false", default_missing_value = "true",
          action = ArgAction::Set, value_name = "BOOL")]
    pub(crate) to_insecure: bool,
    /// Where the releases come from.
    #[command(flatten)]
    pub(crate) upstream: UpstreamArgs,
}

/// A mirror run failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MirrorCommandError {
    /// A version argument.
    #[error(transparent)]
    Version(#[from] InvalidVersion),
    /// The upstream could not be opened.
    #[error("opening upstream: {0}")]
    Upstream(#[from] PullError),
    /// Copying failed (what was copied stays; re-run to resume).
    #[error("mirroring (re-run to resume): {0}")]
    Mirror(#[from] MirrorError),
}

/// Where `--to` points.
fn target(to: &str, insecure: bool) -> MirrorTarget {
    let path = Path::new(to);
    let looks_like_path = to.starts_with('/')
        || to.starts_with("./")
        || to.starts_with("../")
        || to == "."
        || path.is_dir();
    let host = to.split('/').next().unwrap_or_default();
    let looks_like_host = host.contains('.') || host.contains(':') || host == "localhost";
    if looks_like_path || !looks_like_host {
        return MirrorTarget::Layout(PathBuf::from(to));
    }
    let namespace = to
        .get(host.len()..)
        .unwrap_or_default()
        .trim_matches('/')
        .to_owned();
    MirrorTarget::Registry {
        host: host.to_owned(),
        namespace,
        insecure,
    }
}

/// Runs the mirror and prints what it did on stderr.
pub(crate) async fn run(args: MirrorArgs) -> Result<(), MirrorCommandError> {
    let versions = args
        .versions
        .iter()
        .map(|v| v.parse::<TalosVersion>())
        .collect::<Result<Vec<_>, _>>()?;
    let source = args.upstream.puller()?;
    let target = target(&args.to, args.to_insecure);
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut progress = Progress::default();
    let report = mirror_release(&source, &versions, target.clone(), |event| {
        progress.see(&event);
        bar.set_message(progress.line());
    })
    .await?;
    bar.finish_and_clear();
    let to = match &target {
        MirrorTarget::Layout(dir) => format!("layout {}", dir.display()),
        MirrorTarget::Registry {
            host, namespace, ..
        } => format!("registry {host}/{namespace}"),
    };
    eprintln!(
        "mirrored {} release(s) into {to}: {} images, {} signatures; {} blobs copied ({} bytes), \
         {} already present; {} tags written, {} unchanged",
        report.versions,
        report.images,
        report.signatures,
        report.blobs_copied,
        report.bytes_copied,
        report.blobs_present,
        report.tags_written,
        report.tags_unchanged
    );
    Ok(())
}

/// Counts for the progress line.
#[derive(Debug, Default)]
struct Progress {
    version: String,
    images: usize,
    image: usize,
    repository: String,
    bytes: u64,
}

impl Progress {
    fn see(&mut self, event: &MirrorEvent) {
        match event {
            MirrorEvent::Version { version, images } => {
                self.version = version.to_string();
                self.images = *images;
                self.image = 0;
            }
            MirrorEvent::Image { repository, .. } => {
                self.image += 1;
                self.repository.clone_from(repository);
            }
            MirrorEvent::Blob {
                size, copied: true, ..
            } => self.bytes += size,
            MirrorEvent::Skipped {
                repository,
                reference,
                reason,
            } => tracing::info!("skipped {repository}:{reference}: {reason}"),
            // Tags and events added later move no counter.
            _ => {}
        }
    }

    fn line(&self) -> String {
        format!(
            "{}: image {}/{} {}, {} MB copied",
            self.version,
            self.image,
            self.images,
            self.repository,
            self.bytes / 1_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            target("/srv/mirror", false),
            MirrorTarget::Layout("/srv/mirror".into())
        );
        assert_eq!(
            target("mirror", false),
            MirrorTarget::Layout("mirror".into())
        );
        assert_eq!(target("./a.b", false), MirrorTarget::Layout("./a.b".into()));
        assert_eq!(
            target("127.0.0.1:5000", true),
            MirrorTarget::Registry {
                host: "127.0.0.1:5000".into(),
                namespace: String::new(),
                insecure: true
            }
        );
        assert_eq!(
            target("registry.internal/talos/mirror/", false),
            MirrorTarget::Registry {
                host: "registry.internal".into(),
                namespace: "talos/mirror".into(),
                insecure: false
            }
        );
    }
}
