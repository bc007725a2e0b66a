//! Where upstream content comes from, decided in one place: a registry
//! (`ghcr.io` or a mirror) or an OCI layout directory (offline mode, e.g.
//! written by `image-factory mirror`).

use factory_imager::pull::{Puller, PullerConfig};

use super::error::OpenError;
use crate::settings::{Settings, Upstream};

/// The puller for `settings.upstream`, caching under `<data_dir>/cache`.
/// Makes no network request, so opening works with upstream unreachable.
pub(crate) fn puller_for(settings: &Settings) -> Result<Puller, OpenError> {
    let cache_dir = settings.data_dir.join("cache");
    match &settings.upstream {
        Upstream::Registry {
            host,
            namespace,
            insecure,
        } => Ok(Puller::new(PullerConfig {
            registry: host.clone(),
            namespace: namespace.clone(),
            insecure: *insecure,
            cache_dir,
        })?),
        // A local directory is either a layout or a configuration mistake:
        // refused at start with the reason, unlike a registry that may be
        // down for a while.
        Upstream::Layout(path) => Ok(Puller::from_layout(path.clone(), cache_dir)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_that_is_not_a_layout_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::new(dir.path().to_owned());
        settings.upstream = Upstream::Layout(dir.path().join("layout"));
        let error = puller_for(&settings).unwrap_err();
        assert!(matches!(error, OpenError::Upstream(_)));
        assert!(error.to_string().contains("oci-layout"), "{error}");
    }
}
