//! The upstream options the offline commands (`build`, `mirror`) share:
//! a registry (ghcr.io by default) or an OCI layout directory, and a blob
//! cache that persists between runs.

use std::path::PathBuf;

use clap::{ArgAction, Args};
use factory_imager::pull::{PullError, Puller, PullerConfig};

/// Where upstream Talos content is read from.
#[derive(Debug, Clone, Args)]
pub(crate) struct UpstreamArgs {
    /// Upstream registry with the Talos images.
    #[arg(
        long,
        env = "IF_UPSTREAM_REGISTRY",
        default_value = "ghcr.io",
        value_name = "HOST[:PORT]"
    )]
    pub(crate) upstream_registry: String,
    /// Path prefix in the upstream registry.
    #[arg(
        long,
        env = "IF_UPSTREAM_NAMESPACE",
        default_value = "",
        value_name = "PREFIX"
    )]
    pub(crate) upstream_namespace: String,
    /// Talk plain HTTP to the upstream registry.
    #[arg(long, env = "IF_UPSTREAM_INSECURE", num_args = 0..=1, default_value = "false",
          default_missing_value = "true", action = ArgAction::Set, value_name = "BOOL")]
    pub(crate) upstream_insecure: bool,
    /// Read upstream content from this OCI layout instead of a registry (offline).
    #[arg(long, env = "IF_UPSTREAM_LAYOUT", value_name = "DIR")]
    pub(crate) upstream_layout: Option<PathBuf>,
    /// Cache of verified upstream blobs, reused across runs [default: <temp dir>/image-factory-blobs].
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
}

impl UpstreamArgs {
    /// The puller these options describe.
    pub(crate) fn puller(&self) -> Result<Puller, PullError> {
        let cache_dir = self
            .cache_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("image-factory-blobs"));
        match &self.upstream_layout {
            Some(layout) => Puller::from_layout(layout, cache_dir),
            None => Puller::new(PullerConfig {
                registry: self.upstream_registry.clone(),
                namespace: self.upstream_namespace.clone(),
                insecure: self.upstream_insecure,
                cache_dir,
            }),
        }
    }
}
