//! Turning a platform's stored-object handle into a streamed body.
//!
//! A [`FileSlice`] is read by one blocking task in [`CHUNK`]-sized pieces
//! and handed over a channel of [`CHANNEL_CHUNKS`] slots, so one download
//! holds at most `CHUNK * (CHANNEL_CHUNKS + 1)` bytes in memory whatever
//! the artifact's size, and a slow client stalls the reader instead of
//! filling memory. When the client goes away the channel closes and the
//! reader stops at its next chunk.

use std::io::{Read, Seek, SeekFrom};

use bytes::{Bytes, BytesMut};
use image_factory::object::FileSlice;
use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;

use super::body::ResponseBody;

/// Bytes read from the file per chunk.
const CHUNK: usize = 256 * 1024;
/// Chunks buffered between the reader and the connection.
const CHANNEL_CHUNKS: usize = 4;

/// A stored object the server knows how to stream.
pub(crate) trait StreamObject: Send + 'static {
    /// The body that sends this object's bytes, counting them in `sent`.
    fn into_body(self, sent: Counter) -> ResponseBody;
}

impl StreamObject for FileSlice {
    fn into_body(self, sent: Counter) -> ResponseBody {
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let len = self.len;
        tokio::task::spawn_blocking(move || read_slice(self, &tx));
        ResponseBody::stream(rx, len, sent)
    }
}

/// The in-memory platform's objects (tests).
impl StreamObject for Bytes {
    fn into_body(self, sent: Counter) -> ResponseBody {
        ResponseBody::full(self, sent)
    }
}

/// Sends the slice's bytes in chunks until done, the file fails, or the
/// receiver is gone.
fn read_slice(slice: FileSlice, tx: &mpsc::Sender<std::io::Result<Bytes>>) {
    let FileSlice {
        mut file,
        offset,
        len,
    } = slice;
    if let Err(e) = file.seek(SeekFrom::Start(offset)) {
        let _ = tx.blocking_send(Err(e));
        return;
    }
    let mut remaining = len;
    while remaining > 0 {
        let want = usize::try_from(remaining).map_or(CHUNK, |r| r.min(CHUNK));
        let mut buf = BytesMut::zeroed(want);
        let result = match file.read(&mut buf) {
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("stored file ended {remaining} bytes early"),
            )),
            Ok(n) => {
                buf.truncate(n);
                remaining -= n as u64;
                Ok(buf.freeze())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = result.is_err();
        if tx.blocking_send(result).is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::io::Write;

    #[tokio::test]
    async fn streams_a_range_in_chunks_and_counts_bytes() {
        let mut file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..(CHUNK * 3 + 17)).map(|i| (i % 251) as u8).collect();
        file.write_all(&data).unwrap();
        let sent = Counter::default();
        let slice = FileSlice {
            file,
            offset: 5,
            len: (CHUNK * 2 + 3) as u64,
        };
        let body = slice.into_body(sent.clone()).collect().await.unwrap();
        assert_eq!(&body.to_bytes()[..], &data[5..5 + CHUNK * 2 + 3]);
        assert_eq!(sent.get(), (CHUNK * 2 + 3) as u64);
    }

    #[tokio::test]
    async fn a_short_file_is_an_error_not_a_short_body() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"abc").unwrap();
        let slice = FileSlice {
            file,
            offset: 0,
            len: 10,
        };
        assert!(slice.into_body(Counter::default()).collect().await.is_err());
    }
}
