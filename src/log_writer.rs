//! Where log lines go: a shared buffer that a background thread writes out in batches.
//!
//! A request thread only appends its formatted line to the buffer (a short lock, no system call,
//! no wake-up while a batch is pending); the writer thread wakes when the buffer stops being
//! empty and, when it wrote a batch just before (under load), waits [`BATCH`] for more lines to
//! gather, then writes them all in one `write` (when idle, a line is written at once). Under load
//! that is at most a few hundred wake-ups a second instead of one per line (the per-line hand-off
//! of `tracing_appender::non_blocking` was about an eighth of the server's CPU at 25,000 requests
//! a second). Past [`LIMIT`] bytes waiting, lines are dropped rather than waited for.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the writer lets lines gather after the first one of a batch.
pub const BATCH: Duration = Duration::from_millis(5);
/// A line that comes within this time of the last write finds the writer busy (it batches).
const BUSY: Duration = Duration::from_millis(20);
/// The most bytes waiting to be written; later lines are dropped until the writer catches up.
pub const LIMIT: usize = 4 << 20;

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    dropped: u64,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a byte buffer: still fine to use.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `MakeWriter` of the tracing subscriber (cheap to clone).
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Stops the writer thread after writing what is pending (keep it alive as long as logging).
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer to `out` and the guard that flushes it at exit.
pub fn batched(out: impl Write + Send + 'static) -> (BatchedWriter, FlushGuard) {
    let shared = Arc::new(Shared::default());
    let worker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_batches(&worker, out))
        .ok();
    (
        BatchedWriter {
            shared: shared.clone(),
        },
        FlushGuard { shared, thread },
    )
}

fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    let mut last_write = std::time::Instant::now()
        .checked_sub(BUSY)
        .unwrap_or_else(std::time::Instant::now);
    loop {
        let mut state = shared.lock();
        while state.pending.is_empty() && !state.closing {
            state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        // Busy (the last batch was just written): let this one gather. Idle: write at once.
        if !state.closing && last_write.elapsed() < BUSY {
            drop(state);
            std::thread::sleep(BATCH);
            state = shared.lock();
        }
        std::mem::swap(&mut batch, &mut state.pending);
        let dropped = std::mem::take(&mut state.dropped);
        let closing = state.closing && batch.is_empty();
        drop(state);
        if dropped > 0 {
            batch.extend_from_slice(
                format!("(localiam: {dropped} log lines dropped: the output was too slow)\n")
                    .as_bytes(),
            );
        }
        if !batch.is_empty() {
            // Nowhere to report a failed write of the log itself.
            let _ = out.write_all(&batch);
            let _ = out.flush();
            last_write = std::time::Instant::now();
            batch.clear();
            if batch.capacity() > LIMIT {
                batch = Vec::new();
            }
        }
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
    }
}

/// One event's writer: collects the line, hands it over whole when dropped.
pub struct Line {
    shared: Arc<Shared>,
    line: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let mut state = self.shared.lock();
        if state.pending.len() + self.line.len() > LIMIT {
            state.dropped += 1;
            return;
        }
        let was_empty = state.pending.is_empty();
        state.pending.extend_from_slice(&self.line);
        drop(state);
        if was_empty {
            self.shared.wake.notify_one();
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedWriter {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line {
            shared: self.shared.clone(),
            line: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_whole_and_in_order_and_the_guard_flushes() {
        use tracing_subscriber::fmt::MakeWriter;
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone());
        for i in 0..1000 {
            let mut w = writer.make_writer();
            write!(w, "line {i}").unwrap();
            w.write_all(b"\n").unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 1000);
        assert_eq!(lines[999], "line 999");
    }
}
