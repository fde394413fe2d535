//! The inventory in the database: [`load`] reads it, [`apply`] writes a [`diff`](super::diff()) back.
//!
//! Rows are addressed by natural keys inside every statement (`WHERE site_id = (SELECT id FROM site WHERE
//! name = $1)`), so ids are resolved in the same transaction that writes, and an added parent is visible to its
//! children's inserts. Updating a row in place (rather than delete + insert) is what keeps the crawler's state on
//! a host category (`up2date_set_id`, `stale_set_id`).

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use super::diff::{Change, Entity, Key, Value};
use super::model::*;
use super::{UrlConflict, url_conflicts};
use crate::db::{Database, bool_at};

/// What can go wrong reading or writing the inventory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// URLs the changes add while the database keeps them on another host; nothing was written.
    #[error("refused: {} URL(s) already belong to hosts this apply keeps:\n{}", .0.len(), lines(.0))]
    UrlConflicts(Vec<UrlConflict>),
    /// A change names a row (or a parent row) that is not there: the database changed since it was loaded.
    #[error("cannot apply \"{change}\": {reason}")]
    Stale { change: String, reason: &'static str },
    /// A change this store cannot express (a field it does not know); a bug in the caller.
    #[error("unsupported change \"{0}\"")]
    Unsupported(String),
    #[error("cannot hash password: {0}")]
    Hash(String),
}

fn lines(conflicts: &[UrlConflict]) -> String {
    conflicts
        .iter()
        .map(|c| format!("  {c}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

impl ApplyReport {
    pub fn total(&self) -> usize {
        self.added + self.updated + self.removed
    }
}

/// Hashes a site password to an argon2id PHC string (random salt).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Hash(e.to_string()))
}

/// Whether `given` is the password behind the stored PHC string; the `password_matches` of
/// [`diff_with`](super::diff_with). An unreadable stored value matches nothing, so applying replaces it.
pub fn password_matches(stored: Option<&str>, given: &str) -> bool {
    let Some(stored) = stored else { return false };
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default().verify_password(given.as_bytes(), &hash).is_ok()
}

/// Clears the stored hashes [`load`] puts in `password`: an export must never carry them.
pub fn strip_passwords(inv: &mut Inventory) {
    for site in &mut inv.sites {
        site.password = None;
    }
}

/// Reads the whole inventory, in id order (so an export follows the order things were added). A site's
/// `password` is its stored hash, for [`password_matches`]; strip it before rendering.
pub async fn load(db: &Database) -> Result<Inventory, StoreError> {
    let mut conn = db.pool().acquire().await?;
    load_from(&mut conn).await
}

fn opt_text(text: String) -> Option<String> {
    if text.is_empty() { None } else { Some(text) }
}

/// Out-of-range numbers imported from MirrorManager are clamped rather than refused: export must still work.
fn u32_at(row: &AnyRow, i: usize) -> Result<u32, sqlx::Error> {
    let v: i64 = row.try_get(i)?;
    Ok(u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

async fn load_from(conn: &mut AnyConnection) -> Result<Inventory, StoreError> {
    let mut inv = Inventory::default();
    for r in sqlx::query("SELECT name, publiclist FROM product ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        inv.products.push(Product {
            name: r.try_get(0)?,
            publiclist: bool_at(&r, 1)?,
        });
    }
    let sql = "SELECT c.name, p.name, c.topdir, c.publiclist, c.admin_only, c.excludes \
               FROM category c JOIN product p ON p.id = c.product_id ORDER BY c.id";
    for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
        let excludes: String = r.try_get(5)?;
        inv.categories.push(Category {
            name: r.try_get(0)?,
            product: r.try_get(1)?,
            topdir: r.try_get(2)?,
            publiclist: bool_at(&r, 3)?,
            admin_only: bool_at(&r, 4)?,
            excludes: excludes.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        });
    }
    for r in sqlx::query("SELECT name, publiclist, primary_arch FROM arch ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        inv.arches.push(Arch {
            name: r.try_get(0)?,
            publiclist: bool_at(&r, 1)?,
            primary: bool_at(&r, 2)?,
        });
    }

    let mut site_index: HashMap<i64, usize> = HashMap::new();
    let sql = "SELECT id, name, password_hash, org_url, private, admin_active, user_active FROM site ORDER BY id";
    for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
        site_index.insert(r.try_get(0)?, inv.sites.len());
        inv.sites.push(Site {
            name: r.try_get(1)?,
            password: r.try_get(2)?,
            org_url: opt_text(r.try_get(3)?),
            private: bool_at(&r, 4)?,
            admin_active: bool_at(&r, 5)?,
            user_active: bool_at(&r, 6)?,
            admins: Vec::new(),
            hosts: Vec::new(),
        });
    }
    for r in sqlx::query("SELECT site_id, username FROM site_admin ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some(&s) = site_index.get(&r.try_get::<i64, _>(0)?) {
            inv.sites[s].admins.push(r.try_get(1)?);
        }
    }

    // (site index, host index) per host id.
    let mut host_index: HashMap<i64, (usize, usize)> = HashMap::new();
    let sql = "SELECT id, site_id, name, robot_email, comment, admin_active, user_active, country, bandwidth_int, \
               max_connections, private, asn, asn_clients FROM host ORDER BY id";
    for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
        let Some(&s) = site_index.get(&r.try_get::<i64, _>(1)?) else {
            continue;
        };
        let asn: Option<i64> = r.try_get(11)?;
        let host = Host {
            name: r.try_get(2)?,
            robot_email: opt_text(r.try_get(3)?),
            comment: opt_text(r.try_get(4)?),
            admin_active: bool_at(&r, 5)?,
            user_active: bool_at(&r, 6)?,
            country: r.try_get(7)?,
            bandwidth: u32_at(&r, 8)?,
            max_connections: u32_at(&r, 9)?,
            private: bool_at(&r, 10)?,
            asn: asn.and_then(|a| u32::try_from(a).ok()),
            asn_clients: bool_at(&r, 12)?,
            ..Host::new("", "")
        };
        host_index.insert(r.try_get(0)?, (s, inv.sites[s].hosts.len()));
        inv.sites[s].hosts.push(host);
    }
    let host = |r: &AnyRow| -> Result<Option<(usize, usize)>, sqlx::Error> {
        Ok(host_index.get(&r.try_get::<i64, _>(0)?).copied())
    };
    for r in sqlx::query("SELECT host_id, netblock, name FROM host_netblock ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some((s, h)) = host(&r)? {
            let netblock: String = r.try_get(1)?;
            let name: String = r.try_get(2)?;
            let name = if name.is_empty() { netblock.clone() } else { name };
            inv.sites[s].hosts[h].netblocks.push(Netblock { name, netblock });
        }
    }
    for r in sqlx::query("SELECT host_id, asn FROM host_peer_asn ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some((s, h)) = host(&r)? {
            inv.sites[s].hosts[h].peer_asns.push(u32_at(&r, 1)?);
        }
    }
    for r in sqlx::query("SELECT host_id, country FROM host_country_allowed ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some((s, h)) = host(&r)? {
            inv.sites[s].hosts[h].allowed_countries.push(r.try_get(1)?);
        }
    }
    let mut hc_index: HashMap<i64, (usize, usize, usize)> = HashMap::new();
    let sql = "SELECT hc.host_id, hc.id, c.name, hc.always_up2date FROM host_category hc \
               JOIN category c ON c.id = hc.category_id ORDER BY hc.id";
    for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
        if let Some((s, h)) = host(&r)? {
            let list = &mut inv.sites[s].hosts[h].categories;
            hc_index.insert(r.try_get(1)?, (s, h, list.len()));
            list.push(HostCategory {
                category: r.try_get(2)?,
                always_up_to_date: bool_at(&r, 3)?,
                urls: Vec::new(),
            });
        }
    }
    let sql = "SELECT host_category_id, url, private FROM host_category_url ORDER BY id";
    for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
        if let Some(&(s, h, c)) = hc_index.get(&r.try_get::<i64, _>(0)?) {
            inv.sites[s].hosts[h].categories[c].urls.push(Url {
                url: r.try_get(1)?,
                private: bool_at(&r, 2)?,
            });
        }
    }

    let sql = "SELECT country, continent FROM country_continent_redirect ORDER BY country";
    for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
        inv.country_continent.insert(r.try_get(0)?, r.try_get(1)?);
    }
    for r in sqlx::query("SELECT netblock, country FROM netblock_country ORDER BY netblock")
        .fetch_all(&mut *conn)
        .await?
    {
        inv.netblock_country.push(NetblockCountry {
            netblock: r.try_get(0)?,
            country: r.try_get(1)?,
        });
    }
    let sql = "SELECT country_code FROM embargoed_country ORDER BY country_code";
    for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
        inv.embargoed.push(r.try_get(0)?);
    }
    Ok(inv)
}

/// Stores `changes` (from [`diff`](super::diff()) against what [`load`] returns) in one transaction, in the
/// order given: any error rolls everything back. Refuses, writing nothing, when an added URL is kept elsewhere
/// ([`url_conflicts`] against the inventory as it is inside the transaction).
pub async fn apply(db: &Database, changes: &[Change]) -> Result<ApplyReport, StoreError> {
    let mut tx = db.pool().begin().await?;
    let current = load_from(&mut tx).await?;
    let conflicts = url_conflicts(&current, changes);
    if !conflicts.is_empty() {
        return Err(StoreError::UrlConflicts(conflicts));
    }
    let mut report = ApplyReport::default();
    for change in changes {
        apply_one(&mut tx, change).await?;
        match change {
            Change::Add { .. } => report.added += 1,
            Change::Update { .. } => report.updated += 1,
            Change::Remove { .. } => report.removed += 1,
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// A bound parameter.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
    Bool(bool),
    OptText(Option<String>),
    OptInt(Option<i64>),
}

fn bind_all<'q>(mut q: Query<'q, Any, AnyArguments<'q>>, binds: &[Bind]) -> Query<'q, Any, AnyArguments<'q>> {
    for b in binds {
        q = match b.clone() {
            Bind::Text(v) => q.bind(v),
            Bind::Int(v) => q.bind(v),
            Bind::Bool(v) => q.bind(v),
            Bind::OptText(v) => q.bind(v),
            Bind::OptInt(v) => q.bind(v),
        };
    }
    q
}

fn t(s: &str) -> Bind {
    Bind::Text(s.to_owned())
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
fn locate(key: &Key, n: usize) -> (&'static str, String, Vec<Bind>) {
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
            vec![t(site), t(host), Bind::Int(i64::from(*asn))],
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
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The `INSERT` of an added row: statement and parameters.
fn insert(key: &Key, entity: &Entity) -> Result<(String, Vec<Bind>), StoreError> {
    let unsupported = || {
        StoreError::Unsupported(
            Change::Add {
                key: key.clone(),
                entity: entity.clone(),
            }
            .to_string(),
        )
    };
    let hid = host_id(1);
    Ok(match (key, entity) {
        (Key::Product(_), Entity::Product(p)) => (
            "INSERT INTO product (name, publiclist) VALUES ($1, $2)".into(),
            vec![t(&p.name), Bind::Bool(p.publiclist)],
        ),
        (Key::Category(_), Entity::Category(c)) => (
            "INSERT INTO category (name, product_id, topdir, publiclist, admin_only, excludes) \
             SELECT $1, id, $3, $4, $5, $6 FROM product WHERE name = $2"
                .into(),
            vec![
                t(&c.name),
                t(&c.product),
                t(&c.topdir),
                Bind::Bool(c.publiclist),
                Bind::Bool(c.admin_only),
                Bind::Text(c.excludes.join("\n")),
            ],
        ),
        (Key::Arch(_), Entity::Arch(a)) => (
            "INSERT INTO arch (name, publiclist, primary_arch) VALUES ($1, $2, $3)".into(),
            vec![t(&a.name), Bind::Bool(a.publiclist), Bind::Bool(a.primary)],
        ),
        (Key::Site(_), Entity::Site(s)) => {
            let hash = s.password.as_deref().map(hash_password).transpose()?;
            (
                "INSERT INTO site (name, password_hash, org_url, private, admin_active, user_active, created_at, \
                 created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 'mirrorvane')"
                    .into(),
                vec![
                    t(&s.name),
                    Bind::OptText(hash),
                    Bind::Text(s.org_url.clone().unwrap_or_default()),
                    Bind::Bool(s.private),
                    Bind::Bool(s.admin_active),
                    Bind::Bool(s.user_active),
                    Bind::Int(now()),
                ],
            )
        }
        (Key::SiteAdmin { site, user }, Entity::Member) => (
            "INSERT INTO site_admin (site_id, username) SELECT id, $2 FROM site WHERE name = $1".into(),
            vec![t(site), t(user)],
        ),
        (Key::Host { site, .. }, Entity::Host(h)) => (
            "INSERT INTO host (site_id, name, robot_email, comment, admin_active, user_active, country, \
             bandwidth_int, max_connections, private, asn, asn_clients) \
             SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM site WHERE name = $1"
                .into(),
            vec![
                t(site),
                t(&h.name),
                Bind::Text(h.robot_email.clone().unwrap_or_default()),
                Bind::Text(h.comment.clone().unwrap_or_default()),
                Bind::Bool(h.admin_active),
                Bind::Bool(h.user_active),
                t(&h.country),
                Bind::Int(h.bandwidth.into()),
                Bind::Int(h.max_connections.into()),
                Bind::Bool(h.private),
                Bind::OptInt(h.asn.map(i64::from)),
                Bind::Bool(h.asn_clients),
            ],
        ),
        (Key::HostNetblock { site, host, .. }, Entity::HostNetblock(nb)) => (
            format!("INSERT INTO host_netblock (host_id, netblock, name) SELECT id, $3, $4 FROM host WHERE id = {hid}"),
            vec![t(site), t(host), t(&nb.netblock), t(&nb.name)],
        ),
        (Key::HostPeerAsn { site, host, asn }, Entity::Member) => (
            format!("INSERT INTO host_peer_asn (host_id, asn) SELECT id, $3 FROM host WHERE id = {hid}"),
            vec![t(site), t(host), Bind::Int(i64::from(*asn))],
        ),
        (Key::HostAllowedCountry { site, host, country }, Entity::Member) => (
            format!("INSERT INTO host_country_allowed (host_id, country) SELECT id, $3 FROM host WHERE id = {hid}"),
            vec![t(site), t(host), t(country)],
        ),
        (Key::HostCategory { site, host, category }, Entity::HostCategory(hc)) => (
            format!(
                "INSERT INTO host_category (host_id, category_id, always_up2date) \
                 SELECT {hid}, c.id, $4 FROM category c WHERE c.name = $3 AND {hid} IS NOT NULL"
            ),
            vec![t(site), t(host), t(category), Bind::Bool(hc.always_up_to_date)],
        ),
        (
            Key::HostCategoryUrl {
                site, host, category, ..
            },
            Entity::HostCategoryUrl(u),
        ) => (
            format!(
                "INSERT INTO host_category_url (host_category_id, url, private) \
                 SELECT id, $4, $5 FROM host_category WHERE id = {}",
                host_category_id(1)
            ),
            vec![t(site), t(host), t(category), t(&u.url), Bind::Bool(u.private)],
        ),
        (Key::CountryContinent(c), Entity::CountryContinent(continent)) => (
            "INSERT INTO country_continent_redirect (country, continent) VALUES ($1, $2)".into(),
            vec![t(c), t(continent)],
        ),
        (Key::NetblockCountry(nb), Entity::NetblockCountry(country)) => (
            "INSERT INTO netblock_country (netblock, country) VALUES ($1, $2)".into(),
            vec![t(nb), t(country)],
        ),
        (Key::Embargoed(c), Entity::Member) => (
            "INSERT INTO embargoed_country (country_code) VALUES ($1)".into(),
            vec![t(c)],
        ),
        _ => return Err(unsupported()),
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        Value::None => Some(String::new()),
        _ => None,
    }
}

/// The `SET` of an update: column expression (value at `$1`) and its parameter.
fn set(key: &Key, field: &str, to: &Value) -> Option<(String, Bind)> {
    let plain = |col: &str| format!("{col} = $1");
    let value = match (key, field, to) {
        (_, _, Value::Bool(b)) => Bind::Bool(*b),
        (Key::Host { .. }, "asn", Value::Int(i)) => Bind::OptInt(Some(i64::try_from(*i).ok()?)),
        (Key::Host { .. }, "asn", Value::None) => Bind::OptInt(None),
        (_, _, Value::Int(i)) => Bind::Int(i64::try_from(*i).ok()?),
        (Key::Category(_), "excludes", Value::List(l)) => Bind::Text(l.join("\n")),
        (Key::Site(_), "password", Value::Text(p)) => Bind::Text(p.clone()),
        (Key::Site(_), "password", Value::None) => Bind::OptText(None),
        (_, _, v) => Bind::Text(text(v)?),
    };
    let column = match (key, field) {
        (Key::Product(_), "publiclist") => plain("publiclist"),
        (Key::Category(_), "product") => "product_id = (SELECT id FROM product WHERE name = $1)".to_owned(),
        (Key::Category(_), f @ ("topdir" | "publiclist" | "admin_only" | "excludes")) => plain(f),
        (Key::Arch(_), "publiclist") => plain("publiclist"),
        (Key::Arch(_), "primary") => plain("primary_arch"),
        (Key::Site(_), f @ ("name" | "org_url" | "private" | "admin_active" | "user_active")) => plain(f),
        (Key::Site(_), "password") => plain("password_hash"),
        (Key::Host { .. }, "bandwidth") => plain("bandwidth_int"),
        (
            Key::Host { .. },
            f @ ("country" | "max_connections" | "private" | "admin_active" | "user_active" | "asn" | "asn_clients"
            | "comment" | "robot_email"),
        ) => plain(f),
        (Key::HostNetblock { .. }, "name") => plain("name"),
        (Key::HostCategory { .. }, "always_up_to_date") => plain("always_up2date"),
        (Key::HostCategoryUrl { .. }, "private") => plain("private"),
        (Key::CountryContinent(_), "continent") => plain("continent"),
        (Key::NetblockCountry(_), "country") => plain("country"),
        _ => return None,
    };
    Some((column, value))
}

async fn apply_one(conn: &mut AnyConnection, change: &Change) -> Result<(), StoreError> {
    let stale = |reason| StoreError::Stale {
        change: change.to_string(),
        reason,
    };
    let affected = match change {
        Change::Add { key, entity } => {
            let (sql, binds) = insert(key, entity)?;
            let done = bind_all(sqlx::query(&sql), &binds)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if done == 0 {
                return Err(stale("its parent row does not exist"));
            }
            done
        }
        Change::Update { key, field, to, .. } => {
            let (column, mut value) = set(key, field, to).ok_or_else(|| StoreError::Unsupported(change.to_string()))?;
            if *field == "password"
                && let Bind::Text(plain) = &value
            {
                value = Bind::Text(hash_password(plain)?);
            }
            let (table, condition, mut binds) = locate(key, 2);
            binds.insert(0, value);
            let sql = format!("UPDATE {table} SET {column} WHERE {condition}");
            bind_all(sqlx::query(&sql), &binds)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
        Change::Remove { key } => {
            let (table, condition, binds) = locate(key, 1);
            let sql = format!("DELETE FROM {table} WHERE {condition}");
            bind_all(sqlx::query(&sql), &binds)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
    };
    if affected == 0 {
        return Err(stale("no such row"));
    }
    Ok(())
}
