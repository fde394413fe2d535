//! What the crawlers read and write: which hosts to crawl and with which URLs, leases that keep two crawler
//! processes off the same host, each crawl's results (host bookkeeping, per-directory state, the repomd.xml
//! versions seen), the per-host crawl logs, and the propagation statistics counted from those observations.

use crate::sets::{self, SetRow};
use crate::{Connection, Database, DbError, DirectorySet, Engine, Flag};

/// A host a crawl may take: the host's own flags and crawl bookkeeping, its site's folded in.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CrawlHostRow {
    pub id: i64,
    pub name: String,
    pub site: String,
    /// Host user flag (the crawler's auto-disable clears it).
    pub user_active: Flag,
    /// Host and site admin flags and the site's user flag.
    pub admin_active: Flag,
    /// Host or site private.
    pub private: Flag,
    pub crawl_failures: i64,
    pub disable_reason: String,
    pub last_crawl_duration: i64,
}

/// A host category to crawl, with its category and current directory state.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CrawlHostCategoryRow {
    pub id: i64,
    pub host_id: i64,
    pub category_id: i64,
    pub category: String,
    pub topdir: String,
    pub always_up2date: Flag,
    pub up2date_set_id: Option<i64>,
    pub stale_set_id: Option<i64>,
}

/// A URL of a host category, private ones included (a crawler may use a mirror's rsync URL for downstream
/// mirrors; answers never list it).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CrawlUrlRow {
    pub host_category_id: i64,
    pub url: String,
}

/// Which hosts a crawl considers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFilter {
    /// Only hosts carrying one of these categories (by name); empty: any.
    pub categories: Vec<String>,
    /// Only these hosts (by name); empty: any.
    pub hosts: Vec<String>,
    /// Also hosts whose user flag is off (the crawler's auto-disable turns it off; a success turns it back on).
    pub include_disabled: bool,
    /// Also private hosts (they normally check in instead of being crawled).
    pub include_private: bool,
}

/// The hosts a crawl considers, slowest last crawl first (MirrorManager's order: the long crawls start early).
pub async fn hosts(conn: &mut Connection, filter: &HostFilter) -> Result<Vec<CrawlHostRow>, DbError> {
    let rows: Vec<CrawlHostRow> = sqlx::query_as(
        "SELECT h.id, h.name, s.name AS site, h.user_active, \
           (h.admin_active AND s.admin_active AND s.user_active) AS admin_active, (h.private OR s.private) AS private, \
           h.crawl_failures, h.disable_reason, h.last_crawl_duration \
         FROM host h JOIN site s ON s.id = h.site_id ORDER BY h.last_crawl_duration DESC, h.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut carrying: Option<std::collections::HashSet<i64>> = None;
    if !filter.categories.is_empty() {
        let mut ids = std::collections::HashSet::new();
        for hc in host_categories(conn, None).await? {
            if filter.categories.contains(&hc.category) {
                ids.insert(hc.host_id);
            }
        }
        carrying = Some(ids);
    }
    Ok(rows
        .into_iter()
        .filter(|h| bool::from(h.admin_active))
        .filter(|h| filter.include_disabled || bool::from(h.user_active))
        .filter(|h| filter.include_private || !bool::from(h.private))
        .filter(|h| filter.hosts.is_empty() || filter.hosts.contains(&h.name))
        .filter(|h| carrying.as_ref().is_none_or(|ids| ids.contains(&h.id)))
        .collect())
}

/// A host's categories (all hosts' with `None`), with their categories' names and top directories.
pub async fn host_categories(conn: &mut Connection, host: Option<i64>) -> Result<Vec<CrawlHostCategoryRow>, DbError> {
    let sql = "SELECT hc.id, hc.host_id, hc.category_id, c.name AS category, c.topdir, hc.always_up2date, \
               hc.up2date_set_id, hc.stale_set_id FROM host_category hc JOIN category c ON c.id = hc.category_id";
    Ok(match host {
        Some(h) => {
            sqlx::query_as(&format!("{sql} WHERE hc.host_id = $1 ORDER BY hc.id"))
                .bind(h)
                .fetch_all(conn)
                .await?
        }
        None => sqlx::query_as(&format!("{sql} ORDER BY hc.id")).fetch_all(conn).await?,
    })
}

/// The URLs of a host's categories, in the order they were added.
pub async fn urls(conn: &mut Connection, host: i64) -> Result<Vec<CrawlUrlRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT u.host_category_id, u.url FROM host_category_url u \
         JOIN host_category hc ON hc.id = u.host_category_id WHERE hc.host_id = $1 ORDER BY u.id",
    )
    .bind(host)
    .fetch_all(conn)
    .await?)
}

/// A directory set by id; the empty set for `None`.
pub async fn directory_set(conn: &mut Connection, id: Option<i64>) -> Result<DirectorySet, DbError> {
    let Some(id) = id else {
        return Ok(DirectorySet::new());
    };
    let row: Option<SetRow> = sqlx::query_as("SELECT id, members FROM directory_set WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map_or(Ok(DirectorySet::new()), |r| r.decode())
}

/// Takes the lease on the first host of `candidates` (in the order given) that nobody holds a live lease on and
/// that has not been crawled after the second `not_crawled_since` (a crawler process started then skips hosts
/// another process crawled meanwhile; one crawled within that very second is crawled again, harmlessly, rather
/// than skipped by a run that starts right after another); returns its id. On PostgreSQL the host rows are taken
/// `FOR UPDATE SKIP LOCKED`, so crawler processes on several machines claim different hosts without waiting for
/// each other; an expired lease (its crawler died) is taken over.
pub async fn claim_host(
    db: &Database,
    candidates: &[i64],
    owner: &str,
    now: i64,
    lease_until: i64,
    not_crawled_since: i64,
) -> Result<Option<i64>, DbError> {
    if candidates.is_empty() {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    // Our own integers, inlined: the Any driver binds no arrays.
    let list = candidates.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let lock = if db.engine() == Engine::Postgres {
        " FOR UPDATE OF h SKIP LOCKED"
    } else {
        ""
    };
    let free: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT h.id FROM host h WHERE h.id IN ({list}) \
           AND (h.last_crawled IS NULL OR h.last_crawled <= $1) \
           AND NOT EXISTS (SELECT 1 FROM crawl_lease l WHERE l.host_id = h.id AND l.expires_at >= $2){lock}"
    ))
    .bind(not_crawled_since)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let Some(&host) = candidates.iter().find(|c| free.contains(c)) else {
        tx.rollback().await?;
        return Ok(None);
    };
    let taken = sqlx::query(
        "INSERT INTO crawl_lease (host_id, owner, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (host_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
         WHERE crawl_lease.expires_at < $4",
    )
    .bind(host)
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok((taken == 1).then_some(host))
}

/// Gives a lease back (the host is done).
pub async fn release_lease(db: &Database, host: i64, owner: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM crawl_lease WHERE host_id = $1 AND owner = $2")
        .bind(host)
        .bind(owner)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// What a crawl found out about a host, written in one transaction by [`record`].
#[derive(Debug, Clone, PartialEq)]
pub struct HostCrawl {
    pub host: i64,
    /// When the crawl finished.
    pub finished_at: i64,
    /// Seconds it took; `None` leaves the stored duration (an unknown outcome).
    pub duration: Option<i64>,
    /// The new consecutive-failure count; `None` leaves it.
    pub crawl_failures: Option<i64>,
    /// New user flag and disable reason; `None` leaves them.
    pub user_active: Option<(bool, String)>,
    /// Whether the host answered over IPv4 / IPv6; `None` leaves what is stored.
    pub ipv4_reachable: Option<bool>,
    pub ipv6_reachable: Option<bool>,
    /// New directory state per host category: (host category, up to date, stale).
    pub states: Vec<(i64, DirectorySet, DirectorySet)>,
    /// repomd.xml seen: (directory, the timestamp of the version it matched, or `None` for an unknown one).
    pub observations: Vec<(i64, Option<i64>)>,
    /// The crawl log.
    pub log: CrawlLog,
}

/// One crawl of one host, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CrawlLog {
    pub crawler: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// `success`, `failure`, `timeout`, `unknown`.
    pub outcome: String,
    pub requests: i64,
    pub text: String,
}

/// How many logs are kept per host.
pub const LOGS_KEPT: i64 = 20;

/// Writes a host's crawl results in one transaction.
pub async fn record(db: &Database, c: &HostCrawl) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE host SET last_crawled = $1, last_crawl_duration = COALESCE($2, last_crawl_duration), \
           crawl_failures = COALESCE($3, crawl_failures), user_active = COALESCE($4, user_active), \
           disable_reason = COALESCE($5, disable_reason), ipv4_reachable = COALESCE($6, ipv4_reachable), \
           ipv6_reachable = COALESCE($7, ipv6_reachable) WHERE id = $8",
    )
    .bind(c.finished_at)
    .bind(c.duration)
    .bind(c.crawl_failures)
    .bind(c.user_active.as_ref().map(|u| u.0))
    .bind(c.user_active.as_ref().map(|u| u.1.clone()))
    .bind(c.ipv4_reachable)
    .bind(c.ipv6_reachable)
    .bind(c.host)
    .execute(&mut *tx)
    .await?;
    for (hc, up2date, stale) in &c.states {
        set_state(&mut tx, *hc, up2date, stale, c.finished_at).await?;
    }
    for &(directory, matched) in &c.observations {
        sqlx::query(
            "INSERT INTO repomd_observation (host_id, directory_id, observed_at, matched_timestamp) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (host_id, directory_id) DO UPDATE SET \
             observed_at = excluded.observed_at, matched_timestamp = excluded.matched_timestamp",
        )
        .bind(c.host)
        .bind(directory)
        .bind(c.finished_at)
        .bind(matched)
        .execute(&mut *tx)
        .await?;
    }
    insert_log(&mut tx, c.host, &c.log).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a host category's directory state (each set stored once, shared).
pub async fn set_state(
    conn: &mut Connection,
    host_category: i64,
    up2date: &DirectorySet,
    stale: &DirectorySet,
    checked_at: i64,
) -> Result<(), DbError> {
    let up2date = sets::intern(conn, up2date).await?;
    let stale = sets::intern(conn, stale).await?;
    sqlx::query("UPDATE host_category SET up2date_set_id = $1, stale_set_id = $2, checked_at = $3 WHERE id = $4")
        .bind(up2date)
        .bind(stale)
        .bind(checked_at)
        .bind(host_category)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks every directory a host carries as not up to date (a crawl that timed out).
pub async fn mark_all_stale(conn: &mut Connection, host: i64, at: i64) -> Result<(), DbError> {
    for hc in host_categories(conn, Some(host)).await? {
        let mut carried: Vec<i64> = directory_set(conn, hc.up2date_set_id).await?.iter().collect();
        carried.extend(directory_set(conn, hc.stale_set_id).await?.iter());
        set_state(conn, hc.id, &DirectorySet::new(), &carried.into_iter().collect(), at).await?;
    }
    Ok(())
}

async fn insert_log(conn: &mut Connection, host: i64, log: &CrawlLog) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO crawl_log (host_id, crawler, started_at, finished_at, outcome, requests, text) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(host)
    .bind(&log.crawler)
    .bind(log.started_at)
    .bind(log.finished_at)
    .bind(&log.outcome)
    .bind(log.requests)
    .bind(&log.text)
    .execute(&mut *conn)
    .await?;
    // Only the newest logs of a host are kept.
    sqlx::query(
        "DELETE FROM crawl_log WHERE host_id = $1 AND id NOT IN \
         (SELECT id FROM crawl_log WHERE host_id = $1 ORDER BY id DESC LIMIT $2)",
    )
    .bind(host)
    .bind(LOGS_KEPT)
    .execute(conn)
    .await?;
    Ok(())
}

/// A host's crawl logs, newest first.
pub async fn logs(conn: &mut Connection, host: i64, limit: i64) -> Result<Vec<CrawlLog>, DbError> {
    Ok(sqlx::query_as(
        "SELECT crawler, started_at, finished_at, outcome, requests, text FROM crawl_log \
         WHERE host_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(host)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A host's id by name (the first, by id, when sites share a host name) or by its id written as a number.
pub async fn host_id(conn: &mut Connection, name_or_id: &str) -> Result<Option<i64>, DbError> {
    if let Ok(id) = name_or_id.parse::<i64>() {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM host WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(
        sqlx::query_scalar("SELECT id FROM host WHERE name = $1 ORDER BY id LIMIT 1")
            .bind(name_or_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// A repository whose propagation is followed: of a current version, with a `repodata` directory.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FollowedRepositoryRow {
    pub id: i64,
    pub prefix: String,
    pub arch: String,
    pub category_id: i64,
    /// The repository's `repodata` directory.
    pub repodata_id: i64,
}

/// The repositories of current versions that have a `repodata` directory.
pub async fn followed_repositories(conn: &mut Connection) -> Result<Vec<FollowedRepositoryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.prefix, a.name AS arch, r.category_id, rd.id AS repodata_id FROM repository r \
         JOIN version v ON v.id = r.version_id JOIN arch a ON a.id = r.arch_id \
         JOIN directory d ON d.id = r.directory_id JOIN directory rd ON rd.name = d.name || '/repodata' \
         WHERE v.current AND r.prefix IS NOT NULL ORDER BY r.id",
    )
    .fetch_all(conn)
    .await?)
}

/// The public hosts in service (host and site active, neither private) carrying a category: those whose
/// repomd.xml a propagation statistic counts.
pub async fn serving_hosts_of_category(conn: &mut Connection, category: i64) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT h.id FROM host h JOIN site s ON s.id = h.site_id JOIN host_category hc ON hc.host_id = h.id \
         WHERE hc.category_id = $1 AND h.admin_active AND h.user_active AND s.admin_active AND s.user_active \
           AND NOT h.private AND NOT s.private ORDER BY h.id",
    )
    .bind(category)
    .fetch_all(conn)
    .await?)
}

/// What the last crawls saw in a directory, per host.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ObservationRow {
    pub host_id: i64,
    pub observed_at: i64,
    pub matched_timestamp: Option<i64>,
}

/// The observations of `directory` made at or after `since`.
pub async fn observations(conn: &mut Connection, directory: i64, since: i64) -> Result<Vec<ObservationRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT host_id, observed_at, matched_timestamp FROM repomd_observation \
         WHERE directory_id = $1 AND observed_at >= $2 ORDER BY host_id",
    )
    .bind(directory)
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// One row of propagation statistics: how many mirrors serve a repository's newest repomd.xml, the ones of a
/// day, two days before, older ones, or could not be read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PropagationRow {
    pub repository_id: i64,
    pub datetime: i64,
    pub same_day: i64,
    pub one_day: i64,
    pub two_day: i64,
    pub older: i64,
    pub no_info: i64,
}

/// Stores a propagation row (replacing one of the same repository and time).
pub async fn insert_propagation(conn: &mut Connection, p: &PropagationRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO propagation_stat (repository_id, datetime, same_day, one_day, two_day, older, no_info) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (repository_id, datetime) DO UPDATE SET \
         same_day = excluded.same_day, one_day = excluded.one_day, two_day = excluded.two_day, \
         older = excluded.older, no_info = excluded.no_info",
    )
    .bind(p.repository_id)
    .bind(p.datetime)
    .bind(p.same_day)
    .bind(p.one_day)
    .bind(p.two_day)
    .bind(p.older)
    .bind(p.no_info)
    .execute(conn)
    .await?;
    Ok(())
}

/// The propagation rows of a repository, newest first.
pub async fn propagation(conn: &mut Connection, repository: i64, limit: i64) -> Result<Vec<PropagationRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT repository_id, datetime, same_day, one_day, two_day, older, no_info FROM propagation_stat \
         WHERE repository_id = $1 ORDER BY datetime DESC LIMIT $2",
    )
    .bind(repository)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}
