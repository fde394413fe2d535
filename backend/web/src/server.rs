//! Serving the router on the open internet (private mirrors check in from anywhere): hyper's HTTP/1.1 with a
//! header-read timeout (slow senders and idle keep-alive connections are closed), a cap on open connections
//! (one more gets a `503` and is closed), and a time limit on each request, body included (a body trickled in
//! byte by byte does not hold a connection forever). The same limits as the edge's, for the same reasons.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// What one `serve` accepts.
#[derive(Clone, Debug)]
pub struct ServeLimits {
    /// A client must send a request head within this long of connecting or of the previous answer.
    pub header_timeout: Duration,
    /// A whole request, body and answer included.
    pub request_timeout: Duration,
    /// Connections open at once; one more is answered `503` and closed.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> ServeLimits {
        ServeLimits {
            header_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(120),
            max_connections: 1024,
        }
    }
}

const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\
Retry-After: 1\r\nConnection: close\r\n\r\ntoo many connections\n";

/// Serves `router` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, router: Router, limits: ServeLimits) -> std::io::Result<()> {
    let open = Arc::new(AtomicUsize::new(0));
    let router = router.layer(axum::middleware::from_fn_with_state(limits.request_timeout, time_limit));
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: keep serving the connections we have.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if open.load(Ordering::Relaxed) >= limits.max_connections {
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(REFUSAL)).await;
                let _ = stream.shutdown().await;
            });
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let guard = Open(open.clone());
        // Handlers that need the client's address (login rate limits) read it from the request.
        let router = router.clone().layer(axum::Extension(axum::extract::ConnectInfo(peer)));
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _guard = guard;
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router))
                .await;
            if let Err(e) = served {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}

/// Counts a connection as open until dropped.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `408` when a request (reading its body included) takes longer than the limit.
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (axum::http::StatusCode::REQUEST_TIMEOUT, "request took too long\n").into_response(),
    }
}
