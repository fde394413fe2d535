//! `/admin…`: for the admin group only. Accounts (create, reset a password), every site, the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use mirrorvane_db::audit::{self, NewAuditRow};
use mirrorvane_db::{accounts, password};

use super::form::Fields;
use super::sites::{audit_page, site_table};
use super::{Admin, Posted, access_denied, internal, not_found, see_other};
use crate::accounts::SignedIn;
use crate::routes::{AppState, Inner, now};

/// `GET /admin`.
pub(super) async fn index(State(s): State<AppState>, Admin(who): Admin) -> Response {
    admin_page(&s, &who, StatusCode::OK, None, None).await
}

async fn admin_page(
    s: &Inner,
    who: &SignedIn,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let mut conn = match s.db.acquire().await {
        Ok(c) => c,
        Err(e) => return internal(&format!("{e}")),
    };
    let rows = match accounts::all(&mut conn).await {
        Ok(rows) => rows,
        Err(e) => return internal(&format!("accounts: {e}")),
    };
    let mut list: Vec<Value> = Vec::with_capacity(rows.len());
    for a in rows {
        let groups = match accounts::groups(&mut conn, a.id).await {
            Ok(g) => g,
            Err(e) => return internal(&format!("groups of {}: {e}", a.name)),
        };
        list.push(context! { name => a.name, email => a.email, groups });
    }
    let admin_group = &s.accounts.config().admin_group;
    s.pages.render(
        status,
        "admin.html",
        Some(who),
        context! { accounts => list, admin_group, error, notice },
    )
}

/// `GET /admin/all_sites`.
pub(super) async fn all_sites(State(s): State<AppState>, Admin(who): Admin) -> Response {
    let inv = match mirrorvane_inventory::store::load(&s.db).await {
        Ok(inv) => inv,
        Err(e) => return internal(&format!("loading the inventory: {e}")),
    };
    let sites: Vec<_> = inv.sites.iter().collect();
    site_table(&s, &who, "All sites", &sites).await
}

/// `GET /admin/audit`.
pub(super) async fn audit(State(s): State<AppState>, Admin(who): Admin) -> Response {
    audit_page(&s, &who, None, "Audit log").await
}

/// Shortest password accepted (NIST SP 800-63B's minimum for chosen passwords).
const MIN_PASSWORD: usize = 8;

/// `POST /admin/accounts/new` and `/admin/accounts/password` (a reset by an admin).
pub(super) async fn accounts(State(s): State<AppState>, Path(op): Path<String>, Posted { who, f }: Posted) -> Response {
    if !who.actor.admin {
        return access_denied(&s, Some(&who));
    }
    if op != "new" && op != "password" {
        return not_found(&s, Some(&who), "No such page");
    }
    let result = account_change(&s, &who, &f, op == "new").await;
    match result {
        Ok(notice) => {
            if op == "new" {
                see_other("/admin")
            } else {
                admin_page(&s, &who, StatusCode::OK, None, Some(&notice)).await
            }
        }
        Err(Failure::Form(error)) => admin_page(&s, &who, StatusCode::BAD_REQUEST, Some(&error), None).await,
        Err(Failure::Internal(what)) => internal(&what),
    }
}

/// Why an account change was not made: a message for the form, or a failure for the log.
enum Failure {
    Form(String),
    Internal(String),
}

/// Creates an account or resets its password, with an audit row.
async fn account_change(s: &Inner, who: &SignedIn, f: &Fields, new: bool) -> Result<String, Failure> {
    let name = f.required("name", "Name").map_err(Failure::Form)?.to_owned();
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Failure::Form(format!("Name: {name:?} may not contain spaces.")));
    }
    let given = f.get("password").unwrap_or_default().to_owned();
    if given.chars().count() < MIN_PASSWORD {
        return Err(Failure::Form(format!("Password: at least {MIN_PASSWORD} characters.")));
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&given))
        .await
        .map_err(|e| Failure::Internal(format!("hashing: {e}")))?
        .map_err(|e| Failure::Internal(format!("hashing: {e}")))?;
    let db_err = |e: mirrorvane_db::DbError| Failure::Internal(format!("accounts: {e}"));
    let mut tx = s.db.begin().await.map_err(db_err)?;
    let action = if new {
        let email = f.text("email").unwrap_or_default();
        let Some(id) = accounts::create(&mut tx, &name, email, Some(&hash), now())
            .await
            .map_err(db_err)?
        else {
            return Err(Failure::Form(format!("An account named {name:?} already exists.")));
        };
        if f.flag("admin") == Some(true) {
            accounts::add_group(&mut tx, id, &s.accounts.config().admin_group)
                .await
                .map_err(db_err)?;
        }
        "account-create"
    } else {
        let Some(account) = accounts::by_name(&mut tx, &name).await.map_err(db_err)? else {
            return Err(Failure::Form(format!("No account named {name:?}.")));
        };
        accounts::set_password(&mut tx, account.id, &hash)
            .await
            .map_err(db_err)?;
        "password-reset"
    };
    let row = NewAuditRow {
        at: now(),
        actor: &who.actor.name,
        site: None,
        action,
        target: format!("account {name:?}"),
        old_value: None,
        new_value: None,
    };
    audit::record(&mut tx, &row).await.map_err(db_err)?;
    tx.commit().await.map_err(|e| db_err(e.into()))?;
    Ok(if new {
        format!("Account {name} created.")
    } else {
        format!("Password of {name} reset; their sessions have ended.")
    })
}
