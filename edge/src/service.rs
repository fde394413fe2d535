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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use mirrorvane_selector::{Context, Locate, Request, SeededRandom, Selector, Workspace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::access_log::AccessLog;
use crate::limits::{Limits, Trust, asks_explain};
use crate::source::{self, Fetch, Fetched, Fetcher, Intervals, Source};
use crate::state::{Settings, State};

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
    /// Connection limits.
    pub limits: Limits,
    /// Whom to believe (`X-Forwarded-For`, `explain`, `/metrics`).
    pub trust: Trust,
    /// A second listener for `/metrics` and `/healthz` only (operators' network); `/metrics` then leaves the
    /// request port.
    pub admin_listen: Option<SocketAddr>,
    /// How snapshots are fetched and checked (signatures, token, cache, limits).
    pub fetch: Fetch,
    /// `/healthz` says degraded when the snapshot is older than this.
    pub max_age: Option<Duration>,
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
    let fetcher = Arc::new(Fetcher::new(config.source.clone(), config.fetch.clone())?);
    let stamp = source::stamp(&config.source);
    // The first snapshot. A failure is `(error, transient)`: transient when the source could not be read (the
    // backend may be starting too: worth trying again), not when what it gave was refused (signature, format:
    // no retry mends that).
    let first = || async {
        match fetcher.fetch(None).await.map_err(|e| (e, true))? {
            Fetched::New { bytes, etag } => {
                let (selector, digest) = fetcher.load(bytes.clone()).await.map_err(|e| (e, false))?;
                fetcher.keep(&bytes);
                Ok((selector, digest, etag))
            }
            Fetched::Unchanged { .. } => Err((
                anyhow::anyhow!("the snapshot source answered 304 to an unconditional request"),
                false,
            )),
        }
    };
    // The source may be down when the edge (re)starts: the cached copy of the last good snapshot serves until it
    // is back. Without a usable copy (a new edge), an edge starting with (or before) its backend keeps trying the
    // URL for `startup_wait`.
    let url = matches!(config.source, Source::Url(_));
    let started = Instant::now();
    let mut pause = Duration::from_millis(250);
    let (selector, digest, etag, unreachable) = loop {
        let (e, transient) = match first().await {
            Ok((selector, digest, etag)) => break (selector, digest, etag, None),
            Err(failure) => failure,
        };
        let e = match config.fetch.cache {
            None => e,
            Some(_) => match fetcher.from_cache().await {
                Ok((selector, digest)) => {
                    tracing::warn!("{e:#}; starting from the cached snapshot");
                    break (selector, digest, None, Some(format!("{e:#}")));
                }
                Err(cache) => cache.context(format!("{e:#}, and no usable cached snapshot")),
            },
        };
        if !(url && transient && started.elapsed() + pause <= config.fetch.startup_wait) {
            return Err(e);
        }
        tracing::warn!("{e:#}; trying again in {pause:?}");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    };
    let locate = locator.await??;
    let metrics = crate::metrics::Metrics::new();
    let access_log = config
        .access_log
        .as_deref()
        .map(|p| AccessLog::open(p, metrics.log_write_errors()))
        .transpose()?;
    let mut trust = config.trust.clone();
    trust.metrics_on_public_port = config.admin_listen.is_none();
    let state = Arc::new(State::new(
        selector,
        digest,
        Settings {
            locate,
            minimum: config.minimum,
            family_preference: config.family_preference,
            access_log,
            metrics,
            trust,
            max_age: config.max_age,
        },
    ));
    if let Some(why) = unreachable {
        state.reload_failed(why);
    }
    spawn_log_reopener(&state);
    source::spawn_reloader(state.clone(), fetcher, config.intervals, etag, stamp);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    if let Some(admin) = config.admin_listen {
        let admin = TcpListener::bind(admin)
            .await
            .with_context(|| format!("binding {admin}"))?;
        tokio::spawn(serve_admin(admin, state.clone(), config.limits.clone()));
    }
    ready(listener.local_addr()?);
    match config.workers {
        None => serve_on(listener, state, config.limits).await,
        Some(n) => serve_on_workers(listener, state, n, config.limits).await,
    }
}

/// Serves `listener` on `n` threads, each with a single-threaded runtime and a clone of the listening socket.
///
/// A connection then lives on the thread that accepted it: no work stealing, no cross-thread wake-ups (the
/// multi-threaded runtime's reschedule interrupts cost ~8 % of a small request here). The threads compete for
/// new connections, so an idle one takes them — keep-alive clients are spread by who is free, not by a hash as
/// with `SO_REUSEPORT`. The calling runtime keeps the reloader.
async fn serve_on_workers(listener: TcpListener, state: Arc<State>, n: usize, limits: Limits) -> anyhow::Result<()> {
    let listener = listener.into_std()?;
    let mut threads = Vec::with_capacity(n);
    for i in 0..n.max(1) {
        let (listener, state, limits) = (listener.try_clone()?, state.clone(), limits.clone());
        let thread = std::thread::Builder::new()
            .name(format!("edge-worker-{i}"))
            .spawn(move || -> anyhow::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async move { serve_on(TcpListener::from_std(listener)?, state, limits).await })
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

/// Serves connections from `listener` with `state`, on the current runtime, within `limits`.
pub async fn serve_on(listener: TcpListener, state: Arc<State>, limits: Limits) -> anyhow::Result<()> {
    accept_loop(listener, state, limits, Port::Requests).await
}

/// Reopens the access log on SIGUSR1 and SIGHUP (logrotate's `postrotate`; SIGHUP also reloads the snapshot).
fn spawn_log_reopener(state: &Arc<State>) {
    if state.access_log.is_none() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut usr1), Ok(mut hup)) = (signal(SignalKind::user_defined1()), signal(SignalKind::hangup())) else {
            tracing::warn!("cannot listen for SIGUSR1/SIGHUP: the access log will not be reopened");
            return;
        };
        loop {
            tokio::select! {
                Some(()) = usr1.recv() => {}
                Some(()) = hup.recv() => {}
                else => return,
            }
            if let Some(log) = &state.access_log {
                log.reopen();
            }
        }
    });
}

/// The admin listener: `/metrics` and `/healthz` only.
async fn serve_admin(listener: TcpListener, state: Arc<State>, limits: Limits) -> anyhow::Result<()> {
    accept_loop(listener, state, limits, Port::Admin).await
}

/// Which listener a connection came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Port {
    Requests,
    Admin,
}

/// The answer to a connection over the cap: a complete HTTP/1.1 response, written without reading the request.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\
Retry-After: 1\r\nConnection: close\r\n\r\ntoo many connections\n";

async fn accept_loop(listener: TcpListener, state: Arc<State>, limits: Limits, port: Port) -> anyhow::Result<()> {
    let open = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
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
        if open.load(Ordering::Relaxed) >= limits.max_connections {
            state.metrics.connection_refused();
            refuse(stream, &refusing);
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let guard = Open(open.clone());
        let _ = stream.set_nodelay(true);
        let (state, limits) = (state.clone(), limits.clone());
        tokio::spawn(async move {
            let _guard = guard;
            let svc = service_fn(move |req| {
                let response = match port {
                    Port::Requests => respond(&state, &req, peer.ip()),
                    Port::Admin => respond_admin(&state, &req),
                };
                async move { Ok::<_, Infallible>(response) }
            });
            let io = TokioIo::new(stream);
            let served = if limits.h2c {
                let mut builder = auto::Builder::new(TokioExecutor::new());
                builder
                    .http1()
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    .max_buf_size(limits.max_head_bytes.max(8192))
                    .writev(true);
                builder.serve_connection(io, svc).await
            } else {
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    .max_buf_size(limits.max_head_bytes.max(8192))
                    // Vectored writes: the body goes to the socket as is, not copied into hyper's header buffer.
                    .writev(true);
                builder.serve_connection(io, svc).await.map_err(Into::into)
            };
            if let Err(e) = served {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}

/// Refusals in progress at most; past that a connection over the cap is closed without a word.
const MAX_REFUSING: usize = 1024;

/// Over the cap: a `503` instead of a task and a buffer for a whole connection. The request is read (and
/// dropped) for half a second after the answer, because closing a socket with unread data resets it and the
/// client would lose the answer.
fn refuse(mut stream: tokio::net::TcpStream, refusing: &Arc<AtomicUsize>) {
    if refusing.load(Ordering::Relaxed) >= MAX_REFUSING {
        return;
    }
    refusing.fetch_add(1, Ordering::Relaxed);
    let guard = Open(refusing.clone());
    tokio::spawn(async move {
        let _guard = guard;
        if stream.write_all(REFUSAL).await.is_err() {
            return;
        }
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), async {
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
    });
}

/// Counts a connection as open until dropped.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// The most body capacity a worker keeps between requests (Fedora's largest metalinks are ~50 KB).
const KEPT_BODY_CAPACITY: usize = 256 << 10;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `200 ok …`, or `200 degraded …` when the snapshot is older than `--max-age` or the last reload failed: an
/// edge with an old snapshot still answers better than none, so a load balancer should keep it (alert on the
/// body or on `mirrorvane_edge_snapshot_age_seconds`).
fn healthz(state: &State) -> Response<Full<Bytes>> {
    let l = state.current();
    let now = now();
    let age = now.saturating_sub(state.fresh());
    let status = match state.degraded(now) {
        Some(why) => format!("degraded: {why};"),
        None => "ok".to_owned(),
    };
    let body = format!(
        "{status} generation={} created={} age={age}\n",
        l.generation,
        l.selector.created()
    );
    text(StatusCode::OK, "text/plain", body)
}

fn metrics(state: &State) -> Response<Full<Bytes>> {
    state.metrics.set_age(now().saturating_sub(state.fresh()));
    text(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        state.metrics.encode(),
    )
}

/// Answers one request on the admin listener.
fn respond_admin(state: &State, req: &hyper::Request<Incoming>) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/healthz" => healthz(state),
        "/metrics" => metrics(state),
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

/// Answers one request on the request port.
pub fn respond(state: &State, req: &hyper::Request<Incoming>, peer: IpAddr) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let query = req.uri().query().unwrap_or("");
    let forwarded_for = state.trust.forwarded_for(
        peer,
        req.headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .map(HeaderValue::as_bytes),
    );
    // Who is asking, for the operators' answers: the address `X-Forwarded-For` gives (when believed), never `ip=`.
    let client = || mirrorvane_selector::client::client_address(None, forwarded_for, peer).unwrap_or(peer);
    match path {
        "/healthz" => return healthz(state),
        "/metrics" if state.trust.metrics_on_public_port && state.trust.is_local(client()) => {
            return metrics(state);
        }
        _ => {}
    }
    if asks_explain(query) && !state.trust.explain_allowed(client()) {
        state.metrics.request("other", 403, 0.0);
        return text(
            StatusCode::FORBIDDEN,
            "text/plain",
            "explain is answered only to this machine and trusted networks\n".into(),
        );
    }
    let request = Request {
        path,
        query,
        forwarded_for,
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
            // which costs one allocation instead of a copy of tens of kilobytes — but not more than a large
            // answer needs, so one outsized answer does not pin its buffer in every worker.
            let capacity = ws.answer.body.capacity().min(KEPT_BODY_CAPACITY);
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
