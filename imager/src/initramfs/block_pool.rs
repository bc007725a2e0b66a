//! Squashfs data blocks compressed on several cores.
//!
//! `backhand`'s writer compresses one block at a time on the calling
//! thread; at zstd level 18 that is nearly all of a cold build's time, and
//! `mksquashfs` uses every core. The writer accepts a custom compression
//! action, so this module runs workers *ahead* of it: they read the full
//! data blocks of the image's files in the order the writer will ask for
//! them (its nodes sorted by path components), compress them with the same
//! code the writer would use (zstd at the image's level, one context per
//! worker), and leave the results keyed by the SHA-256 of the uncompressed
//! block. When the writer asks for a block, the action takes the worker's
//! result, waits if a worker is on it, or compresses it itself (and tells
//! the workers to skip it). The image's bytes are exactly those of a serial
//! write: only where the work runs changes.
//!
//! The workers follow the writer's plan ([`plan`]): files of a block or
//! more are cut into blocks (the last one shorter), smaller files are
//! packed into fragment blocks. Metadata blocks are left to the writer. A
//! block the plan gets wrong is never asked for and only costs time.
//! Memory: at most [`READY_BLOCKS`] finished blocks wait (128 KiB each at
//! most), plus one block per worker.
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
    /// Next job for a worker.
    cursor: usize,
    stop: bool,
    stats: PoolStats,
}

/// How the writer's blocks were compressed.
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
    jobs: Vec<Job>,
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

    /// A worker: claims jobs in order until they are done or the write is
    /// over. Read or compression errors leave the block to the writer,
    /// which reports them.
    fn work(&self) {
        let mut buf = Vec::with_capacity(self.block_size as usize);
        let mut context = self
            .zstd_level
            .and_then(|level| zstd::bulk::Compressor::new(level).ok());
        let mut open: Option<(usize, File)> = None;
        loop {
            let job = {
                let mut state = self.lock();
                while state.ready_count >= READY_BLOCKS && !state.stop {
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                if state.stop {
                    return;
                }
                let Some(job) = self.jobs.get(state.cursor) else {
                    return;
                };
                state.cursor += 1;
                job
            };
            buf.clear();
            match job {
                Job::Data { file, offset, len } => {
                    if open.as_ref().is_none_or(|(i, _)| i != file) {
                        open = self
                            .files
                            .get(*file)
                            .and_then(|(path, _)| File::open(path).ok())
                            .map(|f| (*file, f));
                    }
                    let Some((_, handle)) = open.as_mut() else {
                        continue;
                    };
                    buf.resize(*len, 0);
                    if read_at(handle, *offset, &mut buf).is_err() {
                        open = None;
                        continue;
                    }
                    if buf.iter().all(|b| *b == 0) {
                        continue; // stored as a hole, never compressed
                    }
                }
                Job::Fragment { files } => {
                    let mut complete = true;
                    for file in files {
                        let Some((path, size)) = self.files.get(*file) else {
                            complete = false;
                            break;
                        };
                        let read = File::open(path)
                            .and_then(|f| f.take(*size).read_to_end(&mut buf))
                            .is_ok_and(|n| n as u64 == *size);
                        if !read {
                            complete = false;
                            break;
                        }
                    }
                    if !complete {
                        continue;
                    }
                }
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
}

/// A block the writer will compress, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Job {
    /// `len` bytes of file `file` from `offset`: a full block, or the last,
    /// shorter block of a file of at least one block (backhand stores such
    /// tails as short data blocks, not in fragments).
    Data {
        file: usize,
        offset: u64,
        len: usize,
    },
    /// Files shorter than a block, whole and concatenated: one fragment
    /// block, as the writer packs them.
    Fragment { files: Vec<usize> },
}

/// The blocks backhand's writer compresses for `files` (in its order):
/// each file of at least a block is cut into blocks; smaller non-empty
/// files are packed into fragment blocks, a new one started when the next
/// file would not fit.
fn plan(files: &[(PathBuf, u64)], block_size: u32) -> Vec<Job> {
    let block = u64::from(block_size);
    let mut jobs = Vec::new();
    let (mut fragment, mut fragment_len) = (Vec::new(), 0u64);
    for (index, (_, size)) in files.iter().enumerate() {
        let size = *size;
        if size == 0 {
            continue;
        }
        if size < block {
            if fragment_len + size > block {
                jobs.push(Job::Fragment {
                    files: std::mem::take(&mut fragment),
                });
                fragment_len = 0;
            }
            fragment.push(index);
            fragment_len += size;
            continue;
        }
        let mut offset = 0;
        while offset < size {
            let len = (size - offset).min(block);
            jobs.push(Job::Data {
                file: index,
                offset,
                len: usize::try_from(len).unwrap_or(usize::MAX),
            });
            offset += len;
        }
    }
    if !fragment.is_empty() {
        jobs.push(Job::Fragment { files: fragment });
    }
    jobs
}

fn block_key(bytes: &[u8]) -> BlockKey {
    Sha256::digest(bytes).into()
}

fn read_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// One file of the image: its path in the image, its content, its size.
pub(crate) type PoolFile = (String, PathBuf, u64);

/// Runs `write` (one `FilesystemWriter::write` on this thread, with
/// [`pooled_kind`]) while `workers` threads compress ahead the blocks of
/// `files` (in any order). `zstd_level` must be the level `fc` uses
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
    let files: Vec<(PathBuf, u64)> = files.into_iter().map(|(_, p, s)| (p, s)).collect();
    let pool = Arc::new(Pool {
        jobs: plan(&files, block_size),
        files,
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
            Some(pool)
                if !bytes.is_empty()
                    && bytes.len() <= block_size as usize
                    && pool.block_size == block_size =>
            {
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
    fn plan_follows_the_writer() {
        let b = u64::from(DEFAULT_BLOCK_SIZE);
        let files: Vec<(PathBuf, u64)> = [2 * b + 3, 0, b / 2, b / 2, 1, b]
            .iter()
            .map(|s| (PathBuf::new(), *s))
            .collect();
        let block = DEFAULT_BLOCK_SIZE as usize;
        assert_eq!(
            plan(&files, DEFAULT_BLOCK_SIZE),
            [
                Job::Data {
                    file: 0,
                    offset: 0,
                    len: block
                },
                Job::Data {
                    file: 0,
                    offset: b,
                    len: block
                },
                Job::Data {
                    file: 0,
                    offset: 2 * b,
                    len: 3
                },
                Job::Fragment { files: vec![2, 3] },
                Job::Data {
                    file: 5,
                    offset: 0,
                    len: block
                },
                Job::Fragment { files: vec![4] },
            ]
        );
    }

    #[test]
    fn pooled_image_is_byte_identical_to_serial() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        // Names whose string order differs from component order ("a-b" vs
        // "a/…"), several blocks each, one duplicate, one hole, one tail.
        // Names whose string order differs from component order ("a-b" vs
        // "a/…"); several blocks and a tail each; one duplicate; one with a
        // hole; small files packed into fragments; an empty file.
        let block = DEFAULT_BLOCK_SIZE as usize;
        let sizes = [
            ("a/x", 3 * block + 1000),
            ("a-b", 2 * block + 5),
            ("c", block),
            ("dup", 3 * block + 1000),
            ("hole", 2 * block),
            ("s1", 70_000),
            ("s2", 70_000),
            ("s3", 10),
            ("s4", 0),
        ];
        for (i, (name, len)) in sizes.iter().enumerate() {
            let path = dir.path().join(format!("f{i}"));
            let mut data: Vec<u8> = (0..*len)
                .map(|j| ((j * 7 + i * 13) % 251) as u8 ^ ((j / 4096) as u8))
                .collect();
            if *name == "dup" {
                data = std::fs::read(dir.path().join("f0")).unwrap();
            }
            if *name == "hole" {
                data[..block].fill(0);
            }
            std::fs::write(&path, data).unwrap();
            files.push((name.to_string(), path));
        }
        let (serial, _) = image(&files, None);
        for workers in [0, 1, 3] {
            let (pooled, stats) = image(&files, Some(workers));
            assert!(serial == pooled, "{workers} workers changed the image");
            eprintln!("{workers} workers: {stats:?}");
            if workers == 0 {
                assert_eq!(stats.ahead, 0);
            } else {
                assert!(stats.ahead > 0, "{stats:?}");
            }
        }
    }
}
