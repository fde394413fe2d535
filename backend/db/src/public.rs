//! What the public pages read: the mirror list's candidates, the repositories a product/version/arch selects,
//! the admins of a host or site, the repositories' names.

use crate::{Connection, DbError, Flag};

/// One host category of a public, active host (site and host both public and active; category and product on
/// the public list), with what decides whether it is listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ListedHostCategoryRow {
    pub host_id: i64,
    pub site: String,
    pub org_url: String,
    pub host: String,
    pub country: String,
    pub bandwidth_int: i64,
    pub host_category_id: i64,
    pub category: String,
    pub product: String,
    pub always_up2date: Flag,
    pub up2date_set_id: Option<i64>,
    pub ipv4_reachable: Option<Flag>,
    pub ipv6_reachable: Option<Flag>,
}

/// The candidates for the public mirror list, of one product or all, ordered by country and host name.
pub async fn listed_host_categories(
    conn: &mut Connection,
    product: Option<&str>,
) -> Result<Vec<ListedHostCategoryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT h.id AS host_id, s.name AS site, s.org_url, h.name AS host, h.country, h.bandwidth_int, \
                hc.id AS host_category_id, c.name AS category, p.name AS product, hc.always_up2date, hc.up2date_set_id, \
                h.ipv4_reachable, h.ipv6_reachable \
         FROM host h JOIN site s ON s.id = h.site_id JOIN host_category hc ON hc.host_id = h.id \
              JOIN category c ON c.id = hc.category_id JOIN product p ON p.id = c.product_id \
         WHERE NOT h.private AND NOT s.private AND h.admin_active AND h.user_active AND s.admin_active \
               AND s.user_active AND c.publiclist AND p.publiclist AND ($1 IS NULL OR p.name = $1) \
         ORDER BY h.country, h.name, c.name",
    )
    .bind(product)
    .fetch_all(conn)
    .await?)
}

/// The public (not private) URLs of every host category: (host category id, URL), in id order.
pub async fn public_urls(conn: &mut Connection) -> Result<Vec<(i64, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT host_category_id, url FROM host_category_url WHERE NOT private ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

/// The directories of the enabled repositories of a product, narrowed to a version and an arch when given.
pub async fn repository_directories(
    conn: &mut Connection,
    product: &str,
    version: Option<&str>,
    arch: Option<&str>,
) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT r.directory_id FROM repository r JOIN version v ON v.id = r.version_id \
              JOIN product p ON p.id = v.product_id JOIN arch a ON a.id = r.arch_id \
         WHERE p.name = $1 AND ($2 IS NULL OR v.name = $2) AND ($3 IS NULL OR a.name = $3) \
               AND r.directory_id IS NOT NULL AND NOT r.disabled \
         ORDER BY r.directory_id",
    )
    .bind(product)
    .bind(version)
    .bind(arch)
    .fetch_all(conn)
    .await?)
}

/// The versions of a product offered on the public list (display set), in sort order, newest first.
pub async fn listed_versions(conn: &mut Connection, product: &str) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT v.name FROM version v JOIN product p ON p.id = v.product_id WHERE p.name = $1 AND v.display \
         ORDER BY v.sortorder DESC, v.id DESC",
    )
    .bind(product)
    .fetch_all(conn)
    .await?)
}

/// The arches offered on the public list, by name.
pub async fn listed_arches(conn: &mut Connection) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT name FROM arch WHERE publiclist ORDER BY name")
            .fetch_all(conn)
            .await?,
    )
}

/// The products offered on the public list, by name.
pub async fn listed_products(conn: &mut Connection) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT name FROM product WHERE publiclist ORDER BY name")
            .fetch_all(conn)
            .await?,
    )
}

/// The admins of the site named `name`, or of the site of the host named `name` (MirrorManager's
/// `/api/mirroradmins?name=`); `None` when neither exists.
pub async fn mirror_admins(conn: &mut Connection, name: &str) -> Result<Option<Vec<String>>, DbError> {
    let site: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM site WHERE name = $1 UNION SELECT site_id FROM host WHERE name = $1 ORDER BY 1 LIMIT 1",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(site) = site else { return Ok(None) };
    Ok(Some(
        sqlx::query_scalar("SELECT username FROM site_admin WHERE site_id = $1 ORDER BY username")
            .bind(site)
            .fetch_all(conn)
            .await?,
    ))
}

/// Every site admin's name, once.
pub async fn all_mirror_admins(conn: &mut Connection) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT DISTINCT username FROM site_admin ORDER BY username")
            .fetch_all(conn)
            .await?,
    )
}

/// A repository as `/api/repositories` lists it: its prefix, name and directory.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryListRow {
    pub prefix: Option<String>,
    pub name: String,
    pub directory: Option<String>,
}

/// Every repository, by prefix.
pub async fn repositories(conn: &mut Connection) -> Result<Vec<RepositoryListRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.prefix, r.name, d.name AS directory FROM repository r LEFT JOIN directory d ON d.id = r.directory_id \
         ORDER BY r.prefix, r.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Directories of `categories` (names) changed after `since` (seconds), for `/rsyncFilter`: (topdir, name).
pub async fn changed_directories(
    conn: &mut Connection,
    categories: &[String],
    since: i64,
) -> Result<Vec<(String, String)>, DbError> {
    let mut out = Vec::new();
    for category in categories {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.topdir, d.name FROM directory d JOIN category c ON c.id = d.category_id \
             WHERE c.name = $1 AND d.ctime > $2 ORDER BY d.name",
        )
        .bind(category)
        .bind(since)
        .fetch_all(&mut *conn)
        .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// A repository with propagation statistics, and its newest row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PropagatedRow {
    pub id: i64,
    pub prefix: Option<String>,
    pub arch: String,
    pub datetime: i64,
    pub same_day: i64,
    pub one_day: i64,
    pub two_day: i64,
    pub older: i64,
    pub no_info: i64,
}

/// The repositories that have propagation statistics, with the newest row of each, by prefix and arch.
pub async fn propagated_repositories(conn: &mut Connection) -> Result<Vec<PropagatedRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.prefix, a.name AS arch, p.datetime, p.same_day, p.one_day, p.two_day, p.older, p.no_info \
         FROM repository r JOIN arch a ON a.id = r.arch_id JOIN propagation_stat p ON p.repository_id = r.id \
         WHERE p.datetime = (SELECT MAX(datetime) FROM propagation_stat q WHERE q.repository_id = r.id) \
         ORDER BY r.prefix, a.name",
    )
    .fetch_all(conn)
    .await?)
}

/// A repository's prefix and arch, by id.
pub async fn repository_label(conn: &mut Connection, id: i64) -> Result<Option<(Option<String>, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT r.prefix, a.name FROM repository r JOIN arch a ON a.id = r.arch_id WHERE r.id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Hosts to place on the map: those without coordinates, or all.
pub async fn hosts_to_locate(conn: &mut Connection, all: bool) -> Result<Vec<(i64, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name FROM host WHERE $1 OR latitude IS NULL OR longitude IS NULL ORDER BY id")
            .bind(all)
            .fetch_all(conn)
            .await?,
    )
}

/// Sets a host's coordinates.
pub async fn set_location(conn: &mut Connection, host: i64, latitude: f64, longitude: f64) -> Result<(), DbError> {
    sqlx::query("UPDATE host SET latitude = $1, longitude = $2 WHERE id = $3")
        .bind(latitude)
        .bind(longitude)
        .bind(host)
        .execute(conn)
        .await?;
    Ok(())
}

/// A public, active host with coordinates, for the map.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LocatedHostRow {
    pub name: String,
    pub site: String,
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// The public, active hosts that have coordinates, by name.
pub async fn located_hosts(conn: &mut Connection) -> Result<Vec<LocatedHostRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT h.name, s.name AS site, h.country, h.latitude, h.longitude FROM host h JOIN site s ON s.id = h.site_id \
         WHERE NOT h.private AND NOT s.private AND h.admin_active AND h.user_active AND s.admin_active AND s.user_active \
               AND h.latitude IS NOT NULL AND h.longitude IS NOT NULL ORDER BY h.name",
    )
    .fetch_all(conn)
    .await?)
}

/// Hosts by state, for `/metrics`: serving (public, active), auto-disabled by the crawler, failing their last
/// crawls, private, all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct HostStatesRow {
    pub serving: i64,
    pub auto_disabled: i64,
    pub failing: i64,
    pub private: i64,
    pub total: i64,
}

pub async fn host_states(conn: &mut Connection) -> Result<HostStatesRow, DbError> {
    Ok(sqlx::query_as(
        "SELECT \
           CAST(COALESCE(SUM(CASE WHEN NOT h.private AND NOT s.private AND h.admin_active AND h.user_active \
                AND s.admin_active AND s.user_active THEN 1 ELSE 0 END), 0) AS BIGINT) AS serving, \
           CAST(COALESCE(SUM(CASE WHEN NOT h.user_active AND h.disable_reason <> '' THEN 1 ELSE 0 END), 0) AS BIGINT) AS auto_disabled, \
           CAST(COALESCE(SUM(CASE WHEN h.crawl_failures > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS failing, \
           CAST(COALESCE(SUM(CASE WHEN h.private OR s.private THEN 1 ELSE 0 END), 0) AS BIGINT) AS private, \
           CAST(COUNT(*) AS BIGINT) AS total \
         FROM host h JOIN site s ON s.id = h.site_id",
    )
    .fetch_one(conn)
    .await?)
}
