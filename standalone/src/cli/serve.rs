//! `image-factory serve`: resolve the configuration, open the storage
//! platform, and run the HTTP server until SIGINT/SIGTERM.
//!
//! Opening the platform never needs the upstream (keys, store and blob
//! directory are local), so the factory starts on a machine that cannot
//! reach its upstream; the catalog task logs why and `/readyz` reports it.

use std::io::IsTerminal;
use std::sync::Arc;

use factory_core::frontend::{
    ConfigError as FrontendConfigError, CorsPolicy, Frontend, FrontendConfig,
};
use image_factory::metrics::Metrics;
use image_factory::platform::{OpenError, StandalonePlatform};
use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, ServeArgs};
use crate::http::{self, ServeError, ServerOptions};

/// `serve` could not start or failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeCommandError {
    /// The configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The frontend refused a URL.
    #[error(transparent)]
    Frontend(#[from] FrontendConfigError),
    /// The storage platform could not be opened.
    #[error("opening the data directory: {0}")]
    Platform(#[from] OpenError),
    /// The server.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Runs the factory.
pub(crate) async fn run(args: ServeArgs) -> Result<(), ServeCommandError> {
    let config = args.resolve()?;
    init_logging();
    let settings = &config.settings;
    let frontend_config = FrontendConfig {
        external_url: settings.external_url.clone(),
        pxe_url: settings.pxe_url.clone(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        cors: CorsPolicy::default(),
        secureboot_enabled: false,
    };
    let metrics = Arc::new(Metrics::new());
    tracing::info!(data_dir = %settings.data_dir.display(), upstream = ?settings.upstream, "opening the factory");
    let platform = StandalonePlatform::open(settings, Arc::clone(&metrics)).await?;
    let frontend = Arc::new(Frontend::new(platform, frontend_config)?);
    let options = ServerOptions {
        listen: config.listen,
        metrics_listen: config.metrics_listen,
        catalog_refresh: settings.catalog_refresh,
        shutdown_grace: config.shutdown_grace,
    };
    http::serve(frontend, metrics, &options, http::shutdown::signalled()).await?;
    Ok(())
}

/// Structured logs on stderr, filtered by `IF_LOG` (default `info`),
/// coloured only on a terminal.
fn init_logging() {
    let filter = EnvFilter::try_from_env("IF_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
