//! `/host/…`: a host, and what hangs off it (categories and URLs, netblocks, peer ASNs, countries allowed).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use mirrorvane_db::{crawl, sites};
use mirrorvane_inventory::edit::edit;
use mirrorvane_inventory::model::{Host, HostCategory, Netblock, Url};
use mirrorvane_inventory::validate;

use super::form::Fields;
use super::sites::own_site;
use super::{Posted, Viewer, edit_failure, internal, not_found, see_other, ser, when};
use crate::accounts::SignedIn;
use crate::routes::{AppState, Inner};

/// Where host `id` is: (site id, site name, host name), if the signed-in person may see it.
async fn own_host(s: &Inner, who: &SignedIn, id: i64) -> Result<(i64, String, String), Response> {
    let place = {
        let mut conn = s.db.acquire().await.map_err(|e| internal(&format!("{e}")))?;
        sites::host_place(&mut conn, id)
            .await
            .map_err(|e| internal(&format!("host {id}: {e}")))?
    };
    let Some(place) = place else {
        return Err(not_found(s, Some(who), "Host not found"));
    };
    own_site(s, who, place.site_id).await?;
    Ok((place.site_id, place.site, place.host))
}

/// `GET /host/<id>`.
pub(super) async fn show(State(s): State<AppState>, Path(id): Path<i64>, Viewer(who): Viewer) -> Response {
    host_page(&s, &who, id, StatusCode::OK, None).await
}

async fn host_page(s: &Inner, who: &SignedIn, id: i64, status: StatusCode, error: Option<&str>) -> Response {
    let (site_id, site_name, host_name) = match own_host(s, who, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let inv = match mirrorvane_inventory::store::load(&s.db).await {
        Ok(inv) => inv,
        Err(e) => return internal(&format!("loading the inventory: {e}")),
    };
    let Some(host) = inv
        .sites
        .iter()
        .find(|site| site.name == site_name)
        .and_then(|site| site.hosts.iter().find(|h| h.name == host_name))
    else {
        return not_found(s, Some(who), "Host not found");
    };
    // The categories this person may add: not those the host has, and admin-only ones only for admins.
    let categories: Vec<String> = inv
        .categories
        .iter()
        .filter(|c| who.actor.admin || !c.admin_only)
        .filter(|c| !host.categories.iter().any(|hc| hc.category == c.name))
        .map(|c| c.name.clone())
        .collect();
    let crawl = {
        let mut conn = match s.db.acquire().await {
            Ok(c) => c,
            Err(e) => return internal(&format!("{e}")),
        };
        match crawl::logs(&mut conn, id, 1).await {
            Ok(logs) => logs
                .first()
                .map(|l| context! { outcome => l.outcome.clone(), finished => when(l.finished_at) }),
            Err(e) => return internal(&format!("crawl logs of {host_name}: {e}")),
        }
    };
    s.pages.render(
        status,
        "host.html",
        Some(who),
        context! {
            id, site_id, site_name, host => ser(host), categories, crawl,
            form => context! {}, error,
        },
    )
}

/// The host fields a form sets (those it offers).
fn apply_host_fields(host: &mut Host, f: &Fields) -> Result<(), String> {
    let problem = |e: mirrorvane_inventory::Problem| e.to_string();
    if let Some(c) = f.get("country") {
        host.country = validate::country(c.trim()).map_err(problem)?;
    }
    if let Some(b) = f.number::<i64>("bandwidth", "Bandwidth")? {
        host.bandwidth = validate::positive("bandwidth", b).map_err(problem)?;
    }
    if let Some(m) = f.number::<i64>("max_connections", "Max connections")? {
        host.max_connections = validate::positive("max_connections", m).map_err(problem)?;
    }
    if f.get("asn").is_some() {
        host.asn = f
            .number::<i64>("asn", "ASN")?
            .map(|a| validate::asn("asn", a).map_err(problem))
            .transpose()?;
    }
    for (name, field) in [
        ("asn_clients", &mut host.asn_clients),
        ("private", &mut host.private),
        ("user_active", &mut host.user_active),
        ("admin_active", &mut host.admin_active),
    ] {
        if let Some(v) = f.flag(name) {
            *field = v;
        }
    }
    if f.get("comment").is_some() {
        host.comment = f.text("comment").map(str::to_owned);
    }
    if f.get("robot_email").is_some() {
        host.robot_email = f.text("robot_email").map(str::to_owned);
    }
    Ok(())
}

/// `GET /host/<site id>/new`.
pub(super) async fn new_form(State(s): State<AppState>, Path(site_id): Path<i64>, Viewer(who): Viewer) -> Response {
    new_host_page(&s, &who, site_id, &Fields::default(), StatusCode::OK, None).await
}

async fn new_host_page(
    s: &Inner,
    who: &SignedIn,
    site_id: i64,
    f: &Fields,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let site_name = match own_site(s, who, site_id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let form = context! {
        name => f.get("name"), country => f.get("country"), bandwidth => f.get("bandwidth"),
        max_connections => f.get("max_connections"), asn => f.get("asn"), comment => f.get("comment"),
        robot_email => f.get("robot_email"),
    };
    s.pages.render(
        status,
        "host_new.html",
        Some(who),
        context! { site_id, site_name, form, error },
    )
}

/// `POST /host/<site id>/new`.
pub(super) async fn create(State(s): State<AppState>, Path(site_id): Path<i64>, Posted { who, f }: Posted) -> Response {
    let site_name = match own_site(&s, &who, site_id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = match f
        .required("name", "Host name")
        .and_then(|n| validate::host_name(n).map_err(|e| e.to_string()))
    {
        Ok(n) => n,
        Err(error) => return new_host_page(&s, &who, site_id, &f, StatusCode::BAD_REQUEST, Some(&error)).await,
    };
    if f.text("country").is_none() {
        let error = "Country: this field is required.";
        return new_host_page(&s, &who, site_id, &f, StatusCode::BAD_REQUEST, Some(error)).await;
    }
    let edited = edit(&s.db, &who.actor, |inv| {
        let site = inv
            .sites
            .iter_mut()
            .find(|site| site.name == site_name)
            .ok_or("Site not found")?;
        if site.hosts.iter().any(|h| h.name == name) {
            return Err(format!("Site {site_name} already has a host named {name:?}."));
        }
        let mut host = Host::new(name.clone(), "");
        apply_host_fields(&mut host, &f)?;
        site.hosts.push(host);
        Ok(())
    })
    .await;
    match edited {
        Ok(_) => {
            let place = match s.db.acquire().await {
                Ok(mut conn) => sites::host_place_by_name(&mut conn, &site_name, &name).await,
                Err(e) => return internal(&format!("{e}")),
            };
            match place {
                Ok(Some(p)) => see_other(&format!("/host/{}", p.id)),
                Ok(None) => see_other(&format!("/site/{site_id}")),
                Err(e) => internal(&format!("new host {name}: {e}")),
            }
        }
        Err(e) => {
            let (status, error) = edit_failure(&e);
            new_host_page(&s, &who, site_id, &f, status, Some(&error)).await
        }
    }
}

/// Runs an edit of host `id` for a form and answers: back to the host's page, or the page with the error.
async fn host_edit(
    s: &Inner,
    id: i64,
    Posted { who, f }: Posted,
    change: impl FnOnce(&mut Host, &Fields) -> Result<(), String>,
) -> Response {
    let (_, site_name, host_name) = match own_host(s, &who, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let edited = edit(&s.db, &who.actor, |inv| {
        let host = inv
            .sites
            .iter_mut()
            .find(|site| site.name == site_name)
            .and_then(|site| site.hosts.iter_mut().find(|h| h.name == host_name))
            .ok_or("Host not found")?;
        change(host, &f)
    })
    .await;
    match edited {
        Ok(_) => see_other(&format!("/host/{id}")),
        Err(e) => {
            let (status, error) = edit_failure(&e);
            host_page(s, &who, id, status, Some(&error)).await
        }
    }
}

/// `POST /host/<id>`.
pub(super) async fn update(State(s): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    host_edit(&s, id, posted, apply_host_fields).await
}

/// `POST /host/<id>/drop`.
pub(super) async fn drop(State(s): State<AppState>, Path(id): Path<i64>, Posted { who, f }: Posted) -> Response {
    if f.flag("confirm") != Some(true) {
        return host_page(
            &s,
            &who,
            id,
            StatusCode::BAD_REQUEST,
            Some("Tick the box to confirm the deletion."),
        )
        .await;
    }
    let (site_id, site_name, host_name) = match own_host(&s, &who, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let edited = edit(&s.db, &who.actor, |inv| {
        if let Some(site) = inv.sites.iter_mut().find(|site| site.name == site_name) {
            site.hosts.retain(|h| h.name != host_name);
        }
        Ok(())
    })
    .await;
    match edited {
        Ok(_) => see_other(&format!("/site/{site_id}")),
        Err(e) => {
            let (status, error) = edit_failure(&e);
            host_page(&s, &who, id, status, Some(&error)).await
        }
    }
}

/// `POST /host/<id>/<part>/<op>`: add to or remove from one of a host's lists (`netblock`, `asn`, `country`,
/// `category`, `url`), or update a host category (`category/update`).
pub(super) async fn part(
    State(s): State<AppState>,
    Path((id, part, op)): Path<(i64, String, String)>,
    posted: Posted,
) -> Response {
    let known = matches!(
        (part.as_str(), op.as_str()),
        (
            "netblock" | "asn" | "country" | "category" | "url" | "acl",
            "new" | "delete"
        ) | ("category", "update")
    );
    if !known {
        return not_found(&s, None, "No such page");
    }
    if (part.as_str(), op.as_str()) == ("category", "new") {
        let names = match s.db.acquire().await {
            Ok(mut conn) => mirrorvane_db::categories::category_names(&mut conn).await,
            Err(e) => Err(e),
        };
        match names {
            Ok(names) if names.iter().any(|n| Some(n.as_str()) == posted.f.text("category")) => {}
            Ok(_) => {
                let error = Some("Category: not a known category.");
                return host_page(&s, &posted.who, id, StatusCode::BAD_REQUEST, error).await;
            }
            Err(e) => return internal(&format!("categories: {e}")),
        }
    }
    host_edit(&s, id, posted, |host, f| edit_part(host, f, &part, &op)).await
}

fn edit_part(host: &mut Host, f: &Fields, part: &str, op: &str) -> Result<(), String> {
    let problem = |e: mirrorvane_inventory::Problem| format!("Error: {e}");
    match (part, op) {
        ("netblock", "new") => {
            let name = f.required("name", "Name")?.to_owned();
            let netblock = validate::host_netblock(f.required("netblock", "Netblock")?).map_err(problem)?;
            if host.netblocks.iter().any(|n| n.netblock == netblock) {
                return Err(format!("Netblock {netblock} is already listed."));
            }
            host.netblocks.push(Netblock { name, netblock });
        }
        ("netblock", _) => {
            let given = f.required("netblock", "Netblock")?;
            let before = host.netblocks.len();
            host.netblocks.retain(|n| n.netblock != given);
            if host.netblocks.len() == before {
                return Err("Host netblock not found".to_owned());
            }
        }
        ("asn", op) => {
            let asn = f.number::<i64>("asn", "ASN")?.ok_or("ASN: this field is required.")?;
            let asn = validate::asn("asn", asn).map_err(problem)?;
            if op == "new" {
                if !host.peer_asns.contains(&asn) {
                    host.peer_asns.push(asn);
                }
            } else {
                host.peer_asns.retain(|a| *a != asn);
            }
        }
        ("country", op) => {
            let country =
                validate::country(f.required("country", "Country")?).map_err(|_| "Invalid country code".to_owned())?;
            if op == "new" {
                if !host.allowed_countries.contains(&country) {
                    host.allowed_countries.push(country);
                }
            } else {
                host.allowed_countries.retain(|c| *c != country);
            }
        }
        ("acl", op) => {
            let ip = validate::acl_ip(f.required("ip", "Address")?).map_err(problem)?;
            host.acl_ips.retain(|a| *a != ip);
            if op == "new" {
                host.acl_ips.push(ip);
            }
        }
        ("category", op) => {
            let category = f.required("category", "Category")?;
            match op {
                "new" => {
                    if host.categories.iter().any(|hc| hc.category == category) {
                        return Err(format!("The host already carries {category}."));
                    }
                    let mut hc = HostCategory::new(category);
                    hc.always_up_to_date = f.flag("always_up_to_date").unwrap_or(false);
                    host.categories.push(hc);
                }
                "update" => {
                    let hc = host
                        .categories
                        .iter_mut()
                        .find(|hc| hc.category == category)
                        .ok_or("Host category not found")?;
                    if let Some(v) = f.flag("always_up_to_date") {
                        hc.always_up_to_date = v;
                    }
                }
                _ => host.categories.retain(|hc| hc.category != category),
            }
        }
        (_, op) => {
            let category = f.required("category", "Category")?;
            let hc = host
                .categories
                .iter_mut()
                .find(|hc| hc.category == category)
                .ok_or("Host category not found")?;
            if op == "new" {
                let url = validate::mirror_url(f.required("url", "URL")?).map_err(|e| e.to_string())?;
                if hc.urls.iter().any(|u| u.url == url) {
                    return Err(format!("URL Not Added: {url} already exists on {category}"));
                }
                hc.urls.push(Url {
                    url,
                    private: f.flag("private").unwrap_or(false),
                });
            } else {
                let url = f.required("url", "URL")?;
                hc.urls.retain(|u| u.url != url);
            }
        }
    }
    Ok(())
}
