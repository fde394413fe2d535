//! `/propagation` and `/propagation/<repository id>`: how many public mirrors served a followed repository's
//! newest `repomd.xml` at each crawl (the same day, one or two days behind, older, unknown), over time — counted
//! by the crawlers (`mirrorvane propagation`) from what they observed.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use mirrorvane_db::{crawl, public};

use crate::charts;
use crate::routes::AppState;
use crate::ui::{internal, viewer, when};

/// Rows of history shown (MirrorManager kept a week; a crawl every few hours fits in this).
const HISTORY: i64 = 200;
const SERIES: [&str; 5] = ["same day", "one day", "two days", "older", "no info"];

/// `GET /propagation` (and MirrorManager's misspelt `/propgation`).
pub(crate) async fn index(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let who = match viewer(&s, &headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let rows = match s.db.acquire().await {
        Ok(mut conn) => public::propagated_repositories(&mut conn).await,
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return internal(&format!("propagation: {e}")),
    };
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            let total = r.same_day + r.one_day + r.two_day + r.older + r.no_info;
            context! {
                id => r.id, prefix => r.prefix.clone(), arch => r.arch.clone(), when => when(r.datetime),
                same_day => r.same_day, one_day => r.one_day, two_day => r.two_day, older => r.older,
                no_info => r.no_info, total,
            }
        })
        .collect();
    s.pages.render(
        StatusCode::OK,
        "propagation.html",
        who.as_ref(),
        context! { repositories => list },
    )
}

/// `GET /propagation/<repository id>`.
pub(crate) async fn repository(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let who = match viewer(&s, &headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let not_found = || {
        s.pages
            .message(StatusCode::NOT_FOUND, who.as_ref(), "Not found", "No such repository.")
    };
    let Ok(id) = id.parse::<i64>() else { return not_found() };
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(&format!("{e}")),
    };
    let label = match public::repository_label(&mut conn, id).await {
        Ok(Some((prefix, arch))) => format!("{} ({arch})", prefix.unwrap_or_default()),
        Ok(None) => return not_found(),
        Err(e) => return internal(&format!("propagation: {e}")),
    };
    let mut rows = match crawl::propagation(&mut conn, id, HISTORY).await {
        Ok(r) => r,
        Err(e) => return internal(&format!("propagation: {e}")),
    };
    rows.reverse();
    let series: Vec<(String, Vec<f64>)> = rows
        .iter()
        .map(|r| {
            let values = [r.same_day, r.one_day, r.two_day, r.older, r.no_info]
                .map(|v| v as f64)
                .to_vec();
            (when(r.datetime), values)
        })
        .collect();
    let chart = charts::stacked(&format!("Mirrors serving {label}'s newest repodata"), &SERIES, &series);
    let table: Vec<Value> = rows
        .iter()
        .rev()
        .map(|r| {
            context! {
                when => when(r.datetime), same_day => r.same_day, one_day => r.one_day, two_day => r.two_day,
                older => r.older, no_info => r.no_info,
            }
        })
        .collect();
    s.pages.render(
        StatusCode::OK,
        "propagation.html",
        who.as_ref(),
        context! { label, chart => Value::from_safe_string(chart), history => table },
    )
}
