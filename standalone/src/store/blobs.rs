//! The content-addressed blob directory: `blobs/sha256/<hex>`.
//!
//! Every file under its final name is complete: bytes are written to a
//! `.tmp-<uuid>` file in the same directory, fsynced, renamed into place, and
//! the directory is fsynced, so a crash leaves either the old state or the
//! new one (plus a temporary file that [`BlobDir::open`] removes). Names are
//! checked to be 64 lowercase hex digits before they become paths.
//!
//! Reading checks the size on every open; the full re-hash
//! ([`BlobDir::open_verified`]) runs once per file per process and again
//! whenever the file's size or modification time changes, so a 500 MB
//! artifact is hashed on its first download, not on every one.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

use super::error::StoreError;

/// Prefix of temporary files; never a valid blob name.
const TEMP_PREFIX: &str = ".tmp-";

/// The largest blob [`BlobDir::put_bytes`] accepts from memory (manifests,
/// configs, signature payloads); artifacts arrive as files instead.
pub const MAX_INLINE_BLOB: usize = 16 * 1024 * 1024;

/// What [`BlobDir::open_verified`] found.
#[derive(Debug)]
pub enum BlobCheck {
    /// The blob is there with the expected size and digest.
    Ok(File),
    /// No file of that name.
    Missing,
    /// The file has another size.
    WrongSize {
        /// Its actual size.
        actual: u64,
    },
    /// The file's bytes hash to something else.
    WrongDigest {
        /// What they hash to.
        actual: String,
    },
}

/// See the module docs.
#[derive(Debug)]
pub struct BlobDir {
    root: PathBuf,
    /// Files re-hashed by this process: name → (size, modification time).
    verified: Mutex<HashMap<String, (u64, SystemTime)>>,
}

/// Whether `name` is 64 lowercase hex digits.
pub fn is_sha256_hex(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl BlobDir {
    /// Opens (creating) the directory and removes temporary files left by a
    /// crash.
    pub fn open(root: PathBuf) -> Result<Self, StoreError> {
        std::fs::create_dir_all(&root).map_err(StoreError::io("creating", &root))?;
        let entries = std::fs::read_dir(&root).map_err(StoreError::io("listing", &root))?;
        for entry in entries {
            let entry = entry.map_err(StoreError::io("listing", &root))?;
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let path = entry.path();
                tracing::info!(path = %path.display(), "removing a partial blob left by a crash");
                std::fs::remove_file(&path).map_err(StoreError::io("removing", &path))?;
            }
        }
        Ok(BlobDir {
            root,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this sha256 lives (whether or not it exists).
    pub fn path_of(&self, sha256_hex: &str) -> Result<PathBuf, StoreError> {
        if !is_sha256_hex(sha256_hex) {
            return Err(StoreError::InvalidName(
                sha256_hex.chars().take(80).collect(),
            ));
        }
        Ok(self.root.join(sha256_hex))
    }

    /// A fresh temporary path in the directory, for a writer that then
    /// calls [`commit_file`](Self::commit_file).
    pub fn temp_path(&self) -> PathBuf {
        self.root
            .join(format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4().simple()))
    }

    /// Makes the complete file at `temp` (in this directory) the blob
    /// `sha256_hex`: fsync, rename, fsync the directory. The caller vouches
    /// for the digest (it hashed what it wrote).
    pub fn commit_file(&self, temp: &Path, sha256_hex: &str) -> Result<PathBuf, StoreError> {
        let dest = self.path_of(sha256_hex)?;
        let file = File::open(temp).map_err(StoreError::io("opening", temp))?;
        file.sync_all().map_err(StoreError::io("syncing", temp))?;
        drop(file);
        std::fs::rename(temp, &dest).map_err(StoreError::io("renaming into", &dest))?;
        self.sync_dir()?;
        self.forget(sha256_hex);
        Ok(dest)
    }

    /// Stores small bytes (at most [`MAX_INLINE_BLOB`]) and returns their
    /// sha256 hex.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<String, StoreError> {
        if bytes.len() > MAX_INLINE_BLOB {
            return Err(StoreError::TooLarge {
                what: "an inline blob",
                len: bytes.len(),
                max: MAX_INLINE_BLOB,
            });
        }
        let hex = hex::encode(Sha256::digest(bytes));
        let dest = self.path_of(&hex)?;
        if std::fs::metadata(&dest).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(hex);
        }
        let temp = self.temp_path();
        let result = (|| {
            let mut file = File::create(&temp).map_err(StoreError::io("creating", &temp))?;
            file.write_all(bytes)
                .map_err(StoreError::io("writing", &temp))?;
            drop(file);
            self.commit_file(&temp, &hex)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result.map(|_| hex)
    }

    /// Opens a blob, checking only that its size is `size`.
    pub fn open_sized(&self, sha256_hex: &str, size: u64) -> Result<BlobCheck, StoreError> {
        let path = self.path_of(sha256_hex)?;
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BlobCheck::Missing),
            Err(e) => return Err(StoreError::io("opening", &path)(e)),
        };
        let actual = file
            .metadata()
            .map_err(StoreError::io("reading metadata of", &path))?
            .len();
        if actual != size {
            return Ok(BlobCheck::WrongSize { actual });
        }
        Ok(BlobCheck::Ok(file))
    }

    /// Opens a blob, checking its size, and its digest unless this process
    /// already hashed this very file (same size and modification time).
    /// Blocking: hashing reads the whole file.
    pub fn open_verified(&self, sha256_hex: &str, size: u64) -> Result<BlobCheck, StoreError> {
        let file = match self.open_sized(sha256_hex, size)? {
            BlobCheck::Ok(file) => file,
            other => return Ok(other),
        };
        let path = self.path_of(sha256_hex)?;
        let modified = file
            .metadata()
            .and_then(|m| m.modified())
            .map_err(StoreError::io("reading metadata of", &path))?;
        if self.lock().get(sha256_hex) == Some(&(size, modified)) {
            return Ok(BlobCheck::Ok(file));
        }
        let actual = hash_file(&file, &path)?;
        if actual != sha256_hex {
            return Ok(BlobCheck::WrongDigest { actual });
        }
        self.lock().insert(sha256_hex.to_owned(), (size, modified));
        Ok(BlobCheck::Ok(file))
    }

    /// Re-hashes a blob: `Ok(true)` if it exists and its bytes hash to its
    /// name.
    pub fn verify(&self, sha256_hex: &str) -> Result<bool, StoreError> {
        let path = self.path_of(sha256_hex)?;
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::io("opening", &path)(e)),
        };
        Ok(hash_file(&file, &path)? == sha256_hex)
    }

    /// Removes a blob (a damaged one, before rebuilding it).
    pub fn remove(&self, sha256_hex: &str) -> Result<(), StoreError> {
        let path = self.path_of(sha256_hex)?;
        self.forget(sha256_hex);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("removing", &path)(e)),
        }
    }

    fn forget(&self, sha256_hex: &str) {
        self.lock().remove(sha256_hex);
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io("syncing directory", &self.root))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, SystemTime)>> {
        // The map is a cache of facts; a panic elsewhere leaves it usable.
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Lowercase hex sha256 of a whole file.
fn hash_file(file: &File, path: &Path) -> Result<String, StoreError> {
    let mut reader = file;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(StoreError::io("reading", path))?;
        match buf.get(..n) {
            Some(chunk) if !chunk.is_empty() => hasher.update(chunk),
            _ => break,
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_open_verify_and_detect_damage() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".tmp-leftover"), b"partial").unwrap();
        let blobs = BlobDir::open(dir.path().to_owned()).unwrap();
        assert!(!dir.path().join(".tmp-leftover").exists());
        let hex = blobs.put_bytes(b"hello").unwrap();
        assert_eq!(hex, hex::encode(Sha256::digest(b"hello")));
        assert!(matches!(
            blobs.open_verified(&hex, 5).unwrap(),
            BlobCheck::Ok(_)
        ));
        assert!(matches!(
            blobs.open_sized(&hex, 6).unwrap(),
            BlobCheck::WrongSize { actual: 5 }
        ));
        assert!(blobs.verify(&hex).unwrap());
        // Same size, other bytes, later mtime: the digest check catches it.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(blobs.path_of(&hex).unwrap(), b"jello").unwrap();
        assert!(matches!(
            blobs.open_verified(&hex, 5).unwrap(),
            BlobCheck::WrongDigest { .. }
        ));
        assert!(!blobs.verify(&hex).unwrap());
        blobs.remove(&hex).unwrap();
        assert!(matches!(
            blobs.open_sized(&hex, 5).unwrap(),
            BlobCheck::Missing
        ));
    }

    #[test]
    fn refuses_names_that_are_not_digests() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::open(dir.path().to_owned()).unwrap();
        for bad in ["../x", "ABCD", "", &"g".repeat(64)] {
            assert!(matches!(
                blobs.path_of(bad),
                Err(StoreError::InvalidName(_))
            ));
        }
    }
}
