//! The access log (reference §3.13), written by a thread of its own so a slow disk never delays an answer.
//! Lines are queued without blocking; when the queue is full they are dropped and counted in `/metrics`.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

use anyhow::Context;

/// Queue capacity in lines (about a second of a busy proxy).
const QUEUE: usize = 65_536;

/// Handle to the writer thread.
pub struct AccessLog {
    tx: SyncSender<String>,
    path: PathBuf,
}

impl AccessLog {
    /// Opens `path` for appending (created if missing) and starts the writer.
    pub fn open(path: &Path) -> anyhow::Result<AccessLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening access log {}", path.display()))?;
        let (tx, rx) = mpsc::sync_channel::<String>(QUEUE);
        std::thread::Builder::new().name("access-log".into()).spawn(move || {
            let mut out = BufWriter::with_capacity(64 * 1024, file);
            loop {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(line) => {
                        if let Err(e) = out.write_all(line.as_bytes()) {
                            tracing::error!("access log write failed: {e}");
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        let _ = out.flush();
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        let _ = out.flush();
                        return;
                    }
                }
            }
        })?;
        Ok(AccessLog {
            tx,
            path: path.to_owned(),
        })
    }

    /// Queues a line; false when the queue was full and the line was dropped.
    pub fn write(&self, line: &str) -> bool {
        match self.tx.try_send(line.to_owned()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Where the log goes.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
