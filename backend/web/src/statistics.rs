//! `/statistics[/<YYYY-MM-DD>[/<countries|archs|repositories>]]`: requests per day, and a day's requests by
//! country, arch and repository (from `mirrorvane stats ingest`), as SVG charts and tables.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use mirrorvane_db::stats::{self, KINDS};

use crate::charts;
use crate::routes::AppState;
use crate::ui::{internal, viewer};

/// Rows shown per kind on a day's overview (the kind's own page shows all).
const TOP: usize = 15;

pub(crate) async fn page(State(s): State<AppState>, path: Option<Path<String>>, headers: HeaderMap) -> Response {
    let who = match viewer(&s, &headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let path = path.map(|Path(p)| p).unwrap_or_default();
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let (day, only) = (parts.next().map(str::to_owned), parts.next().map(str::to_owned));
    if only.as_deref().is_some_and(|k| !KINDS.contains(&k)) || parts.next().is_some() {
        return s.pages.message(
            StatusCode::NOT_FOUND,
            who.as_ref(),
            "Not found",
            "No such statistics page.",
        );
    }
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(&format!("{e}")),
    };
    let totals = match stats::daily_totals(&mut conn).await {
        Ok(t) => t,
        Err(e) => return internal(&format!("statistics: {e}")),
    };
    let Some(day) = day.or_else(|| totals.last().map(|t| t.0.clone())) else {
        let text = "No statistics yet: they appear once the edges' access logs are ingested (mirrorvane stats ingest).";
        return s.pages.message(StatusCode::OK, who.as_ref(), "Statistics", text);
    };
    let Some(total) = totals.iter().find(|t| t.0 == day).map(|t| t.1) else {
        return s.pages.message(
            StatusCode::NOT_FOUND,
            who.as_ref(),
            "Not found",
            &format!("No statistics for {day}."),
        );
    };
    let days: Vec<(String, f64)> = totals.iter().map(|(d, n)| (d.clone(), *n as f64)).collect();
    let over_time = charts::columns("Requests per day", &days);
    let mut sections: Vec<Value> = Vec::new();
    for kind in KINDS.iter().filter(|k| only.as_deref().is_none_or(|o| o == **k)) {
        let rows = match stats::day(&mut conn, &day, kind).await {
            Ok(r) => r,
            Err(e) => return internal(&format!("statistics: {e}")),
        };
        let limit = if only.is_some() { rows.len() } else { TOP };
        let shown: Vec<(String, f64)> = rows.iter().take(limit).map(|r| (r.name.clone(), r.percent)).collect();
        let chart = charts::bars(&format!("Requests by {kind} on {day}"), &shown, " %");
        let table: Vec<Value> = rows
            .iter()
            .take(limit)
            .map(
                |r| context! { name => r.name.clone(), requests => r.requests, percent => format!("{:.2}", r.percent) },
            )
            .collect();
        sections.push(context! {
            kind => *kind, chart => Value::from_safe_string(chart), rows => table, more => rows.len() > limit,
        });
    }
    let day_list: Vec<String> = totals.iter().rev().map(|t| t.0.clone()).collect();
    s.pages.render(
        StatusCode::OK,
        "statistics.html",
        who.as_ref(),
        context! { day, total, over_time => Value::from_safe_string(over_time), sections, days => day_list },
    )
}
