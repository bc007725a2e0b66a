//! Writing a new image layer to disk in one streaming pass.
//!
//! Entries go through a tar writer, a SHA-256 hasher (the diff ID, over the
//! uncompressed tar), optionally a gzip encoder, and a second hasher (the
//! blob digest, over what is stored), into a temporary file in the work
//! directory. When the layer is finished the file is synced and renamed to
//! `<work dir>/<hex of the blob digest>`, so an identical layer written twice
//! lands on the same name. A layer dropped before [`LayerWriter::finish`]
//! removes its temporary file.
//!
//! Compression is a choice ([`LayerCompression`]): upstream's layers are
//! gzip (go-containerregistry's default, at its fastest level), which is what
//! [`LayerCompression::Gzip`] writes. Talos's boot artifacts are already
//! compressed, so gzip gains little on them; [`LayerCompression::None`] is
//! there for callers that prefer a single-pass plain tar (then the diff ID
//! and the blob digest are the same).
//!
//! A layer holds at most [`MAX_LAYER_ENTRIES`] entries; one more is refused.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use factory_core::registry::Descriptor;
use factory_core::registry::media_types::{OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP};
use flate2::write::GzEncoder;

use super::error::OciWriteError;
use super::hashing::HashingWriter;
use super::image::LayerBlob;
use super::tar_entry;

/// The most entries one layer may have.
pub const MAX_LAYER_ENTRIES: usize = 100_000;

/// Buffer between the compressor and the file.
const FILE_BUFFER: usize = 256 * 1024;

/// How a new layer's tar is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerCompression {
    /// gzip at the fastest level, `application/vnd.oci.image.layer.v1.tar+gzip`
    /// (what upstream writes).
    #[default]
    Gzip,
    /// A plain tar, `application/vnd.oci.image.layer.v1.tar`.
    None,
}

impl LayerCompression {
    /// The layer media type for this compression.
    pub fn media_type(self) -> &'static str {
        match self {
            LayerCompression::Gzip => OCI_LAYER_TAR_GZIP,
            LayerCompression::None => OCI_LAYER_TAR,
        }
    }
}

type FileSink = HashingWriter<BufWriter<File>>;

/// The stored side of a layer: plain or gzip.
enum Sink {
    Plain(FileSink),
    Gzip(Box<GzEncoder<FileSink>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

/// Distinguishes temporary files of layers written concurrently.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// See the module docs.
pub struct LayerWriter {
    tar: Option<tar::Builder<HashingWriter<Sink>>>,
    dir: PathBuf,
    tmp: PathBuf,
    compression: LayerCompression,
    entries: usize,
    renamed: bool,
}

impl std::fmt::Debug for LayerWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerWriter")
            .field("tmp", &self.tmp)
            .field("compression", &self.compression)
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

impl LayerWriter {
    /// Starts a layer in `dir` (created if needed).
    pub fn create(dir: &Path, compression: LayerCompression) -> Result<Self, OciWriteError> {
        std::fs::create_dir_all(dir).map_err(OciWriteError::io("creating", dir))?;
        let n = TEMP_COUNTER.fetch_add(1, Ordering::SeqCst);
        let tmp = dir.join(format!(".layer-{}-{n}.partial", std::process::id()));
        let file = File::create(&tmp).map_err(OciWriteError::io("creating", &tmp))?;
        let stored = HashingWriter::new(BufWriter::with_capacity(FILE_BUFFER, file));
        let sink = match compression {
            LayerCompression::None => Sink::Plain(stored),
            LayerCompression::Gzip => Sink::Gzip(Box::new(GzEncoder::new(
                stored,
                flate2::Compression::fast(),
            ))),
        };
        Ok(LayerWriter {
            tar: Some(tar::Builder::new(HashingWriter::new(sink))),
            dir: dir.to_owned(),
            tmp,
            compression,
            entries: 0,
            renamed: false,
        })
    }

    /// Appends a directory entry.
    pub fn append_directory(&mut self, path: &str, mode: u32) -> Result<(), OciWriteError> {
        let tar = self.next_entry()?;
        tar_entry::append_directory(tar, path, mode)
    }

    /// Appends a regular file holding `bytes`.
    pub fn append_bytes(
        &mut self,
        path: &str,
        mode: u32,
        bytes: &[u8],
    ) -> Result<(), OciWriteError> {
        let tar = self.next_entry()?;
        tar_entry::append_bytes(tar, path, mode, bytes)
    }

    /// Appends the regular file at `source` as `path`, streaming it.
    pub fn append_file(
        &mut self,
        path: &str,
        mode: u32,
        source: &Path,
    ) -> Result<(), OciWriteError> {
        let tar = self.next_entry()?;
        tar_entry::append_file(tar, path, mode, source)
    }

    fn next_entry(&mut self) -> Result<&mut tar::Builder<HashingWriter<Sink>>, OciWriteError> {
        if self.entries >= MAX_LAYER_ENTRIES {
            return Err(OciWriteError::TooManyEntries {
                limit: MAX_LAYER_ENTRIES,
            });
        }
        self.entries += 1;
        self.tar.as_mut().ok_or(OciWriteError::Finish {
            what: "layer",
            source: std::io::Error::other("layer already finished"),
        })
    }

    /// Ends the tar stream and the compression, and moves the layer to its
    /// final name. Returns its descriptor, diff ID and path.
    pub fn finish(mut self) -> Result<LayerBlob, OciWriteError> {
        let finish = |what| move |source| OciWriteError::Finish { what, source };
        let tar = self.tar.take().ok_or(OciWriteError::Finish {
            what: "layer",
            source: std::io::Error::other("layer already finished"),
        })?;
        let uncompressed = tar.into_inner().map_err(finish("layer tar"))?;
        let (sink, diff_id, _) = uncompressed.finish()?;
        let stored = match sink {
            Sink::Plain(stored) => stored,
            Sink::Gzip(gzip) => gzip.finish().map_err(finish("layer gzip stream"))?,
        };
        let (buffered, digest, size) = stored.finish()?;
        let file = buffered
            .into_inner()
            .map_err(|e| OciWriteError::io("writing", &self.tmp)(e.into_error()))?;
        file.sync_all()
            .map_err(OciWriteError::io("syncing", &self.tmp))?;
        drop(file);
        let path = self.dir.join(digest.hex());
        std::fs::rename(&self.tmp, &path).map_err(OciWriteError::io("renaming into", &path))?;
        self.renamed = true;
        Ok(LayerBlob {
            descriptor: Descriptor {
                media_type: self.compression.media_type().to_owned(),
                size,
                digest,
                artifact_type: None,
                annotations: Default::default(),
                platform: None,
            },
            diff_id,
            path,
        })
    }
}

impl Drop for LayerWriter {
    fn drop(&mut self) {
        if !self.renamed {
            // Close the file before removing it.
            self.tar = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use factory_core::registry::Digest;

    use super::*;

    fn write(dir: &Path, compression: LayerCompression) -> LayerBlob {
        let source = dir.join("source");
        std::fs::write(&source, vec![7u8; 100_000]).unwrap();
        let mut layer = LayerWriter::create(&dir.join("work"), compression).unwrap();
        layer.append_directory("usr", 0o755).unwrap();
        layer.append_file("usr/big", 0o644, &source).unwrap();
        layer.append_bytes("usr/small", 0, b"small").unwrap();
        layer.finish().unwrap()
    }

    #[test]
    fn gzip_layers_know_both_digests() {
        let dir = tempfile::tempdir().unwrap();
        let blob = write(dir.path(), LayerCompression::Gzip);
        let stored = std::fs::read(&blob.path).unwrap();
        assert_eq!(blob.descriptor.media_type, OCI_LAYER_TAR_GZIP);
        assert_eq!(blob.descriptor.size, stored.len() as u64);
        assert_eq!(blob.descriptor.digest, Digest::sha256_of(&stored));
        assert_eq!(
            blob.path,
            dir.path().join("work").join(blob.descriptor.digest.hex())
        );
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(stored.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(blob.diff_id, Digest::sha256_of(&tar));
        assert_ne!(blob.diff_id, blob.descriptor.digest);
        // Only the finished layer is left in the work directory.
        assert_eq!(
            std::fs::read_dir(dir.path().join("work")).unwrap().count(),
            1
        );
    }

    #[test]
    fn plain_layers_and_determinism() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let one = write(a.path(), LayerCompression::None);
        let two = write(b.path(), LayerCompression::None);
        assert_eq!(one.descriptor.media_type, OCI_LAYER_TAR);
        assert_eq!(one.diff_id, one.descriptor.digest);
        assert_eq!(one.descriptor, two.descriptor);
        let gz_a = write(a.path(), LayerCompression::Gzip);
        let gz_b = write(b.path(), LayerCompression::Gzip);
        assert_eq!(gz_a.descriptor, gz_b.descriptor);
        assert_eq!(gz_a.diff_id, one.diff_id);
    }

    #[test]
    fn abandoned_layers_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut layer = LayerWriter::create(dir.path(), LayerCompression::Gzip).unwrap();
        layer.append_bytes("a", 0o644, b"a").unwrap();
        assert!(
            layer
                .append_file("b", 0o644, &dir.path().join("missing"))
                .is_err()
        );
        drop(layer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
