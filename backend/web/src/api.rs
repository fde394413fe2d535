//! The JSON API (`/api/v1/…`, described by `/openapi.json`): what the UI shows and edits, for scripts.
//!
//! A site is read and written in the inventory file's format, as JSON (`docs/inventory.md`): `PUT` of a site
//! parses the body with the inventory's own reader (every check of `mirrorvane apply`), then makes the change
//! through the same edit path and policy as the UI — so a script, a form and an inventory file cannot disagree.
//! Reads take a session cookie or an API token; writes take an API token only (`Authorization: Bearer`, from
//! `mirrorvane account token`): a browser never sends one on its own, so no CSRF token is needed.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mirrorvane_db::{accounts, audit, stats};
use mirrorvane_inventory::edit::{EditError, edit};
use mirrorvane_inventory::model::Inventory;
use mirrorvane_inventory::store::{self, StoreError};
use mirrorvane_inventory::{KnownNames, parse, to_toml};
use serde_json::{Value, json};

use crate::accounts::SignedIn;
use crate::public::{ListFilter, mirror_list};
use crate::routes::{AppState, Inner, now};
use crate::ui::form::Fields;

/// The OpenAPI document, served as is.
const OPENAPI: &str = include_str!("openapi.json");

/// Largest request body (a site with thousands of netblocks fits).
const MAX_BODY: usize = 4 << 20;

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "message": message.into() }))).into_response()
}

fn internal(what: String) -> Response {
    tracing::error!("api: {what}");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server's log",
    )
}

/// `GET /openapi.json`.
pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The caller; `bearer_only` for writes.
async fn caller(s: &Inner, headers: &HeaderMap, bearer_only: bool) -> Result<SignedIn, Response> {
    if bearer_only && !headers.contains_key(header::AUTHORIZATION) {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "writes need an API token: Authorization: Bearer TOKEN",
        ));
    }
    match s.accounts.signed_in(&s.db, headers, now()).await {
        Ok(Some(who)) => Ok(who),
        Ok(None) => Err(problem(
            StatusCode::UNAUTHORIZED,
            "sign in, or send Authorization: Bearer TOKEN",
        )),
        Err(e) => Err(internal(format!("who is calling: {e}"))),
    }
}

/// A site in the inventory format, as JSON (passwords never included).
fn site_json(site: &mirrorvane_inventory::model::Site) -> Result<Value, String> {
    let mut one = site.clone();
    one.password = None;
    let inv = Inventory {
        sites: vec![one],
        ..Inventory::default()
    };
    let value: Value = toml::from_str(&to_toml(&inv)).map_err(|e| format!("rendering: {e}"))?;
    value
        .get("site")
        .and_then(|s| s.get(0))
        .cloned()
        .ok_or_else(|| "rendering: no site".to_owned())
}

/// `GET /api/v1/sites`: the sites the caller administers (admins: all), `[{"id", "name"}]`.
pub(crate) async fn sites(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let who = match caller(&s, &headers, false).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(e.to_string()),
    };
    let list = if who.actor.admin {
        mirrorvane_db::sites::sites(&mut conn)
            .await
            .map(|rows| rows.into_iter().map(|r| (r.id, r.name)).collect::<Vec<_>>())
    } else {
        accounts::sites_of(&mut conn, &who.actor.name).await
    };
    match list {
        Ok(list) => {
            let sites: Vec<Value> = list
                .into_iter()
                .map(|(id, name)| json!({ "id": id, "name": name }))
                .collect();
            axum::Json(json!({ "sites": sites })).into_response()
        }
        Err(e) => internal(e.to_string()),
    }
}

/// Whether the caller may see site `name` (admins, and the site's admins).
fn may_see(who: &SignedIn, inv: &Inventory, name: &str) -> bool {
    who.actor.admin
        || inv
            .sites
            .iter()
            .any(|s| s.name == name && s.admins.contains(&who.actor.name))
}

/// `GET /api/v1/sites/{name}`: one site, in the inventory format.
pub(crate) async fn site(State(s): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let who = match caller(&s, &headers, false).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let inv = match store::load(&s.db).await {
        Ok(inv) => inv,
        Err(e) => return internal(e.to_string()),
    };
    let Some(site) = inv.sites.iter().find(|x| x.name == name) else {
        return problem(StatusCode::NOT_FOUND, format!("Site not found: {name}"));
    };
    if !may_see(&who, &inv, &name) {
        return problem(StatusCode::FORBIDDEN, "Access denied");
    }
    match site_json(site) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => internal(e),
    }
}

/// The answer to an edit: the changes made, or why none were.
fn edited(result: Result<Vec<mirrorvane_inventory::Change>, EditError>) -> Response {
    match result {
        Ok(changes) => {
            let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
            axum::Json(json!({ "changes": lines })).into_response()
        }
        Err(EditError::Invalid(m)) => problem(StatusCode::BAD_REQUEST, m),
        Err(EditError::Refused(r)) => problem(StatusCode::FORBIDDEN, r.to_string()),
        Err(EditError::Store(e @ (StoreError::UrlConflicts(_) | StoreError::Stale { .. }))) => {
            problem(StatusCode::CONFLICT, e.to_string())
        }
        Err(EditError::Store(e)) => internal(format!("storing an edit: {e}")),
    }
}

/// `PUT /api/v1/sites/{name}`: creates or replaces one site (its hosts, URLs, netblocks, … exactly as given),
/// from a JSON object in the inventory format. A site's password is kept unless the body gives one.
pub(crate) async fn put_site(
    State(s): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let who = match caller(&s, &headers, true).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let given = match inventory_body(&s, &body, |value| {
        if value.get("name").and_then(Value::as_str) != Some(name.as_str()) {
            return Err(format!("the body's \"name\" must be {name:?}"));
        }
        Ok(json!({ "site": [value] }))
    })
    .await
    {
        Ok(inv) => inv,
        Err(r) => return r,
    };
    let Some(site) = given.sites.into_iter().next() else {
        return problem(StatusCode::BAD_REQUEST, "no site in the body");
    };
    edited(
        edit(&s.db, &who.actor, move |inv| {
            match inv.sites.iter_mut().find(|x| x.name == site.name) {
                Some(current) => *current = site,
                None => inv.sites.push(site),
            }
            Ok(())
        })
        .await,
    )
}

/// `DELETE /api/v1/sites/{name}`.
pub(crate) async fn delete_site(State(s): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let who = match caller(&s, &headers, true).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    edited(
        edit(&s.db, &who.actor, |inv| {
            let before = inv.sites.len();
            inv.sites.retain(|x| x.name != name);
            if inv.sites.len() == before {
                return Err(format!("Site not found: {name}"));
            }
            Ok(())
        })
        .await,
    )
}

/// `GET /api/v1/audit[?site=NAME]`: the newest changes (admins: all or one site's; others: a site of theirs).
pub(crate) async fn audit_log(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let who = match caller(&s, &headers, false).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let q = Fields::new(query);
    let site = q.text("site");
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(e.to_string()),
    };
    if !who.actor.admin {
        let Some(site) = site else {
            return problem(
                StatusCode::FORBIDDEN,
                "Access denied: name one of your sites (?site=NAME)",
            );
        };
        match accounts::sites_of(&mut conn, &who.actor.name).await {
            Ok(mine) if mine.iter().any(|(_, n)| n == site) => {}
            Ok(_) => return problem(StatusCode::FORBIDDEN, "Access denied"),
            Err(e) => return internal(e.to_string()),
        }
    }
    match audit::recent(&mut conn, site, 1000).await {
        Ok(rows) => {
            let rows: Vec<Value> = rows
                .into_iter()
                .map(|r| {
                    json!({ "id": r.id, "at": r.at, "actor": r.actor, "site": r.site, "action": r.action,
                            "target": r.target, "old_value": r.old_value, "new_value": r.new_value })
                })
                .collect();
            axum::Json(json!({ "changes": rows })).into_response()
        }
        Err(e) => internal(e.to_string()),
    }
}

/// `GET /api/v1/mirrors?product=&version=&arch=&country=`: the public mirror list.
pub(crate) async fn mirrors(State(s): State<AppState>, Query(query): Query<Vec<(String, String)>>) -> Response {
    let q = Fields::new(query);
    let filter = ListFilter {
        product: q.text("product").map(str::to_owned),
        version: q.text("version").map(str::to_owned),
        arch: q.text("arch").map(str::to_owned),
        country: q.text("country").map(str::to_ascii_uppercase),
    };
    let list = match s.db.acquire().await {
        Ok(mut conn) => mirror_list(&mut conn, &filter).await,
        Err(e) => Err(e),
    };
    match list {
        Ok(list) => axum::Json(json!({ "mirrors": list, "total": list.len() })).into_response(),
        Err(e) => internal(e.to_string()),
    }
}

/// `GET /api/v1/statistics/{day}`: a day's requests by country, arch and repository.
pub(crate) async fn statistics(State(s): State<AppState>, Path(day): Path<String>) -> Response {
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(e.to_string()),
    };
    let mut out = serde_json::Map::new();
    for kind in stats::KINDS {
        match stats::day(&mut conn, &day, kind).await {
            Ok(rows) => {
                let rows: Vec<Value> = rows
                    .into_iter()
                    .map(|r| json!({ "name": r.name, "requests": r.requests, "percent": r.percent }))
                    .collect();
                out.insert(kind.to_owned(), Value::Array(rows));
            }
            Err(e) => return internal(e.to_string()),
        }
    }
    if out.values().all(|v| v.as_array().is_some_and(Vec::is_empty)) {
        return problem(StatusCode::NOT_FOUND, format!("no statistics for {day}"));
    }
    out.insert("day".to_owned(), Value::String(day));
    axum::Json(Value::Object(out)).into_response()
}

/// The top-level keys of the network's tables in the inventory format.
const NETWORK_KEYS: [&str; 6] = [
    "embargoed",
    "disabled_repositories",
    "country_continent",
    "netblock_country",
    "version",
    "repository_redirects",
];

/// A request body in the inventory format, as JSON, read by the inventory's own reader (every check of
/// `mirrorvane apply`). `document` checks the JSON and places it in an inventory document (a site goes under
/// `site`); its error is the caller's `400`.
async fn inventory_body(
    s: &Inner,
    body: &[u8],
    document: impl FnOnce(Value) -> Result<Value, String>,
) -> Result<Inventory, Response> {
    if body.len() > MAX_BODY {
        let message = format!("the body is larger than {MAX_BODY} bytes");
        return Err(problem(StatusCode::PAYLOAD_TOO_LARGE, message));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| problem(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")))?;
    let document = document(value).map_err(|m| problem(StatusCode::BAD_REQUEST, m))?;
    // The inventory reader takes TOML: the same document, re-spelt.
    let text = toml::to_string(&document).map_err(|e| {
        let message = format!("the body does not fit the inventory format: {e}");
        problem(StatusCode::BAD_REQUEST, message)
    })?;
    let known = store::load(&s.db).await.map_err(|e| internal(e.to_string()))?;
    parse("request body", &text, &KnownNames::of(&known)).map_err(|e| problem(StatusCode::BAD_REQUEST, e.to_string()))
}

/// The network-wide part of an inventory: what `/api/v1/network` reads and writes.
fn network_part(inv: &Inventory) -> Inventory {
    Inventory {
        country_continent: inv.country_continent.clone(),
        netblock_country: inv.netblock_country.clone(),
        embargoed: inv.embargoed.clone(),
        versions: inv.versions.clone(),
        repository_redirects: inv.repository_redirects.clone(),
        disabled_repositories: inv.disabled_repositories.clone(),
        ..Inventory::default()
    }
}

/// `GET /api/v1/network`: versions, repository redirects, disabled repositories and the country tables, in the
/// inventory format (top-level keys), as JSON.
pub(crate) async fn network(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = caller(&s, &headers, false).await {
        return r;
    }
    let inv = match store::load(&s.db).await {
        Ok(inv) => inv,
        Err(e) => return internal(e.to_string()),
    };
    match toml::from_str::<Value>(&to_toml(&network_part(&inv))) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => internal(format!("rendering: {e}")),
    }
}

/// `PUT /api/v1/network` (admins): makes the network-wide tables exactly as given — redirects, disabled
/// repositories and country data not listed are removed; versions are updated or added, never removed.
pub(crate) async fn put_network(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let who = match caller(&s, &headers, true).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let given = match inventory_body(&s, &body, |value| {
        let Value::Object(fields) = &value else {
            return Err("the body must be a JSON object".to_owned());
        };
        if let Some(key) = fields.keys().find(|k| !NETWORK_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown key {key:?}: expected one of {}",
                NETWORK_KEYS.join(", ")
            ));
        }
        Ok(value)
    })
    .await
    {
        Ok(inv) => inv,
        Err(r) => return r,
    };
    edited(
        edit(&s.db, &who.actor, move |inv| {
            inv.country_continent = given.country_continent;
            inv.netblock_country = given.netblock_country;
            inv.embargoed = given.embargoed;
            inv.repository_redirects = given.repository_redirects;
            inv.disabled_repositories = given.disabled_repositories;
            for v in given.versions {
                match inv
                    .versions
                    .iter_mut()
                    .find(|c| c.product == v.product && c.name == v.name)
                {
                    Some(current) => *current = v,
                    None => inv.versions.push(v),
                }
            }
            Ok(())
        })
        .await,
    )
}
