//! `GET /metrics`: the backend in Prometheus' text format — the published snapshot's age, snapshot builds,
//! sign-ins, check-ins, and the mirror network's hosts by state (read from the database at each scrape).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::routes::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct State_ {
    state: &'static str,
}

/// What handlers count as they run.
#[derive(Debug, Default)]
pub struct Counts {
    pub logins_ok: AtomicU64,
    pub logins_wrong: AtomicU64,
    pub logins_limited: AtomicU64,
    pub checkins_ok: AtomicU64,
    pub checkins_refused: AtomicU64,
}

fn counter_family(pairs: &[(&'static str, u64)]) -> Family<Outcome, Counter> {
    let family = Family::<Outcome, Counter>::default();
    for (outcome, n) in pairs {
        family.get_or_create(&Outcome { outcome }).inc_by(*n);
    }
    family
}

pub(crate) async fn metrics(State(s): State<AppState>) -> Response {
    let mut registry = Registry::with_prefix("mirrorvane_backend");
    let (age, refused) = s.snapshot.age();
    let age_gauge = Gauge::<i64>::default();
    age_gauge.set(age.map_or(-1, |a| i64::try_from(a).unwrap_or(i64::MAX)));
    registry.register(
        "snapshot_age_seconds",
        "Age of the published snapshot (since it was built); -1 when none is published",
        age_gauge,
    );
    let refused_gauge = Gauge::<i64>::default();
    refused_gauge.set(i64::from(refused));
    registry.register(
        "snapshot_file_refused",
        "1 when the snapshot file on disk was refused (the previous one is still published)",
        refused_gauge,
    );
    let (ok, failed, last_failed) = s.snapshot.build().counts();
    registry.register(
        "snapshot_builds",
        "Snapshot builds of serve --build-every since start, by outcome",
        counter_family(&[("ok", ok), ("failed", failed)]),
    );
    let last = Gauge::<i64>::default();
    last.set(i64::from(last_failed));
    registry.register(
        "snapshot_last_build_failed",
        "1 when the last snapshot build failed",
        last,
    );
    let c = &s.counts;
    registry.register(
        "logins",
        "Sign-in attempts since start, by outcome (limited: refused by the rate limit)",
        counter_family(&[
            ("ok", c.logins_ok.load(Relaxed)),
            ("wrong", c.logins_wrong.load(Relaxed)),
            ("limited", c.logins_limited.load(Relaxed)),
        ]),
    );
    registry.register(
        "checkins",
        "Private mirrors' check-ins since start, by outcome",
        counter_family(&[
            ("ok", c.checkins_ok.load(Relaxed)),
            ("refused", c.checkins_refused.load(Relaxed)),
        ]),
    );
    let states = match s.db.acquire().await {
        Ok(mut conn) => mirrorvane_db::public::host_states(&mut conn).await.ok(),
        Err(_) => None,
    };
    let up = Gauge::<i64>::default();
    up.set(i64::from(states.is_some()));
    registry.register("database_up", "1 when the database answered this scrape", up);
    if let Some(h) = states {
        let hosts = Family::<State_, Gauge<i64>>::default();
        for (state, n) in [
            ("serving", h.serving),
            ("auto_disabled", h.auto_disabled),
            ("failing_crawls", h.failing),
            ("private", h.private),
            ("all", h.total),
        ] {
            hosts.get_or_create(&State_ { state }).set(n);
        }
        registry.register(
            "hosts",
            "Hosts by state (a host can be in several; all = every host)",
            hosts,
        );
    }
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
        return crate::ui::internal("encoding metrics");
    }
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
