//! A content-addressed cache of built segments (per-extension squashfs
//! images), shared by builds on one machine.
//!
//! Upstream rebuilds every extension's squashfs for every schematic; most
//! of an initramfs build's time goes there. An image is a pure function of
//! the extension's entries (paths, modes, file contents, link targets), the
//! squashfs settings and the builder's own code, so the builder names it by
//! a SHA-256 over all of those ([`SegmentKey`]) and reuses it when another
//! schematic shares the extension.
//!
//! Layout: `<dir>/<hex>.<suffix>` for complete entries, `<dir>/tmp/` for
//! entries being stored. An entry is written to `tmp/`, then renamed into
//! place, so readers never see a partial file and concurrent builds storing
//! the same key simply replace each other's identical bytes. A hit is
//! *linked* (hard link, else copied) into the caller's work directory, so a
//! later eviction cannot pull the file from under a running build; a hit
//! also refreshes the entry's mtime, which is its recency.
//!
//! Bound: after each store, the least recently used entries are removed
//! until the cache holds at most `max_bytes` (the entry just stored is kept
//! even if it alone is larger). Files in `tmp/` older than a day are left
//! by crashed builds and removed by the same pass.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

/// Where the builder keeps its segment cache: this directory under the
/// puller's cache root, next to the blobs the segments are made of.
pub const PULLER_CACHE_SUBDIR: &str = "segments";

/// Default bound of a segment cache: 8 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 8 << 30;

/// Age after which a leftover file in `tmp/` is removed.
const STALE_TMP: Duration = Duration::from_secs(24 * 3600);

/// The name of a cached segment: SHA-256 over its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentKey([u8; 32]);

impl SegmentKey {
    /// Lowercase hex, the entry's file stem.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Builds a [`SegmentKey`] from a sequence of fields. Every field is
/// length-prefixed, so no two different field sequences hash alike.
#[derive(Debug, Clone, Default)]
pub struct SegmentKeyBuilder {
    hasher: Sha256,
}

impl SegmentKeyBuilder {
    /// A builder for keys of `kind` (a name plus the builder's erratum,
    /// bumped whenever the code that makes the segment changes its bytes).
    pub fn new(kind: &str) -> Self {
        let mut builder = SegmentKeyBuilder::default();
        builder.field(kind.as_bytes());
        builder
    }

    /// Adds one field.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
        self
    }

    /// Adds a number.
    pub fn number(&mut self, n: u64) -> &mut Self {
        self.field(&n.to_le_bytes())
    }

    /// Adds the contents of `reader` (of `size` bytes) as one field.
    pub fn content(&mut self, reader: &mut impl Read, size: u64) -> io::Result<&mut Self> {
        self.hasher.update(size.to_le_bytes());
        let copied = io::copy(&mut Read::take(reader, size), &mut self.hasher)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("content ended after {copied} of {size} bytes"),
            ));
        }
        Ok(self)
    }

    /// The key.
    pub fn finish(self) -> SegmentKey {
        SegmentKey(self.hasher.finalize().into())
    }
}

/// Why the cache could not be used.
#[derive(Debug, thiserror::Error)]
#[error("segment cache {path}: {action}: {source}")]
pub struct SegmentCacheError {
    /// The file or directory.
    pub path: String,
    /// What was being done.
    pub action: &'static str,
    /// The cause.
    #[source]
    pub source: io::Error,
}

fn fail(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SegmentCacheError {
    let path = path.display().to_string();
    move |source| SegmentCacheError {
        path,
        action,
        source,
    }
}

/// A segment cache directory.
#[derive(Debug, Clone)]
pub struct SegmentCache {
    dir: PathBuf,
    max_bytes: u64,
}

impl SegmentCache {
    /// Opens (creating if needed) the cache in `dir`, bounded to
    /// `max_bytes`.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<SegmentCache, SegmentCacheError> {
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp).map_err(fail("creating", &tmp))?;
        Ok(SegmentCache {
            dir: dir.to_owned(),
            max_bytes,
        })
    }

    fn entry_path(&self, key: &SegmentKey, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", key.hex()))
    }

    /// On a hit, links the entry to `dest` (which must not exist) and
    /// returns its size; `None` on a miss.
    pub fn fetch(
        &self,
        key: &SegmentKey,
        suffix: &str,
        dest: &Path,
    ) -> Result<Option<u64>, SegmentCacheError> {
        let entry = self.entry_path(key, suffix);
        match link_or_copy(&entry, dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(fail("linking a hit", &entry)(e)),
        }
        // Recency for eviction; a failure here only ages the entry.
        if let Ok(file) = File::options().write(true).open(&entry) {
            let _ = file.set_modified(SystemTime::now());
        }
        let size = fs::metadata(dest)
            .map_err(fail("inspecting a hit", dest))?
            .len();
        Ok(Some(size))
    }

    /// Stores the file at `source` (left in place) under `key`, then
    /// evicts least recently used entries beyond the bound.
    pub fn store(
        &self,
        key: &SegmentKey,
        suffix: &str,
        source: &Path,
    ) -> Result<(), SegmentCacheError> {
        let tmp_dir = self.dir.join("tmp");
        let tmp = tempfile::Builder::new()
            .prefix(&key.hex())
            .tempfile_in(&tmp_dir)
            .map_err(fail("creating a file in", &tmp_dir))?
            .into_temp_path();
        fs::remove_file(&tmp).map_err(fail("replacing", &tmp))?;
        link_or_copy(source, &tmp).map_err(fail("storing", source))?;
        let entry = self.entry_path(key, suffix);
        fs::rename(&tmp, &entry).map_err(fail("renaming into", &entry))?;
        self.evict(&entry)
    }

    /// Removes least recently used entries until the cache fits its bound,
    /// never `keep`; and stale leftovers in `tmp/`.
    fn evict(&self, keep: &Path) -> Result<(), SegmentCacheError> {
        let mut entries = Vec::new();
        let mut total = 0u64;
        let list = fs::read_dir(&self.dir).map_err(fail("listing", &self.dir))?;
        for item in list {
            let item = item.map_err(fail("listing", &self.dir))?;
            let Ok(meta) = item.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            total += meta.len();
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            entries.push((used, meta.len(), item.path()));
        }
        entries.sort();
        for (_, size, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if path == keep {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => total = total.saturating_sub(size),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail("evicting", &path)(e)),
            }
        }
        let tmp_dir = self.dir.join("tmp");
        if let Ok(list) = fs::read_dir(&tmp_dir) {
            let now = SystemTime::now();
            for item in list.flatten() {
                let stale = item
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_TMP);
                if stale {
                    let _ = fs::remove_file(item.path());
                }
            }
        }
        Ok(())
    }
}

/// Hard-links `from` to `to`, copying when linking is not possible (other
/// file system, no link support).
fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(e),
        Err(_) => fs::copy(from, to).map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> SegmentKey {
        let mut b = SegmentKeyBuilder::new("test-1");
        b.field(s.as_bytes());
        b.finish()
    }

    #[test]
    fn fields_are_framed() {
        let mut a = SegmentKeyBuilder::new("k");
        a.field(b"ab").field(b"c");
        let mut b = SegmentKeyBuilder::new("k");
        b.field(b"a").field(b"bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn miss_store_hit() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SegmentCache::open(&dir.path().join("c"), DEFAULT_MAX_BYTES).unwrap();
        let src = dir.path().join("src");
        fs::write(&src, b"image").unwrap();
        let dest = dir.path().join("dest");
        assert_eq!(cache.fetch(&key("a"), "sqsh", &dest).unwrap(), None);
        cache.store(&key("a"), "sqsh", &src).unwrap();
        assert_eq!(cache.fetch(&key("a"), "sqsh", &dest).unwrap(), Some(5));
        assert_eq!(fs::read(&dest).unwrap(), b"image");
        assert_eq!(
            cache
                .fetch(&key("b"), "sqsh", &dir.path().join("d2"))
                .unwrap(),
            None
        );
    }

    #[test]
    fn evicts_least_recently_used_beyond_bound() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SegmentCache::open(&dir.path().join("c"), 10).unwrap();
        let src = dir.path().join("src");
        fs::write(&src, b"123456").unwrap();
        cache.store(&key("old"), "sqsh", &src).unwrap();
        let old = cache.entry_path(&key("old"), "sqsh");
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1))
            .unwrap();
        cache.store(&key("new"), "sqsh", &src).unwrap();
        assert!(!old.exists());
        assert!(cache.entry_path(&key("new"), "sqsh").exists());
    }
}
