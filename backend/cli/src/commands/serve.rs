//! `mirrorvane serve`: publish the current snapshot over HTTP so edges can poll it
//! (`mirrorvane-edge --snapshot http://backend:8090/snapshot`).
//!
//! `GET /snapshot` answers the file with an `ETag` (the snapshot header's checksum, length and creation time:
//! it changes exactly when the content does) and `304 Not Modified` to a matching `If-None-Match`, so an edge
//! polling every few seconds transfers the file once per build. The file is re-read when its modification time
//! or size changes: `mirrorvane snapshot -o` replaces it atomically. With `--build-every`, the server also
//! rebuilds the snapshot from the database on that period. A file that is not a valid snapshot is never
//! published; the last good one stays (and `/healthz` says so).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mirrorvane_selector::snapshot::read_header;
use tracing::{info, warn};

use crate::db::Database;

/// Arguments of `mirrorvane serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The snapshot file to publish.
    #[arg(long, value_name = "PATH", default_value = "mirrorvane.snapshot")]
    pub snapshot: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Rebuild the snapshot from the database this often (seconds); 0 = only publish what is on disk.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub build_every: u64,
}

/// What is being published.
#[derive(Clone)]
struct Published {
    bytes: Bytes,
    etag: String,
    stamp: Option<(SystemTime, u64)>,
}

#[derive(Default)]
struct State {
    current: Option<Published>,
    last_error: Option<String>,
}

/// The ETag of snapshot bytes, from their validated header; `None` when they are not a snapshot.
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

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Re-reads the file if its stamp changed; keeps the last good snapshot on any failure.
fn refresh(path: &Path, state: &Mutex<State>) {
    let now = stamp(path);
    let unchanged = state
        .lock()
        .map(|s| s.current.as_ref().is_some_and(|p| p.stamp == now))
        .unwrap_or(true);
    if unchanged && now.is_some() {
        return;
    }
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
    let Ok(mut s) = state.lock() else { return };
    match result {
        Ok(p) => {
            if s.current.as_ref().map(|c| &c.etag) != Some(&p.etag) {
                info!(etag = %p.etag, bytes = p.bytes.len(), "publishing snapshot");
            }
            s.current = Some(p);
            s.last_error = None;
        }
        Err(e) => {
            if s.last_error.as_ref() != Some(&e) {
                warn!("{e}");
            }
            // Remember the stamp of the bad file so it is not re-read on every request.
            if let Some(cur) = s.current.as_mut() {
                cur.stamp = now;
            }
            s.last_error = Some(e);
        }
    }
}

fn respond(req: &Request<Incoming>, path: &Path, state: &Mutex<State>) -> Response<Full<Bytes>> {
    let text = |status: StatusCode, body: String| {
        Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "text/plain")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
    }
    match req.uri().path() {
        "/snapshot" => {
            refresh(path, state);
            let current = state.lock().ok().and_then(|s| s.current.clone());
            let Some(p) = current else {
                return text(StatusCode::SERVICE_UNAVAILABLE, "no valid snapshot yet\n".into());
            };
            let matches = req
                .headers()
                .get(IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim() == p.etag || t.trim() == "*"));
            let builder = Response::builder()
                .header(ETAG, &p.etag)
                .header(CACHE_CONTROL, "no-cache");
            let response = if matches {
                builder.status(StatusCode::NOT_MODIFIED).body(Full::new(Bytes::new()))
            } else {
                let body = if req.method() == Method::HEAD {
                    Bytes::new()
                } else {
                    p.bytes.clone()
                };
                builder
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(Full::new(body))
            };
            response.unwrap_or_default()
        }
        "/healthz" => {
            refresh(path, state);
            let Ok(s) = state.lock() else {
                return text(StatusCode::INTERNAL_SERVER_ERROR, "poisoned\n".into());
            };
            match (&s.current, &s.last_error) {
                (Some(p), None) => text(StatusCode::OK, format!("ok etag={}\n", p.etag)),
                (Some(p), Some(e)) => text(StatusCode::OK, format!("ok etag={} stale: {e}\n", p.etag)),
                (None, e) => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("no snapshot: {}\n", e.as_deref().unwrap_or("-")),
                ),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

/// Serves until the process is stopped. Prints `Listening on http://ADDR` once bound.
pub async fn run(db: Option<Database>, args: &Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let state = Arc::new(Mutex::new(State::default()));
    refresh(&args.snapshot, &state);
    if let (Some(db), true) = (db, args.build_every > 0) {
        let (every, output) = (Duration::from_secs(args.build_every), args.snapshot.clone());
        tokio::spawn(async move {
            loop {
                let build = super::snapshot::Args {
                    from_mm2_cache: None,
                    output: output.clone(),
                    no_resolve: false,
                };
                match super::snapshot::run_from_database(&db, &build).await {
                    Ok(o) => info!("{}", o.summary()),
                    Err(e) => warn!("snapshot build failed; publishing the previous one: {e:#}"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }
    println!("Listening on http://{addr}");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                warn!("accept: {e}");
                continue;
            }
        };
        let (state, path) = (state.clone(), args.snapshot.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let response = respond(&req, &path, &state);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
