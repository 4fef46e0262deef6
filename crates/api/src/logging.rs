//! Log output of the server: JSON lines on a server, readable text on a terminal (the
//! `log.format` setting), at the level `log.level` names. Request lines are written by
//! `crate::stack::Edge`; no header is ever logged, so keys and tokens cannot leak.

use std::io::IsTerminal;

use tracing::Subscriber;
pub use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::settings::{LogFormat, LogSettings};

/// Install the process-wide log subscriber (to stderr). Call once, before serving; a second
/// call is refused. Lines are handed to a writer thread, which writes whatever has queued
/// up in one system call: a write per line on the request path cost about an eighth of a
/// point read's throughput. Keep the returned guard until the end: dropping it writes out
/// what is queued. Nothing is dropped when the queue is full (the request waits instead);
/// a process killed outright loses at most the lines of the last moment.
pub fn init(settings: &LogSettings) -> Result<WorkerGuard, String> {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("taskman-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing::subscriber::set_global_default(subscriber(settings, writer)?)
        .map_err(|e| format!("logging: {e}"))?;
    Ok(guard)
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
