//! Compressing a file into another file, for callers that build to disk.
//!
//! The input is read in 1 MiB chunks and the output goes through a 256 KiB
//! buffer, so memory is those two buffers plus the encoder's own, whatever
//! the file size. The input size is taken from the file's metadata and
//! declared to the encoder (the tar header needs it; zstd records it), so a
//! file that grows or shrinks while it is read makes the call fail instead of
//! writing an archive that lies. On any error the partial output is removed.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use factory_core::image_path::OutFormat;

use super::{CompressError, CompressOptions, encoder};

const READ_CHUNK: usize = 1024 * 1024;
const WRITE_BUFFER: usize = 256 * 1024;

/// Compresses `input` into a new file `output` (replaced if it exists) in
/// `format`, and returns the number of bytes written to `output`.
///
/// [`CompressOptions::input_size`] is ignored: the file's size is used.
pub fn compress_file(
    format: OutFormat,
    input: &Path,
    output: &Path,
    options: &CompressOptions,
) -> Result<u64, CompressError> {
    let read_err = |source| CompressError::ReadInput {
        path: input.to_owned(),
        source,
    };
    let mut src = File::open(input).map_err(read_err)?;
    let size = src.metadata().map_err(read_err)?.len();
    let options = CompressOptions {
        input_size: Some(size),
        ..options.clone()
    };
    let dst = File::create(output).map_err(|source| CompressError::CreateOutput {
        path: output.to_owned(),
        source,
    })?;
    let counted = Counting {
        inner: BufWriter::with_capacity(WRITE_BUFFER, dst),
        count: 0,
    };
    let result = stream(format, input, &mut src, counted, &options).map_err(|e| match e {
        e @ CompressError::ReadInput { .. } => e,
        e => CompressError::Output {
            path: output.to_owned(),
            source: Box::new(e),
        },
    });
    if result.is_err() {
        // Best effort: the error being returned matters more than this one.
        let _ = fs::remove_file(output);
    }
    result
}

fn stream(
    format: OutFormat,
    input: &Path,
    src: &mut File,
    out: Counting<BufWriter<File>>,
    options: &CompressOptions,
) -> Result<u64, CompressError> {
    let mut enc = encoder(format, out, options)?;
    let name = enc.format_name();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(CompressError::ReadInput {
                    path: input.to_owned(),
                    source,
                });
            }
        };
        let chunk = buf.get(..n).unwrap_or_default();
        enc.write_all(chunk)
            .map_err(|e| CompressError::from_io("writing", name, e))?;
    }
    let out = enc.finish()?;
    Ok(out.count)
}

/// Counts the bytes that reach the output.
struct Counting<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
