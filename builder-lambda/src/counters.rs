//! Process-wide counts of accepted jobs and of builds actually run, by kind.
//!
//! Local mode exposes them (`/local/invocations`, `/local/builds`) so tests
//! can prove that the edge sends one job per miss and that concurrent
//! identical jobs reach the imager once. Counting is a relaxed atomic add:
//! nothing else orders on it.

use std::sync::atomic::{AtomicU64, Ordering};

/// One counter per job kind.
#[derive(Debug, Default)]
pub struct ByKind {
    asset: AtomicU64,
    installer: AtomicU64,
    refresh_catalogs: AtomicU64,
}

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Asset jobs.
    Asset,
    /// Installer jobs.
    Installer,
    /// Catalog refreshes.
    RefreshCatalogs,
}

impl ByKind {
    /// Adds one to `kind`.
    pub fn add(&self, kind: Kind) {
        let counter = match kind {
            Kind::Asset => &self.asset,
            Kind::Installer => &self.installer,
            Kind::RefreshCatalogs => &self.refresh_catalogs,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `{"asset":N,"installer":N,"refreshCatalogs":N}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "asset": self.asset.load(Ordering::Relaxed),
            "installer": self.installer.load(Ordering::Relaxed),
            "refreshCatalogs": self.refresh_catalogs.load(Ordering::Relaxed),
        })
        .to_string()
    }
}

/// Accepted jobs and builds run.
#[derive(Debug, Default)]
pub struct Counters {
    /// Jobs that passed authentication and parsed.
    pub invocations: ByKind,
    /// Builds actually run (cache misses that reached the imager).
    pub builds: ByKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_kind_as_json() {
        let c = ByKind::default();
        c.add(Kind::Asset);
        c.add(Kind::Asset);
        c.add(Kind::RefreshCatalogs);
        assert_eq!(
            c.to_json(),
            r#"{"asset":2,"installer":0,"refreshCatalogs":1}"#
        );
    }
}
