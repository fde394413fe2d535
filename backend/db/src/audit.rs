//! The audit log: every change to the mirror network's data, who made it, when, and its value before and after.

use crate::{Connection, DbError};

/// One change, as written and as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    /// An account name, or `apply` / `import` for the command line.
    pub actor: String,
    /// The site the change belongs to; `None` for network-wide data (categories, country tables, …).
    pub site: Option<String>,
    /// `add`, `update`, `remove` (or a verb of its own, like `password-reset`).
    pub action: String,
    /// What was changed, in words (`host mirror.example.org of site Example: bandwidth`).
    pub target: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// A change to record (the id is the database's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditRow<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub site: Option<&'a str>,
    pub action: &'a str,
    pub target: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// Records one change; call it inside the transaction that makes the change, so both or neither are kept.
pub async fn record(conn: &mut Connection, row: &NewAuditRow<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, site, action, target, old_value, new_value) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.at)
    .bind(row.actor)
    .bind(row.site)
    .bind(row.action)
    .bind(&row.target)
    .bind(row.old_value.as_deref())
    .bind(row.new_value.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest `limit` changes, newest first; only those of `site` when given.
pub async fn recent(conn: &mut Connection, site: Option<&str>, limit: i64) -> Result<Vec<AuditRow>, DbError> {
    let columns = "id, at, actor, site, action, target, old_value, new_value";
    Ok(match site {
        Some(site) => {
            sqlx::query_as(&format!(
                "SELECT {columns} FROM audit_log WHERE site = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(site)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query_as(&format!("SELECT {columns} FROM audit_log ORDER BY id DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(conn)
                .await?
        }
    })
}
