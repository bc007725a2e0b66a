//! What the server needs from a platform beyond `factory_core`'s trait.
//!
//! `Platform`'s `async fn`s carry no `Send` bound (the Worker's futures are
//! not `Send`), so generic code cannot spawn `Frontend::handle` on tokio:
//! the `Send`-ness of its future is only known for a concrete platform.
//! [`ServedPlatform`] closes that gap with one boxed entry point per
//! concrete type (the body is the same one line everywhere, see
//! [`served_platform_handle!`]), plus the two lifecycle hooks the server
//! drives: the periodic catalog refresh and draining builds at shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use factory_core::frontend::{Frontend, Platform, Request, Response};

use super::object::StreamObject;

/// A boxed `Send` future, as the server spawns them.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A platform the HTTP server can run. See the module docs.
pub(crate) trait ServedPlatform: Platform + Send + Sync + Sized + 'static
where
    Self::Object: StreamObject,
{
    /// Why a catalog refresh failed (logged; the last good catalogs stay).
    type RefreshError: std::fmt::Display + Send + 'static;

    /// `frontend.handle(request)` as a `Send` future.
    fn respond(
        frontend: Arc<Frontend<Self>>,
        request: Request,
    ) -> BoxFuture<Response<Self::Object>>;

    /// Re-reads versions and catalogs from upstream.
    fn refresh_catalogs(frontend: Arc<Frontend<Self>>)
    -> BoxFuture<Result<(), Self::RefreshError>>;

    /// Waits for running builds, at most `grace`.
    fn drain(frontend: Arc<Frontend<Self>>, grace: Duration) -> BoxFuture<()>;
}

/// The one-line body of [`ServedPlatform::respond`] for a concrete platform.
macro_rules! served_platform_handle {
    () => {
        fn respond(
            frontend: std::sync::Arc<factory_core::frontend::Frontend<Self>>,
            request: factory_core::frontend::Request,
        ) -> $crate::http::served::BoxFuture<factory_core::frontend::Response<Self::Object>> {
            Box::pin(async move { frontend.handle(request).await })
        }
    };
}

#[cfg(test)]
mod memory {
    //! The in-memory platform of `factory_core`, for the server's own tests:
    //! nothing to refresh, builds are instantaneous.

    use super::*;
    use factory_core::frontend::memory::MemoryPlatform;

    impl ServedPlatform for MemoryPlatform {
        type RefreshError = std::convert::Infallible;

        served_platform_handle!();

        fn refresh_catalogs(
            _frontend: Arc<Frontend<Self>>,
        ) -> BoxFuture<Result<(), Self::RefreshError>> {
            Box::pin(async { Ok(()) })
        }

        fn drain(_frontend: Arc<Frontend<Self>>, _grace: Duration) -> BoxFuture<()> {
            Box::pin(async {})
        }
    }
}

/// The storage platform the binary serves.
mod standalone {
    use super::*;
    use image_factory::catalogs::CatalogRefreshError;
    use image_factory::platform::StandalonePlatform;

    impl ServedPlatform for StandalonePlatform {
        type RefreshError = CatalogRefreshError;

        served_platform_handle!();

        fn refresh_catalogs(
            frontend: Arc<Frontend<Self>>,
        ) -> BoxFuture<Result<(), Self::RefreshError>> {
            Box::pin(async move { frontend.platform().refresh_catalogs().await })
        }

        fn drain(frontend: Arc<Frontend<Self>>, grace: Duration) -> BoxFuture<()> {
            Box::pin(async move {
                let abandoned = frontend.platform().drain(grace).await;
                if abandoned > 0 {
                    tracing::warn!(abandoned, "grace period over: running builds abandoned");
                }
            })
        }
    }
}
