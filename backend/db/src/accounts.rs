//! Accounts, group memberships, signed-in sessions and API tokens (migration 0004).
//!
//! Tokens (session cookies, API tokens) are stored as their SHA-256 in hex: the caller hashes what it was
//! given and looks that up, so a copy of the database signs nobody in.

use crate::{Connection, DbError, Flag};

/// An account as the web service needs it to decide what its holder may do.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// argon2id PHC string; `None` for accounts that sign in only through OpenID Connect.
    pub password_hash: Option<String>,
    pub disabled: Flag,
    pub created_at: i64,
}

const ACCOUNT_COLUMNS: &str = "id, name, email, password_hash, disabled, created_at";

/// Creates a local account; `Ok(None)` when the name is taken.
pub async fn create(
    conn: &mut Connection,
    name: &str,
    email: &str,
    password_hash: Option<&str>,
    now: i64,
) -> Result<Option<i64>, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO account (name, email, password_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(name)
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// The account named `name`.
pub async fn by_name(conn: &mut Connection, name: &str) -> Result<Option<AccountRow>, DbError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE name = $1");
    Ok(sqlx::query_as(&sql).bind(name).fetch_optional(conn).await?)
}

/// Every account, by name.
pub async fn all(conn: &mut Connection) -> Result<Vec<AccountRow>, DbError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM account ORDER BY name");
    Ok(sqlx::query_as(&sql).fetch_all(conn).await?)
}

/// Replaces an account's password hash and signs it out everywhere (a reset must end a thief's session).
pub async fn set_password(conn: &mut Connection, account: i64, password_hash: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE account SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(account)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM login_session WHERE account_id = $1")
        .bind(account)
        .execute(conn)
        .await?;
    Ok(())
}

/// The groups an account is in, sorted.
pub async fn groups(conn: &mut Connection, account: i64) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT group_name FROM account_group WHERE account_id = $1 ORDER BY group_name")
            .bind(account)
            .fetch_all(conn)
            .await?,
    )
}

/// Puts an account in a group (no-op when it is in it).
pub async fn add_group(conn: &mut Connection, account: i64, group: &str) -> Result<(), DbError> {
    sqlx::query("INSERT INTO account_group (account_id, group_name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(account)
        .bind(group)
        .execute(conn)
        .await?;
    Ok(())
}

/// A signed-in session's account and the CSRF token its forms carry.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionRow {
    pub account_id: i64,
    pub name: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// Stores a new session.
pub async fn create_session(
    conn: &mut Connection,
    token_sha256: &str,
    account: i64,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    // Expired sessions are removed as new ones are made: no separate job to forget.
    sqlx::query("DELETE FROM login_session WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO login_session (token_sha256, account_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_sha256)
    .bind(account)
    .bind(csrf)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The live session whose token hashes to `token_sha256`, of an account that is not disabled.
pub async fn session(conn: &mut Connection, token_sha256: &str, now: i64) -> Result<Option<SessionRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT s.account_id, a.name, s.csrf, s.expires_at FROM login_session s JOIN account a ON a.id = s.account_id \
         WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND NOT a.disabled",
    )
    .bind(token_sha256)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// Ends a session.
pub async fn delete_session(conn: &mut Connection, token_sha256: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_session WHERE token_sha256 = $1")
        .bind(token_sha256)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a new API token.
pub async fn create_token(
    conn: &mut Connection,
    token_sha256: &str,
    account: i64,
    label: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO api_token (token_sha256, account_id, label, created_at) VALUES ($1, $2, $3, $4)")
        .bind(token_sha256)
        .bind(account)
        .bind(label)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The (enabled) account an API token belongs to.
pub async fn token_account(conn: &mut Connection, token_sha256: &str) -> Result<Option<AccountRow>, DbError> {
    let sql = format!(
        "SELECT {} FROM account a JOIN api_token t ON t.account_id = a.id WHERE t.token_sha256 = $1 AND NOT a.disabled",
        ACCOUNT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(sqlx::query_as(&sql).bind(token_sha256).fetch_optional(conn).await?)
}

/// The names of the sites `user` administers, with their ids, by name.
pub async fn sites_of(conn: &mut Connection, user: &str) -> Result<Vec<(i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.name FROM site s JOIN site_admin a ON a.site_id = s.id WHERE a.username = $1 ORDER BY s.name",
    )
    .bind(user)
    .fetch_all(conn)
    .await?)
}
