//! `/maps`: the public mirrors on a world map drawn on the server — a bundled outline (Natural Earth's 1:110m
//! land, public domain; `scripts/world-outline.mjs`), no tiles, no CDN, works offline. Hosts are placed by the
//! coordinates `mirrorvane locate-hosts` stored (from a GeoIP City database).

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use mirrorvane_db::public;

use crate::routes::AppState;
use crate::ui::{internal, viewer};

/// The land outline, equirectangular on 720×360.
const LAND: &str = include_str!("ui/static/world-land.path");

/// Where (latitude, longitude) falls on the 720×360 outline.
pub fn project(latitude: f64, longitude: f64) -> (f64, f64) {
    (
        2.0 * (longitude.clamp(-180.0, 180.0) + 180.0),
        2.0 * (90.0 - latitude.clamp(-90.0, 90.0)),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /maps` (and `/maps/interactive`, MirrorManager's other map path).
pub(crate) async fn page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let who = match viewer(&s, &headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let hosts = match s.db.acquire().await {
        Ok(mut conn) => public::located_hosts(&mut conn).await,
        Err(e) => Err(e),
    };
    let hosts = match hosts {
        Ok(h) => h,
        Err(e) => return internal(&format!("map: {e}")),
    };
    let mut svg = String::with_capacity(LAND.len() + 100 * hosts.len() + 512);
    svg.push_str(
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 720 360" width="100%" class="map"><title>Public mirrors</title><rect width="720" height="360" fill="#eaf2fb"/><path fill="#cfd8dc" stroke="#90a4ae" stroke-width="0.3" d=""##,
    );
    svg.push_str(LAND.trim());
    svg.push_str(r#""/>"#);
    for h in &hosts {
        let (x, y) = project(h.latitude, h.longitude);
        let _ = write!(
            svg,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="2.2" fill="#cf222e" stroke="#fff" stroke-width="0.4"><title>{} ({}, {})</title></circle>"##,
            escape(&h.name),
            escape(&h.site),
            escape(&h.country)
        );
    }
    svg.push_str("</svg>");
    s.pages.render(
        StatusCode::OK,
        "map.html",
        who.as_ref(),
        context! { map => Value::from_safe_string(svg), placed => hosts.len() },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn projection_and_outline() {
        assert_eq!(super::project(0.0, 0.0), (360.0, 180.0));
        assert_eq!(super::project(90.0, -180.0), (0.0, 0.0));
        assert_eq!(super::project(-95.0, 200.0), (720.0, 360.0), "clamped");
        assert!(
            super::LAND.starts_with('M') && super::LAND.len() > 10_000,
            "the outline is bundled"
        );
    }
}
