//! The shutdown signal: SIGINT (Ctrl-C) or SIGTERM (what `docker stop`,
//! systemd and Kubernetes send), whichever comes first.

use tokio::signal::unix::{SignalKind, signal};

/// Resolves when the process is asked to stop. If a handler cannot be
/// installed (no signal support), that signal is simply not waited for.
pub(crate) async fn signalled() {
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        result = tokio::signal::ctrl_c() => {
            if let Err(e) = result {
                tracing::warn!(error = %e, "cannot listen for SIGINT");
                std::future::pending::<()>().await;
            }
            tracing::info!("SIGINT received, shutting down");
        }
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}
