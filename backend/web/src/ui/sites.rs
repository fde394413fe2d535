//! `/`, `/site/…`: sites, their admins and their history.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use mirrorvane_db::{accounts, audit, sites};
use mirrorvane_inventory::edit::edit;
use mirrorvane_inventory::model::{Inventory, Site};
use mirrorvane_inventory::{store, validate};

use super::form::Fields;
use super::{Posted, Viewer, access_denied, edit_failure, internal, not_found, see_other, ser, viewer, when};
use crate::accounts::SignedIn;
use crate::routes::{AppState, Inner};

/// `GET /`.
pub(super) async fn index(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let who = match viewer(&s, &headers).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut sites = Vec::new();
    if let Some(w) = &who {
        match my_sites(&s, w).await {
            Ok(list) => sites = list,
            Err(r) => return r,
        }
    }
    s.pages
        .render(StatusCode::OK, "index.html", who.as_ref(), context! { sites })
}

async fn my_sites(s: &Inner, who: &SignedIn) -> Result<Vec<Value>, Response> {
    let mut conn = s.db.acquire().await.map_err(|e| internal(&format!("{e}")))?;
    let rows = accounts::sites_of(&mut conn, &who.actor.name)
        .await
        .map_err(|e| internal(&format!("sites of {}: {e}", who.actor.name)))?;
    Ok(rows.into_iter().map(|(id, name)| context! { id, name }).collect())
}

/// `GET /site/mine`: the sites the signed-in person administers.
pub(super) async fn mine(State(s): State<AppState>, Viewer(who): Viewer) -> Response {
    let inv = match store::load(&s.db).await {
        Ok(inv) => inv,
        Err(e) => return internal(&format!("loading the inventory: {e}")),
    };
    let sites: Vec<&Site> = inv
        .sites
        .iter()
        .filter(|site| site.admins.contains(&who.actor.name))
        .collect();
    site_table(&s, &who, "My sites", &sites).await
}

/// The sites table (`/site/mine`, `/admin/all_sites`).
pub(super) async fn site_table(s: &Inner, who: &SignedIn, heading: &str, list: &[&Site]) -> Response {
    let ids = match site_ids(s).await {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    let rows: Vec<Value> = list
        .iter()
        .map(|site| {
            context! {
                id => ids.get(&site.name).copied().unwrap_or_default(),
                name => site.name.as_str(), hosts => site.hosts.len(), private => site.private,
                admin_active => site.admin_active, user_active => site.user_active, admins => ser(&site.admins),
            }
        })
        .collect();
    s.pages.render(
        StatusCode::OK,
        "sites.html",
        Some(who),
        context! { heading, sites => rows },
    )
}

async fn site_ids(s: &Inner) -> Result<std::collections::HashMap<String, i64>, Response> {
    let mut conn = s.db.acquire().await.map_err(|e| internal(&format!("{e}")))?;
    let rows = sites::sites(&mut conn)
        .await
        .map_err(|e| internal(&format!("sites: {e}")))?;
    Ok(rows.into_iter().map(|r| (r.name, r.id)).collect())
}

/// `GET /site/new`.
pub(super) async fn new_form(State(s): State<AppState>, Viewer(who): Viewer) -> Response {
    s.pages.render(
        StatusCode::OK,
        "site_new.html",
        Some(&who),
        context! { form => context! {} },
    )
}

/// The site fields a form sets (those it offers); `new` when creating.
fn apply_site_fields(site: &mut Site, f: &Fields, new: bool) -> Result<(), String> {
    if let Some(url) = f.get("org_url") {
        let url = url.trim().trim_end_matches('/');
        if url.is_empty() {
            site.org_url = None;
        } else if url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            site.org_url = Some(url.to_owned());
        } else {
            return Err(format!("Organisation URL: {url:?} is not an http(s) URL."));
        }
    }
    match f.text("password") {
        Some(p) => site.password = Some(p.to_owned()),
        None if new => return Err("Check-in password: this field is required.".to_owned()),
        None => {}
    }
    if let Some(v) = f.flag("private") {
        site.private = v;
    }
    if let Some(v) = f.flag("user_active") {
        site.user_active = v;
    }
    if let Some(v) = f.flag("admin_active") {
        site.admin_active = v;
    }
    Ok(())
}

/// `POST /site/new`: anyone signed in may create a site, and becomes its admin.
pub(super) async fn create(State(s): State<AppState>, Posted { who, f }: Posted) -> Response {
    let name = match f
        .required("name", "Name")
        .and_then(|n| validate::name("site name", n).map_err(|e| e.to_string()))
    {
        Ok(n) => n,
        Err(error) => return new_site_error(&s, &who, &f, StatusCode::BAD_REQUEST, &error),
    };
    let admin = who.actor.name.clone();
    let edited = edit(&s.db, &who.actor, |inv: &mut Inventory| {
        if inv.sites.iter().any(|site| site.name == name) {
            return Err(format!("A site named {name:?} already exists."));
        }
        let mut site = Site::new(name.clone());
        site.admins.push(admin);
        apply_site_fields(&mut site, &f, true)?;
        inv.sites.push(site);
        Ok(())
    })
    .await;
    match edited {
        Ok(_) => match site_ids(&s).await {
            Ok(ids) => see_other(&format!("/site/{}", ids.get(&name).copied().unwrap_or_default())),
            Err(r) => r,
        },
        Err(e) => {
            let (status, error) = edit_failure(&e);
            new_site_error(&s, &who, &f, status, &error)
        }
    }
}

fn new_site_error(s: &Inner, who: &SignedIn, f: &Fields, status: StatusCode, error: &str) -> Response {
    let form = context! { name => f.get("name"), org_url => f.get("org_url") };
    s.pages
        .render(status, "site_new.html", Some(who), context! { form, error })
}

/// The name of site `id`, if the signed-in person may see and change it (404, 403 otherwise).
pub(super) async fn own_site(s: &Inner, who: &SignedIn, id: i64) -> Result<String, Response> {
    let mut conn = s.db.acquire().await.map_err(|e| internal(&format!("{e}")))?;
    let Some(name) = sites::site_name(&mut conn, id)
        .await
        .map_err(|e| internal(&format!("site {id}: {e}")))?
    else {
        return Err(not_found(s, Some(who), "Site not found"));
    };
    if who.actor.admin {
        return Ok(name);
    }
    let mine = accounts::sites_of(&mut conn, &who.actor.name)
        .await
        .map_err(|e| internal(&format!("sites of {}: {e}", who.actor.name)))?;
    if !mine.iter().any(|(site, _)| *site == id) {
        return Err(access_denied(s, Some(who)));
    }
    Ok(name)
}

/// `GET /site/<id>`.
pub(super) async fn show(State(s): State<AppState>, Path(id): Path<i64>, Viewer(who): Viewer) -> Response {
    site_page(&s, &who, id, StatusCode::OK, None).await
}

async fn site_page(s: &Inner, who: &SignedIn, id: i64, status: StatusCode, error: Option<&str>) -> Response {
    let name = match own_site(s, who, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let inv = match store::load(&s.db).await {
        Ok(inv) => inv,
        Err(e) => return internal(&format!("loading the inventory: {e}")),
    };
    let Some(site) = inv.sites.iter().find(|site| site.name == name) else {
        return not_found(s, Some(who), "Site not found");
    };
    let host_ids = {
        let mut conn = match s.db.acquire().await {
            Ok(c) => c,
            Err(e) => return internal(&format!("{e}")),
        };
        match sites::host_ids(&mut conn, &name, None).await {
            Ok(ids) => ids,
            Err(e) => return internal(&format!("hosts of {name}: {e}")),
        }
    };
    let mut hosts = Vec::new();
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(&format!("{e}")),
    };
    for host_id in host_ids {
        if let Ok(Some(place)) = sites::host_place(&mut conn, host_id).await
            && let Some(host) = site.hosts.iter().find(|h| h.name == place.host)
        {
            hosts.push(context! { id => host_id, host => ser(host) });
        }
    }
    s.pages.render(
        status,
        "site.html",
        Some(who),
        context! { id, site => ser(site), hosts, form => context! {}, error },
    )
}

/// `POST /site/<id>`.
pub(super) async fn update(State(s): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    site_edit(&s, id, posted, |site, f| apply_site_fields(site, f, false)).await
}

/// Runs an edit of site `id` for a form and answers: back to the site's page, or the page with the error.
async fn site_edit(
    s: &Inner,
    id: i64,
    Posted { who, f }: Posted,
    change: impl FnOnce(&mut Site, &Fields) -> Result<(), String>,
) -> Response {
    let name = match own_site(s, &who, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let edited = edit(&s.db, &who.actor, |inv| {
        let site = inv
            .sites
            .iter_mut()
            .find(|site| site.name == name)
            .ok_or("Site not found")?;
        change(site, &f)
    })
    .await;
    match edited {
        Ok(_) => see_other(&format!("/site/{id}")),
        Err(e) => {
            let (status, error) = edit_failure(&e);
            site_page(s, &who, id, status, Some(&error)).await
        }
    }
}

/// `POST /site/<id>/admin/new` and `…/delete` (field `admin`).
pub(super) async fn admins(State(s): State<AppState>, Path((id, op)): Path<(i64, String)>, posted: Posted) -> Response {
    let add = match op.as_str() {
        "new" => true,
        "delete" => false,
        _ => return not_found(&s, None, "No such page"),
    };
    site_edit(&s, id, posted, |site, f| {
        let admin = f.required("admin", "Account")?;
        if admin.chars().any(char::is_whitespace) {
            return Err(format!("Account: {admin:?} is not an account name."));
        }
        if add {
            if !site.admins.iter().any(|a| a == admin) {
                site.admins.push(admin.to_owned());
            }
        } else {
            site.admins.retain(|a| a != admin);
        }
        Ok(())
    })
    .await
}

/// `POST /site/<id>/drop`: the site and everything of it.
pub(super) async fn drop(State(s): State<AppState>, Path(id): Path<i64>, Posted { who, f }: Posted) -> Response {
    if f.flag("confirm") != Some(true) {
        return site_page(
            &s,
            &who,
            id,
            StatusCode::BAD_REQUEST,
            Some("Tick the box to confirm the deletion."),
        )
        .await;
    }
    let name = match own_site(&s, &who, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let edited = edit(&s.db, &who.actor, |inv| {
        inv.sites.retain(|site| site.name != name);
        Ok(())
    })
    .await;
    match edited {
        Ok(_) => see_other("/site/mine"),
        Err(e) => {
            let (status, error) = edit_failure(&e);
            site_page(&s, &who, id, status, Some(&error)).await
        }
    }
}

/// `GET /site/<id>/audit`: the site's history, for its admins and the admins.
pub(super) async fn audit(State(s): State<AppState>, Path(id): Path<i64>, Viewer(who): Viewer) -> Response {
    let name = match own_site(&s, &who, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    audit_page(&s, &who, Some(&name), &format!("History of site {name}")).await
}

/// The audit log page, of one site or of everything.
pub(super) async fn audit_page(s: &Inner, who: &SignedIn, site: Option<&str>, heading: &str) -> Response {
    let rows = {
        let mut conn = match s.db.acquire().await {
            Ok(c) => c,
            Err(e) => return internal(&format!("{e}")),
        };
        match audit::recent(&mut conn, site, 1000).await {
            Ok(rows) => rows,
            Err(e) => return internal(&format!("audit log: {e}")),
        }
    };
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            context! {
                when => when(r.at), actor => r.actor.as_str(), action => r.action.as_str(), target => r.target.as_str(),
                old_value => r.old_value.as_deref(), new_value => r.new_value.as_deref(),
            }
        })
        .collect();
    s.pages
        .render(StatusCode::OK, "audit.html", Some(who), context! { heading, rows })
}
