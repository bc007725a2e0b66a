//! Reading a hyper request into the frontend's `http::Request<Bytes>`.
//!
//! The body is read up to [`MAX_REQUEST_BODY`] + 1 bytes and no further:
//! the frontend answers 413 when it sees more than the limit, so one extra
//! byte is all it needs to tell, and a client sending gigabytes costs us
//! one megabyte. hyper discards or closes on the unread rest.

use bytes::{Bytes, BytesMut};
use factory_core::frontend::{MAX_REQUEST_BODY, Request};
use http_body_util::BodyExt;

/// Reads `request`'s body (bounded, see the module docs).
pub(crate) async fn read_bounded<B>(request: http::Request<B>) -> Result<Request, B::Error>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    let (parts, mut body) = request.into_parts();
    let limit = MAX_REQUEST_BODY + 1;
    let mut buf = BytesMut::new();
    while buf.len() < limit {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame?.into_data() {
            let take = data.len().min(limit - buf.len());
            buf.extend_from_slice(data.get(..take).unwrap_or_default());
        }
    }
    Ok(http::Request::from_parts(parts, buf.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[tokio::test]
    async fn stops_one_byte_past_the_limit() {
        let big = Bytes::from(vec![b'a'; MAX_REQUEST_BODY * 2]);
        let request = http::Request::new(Full::new(big));
        let read = read_bounded(request).await.unwrap();
        assert_eq!(read.body().len(), MAX_REQUEST_BODY + 1);

        let small = http::Request::new(Full::new(Bytes::from_static(b"customization: {}\n")));
        assert_eq!(read_bounded(small).await.unwrap().body().len(), 18);
    }
}
