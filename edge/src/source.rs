//! Where snapshots come from, and the watchers that reload them.
//!
//! A file is reloaded on SIGHUP and when its size, modification time or inode changes (so an atomic `rename`
//! by `mirrorvane snapshot` or `rsync --delay-updates` is seen). A URL is polled with `If-None-Match`, so an
//! unchanged snapshot costs one `304`. Decoding and indexing run on a blocking thread; requests keep being
//! answered from the old snapshot until the new one is installed.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mirrorvane_selector::Selector;

use crate::state::State;

/// Largest snapshot accepted over HTTP.
const MAX_SNAPSHOT_BYTES: usize = 1 << 30;

/// A snapshot location.
#[derive(Clone, Debug)]
pub enum Source {
    /// A local file.
    File(PathBuf),
    /// An `http://` URL (e.g. `mirrorvane serve` on the backend).
    Url(Uri),
}

impl Source {
    /// `http://…` is a URL, anything else a path.
    pub fn parse(s: &str) -> anyhow::Result<Source> {
        if s.starts_with("http://") {
            Ok(Source::Url(s.parse().with_context(|| format!("bad snapshot URL {s}"))?))
        } else if s.starts_with("https://") {
            bail!("https snapshot URLs are not supported; poll over http on the internal network or use a file");
        } else {
            Ok(Source::File(PathBuf::from(s)))
        }
    }
}

/// How often watchers look.
#[derive(Clone, Copy, Debug)]
pub struct Intervals {
    /// File metadata check.
    pub file: Duration,
    /// URL poll.
    pub url: Duration,
}

/// Fetches and indexes a snapshot; for URLs also returns the ETag. `etag` = what we have (a URL answering
/// `304` yields `Ok(None)`).
pub async fn fetch(source: &Source, etag: Option<&str>) -> anyhow::Result<Option<(Selector, Option<String>)>> {
    let (bytes, new_etag) = match source {
        Source::File(path) => {
            let bytes = tokio::fs::read(path)
                .await
                .with_context(|| format!("reading snapshot {}", path.display()))?;
            (Bytes::from(bytes), None)
        }
        Source::Url(uri) => {
            let client: Client<HttpConnector, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
            let mut req = hyper::Request::get(uri.clone());
            if let Some(tag) = etag {
                req = req.header(hyper::header::IF_NONE_MATCH, tag);
            }
            let resp = client
                .request(req.body(Empty::new())?)
                .await
                .with_context(|| format!("fetching snapshot {uri}"))?;
            if resp.status() == hyper::StatusCode::NOT_MODIFIED {
                return Ok(None);
            }
            if !resp.status().is_success() {
                bail!("fetching snapshot {uri}: HTTP {}", resp.status());
            }
            let tag = resp
                .headers()
                .get(hyper::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = Limited::new(resp.into_body(), MAX_SNAPSHOT_BYTES)
                .collect()
                .await
                .map_err(|e| anyhow::anyhow!("fetching snapshot {uri}: {e}"))?
                .to_bytes();
            (body, tag)
        }
    };
    let selector = tokio::task::spawn_blocking(move || Selector::decode(&bytes))
        .await?
        .with_context(|| match source {
            Source::File(p) => format!("loading snapshot {}", p.display()),
            Source::Url(u) => format!("loading snapshot {u}"),
        })?;
    Ok(Some((selector, new_etag)))
}

/// What identifies a version of a snapshot file: size, modification time, inode.
pub type Stamp = Option<(u64, i64, i64, u64)>;

/// The file's current stamp (`None` for URLs and unreadable files). Taken *before* a load, so a file replaced
/// during the load is noticed by the next check.
pub fn stamp(source: &Source) -> Stamp {
    let Source::File(path) = source else { return None };
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
}

/// Watches `source` until the process ends, installing every snapshot that validates.
pub fn spawn_reloader(
    state: Arc<State>,
    source: Source,
    intervals: Intervals,
    mut etag: Option<String>,
    mut stamp: Stamp,
) {
    tokio::spawn(async move {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("cannot listen for SIGHUP: {e}");
                None
            }
        };
        let period = match source {
            Source::File(_) => intervals.file,
            Source::Url(_) => intervals.url,
        };
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            let forced = tokio::select! {
                _ = tick.tick() => false,
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            };
            if let Source::File(_) = &source {
                let now = self::stamp(&source);
                if !forced && now == stamp {
                    continue;
                }
                stamp = now;
            }
            let have = if forced { None } else { etag.as_deref() };
            match fetch(&source, have).await {
                Ok(None) => {}
                Ok(Some((selector, tag))) => {
                    let created = selector.created();
                    let generation = state.install(selector);
                    etag = tag;
                    tracing::info!(generation, created, "snapshot reloaded");
                }
                Err(e) => {
                    state.metrics.reload_failed();
                    tracing::error!("snapshot refused, the previous one keeps serving: {e:#}");
                }
            }
        }
    });
}
