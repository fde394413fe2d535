//! Usage statistics (migration 0005): each access-log file's counts per day, and MirrorManager's `access_stat`
//! (per day, per kind: countries, archs, repositories) as their sum.

use crate::{Connection, DbError};

/// The kinds of count, as MirrorManager names its `access_stat_category` rows.
pub const KINDS: [&str; 3] = ["countries", "archs", "repositories"];

/// Replaces what `source` (a log file's identity) counted on `day` with `counts` (kind, name, requests), unless
/// what is stored counted more: a log only grows, so the copy with more requests of a day is the later one, and
/// ingesting an older rotated copy after a newer one must not lose lines. Returns whether it replaced.
pub async fn replace_source_day(
    conn: &mut Connection,
    source: &str,
    day: &str,
    counts: &[(&str, &str, i64)],
) -> Result<bool, DbError> {
    let stored: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(requests) AS BIGINT) FROM access_count WHERE source = $1 AND day = $2 AND kind = 'repositories'",
    )
    .bind(source)
    .bind(day)
    .fetch_one(&mut *conn)
    .await?;
    let given: i64 = counts.iter().filter(|c| c.0 == "repositories").map(|c| c.2).sum();
    if stored.is_some_and(|s| s > given) {
        return Ok(false);
    }
    sqlx::query("DELETE FROM access_count WHERE source = $1 AND day = $2")
        .bind(source)
        .bind(day)
        .execute(&mut *conn)
        .await?;
    for (kind, name, requests) in counts {
        sqlx::query("INSERT INTO access_count (source, day, kind, name, requests) VALUES ($1, $2, $3, $4, $5)")
            .bind(source)
            .bind(day)
            .bind(*kind)
            .bind(*name)
            .bind(*requests)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// Rebuilds `access_stat` for `day` from every source's counts: requests, and percent of the day's requests of
/// that kind.
pub async fn rebuild_day(conn: &mut Connection, day: &str) -> Result<(), DbError> {
    for kind in KINDS {
        sqlx::query("INSERT INTO access_stat_category (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(kind)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM access_stat WHERE date = $1")
        .bind(day)
        .execute(&mut *conn)
        .await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, name, CAST(SUM(requests) AS BIGINT) FROM access_count WHERE day = $1 GROUP BY kind, name ORDER BY kind, name",
    )
    .bind(day)
    .fetch_all(&mut *conn)
    .await?;
    for kind in KINDS {
        let total: i64 = rows.iter().filter(|r| r.0 == kind).map(|r| r.2).sum();
        for (_, name, requests) in rows.iter().filter(|r| r.0 == kind) {
            let percent = if total > 0 {
                *requests as f64 * 100.0 / total as f64
            } else {
                0.0
            };
            sqlx::query(
                "INSERT INTO access_stat (category_id, date, name, percent, requests) \
                 SELECT id, $2, $3, $4, $5 FROM access_stat_category WHERE name = $1",
            )
            .bind(kind)
            .bind(day)
            .bind(name)
            .bind(percent)
            .bind(*requests)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Forgets counts of days before `day` (MirrorManager's `mm2_expire-stats`, `ACCESS_STATS_KEEP_DAYS`).
pub async fn expire_before(conn: &mut Connection, day: &str) -> Result<u64, DbError> {
    sqlx::query("DELETE FROM access_count WHERE day < $1")
        .bind(day)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query("DELETE FROM access_stat WHERE date < $1")
        .bind(day)
        .execute(conn)
        .await?
        .rows_affected())
}

/// One row of a day's statistics.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StatRow {
    pub name: String,
    pub requests: i64,
    pub percent: f64,
}

/// A day's counts of one kind, most requests first.
pub async fn day(conn: &mut Connection, day: &str, kind: &str) -> Result<Vec<StatRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT s.name, s.requests, s.percent FROM access_stat s JOIN access_stat_category c ON c.id = s.category_id \
         WHERE s.date = $1 AND c.name = $2 ORDER BY s.requests DESC, s.name",
    )
    .bind(day)
    .bind(kind)
    .fetch_all(conn)
    .await?)
}

/// Requests per day (counted once, through the repositories kind), oldest first.
pub async fn daily_totals(conn: &mut Connection) -> Result<Vec<(String, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT s.date, CAST(SUM(s.requests) AS BIGINT) FROM access_stat s \
         JOIN access_stat_category c ON c.id = s.category_id WHERE c.name = 'repositories' GROUP BY s.date ORDER BY s.date",
    )
    .fetch_all(conn)
    .await?)
}
