//! gzip streams, compressed on several threads the way pigz does it.
//!
//! Upstream post-processes `.gz` and `.tar.gz` with `pigz -6 --no-time`. We
//! write the same shape of stream: one gzip member whose header has no name
//! and a zero mtime (XFL 0, OS 3 = Unix, as pigz and `gzip -n` write), a
//! deflate body cut into 128 KiB blocks that are compressed independently
//! (see [`super::deflate_pool`]), and the CRC-32 and size trailer. Any gzip
//! reader sees an ordinary single-member file.
//!
//! Why not a crate: `gzp` (the pigz-like crate) needs `W: Send + 'static`,
//! runs its own writer thread and its `finish` does not give the writer back,
//! which does not fit the `Encoder<W>` API; its default backend also builds
//! zlib-ng with cmake. flate2 (on the pure-Rust zlib-rs backend, which has
//! preset dictionaries) plus a small ordered pool is enough.
//!
//! Bounds: at most `2 x threads` blocks are in flight (each 128 KiB of input,
//! its 32 KiB dictionary and its output) and each busy worker holds one
//! compressor (about 300 KiB), so memory is about `threads x 1 MiB` whatever
//! the input size. The CRC is computed on the
//! writing thread (crc32fast runs at several GiB/s). With one thread the
//! blocks are compressed inline, with no worker threads, into the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use flate2::Compression;

use super::CompressError;
use super::deflate_pool::{Job, Pool, deflate_block};

/// Input per block, as pigz's default `-b 128`.
const BLOCK_SIZE: usize = 128 * 1024;
/// Deflate's window: the dictionary carried from one block to the next.
const DICT_SIZE: usize = 32 * 1024;
/// gzip OS byte for Unix, as pigz writes on Linux.
const OS_UNIX: u8 = 3;

/// A gzip stream writer compressing on `threads` threads.
pub(crate) struct GzEncoder<W: Write> {
    out: W,
    block: Vec<u8>,
    dict: Vec<u8>,
    crc: crc32fast::Hasher,
    total_in: u64,
    engine: Engine,
    /// Sequence number of the next block to submit.
    submitted: u64,
    /// Sequence number of the next block to write out.
    next_out: u64,
    /// Finished blocks waiting for their predecessors.
    ready: BTreeMap<u64, Vec<u8>>,
    max_in_flight: u64,
    /// Set after an error: the stream is unusable.
    failed: bool,
}

enum Engine {
    Inline(Compression),
    Pool(Pool),
}

impl<W: Write> GzEncoder<W> {
    /// Writes the gzip header to `out` and prepares `threads` workers.
    pub(crate) fn new(mut out: W, level: u32, threads: usize) -> Result<Self, CompressError> {
        let level = Compression::new(level);
        let xfl = match level.level() {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        // Magic, deflate, no flags, mtime 0 (`--no-time`), XFL, OS.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, OS_UNIX])
            .map_err(|e| CompressError::from_io("writing", "gzip", e))?;
        let engine = if threads <= 1 {
            Engine::Inline(level)
        } else {
            Engine::Pool(Pool::new(threads, level, threads).map_err(CompressError::GzipThread)?)
        };
        let threads = u64::try_from(threads).unwrap_or(1).max(1);
        Ok(GzEncoder {
            out,
            block: Vec::with_capacity(BLOCK_SIZE),
            dict: Vec::new(),
            crc: crc32fast::Hasher::new(),
            total_in: 0,
            engine,
            submitted: 0,
            next_out: 0,
            ready: BTreeMap::new(),
            max_in_flight: 2 * threads,
            failed: false,
        })
    }

    /// The underlying writer.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Compresses what is buffered as the last block, writes every block and
    /// the trailer, and returns the writer (not flushed).
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.check()?;
        self.finish_inner()?;
        Ok(self.out)
    }

    fn finish_inner(&mut self) -> io::Result<()> {
        self.submit(true)?;
        while self.next_out < self.submitted {
            self.wait_one()?;
        }
        let crc = self.crc.clone().finalize();
        // ISIZE is the input size modulo 2^32 (RFC 1952).
        let isize = (self.total_in & 0xffff_ffff) as u32;
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.write_all(&isize.to_le_bytes())
    }

    fn check(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("gzip stream failed earlier"));
        }
        Ok(())
    }

    /// Hands the buffered block to the engine and writes what is ready.
    fn submit(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK_SIZE));
        let tail = data.len().saturating_sub(DICT_SIZE);
        let next_dict = data.get(tail..).unwrap_or_default().to_vec();
        let job = Job {
            seq: self.submitted,
            dict: std::mem::replace(&mut self.dict, next_dict),
            data,
            last,
        };
        if let Engine::Inline(level) = self.engine {
            let out = deflate_block(level, &job)?;
            self.out.write_all(&out)?;
            self.submitted += 1;
            self.next_out += 1;
            return Ok(());
        }
        while self.submitted - self.next_out >= self.max_in_flight {
            self.wait_one()?;
        }
        if let Engine::Pool(pool) = &self.engine {
            pool.submit(job)?;
        }
        self.submitted += 1;
        self.drain_ready()
    }

    /// Waits for one result from the pool and writes what is in order.
    fn wait_one(&mut self) -> io::Result<()> {
        if let Engine::Pool(pool) = &self.engine {
            let done = pool.recv()?;
            self.ready.insert(done.seq, done.out?);
        }
        self.write_in_order()
    }

    /// Collects finished results without waiting and writes what is in order.
    fn drain_ready(&mut self) -> io::Result<()> {
        if let Engine::Pool(pool) = &self.engine {
            while let Some(done) = pool.try_recv() {
                self.ready.insert(done.seq, done.out?);
            }
        }
        self.write_in_order()
    }

    fn write_in_order(&mut self) -> io::Result<()> {
        while let Some(out) = self.ready.remove(&self.next_out) {
            self.out.write_all(&out)?;
            self.next_out += 1;
        }
        Ok(())
    }
}

impl<W: Write> Write for GzEncoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        if buf.is_empty() {
            return Ok(0);
        }
        // A full block is submitted only once more input arrives, so the last
        // block is always the one `finish` submits with the final flag.
        if self.block.len() >= BLOCK_SIZE
            && let Err(err) = self.submit(false)
        {
            self.failed = true;
            return Err(err);
        }
        let room = BLOCK_SIZE - self.block.len();
        let take = buf.get(..room.min(buf.len())).unwrap_or(buf);
        self.block.extend_from_slice(take);
        self.crc.update(take);
        self.total_in += take.len() as u64;
        Ok(take.len())
    }

    /// Flushes the underlying writer only: buffered input stays in its block,
    /// so the output does not depend on when (or whether) `flush` is called.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
