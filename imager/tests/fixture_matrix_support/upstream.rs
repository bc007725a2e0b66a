//! One registry serving the synthetic release, shared by every test of the
//! matrix binary.
//!
//! Each per-version test holds an `Arc` of it; the last holder to finish
//! drops it, which stops `docker-registry` by its recorded PID. Statics are
//! never dropped, so the slot keeps only a `Weak`: with the harness's usual
//! parallelism one registry serves the whole run, and under
//! `--test-threads=1` a fresh one is started per test (slower, never
//! leaked).

use std::ops::Deref;
use std::sync::{Arc, Mutex, Weak};

use factory_test_support::SyntheticRegistry;

/// The synthetic release in a registry of its own (stopped by PID when
/// dropped), with what its layout holds.
pub struct Upstream {
    registry: SyntheticRegistry,
    /// What the layout holds (kernel release, digests).
    pub summary: synthetic_release::Summary,
}

impl Deref for Upstream {
    type Target = SyntheticRegistry;

    fn deref(&self) -> &SyntheticRegistry {
        &self.registry
    }
}

static SHARED: Mutex<Weak<Upstream>> = Mutex::new(Weak::new());

/// The registry of this test binary, started on first use.
pub fn shared() -> Arc<Upstream> {
    let mut slot = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(upstream) = slot.upgrade() {
        return upstream;
    }
    let registry = SyntheticRegistry::start();
    let summary = synthetic_release::Summary::load(&registry.layout).unwrap();
    let upstream = Arc::new(Upstream { registry, summary });
    *slot = Arc::downgrade(&upstream);
    upstream
}
