//! HTTP and HTTPS requests to mirrors: one client per address family (keep-alive connections shared by every
//! host of a run), `HEAD` for presence and size, `GET` only for `repomd.xml` (hashed as it streams), a timeout per
//! request and a few retries with backoff when a request times out.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, USER_AGENT};
use reqwest::{Certificate, Client, StatusCode};
use sha2::{Digest, Sha256};

use crate::CrawlError;
use crate::names::{Family, FamilyResolver, Names};

/// How the HTTP client behaves.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Sent with every request.
    pub user_agent: String,
    /// Per request (connect, headers and body).
    pub timeout: Duration,
    /// Tries after a request timed out, waiting 1 s, 2 s, 4 s… (at most 10 s) between them.
    pub retries: u32,
    /// Extra trust anchors (PEM files) besides the system's.
    pub ca_files: Vec<PathBuf>,
    /// Name resolution.
    pub names: Names,
}

/// What a `HEAD` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// 2xx; the size when the server said it.
    Found(Option<u64>),
    /// 404 or 410.
    Missing,
    /// 403.
    Forbidden,
    /// Anything else: another status, a refused connection, a TLS failure, a timeout after every retry.
    Failed(String),
}

/// What a `GET` of a file to hash found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The content's SHA-256 (lower-case hex) and size.
    Found {
        sha256: String,
        size: u64,
    },
    Missing,
    Forbidden,
    Failed(String),
}

/// The largest file the crawler reads whole (`repomd.xml` files are a few kilobytes).
const MAX_GET_BYTES: u64 = 16 << 20;

/// The HTTP side of a crawl.
pub struct Http {
    v4: Client,
    v6: Client,
    timeout: Duration,
    retries: u32,
    requests: AtomicU64,
}

impl Http {
    /// Clients for both families.
    pub fn new(config: &HttpConfig) -> Result<Http, CrawlError> {
        let mut roots = Vec::new();
        for path in &config.ca_files {
            let pem = std::fs::read(path).map_err(|e| CrawlError::Config(format!("{}: {e}", path.display())))?;
            let certs = Certificate::from_pem_bundle(&pem)
                .map_err(|e| CrawlError::Config(format!("{}: not a PEM certificate file: {e}", path.display())))?;
            roots.extend(certs);
        }
        let client = |family| {
            let mut b = Client::builder()
                .dns_resolver(std::sync::Arc::new(FamilyResolver {
                    names: config.names.clone(),
                    family,
                }))
                .timeout(config.timeout)
                .connect_timeout(config.timeout)
                .pool_idle_timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::limited(5))
                .no_proxy();
            for root in &roots {
                b = b.add_root_certificate(root.clone());
            }
            b.default_headers(
                [(USER_AGENT, config.user_agent.parse().expect("a user agent is ASCII"))]
                    .into_iter()
                    .collect(),
            )
            .build()
            .map_err(|e| CrawlError::Config(format!("cannot build the HTTP client: {e}")))
        };
        Ok(Http {
            v4: client(Family::V4)?,
            v6: client(Family::V6)?,
            timeout: config.timeout,
            retries: config.retries,
            requests: AtomicU64::new(0),
        })
    }

    /// Requests sent so far (retries included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn client(&self, family: Family) -> &Client {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// Sends a request built by `make`, retrying after timeouts.
    async fn send(
        &self,
        family: Family,
        make: impl Fn(&Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, String> {
        let mut wait = Duration::from_secs(1);
        let mut tries = 0;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            match make(self.client(family)).send().await {
                Ok(r) => return Ok(r),
                Err(e) if e.is_timeout() && tries < self.retries => {
                    tries += 1;
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
                Err(e) if e.is_timeout() => {
                    return Err(format!("timed out after {} tries of {:?}", tries + 1, self.timeout));
                }
                Err(e) => return Err(error_text(&e)),
            }
        }
    }

    /// `HEAD url`.
    pub async fn head(&self, family: Family, url: &str) -> Head {
        match self.send(family, |c| c.head(url)).await {
            Ok(r) => match r.status() {
                s if s.is_success() => Head::Found(
                    r.headers()
                        .get(CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok()?.parse().ok()),
                ),
                StatusCode::NOT_FOUND | StatusCode::GONE => Head::Missing,
                StatusCode::FORBIDDEN => Head::Forbidden,
                s => Head::Failed(format!("HTTP {s}")),
            },
            Err(e) => Head::Failed(e),
        }
    }

    /// `GET url`, hashing the body as it arrives (at most [`MAX_GET_BYTES`]).
    pub async fn fetch_sha256(&self, family: Family, url: &str) -> Fetched {
        let mut r = match self.send(family, |c| c.get(url)).await {
            Ok(r) => r,
            Err(e) => return Fetched::Failed(e),
        };
        match r.status() {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND | StatusCode::GONE => return Fetched::Missing,
            StatusCode::FORBIDDEN => return Fetched::Forbidden,
            s => return Fetched::Failed(format!("HTTP {s}")),
        }
        let mut hash = Sha256::new();
        let mut size = 0u64;
        loop {
            match r.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    if size > MAX_GET_BYTES {
                        return Fetched::Failed(format!("larger than {MAX_GET_BYTES} bytes"));
                    }
                    hash.update(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Fetched::Failed(error_text(&e)),
            }
        }
        Fetched::Found {
            sha256: hex::encode(hash.finalize()),
            size,
        }
    }
}

/// reqwest's error with its causes, each once (its `Display` names the URL; the causes say why).
fn error_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
