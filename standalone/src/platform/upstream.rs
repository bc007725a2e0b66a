//! Where upstream content comes from, decided in one place.

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
        // feat/offline adds `Puller::from_layout`; it is wired here at merge.
        Upstream::Layout(path) => Err(OpenError::LayoutNotSupported(path.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oci_layout_upstream_is_refused_clearly_for_now() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::new(dir.path().to_owned());
        settings.upstream = Upstream::Layout(dir.path().join("layout"));
        let error = puller_for(&settings).unwrap_err();
        assert!(matches!(error, OpenError::LayoutNotSupported(_)));
        assert!(error.to_string().contains("offline mode"), "{error}");
    }
}
