//! The serverless end-to-end harness: real processes on 127.0.0.1, each
//! started on a free port and stopped by its PID on drop.
//!
//! - [`S3`]: `s3s-fs` (crates.io, enforces SigV4) over a temporary root;
//! - [`Builder`]: the `builder-lambda` binary in its local HTTP mode;
//! - [`Worker`]: the built Worker bundle (`edge/build.sh`) in workerd through
//!   `wrangler dev` from `edge/node_modules` (`npm ci` in `edge/`), with a
//!   generated config and `.dev.vars` in a temporary directory;
//! - [`Standalone`]: `image-factory serve`, the reference answers;
//! - [`Deployment`]: the registry, S3, the builder and the Worker together;
//! - [`Direct`]: the Worker (and two trivial JavaScript Workers) in plain
//!   workerd over a stopped Worker's state, for CPU figures.
//!
//! A missing tool or bundle fails the test with the command that provides
//! it; nothing is installed or skipped here. Test-only code: it panics with
//! context, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod deployment;
mod direct;
mod process;
mod services;
mod worker;

pub use deployment::{DISPATCH_SECRET, Deployment, create_schematic};
pub use direct::{CACHE_HIT_WORKER, CONSTANT_WORKER, Direct};
pub use factory_test_support::{Answer, curl, free_port};
pub use process::{Spawned, workerd_cpu_ticks};
pub use services::{
    ACCESS_KEY, BUCKET, Builder, BuilderSettings, S3, SECRET_KEY, Standalone, cargo_binary, keypair,
};
pub use worker::{KV_NAMESPACES, Worker, WorkerSettings};
