//! In-process builds: single-flight per key, bounded concurrency, a timeout,
//! and failures remembered for a while.
//!
//! [`Builds::run`] is what a request calls on a cache miss. The first caller
//! for a key spawns the build as its own tokio task and every caller (the
//! first included) waits on a `watch` channel for its outcome, so:
//!
//! - N concurrent callers for one key cause one build and all get the same
//!   result;
//! - a caller that goes away (client disconnect) does not cancel the build:
//!   the task finishes and stores its output for the next request;
//! - a semaphore bounds how many builds run at once
//!   (`Settings::build_concurrency`); the timeout starts once a build holds
//!   a permit, so waiting in the queue does not count against it;
//! - a failed build is answered from memory for `failure_ttl`, then retried.
//!
//! The job itself decides whether it really built ([`Outcome::Built`]) or
//! found the output already stored ([`Outcome::Found`], a request that raced
//! a build that just finished): only real builds are counted in metrics.

mod flight;

pub use flight::{Builds, BuildsConfig, Outcome};
