//! Request logging: one span per request carrying a request id, so every log line written
//! while serving it names the request. The query string is never recorded, because GitLab
//! clients may put tokens there (`?private_token=`).
//!
//! While serving, log lines go to stderr through [`BatchedStderr`]: a worker appends its line
//! to a buffer and returns, and a background thread writes the buffer out every few
//! milliseconds, so the access log costs a request no `write` system call.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // The id `TracingLogger` has just made for this request (one id per request, not two).
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .copied()
            .map(|id| *id)
            .unwrap_or_else(uuid::Uuid::new_v4);
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.path(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if let Ok(res) = outcome {
            span.record("status", res.status().as_u16());
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// How long the writer thread lets lines gather before it writes them.
const BATCH_DELAY: Duration = Duration::from_millis(5);
/// Past this many buffered bytes (stderr is not keeping up), a worker writes the batch
/// itself: memory stays bounded and the log loses nothing.
const MAX_BUFFERED: usize = 1 << 20;

/// A `MakeWriter` for `tracing_subscriber` that batches lines to stderr on a background
/// thread. Keep the [`FlushGuard`] alive while serving: dropping it writes what is left.
#[derive(Clone)]
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves at worst a partial line.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Writes what is buffered and stops the writer thread when dropped.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl BatchedStderr {
    pub fn start() -> (BatchedStderr, FlushGuard) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let writer = shared.clone();
        let thread = std::thread::Builder::new()
            .name("packyard-log".into())
            .spawn(move || write_batches(&writer))
            .ok();
        // Without the thread (it could not be spawned), lines are written as they come.
        if thread.is_none() {
            shared.lock().closing = true;
        }
        (
            BatchedStderr {
                shared: shared.clone(),
            },
            FlushGuard { shared, thread },
        )
    }
}

fn write_batches(shared: &Shared) {
    let mut spare = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.buf.is_empty() && !state.closing {
            state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let closing = state.closing;
        drop(state);
        if !closing {
            std::thread::sleep(BATCH_DELAY);
        }
        let mut state = shared.lock();
        std::mem::swap(&mut state.buf, &mut spare);
        drop(state);
        let _ = std::io::stderr().write_all(&spare);
        spare.clear();
        if closing {
            return;
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let rest = std::mem::take(&mut self.shared.lock().buf);
        let _ = std::io::stderr().write_all(&rest);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = BatchWriter<'a>;
    fn make_writer(&'a self) -> BatchWriter<'a> {
        BatchWriter(&self.shared)
    }
}

/// One log line on its way into the batch (`tracing_subscriber` writes each line whole).
pub struct BatchWriter<'a>(&'a Shared);

impl Write for BatchWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut state = self.0.lock();
        if state.closing || state.buf.len() + data.len() > MAX_BUFFERED {
            // Keeps the order: what is buffered goes first.
            let mut out = std::io::stderr().lock();
            out.write_all(&std::mem::take(&mut state.buf))?;
            out.write_all(data)?;
            return Ok(data.len());
        }
        let was_empty = state.buf.is_empty();
        state.buf.extend_from_slice(data);
        drop(state);
        // The writer thread sleeps only on an empty buffer: wake it for the first line.
        if was_empty {
            self.0.wake.notify_one();
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_buffered_until_the_thread_or_the_guard_writes_them() {
        let (writer, guard) = BatchedStderr::start();
        {
            let mut w = tracing_subscriber::fmt::MakeWriter::make_writer(&writer);
            w.write_all(b"one\n").unwrap();
            w.write_all(b"two\n").unwrap();
        }
        drop(guard);
        // The guard wrote everything and stopped the thread; later lines go straight out.
        assert!(writer.shared.lock().buf.is_empty());
        assert!(writer.shared.lock().closing);
        let mut w = tracing_subscriber::fmt::MakeWriter::make_writer(&writer);
        w.write_all(b"three\n").unwrap();
        assert!(writer.shared.lock().buf.is_empty());
    }
}
