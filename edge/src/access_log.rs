//! The access log (reference §3.13), written by a thread of its own so a slow disk never delays an answer.
//!
//! Lines are queued without blocking. The queue is bounded by bytes, not lines (a flood of long query strings
//! must not grow memory without bound): a line that does not fit is dropped and counted in `/metrics`.
//! [`AccessLog::reopen`] (SIGUSR1 or SIGHUP) makes the writer flush and open the path again, so logrotate can
//! rename the file without `copytruncate` and no line is lost: every line is written to the old file or to the
//! new one. Write errors are counted, and logged at most once a minute.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Context;
use prometheus_client::metrics::counter::Counter;

/// Queue capacity in bytes (a few seconds of a busy proxy's lines).
pub const QUEUE_BYTES: usize = 16 << 20;

/// Errors are logged at most this often (they are all counted).
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(60);

enum Message {
    Line(String),
    Reopen,
}

/// Handle to the writer thread.
pub struct AccessLog {
    tx: Sender<Message>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    path: PathBuf,
}

impl AccessLog {
    /// Opens `path` for appending (created if missing) and starts the writer; write errors go to `errors`.
    pub fn open(path: &Path, errors: Counter) -> anyhow::Result<AccessLog> {
        AccessLog::with_limit(path, errors, QUEUE_BYTES)
    }

    /// [`AccessLog::open`] with a queue of `limit` bytes.
    pub fn with_limit(path: &Path, errors: Counter, limit: usize) -> anyhow::Result<AccessLog> {
        let file = open(path).with_context(|| format!("opening access log {}", path.display()))?;
        let (tx, rx) = mpsc::channel::<Message>();
        let queued = Arc::new(AtomicUsize::new(0));
        let writer = Writer {
            out: BufWriter::with_capacity(64 * 1024, file),
            path: path.to_owned(),
            errors,
            last_logged: None,
        };
        let q = queued.clone();
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || writer.run(&rx, &q))?;
        Ok(AccessLog {
            tx,
            queued,
            limit,
            path: path.to_owned(),
        })
    }

    /// Queues a line; false when the queue was full and the line was dropped.
    pub fn write(&self, line: &str) -> bool {
        let len = line.len();
        let fits = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                (q + len <= self.limit).then_some(q + len)
            })
            .is_ok();
        if !fits {
            return false;
        }
        if self.tx.send(Message::Line(line.to_owned())).is_err() {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Makes the writer open the path again after the lines queued so far (logrotate's `postrotate`).
    pub fn reopen(&self) {
        let _ = self.tx.send(Message::Reopen);
    }

    /// Where the log goes.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

struct Writer {
    out: BufWriter<File>,
    path: PathBuf,
    errors: Counter,
    last_logged: Option<Instant>,
}

impl Writer {
    fn run(mut self, rx: &mpsc::Receiver<Message>, queued: &AtomicUsize) {
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Message::Line(line)) => {
                    let written = self.out.write_all(line.as_bytes());
                    queued.fetch_sub(line.len(), Ordering::AcqRel);
                    if let Err(e) = written {
                        self.failed("write", &e);
                    }
                }
                Ok(Message::Reopen) => self.reopen(),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = self.out.flush() {
                        self.failed("write", &e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.out.flush();
                    return;
                }
            }
        }
    }

    /// Flushes into the old file, then switches to the path's (new) file; on failure keeps the old one.
    fn reopen(&mut self) {
        if let Err(e) = self.out.flush() {
            self.failed("write", &e);
        }
        match open(&self.path) {
            Ok(file) => {
                self.out = BufWriter::with_capacity(64 * 1024, file);
                tracing::info!("access log {} reopened", self.path.display());
            }
            Err(e) => self.failed("reopen", &e),
        }
    }

    fn failed(&mut self, what: &str, e: &std::io::Error) {
        self.errors.inc();
        if self.last_logged.is_none_or(|t| t.elapsed() >= ERROR_LOG_INTERVAL) {
            self.last_logged = Some(Instant::now());
            tracing::error!(
                "access log {}: {what} failed: {e} (further errors are counted in \
                 mirrorvane_edge_access_log_write_errors_total, logged once a minute)",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_bytes_and_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let errors = Counter::default();
        let log = AccessLog::with_limit(&path, errors.clone(), 1000).unwrap();
        // A line longer than the whole queue is dropped; short ones fit.
        assert!(!log.write(&"x".repeat(1001)));
        assert!(log.write("one\n"));
        log.reopen();
        let rotated = dir.path().join("access.log.1");
        // Lines written before the rename may land in either file; none is lost.
        std::fs::rename(&path, &rotated).unwrap();
        log.reopen();
        assert!(log.write("two\n"));
        drop(log);
        // The writer flushes within its timeout once the sender is gone.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let old = std::fs::read_to_string(&rotated).unwrap_or_default();
            let new = std::fs::read_to_string(&path).unwrap_or_default();
            if old + &new == "one\ntwo\n" {
                assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
                break;
            }
            assert!(Instant::now() < deadline, "lines lost");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(errors.get(), 0);
    }
}
