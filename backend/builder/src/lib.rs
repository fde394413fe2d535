//! Database → [`Snapshot`]: what `mirrorvane snapshot` writes and `mirrorvane serve` publishes.
//!
//! The eligibility rules are MirrorManager's generator's (reference §4.2): a host is *active* when the host's
//! and its site's admin and user flags are all set; an active host's category carries a directory when it is
//! always up to date or the crawler found that directory up to date; private hosts (host or site flag) are kept
//! but only reachable through netblocks and ASNs (the selector's rule); bandwidths are clamped to 1..=10000;
//! only public URLs are listed. Where the generator silently fell back (a missing host row, an unknown arch, an
//! unparsable country) the builder stops with [`BuildError`] naming the row.
//!
//! Ordering is canonical so equal data gives equal bytes: hosts by id, categories by top directory, host
//! categories by (category, host), directories by id — the order `mirrorvane_mm2::convert` produces for the same
//! data, which is what lets the differential tests compare answers byte for byte.

mod rows;
pub mod write;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use foldhash::{HashMap, HashMapExt};
use mirrorvane_db::netblock::{self, Netblock, Origin, resolve_name};
use mirrorvane_db::{Database, DbError};
use mirrorvane_selector::snapshot::{
    Category, CategoryId, ContinentOverride, Digest, Directory, DirectoryId, FileDetail, FileEntry, Host, HostCategory,
    HostCategoryId, HostId, HostNetblock, HostSet, HostSetId, NetblockCountry, Reachability, Repository,
    RepositoryRedirect, Snapshot, Stats,
};
use mirrorvane_selector::{ContinentCode, CountryCode};

use rows::Rows;

/// Why a snapshot cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Reading failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A row breaks a rule; the message names it.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
    /// The selector refuses the result (a builder bug, reported rather than written).
    #[error("built snapshot is invalid: {0}")]
    Invalid(String),
}

/// Something the builder tolerated; printed, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildWarning {
    /// A netblock given as a DNS name did not resolve; the host is offered to no client by it this time.
    UnresolvedNetblock {
        /// Host id.
        host: i64,
        /// The name.
        name: String,
    },
    /// A stored netblock the shared check refuses (written before the check was as strict, or by hand); the row
    /// is left out of this snapshot, and the build goes on.
    BadNetblock {
        /// Host id, or `None` for a `netblock_country` row.
        host: Option<i64>,
        /// Why.
        problem: mirrorvane_db::netblock::NetblockError,
    },
    /// A host URL with a control character or whitespace (it would inject lines into mirrorlists); left out.
    BadUrl {
        /// Host id.
        host: i64,
        /// The URL, escaped.
        url: String,
    },
    /// An active host is in no answer: none of its categories carries a directory up to date (nothing has
    /// checked it yet, or everything it had went stale), or it has no category at all.
    CarriesNothing {
        /// Host id.
        host: i64,
        /// Host name.
        name: String,
        /// Whether it has any category.
        has_categories: bool,
    },
}

impl std::fmt::Display for BuildWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildWarning::UnresolvedNetblock { host, name } => {
                write!(
                    f,
                    "host {host}: netblock {name:?} does not resolve; skipped for this snapshot"
                )
            }
            BuildWarning::BadNetblock {
                host: Some(host),
                problem,
            } => {
                write!(f, "host {host}: {problem}; left out of this snapshot")
            }
            BuildWarning::BadNetblock { host: None, problem } => {
                write!(f, "netblock_country: {problem}; left out of this snapshot")
            }
            BuildWarning::BadUrl { host, url } => write!(
                f,
                "host {host}: URL {url} holds a control character or whitespace; left out of this snapshot"
            ),
            BuildWarning::CarriesNothing {
                host,
                name,
                has_categories: false,
            } => write!(f, "host {host} ({name}) has no category: it is in no answer"),
            BuildWarning::CarriesNothing { host, name, .. } => write!(
                f,
                "host {host} ({name}) carries no directory up to date, so it is in no answer: no crawl or \
                 check-in has found its content current (or mark its category always up to date)"
            ),
        }
    }
}

/// A built snapshot with what it took.
#[derive(Debug, Clone)]
pub struct Built {
    /// The snapshot, accepted by the selector.
    pub snapshot: Snapshot,
    /// Counts.
    pub stats: Stats,
    /// What was tolerated.
    pub warnings: Vec<BuildWarning>,
    /// Time spent reading the database.
    pub reading: Duration,
}

/// Options of a build.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The snapshot's creation time (Unix seconds).
    pub created: u64,
    /// Resolve netblocks given as DNS names (MirrorManager does); tests turn it off to stay offline.
    pub resolve_names: bool,
}

/// Reads everything the selector needs and assembles the snapshot.
pub async fn build(db: &Database, options: Options) -> Result<Built, BuildError> {
    let t = Instant::now();
    let rows = Rows::read(db).await?;
    let reading = t.elapsed();
    let (snapshot, warnings) = assemble(rows, options)?;
    mirrorvane_selector::Selector::new(snapshot.clone()).map_err(|e| BuildError::Invalid(e.to_string()))?;
    let stats = Stats::of(&snapshot);
    Ok(Built {
        snapshot,
        stats,
        warnings,
        reading,
    })
}

fn inconsistent(msg: String) -> BuildError {
    BuildError::Inconsistent(msg)
}

fn continent(value: &str, what: impl FnOnce() -> String) -> Result<ContinentCode, BuildError> {
    ContinentCode::parse(value.trim())
        .filter(|c| c.0.iter().all(|&b| b.is_ascii_alphabetic() || b == b'-'))
        .ok_or_else(|| inconsistent(format!("{}: {value:?} is not a continent code", what())))
}

fn country(value: &str, what: impl FnOnce() -> String) -> Result<CountryCode, BuildError> {
    CountryCode::parse(&value.trim().to_ascii_uppercase())
        .filter(|c| c.0.iter().all(u8::is_ascii_alphabetic))
        .ok_or_else(|| inconsistent(format!("{}: {value:?} is not a two-letter code", what())))
}

/// `map[key]`, or an error naming the row that points nowhere (the schema's foreign keys prevent it; a
/// damaged or hand-edited database may not).
fn lookup<V: Copy>(map: &HashMap<i64, V>, key: i64, what: impl FnOnce() -> String) -> Result<V, BuildError> {
    map.get(&key)
        .copied()
        .ok_or_else(|| inconsistent(format!("{} refers to a missing row {key}", what())))
}

fn assemble(rows: Rows, options: Options) -> Result<(Snapshot, Vec<BuildWarning>), BuildError> {
    let mut warnings = Vec::new();
    let (hosts, host_index) = hosts(&rows)?;
    let (categories, category_index) = categories(&rows)?;
    let (directory_index, dirs_of_category) = place_directories(&rows, &categories, &category_index)?;
    let carried = host_categories(
        &rows,
        &host_index,
        &category_index,
        &directory_index,
        &dirs_of_category,
        &mut warnings,
    )?;
    let (host_sets, directories) = share_host_sets(&rows, &category_index, carried.members)?;
    let (repositories, disabled_prefixes) = repositories(&rows, &directory_index)?;
    warnings.extend(idle_hosts(&rows));
    let snapshot = Snapshot {
        created: options.created,
        hosts,
        categories,
        host_categories: carried.host_categories,
        host_sets,
        directories,
        repositories,
        disabled_prefixes,
        repository_redirects: rows
            .redirects
            .iter()
            .map(|r| RepositoryRedirect {
                from: r.from_repo.clone(),
                to: r.to_repo.clone(),
            })
            .collect(),
        files: files(&rows, &directory_index)?,
        host_netblocks: host_netblocks(&rows, &host_index, options, &mut warnings)?,
        netblock_countries: netblock_countries(&rows, &mut warnings)?,
        continent_overrides: continent_overrides(&rows)?,
    };
    Ok((snapshot, warnings))
}

/// Hosts by id, with their ASNs (own and peers, when they serve their ASN's clients) and allowed countries.
fn hosts(rows: &Rows) -> Result<(Vec<Host>, HashMap<i64, HostId>), BuildError> {
    let mut hosts = Vec::with_capacity(rows.hosts.len());
    let mut host_index: HashMap<i64, HostId> = HashMap::with_capacity(rows.hosts.len());
    let mut peer_asns: HashMap<i64, Vec<u32>> = HashMap::new();
    for p in &rows.peer_asns {
        let asn = u32::try_from(p.asn).map_err(|_| inconsistent(format!("host {}: peer ASN {}", p.host_id, p.asn)))?;
        peer_asns.entry(p.host_id).or_default().push(asn);
    }
    let mut allowed: HashMap<i64, Vec<CountryCode>> = HashMap::new();
    for a in &rows.allowed_countries {
        let code = country(&a.country, || format!("host {} allowed country", a.host_id))?;
        allowed.entry(a.host_id).or_default().push(code);
    }
    for (i, h) in rows.hosts.iter().enumerate() {
        let id = u32::try_from(h.id).map_err(|_| inconsistent(format!("host id {} does not fit 32 bits", h.id)))?;
        let active = bool::from(h.active);
        let mut asns = Vec::new();
        if h.asn_clients.into() {
            if let Some(asn) = h.asn {
                asns.push(u32::try_from(asn).map_err(|_| inconsistent(format!("host {}: ASN {asn}", h.id)))?);
            }
            // Peer ASNs: MirrorManager's Python generator honoured them, the Rust one dropped them; admins add
            // them to be used, so we do (ARCHITECTURE.md, differences).
            asns.extend(peer_asns.remove(&h.id).unwrap_or_default());
        }
        asns.sort_unstable();
        asns.dedup();
        let mut allowed_countries = if active {
            allowed.remove(&h.id).unwrap_or_default()
        } else {
            Vec::new()
        };
        allowed_countries.sort_unstable();
        allowed_countries.dedup();
        hosts.push(Host {
            id,
            name: h.name.clone(),
            country: Some(country(&h.country, || format!("host {} ({})", h.id, h.name))?),
            bandwidth: h.bandwidth_int.clamp(1, 10_000) as u32,
            private: h.private.into(),
            asns,
            allowed_countries,
            reachability: Reachability {
                ipv4: mirrorvane_db::opt_flag(h.ipv4_reachable),
                ipv6: mirrorvane_db::opt_flag(h.ipv6_reachable),
            },
        });
        host_index.insert(h.id, HostId(i as u32));
    }
    Ok((hosts, host_index))
}

/// Categories by top directory; two categories may not share one.
fn categories(rows: &Rows) -> Result<(Vec<Category>, HashMap<i64, CategoryId>), BuildError> {
    let mut cats: Vec<&rows::CategoryRow> = rows.categories.iter().collect();
    cats.sort_by(|a, b| a.topdir.cmp(&b.topdir).then(a.id.cmp(&b.id)));
    if let Some(w) = cats.windows(2).find(|w| w[0].topdir == w[1].topdir) {
        return Err(inconsistent(format!(
            "categories {:?} and {:?} share the top directory {:?}",
            w[0].name, w[1].name, w[0].topdir
        )));
    }
    let index = cats
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, CategoryId(i as u32)))
        .collect();
    let categories = cats
        .iter()
        .map(|c| Category {
            name: c.name.clone(),
            topdir: c.topdir.clone(),
        })
        .collect();
    Ok((categories, index))
}

/// Directories by id, each below its category's top directory: their snapshot ids, and the row positions of
/// each category's directories.
#[allow(clippy::type_complexity)]
fn place_directories(
    rows: &Rows,
    categories: &[Category],
    category_index: &HashMap<i64, CategoryId>,
) -> Result<(HashMap<i64, DirectoryId>, HashMap<i64, Vec<usize>>), BuildError> {
    let mut directory_index: HashMap<i64, DirectoryId> = HashMap::with_capacity(rows.directories.len());
    let mut dirs_of_category: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, d) in rows.directories.iter().enumerate() {
        let c = lookup(category_index, d.category_id, || format!("directory {:?}", d.name))?;
        let topdir = &categories[c.index()].topdir;
        let below = topdir.is_empty()
            || d.name == *topdir
            || (d.name.starts_with(topdir.as_str()) && d.name.as_bytes().get(topdir.len()) == Some(&b'/'));
        if !below {
            return Err(inconsistent(format!(
                "directory {:?} is not below the top directory {topdir:?} of its category {:?}",
                d.name,
                categories[c.index()].name
            )));
        }
        directory_index.insert(d.id, DirectoryId(i as u32));
        dirs_of_category.entry(d.category_id).or_default().push(i);
    }
    Ok((directory_index, dirs_of_category))
}

/// The host categories a snapshot lists, and per directory row the host categories carrying it.
struct Carried {
    host_categories: Vec<HostCategory>,
    members: Vec<Vec<HostCategoryId>>,
}

/// Host categories of active hosts that carry something, by (category, host), with their public URLs.
fn host_categories(
    rows: &Rows,
    host_index: &HashMap<i64, HostId>,
    category_index: &HashMap<i64, CategoryId>,
    directory_index: &HashMap<i64, DirectoryId>,
    dirs_of_category: &HashMap<i64, Vec<usize>>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Carried, BuildError> {
    let mut urls: HashMap<i64, Vec<String>> = HashMap::new();
    for u in &rows.urls {
        // Input refuses these; a row written before that, or by hand, must still not reach an answer.
        if u.url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            let host = rows
                .host_categories
                .iter()
                .find(|hc| hc.id == u.host_category_id)
                .map_or(0, |hc| hc.host);
            warnings.push(BuildWarning::BadUrl {
                host,
                url: format!("{:?}", u.url),
            });
            continue;
        }
        urls.entry(u.host_category_id).or_default().push(u.url.clone());
    }
    let mut hcs: Vec<(CategoryId, HostId, &rows::HostCategoryRow)> = Vec::new();
    for hc in &rows.host_categories {
        let h = lookup(host_index, hc.host, || format!("host_category {}", hc.id))?;
        let host = &rows.hosts[h.index()];
        let carries = hc.always_up2date || !hc.up2date.is_empty();
        let listed = urls.get(&hc.id).is_some_and(|u| !u.is_empty());
        // A private host without public URLs is in no list of MirrorManager's cache at all.
        if bool::from(host.active) && carries && (listed || !bool::from(host.private)) {
            hcs.push((
                lookup(category_index, hc.category, || format!("host_category {}", hc.id))?,
                h,
                hc,
            ));
        }
    }
    hcs.sort_by_key(|&(c, h, _)| (c, h));
    let max_directory_id = rows.directories.iter().map(|d| d.id).max().unwrap_or(0);
    let mut members: Vec<Vec<HostCategoryId>> = vec![Vec::new(); rows.directories.len()];
    let mut host_categories = Vec::with_capacity(hcs.len());
    for (i, &(category, host, hc)) in hcs.iter().enumerate() {
        let id = HostCategoryId(i as u32);
        if hc.always_up2date {
            for &d in dirs_of_category
                .get(&hc.category)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                members[d].push(id);
            }
        } else {
            for dir in hc.up2date.iter_up_to(max_directory_id) {
                // Up-to-date marks for directories of another category (moved since the crawl) do not count.
                if let Some(&d) = directory_index.get(&dir)
                    && rows.directories[d.index()].category_id == hc.category
                {
                    members[d.index()].push(id);
                }
            }
        }
        host_categories.push(HostCategory {
            host,
            category,
            urls: urls.remove(&hc.id).unwrap_or_default(),
        });
    }
    Ok(Carried {
        host_categories,
        members,
    })
}

/// Active hosts that no answer can name, for the build's warnings.
fn idle_hosts(rows: &Rows) -> Vec<BuildWarning> {
    let mut categories: HashMap<i64, bool> = HashMap::new();
    for hc in &rows.host_categories {
        *categories.entry(hc.host).or_default() |= hc.always_up2date || !hc.up2date.is_empty();
    }
    rows.hosts
        .iter()
        .filter(|h| bool::from(h.active))
        .filter_map(|h| match categories.get(&h.id) {
            Some(true) => None,
            carries => Some(BuildWarning::CarriesNothing {
                host: h.id,
                name: h.name.clone(),
                has_categories: carries.is_some(),
            }),
        })
        .collect()
}

/// Directories in id order, each pointing at a host set shared by every directory with the same carriers.
fn share_host_sets(
    rows: &Rows,
    category_index: &HashMap<i64, CategoryId>,
    members: Vec<Vec<HostCategoryId>>,
) -> Result<(Vec<HostSet>, Vec<Directory>), BuildError> {
    let mut host_sets: Vec<HostSet> = Vec::new();
    let mut set_index: HashMap<Vec<HostCategoryId>, HostSetId> = HashMap::new();
    let mut directories = Vec::with_capacity(rows.directories.len());
    for (d, list) in rows.directories.iter().zip(members) {
        let next = HostSetId(host_sets.len() as u32);
        let id = *set_index.entry(list).or_insert_with_key(|list| {
            host_sets.push(HostSet::new(list.clone()));
            next
        });
        directories.push(Directory {
            name: d.name.clone(),
            category: lookup(category_index, d.category_id, || format!("directory {:?}", d.name))?,
            hosts: id,
        });
    }
    Ok((host_sets, directories))
}

/// Repositories and the prefixes that are disabled.
fn repositories(
    rows: &Rows,
    directory_index: &HashMap<i64, DirectoryId>,
) -> Result<(Vec<Repository>, Vec<String>), BuildError> {
    let mut repositories = Vec::new();
    let mut disabled = Vec::new();
    for r in &rows.repositories {
        repositories.push(Repository {
            prefix: r.prefix.clone(),
            arch: r.arch.clone(),
            directory: lookup(directory_index, r.directory_id, || format!("repository {}", r.prefix))?,
        });
        if bool::from(r.disabled) && !disabled.contains(&r.prefix) {
            disabled.push(r.prefix.clone());
        }
    }
    Ok((repositories, disabled))
}

/// File details grouped per file, newest first.
fn files(rows: &Rows, directory_index: &HashMap<i64, DirectoryId>) -> Result<Vec<FileEntry>, BuildError> {
    let mut files: Vec<FileEntry> = Vec::new();
    for f in &rows.file_details {
        let directory = lookup(directory_index, f.directory_id, || {
            format!("file_detail {}", f.filename)
        })?;
        let detail = FileDetail {
            timestamp: u64::try_from(f.timestamp).unwrap_or(0),
            size: u64::try_from(f.size).unwrap_or(0),
            md5: digest(&f.md5),
            sha1: digest(&f.sha1),
            sha256: digest(&f.sha256),
            sha512: digest(&f.sha512),
        };
        match files.last_mut() {
            Some(last) if last.directory == directory && last.name == f.filename => last.details.push(detail),
            _ => files.push(FileEntry {
                directory,
                name: f.filename.clone(),
                details: vec![detail],
            }),
        }
    }
    Ok(files)
}

/// Netblocks of active hosts, aggregated per network (DNS names resolved when asked).
fn host_netblocks(
    rows: &Rows,
    host_index: &HashMap<i64, HostId>,
    options: Options,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<HostNetblock>, BuildError> {
    let mut by_network: BTreeMap<ipnet::IpNet, Vec<HostId>> = BTreeMap::new();
    for n in &rows.netblocks {
        let h = lookup(host_index, n.host_id, || format!("host_netblock {}", n.netblock))?;
        if !bool::from(rows.hosts[h.index()].active) {
            continue;
        }
        let networks = match netblock::check(&n.netblock, Origin::Stored) {
            Ok(Netblock::Network(net)) => vec![net],
            Ok(Netblock::Name(name)) if options.resolve_names => match resolve_name(&name) {
                Ok(nets) if !nets.is_empty() => nets,
                _ => {
                    warnings.push(BuildWarning::UnresolvedNetblock { host: n.host_id, name });
                    continue;
                }
            },
            Ok(Netblock::Name(_)) => continue,
            Err(problem) => {
                warnings.push(BuildWarning::BadNetblock {
                    host: Some(n.host_id),
                    problem,
                });
                continue;
            }
        };
        for net in networks {
            let hosts = by_network.entry(net).or_default();
            // Row order, like MirrorManager's generator: the order of a netblock's hosts is the order their
            // candidates are considered in.
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
    }
    Ok(by_network
        .into_iter()
        .map(|(network, hosts)| HostNetblock { network, hosts })
        .collect())
}

fn netblock_countries(rows: &Rows, warnings: &mut Vec<BuildWarning>) -> Result<Vec<NetblockCountry>, BuildError> {
    let mut out = Vec::new();
    for n in &rows.netblock_countries {
        let network = match netblock::check(&n.netblock, Origin::Stored) {
            Ok(Netblock::Network(network)) => network,
            Ok(Netblock::Name(_)) => {
                let problem = netblock::NetblockError::Unparseable(n.netblock.clone());
                warnings.push(BuildWarning::BadNetblock { host: None, problem });
                continue;
            }
            Err(problem) => {
                warnings.push(BuildWarning::BadNetblock { host: None, problem });
                continue;
            }
        };
        out.push(NetblockCountry {
            network,
            country: country(&n.country, || format!("netblock_country {}", n.netblock))?,
        });
    }
    Ok(out)
}

fn continent_overrides(rows: &Rows) -> Result<Vec<ContinentOverride>, BuildError> {
    rows.continents
        .iter()
        .map(|c| {
            Ok(ContinentOverride {
                country: country(&c.country, || "country_continent_redirect".into())?,
                continent: continent(&c.continent, || format!("continent of {}", c.country))?,
            })
        })
        .collect()
}

fn digest(text: &Option<String>) -> Option<Digest> {
    text.as_deref().filter(|t| !t.is_empty()).map(Digest::from_text)
}
