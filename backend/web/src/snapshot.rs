//! `GET /snapshot` and `GET /healthz`: the current snapshot file for edges to poll.
//!
//! The file is answered with an `ETag` (the snapshot header's checksum, length and creation time: it changes
//! exactly when the content does) and `304 Not Modified` to a matching `If-None-Match`, so an edge polling every
//! few seconds transfers the file once per build. The file is re-read when its modification time or size
//! changes (`mirrorvane snapshot -o` replaces it atomically). A file that is not a valid snapshot is never
//! published; the last good one stays, and `/healthz` says so.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use mirrorvane_selector::snapshot::read_header;
use tracing::{info, warn};

/// The ETag of snapshot bytes, from their validated header; `None` when they are not a snapshot an edge would
/// load.
pub fn etag_of(bytes: &[u8]) -> Option<String> {
    let header = read_header(bytes).ok()?;
    // Only what an edge will accept is published: decoded and indexed like an edge does.
    mirrorvane_selector::Selector::new(mirrorvane_selector::snapshot::decode(bytes).ok()?).ok()?;
    // Strong validator: the checksum covers the payload, length and creation time pin the rest.
    Some(format!(
        "\"{:08x}-{:x}-{:x}\"",
        header.checksum, header.payload_len, header.created
    ))
}

#[derive(Clone)]
struct Published {
    bytes: Bytes,
    etag: String,
    stamp: Option<(SystemTime, u64)>,
}

#[derive(Default)]
struct Current {
    published: Option<Published>,
    last_error: Option<String>,
}

/// The published snapshot file.
pub struct SnapshotFile {
    path: PathBuf,
    current: Mutex<Current>,
}

impl SnapshotFile {
    pub fn new(path: PathBuf) -> SnapshotFile {
        let file = SnapshotFile {
            path,
            current: Mutex::new(Current::default()),
        };
        file.refresh();
        file
    }

    /// Re-reads the file if its stamp changed; keeps the last good snapshot on any failure.
    fn refresh(&self) {
        let now = stamp(&self.path);
        let unchanged = self
            .current
            .lock()
            .map(|s| s.published.as_ref().is_some_and(|p| p.stamp == now))
            .unwrap_or(true);
        if unchanged && now.is_some() {
            return;
        }
        let path = &self.path;
        let result = std::fs::read(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|bytes| match etag_of(&bytes) {
                Some(etag) => Ok(Published {
                    bytes: Bytes::from(bytes),
                    etag,
                    stamp: now,
                }),
                None => Err(format!(
                    "{} is not a valid snapshot; still publishing the previous one",
                    path.display()
                )),
            });
        let Ok(mut s) = self.current.lock() else { return };
        match result {
            Ok(p) => {
                if s.published.as_ref().map(|c| &c.etag) != Some(&p.etag) {
                    info!(etag = %p.etag, bytes = p.bytes.len(), "publishing snapshot");
                }
                s.published = Some(p);
                s.last_error = None;
            }
            Err(e) => {
                if s.last_error.as_ref() != Some(&e) {
                    warn!("{e}");
                }
                // Remember the stamp of the bad file so it is not re-read on every request.
                if let Some(cur) = s.published.as_mut() {
                    cur.stamp = now;
                }
                s.last_error = Some(e);
            }
        }
    }

    /// `GET /snapshot` (axum answers `HEAD` with the same headers and no body).
    pub fn answer(&self, headers: &HeaderMap) -> Response {
        self.refresh();
        let current = self.current.lock().ok().and_then(|s| s.published.clone());
        let Some(p) = current else {
            return (StatusCode::SERVICE_UNAVAILABLE, "no valid snapshot yet\n").into_response();
        };
        let matches = headers
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == p.etag || t.trim() == "*"));
        let common = [(ETAG, p.etag.clone()), (CACHE_CONTROL, "no-cache".to_owned())];
        if matches {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        (common, [(CONTENT_TYPE, "application/octet-stream")], p.bytes.clone()).into_response()
    }

    /// `GET /healthz`.
    pub fn health(&self) -> Response {
        self.refresh();
        let Ok(s) = self.current.lock() else {
            return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned\n").into_response();
        };
        match (&s.published, &s.last_error) {
            (Some(p), None) => (StatusCode::OK, format!("ok etag={}\n", p.etag)).into_response(),
            (Some(p), Some(e)) => (StatusCode::OK, format!("ok etag={} stale: {e}\n", p.etag)).into_response(),
            (None, e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("no snapshot: {}\n", e.as_deref().unwrap_or("-")),
            )
                .into_response(),
        }
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
