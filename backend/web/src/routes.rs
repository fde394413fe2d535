//! The routes and their handlers: HTTP in and out; the work is in the modules they call.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mirrorvane_db::Database;
use tracing::{error, info};

use crate::accounts::{Accounts, AccountsConfig};
use crate::checkin::{self, Limits, PayloadError, payload, xmlrpc};
use crate::snapshot::{Publishing, SnapshotFile};
use crate::ui::{self, Pages};
use crate::{api, crawl_log, map, propagation, public, statistics};

/// What the service serves besides the database.
#[derive(Debug, Clone)]
pub struct Config {
    /// The snapshot file published at `/snapshot`.
    pub snapshot: PathBuf,
    /// Check-in size limits.
    pub limits: Limits,
    /// Token, age limit and build status of `/snapshot` and `/healthz`.
    pub publishing: Publishing,
    /// The admin group, cookies and sessions.
    pub accounts: AccountsConfig,
}

pub(crate) struct Inner {
    pub(crate) db: Database,
    pub(crate) snapshot: SnapshotFile,
    limits: Limits,
    pub(crate) accounts: Accounts,
    pub(crate) pages: Pages,
    pub(crate) counts: crate::metrics::Counts,
}

pub(crate) type AppState = Arc<Inner>;

/// The service's routes; fails only if a built-in template does not compile (a bug the tests catch).
pub fn router(db: Database, config: Config) -> Result<Router, minijinja::Error> {
    let state = Arc::new(Inner {
        db,
        snapshot: SnapshotFile::new(config.snapshot, config.publishing),
        limits: config.limits,
        accounts: Accounts::new(config.accounts),
        pages: Pages::new()?,
        counts: crate::metrics::Counts::default(),
    });
    Ok(Router::new()
        .merge(ui::routes())
        .route("/mirrors", get(public::mirrors))
        .route("/mirrors/{*path}", get(public::mirrors))
        .route("/rsyncFilter", get(public::rsync_filter))
        .route("/propagation", get(propagation::index))
        .route("/propgation", get(propagation::index))
        .route("/propagation/{id}", get(propagation::repository))
        .route("/maps", get(map::page))
        .route("/maps/interactive", get(map::page))
        .route("/statistics", get(statistics::page))
        .route("/statistics/{*path}", get(statistics::page))
        .route("/openapi.json", get(api::openapi))
        .route("/api/v1/sites", get(api::sites))
        .route(
            "/api/v1/sites/{name}",
            get(api::site).put(api::put_site).delete(api::delete_site),
        )
        .route("/api/v1/audit", get(api::audit_log))
        .route("/api/v1/network", get(api::network).put(api::put_network))
        .route("/api/v1/mirrors", get(api::mirrors))
        .route("/api/v1/statistics/{day}", get(api::statistics))
        .route("/api/mirroradmins", get(public::api_mirroradmins))
        .route("/api/repositories", get(public::api_repositories))
        .route("/snapshot", get(snapshot))
        .route("/healthz", get(health))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/xmlrpc", post(xmlrpc_checkin))
        .route("/checkin/json", post(json_checkin))
        .route("/crawler/{file}", get(crawler_log))
        .with_state(state))
}

async fn snapshot(State(s): State<AppState>, headers: HeaderMap) -> Response {
    s.snapshot.answer(&headers)
}

async fn health(State(s): State<AppState>) -> Response {
    s.snapshot.health()
}

async fn crawler_log(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    match crawl_log::text(&s.db, &file).await {
        Ok(Some(text)) => ([(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, format!("no crawl log {file}\n")).into_response(),
        Err(e) => {
            error!("crawl log {file}: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
        }
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// XML-RPC fault codes: the request could not be read; the server failed.
const FAULT_REQUEST: i32 = 1;
const FAULT_SERVER: i32 = 2;

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "text/xml")], body).into_response()
}

fn fault(status: StatusCode, code: i32, message: &str) -> Response {
    info!("check-in refused: {message}");
    xml(status, xmlrpc::fault(code, message))
}

/// The request body, at most `limit` bytes; a declared length over the limit is refused before a byte is read.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<axum::body::Bytes, PayloadError> {
    if declared_length(headers).is_some_and(|n| n > limit) {
        return Err(PayloadError::TooLarge(limit));
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| PayloadError::TooLarge(limit))
}

/// `POST /xmlrpc`: `checkin(data)`, data = URL-safe base64 of bz2 of the JSON payload. A check-in refused
/// for its content (credentials, host, categories) is a string reply, as MirrorManager's; a request that cannot
/// be read is a fault.
async fn xmlrpc_checkin(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_body(&headers, body, s.limits.body).await {
        Ok(b) => b,
        Err(e) => return fault(StatusCode::PAYLOAD_TOO_LARGE, FAULT_REQUEST, &e.to_string()),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return fault(StatusCode::OK, FAULT_REQUEST, "the XML-RPC request is not UTF-8");
    };
    let call = match xmlrpc::parse_call(text) {
        Ok(c) => c,
        Err(e) => return fault(StatusCode::OK, FAULT_REQUEST, &e),
    };
    if call.method != "checkin" {
        return fault(
            StatusCode::OK,
            FAULT_REQUEST,
            &format!("unknown method {:?}: this server offers checkin", call.method),
        );
    }
    let [Some(data)] = call.params.as_slice() else {
        return fault(StatusCode::OK, FAULT_REQUEST, "checkin takes one string");
    };
    let value = match payload::decode_xmlrpc(data, &s.limits) {
        Ok(v) => v,
        Err(e) => return fault(StatusCode::OK, FAULT_REQUEST, &e.to_string()),
    };
    match validated_check_in(&s, &value).await {
        Ok(reply) => xml(StatusCode::OK, xmlrpc::response(&reply.text)),
        Err(message) => fault(StatusCode::OK, FAULT_SERVER, &message),
    }
}

/// `POST /checkin/json`: the payload as JSON (`application/json`) or gzip'ed JSON (`application/gzip`), as
/// MirrorManager's endpoint. 200 with the reply when accepted; 406 with the reply when refused.
async fn json_checkin(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let gzip = match headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(t) if t.starts_with("application/json") => false,
        Some(t) if t.starts_with("application/gzip") => true,
        _ => {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Invalid content type: send application/json or application/gzip\n",
            )
                .into_response();
        }
    };
    let bytes = match read_body(&headers, body, s.limits.body).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::PAYLOAD_TOO_LARGE, format!("{e}\n")).into_response(),
    };
    let value = match payload::decode_json(&bytes, gzip, &s.limits) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    match validated_check_in(&s, &value).await {
        Ok(reply) if reply.accepted => (StatusCode::OK, reply.text).into_response(),
        Ok(reply) => (StatusCode::NOT_ACCEPTABLE, reply.text).into_response(),
        Err(message) => (StatusCode::INTERNAL_SERVER_ERROR, message).into_response(),
    }
}

/// The request's `Content-Length`, when it has a readable one.
fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Validates and records; `Err` only when the server failed.
async fn validated_check_in(s: &Inner, value: &serde_json::Value) -> Result<checkin::Reply, String> {
    let payload = match payload::validate(value) {
        Ok(p) => p,
        Err(message) => {
            s.counts.checkins_refused.fetch_add(1, Relaxed);
            info!("check-in refused: {}", message.trim_end());
            return Ok(checkin::Reply {
                accepted: false,
                text: format!("{message}error checking in"),
            });
        }
    };
    match checkin::check_in(&s.db, &payload, now()).await {
        Ok(reply) => {
            let counter = if reply.accepted {
                &s.counts.checkins_ok
            } else {
                &s.counts.checkins_refused
            };
            counter.fetch_add(1, Relaxed);
            info!(
                site = payload.site,
                host = payload.host,
                accepted = reply.accepted,
                "check-in: {}",
                reply.text.lines().next().unwrap_or_default()
            );
            Ok(reply)
        }
        Err(e) => {
            error!(site = payload.site, host = payload.host, "check-in failed: {e}");
            Err("the server cannot record the check-in now; try again later".into())
        }
    }
}
