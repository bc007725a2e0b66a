//! The configuration of `image-factory serve`: flags, `IF_*` environment
//! variables and an optional TOML or YAML file, merged into
//! [`image_factory::settings::Settings`] plus the two listen addresses.
//!
//! Precedence is flags > environment > file > defaults. clap resolves the
//! first two (every flag has an `env`), so every option is an `Option` with
//! no clap default: `None` means "neither flag nor variable", and only then
//! is the file consulted, then the default. The file uses the flags' long
//! names as keys (`data-dir = "/var/lib/factory"`), so one name is learned
//! once; unknown keys are refused so a typo is never silently ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Args};
use factory_core::version::TalosVersion;
use image_factory::settings::{Settings, Upstream};
use serde::Deserialize;

/// The largest config file read (a config is a few hundred bytes; anything
/// this big is the wrong file).
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// Options of `image-factory serve`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ServeArgs {
    /// TOML or YAML file with any of these options (keys are the long flag names).
    #[arg(long, env = "IF_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Address of the HTTP, PXE and registry frontends [default: 127.0.0.1:8080].
    #[arg(long, env = "IF_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// Address of the Prometheus `/metrics` endpoint [default: 127.0.0.1:9090].
    #[arg(long, env = "IF_METRICS_LISTEN", value_name = "ADDR")]
    pub(crate) metrics_listen: Option<SocketAddr>,
    /// Directory holding all state: schematics, artifacts, keys, caches [default: ./data].
    #[arg(long, env = "IF_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Public base URL clients use [default: http://<listen>/].
    #[arg(long, env = "IF_EXTERNAL_URL", value_name = "URL")]
    pub(crate) external_url: Option<String>,
    /// Public base URL for iPXE, when it differs (plain HTTP) [default: the external URL].
    #[arg(long, env = "IF_PXE_URL", value_name = "URL")]
    pub(crate) pxe_url: Option<String>,
    /// Upstream registry with the Talos images [default: ghcr.io].
    #[arg(long, env = "IF_UPSTREAM_REGISTRY", value_name = "HOST[:PORT]")]
    pub(crate) upstream_registry: Option<String>,
    /// Path prefix in the upstream registry, e.g. a pull-through cache project [default: none].
    #[arg(long, env = "IF_UPSTREAM_NAMESPACE", value_name = "PREFIX")]
    pub(crate) upstream_namespace: Option<String>,
    /// Talk plain HTTP to the upstream registry [default: false].
    #[arg(long, env = "IF_UPSTREAM_INSECURE", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", action = ArgAction::Set)]
    pub(crate) upstream_insecure: Option<bool>,
    /// Offline mode: read upstream content from this OCI layout (see `image-factory mirror`).
    #[arg(long, env = "IF_UPSTREAM_LAYOUT", value_name = "DIR")]
    pub(crate) upstream_layout: Option<PathBuf>,
    /// PEM ECDSA P-256 key signing records and installers [default: <data-dir>/keys/signing-key.pem, generated].
    #[arg(long, env = "IF_SIGNING_KEY", value_name = "FILE")]
    pub(crate) signing_key: Option<PathBuf>,
    /// Builds running at once [default: 2].
    #[arg(long, env = "IF_BUILD_CONCURRENCY", value_name = "N")]
    pub(crate) build_concurrency: Option<usize>,
    /// A build taking longer fails, e.g. 30m [default: 30m].
    #[arg(long, env = "IF_BUILD_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) build_timeout: Option<Duration>,
    /// How long a failed build is answered without retrying [default: 1m].
    #[arg(long, env = "IF_FAILURE_TTL", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) failure_ttl: Option<Duration>,
    /// How often versions, extensions and overlays are re-read from upstream [default: 15m].
    #[arg(long, env = "IF_CATALOG_REFRESH", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) catalog_refresh: Option<Duration>,
    /// Oldest Talos version served [default: 1.2.0].
    #[arg(long, env = "IF_MIN_VERSION", value_name = "VERSION")]
    pub(crate) min_version: Option<TalosVersion>,
    /// Versions withheld and refused, comma-separated [default: none].
    #[arg(
        long,
        env = "IF_BROKEN_VERSIONS",
        value_name = "V,...",
        value_delimiter = ','
    )]
    pub(crate) broken_versions: Option<Vec<TalosVersion>>,
    /// On SIGINT/SIGTERM, how long running requests and builds may finish [default: 30s].
    #[arg(long, env = "IF_SHUTDOWN_GRACE", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) shutdown_grace: Option<Duration>,
}

/// The config file: the same options, all optional, by long flag name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    metrics_listen: Option<String>,
    data_dir: Option<PathBuf>,
    external_url: Option<String>,
    pxe_url: Option<String>,
    upstream_registry: Option<String>,
    upstream_namespace: Option<String>,
    upstream_insecure: Option<bool>,
    upstream_layout: Option<PathBuf>,
    signing_key: Option<PathBuf>,
    build_concurrency: Option<usize>,
    build_timeout: Option<String>,
    failure_ttl: Option<String>,
    catalog_refresh: Option<String>,
    min_version: Option<String>,
    broken_versions: Option<Vec<String>>,
    shutdown_grace: Option<String>,
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone)]
pub(crate) struct ServeConfig {
    /// The factory's settings.
    pub(crate) settings: Settings,
    /// Frontend address.
    pub(crate) listen: SocketAddr,
    /// `/metrics` address.
    pub(crate) metrics_listen: SocketAddr,
    /// Grace period for in-flight requests and builds at shutdown.
    pub(crate) shutdown_grace: Duration,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error("reading config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_FILE`].
    #[error("config file {path} is larger than {MAX_CONFIG_FILE} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file name ends in neither `.toml`, `.yaml` nor `.yml`.
    #[error("config file {path}: unknown format (use a .toml, .yaml or .yml file)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// TOML syntax or an unknown key.
    #[error("parsing config file {path}: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// YAML syntax or an unknown key.
    #[error("parsing config file {path}: {source}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// A value in the file is malformed.
    #[error("config file {path}: invalid {key} {value:?}: {reason}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The key.
        key: &'static str,
        /// The value.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// Options that exclude each other.
    #[error("{0}")]
    Conflict(&'static str),
}

/// Parses a duration such as `90s`, `15m`, `1h 30m`.
fn parse_duration(text: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(text)
}

impl ServeArgs {
    /// Merges flags and environment (already in `self`) over the file over
    /// the defaults.
    pub(crate) fn resolve(self) -> Result<ServeConfig, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let path = self.config.clone().unwrap_or_default();
        let v = FileValues { path: &path };

        let listen = pick(self.listen, v.parse("listen", file.listen)?)
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        let metrics_listen = pick(
            self.metrics_listen,
            v.parse("metrics-listen", file.metrics_listen)?,
        )
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 9090)));
        let data_dir = pick(self.data_dir, file.data_dir).unwrap_or_else(|| PathBuf::from("data"));

        let mut settings = Settings::new(data_dir);
        settings.external_url = pick(self.external_url, file.external_url)
            .unwrap_or_else(|| format!("http://{listen}/"));
        settings.pxe_url = pick(self.pxe_url, file.pxe_url);

        let layout = pick(self.upstream_layout, file.upstream_layout);
        let registry = pick(self.upstream_registry, file.upstream_registry);
        settings.upstream = match (layout, registry) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Conflict(
                    "--upstream-layout and --upstream-registry exclude each other",
                ));
            }
            (Some(dir), None) => Upstream::Layout(dir),
            (None, registry) => Upstream::Registry {
                host: registry.unwrap_or_else(|| "ghcr.io".to_owned()),
                namespace: pick(self.upstream_namespace, file.upstream_namespace)
                    .unwrap_or_default(),
                insecure: pick(self.upstream_insecure, file.upstream_insecure).unwrap_or(false),
            },
        };
        settings.signing_key = pick(self.signing_key, file.signing_key);
        if let Some(n) = pick(self.build_concurrency, file.build_concurrency) {
            if n == 0 {
                return Err(ConfigError::Conflict(
                    "--build-concurrency must be at least 1",
                ));
            }
            settings.build_concurrency = n;
        }
        if let Some(d) = pick(
            self.build_timeout,
            v.duration("build-timeout", file.build_timeout)?,
        ) {
            settings.build_timeout = d;
        }
        if let Some(d) = pick(
            self.failure_ttl,
            v.duration("failure-ttl", file.failure_ttl)?,
        ) {
            settings.failure_ttl = d;
        }
        if let Some(d) = pick(
            self.catalog_refresh,
            v.duration("catalog-refresh", file.catalog_refresh)?,
        ) {
            if d.is_zero() {
                return Err(ConfigError::Conflict("--catalog-refresh must not be zero"));
            }
            settings.catalog_refresh = d;
        }
        if let Some(min) = pick(self.min_version, v.parse("min-version", file.min_version)?) {
            settings.min_version = min;
        }
        let broken_file = match file.broken_versions {
            Some(list) => Some(
                list.into_iter()
                    .map(|s| v.parse("broken-versions", Some(s)))
                    .collect::<Result<Vec<Option<TalosVersion>>, _>>()?
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            None => None,
        };
        if let Some(broken) = pick(self.broken_versions, broken_file) {
            settings.broken_versions = broken;
        }
        let shutdown_grace = pick(
            self.shutdown_grace,
            v.duration("shutdown-grace", file.shutdown_grace)?,
        )
        .unwrap_or(Duration::from_secs(30));
        Ok(ServeConfig {
            settings,
            listen,
            metrics_listen,
            shutdown_grace,
        })
    }
}

/// The flag/environment value, else the file's.
fn pick<T>(cli: Option<T>, file: Option<T>) -> Option<T> {
    cli.or(file)
}

/// Parses file values, naming the file and key in errors.
struct FileValues<'a> {
    path: &'a Path,
}

impl FileValues<'_> {
    fn parse<T>(&self, key: &'static str, value: Option<String>) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        value
            .map(|text| {
                text.parse::<T>().map_err(|e| ConfigError::Value {
                    path: self.path.to_owned(),
                    key,
                    reason: e.to_string(),
                    value: text,
                })
            })
            .transpose()
    }

    fn duration(
        &self,
        key: &'static str,
        value: Option<String>,
    ) -> Result<Option<Duration>, ConfigError> {
        value
            .map(|text| {
                parse_duration(&text).map_err(|e| ConfigError::Value {
                    path: self.path.to_owned(),
                    key,
                    reason: e.to_string(),
                    value: text,
                })
            })
            .transpose()
    }
}

/// Reads and parses the config file by its extension.
fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let read_err = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    if size > MAX_CONFIG_FILE {
        return Err(ConfigError::TooLarge {
            path: path.to_owned(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(read_err)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("toml") => toml::from_str(&text).map_err(|e| ConfigError::Toml {
            path: path.to_owned(),
            source: Box::new(e),
        }),
        Some("yaml" | "yml") => serde_saphyr::from_str(&text).map_err(|e| ConfigError::Yaml {
            path: path.to_owned(),
            source: Box::new(e),
        }),
        _ => Err(ConfigError::UnknownFormat {
            path: path.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn args(flags: &[&str]) -> ServeArgs {
        let mut argv = vec!["serve"];
        argv.extend_from_slice(flags);
        Cmd::try_parse_from(argv).unwrap().args
    }

    #[test]
    fn defaults() {
        let c = ServeArgs::default().resolve().unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.metrics_listen.to_string(), "127.0.0.1:9090");
        assert_eq!(c.settings.data_dir, PathBuf::from("data"));
        assert_eq!(c.settings.external_url, "http://127.0.0.1:8080/");
        assert_eq!(
            c.settings.upstream,
            Upstream::Registry {
                host: "ghcr.io".into(),
                namespace: String::new(),
                insecure: false
            }
        );
        assert_eq!(c.shutdown_grace, Duration::from_secs(30));
    }

    #[test]
    fn flags_override_file_and_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:7000\"\ndata-dir = \"/srv/f\"\nbuild-timeout = \"5m\"\n\
             upstream-registry = \"127.0.0.1:5000\"\nupstream-insecure = true\n\
             broken-versions = [\"v1.9.0\"]\n",
        )
        .unwrap();
        let c = args(&[
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:7001",
        ])
        .resolve()
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7001");
        assert_eq!(c.settings.external_url, "http://127.0.0.1:7001/");
        assert_eq!(c.settings.data_dir, PathBuf::from("/srv/f"));
        assert_eq!(c.settings.build_timeout, Duration::from_secs(300));
        assert_eq!(c.settings.broken_versions, vec![TalosVersion::new(1, 9, 0)]);
        assert!(matches!(
            c.settings.upstream,
            Upstream::Registry { insecure: true, .. }
        ));
    }

    #[test]
    fn yaml_file_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("f.yaml");
        std::fs::write(&good, "upstream-layout: /mirror\nmin-version: v1.7.0\n").unwrap();
        let c = args(&["--config", good.to_str().unwrap()])
            .resolve()
            .unwrap();
        assert_eq!(c.settings.upstream, Upstream::Layout("/mirror".into()));
        assert_eq!(c.settings.min_version, TalosVersion::new(1, 7, 0));

        let bad = dir.path().join("g.yml");
        std::fs::write(&bad, "data_dir: /x\n").unwrap();
        let e = args(&["--config", bad.to_str().unwrap()])
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("data_dir"), "{e}");

        let ini = dir.path().join("h.ini");
        std::fs::write(&ini, "").unwrap();
        assert!(matches!(
            args(&["--config", ini.to_str().unwrap()]).resolve(),
            Err(ConfigError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn bad_file_values_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.toml");
        std::fs::write(&file, "failure-ttl = \"soon\"\n").unwrap();
        let e = args(&["--config", file.to_str().unwrap()])
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("failure-ttl"), "{e}");
    }

    #[test]
    fn layout_and_registry_conflict() {
        let e = args(&["--upstream-layout", "/m", "--upstream-registry", "r"])
            .resolve()
            .unwrap_err();
        assert!(matches!(e, ConfigError::Conflict(_)));
    }

    #[test]
    fn insecure_flag_forms() {
        assert_eq!(args(&["--upstream-insecure"]).upstream_insecure, Some(true));
        assert_eq!(
            args(&["--upstream-insecure=false"]).upstream_insecure,
            Some(false)
        );
        assert_eq!(
            args(&["--broken-versions", "v1.9.0,1.10.1"]).broken_versions,
            Some(vec![
                TalosVersion::new(1, 9, 0),
                TalosVersion::new(1, 10, 1)
            ])
        );
    }
}
