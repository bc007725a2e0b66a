//! Squashfs data blocks compressed on several cores.
//!
//! `backhand`'s writer compresses one block at a time on the calling
//! thread; at zstd level 18 that is nearly all of a cold build's time, and
//! `mksquashfs` uses every core. The writer accepts a custom compression
//! action, so this module runs workers *ahead* of it: they read the full
//! data blocks of the image's files in the order the writer will ask for
//! them (its nodes sorted by path components), compress them with the same
//! code the writer would use ([`DefaultCompressor`], level and all), and
//! leave the results keyed by the SHA-256 of the uncompressed block. When
//! the writer asks for a block, the action takes the worker's result, waits
//! if a worker is on it, or compresses it itself (and tells the workers to
//! skip it). The image's bytes are exactly those of a serial write: only
//! where the work runs changes.
//!
//! Blocks shorter than the block size (fragments) and metadata blocks are
//! compressed by the writer as before. Memory: at most [`READY_BLOCKS`]
//! finished blocks wait (128 KiB each at most), plus one block per worker.
//!
//! The writer's action must be a `'static` value, so the per-image state is
//! found through a thread-local set for the duration of one write by
//! [`with_pool`]; a write on a thread without one compresses serially.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use backhand::compression::{CompressionAction, Compressor, DefaultCompressor};
use backhand::kind::Kind;
use backhand::{BackhandError, FilesystemCompressor, SuperBlock};
use sha2::{Digest as _, Sha256};

/// Most finished blocks waiting for the writer.
pub(crate) const READY_BLOCKS: usize = 16;

type BlockKey = [u8; 32];

/// The compression action given to the writer.
#[derive(Debug)]
pub(crate) struct PooledCompressor;

/// The one instance (`backhand` wants a `'static` action).
pub(crate) static POOLED: PooledCompressor = PooledCompressor;

/// The writer's kind (squashfs 4.0 little-endian, as the default) with the
/// pooled action.
pub(crate) fn pooled_kind() -> Kind {
    Kind::new_v4(&POOLED)
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Pool>>> = const { RefCell::new(None) };
}

#[derive(Debug, Default)]
struct State {
    /// Finished blocks (several for equal blocks).
    ready: HashMap<BlockKey, Vec<Vec<u8>>>,
    ready_count: usize,
    /// Blocks a worker is compressing.
    running: HashMap<BlockKey, usize>,
    /// Blocks the writer compressed itself, for workers to skip.
    taken: HashMap<BlockKey, usize>,
    /// Next block for a worker: file index and block index.
    cursor: (usize, u64),
    stop: bool,
    stats: PoolStats,
}

/// How the writer's full blocks were compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PoolStats {
    /// Taken from a worker.
    pub(crate) ahead: u64,
    /// Compressed by the writer itself.
    pub(crate) inline: u64,
}

#[derive(Debug)]
struct Pool {
    files: Vec<(PathBuf, u64)>,
    fc: FilesystemCompressor,
    block_size: u32,
    /// The zstd level `fc` stands for, so that workers can keep one
    /// context each instead of making one per block as backhand does (the
    /// bytes are the same; the unit test holds that).
    zstd_level: Option<i32>,
    state: Mutex<State>,
    changed: Condvar,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker never panics while holding the lock (no unwrap inside);
        // if one did, the state is still consistent enough to finish.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The writer's side: the compressed `bytes`, from a worker or made
    /// here.
    fn compress(&self, bytes: &[u8]) -> Result<Vec<u8>, BackhandError> {
        let key = block_key(bytes);
        let mut state = self.lock();
        loop {
            if let Some(list) = state.ready.get_mut(&key)
                && let Some(done) = list.pop()
            {
                if list.is_empty() {
                    state.ready.remove(&key);
                }
                state.ready_count = state.ready_count.saturating_sub(1);
                state.stats.ahead += 1;
                self.changed.notify_all();
                return Ok(done);
            }
            if state.running.get(&key).copied().unwrap_or(0) == 0 {
                break;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        *state.taken.entry(key).or_default() += 1;
        state.stats.inline += 1;
        drop(state);
        DefaultCompressor.compress(bytes, self.fc, self.block_size)
    }

    /// A worker: claims blocks in order until the files are done or the
    /// write is over. Read or compression errors leave the block to the
    /// writer, which reports them.
    fn work(&self) {
        let block = self.block_size as usize;
        let mut buf = vec![0u8; block];
        let mut context = self
            .zstd_level
            .and_then(|level| zstd::bulk::Compressor::new(level).ok());
        let mut open: Option<(usize, File)> = None;
        loop {
            let (file_index, block_index) = {
                let mut state = self.lock();
                while state.ready_count >= READY_BLOCKS && !state.stop {
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                if state.stop {
                    return;
                }
                let Some(claim) = self.next_block(&mut state) else {
                    return;
                };
                claim
            };
            let Some((path, _)) = self.files.get(file_index) else {
                return;
            };
            if open.as_ref().is_none_or(|(i, _)| *i != file_index) {
                open = File::open(path).ok().map(|f| (file_index, f));
            }
            let Some((_, file)) = open.as_mut() else {
                continue;
            };
            if read_block_at(file, block_index * u64::from(self.block_size), &mut buf).is_err() {
                open = None;
                continue;
            }
            if buf.iter().all(|b| *b == 0) {
                continue; // stored as a hole, never compressed
            }
            let key = block_key(&buf);
            {
                let mut state = self.lock();
                if let Some(n) = state.taken.get_mut(&key)
                    && *n > 0
                {
                    *n -= 1;
                    continue;
                }
                *state.running.entry(key).or_default() += 1;
            }
            let result = match context.as_mut() {
                Some(context) => context.compress(&buf).map_err(BackhandError::StdIo),
                None => DefaultCompressor.compress(&buf, self.fc, self.block_size),
            };
            let mut state = self.lock();
            if let Some(n) = state.running.get_mut(&key) {
                *n = n.saturating_sub(1);
            }
            if let Ok(done) = result {
                state.ready.entry(key).or_default().push(done);
                state.ready_count += 1;
            }
            self.changed.notify_all();
        }
    }

    /// The next full data block in writer order, advancing the cursor.
    fn next_block(&self, state: &mut State) -> Option<(usize, u64)> {
        loop {
            let (file_index, block_index) = state.cursor;
            let (_, size) = self.files.get(file_index)?;
            let full_blocks = size / u64::from(self.block_size);
            // A file shorter than a block is all fragment: no data blocks.
            if block_index < full_blocks {
                state.cursor = (file_index, block_index + 1);
                return Some((file_index, block_index));
            }
            state.cursor = (file_index + 1, 0);
        }
    }
}

fn block_key(bytes: &[u8]) -> BlockKey {
    Sha256::digest(bytes).into()
}

fn read_block_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// One file of the image: its path in the image, its content, its size.
pub(crate) type PoolFile = (String, PathBuf, u64);

/// Runs `write` (one `FilesystemWriter::write` on this thread, with
/// [`pooled_kind`]) while `workers` threads compress ahead the full blocks
/// of `files` (in any order). `zstd_level` must be the level `fc` uses
/// when it is zstd. Also says how the blocks were compressed.
pub(crate) fn with_pool<T>(
    mut files: Vec<PoolFile>,
    fc: FilesystemCompressor,
    zstd_level: Option<i32>,
    block_size: u32,
    workers: usize,
    write: impl FnOnce() -> T,
) -> (T, PoolStats) {
    // The writer's order: its nodes sorted by path components.
    files.sort_by(|a, b| Path::new(&a.0).cmp(Path::new(&b.0)));
    let pool = Arc::new(Pool {
        files: files.into_iter().map(|(_, p, s)| (p, s)).collect(),
        fc,
        block_size,
        zstd_level,
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(&pool)));
    let result = std::thread::scope(|scope| {
        for _ in 0..workers {
            let pool = Arc::clone(&pool);
            scope.spawn(move || pool.work());
        }
        let result = write();
        pool.lock().stop = true;
        pool.changed.notify_all();
        result
    });
    CURRENT.with(|c| *c.borrow_mut() = None);
    let stats = pool.lock().stats;
    (result, stats)
}

impl CompressionAction for PooledCompressor {
    type Error = BackhandError;
    type Compressor = Compressor;
    type FilesystemCompressor = FilesystemCompressor;
    type SuperBlock = SuperBlock;

    fn decompress(
        &self,
        bytes: &[u8],
        out: &mut Vec<u8>,
        compressor: Self::Compressor,
    ) -> Result<(), Self::Error> {
        DefaultCompressor.decompress(bytes, out, compressor)
    }

    fn compress(
        &self,
        bytes: &[u8],
        fc: Self::FilesystemCompressor,
        block_size: u32,
    ) -> Result<Vec<u8>, Self::Error> {
        let pool = CURRENT.with(|c| c.borrow().clone());
        match pool {
            Some(pool) if bytes.len() == block_size as usize && pool.block_size == block_size => {
                pool.compress(bytes)
            }
            _ => DefaultCompressor.compress(bytes, fc, block_size),
        }
    }

    fn compression_options(
        &self,
        superblock: &mut Self::SuperBlock,
        kind: &Kind,
        fs_compressor: Self::FilesystemCompressor,
    ) -> Result<Option<Vec<u8>>, Self::Error> {
        DefaultCompressor.compression_options(superblock, kind, fs_compressor)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use backhand::compression::Zstd;
    use backhand::{DEFAULT_BLOCK_SIZE, FilesystemWriter, NodeHeader};

    use super::*;

    fn image(files: &[(String, PathBuf)], workers: Option<usize>) -> (Vec<u8>, PoolStats) {
        let fc = FilesystemCompressor::new(
            Compressor::Zstd,
            Some(backhand::compression::CompressionOptions::Zstd(Zstd {
                compression_level: 18,
            })),
        )
        .unwrap();
        let mut fs = FilesystemWriter::default();
        fs.set_time(0);
        fs.set_compressor(fc);
        if workers.is_some() {
            fs.set_kind(pooled_kind());
        }
        fs.push_dir("a", NodeHeader::new(0o755, 0, 0, 0)).unwrap();
        for (name, path) in files {
            fs.push_file_from_path(path, name.as_str(), NodeHeader::new(0o644, 0, 0, 0))
                .unwrap();
        }
        let mut out = Cursor::new(Vec::new());
        let pool_files = files
            .iter()
            .map(|(n, p)| (n.clone(), p.clone(), std::fs::metadata(p).unwrap().len()))
            .collect();
        let (written, stats) = match workers {
            Some(n) => with_pool(pool_files, fc, Some(18), DEFAULT_BLOCK_SIZE, n, || {
                fs.write(&mut out)
            }),
            None => (fs.write(&mut out), PoolStats::default()),
        };
        written.unwrap();
        (out.into_inner(), stats)
    }

    #[test]
    fn pooled_image_is_byte_identical_to_serial() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        // Names whose string order differs from component order ("a-b" vs
        // "a/…"), several blocks each, one duplicate, one hole, one tail.
        for (i, name) in ["a/x", "a-b", "c", "dup", "hole"].iter().enumerate() {
            let path = dir.path().join(format!("f{i}"));
            let mut data: Vec<u8> = (0..(3 * DEFAULT_BLOCK_SIZE as usize + 1000))
                .map(|j| ((j * 7 + i * 13) % 251) as u8 ^ ((j / 4096) as u8))
                .collect();
            if *name == "dup" {
                data = std::fs::read(dir.path().join("f0")).unwrap();
            }
            if *name == "hole" {
                data[..DEFAULT_BLOCK_SIZE as usize].fill(0);
            }
            std::fs::write(&path, data).unwrap();
            files.push((name.to_string(), path));
        }
        let (serial, _) = image(&files, None);
        for workers in [0, 1, 3] {
            let (pooled, stats) = image(&files, Some(workers));
            assert!(serial == pooled, "{workers} workers changed the image");
            assert_eq!(stats.ahead + stats.inline, 14, "{stats:?}");
            eprintln!("{workers} workers: {stats:?}");
            if workers == 0 {
                assert_eq!(stats.ahead, 0);
            }
        }
    }
}
