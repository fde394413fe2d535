//! The mirror side: sites, their admins, hosts, and what hangs off a host (netblocks, peer ASNs, countries
//! allowed, host categories and their URLs). Rows come in id order, so whoever lists them follows the order
//! things were added.

use sqlx::AnyConnection;

use crate::{DbError, Flag};

/// A `site` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SiteRow {
    pub id: i64,
    pub name: String,
    /// argon2id PHC string; `None` when no check-in password is set.
    pub password_hash: Option<String>,
    pub org_url: String,
    pub private: Flag,
    pub admin_active: Flag,
    pub user_active: Flag,
}

/// A `site_admin` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SiteAdminRow {
    pub site_id: i64,
    pub username: String,
}

/// A `host` row: what an operator sets (the crawler's bookkeeping columns are the crawler's queries').
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HostRow {
    pub id: i64,
    pub site_id: i64,
    pub name: String,
    pub robot_email: String,
    pub comment: String,
    pub admin_active: Flag,
    pub user_active: Flag,
    pub country: String,
    pub bandwidth_int: i64,
    pub max_connections: i64,
    pub private: Flag,
    pub asn: Option<i64>,
    pub asn_clients: Flag,
}

/// A host as the snapshot builder sees it: the site's flags folded in.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ServingHostRow {
    pub id: i64,
    pub name: String,
    pub country: String,
    pub bandwidth_int: i64,
    /// Host or site private.
    pub private: Flag,
    /// Host and site, admin and user flags all set.
    pub active: Flag,
    pub asn: Option<i64>,
    pub asn_clients: Flag,
    pub ipv4_reachable: Option<Flag>,
    pub ipv6_reachable: Option<Flag>,
}

/// A `host_netblock` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NetblockRow {
    pub host_id: i64,
    pub netblock: String,
    pub name: String,
}

/// A `host_peer_asn` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PeerAsnRow {
    pub host_id: i64,
    pub asn: i64,
}

/// A `host_country_allowed` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AllowedCountryRow {
    pub host_id: i64,
    pub country: String,
}

/// A `host_category` row with its category's name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HostCategoryRow {
    pub id: i64,
    pub host_id: i64,
    pub category_id: i64,
    pub category: String,
    pub always_up2date: Flag,
    pub up2date_set_id: Option<i64>,
    pub stale_set_id: Option<i64>,
}

/// A `host_category_url` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UrlRow {
    pub host_category_id: i64,
    pub url: String,
    pub private: Flag,
}

/// Every site.
pub async fn sites(conn: &mut AnyConnection) -> Result<Vec<SiteRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, password_hash, org_url, private, admin_active, user_active FROM site ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
}

/// Every site admin.
pub async fn site_admins(conn: &mut AnyConnection) -> Result<Vec<SiteAdminRow>, DbError> {
    Ok(sqlx::query_as("SELECT site_id, username FROM site_admin ORDER BY id")
        .fetch_all(conn)
        .await?)
}

/// Every host.
pub async fn hosts(conn: &mut AnyConnection) -> Result<Vec<HostRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, site_id, name, robot_email, comment, admin_active, user_active, country, bandwidth_int, \
         max_connections, private, asn, asn_clients FROM host ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
}

/// Every host with its site's flags folded in.
pub async fn serving_hosts(conn: &mut AnyConnection) -> Result<Vec<ServingHostRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT h.id, h.name, h.country, h.bandwidth_int, (h.private OR s.private) AS private, \
           (h.admin_active AND h.user_active AND s.admin_active AND s.user_active) AS active, h.asn, h.asn_clients, \
           h.ipv4_reachable, h.ipv6_reachable \
         FROM host h JOIN site s ON s.id = h.site_id ORDER BY h.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Every host netblock, in the order they were added (the order a netblock's hosts are considered in).
pub async fn netblocks(conn: &mut AnyConnection) -> Result<Vec<NetblockRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT host_id, netblock, name FROM host_netblock ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

/// Every peer ASN.
pub async fn peer_asns(conn: &mut AnyConnection) -> Result<Vec<PeerAsnRow>, DbError> {
    Ok(sqlx::query_as("SELECT host_id, asn FROM host_peer_asn ORDER BY id")
        .fetch_all(conn)
        .await?)
}

/// Every country a host is restricted to.
pub async fn allowed_countries(conn: &mut AnyConnection) -> Result<Vec<AllowedCountryRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT host_id, country FROM host_country_allowed ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

/// Every host category.
pub async fn host_categories(conn: &mut AnyConnection) -> Result<Vec<HostCategoryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT hc.id, hc.host_id, hc.category_id, c.name AS category, hc.always_up2date, hc.up2date_set_id, \
         hc.stale_set_id FROM host_category hc JOIN category c ON c.id = hc.category_id ORDER BY hc.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Every host category URL, grouped by host category, in the order they were added within it.
pub async fn urls(conn: &mut AnyConnection) -> Result<Vec<UrlRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT host_category_id, url, private FROM host_category_url ORDER BY host_category_id, id")
            .fetch_all(conn)
            .await?,
    )
}

/// Hosts plus directories: zero on a database nothing has been imported into.
pub async fn count_hosts_and_directories(conn: &mut AnyConnection) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM host) + (SELECT COUNT(*) FROM directory)")
            .fetch_one(conn)
            .await?,
    )
}

/// Rows of every inventory table (products, categories, sites, hosts, directories): zero on a fresh database.
pub async fn count_inventory(conn: &mut AnyConnection) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM host) + (SELECT COUNT(*) FROM directory) + (SELECT COUNT(*) FROM category) \
         + (SELECT COUNT(*) FROM product) + (SELECT COUNT(*) FROM site)",
    )
    .fetch_one(conn)
    .await?)
}

/// Whether a host answers over IPv4 and over IPv6, as the last crawl found (`None`: not measured).
pub async fn reachability(conn: &mut AnyConnection, host: i64) -> Result<(Option<Flag>, Option<Flag>), DbError> {
    Ok(
        sqlx::query_as("SELECT ipv4_reachable, ipv6_reachable FROM host WHERE id = $1")
            .bind(host)
            .fetch_optional(conn)
            .await?
            .unwrap_or((None, None)),
    )
}

/// The ids of the hosts of the site named `site`: all of them, or the one named `host`.
pub async fn host_ids(conn: &mut AnyConnection, site: &str, host: Option<&str>) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT h.id FROM host h JOIN site s ON s.id = h.site_id WHERE s.name = $1 AND ($2 IS NULL OR h.name = $2) \
         ORDER BY h.id",
    )
    .bind(site)
    .bind(host)
    .fetch_all(conn)
    .await?)
}

/// Where a host is, by id: (site id, site name, host name).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HostPlaceRow {
    pub id: i64,
    pub site_id: i64,
    pub site: String,
    pub host: String,
}

/// The host with this id.
pub async fn host_place(conn: &mut AnyConnection, id: i64) -> Result<Option<HostPlaceRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT h.id, h.site_id, s.name AS site, h.name AS host FROM host h JOIN site s ON s.id = h.site_id WHERE h.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The host named `host` of the site named `site`.
pub async fn host_place_by_name(
    conn: &mut AnyConnection,
    site: &str,
    host: &str,
) -> Result<Option<HostPlaceRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT h.id, h.site_id, s.name AS site, h.name AS host FROM host h JOIN site s ON s.id = h.site_id \
         WHERE s.name = $1 AND h.name = $2",
    )
    .bind(site)
    .bind(host)
    .fetch_optional(conn)
    .await?)
}

/// The name of the site with this id.
pub async fn site_name(conn: &mut AnyConnection, id: i64) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar("SELECT name FROM site WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The id of the site named `name`.
pub async fn site_id(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT id FROM site WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// Every host ACL IP: (host id, address), in id order.
pub async fn acl_ips(conn: &mut AnyConnection) -> Result<Vec<(i64, String)>, DbError> {
    Ok(sqlx::query_as("SELECT host_id, ip FROM host_acl_ip ORDER BY id")
        .fetch_all(conn)
        .await?)
}
