//! Prometheus metrics, served on their own port (`--metrics-listen`).
//!
//! One [`Metrics`] value is shared by the platform (builds, cache hits and
//! misses) and the HTTP server (requests, latency, bytes). The counters are
//! what the concurrency tests assert on: N requests for one missing asset
//! must move `image_factory_builds_total` by exactly one.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a build.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// Output kind (`kernel`, `initramfs`, `installer`, ...).
    pub kind: String,
    /// `ok`, `failed` or `timeout`.
    pub outcome: String,
}

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The response status code.
    pub status: u16,
}

/// All metrics of one process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Builds finished, by kind and outcome.
    pub builds: Family<BuildLabels, Counter>,
    /// Builds running now.
    pub builds_running: Gauge,
    /// Build durations in seconds.
    pub build_seconds: Histogram,
    /// Asset lookups answered from storage.
    pub cache_hits: Counter,
    /// Asset lookups that needed a build (or joined one).
    pub cache_misses: Counter,
    /// Stored records or blobs that failed verification and were rebuilt.
    pub corrupt_records: Counter,
    /// Requests answered from the in-memory response cache.
    pub response_cache_hits: Counter,
    /// Requests looked up in the in-memory response cache and not found
    /// there (those it never holds, such as Range requests, are not counted).
    pub response_cache_misses: Counter,
    /// HTTP requests, by method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// HTTP request latency in seconds (to the response head).
    pub request_seconds: Histogram,
    /// Response body bytes sent.
    pub bytes_sent: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric under the `image_factory_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("image_factory");
        let builds = Family::<BuildLabels, Counter>::default();
        registry.register(
            "builds",
            "Builds finished, by kind and outcome",
            builds.clone(),
        );
        let builds_running = Gauge::default();
        registry.register(
            "builds_running",
            "Builds running now",
            builds_running.clone(),
        );
        let build_seconds = Histogram::new(exponential_buckets(0.05, 2.0, 16));
        registry.register("build_seconds", "Build durations", build_seconds.clone());
        let cache_hits = Counter::default();
        registry.register(
            "asset_cache_hits",
            "Asset lookups answered from storage",
            cache_hits.clone(),
        );
        let cache_misses = Counter::default();
        registry.register(
            "asset_cache_misses",
            "Asset lookups that needed a build or joined one",
            cache_misses.clone(),
        );
        let corrupt_records = Counter::default();
        registry.register(
            "corrupt_records",
            "Stored records or blobs that failed verification and were rebuilt",
            corrupt_records.clone(),
        );
        let response_cache_hits = Counter::default();
        registry.register(
            "response_cache_hits",
            "Requests answered from the in-memory response cache",
            response_cache_hits.clone(),
        );
        let response_cache_misses = Counter::default();
        registry.register(
            "response_cache_misses",
            "Requests looked up in the in-memory response cache and not found",
            response_cache_misses.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests, by method and status",
            requests.clone(),
        );
        let request_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 20));
        registry.register(
            "http_request_seconds",
            "Time to the response head",
            request_seconds.clone(),
        );
        let bytes_sent = Counter::default();
        registry.register(
            "http_response_bytes",
            "Response body bytes sent",
            bytes_sent.clone(),
        );
        Metrics {
            registry,
            builds,
            builds_running,
            build_seconds,
            cache_hits,
            cache_misses,
            corrupt_records,
            response_cache_hits,
            response_cache_misses,
            requests,
            request_seconds,
            bytes_sent,
        }
    }

    /// Records one finished build.
    pub fn build_finished(&self, kind: &str, outcome: &str, seconds: f64) {
        self.builds
            .get_or_create(&BuildLabels {
                kind: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.build_seconds.observe(seconds);
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
