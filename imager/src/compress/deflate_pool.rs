//! Raw-deflate compression of independent blocks, inline or on worker threads.
//!
//! This is the half of the parallel gzip encoder that does CPU work. A block
//! is compressed on its own, primed with the last 32 KiB of the block before
//! it as a preset dictionary (so matches still reach back across the block
//! boundary, as pigz does), and ends either with a sync flush (an empty
//! stored block that byte-aligns it, so blocks concatenate into one deflate
//! stream) or, for the last block, with the final deflate block. Because the
//! result depends only on the block and its dictionary, compressing inline or
//! on any number of workers gives the same bytes.
//!
//! Workers receive jobs over a bounded channel and send results back tagged
//! with a sequence number; putting them back in order, and bounding how many
//! are in flight, is the caller's job ([`super::gz`]).

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use flate2::{Compress, Compression, FlushCompress, Status};

/// One block to compress.
#[derive(Debug)]
pub(crate) struct Job {
    /// Position of the block in the stream, from 0.
    pub(crate) seq: u64,
    /// Up to 32 KiB of input preceding the block (empty for the first one).
    pub(crate) dict: Vec<u8>,
    /// The block's input.
    pub(crate) data: Vec<u8>,
    /// Whether this is the final block of the stream.
    pub(crate) last: bool,
}

/// A compressed block (or why it failed), tagged with its position.
#[derive(Debug)]
pub(crate) struct Done {
    /// The job's sequence number.
    pub(crate) seq: u64,
    /// The raw deflate bytes of the block.
    pub(crate) out: io::Result<Vec<u8>>,
}

/// Compresses `job` at `level` with a compressor of its own.
///
/// A fresh compressor per block is what makes the output independent of
/// which thread compressed which block: a reset zlib(-rs) compressor keeps
/// its old window bytes, and match searches that peek past the input can
/// then choose differently (seen: 1 block in 200 came out one byte longer).
/// The cost is one zeroed allocation of a few hundred KiB per 128 KiB block.
pub(crate) fn deflate_block(level: Compression, job: &Job) -> io::Result<Vec<u8>> {
    let mut compressor = Compress::new(level, false);
    if !job.dict.is_empty() {
        compressor
            .set_dictionary(&job.dict)
            .map_err(io::Error::other)?;
    }
    let flush = if job.last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    // Deflate expands incompressible input by a few bytes per 16 KiB stored
    // block; start there and grow if the compressor asks for more room.
    let slack = job.data.len() / 64 + 64;
    let mut out = Vec::with_capacity(job.data.len() + slack);
    loop {
        let consumed = usize::try_from(compressor.total_in()).unwrap_or(usize::MAX);
        let rest = job.data.get(consumed..).unwrap_or_default();
        let status = compressor
            .compress_vec(rest, &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = usize::try_from(compressor.total_in()).is_ok_and(|n| n == job.data.len());
        // A flush is complete once the compressor returns with output room to
        // spare (zlib's rule); the finish once it reports the stream's end.
        let done = if job.last {
            status == Status::StreamEnd
        } else {
            all_in && out.len() < out.capacity()
        };
        if done {
            return Ok(out);
        }
        out.reserve(slack);
    }
}

/// A fixed set of threads compressing [`Job`]s.
#[derive(Debug)]
pub(crate) struct Pool {
    jobs: Option<SyncSender<Job>>,
    results: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `threads` workers at `level`; at most `queue` jobs wait unclaimed.
    pub(crate) fn new(threads: usize, level: Compression, queue: usize) -> io::Result<Self> {
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(queue);
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let handle = thread::Builder::new()
                .name(format!("gzip-{i}"))
                .spawn(move || worker(&job_rx, &done_tx, level))?;
            workers.push(handle);
        }
        Ok(Pool {
            jobs: Some(job_tx),
            results: done_rx,
            workers,
        })
    }

    /// Queues a job; blocks while the queue is full.
    pub(crate) fn submit(&self, job: Job) -> io::Result<()> {
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())
    }

    /// Waits for the next finished block (in completion order).
    pub(crate) fn recv(&self) -> io::Result<Done> {
        self.results.recv().map_err(|_| stopped())
    }

    /// A finished block if one is ready, without waiting.
    pub(crate) fn try_recv(&self) -> Option<Done> {
        self.results.try_recv().ok()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the job channel ends each worker after its current block.
        self.jobs = None;
        for handle in self.workers.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

fn worker(jobs: &Mutex<Receiver<Job>>, done: &mpsc::Sender<Done>, level: Compression) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let out = deflate_block(level, &job);
        if done.send(Done { seq: job.seq, out }).is_err() {
            return;
        }
    }
}

fn stopped() -> io::Error {
    io::Error::other("gzip worker threads stopped unexpectedly")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn job(seq: u64, dict: &[u8], data: &[u8], last: bool) -> Job {
        Job {
            seq,
            dict: dict.to_vec(),
            data: data.to_vec(),
            last,
        }
    }

    #[test]
    fn blocks_concatenate_into_one_deflate_stream() {
        let a: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let b: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 13) as u8).collect();
        let level = Compression::new(6);
        let mut stream = deflate_block(level, &job(0, &[], &a, false)).unwrap();
        let dict = &a[a.len() - 32 * 1024..];
        stream.extend(deflate_block(level, &job(1, dict, &b, true)).unwrap());
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, [a, b].concat());
    }

    #[test]
    fn empty_last_block_is_a_valid_stream() {
        let out = deflate_block(Compression::new(6), &job(0, &[], &[], true)).unwrap();
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back.is_empty());
    }

    #[test]
    fn pool_returns_every_job() {
        let pool = Pool::new(2, Compression::new(6), 4).unwrap();
        for seq in 0..6 {
            pool.submit(job(seq, &[], b"hello hello hello", false))
                .unwrap();
        }
        let mut seen: Vec<u64> = (0..6).map(|_| pool.recv().unwrap().seq).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..6).collect::<Vec<_>>());
    }
}
