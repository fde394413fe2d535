//! The inventory's rows addressed by natural keys (names), not ids: what an inventory file, a `site`/`host`
//! command and (later) the admin UI change, through one write path.
//!
//! Every statement resolves the ids it needs inside itself (`WHERE site_id = (SELECT id FROM site WHERE name =
//! $1)`), so an apply runs in one transaction and an added parent is visible to its children's inserts. Updates
//! change a row in place (never delete + insert), which is what keeps the crawler's state on a host category.

use std::fmt::Write as _;

use sqlx::AnyConnection;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::DbError;

/// Natural key of one stored row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Product(String),
    Category(String),
    Arch(String),
    Site(String),
    SiteAdmin {
        site: String,
        user: String,
    },
    Host {
        site: String,
        host: String,
    },
    HostNetblock {
        site: String,
        host: String,
        netblock: String,
    },
    HostPeerAsn {
        site: String,
        host: String,
        asn: u32,
    },
    HostAllowedCountry {
        site: String,
        host: String,
        country: String,
    },
    HostCategory {
        site: String,
        host: String,
        category: String,
    },
    HostCategoryUrl {
        site: String,
        host: String,
        category: String,
        url: String,
    },
    HostAclIp {
        site: String,
        host: String,
        ip: String,
    },
    CountryContinent(String),
    NetblockCountry(String),
    Embargoed(String),
    /// A product's version, by product and name.
    Version {
        product: String,
        name: String,
    },
    /// A repository alias (`repo=from` answers as `repo=to`).
    RepositoryRedirect(String),
    /// A repository (by prefix and arch) that answers as if it did not exist.
    DisabledRepository {
        prefix: String,
        arch: String,
    },
}

/// How a change names its row in messages and dry runs: `site "X" / host "y"`.
impl Key {
    /// The site the row belongs to; `None` for network-wide data.
    pub fn site(&self) -> Option<&str> {
        match self {
            Key::Site(site)
            | Key::SiteAdmin { site, .. }
            | Key::Host { site, .. }
            | Key::HostNetblock { site, .. }
            | Key::HostPeerAsn { site, .. }
            | Key::HostAllowedCountry { site, .. }
            | Key::HostCategory { site, .. }
            | Key::HostCategoryUrl { site, .. }
            | Key::HostAclIp { site, .. } => Some(site),
            _ => None,
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Product(n) => write!(f, "product {n:?}"),
            Key::Category(n) => write!(f, "category {n:?}"),
            Key::Arch(n) => write!(f, "arch {n:?}"),
            Key::Site(s) => write!(f, "site {s:?}"),
            Key::SiteAdmin { site, user } => write!(f, "site {site:?} / admin {user:?}"),
            Key::Host { site, host } => write!(f, "site {site:?} / host {host:?}"),
            Key::HostNetblock { site, host, netblock } => {
                write!(f, "site {site:?} / host {host:?} / netblock {netblock:?}")
            }
            Key::HostPeerAsn { site, host, asn } => write!(f, "site {site:?} / host {host:?} / peer ASN {asn}"),
            Key::HostAllowedCountry { site, host, country } => {
                write!(f, "site {site:?} / host {host:?} / allowed country {country:?}")
            }
            Key::HostCategory { site, host, category } => {
                write!(f, "site {site:?} / host {host:?} / category {category:?}")
            }
            Key::HostCategoryUrl {
                site,
                host,
                category,
                url,
            } => {
                write!(f, "site {site:?} / host {host:?} / category {category:?} / url {url:?}")
            }
            Key::HostAclIp { site, host, ip } => write!(f, "site {site:?} / host {host:?} / ACL IP {ip:?}"),
            Key::Version { product, name } => write!(f, "version {product:?} {name:?}"),
            Key::RepositoryRedirect(from) => write!(f, "repository_redirect {from:?}"),
            Key::DisabledRepository { prefix, arch } => write!(f, "disabled repository {prefix:?} {arch:?}"),
            Key::CountryContinent(c) => write!(f, "country_continent {c:?}"),
            Key::NetblockCountry(n) => write!(f, "netblock_country {n:?}"),
            Key::Embargoed(c) => write!(f, "embargoed {c:?}"),
        }
    }
}

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
    OptText(Option<String>),
    OptInt(Option<i64>),
}

/// A row to add, with its parents named. Text columns that are optional in the inventory are stored as `""`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewRow<'a> {
    Product {
        name: &'a str,
        publiclist: bool,
    },
    Category {
        name: &'a str,
        product: &'a str,
        topdir: &'a str,
        publiclist: bool,
        admin_only: bool,
        /// One pattern per line.
        excludes: String,
    },
    Arch {
        name: &'a str,
        publiclist: bool,
        primary: bool,
    },
    Site {
        name: &'a str,
        password_hash: Option<String>,
        org_url: &'a str,
        private: bool,
        admin_active: bool,
        user_active: bool,
        created_at: i64,
        created_by: &'a str,
    },
    SiteAdmin {
        site: &'a str,
        user: &'a str,
    },
    Host {
        site: &'a str,
        name: &'a str,
        robot_email: &'a str,
        comment: &'a str,
        admin_active: bool,
        user_active: bool,
        country: &'a str,
        bandwidth: i64,
        max_connections: i64,
        private: bool,
        asn: Option<i64>,
        asn_clients: bool,
    },
    HostNetblock {
        site: &'a str,
        host: &'a str,
        netblock: &'a str,
        name: &'a str,
    },
    HostPeerAsn {
        site: &'a str,
        host: &'a str,
        asn: i64,
    },
    HostAllowedCountry {
        site: &'a str,
        host: &'a str,
        country: &'a str,
    },
    HostCategory {
        site: &'a str,
        host: &'a str,
        category: &'a str,
        always_up2date: bool,
    },
    HostCategoryUrl {
        site: &'a str,
        host: &'a str,
        category: &'a str,
        url: &'a str,
        private: bool,
    },
    CountryContinent {
        country: &'a str,
        continent: &'a str,
    },
    NetblockCountry {
        netblock: &'a str,
        country: &'a str,
    },
    Embargoed {
        country: &'a str,
    },
    HostAclIp {
        site: &'a str,
        host: &'a str,
        ip: &'a str,
    },
    Version {
        product: &'a str,
        name: &'a str,
        display_name: Option<&'a str>,
        codename: Option<&'a str>,
        sortorder: i64,
        display: bool,
        current: bool,
    },
    RepositoryRedirect {
        from: &'a str,
        to: &'a str,
    },
    /// Not a row of its own: sets the repository's `disabled` flag.
    DisabledRepository {
        prefix: &'a str,
        arch: &'a str,
    },
}

/// The columns [`update`] may set, per table. `category.product` is the product's *name*.
const UPDATABLE: &[(&str, &[&str])] = &[
    ("product", &["publiclist"]),
    (
        "category",
        &["product", "topdir", "publiclist", "admin_only", "excludes"],
    ),
    ("arch", &["publiclist", "primary_arch"]),
    (
        "site",
        &[
            "name",
            "org_url",
            "private",
            "admin_active",
            "user_active",
            "password_hash",
        ],
    ),
    (
        "host",
        &[
            "bandwidth_int",
            "country",
            "max_connections",
            "private",
            "admin_active",
            "user_active",
            "asn",
            "asn_clients",
            "comment",
            "robot_email",
        ],
    ),
    ("host_netblock", &["name"]),
    ("host_category", &["always_up2date"]),
    ("host_category_url", &["private"]),
    ("country_continent_redirect", &["continent"]),
    ("netblock_country", &["country"]),
    (
        "version",
        &["display_name", "codename", "sortorder", "display", "current"],
    ),
    ("repository_redirect", &["to_repo"]),
];

/// Adds a row; returns the rows written — 0 when a parent it names does not exist.
pub async fn insert(conn: &mut AnyConnection, row: &NewRow<'_>) -> Result<u64, DbError> {
    let (sql, params) = insert_sql(row);
    Ok(bind(sqlx::query(&sql), params).execute(conn).await?.rows_affected())
}

/// Sets `column` of the row `key` names to `value`; returns the rows changed (0: no such row). `column` must be
/// one the table allows ([`DbError::Unsupported`] otherwise).
pub async fn update(conn: &mut AnyConnection, key: &Key, column: &str, value: Param) -> Result<u64, DbError> {
    let (table, condition, mut params) = locate(key, 2);
    let allowed = UPDATABLE
        .iter()
        .find(|(t, _)| *t == table)
        .is_some_and(|(_, columns)| columns.contains(&column));
    if !allowed {
        return Err(DbError::Unsupported(format!("update of {table}.{column}")));
    }
    let set = if (table, column) == ("category", "product") {
        "product_id = (SELECT id FROM product WHERE name = $1)".to_owned()
    } else {
        format!("{column} = $1")
    };
    params.insert(0, value);
    let sql = format!("UPDATE {table} SET {set} WHERE {condition}");
    Ok(bind(sqlx::query(&sql), params).execute(conn).await?.rows_affected())
}

/// Deletes the row `key` names (and, by cascade, its children); returns the rows deleted. A disabled
/// repository is enabled again (the repository stays).
pub async fn delete(conn: &mut AnyConnection, key: &Key) -> Result<u64, DbError> {
    let (table, condition, params) = locate(key, 1);
    if let Key::DisabledRepository { .. } = key {
        let sql = format!("UPDATE {table} SET disabled = FALSE WHERE {condition} AND disabled");
        return Ok(bind(sqlx::query(&sql), params).execute(conn).await?.rows_affected());
    }
    let sql = format!("DELETE FROM {table} WHERE {condition}");
    Ok(bind(sqlx::query(&sql), params).execute(conn).await?.rows_affected())
}

fn bind<'q>(
    mut q: Query<'q, sqlx::Any, AnyArguments<'q>>,
    params: Vec<Param>,
) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
    for p in params {
        q = match p {
            Param::Text(v) => q.bind(v),
            Param::Int(v) => q.bind(v),
            Param::Bool(v) => q.bind(v),
            Param::OptText(v) => q.bind(v),
            Param::OptInt(v) => q.bind(v),
        };
    }
    q
}

fn t(s: &str) -> Param {
    Param::Text(s.to_owned())
}

/// Subquery for a host's id from `$n` (site) and `$n+1` (host).
fn host_id(n: usize) -> String {
    format!(
        "(SELECT h.id FROM host h JOIN site s ON s.id = h.site_id WHERE s.name = ${n} AND h.name = ${})",
        n + 1
    )
}

/// Subquery for a host category's id from `$n` (site), `$n+1` (host), `$n+2` (category).
fn host_category_id(n: usize) -> String {
    format!(
        "(SELECT hc.id FROM host_category hc JOIN host h ON h.id = hc.host_id JOIN site s ON s.id = h.site_id \
         JOIN category c ON c.id = hc.category_id WHERE s.name = ${n} AND h.name = ${} AND c.name = ${})",
        n + 1,
        n + 2
    )
}

/// The table and `WHERE` condition of the row `key` names, placeholders numbered from `$n`.
fn locate(key: &Key, n: usize) -> (&'static str, String, Vec<Param>) {
    let n1 = n + 1;
    match key {
        Key::Product(name) => ("product", format!("name = ${n}"), vec![t(name)]),
        Key::Category(name) => ("category", format!("name = ${n}"), vec![t(name)]),
        Key::Arch(name) => ("arch", format!("name = ${n}"), vec![t(name)]),
        Key::Site(name) => ("site", format!("name = ${n}"), vec![t(name)]),
        Key::SiteAdmin { site, user } => (
            "site_admin",
            format!("site_id = (SELECT id FROM site WHERE name = ${n}) AND username = ${n1}"),
            vec![t(site), t(user)],
        ),
        Key::Host { site, host } => (
            "host",
            format!("site_id = (SELECT id FROM site WHERE name = ${n}) AND name = ${n1}"),
            vec![t(site), t(host)],
        ),
        Key::HostNetblock { site, host, netblock } => (
            "host_netblock",
            format!("host_id = {} AND netblock = ${}", host_id(n), n + 2),
            vec![t(site), t(host), t(netblock)],
        ),
        Key::HostPeerAsn { site, host, asn } => (
            "host_peer_asn",
            format!("host_id = {} AND asn = ${}", host_id(n), n + 2),
            vec![t(site), t(host), Param::Int(i64::from(*asn))],
        ),
        Key::HostAllowedCountry { site, host, country } => (
            "host_country_allowed",
            format!("host_id = {} AND country = ${}", host_id(n), n + 2),
            vec![t(site), t(host), t(country)],
        ),
        Key::HostCategory { site, host, category } => (
            "host_category",
            format!(
                "host_id = {} AND category_id = (SELECT id FROM category WHERE name = ${})",
                host_id(n),
                n + 2
            ),
            vec![t(site), t(host), t(category)],
        ),
        Key::HostCategoryUrl {
            site,
            host,
            category,
            url,
        } => (
            "host_category_url",
            format!("host_category_id = {} AND url = ${}", host_category_id(n), n + 3),
            vec![t(site), t(host), t(category), t(url)],
        ),
        Key::CountryContinent(c) => ("country_continent_redirect", format!("country = ${n}"), vec![t(c)]),
        Key::NetblockCountry(nb) => ("netblock_country", format!("netblock = ${n}"), vec![t(nb)]),
        Key::Embargoed(c) => ("embargoed_country", format!("country_code = ${n}"), vec![t(c)]),
        Key::HostAclIp { site, host, ip } => (
            "host_acl_ip",
            format!("host_id = {} AND ip = ${}", host_id(n), n + 2),
            vec![t(site), t(host), t(ip)],
        ),
        Key::Version { product, name } => (
            "version",
            format!("product_id = (SELECT id FROM product WHERE name = ${n}) AND name = ${n1}"),
            vec![t(product), t(name)],
        ),
        Key::RepositoryRedirect(from) => ("repository_redirect", format!("from_repo = ${n}"), vec![t(from)]),
        Key::DisabledRepository { prefix, arch } => (
            "repository",
            format!("prefix = ${n} AND arch_id = (SELECT id FROM arch WHERE name = ${n1})"),
            vec![t(prefix), t(arch)],
        ),
    }
}

/// The `INSERT` of an added row: statement and parameters.
fn insert_sql(row: &NewRow<'_>) -> (String, Vec<Param>) {
    let hid = host_id(1);
    let b = Param::Bool;
    match *row {
        NewRow::Product { name, publiclist } => (
            "INSERT INTO product (name, publiclist) VALUES ($1, $2)".into(),
            vec![t(name), b(publiclist)],
        ),
        NewRow::Category {
            name,
            product,
            topdir,
            publiclist,
            admin_only,
            ref excludes,
        } => (
            "INSERT INTO category (name, product_id, topdir, publiclist, admin_only, excludes) \
             SELECT $1, id, $3, $4, $5, $6 FROM product WHERE name = $2"
                .into(),
            vec![
                t(name),
                t(product),
                t(topdir),
                b(publiclist),
                b(admin_only),
                t(excludes),
            ],
        ),
        NewRow::Arch {
            name,
            publiclist,
            primary,
        } => (
            "INSERT INTO arch (name, publiclist, primary_arch) VALUES ($1, $2, $3)".into(),
            vec![t(name), b(publiclist), b(primary)],
        ),
        NewRow::Site {
            name,
            ref password_hash,
            org_url,
            private,
            admin_active,
            user_active,
            created_at,
            created_by,
        } => (
            "INSERT INTO site (name, password_hash, org_url, private, admin_active, user_active, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                .into(),
            vec![
                t(name),
                Param::OptText(password_hash.clone()),
                t(org_url),
                b(private),
                b(admin_active),
                b(user_active),
                Param::Int(created_at),
                t(created_by),
            ],
        ),
        NewRow::SiteAdmin { site, user } => (
            "INSERT INTO site_admin (site_id, username) SELECT id, $2 FROM site WHERE name = $1".into(),
            vec![t(site), t(user)],
        ),
        NewRow::Host {
            site,
            name,
            robot_email,
            comment,
            admin_active,
            user_active,
            country,
            bandwidth,
            max_connections,
            private,
            asn,
            asn_clients,
        } => (
            "INSERT INTO host (site_id, name, robot_email, comment, admin_active, user_active, country, \
             bandwidth_int, max_connections, private, asn, asn_clients) \
             SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM site WHERE name = $1"
                .into(),
            vec![
                t(site),
                t(name),
                t(robot_email),
                t(comment),
                b(admin_active),
                b(user_active),
                t(country),
                Param::Int(bandwidth),
                Param::Int(max_connections),
                b(private),
                Param::OptInt(asn),
                b(asn_clients),
            ],
        ),
        NewRow::HostNetblock {
            site,
            host,
            netblock,
            name,
        } => (
            format!("INSERT INTO host_netblock (host_id, netblock, name) SELECT id, $3, $4 FROM host WHERE id = {hid}"),
            vec![t(site), t(host), t(netblock), t(name)],
        ),
        NewRow::HostPeerAsn { site, host, asn } => (
            format!("INSERT INTO host_peer_asn (host_id, asn) SELECT id, $3 FROM host WHERE id = {hid}"),
            vec![t(site), t(host), Param::Int(asn)],
        ),
        NewRow::HostAllowedCountry { site, host, country } => (
            format!("INSERT INTO host_country_allowed (host_id, country) SELECT id, $3 FROM host WHERE id = {hid}"),
            vec![t(site), t(host), t(country)],
        ),
        NewRow::HostCategory {
            site,
            host,
            category,
            always_up2date,
        } => (
            format!(
                "INSERT INTO host_category (host_id, category_id, always_up2date) \
                 SELECT {hid}, c.id, $4 FROM category c WHERE c.name = $3 AND {hid} IS NOT NULL"
            ),
            vec![t(site), t(host), t(category), b(always_up2date)],
        ),
        NewRow::HostCategoryUrl {
            site,
            host,
            category,
            url,
            private,
        } => {
            let mut sql = String::from("INSERT INTO host_category_url (host_category_id, url, private) ");
            let _ = write!(
                sql,
                "SELECT id, $4, $5 FROM host_category WHERE id = {}",
                host_category_id(1)
            );
            (sql, vec![t(site), t(host), t(category), t(url), b(private)])
        }
        NewRow::CountryContinent { country, continent } => (
            "INSERT INTO country_continent_redirect (country, continent) VALUES ($1, $2)".into(),
            vec![t(country), t(continent)],
        ),
        NewRow::NetblockCountry { netblock, country } => (
            "INSERT INTO netblock_country (netblock, country) VALUES ($1, $2)".into(),
            vec![t(netblock), t(country)],
        ),
        NewRow::Embargoed { country } => (
            "INSERT INTO embargoed_country (country_code) VALUES ($1)".into(),
            vec![t(country)],
        ),
        NewRow::HostAclIp { site, host, ip } => (
            format!("INSERT INTO host_acl_ip (host_id, ip) SELECT id, $3 FROM host WHERE id = {hid}"),
            vec![t(site), t(host), t(ip)],
        ),
        NewRow::Version {
            product,
            name,
            display_name,
            codename,
            sortorder,
            display,
            current,
        } => (
            "INSERT INTO version (product_id, name, display_name, codename, sortorder, display, current) \
             SELECT id, $2, $3, $4, $5, $6, $7 FROM product WHERE name = $1"
                .into(),
            vec![
                t(product),
                t(name),
                Param::OptText(display_name.map(str::to_owned)),
                Param::OptText(codename.map(str::to_owned)),
                Param::Int(sortorder),
                b(display),
                b(current),
            ],
        ),
        NewRow::RepositoryRedirect { from, to } => (
            "INSERT INTO repository_redirect (from_repo, to_repo) VALUES ($1, $2)".into(),
            vec![t(from), t(to)],
        ),
        NewRow::DisabledRepository { prefix, arch } => (
            "UPDATE repository SET disabled = TRUE WHERE prefix = $1 AND arch_id = (SELECT id FROM arch WHERE name = $2)"
                .into(),
            vec![t(prefix), t(arch)],
        ),
    }
}
