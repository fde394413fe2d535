//! The web UI: server-rendered HTML pages that work without JavaScript, every asset served by the binary.
//!
//! Mirror admins manage their own sites and hosts, admins everything; each form's POST becomes an inventory
//! edit ([`mirrorvane_inventory::edit`]) whose changes the policy judges, so the UI holds no permission rule of
//! its own beyond "signed in" and "sees only what it may change". Paths follow MirrorManager's (reference
//! §6.2) so links and habits carry over.

mod admin;
pub(crate) mod form;
mod hosts;
mod login;
mod network;
mod pages;
mod sites;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use mirrorvane_inventory::edit::EditError;
use mirrorvane_inventory::store::StoreError;

pub use pages::Pages;

use crate::accounts::{self, SignedIn};
use crate::routes::{AppState, Inner, now};

/// The UI's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(sites::index))
        .route("/static/style.css", get(pages::style))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/site/mine", get(sites::mine))
        .route("/site/new", get(sites::new_form).post(sites::create))
        .route("/site/{id}", get(sites::show).post(sites::update))
        .route("/site/{id}/drop", post(sites::drop))
        .route("/site/{id}/admin/{op}", post(sites::admins))
        .route("/site/{id}/audit", get(sites::audit))
        .route("/host/{id}", get(hosts::show).post(hosts::update))
        .route("/host/{id}/new", get(hosts::new_form).post(hosts::create))
        .route("/host/{id}/drop", post(hosts::drop))
        .route("/host/{id}/{part}/{op}", post(hosts::part))
        .route("/admin", get(admin::index))
        .route("/admin/all_sites", get(admin::all_sites))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/accounts/{op}", post(admin::accounts))
        .route("/admin/network", get(network::page))
        .route("/admin/network/{table}/{op}", post(network::change))
}

/// Any serialisable value for a template.
pub(crate) fn ser<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Who is asking, for the page's header: `none`, or name, admin flag and CSRF token.
fn who_value(who: Option<&SignedIn>) -> Value {
    match who {
        Some(w) => context! { name => w.actor.name.clone(), admin => w.actor.admin, csrf => w.csrf.clone() },
        None => Value::from(()),
    }
}

/// The signed-in person, if any; a database failure is the error response.
pub(crate) async fn viewer(s: &Inner, headers: &HeaderMap) -> Result<Option<SignedIn>, Response> {
    s.accounts
        .signed_in(&s.db, headers, now())
        .await
        .map_err(|e| internal(&format!("who is signed in: {e}")))
}

/// The signed-in person; anyone else is sent to sign in and brought back.
async fn require(s: &Inner, headers: &HeaderMap, uri: &Uri) -> Result<SignedIn, Response> {
    match viewer(s, headers).await? {
        Some(who) => Ok(who),
        None => {
            // A form posted without a session cannot be replayed after signing in: come back to its page.
            let next = uri.path();
            Err(Redirect::to(&format!("/login?next={}", form::encode(next))).into_response())
        }
    }
}

/// A page's signed-in viewer (anyone else is sent to sign in): the extractor of the UI's `GET` handlers.
pub(crate) struct Viewer(pub SignedIn);

impl axum::extract::FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, Response> {
        require(s, &parts.headers, &parts.uri).await.map(Viewer)
    }
}

/// A page's signed-in viewer who is an admin (403 for anyone else).
pub(crate) struct Admin(pub SignedIn);

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, Response> {
        let who = require(s, &parts.headers, &parts.uri).await?;
        if !who.actor.admin {
            return Err(access_denied(s, Some(&who)));
        }
        Ok(Admin(who))
    }
}

/// A posted form of a signed-in person, its CSRF token checked: the extractor of the UI's `POST` handlers.
pub(crate) struct Posted {
    pub who: SignedIn,
    pub f: form::Fields,
}

impl axum::extract::FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, s: &AppState) -> Result<Self, Response> {
        let (headers, uri) = (req.headers().clone(), req.uri().clone());
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, s)
            .await
            .map_err(IntoResponse::into_response)?;
        let f = form::Fields::new(pairs);
        let who = require_form(s, &headers, &uri, &f).await?;
        Ok(Posted { who, f })
    }
}

/// The signed-in person whose form carries the session's CSRF token (403 otherwise).
async fn require_form(s: &Inner, headers: &HeaderMap, uri: &Uri, fields: &form::Fields) -> Result<SignedIn, Response> {
    let who = require(s, headers, uri).await?;
    if !accounts::csrf_ok(&who, fields.get("csrf")) {
        return Err(s.pages.message(
            StatusCode::FORBIDDEN,
            Some(&who),
            "Access denied",
            "The form's security token is missing or out of date. Reload the page and try again.",
        ));
    }
    Ok(who)
}

pub(crate) fn internal(what: &str) -> Response {
    tracing::error!("{what}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server's log\n",
    )
        .into_response()
}

fn not_found(s: &Inner, who: Option<&SignedIn>, what: &str) -> Response {
    s.pages.message(StatusCode::NOT_FOUND, who, "Not found", what)
}

fn access_denied(s: &Inner, who: Option<&SignedIn>) -> Response {
    s.pages
        .message(StatusCode::FORBIDDEN, who, "Access denied", "Access denied")
}

/// The status and message an edit's failure is shown with (a database failure is logged, not shown).
fn edit_failure(e: &EditError) -> (StatusCode, String) {
    match e {
        EditError::Invalid(m) => (StatusCode::BAD_REQUEST, m.clone()),
        EditError::Refused(r) => (StatusCode::FORBIDDEN, r.to_string()),
        EditError::Store(e @ (StoreError::UrlConflicts(_) | StoreError::Stale { .. })) => {
            (StatusCode::CONFLICT, e.to_string())
        }
        EditError::Store(e) => {
            tracing::error!("storing an edit: {e}");
            let text = "Internal error: nothing was changed; see the server's log.";
            (StatusCode::INTERNAL_SERVER_ERROR, text.to_owned())
        }
    }
}

/// After a successful POST: back to the page (303, so a reload does not post again).
fn see_other(path: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path.to_owned())]).into_response()
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM` (UTC).
pub(crate) fn when(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = mirrorvane_selector::time::civil(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
pub fn day_text(days: i64) -> String {
    let (y, m, d) = mirrorvane_selector::time::civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::when(0), "1970-01-01 00:00");
        assert_eq!(super::when(951_782_400), "2000-02-29 00:00");
        assert_eq!(super::when(1_796_601_600 + 3_660), "2026-12-07 01:01");
    }
}
