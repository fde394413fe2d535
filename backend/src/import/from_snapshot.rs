//! Snapshot (usually a converted MirrorManager cache) → an empty database.
//!
//! A cache holds what the mirrorlist needs, not the whole inventory, so some rows are synthesised and reported:
//! one site per host (named after the host), one product (`--product`), versions named after the digits of each
//! repository prefix (`fedora-41` → `41`, else `unknown`). Ids are kept: MirrorManager's host ids stay the host
//! ids, so logs and statistics line up across the switch.

use std::collections::BTreeSet;

use foldhash::{HashMap, HashMapExt};
use mirrorvane_selector::snapshot::Snapshot;
use sqlx::Row;

use crate::db::bulk::{Value, insert};
use crate::db::directory_set::{DirectorySet, intern};
use crate::db::{Database, DbError};

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

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> ImportError {
        ImportError::Db(DbError::Sql(e))
    }
}

/// Writes `snapshot` into the empty database `db` in one transaction.
pub async fn import(db: &Database, snapshot: &Snapshot, product: &str) -> Result<Report, ImportError> {
    // Indexes below are trusted only once the selector has checked every one of them.
    mirrorvane_selector::Selector::new(snapshot.clone())
        .map_err(|e| ImportError::Unusable(format!("the snapshot is inconsistent: {e}")))?;
    let mut report = Report::default();
    let mut tx = db.pool().begin().await?;
    let existing: i64 = sqlx::query("SELECT (SELECT COUNT(*) FROM host) + (SELECT COUNT(*) FROM directory)")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if existing > 0 {
        return Err(ImportError::NotEmpty(db.url().to_owned()));
    }
    let s = snapshot;
    let product_id: i64 = sqlx::query("INSERT INTO product (name) VALUES ($1) RETURNING id")
        .bind(product)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let conn = &mut *tx;
    let category_id = |i: usize| i as i64 + 1;
    insert(
        conn,
        "category",
        &["id", "name", "product_id", "topdir"],
        s.categories.iter().enumerate().map(|(i, c)| {
            vec![
                category_id(i).into(),
                c.name.clone().into(),
                product_id.into(),
                c.topdir.clone().into(),
            ]
        }),
    )
    .await?;

    for h in &s.hosts {
        if h.country.is_none() {
            return Err(ImportError::Unusable(format!(
                "host {} ({}) has no country",
                h.id, h.name
            )));
        }
    }
    insert(
        conn,
        "site",
        &["id", "name"],
        s.hosts
            .iter()
            .map(|h| vec![i64::from(h.id).into(), h.name.clone().into()]),
    )
    .await?;
    insert(
        conn,
        "host",
        &[
            "id",
            "site_id",
            "name",
            "country",
            "bandwidth_int",
            "private",
            "asn",
            "asn_clients",
            "ipv4_reachable",
            "ipv6_reachable",
        ],
        s.hosts.iter().map(|h| {
            let id = i64::from(h.id);
            vec![
                id.into(),
                id.into(),
                h.name.clone().into(),
                h.country.map(|c| c.as_str().to_owned()).unwrap_or_default().into(),
                i64::from(h.bandwidth).into(),
                h.private.into(),
                h.asns.first().map(|&a| i64::from(a)).into(),
                (!h.asns.is_empty()).into(),
                h.reachability.ipv4.into(),
                h.reachability.ipv6.into(),
            ]
        }),
    )
    .await?;
    insert(
        conn,
        "host_peer_asn",
        &["host_id", "asn"],
        s.hosts.iter().flat_map(|h| {
            h.asns
                .iter()
                .skip(1)
                .map(|&a| vec![i64::from(h.id).into(), i64::from(a).into()])
        }),
    )
    .await?;
    insert(
        conn,
        "host_country_allowed",
        &["host_id", "country"],
        s.hosts.iter().flat_map(|h| {
            h.allowed_countries
                .iter()
                .map(|c| vec![i64::from(h.id).into(), c.as_str().to_owned().into()])
        }),
    )
    .await?;
    report.hosts = s.hosts.len();

    let directory_id = |i: usize| i as i64 + 1;
    insert(
        conn,
        "directory",
        &["id", "name", "category_id"],
        s.directories.iter().enumerate().map(|(i, d)| {
            vec![
                directory_id(i).into(),
                d.name.clone().into(),
                category_id(d.category.index()).into(),
            ]
        }),
    )
    .await?;
    report.directories = s.directories.len();

    // Host sets are per directory; the database keeps per host category the directories it carries.
    let mut carried: Vec<Vec<i64>> = vec![Vec::new(); s.host_categories.len()];
    for (i, d) in s.directories.iter().enumerate() {
        for hc in s.host_sets[d.hosts.index()].members() {
            carried[hc.index()].push(directory_id(i));
        }
    }
    let mut set_ids: HashMap<String, Option<i64>> = HashMap::new();
    let mut hc_rows = Vec::with_capacity(carried.len());
    for (i, dirs) in carried.into_iter().enumerate() {
        let hc = &s.host_categories[i];
        let set: DirectorySet = dirs.into_iter().collect();
        let set_id = match set_ids.get(&set.digest()) {
            Some(&id) => id,
            None => {
                let id = intern(&mut *conn, &set).await?;
                set_ids.insert(set.digest(), id);
                id
            }
        };
        hc_rows.push(vec![
            (i as i64 + 1).into(),
            i64::from(s.hosts[hc.host.index()].id).into(),
            category_id(hc.category.index()).into(),
            set_id.into(),
        ]);
    }
    report.directory_sets = set_ids.values().filter(|v| v.is_some()).count();
    insert(
        conn,
        "host_category",
        &["id", "host_id", "category_id", "up2date_set_id"],
        hc_rows,
    )
    .await?;
    report.host_categories = s.host_categories.len();
    let mut seen_urls = BTreeSet::new();
    let mut url_rows = Vec::new();
    for (i, hc) in s.host_categories.iter().enumerate() {
        for url in &hc.urls {
            if seen_urls.insert(url.as_str()) {
                url_rows.push(vec![(i as i64 + 1).into(), url.clone().into()]);
            } else {
                report.skipped.push(format!(
                    "URL {url} appears under more than one host category; kept the first"
                ));
            }
        }
    }
    insert(conn, "host_category_url", &["host_category_id", "url"], url_rows).await?;

    // Repositories need an arch and a version row.
    let arches: BTreeSet<&str> = s.repositories.iter().map(|r| r.arch.as_str()).collect();
    let arch_id: HashMap<&str, i64> = arches.iter().enumerate().map(|(i, &a)| (a, i as i64 + 1)).collect();
    insert(
        conn,
        "arch",
        &["id", "name"],
        arches.iter().map(|&a| vec![arch_id[a].into(), a.into()]),
    )
    .await?;
    let versions: BTreeSet<String> = s.repositories.iter().map(|r| version_of(&r.prefix)).collect();
    let version_id: HashMap<&str, i64> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i as i64 + 1))
        .collect();
    insert(
        conn,
        "version",
        &["id", "product_id", "name"],
        versions
            .iter()
            .map(|v| vec![version_id[v.as_str()].into(), product_id.into(), v.clone().into()]),
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
    insert(
        conn,
        "repository",
        &[
            "name",
            "prefix",
            "category_id",
            "version_id",
            "arch_id",
            "directory_id",
            "disabled",
        ],
        s.repositories.iter().map(|r| {
            let d = &s.directories[r.directory.index()];
            vec![
                d.name.clone().into(),
                r.prefix.clone().into(),
                category_id(d.category.index()).into(),
                version_id[version_of(&r.prefix).as_str()].into(),
                arch_id[r.arch.as_str()].into(),
                directory_id(r.directory.index()).into(),
                disabled.contains(r.prefix.as_str()).into(),
            ]
        }),
    )
    .await?;
    report.repositories = s.repositories.len();
    insert(
        conn,
        "repository_redirect",
        &["from_repo", "to_repo"],
        s.repository_redirects
            .iter()
            .map(|r| vec![r.from.clone().into(), r.to.clone().into()]),
    )
    .await?;

    let text = |d: &Option<mirrorvane_selector::snapshot::Digest>| Value::from(d.as_ref().map(|d| d.to_text()));
    let mut detail_rows = Vec::new();
    for f in &s.files {
        for d in &f.details {
            detail_rows.push(vec![
                directory_id(f.directory.index()).into(),
                f.name.clone().into(),
                i64::try_from(d.timestamp).unwrap_or(i64::MAX).into(),
                i64::try_from(d.size).unwrap_or(i64::MAX).into(),
                text(&d.md5),
                text(&d.sha1),
                text(&d.sha256),
                text(&d.sha512),
            ]);
        }
    }
    report.file_details = detail_rows.len();
    insert(
        conn,
        "file_detail",
        &[
            "directory_id",
            "filename",
            "timestamp",
            "size",
            "md5",
            "sha1",
            "sha256",
            "sha512",
        ],
        detail_rows,
    )
    .await?;

    insert(
        conn,
        "host_netblock",
        &["host_id", "netblock"],
        s.host_netblocks.iter().flat_map(|n| {
            n.hosts
                .iter()
                .map(move |h| vec![i64::from(s.hosts[h.index()].id).into(), n.network.to_string().into()])
        }),
    )
    .await?;
    insert(
        conn,
        "netblock_country",
        &["netblock", "country"],
        s.netblock_countries
            .iter()
            .map(|n| vec![n.network.to_string().into(), n.country.as_str().to_owned().into()]),
    )
    .await?;
    insert(
        conn,
        "country_continent_redirect",
        &["country", "continent"],
        s.continent_overrides.iter().map(|c| {
            vec![
                c.country.as_str().to_owned().into(),
                c.continent.as_str().to_owned().into(),
            ]
        }),
    )
    .await?;
    db.resync_identities(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
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
