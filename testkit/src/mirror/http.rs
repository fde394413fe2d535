//! A static file server for mirror trees: `GET` and `HEAD` of files and directories below a root chosen by the
//! request's host name, over HTTP or HTTPS, with knobs that make it slow, hang or reset connections.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

/// How the server treats a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers requests.
    Serve,
    /// Accepts the connection and closes it at once (a broken web server).
    Reset,
    /// Accepts the connection and never answers (a wedged one).
    Hang,
}

/// Behaviour that a test changes while the server runs.
#[derive(Debug, Default)]
pub struct Knobs {
    mode: AtomicU8,
    delay_ms: AtomicU64,
    requests: AtomicU64,
}

impl Knobs {
    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }

    pub fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Relaxed) {
            1 => Mode::Reset,
            2 => Mode::Hang,
            _ => Mode::Serve,
        }
    }

    /// Every answer waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// What to serve and where.
#[derive(Debug, Clone, Default)]
pub struct MirrorConfig {
    /// Addresses to listen on, all on one port.
    pub addresses: Vec<IpAddr>,
    /// The port; 0 picks one.
    pub port: u16,
    /// Host name (without port) → the directory served as `/` for it.
    pub sites: Vec<(String, PathBuf)>,
    /// Served for any other host name.
    pub default_root: Option<PathBuf>,
    /// HTTPS with this configuration, else HTTP.
    pub tls: Option<Arc<ServerConfig>>,
}

/// A running server; stops accepting when dropped.
#[derive(Debug)]
pub struct HttpMirror {
    port: u16,
    tls: bool,
    knobs: Arc<Knobs>,
    accept_loops: Vec<AbortHandle>,
}

struct Site {
    roots: HashMap<String, PathBuf>,
    default_root: Option<PathBuf>,
    knobs: Arc<Knobs>,
}

impl HttpMirror {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(config: MirrorConfig) -> std::io::Result<HttpMirror> {
        if config.addresses.is_empty() {
            return Err(std::io::Error::other("a mirror needs an address to listen on"));
        }
        let listeners = bind_all(&config.addresses, config.port).await?;
        let port = listeners[0].local_addr()?.port();
        let knobs = Arc::new(Knobs::default());
        let site = Arc::new(Site {
            roots: config
                .sites
                .iter()
                .map(|(name, root)| (name.to_ascii_lowercase(), root.clone()))
                .collect(),
            default_root: config.default_root.clone(),
            knobs: knobs.clone(),
        });
        let acceptor = config.tls.clone().map(TlsAcceptor::from);
        let accept_loops = listeners
            .into_iter()
            .map(|l| tokio::spawn(accept(l, site.clone(), acceptor.clone())).abort_handle())
            .collect();
        Ok(HttpMirror {
            port,
            tls: config.tls.is_some(),
            knobs,
            accept_loops,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The knobs of this server.
    pub fn knobs(&self) -> &Arc<Knobs> {
        &self.knobs
    }

    /// `http(s)://NAME:PORT/PATH`.
    pub fn url(&self, name: &str, path: &str) -> String {
        format!(
            "{}://{name}:{}/{}",
            if self.tls { "https" } else { "http" },
            self.port,
            path.trim_start_matches('/')
        )
    }
}

impl Drop for HttpMirror {
    fn drop(&mut self) {
        for a in &self.accept_loops {
            a.abort();
        }
    }
}

/// Listeners on every address with one port (the first's, when `port` is 0; retried when another process holds
/// it on a later address).
async fn bind_all(addresses: &[IpAddr], port: u16) -> std::io::Result<Vec<TcpListener>> {
    let mut last = None;
    for _ in 0..10 {
        let first = TcpListener::bind(SocketAddr::new(addresses[0], port)).await?;
        let chosen = first.local_addr()?.port();
        let mut all = vec![first];
        let mut failed = None;
        for a in &addresses[1..] {
            match TcpListener::bind(SocketAddr::new(*a, chosen)).await {
                Ok(l) => all.push(l),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            None => return Ok(all),
            Some(e) if port == 0 => last = Some(e),
            Some(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("cannot bind")))
}

async fn accept(listener: TcpListener, site: Arc<Site>, tls: Option<TlsAcceptor>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        match site.knobs.mode() {
            Mode::Reset => {
                drop(stream);
                continue;
            }
            Mode::Hang => {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    drop(stream);
                });
                continue;
            }
            Mode::Serve => {}
        }
        let site = site.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let site = site.clone();
                async move { Ok::<_, Infallible>(answer(&site, req).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}

async fn answer(site: &Site, req: Request<Incoming>) -> Response<Full<Bytes>> {
    site.knobs.requests.fetch_add(1, Ordering::Relaxed);
    let delay = site.knobs.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(strip_port)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let Some(root) = site.roots.get(&host).or(site.default_root.as_ref()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let Some(path) = local_path(root, req.uri().path()) else {
        return status(StatusCode::BAD_REQUEST);
    };
    match tokio::fs::metadata(&path).await {
        Ok(m) if m.is_dir() => listing(&path).await,
        Ok(_) => match tokio::fs::read(&path).await {
            Ok(bytes) => Response::builder()
                .header(CONTENT_LENGTH, bytes.len())
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(Full::new(Bytes::from(bytes)))
                .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)),
            Err(_) => status(StatusCode::FORBIDDEN),
        },
        Err(_) => status(StatusCode::NOT_FOUND),
    }
}

/// `host:port`, `[v6]:port`, `host` → the host.
fn strip_port(h: &str) -> &str {
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    h.rsplit_once(':').map_or(h, |(name, _)| name)
}

/// The file a URL path names below `root`; `None` for a path that would leave it.
fn local_path(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(url_path).decode_utf8().ok()?;
    let mut out = root.to_path_buf();
    for segment in decoded.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if segment == ".." || segment.contains('\0') {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

async fn listing(dir: &Path) -> Response<Full<Bytes>> {
    let mut names = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(e)) = entries.next_entry().await {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    let mut body = String::from("<html><body><pre>\n");
    for n in names {
        body.push_str(&format!("<a href=\"{n}\">{n}</a>\n"));
    }
    body.push_str("</pre></body></html>\n");
    Response::builder()
        .header(CONTENT_TYPE, "text/html")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(format!("{code}\n"))));
    *r.status_mut() = code;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_below_the_root() {
        let root = Path::new("/srv/m");
        assert_eq!(local_path(root, "/a/b%20c"), Some(PathBuf::from("/srv/m/a/b c")));
        assert_eq!(local_path(root, "/"), Some(PathBuf::from("/srv/m")));
        assert_eq!(local_path(root, "/a/../../etc"), None);
        assert_eq!(local_path(root, "/a/%2e%2e/x"), None);
        assert_eq!(strip_port("m.test:8080"), "m.test");
        assert_eq!(strip_port("[::1]:8080"), "::1");
        assert_eq!(strip_port("m.test"), "m.test");
    }
}
