//! The inventory in the database: [`load`] reads it, [`apply`] writes a [`diff`](super::diff()) back through
//! the database's natural-key writes (`mirrorvane_db::natural`), in one transaction. Updating a row in place
//! (rather than delete + insert) is what keeps the crawler's state on a host category.

use std::collections::HashMap;

use mirrorvane_db::natural::{self, NewRow, Param};
use mirrorvane_db::{
    Connection, Database, DbError, audit, categories, countries, crawl, password, repositories, sites,
};

use super::diff::{Change, Entity, Key, Value};
use super::model::*;
use super::{UrlConflict, url_conflicts};

/// What can go wrong reading or writing the inventory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// URLs the changes add while the database keeps them on another host; nothing was written.
    #[error("refused: {} URL(s) already belong to hosts this apply keeps:\n{}", .0.len(), lines(.0))]
    UrlConflicts(Vec<UrlConflict>),
    /// A change names a row (or a parent row) that is not there: the database changed since it was loaded.
    #[error("cannot apply \"{change}\": {reason}")]
    Stale { change: String, reason: &'static str },
    /// A change this store cannot express (a field it does not know); a bug in the caller.
    #[error("unsupported change \"{0}\"")]
    Unsupported(String),
    #[error(transparent)]
    Hash(#[from] password::HashError),
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
pub fn hash_password(given: &str) -> Result<String, StoreError> {
    Ok(password::hash(given)?)
}

/// Whether `given` is the password behind the stored PHC string; the `password_matches` of
/// [`diff_with`](super::diff_with). An unreadable stored value matches nothing, so applying replaces it.
pub fn password_matches(stored: Option<&str>, given: &str) -> bool {
    password::matches(stored, given)
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
    let mut conn = db.acquire().await?;
    load_from(&mut conn).await
}

fn opt_text(text: String) -> Option<String> {
    if text.is_empty() { None } else { Some(text) }
}

/// Out-of-range numbers imported from MirrorManager are clamped rather than refused: export must still work.
fn clamp_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

pub async fn load_from(conn: &mut Connection) -> Result<Inventory, StoreError> {
    let mut inv = Inventory {
        products: load_products(conn).await?,
        categories: load_categories(conn).await?,
        arches: load_arches(conn).await?,
        ..Inventory::default()
    };
    load_sites(conn, &mut inv).await?;
    load_country_data(conn, &mut inv).await?;
    Ok(inv)
}

async fn load_products(conn: &mut Connection) -> Result<Vec<Product>, StoreError> {
    Ok(categories::products(conn)
        .await?
        .into_iter()
        .map(|p| Product {
            name: p.name,
            publiclist: p.publiclist.into(),
        })
        .collect())
}

async fn load_categories(conn: &mut Connection) -> Result<Vec<Category>, StoreError> {
    Ok(categories::categories(conn)
        .await?
        .into_iter()
        .map(|c| Category {
            excludes: c.exclude_patterns().map(str::to_owned).collect(),
            name: c.name,
            product: c.product,
            topdir: c.topdir,
            publiclist: c.publiclist.into(),
            admin_only: c.admin_only.into(),
        })
        .collect())
}

async fn load_arches(conn: &mut Connection) -> Result<Vec<Arch>, StoreError> {
    Ok(repositories::arches(conn)
        .await?
        .into_iter()
        .map(|a| Arch {
            name: a.name,
            publiclist: a.publiclist.into(),
            primary: a.primary_arch.into(),
        })
        .collect())
}

/// Sites with their admins and hosts, hosts with what hangs off them.
async fn load_sites(conn: &mut Connection, inv: &mut Inventory) -> Result<(), StoreError> {
    let mut site_index: HashMap<i64, usize> = HashMap::new();
    for r in sites::sites(conn).await? {
        site_index.insert(r.id, inv.sites.len());
        inv.sites.push(Site {
            name: r.name,
            password: r.password_hash,
            org_url: opt_text(r.org_url),
            private: r.private.into(),
            admin_active: r.admin_active.into(),
            user_active: r.user_active.into(),
            admins: Vec::new(),
            hosts: Vec::new(),
        });
    }
    for r in sites::site_admins(conn).await? {
        if let Some(&s) = site_index.get(&r.site_id) {
            inv.sites[s].admins.push(r.username);
        }
    }
    // (site index, host index) per host id.
    let mut host_index: HashMap<i64, (usize, usize)> = HashMap::new();
    for r in sites::hosts(conn).await? {
        let Some(&s) = site_index.get(&r.site_id) else {
            continue;
        };
        host_index.insert(r.id, (s, inv.sites[s].hosts.len()));
        inv.sites[s].hosts.push(Host {
            name: r.name,
            robot_email: opt_text(r.robot_email),
            comment: opt_text(r.comment),
            admin_active: r.admin_active.into(),
            user_active: r.user_active.into(),
            country: r.country,
            bandwidth: clamp_u32(r.bandwidth_int),
            max_connections: clamp_u32(r.max_connections),
            private: r.private.into(),
            asn: r.asn.and_then(|a| u32::try_from(a).ok()),
            asn_clients: r.asn_clients.into(),
            ..Host::new("", "")
        });
    }
    for r in sites::netblocks(conn).await? {
        if let Some(h) = host_mut(inv, &host_index, r.host_id) {
            let name = if r.name.is_empty() { r.netblock.clone() } else { r.name };
            h.netblocks.push(Netblock {
                name,
                netblock: r.netblock,
            });
        }
    }
    for r in sites::peer_asns(conn).await? {
        if let Some(h) = host_mut(inv, &host_index, r.host_id) {
            h.peer_asns.push(clamp_u32(r.asn));
        }
    }
    for r in sites::allowed_countries(conn).await? {
        if let Some(h) = host_mut(inv, &host_index, r.host_id) {
            h.allowed_countries.push(r.country);
        }
    }
    for (host, ip) in sites::acl_ips(conn).await? {
        if let Some(h) = host_mut(inv, &host_index, host) {
            h.acl_ips.push(ip);
        }
    }
    // (site, host, category) indexes per host category id.
    let mut hc_index: HashMap<i64, (usize, usize, usize)> = HashMap::new();
    for r in sites::host_categories(conn).await? {
        if let Some(&(s, h)) = host_index.get(&r.host_id) {
            let list = &mut inv.sites[s].hosts[h].categories;
            hc_index.insert(r.id, (s, h, list.len()));
            list.push(HostCategory {
                category: r.category,
                always_up_to_date: r.always_up2date.into(),
                urls: Vec::new(),
            });
        }
    }
    for r in sites::urls(conn).await? {
        if let Some(&(s, h, c)) = hc_index.get(&r.host_category_id) {
            inv.sites[s].hosts[h].categories[c].urls.push(Url {
                url: r.url,
                private: r.private.into(),
            });
        }
    }
    Ok(())
}

fn host_mut<'a>(inv: &'a mut Inventory, index: &HashMap<i64, (usize, usize)>, id: i64) -> Option<&'a mut Host> {
    index.get(&id).map(|&(s, h)| &mut inv.sites[s].hosts[h])
}

async fn load_country_data(conn: &mut Connection, inv: &mut Inventory) -> Result<(), StoreError> {
    for r in countries::continents(conn).await? {
        inv.country_continent.insert(r.country, r.continent);
    }
    for r in countries::netblock_countries(conn).await? {
        inv.netblock_country.push(NetblockCountry {
            netblock: r.netblock,
            country: r.country,
        });
    }
    inv.embargoed = countries::embargoed(conn).await?;
    inv.versions = repositories::version_details(conn)
        .await?
        .into_iter()
        .map(|v| Version {
            product: v.product,
            name: v.name,
            display_name: v.display_name.filter(|d| !d.is_empty()),
            codename: v.codename.filter(|c| !c.is_empty()),
            sortorder: v.sortorder,
            display: v.display.into(),
            current: v.current.into(),
        })
        .collect();
    inv.repository_redirects = repositories::redirects(conn)
        .await?
        .into_iter()
        .map(|r| (r.from_repo, r.to_repo))
        .collect();
    inv.disabled_repositories = repositories::disabled(conn).await?;
    Ok(())
}

/// Stores `changes` (from [`diff`](super::diff()) against what [`load`] returns) in one transaction, in the
/// order given: any error rolls everything back. Refuses, writing nothing, when an added URL is kept elsewhere
/// ([`url_conflicts`] against the inventory as it is inside the transaction). Every change is written to the
/// audit log as made by `author` (an account name, or the command that made it).
pub async fn apply(db: &Database, changes: &[Change], author: &str) -> Result<ApplyReport, StoreError> {
    let mut tx = db.begin().await?;
    let report = apply_in(&mut tx, changes, author).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(report)
}

/// [`apply`] inside the caller's transaction (which commits or rolls back): for a caller that loads, decides
/// and applies under one transaction, as the web UI does.
pub async fn apply_in(conn: &mut Connection, changes: &[Change], author: &str) -> Result<ApplyReport, StoreError> {
    let current = load_from(conn).await?;
    let conflicts = url_conflicts(&current, changes);
    if !conflicts.is_empty() {
        return Err(StoreError::UrlConflicts(conflicts));
    }
    let at = now();
    let mut report = ApplyReport::default();
    for change in changes {
        apply_one(conn, change, author).await?;
        audit::record(conn, &audit_row(change, author, at)).await?;
        match change {
            Change::Add { .. } => report.added += 1,
            Change::Update { .. } => report.updated += 1,
            Change::Remove { .. } => report.removed += 1,
        }
    }
    Ok(report)
}

/// A site or host whose `private` flag changed has its directories marked not up to date until its next crawl
/// or check-in, as MirrorManager's `set_not_up2date` (reference §6.3): a host going private stops being
/// crawled and starts checking in, and neither may carry the other's verdict over.
async fn mark_private_hosts_stale(conn: &mut Connection, key: &Key) -> Result<(), StoreError> {
    let hosts = match key {
        Key::Site(site) => sites::host_ids(conn, site, None).await?,
        Key::Host { site, host } => sites::host_ids(conn, site, Some(host)).await?,
        _ => return Ok(()),
    };
    let at = now();
    for host in hosts {
        crawl::mark_all_stale(conn, host, at).await?;
    }
    Ok(())
}

/// A change in the audit log's words. Passwords are never written, only that one changed.
fn audit_row<'a>(change: &'a Change, author: &'a str, at: i64) -> audit::NewAuditRow<'a> {
    let (action, target, old_value, new_value) = match change {
        Change::Add { key, .. } => ("add", key.to_string(), None, Some(change.to_string())),
        Change::Update {
            key, field: "password", ..
        } => ("update", format!("{key}: password"), None, Some("(changed)".to_owned())),
        Change::Update { key, field, from, to } => (
            "update",
            format!("{key}: {field}"),
            Some(from.to_string()),
            Some(to.to_string()),
        ),
        Change::Remove { key } => ("remove", key.to_string(), None, None),
    };
    audit::NewAuditRow {
        at,
        actor: author,
        site: change.key().site(),
        action,
        target,
        old_value,
        new_value,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The row an `Add` change writes; `None` when the entity does not fit the key (a caller's bug).
fn new_row<'a>(key: &'a Key, entity: &'a Entity, password_hash: Option<String>, author: &'a str) -> Option<NewRow<'a>> {
    Some(match (key, entity) {
        (Key::Product(_), Entity::Product(p)) => NewRow::Product {
            name: &p.name,
            publiclist: p.publiclist,
        },
        (Key::Category(_), Entity::Category(c)) => NewRow::Category {
            name: &c.name,
            product: &c.product,
            topdir: &c.topdir,
            publiclist: c.publiclist,
            admin_only: c.admin_only,
            excludes: c.excludes.join("\n"),
        },
        (Key::Arch(_), Entity::Arch(a)) => NewRow::Arch {
            name: &a.name,
            publiclist: a.publiclist,
            primary: a.primary,
        },
        (Key::Site(_), Entity::Site(s)) => NewRow::Site {
            name: &s.name,
            password_hash,
            org_url: s.org_url.as_deref().unwrap_or_default(),
            private: s.private,
            admin_active: s.admin_active,
            user_active: s.user_active,
            created_at: now(),
            created_by: author,
        },
        (Key::SiteAdmin { site, user }, Entity::Member) => NewRow::SiteAdmin { site, user },
        (Key::Host { site, .. }, Entity::Host(h)) => NewRow::Host {
            site,
            name: &h.name,
            robot_email: h.robot_email.as_deref().unwrap_or_default(),
            comment: h.comment.as_deref().unwrap_or_default(),
            admin_active: h.admin_active,
            user_active: h.user_active,
            country: &h.country,
            bandwidth: h.bandwidth.into(),
            max_connections: h.max_connections.into(),
            private: h.private,
            asn: h.asn.map(i64::from),
            asn_clients: h.asn_clients,
        },
        (Key::HostNetblock { site, host, .. }, Entity::HostNetblock(nb)) => NewRow::HostNetblock {
            site,
            host,
            netblock: &nb.netblock,
            name: &nb.name,
        },
        (Key::HostPeerAsn { site, host, asn }, Entity::Member) => NewRow::HostPeerAsn {
            site,
            host,
            asn: i64::from(*asn),
        },
        (Key::HostAllowedCountry { site, host, country }, Entity::Member) => {
            NewRow::HostAllowedCountry { site, host, country }
        }
        (Key::HostCategory { site, host, category }, Entity::HostCategory(hc)) => NewRow::HostCategory {
            site,
            host,
            category,
            always_up2date: hc.always_up_to_date,
        },
        (
            Key::HostCategoryUrl {
                site, host, category, ..
            },
            Entity::HostCategoryUrl(u),
        ) => NewRow::HostCategoryUrl {
            site,
            host,
            category,
            url: &u.url,
            private: u.private,
        },
        (Key::CountryContinent(country), Entity::CountryContinent(continent)) => {
            NewRow::CountryContinent { country, continent }
        }
        (Key::NetblockCountry(netblock), Entity::NetblockCountry(country)) => {
            NewRow::NetblockCountry { netblock, country }
        }
        (Key::Embargoed(country), Entity::Member) => NewRow::Embargoed { country },
        (Key::HostAclIp { site, host, ip }, Entity::Member) => NewRow::HostAclIp { site, host, ip },
        (Key::Version { .. }, Entity::Version(v)) => NewRow::Version {
            product: &v.product,
            name: &v.name,
            display_name: v.display_name.as_deref(),
            codename: v.codename.as_deref(),
            sortorder: v.sortorder,
            display: v.display,
            current: v.current,
        },
        (Key::RepositoryRedirect(from), Entity::RepositoryRedirect(to)) => NewRow::RepositoryRedirect { from, to },
        (Key::DisabledRepository { prefix, arch }, Entity::Member) => NewRow::DisabledRepository { prefix, arch },
        _ => return None,
    })
}

/// The column an update of the model's `field` sets, and its value; `None` for a field the database does not
/// store this way (a caller's bug).
fn column(key: &Key, field: &str, to: &Value) -> Result<Option<(&'static str, Param)>, StoreError> {
    let text = |v: &Value| match v {
        Value::Text(s) => Some(s.clone()),
        Value::None => Some(String::new()),
        _ => None,
    };
    let column = match (key, field) {
        (Key::Product(_), "publiclist") => "publiclist",
        (Key::Category(_), "product") => "product",
        (Key::Category(_), "topdir") => "topdir",
        (Key::Category(_), "publiclist") => "publiclist",
        (Key::Category(_), "admin_only") => "admin_only",
        (Key::Category(_), "excludes") => "excludes",
        (Key::Arch(_), "publiclist") => "publiclist",
        (Key::Arch(_), "primary") => "primary_arch",
        (Key::Site(_), "name") => "name",
        (Key::Site(_), "org_url") => "org_url",
        (Key::Site(_), "private") => "private",
        (Key::Site(_), "admin_active") => "admin_active",
        (Key::Site(_), "user_active") => "user_active",
        (Key::Site(_), "password") => "password_hash",
        (Key::Host { .. }, "bandwidth") => "bandwidth_int",
        (Key::Host { .. }, "country") => "country",
        (Key::Host { .. }, "max_connections") => "max_connections",
        (Key::Host { .. }, "private") => "private",
        (Key::Host { .. }, "admin_active") => "admin_active",
        (Key::Host { .. }, "user_active") => "user_active",
        (Key::Host { .. }, "asn") => "asn",
        (Key::Host { .. }, "asn_clients") => "asn_clients",
        (Key::Host { .. }, "comment") => "comment",
        (Key::Host { .. }, "robot_email") => "robot_email",
        (Key::HostNetblock { .. }, "name") => "name",
        (Key::HostCategory { .. }, "always_up_to_date") => "always_up2date",
        (Key::HostCategoryUrl { .. }, "private") => "private",
        (Key::CountryContinent(_), "continent") => "continent",
        (Key::NetblockCountry(_), "country") => "country",
        (Key::Version { .. }, "display_name") => "display_name",
        (Key::Version { .. }, "codename") => "codename",
        (Key::Version { .. }, "sortorder") => "sortorder",
        (Key::Version { .. }, "display") => "display",
        (Key::Version { .. }, "current") => "current",
        (Key::RepositoryRedirect(_), "to") => "to_repo",
        _ => return Ok(None),
    };
    let value = match (column, to) {
        ("password_hash", Value::Text(p)) => Param::OptText(Some(hash_password(p)?)),
        ("password_hash", Value::None) => Param::OptText(None),
        ("asn", Value::Int(i)) => Param::OptInt(i64::try_from(*i).ok()),
        ("asn", Value::None) => Param::OptInt(None),
        ("display_name" | "codename", Value::Text(t)) => Param::OptText(Some(t.clone())),
        ("display_name" | "codename", Value::None) => Param::OptText(None),
        ("excludes", Value::List(l)) => Param::Text(l.join("\n")),
        (_, Value::Bool(b)) => Param::Bool(*b),
        (_, Value::Int(i)) => match i64::try_from(*i) {
            Ok(i) => Param::Int(i),
            Err(_) => return Ok(None),
        },
        (_, v) => match text(v) {
            Some(t) => Param::Text(t),
            None => return Ok(None),
        },
    };
    Ok(Some((column, value)))
}

async fn apply_one(conn: &mut Connection, change: &Change, author: &str) -> Result<(), StoreError> {
    let stale = |reason| StoreError::Stale {
        change: change.to_string(),
        reason,
    };
    let unsupported = || StoreError::Unsupported(change.to_string());
    let affected = match change {
        Change::Add { key, entity } => {
            let hash = match entity {
                Entity::Site(s) => s.password.as_deref().map(hash_password).transpose()?,
                _ => None,
            };
            let row = new_row(key, entity, hash, author).ok_or_else(unsupported)?;
            if natural::insert(conn, &row).await? == 0 {
                return Err(stale("its parent row does not exist"));
            }
            return Ok(());
        }
        Change::Update { key, field, to, .. } => {
            let (column, value) = column(key, field, to)?.ok_or_else(unsupported)?;
            let affected = natural::update(conn, key, column, value).await?;
            if *field == "private" {
                mark_private_hosts_stale(conn, key).await?;
            }
            affected
        }
        Change::Remove { key } => natural::delete(conn, key).await?,
    };
    if affected == 0 {
        return Err(stale("no such row"));
    }
    Ok(())
}
