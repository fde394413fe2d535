//! One scan per category at a time, on both engines: a row in `scan_lock` taken with one conditional upsert (it
//! succeeds only when the row is absent or expired), renewed while the scan runs and deleted when it ends. A
//! scanner that dies frees the category when its lease expires.

use crate::{Database, DbError};

/// Who holds a category's lock.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Holder {
    pub owner: String,
    /// When it was taken (Unix seconds).
    pub taken_at: i64,
}

/// Takes the lock of `category` for `owner` until `until`; `Err(holder)` when someone else holds a live one.
pub async fn take(
    db: &Database,
    category: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<Result<(), Holder>, DbError> {
    let taken = sqlx::query(
        "INSERT INTO scan_lock (category, owner, taken_at, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (category) DO UPDATE SET owner = excluded.owner, taken_at = excluded.taken_at, \
         expires_at = excluded.expires_at WHERE scan_lock.expires_at < $3",
    )
    .bind(category)
    .bind(owner)
    .bind(now)
    .bind(until)
    .execute(db.pool())
    .await?
    .rows_affected();
    if taken == 1 {
        return Ok(Ok(()));
    }
    let holder: Option<Holder> = sqlx::query_as("SELECT owner, taken_at FROM scan_lock WHERE category = $1")
        .bind(category)
        .fetch_optional(db.pool())
        .await?;
    // Released between the two statements: a caller may simply try again; saying "busy" is the safe answer.
    Ok(Err(holder.unwrap_or(Holder {
        owner: "another scan".into(),
        taken_at: now,
    })))
}

/// Extends `owner`'s lock; `false` if it is no longer theirs (it expired and was taken over).
pub async fn renew(db: &Database, category: &str, owner: &str, until: i64) -> Result<bool, DbError> {
    let n = sqlx::query("UPDATE scan_lock SET expires_at = $3 WHERE category = $1 AND owner = $2")
        .bind(category)
        .bind(owner)
        .bind(until)
        .execute(db.pool())
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Gives the lock back.
pub async fn release(db: &Database, category: &str, owner: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM scan_lock WHERE category = $1 AND owner = $2")
        .bind(category)
        .bind(owner)
        .execute(db.pool())
        .await?;
    Ok(())
}
