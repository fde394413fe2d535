//! `/admin/network`: the network-wide tables only admins change — versions (how the public pages show them,
//! which ones propagation follows), repository redirects, disabled repositories, country → continent overrides,
//! netblock → country, embargoed countries. Each form is an inventory edit like every other.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use mirrorvane_inventory::edit::edit;
use mirrorvane_inventory::model::{Inventory, NetblockCountry};
use mirrorvane_inventory::{store, validate};

use super::form::Fields;
use super::{Admin, Posted, access_denied, edit_failure, internal, not_found, see_other, ser};
use crate::accounts::SignedIn;
use crate::routes::{AppState, Inner};

/// `GET /admin/network`.
pub(super) async fn page(State(s): State<AppState>, Admin(who): Admin) -> Response {
    render(&s, &who, StatusCode::OK, None).await
}

async fn render(s: &Inner, who: &SignedIn, status: StatusCode, error: Option<&str>) -> Response {
    let inv = match store::load(&s.db).await {
        Ok(inv) => inv,
        Err(e) => return internal(&format!("loading the inventory: {e}")),
    };
    let ctx = context! {
        versions => ser(&inv.versions),
        redirects => ser(&inv.repository_redirects),
        disabled => ser(&inv.disabled_repositories),
        continents => ser(&inv.country_continent),
        netblock_countries => ser(&inv.netblock_country),
        embargoed => ser(&inv.embargoed),
        products => ser(inv.products.iter().map(|p| p.name.clone()).collect::<Vec<_>>()),
        error,
    };
    s.pages.render(status, "network.html", Some(who), ctx)
}

/// `POST /admin/network/<table>/<op>`.
pub(super) async fn change(
    State(s): State<AppState>,
    Path((table, op)): Path<(String, String)>,
    Posted { who, f }: Posted,
) -> Response {
    let known = matches!(
        (table.as_str(), op.as_str()),
        ("version", "update")
            | (
                "redirect" | "disabled" | "continent" | "netblock_country" | "embargoed",
                "new" | "delete"
            )
    );
    if !known {
        return not_found(&s, Some(&who), "No such page");
    }
    // The policy refuses every one of these to non-admins; saying so early gives the clearer page.
    if !who.actor.admin {
        return access_denied(&s, Some(&who));
    }
    match edit(&s.db, &who.actor, |inv| apply(inv, &f, &table, &op)).await {
        Ok(_) => see_other("/admin/network"),
        Err(e) => {
            let (status, error) = edit_failure(&e);
            render(&s, &who, status, Some(&error)).await
        }
    }
}

fn apply(inv: &mut Inventory, f: &Fields, table: &str, op: &str) -> Result<(), String> {
    let problem = |e: mirrorvane_inventory::Problem| e.to_string();
    let add = op == "new";
    match table {
        "version" => {
            let (product, name) = (f.required("product", "Product")?, f.required("name", "Version")?);
            let v = inv
                .versions
                .iter_mut()
                .find(|v| v.product == product && v.name == name)
                .ok_or("Version not found")?;
            if f.get("display_name").is_some() {
                v.display_name = f.text("display_name").map(str::to_owned);
            }
            if f.get("codename").is_some() {
                v.codename = f.text("codename").map(str::to_owned);
            }
            if let Some(o) = f.number::<i64>("sortorder", "Sort order")? {
                v.sortorder = i64::from(validate::in_range("sortorder", o, 0, i64::from(i32::MAX)).map_err(problem)?);
            }
            if let Some(d) = f.flag("display") {
                v.display = d;
            }
            if let Some(c) = f.flag("current") {
                v.current = c;
            }
        }
        "redirect" => {
            let from = validate::name("repository", f.required("from", "From")?).map_err(problem)?;
            if add {
                let to = validate::name("repository", f.required("to", "To")?).map_err(problem)?;
                inv.repository_redirects.insert(from, to);
            } else {
                inv.repository_redirects.remove(&from);
            }
        }
        "disabled" => {
            let r = validate::repository_ref(f.required("repository", "Repository")?).map_err(problem)?;
            inv.disabled_repositories.retain(|x| *x != r);
            if add {
                inv.disabled_repositories.push(r);
            }
        }
        "continent" => {
            let country = validate::country(f.required("country", "Country")?).map_err(problem)?;
            if add {
                let continent = validate::continent(f.required("continent", "Continent")?).map_err(problem)?;
                inv.country_continent.insert(country, continent);
            } else {
                inv.country_continent.remove(&country);
            }
        }
        "netblock_country" => {
            let netblock = validate::ip_network(f.required("netblock", "Netblock")?).map_err(problem)?;
            inv.netblock_country.retain(|n| n.netblock != netblock);
            if add {
                let country = validate::country(f.required("country", "Country")?).map_err(problem)?;
                inv.netblock_country.push(NetblockCountry { netblock, country });
            }
        }
        _ => {
            let country = validate::country(f.required("country", "Country")?).map_err(problem)?;
            inv.embargoed.retain(|c| *c != country);
            if add {
                inv.embargoed.push(country);
            }
        }
    }
    Ok(())
}
