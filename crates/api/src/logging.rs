//! Log output of the server: JSON lines on a server, readable text on a terminal (the
//! `log.format` setting), at the level `log.level` names. Request lines are written by
//! `crate::stack::Edge`; no header is ever logged, so keys and tokens cannot leak.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::settings::{LogFormat, LogSettings};

/// Install the process-wide log subscriber (to stderr). Call once, before serving; a second
/// call is refused. Keep the returned guard until the end: dropping it writes out what is
/// still buffered. See [`Batched`] for how lines reach stderr.
pub fn init(settings: &LogSettings) -> Result<FlushGuard, String> {
    let (writer, guard) = Batched::spawn(std::io::stderr())?;
    tracing::subscriber::set_global_default(subscriber(settings, writer)?)
        .map_err(|e| format!("logging: {e}"))?;
    Ok(guard)
}

/// Log lines appended to a buffer in memory and written out by a thread of their own
/// every [`Batched::TICK`] (sooner when half of [`Batched::MAX`] is waiting), in one
/// system call for all the lines of that interval: a
/// `write` per line on the request path cost about an eighth of a point read's
/// throughput, and a writer thread woken per line (a channel) cost a tenth of the CPU in
/// wake-ups. Nothing is dropped: past [`Batched::MAX`] bytes waiting, a line waits for the
/// writer. A process killed outright loses the lines of its last tick.
#[derive(Clone)]
pub struct Batched {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<Pending>,
    /// Signalled to the writer thread: stop, or the buffer is over half full.
    wake: Condvar,
    /// Signalled to loggers waiting for room.
    room: Condvar,
}

#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    stopping: bool,
}

/// Stops the writer thread of [`Batched`] when dropped, after it has written everything.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        lock(&self.shared.state).stopping = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock(m: &Mutex<Pending>) -> MutexGuard<'_, Pending> {
    // A logger panicking mid-append leaves at worst a partial line: keep logging.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Batched {
    pub const TICK: Duration = Duration::from_millis(20);
    pub const MAX: usize = 8 * 1024 * 1024;

    /// The writer and the guard of its thread, which writes to `out`.
    pub fn spawn(mut out: impl Write + Send + 'static) -> Result<(Batched, FlushGuard), String> {
        let shared = Arc::new(Shared {
            state: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            room: Condvar::new(),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("taskman-log".into())
            .spawn(move || {
                let mut spare = Vec::new();
                loop {
                    let mut p = lock(&s.state);
                    if !p.stopping && p.buf.len() < Self::MAX / 2 {
                        // Woken early only to stop or when the buffer fills up.
                        p = s
                            .wake
                            .wait_timeout(p, Self::TICK)
                            .map_or_else(|e| e.into_inner().0, |(p, _)| p);
                    }
                    let stopping = p.stopping;
                    std::mem::swap(&mut p.buf, &mut spare);
                    drop(p);
                    s.room.notify_all();
                    if !spare.is_empty() {
                        let _ = out.write_all(&spare).and_then(|()| out.flush());
                        spare.clear();
                    }
                    if stopping {
                        let rest = std::mem::take(&mut lock(&s.state).buf);
                        let _ = out.write_all(&rest).and_then(|()| out.flush());
                        return;
                    }
                }
            })
            .map_err(|e| format!("logging: cannot start the log writer: {e}"))?;
        Ok((
            Batched {
                shared: shared.clone(),
            },
            FlushGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Write for &Batched {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut p = lock(&self.shared.state);
        while p.buf.len() >= Batched::MAX && !p.stopping {
            self.shared.wake.notify_one();
            p = self.shared.room.wait(p).unwrap_or_else(|e| e.into_inner());
        }
        let before = p.buf.len();
        p.buf.extend_from_slice(line);
        if before < Batched::MAX / 2 && p.buf.len() >= Batched::MAX / 2 {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Batched {
    type Writer = &'a Batched;
    fn make_writer(&'a self) -> &'a Batched {
        self
    }
}

/// The subscriber [`init`] installs, writing to `writer` (benchmarks write to /dev/null).
pub fn subscriber<W>(
    settings: &LogSettings,
    writer: W,
) -> Result<Box<dyn Subscriber + Send + Sync>, String>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level)
        .map_err(|e| format!("log.level {:?}: {e}", settings.level))?;
    let terminal = std::io::stderr().is_terminal();
    let json = match settings.format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !terminal,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    Ok(if json {
        Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish(),
        )
    } else {
        Box::new(builder.with_ansi(terminal).finish())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read after the writer thread has finished.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_arrives_whole_and_in_each_threads_order() {
        let sink = Sink::default();
        let (writer, guard) = Batched::spawn(sink.clone()).unwrap();
        // Enough bytes to pass the early-wake mark several times (over 4 MiB each).
        let per_thread = 40_000;
        std::thread::scope(|s| {
            for t in 0..2 {
                let w = &writer;
                s.spawn(move || {
                    for i in 0..per_thread {
                        let line = format!(
                            "{{\"thread\":{t},\"n\":{i},\"pad\":\"{}\"}}\n",
                            "x".repeat(100)
                        );
                        let mut out = w.make_writer();
                        out.write_all(line.as_bytes()).unwrap();
                    }
                });
            }
        });
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut next = [0usize; 2];
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("a whole line");
            let t = v["thread"].as_u64().unwrap() as usize;
            assert_eq!(
                v["n"].as_u64().unwrap() as usize,
                next[t],
                "thread {t} out of order"
            );
            next[t] += 1;
        }
        assert_eq!(next, [per_thread, per_thread], "every line written");
    }

    #[test]
    fn dropping_the_guard_writes_what_is_buffered_at_once() {
        let sink = Sink::default();
        let (writer, guard) = Batched::spawn(sink.clone()).unwrap();
        writer.make_writer().write_all(b"last words\n").unwrap();
        drop(guard);
        assert_eq!(sink.0.lock().unwrap().as_slice(), b"last words\n");
    }
}
