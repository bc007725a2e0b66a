//! The response body the server hands to hyper.
//!
//! Three shapes: nothing, bytes the frontend made, or a stream of chunks
//! read from a stored file by a blocking task (see
//! [`super::object`]). Every data frame that leaves is counted in the
//! `image_factory_http_response_bytes` metric as it is polled, so the
//! counter reflects bytes handed to the connection, not bytes promised.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ResponseBody {
    kind: Kind,
    sent: Counter,
}

#[derive(Debug)]
enum Kind {
    Empty,
    Full(Option<Bytes>),
    Stream {
        chunks: mpsc::Receiver<std::io::Result<Bytes>>,
        remaining: u64,
    },
}

impl ResponseBody {
    /// No body.
    pub(crate) fn empty(sent: Counter) -> Self {
        ResponseBody {
            kind: Kind::Empty,
            sent,
        }
    }

    /// A body of these bytes.
    pub(crate) fn full(bytes: Bytes, sent: Counter) -> Self {
        let kind = if bytes.is_empty() {
            Kind::Empty
        } else {
            Kind::Full(Some(bytes))
        };
        ResponseBody { kind, sent }
    }

    /// A body of `len` bytes arriving on `chunks`; an `Err` chunk aborts the
    /// response (hyper closes the connection, so the client sees a short
    /// body rather than wrong bytes).
    pub(crate) fn stream(
        chunks: mpsc::Receiver<std::io::Result<Bytes>>,
        len: u64,
        sent: Counter,
    ) -> Self {
        ResponseBody {
            kind: Kind::Stream {
                chunks,
                remaining: len,
            },
            sent,
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        let chunk = match &mut this.kind {
            Kind::Empty => return Poll::Ready(None),
            Kind::Full(bytes) => bytes.take().map(Ok),
            Kind::Stream { chunks, remaining } => match chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) if *remaining > 0 => Some(Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the body reader stopped {remaining} bytes early"),
                ))),
                Poll::Ready(None) => None,
                Poll::Ready(Some(Ok(bytes))) => {
                    *remaining = remaining.saturating_sub(bytes.len() as u64);
                    Some(Ok(bytes))
                }
                Poll::Ready(Some(Err(e))) => Some(Err(e)),
            },
        };
        Poll::Ready(chunk.map(|c| {
            c.map(|bytes| {
                this.sent.inc_by(bytes.len() as u64);
                Frame::data(bytes)
            })
        }))
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Stream { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
