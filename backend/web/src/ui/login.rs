//! `/login` and `/logout`.
//!
//! The sign-in form has no session to keep its CSRF token in, so the token is doubled in a short-lived cookie
//! and the form (a cross-site page can neither read the cookie nor set it).

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::form::Fields;
use super::{Posted, internal, viewer};
use crate::accounts::{self, LOGIN_COOKIE, Login, random_token};
use crate::routes::{AppState, now};

/// `next=` only ever leads to a page of this service.
fn local_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

/// `GET /login`.
pub(super) async fn form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let who = match viewer(&s, &headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let query = Fields::new(query);
    let next = local_next(query.get("next")).to_owned();
    if who.is_some() {
        return super::see_other(&next);
    }
    login_page(&s, StatusCode::OK, &next, "", None)
}

fn login_page(s: &crate::routes::Inner, status: StatusCode, next: &str, name: &str, error: Option<&str>) -> Response {
    let token = random_token();
    let mut page = s.pages.render(
        status,
        "login.html",
        None,
        context! { login_csrf => token.clone(), next, name, error },
    );
    if let Ok(v) = s.accounts.cookie(LOGIN_COOKIE, &token, 3600).parse() {
        page.headers_mut().append(header::SET_COOKIE, v);
    }
    page
}

/// `POST /login`.
pub(super) async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields = Fields::new(fields);
    let next = local_next(fields.get("next")).to_owned();
    let name = fields.text("name").unwrap_or_default();
    let doubled = accounts::cookie(&headers, LOGIN_COOKIE);
    let token_ok =
        matches!((doubled, fields.get("csrf")), (Some(c), Some(f)) if accounts::same(c.as_bytes(), f.as_bytes()));
    if !token_ok {
        return login_page(
            &s,
            StatusCode::FORBIDDEN,
            &next,
            name,
            Some("The form's security token is missing or out of date: please sign in again."),
        );
    }
    let given = fields.get("password").unwrap_or_default();
    let client = s
        .accounts
        .client_address(peer.ip(), headers.get("x-forwarded-for").map(HeaderValue::as_bytes));
    match s.accounts.login(&s.db, name, given, client, now()).await {
        Ok(Login::Ok(cookie)) => {
            s.counts.logins_ok.fetch_add(1, Relaxed);
            let mut r = super::see_other(&next);
            if let Ok(v) = cookie.parse() {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            if let Ok(v) = s.accounts.cookie(LOGIN_COOKIE, "", 0).parse() {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Ok(Login::Wrong) => {
            s.counts.logins_wrong.fetch_add(1, Relaxed);
            login_page(
                &s,
                StatusCode::UNAUTHORIZED,
                &next,
                name,
                Some("Wrong account name or password."),
            )
        }
        Ok(Login::Limited(wait)) => {
            s.counts.logins_limited.fetch_add(1, Relaxed);
            let minutes = (wait + 59) / 60;
            let mut r = login_page(
                &s,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                name,
                Some(&format!("Too many failed sign-ins: try again in {minutes} minute(s).")),
            );
            if let Ok(v) = wait.to_string().parse() {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => internal(&format!("sign-in: {e}")),
    }
}

/// `POST /logout`.
pub(super) async fn logout(State(s): State<AppState>, Posted { who, .. }: Posted) -> Response {
    match s.accounts.logout(&s.db, &who).await {
        Ok(cookie) => {
            let mut r = super::see_other("/");
            if let Ok(v) = cookie.parse() {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r.into_response()
        }
        Err(e) => internal(&format!("sign-out: {e}")),
    }
}
