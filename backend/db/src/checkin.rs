//! What a private mirror's check-in (`report_mirror`, reference §5.6) reads and writes: the site and its
//! password hash, the host within the site, and, in one transaction, the new directory state of the host's
//! categories with `last_checked_in`.

use crate::crawl::set_state;
use crate::{Connection, Database, DbError, DirectorySet, Flag};

/// A site as a check-in authenticates against it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CheckinSiteRow {
    pub id: i64,
    /// argon2id PHC string; `None` when the site has no check-in password.
    pub password: Option<String>,
}

/// The site named `name`.
pub async fn site(conn: &mut Connection, name: &str) -> Result<Option<CheckinSiteRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, password_hash AS password FROM site WHERE name = $1 ORDER BY id LIMIT 1")
            .bind(name)
            .fetch_optional(conn)
            .await?,
    )
}

/// A host of a site, as a check-in finds it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CheckinHostRow {
    pub id: i64,
    pub private: Flag,
}

/// The host named `name` of site `site`.
pub async fn host(conn: &mut Connection, site: i64, name: &str) -> Result<Option<CheckinHostRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, private FROM host WHERE site_id = $1 AND name = $2 ORDER BY id LIMIT 1")
            .bind(site)
            .bind(name)
            .fetch_optional(conn)
            .await?,
    )
}

/// A check-in's effect on the database.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkin {
    pub host: i64,
    pub at: i64,
    /// The host's user flag, when the check-in sets it.
    pub user_active: Option<bool>,
    /// (host category, up to date, not up to date).
    pub states: Vec<(i64, DirectorySet, DirectorySet)>,
}

/// Writes a check-in in one transaction.
pub async fn record(db: &Database, c: &Checkin) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE host SET last_checked_in = $1, user_active = COALESCE($2, user_active) WHERE id = $3")
        .bind(c.at)
        .bind(c.user_active)
        .bind(c.host)
        .execute(&mut *tx)
        .await?;
    for (hc, up2date, stale) in &c.states {
        set_state(&mut tx, *hc, up2date, stale, c.at).await?;
    }
    tx.commit().await?;
    Ok(())
}
