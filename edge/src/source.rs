//! Where snapshots come from, how they are checked, and the watcher that reloads them.
//!
//! A file is reloaded on SIGHUP and when its size, modification time or inode changes (so an atomic `rename`
//! by `mirrorvane snapshot` or `rsync --delay-updates` is seen). A URL (`http://` or `https://`) is polled with
//! `If-None-Match`, within connect and total timeouts, refusing a body larger than the limit before reading it;
//! an unchanged snapshot costs one `304`, whose `X-Snapshot-Created` tells how fresh the backend's view is.
//!
//! Every snapshot is checked before it is decoded: its signature against the accepted public keys (when there
//! are any), then its content digest against the one being served — a rebuild of the same content only refreshes
//! the freshness, without re-indexing. Decoding and indexing run on a blocking thread; requests keep being
//! answered from the old snapshot until the new one is installed. A snapshot fetched from a URL is also written
//! to the cache file, which the edge starts from when the URL cannot be reached.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use mirrorvane_selector::Selector;
use mirrorvane_signature::PublicKey;

use crate::state::State;

/// A snapshot location.
#[derive(Clone, Debug)]
pub enum Source {
    /// A local file.
    File(PathBuf),
    /// An `http://` or `https://` URL (e.g. `mirrorvane serve` on the backend).
    Url(reqwest::Url),
}

impl Source {
    /// `http://…` and `https://…` are URLs, anything else a path.
    pub fn parse(s: &str) -> anyhow::Result<Source> {
        if s.starts_with("http://") || s.starts_with("https://") {
            Ok(Source::Url(s.parse().with_context(|| format!("bad snapshot URL {s}"))?))
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

/// How snapshots are fetched and checked.
#[derive(Clone, Debug)]
pub struct Fetch {
    /// Accepted signers; empty accepts unsigned snapshots (and ignores signatures).
    pub public_keys: Vec<PublicKey>,
    /// Sent as `Authorization: Bearer` to a URL.
    pub token: Option<String>,
    /// Where the last snapshot fetched from a URL is kept, to start from when the URL cannot be reached.
    pub cache: Option<PathBuf>,
    /// Largest snapshot accepted over HTTP.
    pub max_bytes: u64,
    /// Connecting to the URL at most.
    pub connect_timeout: Duration,
    /// A whole fetch at most.
    pub timeout: Duration,
    /// At start, when a URL cannot be fetched and no cached copy serves: how long to keep trying (with backoff,
    /// up to 2 s apart) before giving up. Zero gives up at once. A snapshot that is refused is never retried.
    pub startup_wait: Duration,
}

impl Default for Fetch {
    fn default() -> Fetch {
        Fetch {
            public_keys: Vec::new(),
            token: None,
            cache: None,
            max_bytes: 1 << 30,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(300),
            startup_wait: Duration::ZERO,
        }
    }
}

/// What a fetch found.
pub enum Fetched {
    /// A `304`: the content is the one we have; the backend may say as of when.
    Unchanged { created: Option<u64> },
    /// Bytes, with the URL's ETag.
    New { bytes: Bytes, etag: Option<String> },
}

/// Fetches snapshots (one HTTP client with keep-alive for a URL).
pub struct Fetcher {
    source: Source,
    fetch: Fetch,
    client: reqwest::Client,
}

impl Fetcher {
    pub fn new(source: Source, fetch: Fetch) -> anyhow::Result<Fetcher> {
        let client = reqwest::Client::builder()
            .connect_timeout(fetch.connect_timeout)
            .timeout(fetch.timeout)
            .user_agent(concat!("mirrorvane-edge/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Fetcher { source, fetch, client })
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The source's bytes (`etag` = what we have, for a URL).
    pub async fn fetch(&self, etag: Option<&str>) -> anyhow::Result<Fetched> {
        match &self.source {
            Source::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .with_context(|| format!("reading snapshot {}", path.display()))?;
                Ok(Fetched::New {
                    bytes: Bytes::from(bytes),
                    etag: None,
                })
            }
            Source::Url(url) => self.fetch_url(url, etag).await,
        }
    }

    async fn fetch_url(&self, url: &reqwest::Url, etag: Option<&str>) -> anyhow::Result<Fetched> {
        let mut req = self.client.get(url.clone());
        if let Some(tag) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        if let Some(token) = &self.fetch.token {
            req = req.bearer_auth(token);
        }
        let mut resp = req.send().await.with_context(|| format!("fetching snapshot {url}"))?;
        let created = resp
            .headers()
            .get("x-snapshot-created")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::Unchanged { created });
        }
        if !resp.status().is_success() {
            bail!("fetching snapshot {url}: HTTP {}", resp.status());
        }
        let max = self.fetch.max_bytes;
        if let Some(len) = resp.content_length()
            && len > max
        {
            bail!("fetching snapshot {url}: {len} bytes announced, more than the limit of {max}");
        }
        let tag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.with_context(|| format!("fetching snapshot {url}"))? {
            if body.len() as u64 + chunk.len() as u64 > max {
                bail!("fetching snapshot {url}: more than the limit of {max} bytes");
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::New {
            bytes: Bytes::from(body),
            etag: tag,
        })
    }

    /// Checks `bytes` (signature), then decodes and indexes them on a blocking thread. Returns the selector and
    /// the content digest.
    pub async fn load(&self, bytes: Bytes) -> anyhow::Result<(Selector, Option<[u8; 32]>)> {
        let (len, digest) = self.check(&bytes)?;
        Ok((self.decode(bytes.slice(..len)).await?, digest))
    }

    /// The signature check alone (cheap next to indexing): the length of the checked snapshot (without its
    /// signature) and its content digest.
    pub fn check(&self, bytes: &[u8]) -> anyhow::Result<(usize, Option<[u8; 32]>)> {
        let checked =
            verified(bytes, &self.fetch.public_keys).with_context(|| format!("snapshot {}", self.describe()))?;
        Ok((checked.len(), mirrorvane_signature::content_digest(checked)))
    }

    /// Decodes and indexes checked snapshot bytes on a blocking thread.
    async fn decode(&self, checked: Bytes) -> anyhow::Result<Selector> {
        let what = self.describe();
        tokio::task::spawn_blocking(move || Selector::decode(&checked))
            .await?
            .with_context(|| format!("loading snapshot {what}"))
    }

    /// Keeps `bytes` (already checked) as the cache file, when there is one.
    pub fn keep(&self, bytes: &[u8]) {
        let (Some(cache), Source::Url(_)) = (&self.fetch.cache, &self.source) else {
            return;
        };
        let tmp = cache.with_extension(format!("tmp.{}", std::process::id()));
        let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, cache));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!("cannot keep the snapshot in {}: {e}", cache.display());
        }
    }

    /// The cache file's snapshot, for a start without the URL.
    pub async fn from_cache(&self) -> anyhow::Result<(Selector, Option<[u8; 32]>)> {
        let cache = self.fetch.cache.as_ref().context("no cache file (--cache)")?;
        let bytes = tokio::fs::read(cache)
            .await
            .with_context(|| format!("reading the cached snapshot {}", cache.display()))?;
        self.load(Bytes::from(bytes)).await
    }

    fn describe(&self) -> String {
        match &self.source {
            Source::File(p) => p.display().to_string(),
            Source::Url(u) => u.to_string(),
        }
    }
}

/// The snapshot bytes to decode: checked against `keys` when there are any.
fn verified<'a>(bytes: &'a [u8], keys: &[PublicKey]) -> anyhow::Result<&'a [u8]> {
    if keys.is_empty() {
        return Ok(bytes);
    }
    Ok(mirrorvane_signature::verify(bytes, keys)?)
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

/// Handles what a fetch found: refreshes the freshness of unchanged content, installs new content. Returns the
/// ETag to send next time.
pub async fn apply(
    state: &State,
    fetcher: &Fetcher,
    found: Fetched,
    etag: Option<String>,
) -> anyhow::Result<Option<String>> {
    match found {
        Fetched::Unchanged { created } => {
            state.confirm(created.unwrap_or(0));
            Ok(etag)
        }
        Fetched::New { bytes, etag: tag } => {
            let (len, digest) = fetcher.check(&bytes)?;
            let current = state.current();
            if digest.is_some() && digest == current.digest {
                let created = mirrorvane_selector::snapshot::read_header(&bytes[..len]).map_or(0, |h| h.created);
                state.confirm(created);
                fetcher.keep(&bytes);
                return Ok(tag);
            }
            drop(current);
            let selector = fetcher.decode(bytes.slice(..len)).await?;
            let created = selector.created();
            let generation = state.install(selector, digest);
            fetcher.keep(&bytes);
            tracing::info!(generation, created, "snapshot reloaded");
            Ok(tag)
        }
    }
}

/// Watches the source until the process ends, installing every snapshot that checks out.
pub fn spawn_reloader(
    state: Arc<State>,
    fetcher: Arc<Fetcher>,
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
        let period = match fetcher.source() {
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
            if let Source::File(_) = fetcher.source() {
                let now = self::stamp(fetcher.source());
                if !forced && now == stamp {
                    continue;
                }
                stamp = now;
            }
            let have = if forced { None } else { etag.clone() };
            let result = match fetcher.fetch(have.as_deref()).await {
                Ok(found) => apply(&state, &fetcher, found, etag.clone()).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(tag) => etag = tag,
                Err(e) => {
                    tracing::error!("snapshot refused, the previous one keeps serving: {e:#}");
                    state.reload_failed(format!("{e:#}"));
                }
            }
        }
    });
}
