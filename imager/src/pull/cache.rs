//! The on-disk content-addressed blob cache shared by every build.
//!
//! Layout: `<root>/blobs/<algorithm>/<hex>` for complete, verified blobs and
//! `<root>/tmp/` for downloads in progress. A blob is written to a temporary
//! file, hashed again from disk, fsynced and only then renamed into place, so
//! a path under `blobs/` always holds exactly the bytes its name promises,
//! even after a crash or with several processes sharing the directory (the
//! rename is atomic). Within a process, concurrent requests for one digest
//! wait on a per-digest lock and the first one downloads.
//!
//! Nothing is evicted: the cache is bounded by the upstream content the
//! deployment uses (a few GiB per Talos release).

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use factory_core::registry::{Digest, DigestAlgorithm};
use sha2::{Sha256, Sha512};

use super::error::PullError;

/// See the module docs.
pub struct BlobCache {
    root: PathBuf,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    downloads: AtomicU64,
    temp_counter: AtomicU64,
}

impl BlobCache {
    /// Opens (creating if needed) a cache rooted at `root`.
    pub fn open(root: PathBuf) -> Result<Self, PullError> {
        for dir in [root.join("blobs"), root.join("tmp")] {
            std::fs::create_dir_all(&dir).map_err(|source| PullError::Io {
                action: "creating",
                path: dir.clone(),
                source,
            })?;
        }
        Ok(BlobCache {
            root,
            locks: Mutex::new(HashMap::new()),
            downloads: AtomicU64::new(0),
            temp_counter: AtomicU64::new(0),
        })
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with `digest` lives once cached.
    pub fn path_of(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    /// How many blobs this cache has fetched since it was opened.
    pub fn downloads(&self) -> u64 {
        self.downloads.load(Ordering::SeqCst)
    }

    /// Returns the cached path of `digest`, calling `fetch` with a temporary
    /// path to fill if it is missing. Concurrent callers for the same digest
    /// share one fetch. What `fetch` writes is verified against `digest`
    /// before it becomes visible.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        digest: &Digest,
        fetch: F,
    ) -> Result<PathBuf, PullError>
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: Future<Output = Result<PathBuf, PullError>>,
    {
        let path = self.path_of(digest);
        if path.is_file() {
            return Ok(path);
        }
        let lock = self.lock_for(digest);
        let _guard = lock.lock().await;
        if path.is_file() {
            self.release(digest, &lock);
            return Ok(path);
        }
        let n = self.temp_counter.fetch_add(1, Ordering::SeqCst);
        let tmp =
            self.root
                .join("tmp")
                .join(format!("{}.{}.{n}", digest.hex(), std::process::id()));
        let result = async {
            let written = fetch(tmp.clone()).await?;
            let written = written.clone();
            tokio::task::spawn_blocking({
                let digest = digest.clone();
                let path = path.clone();
                move || publish(&written, &digest, &path)
            })
            .await
            .map_err(|e| PullError::Io {
                action: "verifying",
                path: tmp.clone(),
                source: std::io::Error::other(e.to_string()),
            })?
        }
        .await;
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        } else {
            self.downloads.fetch_add(1, Ordering::SeqCst);
        }
        self.release(digest, &lock);
        result.map(|()| path)
    }

    fn lock_for(&self, digest: &Digest) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(digest.to_string()).or_default().clone()
    }

    /// Forgets the per-digest lock once nobody else holds a handle to it.
    fn release(&self, digest: &Digest, lock: &Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Two handles: the map's and the caller's.
        if Arc::strong_count(lock) <= 2 {
            locks.remove(&digest.to_string());
        }
    }
}

/// Re-hashes `tmp` from disk, fsyncs it and renames it to `final_path`.
fn publish(tmp: &Path, digest: &Digest, final_path: &Path) -> Result<(), PullError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| PullError::Io {
            action,
            path,
            source,
        }
    };
    let mut file = std::fs::File::open(tmp).map_err(io("opening", tmp))?;
    let actual = hash_file(&mut file, digest).map_err(io("reading", tmp))?;
    if actual != *digest {
        return Err(PullError::DigestMismatch {
            what: format!("blob {digest}"),
            actual,
        });
    }
    file.sync_all().map_err(io("syncing", tmp))?;
    if let Some(parent) = final_path.parent() {
        std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
    }
    std::fs::rename(tmp, final_path).map_err(io("renaming into", final_path))?;
    Ok(())
}

/// Hashes a file with the algorithm of `like`.
fn hash_file(file: &mut std::fs::File, like: &Digest) -> std::io::Result<Digest> {
    let (algorithm, raw) = match like.algorithm() {
        DigestAlgorithm::Sha256 => ("sha256", hash_with::<Sha256>(file)?),
        DigestAlgorithm::Sha512 => ("sha512", hash_with::<Sha512>(file)?),
    };
    format!("{algorithm}:{}", hex::encode(raw))
        .parse()
        .map_err(|_| std::io::Error::other("hash is not a digest"))
}

fn hash_with<H: sha2::Digest>(file: &mut std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut hasher = H::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.finalize().to_vec());
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
}
