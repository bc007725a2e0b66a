//! The HTTP server: hyper 1 on tokio, HTTP/1.1 and HTTP/2 on one port.
//!
//! It only moves bytes between sockets and `factory_core`'s frontend:
//! [`service`] converts one request and one response, [`object`] streams
//! stored files, [`cache`] replays answers the frontend marked cacheable,
//! [`metrics_endpoint`] serves `/metrics` on a second listener. This module
//! owns the process lifecycle around them:
//!
//! 1. bind both listeners (a bind failure is the only fatal start error: an
//!    unreachable upstream is not, see the catalog task);
//! 2. refresh catalogs now and then every `catalog_refresh`, in the
//!    background, logging failures (the platform keeps the last good
//!    catalogs and `/readyz` says why), and invalidate the cached answers
//!    that depend on them after every attempt;
//! 3. on SIGINT/SIGTERM: stop accepting, let in-flight requests finish,
//!    then let running builds finish, all within one grace period; what is
//!    still running after it is abandoned (builds publish bytes before
//!    records, so an abandoned build leaves nothing that is served).

mod body;
mod cache;
mod metrics_endpoint;
pub(crate) mod object;
mod request;
pub(crate) mod served;
mod service;
pub(crate) mod shutdown;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use factory_core::frontend::Frontend;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use image_factory::metrics::Metrics;
use tokio::net::TcpListener;

use cache::{CacheLimits, ResponseCache};
use object::StreamObject;
use served::ServedPlatform;
use service::{AppState, serve_request};

/// A client must send its request head within this time (slow-loris bound).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to serve.
#[derive(Debug, Clone)]
pub(crate) struct ServerOptions {
    /// Frontend address.
    pub(crate) listen: SocketAddr,
    /// `/metrics` address.
    pub(crate) metrics_listen: SocketAddr,
    /// Interval of the catalog refresh.
    pub(crate) catalog_refresh: Duration,
    /// Grace period at shutdown, for requests and builds together.
    pub(crate) shutdown_grace: Duration,
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    /// A listener could not be bound.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Binds a listener, naming the address on failure.
async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Runs the server until `shutdown` resolves, then shuts down gracefully.
pub(crate) async fn serve<P>(
    frontend: Arc<Frontend<P>>,
    metrics: Arc<Metrics>,
    options: &ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError>
where
    P: ServedPlatform,
    P::Object: StreamObject,
{
    let listener = bind(options.listen).await?;
    let metrics_listener = bind(options.metrics_listen).await?;
    tracing::info!(
        listen = %options.listen,
        metrics = %options.metrics_listen,
        external_url = %frontend.config().external_url,
        "image factory listening"
    );

    let metrics_server = tokio::spawn(metrics_loop(metrics_listener, Arc::clone(&metrics)));
    let state = Arc::new(AppState {
        frontend: Arc::clone(&frontend),
        metrics,
        cache: ResponseCache::new(CacheLimits::default()),
    });
    let refresher = tokio::spawn(refresh_loop(Arc::clone(&state), options.catalog_refresh));

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let state = Arc::clone(&state);
                    let service = service_fn(move |request| serve_request(Arc::clone(&state), request));
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }

    drop(listener);
    refresher.abort();
    let deadline = Instant::now() + options.shutdown_grace;
    tracing::info!(
        connections = graceful.count(),
        "stopped accepting; finishing in-flight requests"
    );
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over: in-flight requests abandoned");
    }
    let left = deadline.saturating_duration_since(Instant::now());
    P::drain(Arc::clone(&frontend), left).await;
    metrics_server.abort();
    tracing::info!("shut down");
    Ok(())
}

/// Refreshes catalogs now and on every tick, logging failures, and then
/// invalidates the cached answers that depend on them (after a failure too:
/// release catalogs are also re-read lazily, on use, once as old as `every`,
/// so no cached answer outlives the catalogs it was made from by more than
/// one interval).
async fn refresh_loop<P>(state: Arc<AppState<P>>, every: Duration)
where
    P: ServedPlatform,
    P::Object: StreamObject,
{
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut healthy = true;
    loop {
        ticks.tick().await;
        let refreshed = P::refresh_catalogs(Arc::clone(&state.frontend)).await;
        state.cache.invalidate();
        match refreshed {
            Ok(()) if !healthy => {
                tracing::info!("catalogs refreshed; upstream reachable again");
                healthy = true;
            }
            Ok(()) => tracing::debug!("catalogs refreshed"),
            Err(e) if healthy => {
                tracing::warn!(
                    error = %e,
                    "cannot refresh catalogs from upstream; serving schematics and cached assets, \
                     /readyz reports the reason"
                );
                healthy = false;
            }
            Err(e) => tracing::debug!(error = %e, "catalog refresh failed again"),
        }
    }
}

/// Serves `/metrics` until aborted.
async fn metrics_loop(listener: TcpListener, metrics: Arc<Metrics>) {
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let metrics = Arc::clone(&metrics);
        let service = service_fn(move |request| {
            metrics_endpoint::metrics_request(Arc::clone(&metrics), request)
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use factory_core::frontend::FrontendConfig;
    use factory_core::frontend::memory::MemoryPlatform;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn free_addr() -> SocketAddr {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    async fn raw(addr: SocketAddr, request: &str) -> String {
        for _ in 0..100 {
            if let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await {
                stream.write_all(request.as_bytes()).await.unwrap();
                let mut out = String::new();
                stream.read_to_string(&mut out).await.unwrap();
                return out;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("nothing listens on {addr}");
    }

    /// `serve` on free loopback ports until [`Running::stop`].
    struct Running {
        options: ServerOptions,
        stop: tokio::sync::oneshot::Sender<()>,
        server: tokio::task::JoinHandle<Result<(), ServeError>>,
    }

    impl Running {
        fn start(frontend: Frontend<MemoryPlatform>) -> Running {
            let options = ServerOptions {
                listen: free_addr(),
                metrics_listen: free_addr(),
                catalog_refresh: Duration::from_secs(3600),
                shutdown_grace: Duration::from_secs(5),
            };
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = {
                let options = options.clone();
                tokio::spawn(async move {
                    let stopped = async {
                        let _ = stopped.await;
                    };
                    serve(
                        Arc::new(frontend),
                        Arc::new(Metrics::new()),
                        &options,
                        stopped,
                    )
                    .await
                })
            };
            Running {
                options,
                stop,
                server,
            }
        }

        /// Signals shutdown and waits (10 s at most) for a clean exit.
        async fn stop(self) {
            self.stop.send(()).unwrap();
            tokio::time::timeout(Duration::from_secs(10), self.server)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_over_tcp_and_shuts_down_on_signal() {
        let frontend = Frontend::new(
            MemoryPlatform::new(Vec::new()),
            FrontendConfig::at("http://127.0.0.1:8080/"),
        )
        .unwrap();
        let running = Running::start(frontend);
        let options = running.options.clone();
        let get = raw(
            options.listen,
            "GET /versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(get.starts_with("HTTP/1.1 200"), "{get}");
        assert!(get.contains("content-length: 3\r\n"), "{get}");
        assert!(get.ends_with("\r\n\r\n[]\n"), "{get}");
        let head = raw(
            options.listen,
            "HEAD /versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        // /versions takes GET only: the 405's length is announced, its body not sent.
        assert!(head.starts_with("HTTP/1.1 405"), "{head}");
        assert!(head.contains("content-length: 19\r\n"), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "{head}");
        let metrics = raw(
            options.metrics_listen,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            metrics.contains("application/openmetrics-text"),
            "{metrics}"
        );
        assert!(
            metrics.contains("image_factory_http_requests_total{method=\"HEAD\",status=\"405\"} 1"),
            "{metrics}"
        );
        running.stop().await;
        assert!(
            tokio::net::TcpStream::connect(options.listen)
                .await
                .is_err()
        );
    }

    const EMPTY_ID: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

    fn frontend_with_a_release() -> Frontend<MemoryPlatform> {
        let release = factory_core::catalog::ReleaseCatalog::default();
        Frontend::new(
            MemoryPlatform::new(vec![("v1.12.4".parse().unwrap(), release)]),
            FrontendConfig::at("http://127.0.0.1:8080/"),
        )
        .unwrap()
    }

    /// The raw answer without its `date` and `x-request-id` lines, and the
    /// request ID.
    fn split_fresh_headers(raw: &str) -> (String, String) {
        let mut id = String::new();
        let mut rest = String::new();
        for line in raw.split_inclusive("\r\n") {
            if let Some(value) = line.strip_prefix("x-request-id: ") {
                id = value.trim_end().to_owned();
            } else if !line.starts_with("date: ") {
                rest.push_str(line);
            }
        }
        assert!(!id.is_empty(), "{raw}");
        (rest, id)
    }

    /// Cached answers (every request after the first of each kind) are the
    /// frontend's bytes on the wire, except a fresh request ID and date.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cached_answers_are_byte_identical_on_the_wire() {
        let running = Running::start(frontend_with_a_release());
        let options = running.options.clone();
        let schematic = "customization: {}\n";
        let post = format!(
            "POST /schematics HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{schematic}",
            schematic.len()
        );
        let pxe = format!("/pxe/{EMPTY_ID}/v1.12.4/metal-amd64");
        let get = format!("GET {pxe} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let curl = format!(
            "GET {pxe} HTTP/1.1\r\nHost: x\r\nUser-Agent: curl\r\nAccept: */*\r\n\
             Connection: close\r\n\r\n"
        );
        let mut ids = std::collections::HashSet::new();
        for (request, status) in [(&post, "201"), (&get, "200"), (&curl, "200")] {
            let (first, id) = split_fresh_headers(&raw(options.listen, request).await);
            assert!(first.starts_with(&format!("HTTP/1.1 {status}")), "{first}");
            assert!(ids.insert(id));
            for _ in 0..3 {
                let (again, id) = split_fresh_headers(&raw(options.listen, request).await);
                assert_eq!(again, first);
                assert!(ids.insert(id), "a request ID was replayed");
            }
        }
        running.stop().await;
    }

    /// Every catalog refresh attempt drops the answers that depend on the
    /// catalogs.
    #[tokio::test]
    async fn the_refresh_loop_invalidates_catalog_answers() {
        let state = Arc::new(AppState {
            frontend: Arc::new(frontend_with_a_release()),
            metrics: Arc::new(Metrics::new()),
            cache: ResponseCache::new(CacheLimits::default()),
        });
        let request = |method: &str, uri: &str, body: &'static [u8]| {
            http::Request::builder()
                .method(method)
                .uri(uri)
                .body(http_body_util::Full::new(bytes::Bytes::from_static(body)))
                .unwrap()
        };
        let post = request("POST", "/schematics", b"customization: {}\n");
        let pxe = format!("/pxe/{EMPTY_ID}/v1.12.4/metal-amd64");
        for r in [post, request("GET", &pxe, b"")] {
            let response = serve_request(Arc::clone(&state), r).await.unwrap();
            assert!(response.status().is_success());
        }
        assert_eq!(state.cache.usage().0, 2);
        let refresher = tokio::spawn(refresh_loop(Arc::clone(&state), Duration::from_secs(3600)));
        for _ in 0..200 {
            if state.cache.usage().0 == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        refresher.abort();
        // The schematic answer is immutable and stays; the PXE script went.
        assert_eq!(state.cache.usage().0, 1);
    }
}
