//! Request and staged bodies for format handlers: the one bounded in-memory reader and the
//! one bridge from an async byte stream to a blocking parser.
//!
//! - [`read_bounded`] reads a small request body (a dist-tag, a yank reason) into memory
//!   with an explicit cap: 413 past it, 400 when the body is cut off.
//! - [`read_blocking`] hands a [`ByteStream`] (a request body from
//!   [`crate::http::payload_stream`], or staged bytes from
//!   [`Staged::read`](crate::staged::Staged::read)) to a parser on the blocking pool as a
//!   `std::io::Read`, through a small bounded channel: memory stays flat whatever the size,
//!   and the stream stops being read as soon as the parser returns.
//!
//! Archives read from such a reader go through the bounded readers of
//! [`crate::archive`].

use std::io::{self, Read};

use actix_web::http::StatusCode;
use actix_web::web;
use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;

use crate::error::ApiError;
use crate::ports::ByteStream;

/// Reads a whole request body into memory, refusing it past `limit` bytes (413) and when
/// it is cut off (400). Errors are in GitLab's shape; a format reshapes them from their
/// fields ([`ApiError::reshaped`]).
pub async fn read_bounded(mut payload: web::Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| interrupted())?;
        if body.len() + chunk.len() > limit {
            return Err(body_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// 413 for a request body over `limit` bytes.
pub fn body_too_large(limit: usize) -> ApiError {
    ApiError::message(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("413 Request Entity Too Large - the request body is larger than {limit} bytes"),
    )
}

/// 400 for a request body that ended before it was complete.
pub fn interrupted() -> ApiError {
    ApiError::bad_request("the request body ended before it was complete")
}

/// Why [`read_blocking`] has no answer.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The stream failed while the parser read it (a cut-off request body, a storage
    /// error): whatever the parser concluded was about bytes that are not all there.
    #[error("the body stream failed: {0}")]
    Stream(#[source] io::Error),
    /// The blocking task panicked or was cancelled.
    #[error("the blocking reader did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl BridgeError {
    /// The answer when the stream was a request body: a cut-off body is the client's 400.
    pub fn for_request_body(self) -> ApiError {
        match self {
            BridgeError::Stream(_) => interrupted(),
            other => ApiError::internal(other),
        }
    }

    /// The answer when the stream was bytes the server stored: any failure is ours (500).
    pub fn for_stored_bytes(self) -> ApiError {
        ApiError::internal(self)
    }
}

/// Runs `parse` on the blocking pool with `stream` as its `Read`, feeding it from this task
/// through a channel of a few chunks. Returns what `parse` returned, unless the stream
/// failed while it read ([`BridgeError::Stream`]); the parser sees such a failure as an
/// `io::Error` from `read`. When `parse` returns before the end, the rest of the stream is
/// not read.
pub async fn read_blocking<T, F>(stream: ByteStream, parse: F) -> Result<T, BridgeError>
where
    F: FnOnce(&mut BlockingReader) -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
    let task = tokio::task::spawn_blocking(move || {
        let mut reader = BlockingReader {
            rx,
            current: Bytes::new(),
            failed: None,
        };
        let out = parse(&mut reader);
        (out, reader.failed.take())
    });
    let pump = async move {
        let mut stream = stream;
        loop {
            let next = tokio::select! {
                // The parser returned: stop reading the body.
                _ = tx.closed() => break,
                next = stream.next() => next,
            };
            let Some(item) = next else { break };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    };
    let ((), joined) = tokio::join!(pump, task);
    let (out, failed) = joined?;
    match failed {
        Some(e) => Err(BridgeError::Stream(e)),
        None => Ok(out),
    }
}

/// The blocking side of [`read_blocking`].
pub struct BlockingReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    /// The stream's failure, kept for [`read_blocking`]'s answer.
    failed: Option<io::Error>,
}

impl Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.current.is_empty() {
            if let Some(e) = &self.failed {
                return Err(io::Error::new(e.kind(), e.to_string()));
            }
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => {
                    let copy = io::Error::new(e.kind(), e.to_string());
                    self.failed = Some(e);
                    return Err(copy);
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn chunks(parts: Vec<io::Result<&'static [u8]>>) -> ByteStream {
        futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| p.map(Bytes::from_static))
                .collect::<Vec<_>>(),
        )
        .boxed()
    }

    #[tokio::test]
    async fn the_parser_reads_the_whole_stream_in_order() {
        let stream = chunks(vec![Ok(b"hello "), Ok(b""), Ok(b"blocking "), Ok(b"world")]);
        let text = read_blocking(stream, |r| {
            let mut s = String::new();
            r.read_to_string(&mut s).map(|_| s)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(text, "hello blocking world");
    }

    #[tokio::test]
    async fn a_failed_stream_is_reported_whatever_the_parser_concluded() {
        let stream = chunks(vec![
            Ok(b"{\"a\":"),
            Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut off")),
        ]);
        // A parser that swallows the read error still cannot make the body look whole.
        let got = read_blocking(stream, |r| {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
        .await;
        match got {
            Err(BridgeError::Stream(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
            other => panic!("expected a stream failure, got {other:?}"),
        }
        assert_eq!(
            BridgeError::Stream(io::Error::other("x"))
                .for_request_body()
                .status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[tokio::test]
    async fn an_early_answer_stops_reading_an_endless_stream() {
        let endless = futures_util::stream::repeat_with(|| Ok(Bytes::from_static(b"xxxx"))).boxed();
        let first = read_blocking(endless, |r| {
            let mut b = [0u8; 3];
            r.read_exact(&mut b).map(|()| b)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(&first, b"xxx");
    }
}
