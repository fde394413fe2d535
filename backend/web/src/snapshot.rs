//! `GET /snapshot` and `GET /healthz`: the current snapshot file for edges to poll.
//!
//! The file is answered with an `ETag` (its content digest: the same for rebuilds of unchanged data, whose
//! creation times differ) and `304 Not Modified` to a matching `If-None-Match`, so an edge polling every few
//! seconds transfers the file once per change; `X-Snapshot-Created` tells it, on every answer, how fresh the
//! backend's view is. The file is re-read when its modification time or size changes (`mirrorvane snapshot -o`
//! replaces it atomically). A file that is not a valid snapshot is never published; the last good one stays.
//! `/healthz` answers `503 degraded` when the published snapshot is older than the allowed age, a bad file is on
//! disk, or the last build failed. With a token, `/snapshot` (it lists private hosts and netblocks) needs
//! `Authorization: Bearer TOKEN`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use mirrorvane_selector::snapshot::read_header;
use tracing::{info, warn};

/// The ETag of snapshot bytes (their content digest) and their creation time; `None` when they are not a
/// snapshot an edge would load.
pub fn etag_of(bytes: &[u8]) -> Option<(String, u64)> {
    let header = read_header(mirrorvane_selector::snapshot::unsigned(bytes)).ok()?;
    // Only what an edge will accept is published: decoded and indexed like an edge does.
    mirrorvane_selector::Selector::new(mirrorvane_selector::snapshot::decode(bytes).ok()?).ok()?;
    let digest = mirrorvane_signature::content_digest(bytes)?;
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Some((format!("\"{hex}\""), header.created))
}

/// Whether the last build of the snapshot (`serve --build-every`) failed, and why; shared with the builder.
#[derive(Clone, Debug, Default)]
pub struct BuildStatus(std::sync::Arc<Mutex<Option<String>>>, std::sync::Arc<BuildCounts>);

/// Builds since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct BuildCounts {
    pub succeeded: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

impl BuildStatus {
    pub fn failed(&self, why: String) {
        self.1.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut s) = self.0.lock() {
            *s = Some(why);
        }
    }

    pub fn succeeded(&self) {
        self.1.succeeded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut s) = self.0.lock() {
            *s = None;
        }
    }

    /// (builds succeeded, builds failed, the last one failed).
    pub fn counts(&self) -> (u64, u64, bool) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.1.succeeded.load(Relaxed),
            self.1.failed.load(Relaxed),
            self.error().is_some(),
        )
    }

    fn error(&self) -> Option<String> {
        self.0.lock().ok().and_then(|s| s.clone())
    }
}

/// How `/snapshot` and `/healthz` behave.
#[derive(Clone, Debug, Default)]
pub struct Publishing {
    /// `/snapshot` needs `Authorization: Bearer` this.
    pub token: Option<String>,
    /// `/healthz` is degraded when the snapshot is older than this.
    pub max_age: Option<std::time::Duration>,
    /// The builder's last outcome.
    pub build: BuildStatus,
}

#[derive(Clone)]
struct Published {
    bytes: Bytes,
    etag: String,
    created: u64,
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
    publishing: Publishing,
}

impl SnapshotFile {
    pub fn new(path: PathBuf, publishing: Publishing) -> SnapshotFile {
        let file = SnapshotFile {
            path,
            current: Mutex::new(Current::default()),
            publishing,
        };
        file.refresh();
        file
    }

    /// The published snapshot's age in seconds (`None` when none is published), and whether the file on disk was
    /// refused.
    pub fn age(&self) -> (Option<u64>, bool) {
        self.refresh();
        let now = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.current.lock().map_or((None, true), |s| {
            let age = s.published.as_ref().map(|p| now.saturating_sub(p.created));
            (age, s.last_error.is_some())
        })
    }

    /// The build status this file reports.
    pub fn build(&self) -> &BuildStatus {
        &self.publishing.build
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
                Some((etag, created)) => Ok(Published {
                    bytes: Bytes::from(bytes),
                    etag,
                    created,
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
        if let Some(token) = &self.publishing.token {
            let given = headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(WWW_AUTHENTICATE, "Bearer")],
                    "this snapshot needs a bearer token\n",
                )
                    .into_response();
            }
        }
        self.refresh();
        let current = self.current.lock().ok().and_then(|s| s.published.clone());
        let Some(p) = current else {
            return (StatusCode::SERVICE_UNAVAILABLE, "no valid snapshot yet\n").into_response();
        };
        let matches = headers
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == p.etag || t.trim() == "*"));
        let common = [
            (ETAG, p.etag.clone()),
            (CACHE_CONTROL, "no-cache".to_owned()),
            (HeaderName::from_static(CREATED_HEADER), p.created.to_string()),
        ];
        if matches {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        (common, [(CONTENT_TYPE, "application/octet-stream")], p.bytes.clone()).into_response()
    }

    /// `GET /healthz`: `200 ok`, or `503 degraded: …` when the snapshot is too old, a bad file is on disk or the
    /// last build failed (the last good snapshot is still published).
    pub fn health(&self) -> Response {
        self.refresh();
        let Ok(s) = self.current.lock() else {
            return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned\n").into_response();
        };
        let Some(p) = &s.published else {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("no snapshot: {}\n", s.last_error.as_deref().unwrap_or("-")),
            )
                .into_response();
        };
        let now = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let age = now.saturating_sub(p.created);
        let mut problems = Vec::new();
        if let Some(max) = self.publishing.max_age
            && age > max.as_secs()
        {
            problems.push(format!("the snapshot is {age} s old (more than {} s)", max.as_secs()));
        }
        if let Some(e) = &s.last_error {
            problems.push(e.clone());
        }
        if let Some(e) = self.publishing.build.error() {
            problems.push(format!("the last build failed: {e}"));
        }
        if problems.is_empty() {
            (StatusCode::OK, format!("ok etag={} age={age}\n", p.etag)).into_response()
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("degraded etag={} age={age}: {}\n", p.etag, problems.join("; ")),
            )
                .into_response()
        }
    }
}

/// Sent with every snapshot answer, `304` included: the creation time of the file being published.
pub const CREATED_HEADER: &str = "x-snapshot-created";

/// Compares without stopping at the first difference (the token is a secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
