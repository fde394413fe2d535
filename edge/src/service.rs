//! The HTTP side: accept connections, turn each request into a selector [`Request`], answer.
//! Handlers are thin: parse, call [`Selector::handle`], copy the answer out. Per-thread buffers
//! ([`Workspace`]) and a per-thread random generator keep the request path free of shared locks.
//!
//! [`Selector::handle`]: mirrorvane_selector::Selector::handle

use std::cell::RefCell;
use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mirrorvane_selector::{Context, Locate, Request, SeededRandom, Selector, Workspace};
use tokio::net::TcpListener;

use crate::access_log::AccessLog;
use crate::source::{self, Intervals, Source};
use crate::state::State;

/// Everything `serve` needs besides the locator.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (port 0 picks one).
    pub listen: SocketAddr,
    /// MirrorManager's `--minimum`.
    pub minimum: usize,
    /// Hosts known not to answer over the client's address family last in their tier
    /// ([`Selector::set_family_preference`]); `false` answers in MirrorManager's order exactly.
    pub family_preference: bool,
    /// Snapshot file or URL.
    pub source: Source,
    /// Reload watch intervals.
    pub intervals: Intervals,
    /// Access-log file.
    pub access_log: Option<PathBuf>,
    /// Where connections are served: `None` on the runtime that calls [`serve`] (for embedding), `Some(n)` on
    /// `n` threads of their own (the binary: one per core).
    pub workers: Option<usize>,
}

thread_local! {
    static WORKSPACE: RefCell<Workspace> = RefCell::new(Workspace::new());
    static RNG: RefCell<SeededRandom> = RefCell::new(SeededRandom::new(RandomState::new().hash_one(std::thread::current().id())));
}

/// Loads the snapshot, binds, calls `ready` with the bound address, and serves until the process ends.
pub async fn serve(
    config: Config,
    locate: Arc<dyn Locate + Send + Sync>,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    serve_loading(config, move || Ok(locate), ready).await
}

/// Like [`serve`], loading the locator (GeoIP and ASN files) on another thread while the snapshot loads — the
/// two dominate start-up and do not depend on each other.
pub async fn serve_loading(
    config: Config,
    load_locator: impl FnOnce() -> anyhow::Result<Arc<dyn Locate + Send + Sync>> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let locator = tokio::task::spawn_blocking(load_locator);
    let stamp = source::stamp(&config.source);
    let (selector, etag) = source::fetch(&config.source, None)
        .await?
        .context("the snapshot source answered 304 to an unconditional request")?;
    let locate = locator.await??;
    let access_log = config.access_log.as_deref().map(AccessLog::open).transpose()?;
    let state = Arc::new(State::new(
        selector,
        locate,
        config.minimum,
        config.family_preference,
        access_log,
    ));
    source::spawn_reloader(state.clone(), config.source.clone(), config.intervals, etag, stamp);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    ready(listener.local_addr()?);
    match config.workers {
        None => serve_on(listener, state).await,
        Some(n) => serve_on_workers(listener, state, n).await,
    }
}

/// Serves `listener` on `n` threads, each with a single-threaded runtime and a clone of the listening socket.
///
/// A connection then lives on the thread that accepted it: no work stealing, no cross-thread wake-ups (the
/// multi-threaded runtime's reschedule interrupts cost ~8 % of a small request here). The threads compete for
/// new connections, so an idle one takes them — keep-alive clients are spread by who is free, not by a hash as
/// with `SO_REUSEPORT`. The calling runtime keeps the reloader.
async fn serve_on_workers(listener: TcpListener, state: Arc<State>, n: usize) -> anyhow::Result<()> {
    let listener = listener.into_std()?;
    let mut threads = Vec::with_capacity(n);
    for i in 0..n.max(1) {
        let (listener, state) = (listener.try_clone()?, state.clone());
        let thread = std::thread::Builder::new()
            .name(format!("edge-worker-{i}"))
            .spawn(move || -> anyhow::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async move { serve_on(TcpListener::from_std(listener)?, state).await })
            })
            .context("starting a worker thread")?;
        threads.push(thread);
    }
    tokio::task::spawn_blocking(move || {
        for t in threads {
            match t.join() {
                Ok(result) => result?,
                Err(_) => anyhow::bail!("a worker thread panicked"),
            }
        }
        Ok(())
    })
    .await?
}

/// Serves connections from `listener` with `state`, on the current runtime.
pub async fn serve_on(listener: TcpListener, state: Arc<State>) -> anyhow::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: keep serving the connections we have.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let response = respond(&state, &req, peer.ip());
                async move { Ok::<_, Infallible>(response) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // Vectored writes: the body goes to the socket as is, not copied into hyper's header buffer.
            builder.http1().writev(true);
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), svc).await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Answers one request.
pub fn respond(state: &State, req: &hyper::Request<Incoming>, peer: IpAddr) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    match path {
        "/healthz" => {
            let l = state.current();
            let body = format!("ok generation={} created={}\n", l.generation, l.selector.created());
            return text(StatusCode::OK, "text/plain", body);
        }
        "/metrics" => {
            return text(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                state.metrics.encode(),
            );
        }
        _ => {}
    }
    let request = Request {
        path,
        query: req.uri().query().unwrap_or(""),
        forwarded_for: req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .map(HeaderValue::as_bytes),
        accept: req.headers().get(ACCEPT).map(HeaderValue::as_bytes),
        peer,
    };
    let loaded = state.current();
    answer(state, &loaded.selector, &request)
}

fn answer(state: &State, selector: &Selector, request: &Request<'_>) -> Response<Full<Bytes>> {
    WORKSPACE.with_borrow_mut(|ws| {
        RNG.with_borrow_mut(|rng| {
            let started = Instant::now();
            let mut ctx = Context {
                now: now(),
                minimum: state.minimum,
                locate: &*state.locate,
                random: rng,
            };
            selector.handle(request, &mut ctx, ws);
            let elapsed = started.elapsed().as_secs_f64();
            // Hand the body to hyper without copying it; the workspace gets a fresh buffer of the same size,
            // which costs one allocation instead of a copy of tens of kilobytes.
            let capacity = ws.answer.body.capacity();
            let body = std::mem::replace(&mut ws.answer.body, String::with_capacity(capacity));
            let a = &ws.answer;
            let mut r = Response::new(Full::new(Bytes::from(body)));
            *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(a.content_type.as_str()));
            // The selector sends only valid header values as a Location (redirects to anything else are 404s).
            if !a.location.is_empty()
                && let Ok(v) = HeaderValue::from_str(&a.location)
            {
                r.headers_mut().insert(LOCATION, v);
            }
            if let Some(log) = &state.access_log
                && !a.log_line.is_empty()
                && !log.write(&a.log_line)
            {
                state.metrics.log_dropped();
            }
            state.metrics.request(a.kind.name(), a.status, elapsed);
            r
        })
    })
}
