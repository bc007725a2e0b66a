//! Keeping the upstream blob cache within `IF_CACHE_MAX_BYTES`.
//!
//! The imager's blob cache never evicts (a standalone server has the disk
//! for every release it serves); Lambda's `/tmp` is at most 10 GiB and
//! shared with build scratch, and a warm instance may serve many releases.
//! So before a build, when no other build runs, the builder measures the
//! cache and, above the limit, empties it: every blob is content-addressed
//! and verified on the way in, so the next build downloads what it needs
//! again and nothing else changes. Coarse, but it cannot serve wrong bytes,
//! and a cache that holds one release's working set never reaches it.
//! The squashfs segment cache next to it gets the same rule with the same
//! limit: the imager's own bound for it (8 GiB) suits a server's disk, not
//! `/tmp`. Two caches at the 3 GiB default leave 4 GiB of the 10 GiB maximum
//! ephemeral storage for build scratch.

use std::path::Path;

/// Default limit of each cache (blobs, segments).
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 3 << 30;

/// The cache subdirectories under the puller root that [`trim`] bounds.
const TRIMMED: [&str; 2] = ["blobs", factory_imager::segment_cache::PULLER_CACHE_SUBDIR];

/// The bytes of the files below `dir` (0 if it does not exist).
pub fn tree_bytes(dir: &Path) -> std::io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut total = 0u64;
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total = total.saturating_add(tree_bytes(&entry.path())?);
        } else if kind.is_file() {
            total = total.saturating_add(entry.metadata()?.len());
        }
    }
    Ok(total)
}

/// Empties each cache under the puller root `root` (the verified blobs, the
/// squashfs segments) that takes more than `max` bytes; returns the bytes
/// freed, if any.
pub fn trim(root: &Path, max: u64) -> std::io::Result<Option<u64>> {
    let mut freed = None;
    for name in TRIMMED {
        let dir = root.join(name);
        let size = tree_bytes(&dir)?;
        if size <= max {
            continue;
        }
        std::fs::remove_dir_all(&dir)?;
        std::fs::create_dir_all(&dir)?;
        freed = Some(freed.unwrap_or(0) + size);
    }
    Ok(freed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_only_above_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join("a"), vec![0u8; 600]).unwrap();
        std::fs::write(blobs.join("b"), vec![0u8; 500]).unwrap();
        std::fs::create_dir_all(dir.path().join("segments")).unwrap();
        std::fs::write(dir.path().join("segments/s"), b"kept").unwrap();
        std::fs::write(dir.path().join("segments/t"), vec![0u8; 900]).unwrap();
        assert_eq!(tree_bytes(&dir.path().join("blobs")).unwrap(), 1100);
        assert_eq!(trim(dir.path(), 1100).unwrap(), None);
        assert!(blobs.join("a").exists());
        assert_eq!(trim(dir.path(), 1000).unwrap(), Some(1100));
        assert!(!blobs.join("a").exists());
        assert!(dir.path().join("blobs").is_dir());
        assert!(dir.path().join("segments/s").exists());
        assert_eq!(trim(dir.path(), 800).unwrap(), Some(904));
        assert!(!dir.path().join("segments/s").exists());
        assert!(dir.path().join("segments").is_dir());
        assert_eq!(tree_bytes(&dir.path().join("missing")).unwrap(), 0);
    }
}
