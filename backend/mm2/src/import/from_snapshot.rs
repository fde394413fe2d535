//! Snapshot (usually a converted MirrorManager cache) → an empty database.
//!
//! A cache holds what the mirrorlist needs, not the whole inventory, so some rows are synthesised and reported:
//! one site per host (named after the host), one product (`--product`), versions named after the digits of each
//! repository prefix (`fedora-41` → `41`, else `unknown`). Ids are kept: MirrorManager's host ids stay the host
//! ids, so logs and statistics line up across the switch.

use std::collections::BTreeSet;

use foldhash::HashMap;
use mirrorvane_db::files::{self, FileDetailRow};
use mirrorvane_db::import;
use mirrorvane_db::sets::Interner;
use mirrorvane_db::{Connection, Database, DbError, DirectorySet, sites};
use mirrorvane_selector::snapshot::{Digest, Snapshot};

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Hosts (and as many sites).
    pub hosts: usize,
    /// Directories.
    pub directories: usize,
    /// Host categories.
    pub host_categories: usize,
    /// Distinct up-to-date directory sets stored for them.
    pub directory_sets: usize,
    /// Repositories.
    pub repositories: usize,
    /// File details.
    pub file_details: usize,
    /// What could not be carried over, one line each.
    pub skipped: Vec<String>,
}

/// Why an import did not happen; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The database already has an inventory.
    #[error("database {0} already holds hosts or directories; import only into an empty database")]
    NotEmpty(String),
    /// The source lacks something the schema requires.
    #[error("cannot import: {0}")]
    Unusable(String),
    /// Writing failed (rolled back).
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Writes `snapshot` into the empty database `db` in one transaction.
pub async fn import(db: &Database, snapshot: &Snapshot, product: &str) -> Result<Report, ImportError> {
    // Indexes below are trusted only once the selector has checked every one of them.
    mirrorvane_selector::Selector::new(snapshot.clone())
        .map_err(|e| ImportError::Unusable(format!("the snapshot is inconsistent: {e}")))?;
    if let Some(h) = snapshot.hosts.iter().find(|h| h.country.is_none()) {
        return Err(ImportError::Unusable(format!(
            "host {} ({}) has no country",
            h.id, h.name
        )));
    }
    let mut report = Report::default();
    let mut tx = db.begin().await?;
    if sites::count_hosts_and_directories(&mut tx).await? > 0 {
        return Err(ImportError::NotEmpty(db.url().to_owned()));
    }
    write_categories(&mut tx, snapshot, product).await?;
    write_hosts(&mut tx, snapshot, &mut report).await?;
    write_directories(&mut tx, snapshot, &mut report).await?;
    write_host_categories(&mut tx, snapshot, &mut report).await?;
    write_repositories(&mut tx, snapshot, &mut report).await?;
    write_file_details(&mut tx, snapshot, &mut report).await?;
    write_networks(&mut tx, snapshot).await?;
    db.resync_identities(&mut tx).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(report)
}

/// The product id (the only product).
const PRODUCT_ID: i64 = 1;

/// Ids are vector positions plus one.
fn id_of(index: usize) -> i64 {
    index as i64 + 1
}

/// The product and one category per snapshot category.
async fn write_categories(conn: &mut Connection, s: &Snapshot, product: &str) -> Result<(), ImportError> {
    import::insert(
        conn,
        [import::Product {
            id: PRODUCT_ID,
            name: product.to_owned(),
            publiclist: true,
        }],
    )
    .await?;
    import::insert(
        conn,
        s.categories.iter().enumerate().map(|(i, c)| import::Category {
            id: id_of(i),
            name: c.name.clone(),
            product_id: PRODUCT_ID,
            topdir: c.topdir.clone(),
            publiclist: true,
            admin_only: false,
        }),
    )
    .await?;
    Ok(())
}

/// One site per host (named after it), the hosts with their ids, peer ASNs and countries allowed.
async fn write_hosts(conn: &mut Connection, s: &Snapshot, report: &mut Report) -> Result<(), ImportError> {
    import::insert(
        conn,
        s.hosts.iter().map(|h| import::Site {
            id: i64::from(h.id),
            name: h.name.clone(),
            ..import::Site::default()
        }),
    )
    .await?;
    import::insert(
        conn,
        s.hosts.iter().map(|h| import::Host {
            id: i64::from(h.id),
            site_id: i64::from(h.id),
            name: h.name.clone(),
            country: h.country.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            bandwidth_int: i64::from(h.bandwidth),
            private: h.private,
            asn: h.asns.first().map(|&a| i64::from(a)),
            asn_clients: !h.asns.is_empty(),
            ipv4_reachable: h.reachability.ipv4,
            ipv6_reachable: h.reachability.ipv6,
            ..import::Host::default()
        }),
    )
    .await?;
    let mut peer_id = 0;
    import::insert(
        conn,
        s.hosts
            .iter()
            .flat_map(|h| h.asns.iter().skip(1).map(move |&a| (i64::from(h.id), i64::from(a))))
            .map(|(host_id, asn)| {
                peer_id += 1;
                import::PeerAsn {
                    id: peer_id,
                    host_id,
                    asn,
                    name: String::new(),
                }
            }),
    )
    .await?;
    let mut allowed_id = 0;
    import::insert(
        conn,
        s.hosts
            .iter()
            .flat_map(|h| {
                h.allowed_countries
                    .iter()
                    .map(move |c| (i64::from(h.id), c.as_str().to_owned()))
            })
            .map(|(host_id, country)| {
                allowed_id += 1;
                import::AllowedCountry {
                    id: allowed_id,
                    host_id,
                    country,
                }
            }),
    )
    .await?;
    report.hosts = s.hosts.len();
    Ok(())
}

async fn write_directories(conn: &mut Connection, s: &Snapshot, report: &mut Report) -> Result<(), ImportError> {
    import::insert(
        conn,
        s.directories.iter().enumerate().map(|(i, d)| import::Directory {
            id: id_of(i),
            name: d.name.clone(),
            category_id: id_of(d.category.index()),
            ctime: 0,
            readable: true,
            files: "[]".to_owned(),
        }),
    )
    .await?;
    report.directories = s.directories.len();
    Ok(())
}

/// Host categories with the directories they carry (host sets are per directory; the database keeps per host
/// category the set of directories it carries), and their URLs.
async fn write_host_categories(conn: &mut Connection, s: &Snapshot, report: &mut Report) -> Result<(), ImportError> {
    let mut carried: Vec<Vec<i64>> = vec![Vec::new(); s.host_categories.len()];
    for (i, d) in s.directories.iter().enumerate() {
        for hc in s.host_sets[d.hosts.index()].members() {
            carried[hc.index()].push(id_of(i));
        }
    }
    let mut sets = Interner::default();
    let mut rows = Vec::with_capacity(carried.len());
    for (i, dirs) in carried.into_iter().enumerate() {
        let hc = &s.host_categories[i];
        let set: DirectorySet = dirs.into_iter().collect();
        rows.push(import::HostCategory {
            id: id_of(i),
            host_id: i64::from(s.hosts[hc.host.index()].id),
            category_id: id_of(hc.category.index()),
            always_up2date: false,
            up2date_set_id: sets.intern(conn, &set).await?,
            stale_set_id: None,
        });
    }
    report.directory_sets = sets.stored();
    import::insert(conn, rows).await?;
    report.host_categories = s.host_categories.len();
    let mut seen = BTreeSet::new();
    let mut urls = Vec::new();
    for (i, hc) in s.host_categories.iter().enumerate() {
        for url in &hc.urls {
            if seen.insert(url.as_str()) {
                urls.push(import::Url {
                    id: urls.len() as i64 + 1,
                    host_category_id: id_of(i),
                    url: url.clone(),
                    private: false,
                });
            } else {
                report.skipped.push(format!(
                    "URL {url} appears under more than one host category; kept the first"
                ));
            }
        }
    }
    import::insert(conn, urls).await?;
    Ok(())
}

/// Repositories with the arch and version rows they need (versions named after the prefix's digits),
/// disabled flags and redirects.
async fn write_repositories(conn: &mut Connection, s: &Snapshot, report: &mut Report) -> Result<(), ImportError> {
    let arches: BTreeSet<&str> = s.repositories.iter().map(|r| r.arch.as_str()).collect();
    let arch_id: HashMap<&str, i64> = arches.iter().enumerate().map(|(i, &a)| (a, id_of(i))).collect();
    import::insert(
        conn,
        arches.iter().map(|&a| import::Arch {
            id: arch_id[a],
            name: a.to_owned(),
            publiclist: true,
            primary_arch: true,
        }),
    )
    .await?;
    let versions: BTreeSet<String> = s.repositories.iter().map(|r| version_of(&r.prefix)).collect();
    let version_id: HashMap<&str, i64> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), id_of(i)))
        .collect();
    import::insert(
        conn,
        versions.iter().map(|v| import::Version {
            id: version_id[v.as_str()],
            product_id: PRODUCT_ID,
            name: v.clone(),
            codename: None,
            is_test: false,
            display: true,
            display_name: None,
            sortorder: 0,
        }),
    )
    .await?;
    let disabled: BTreeSet<&str> = s.disabled_prefixes.iter().map(String::as_str).collect();
    for p in &disabled {
        if !s.repositories.iter().any(|r| r.prefix == *p) {
            report
                .skipped
                .push(format!("disabled prefix {p:?} names no repository"));
        }
    }
    import::insert(
        conn,
        s.repositories.iter().enumerate().map(|(i, r)| {
            let d = &s.directories[r.directory.index()];
            import::Repository {
                id: id_of(i),
                name: d.name.clone(),
                prefix: Some(r.prefix.clone()),
                category_id: id_of(d.category.index()),
                version_id: version_id[version_of(&r.prefix).as_str()],
                arch_id: arch_id[r.arch.as_str()],
                directory_id: id_of(r.directory.index()),
                disabled: disabled.contains(r.prefix.as_str()),
            }
        }),
    )
    .await?;
    report.repositories = s.repositories.len();
    import::insert(
        conn,
        s.repository_redirects
            .iter()
            .enumerate()
            .map(|(i, r)| import::Redirect {
                id: id_of(i),
                from_repo: r.from.clone(),
                to_repo: r.to.clone(),
            }),
    )
    .await?;
    Ok(())
}

async fn write_file_details(conn: &mut Connection, s: &Snapshot, report: &mut Report) -> Result<(), ImportError> {
    let text = |d: &Option<Digest>| d.as_ref().map(Digest::to_text);
    let rows: Vec<(Option<i64>, FileDetailRow)> = s
        .files
        .iter()
        .flat_map(|f| {
            f.details.iter().map(move |d| {
                (
                    None,
                    FileDetailRow {
                        directory_id: id_of(f.directory.index()),
                        filename: f.name.clone(),
                        timestamp: i64::try_from(d.timestamp).unwrap_or(i64::MAX),
                        size: i64::try_from(d.size).unwrap_or(i64::MAX),
                        md5: text(&d.md5),
                        sha1: text(&d.sha1),
                        sha256: text(&d.sha256),
                        sha512: text(&d.sha512),
                    },
                )
            })
        })
        .collect();
    report.file_details = rows.len();
    files::insert(conn, rows).await?;
    Ok(())
}

/// Host netblocks, netblock countries and continent overrides.
async fn write_networks(conn: &mut Connection, s: &Snapshot) -> Result<(), ImportError> {
    let netblocks = s.host_netblocks.iter().flat_map(|n| {
        n.hosts
            .iter()
            .map(move |h| (i64::from(s.hosts[h.index()].id), n.network.to_string()))
    });
    import::insert(
        conn,
        netblocks.enumerate().map(|(i, (host_id, netblock))| import::Netblock {
            id: id_of(i),
            host_id,
            netblock,
            name: String::new(),
        }),
    )
    .await?;
    import::insert(
        conn,
        s.netblock_countries.iter().map(|n| import::NetblockCountry {
            netblock: n.network.to_string(),
            country: n.country.as_str().to_owned(),
        }),
    )
    .await?;
    import::insert(
        conn,
        s.continent_overrides.iter().map(|c| import::Continent {
            country: c.country.as_str().to_owned(),
            continent: c.continent.as_str().to_owned(),
        }),
    )
    .await?;
    Ok(())
}

/// `fedora-41` → `41`, `updates-released-f40` → `40`, `epel-9` → `9`, `rawhide` → `unknown`: the last run of
/// digits of the prefix.
fn version_of(prefix: &str) -> String {
    let digits: String = prefix
        .rsplit(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())
        .unwrap_or_default()
        .to_owned();
    if digits.is_empty() {
        "unknown".to_owned()
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::version_of;

    #[test]
    fn versions_from_prefixes() {
        assert_eq!(version_of("fedora-41"), "41");
        assert_eq!(version_of("updates-released-f40"), "40");
        assert_eq!(version_of("epel-9"), "9");
        assert_eq!(version_of("rawhide"), "unknown");
        assert_eq!(version_of("fedora-41-source"), "41");
    }
}
