//! The public pages and MirrorManager's public JSON API: the mirror list (`/mirrors[/product[/version[/arch]]]`),
//! `/rsyncFilter`, `/api/mirroradmins`, `/api/repositories`.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use mirrorvane_db::{Connection, DbError, DirectorySet, crawl, public};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::routes::{AppState, Inner};
use crate::ui::form::Fields;
use crate::ui::{internal, ser, viewer};

/// How long browsers and proxies may keep the mirror list (MirrorManager's publiclist was regenerated twice a day).
const LIST_MAX_AGE: u32 = 12 * 3600;

/// One listed mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedMirror {
    pub country: String,
    pub site: String,
    pub org_url: String,
    pub host: String,
    pub bandwidth: i64,
    /// `IPv4`, `IPv6`, `IPv4 and IPv6`, or empty when not measured.
    pub families: String,
    pub categories: Vec<ListedCategory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedCategory {
    pub name: String,
    pub urls: Vec<String>,
}

/// What the list is narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListFilter {
    pub product: Option<String>,
    pub version: Option<String>,
    pub arch: Option<String>,
    pub country: Option<String>,
}

/// The public mirror list: hosts public and active (with their site), in categories and products on the list,
/// with at least one public URL and at least one directory up to date at the last crawl or check-in (of the
/// selected version and arch when given: through the repositories, as MirrorManager does); ordered by country
/// and host name. The country filter is the host's country (MirrorManager joined its rarely-filled HostCountry
/// table instead).
pub async fn mirror_list(conn: &mut Connection, filter: &ListFilter) -> Result<Vec<ListedMirror>, DbError> {
    let rows = public::listed_host_categories(conn, filter.product.as_deref()).await?;
    let mut urls: HashMap<i64, Vec<String>> = HashMap::new();
    for (hc, url) in public::public_urls(conn).await? {
        urls.entry(hc).or_default().push(url);
    }
    // Directories the selection asks for; `None` = any directory up to date will do.
    let wanted: Option<Vec<i64>> = match (&filter.product, filter.version.is_some() || filter.arch.is_some()) {
        (Some(p), true) => {
            Some(public::repository_directories(conn, p, filter.version.as_deref(), filter.arch.as_deref()).await?)
        }
        _ => None,
    };
    let mut sets: HashMap<i64, DirectorySet> = HashMap::new();
    let mut out: Vec<ListedMirror> = Vec::new();
    for r in rows {
        if filter
            .country
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case(&r.country))
        {
            continue;
        }
        let Some(hc_urls) = urls.get(&r.host_category_id).filter(|u| !u.is_empty()) else {
            continue;
        };
        let fresh = if bool::from(r.always_up2date) {
            true
        } else if let Some(id) = r.up2date_set_id {
            if let std::collections::hash_map::Entry::Vacant(e) = sets.entry(id) {
                e.insert(crawl::directory_set(conn, Some(id)).await?);
            }
            let set = &sets[&id];
            match &wanted {
                None => !set.is_empty(),
                Some(dirs) => dirs.iter().any(|d| set.contains(*d)),
            }
        } else {
            false
        };
        if !fresh {
            continue;
        }
        let category = ListedCategory {
            name: r.category.clone(),
            urls: hc_urls.clone(),
        };
        match out.last_mut() {
            Some(m) if m.host == r.host && m.site == r.site => m.categories.push(category),
            _ => out.push(ListedMirror {
                country: r.country,
                site: r.site,
                org_url: r.org_url,
                host: r.host,
                bandwidth: r.bandwidth_int,
                families: families(r.ipv4_reachable.map(bool::from), r.ipv6_reachable.map(bool::from)),
                categories: vec![category],
            }),
        }
    }
    Ok(out)
}

fn families(v4: Option<bool>, v6: Option<bool>) -> String {
    match (v4, v6) {
        (Some(true), Some(true)) => "IPv4 and IPv6",
        (Some(true), _) => "IPv4",
        (_, Some(true)) => "IPv6",
        _ => "",
    }
    .to_owned()
}

/// `GET /mirrors[/<product>[/<version>[/<arch>]]][?country=XX]`.
pub(crate) async fn mirrors(
    State(s): State<AppState>,
    path: Option<Path<String>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let path = path.map(|Path(p)| p).unwrap_or_default();
    let parts: Vec<String> = path.split('/').filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let query = Fields::new(query);
    let filter = ListFilter {
        product: parts.first().cloned(),
        version: parts.get(1).cloned(),
        arch: parts.get(2).cloned(),
        country: query.text("country").map(str::to_ascii_uppercase),
    };
    let who = match viewer(&s, &headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let page = match list_page(&s, &filter).await {
        Ok(ctx) => ctx,
        Err(e) => return internal(&format!("mirror list: {e}")),
    };
    let response = s.pages.render(StatusCode::OK, "mirrors.html", who.as_ref(), page);
    // The page differs for a signed-in person only in its header; cache only what everyone sees.
    if who.is_some() {
        return response;
    }
    cached(response, &headers).await
}

async fn list_page(s: &Inner, filter: &ListFilter) -> Result<minijinja::Value, DbError> {
    let mut conn = s.db.acquire().await?;
    let products: Vec<minijinja::Value> = public::listed_products(&mut conn)
        .await?
        .into_iter()
        .map(|name| context! { name })
        .collect();
    let versions = match &filter.product {
        Some(p) => public::listed_versions(&mut conn, p).await?,
        None => Vec::new(),
    };
    let arches = match filter.version {
        Some(_) => public::listed_arches(&mut conn).await?,
        None => Vec::new(),
    };
    let mirrors = mirror_list(&mut conn, filter).await?;
    Ok(context! { products, versions, arches, filter => ser(filter), mirrors => ser(&mirrors) })
}

/// Adds `Cache-Control` and an ETag of the body; answers `304` when the client has it.
async fn cached(response: Response, headers: &HeaderMap) -> Response {
    let (mut parts, body) = response.into_parts();
    if parts.status != StatusCode::OK {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return internal("reading a rendered page");
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let cache = format!("public, max-age={LIST_MAX_AGE}");
    parts
        .headers
        .insert(header::CACHE_CONTROL, cache.parse().expect("a valid header value"));
    parts
        .headers
        .insert(header::ETAG, etag.parse().expect("a valid header value"));
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// `GET /rsyncFilter?categories=a,b&since=EPOCH&stripprefix=P` (reference §5.7): an rsync filter including
/// the directories of those categories changed since then, with their parents, and excluding everything else —
/// for downstream mirrors that sync only what changed.
pub(crate) async fn rsync_filter(State(s): State<AppState>, Query(query): Query<Vec<(String, String)>>) -> Response {
    let q = Fields::new(query);
    let categories: Vec<String> = q
        .get("categories")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .take(64)
        .collect();
    let Ok(since) = q.get("since").unwrap_or("0").trim().parse::<i64>() else {
        return (StatusCode::BAD_REQUEST, "since: not a number of seconds\n").into_response();
    };
    if categories.is_empty() {
        return (StatusCode::BAD_REQUEST, "categories: name at least one category\n").into_response();
    }
    let strip = q.get("stripprefix").unwrap_or_default().trim_matches('/');
    let rows = match s.db.acquire().await {
        Ok(mut conn) => public::changed_directories(&mut conn, &categories, since).await,
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return internal(&format!("rsyncFilter: {e}")),
    };
    let mut lines = std::collections::BTreeSet::new();
    for (_, name) in rows {
        let path = name.strip_prefix(strip).unwrap_or(&name).trim_start_matches('/');
        // The directory and each of its parents, or rsync never descends to it.
        let mut end = 0;
        for (i, c) in path.char_indices() {
            if c == '/' {
                lines.insert(format!("+ {}/", &path[..i]));
            }
            end = i + c.len_utf8();
        }
        if end > 0 {
            lines.insert(format!("+ {path}/"));
        }
    }
    let mut text: String = lines.into_iter().map(|l| l + "\n").collect();
    text.push_str("- *\n");
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// `GET /api/mirroradmins[?name=HOST-OR-SITE]` as MirrorManager answers it.
pub(crate) async fn api_mirroradmins(
    State(s): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let q = Fields::new(query);
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(&format!("{e}")),
    };
    let admins = match q.text("name") {
        Some(name) => match public::mirror_admins(&mut conn, name).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                let body = serde_json::json!({ "message": format!("No host or site found for {name}") });
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            Err(e) => return internal(&format!("mirroradmins: {e}")),
        },
        None => match public::all_mirror_admins(&mut conn).await {
            Ok(a) => a,
            Err(e) => return internal(&format!("mirroradmins: {e}")),
        },
    };
    let total = admins.len();
    axum::Json(serde_json::json!({ "admins": admins, "total": total })).into_response()
}

/// `GET /api/repositories` as MirrorManager answers it: `{"repositories": [{prefix: {name, directory}}…], "total": N}`.
pub(crate) async fn api_repositories(State(s): State<AppState>) -> Response {
    let rows = match s.db.acquire().await {
        Ok(mut conn) => public::repositories(&mut conn).await,
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return internal(&format!("repositories: {e}")),
    };
    let repositories: Vec<BTreeMap<String, serde_json::Value>> = rows
        .into_iter()
        .filter_map(|r| {
            let prefix = r.prefix?;
            let entry = serde_json::json!({ "name": r.name, "directory": r.directory });
            Some(BTreeMap::from([(prefix, entry)]))
        })
        .collect();
    let total = repositories.len();
    axum::Json(serde_json::json!({ "repositories": repositories, "total": total })).into_response()
}
