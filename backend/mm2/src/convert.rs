//! MirrorManager cache → Mirrorvane [`Snapshot`].
//!
//! The cache is denormalised per directory (every directory repeats its host lists, country lists and URL ids);
//! the snapshot is not. Conversion therefore *recovers* what the generator flattened:
//!
//! - **categories** from each directory's `Subpath` (name = top directory + `/` + Subpath);
//! - **host categories** (a host's URLs for one category) from `ByHostId` + `HCUrlCache`;
//! - **host sets**, one per distinct set of host categories, shared by directories (25,000 directories of a
//!   Fedora-sized cache need far fewer sets);
//! - **private** hosts: carried by a directory (`ByHostId`) but in no `Global` list.
//!
//! `ByCountry` is not stored: it follows from `Global` and each host's country, and conversion checks that.
//! Whatever the converter must drop, default or overrule becomes a [`Warning`]; only input that leaves the
//! meaning of a directory undecidable (a `Subpath` that is not a suffix of its name) is a [`ConvertError`].

use std::collections::BTreeSet;
use std::collections::hash_map::Entry;

// foldhash instead of SipHash: the maps are keyed by ids and names from a trusted cache file, and hashing
// 1.8 million (host, category) pairs with SipHash was a fifth of the conversion time.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use ipnet::IpNet;
use mirrorvane_db::netblock::parse_network;
use mirrorvane_selector::snapshot::{
    Category, CategoryId, ContinentOverride, Digest, Directory, DirectoryId, FileDetail, FileEntry, Host, HostCategory,
    HostCategoryId, HostId, HostNetblock, HostSet, HostSetId, NetblockCountry, Reachability, Repository,
    RepositoryRedirect, Snapshot, Stats,
};
use mirrorvane_selector::{ContinentCode, CountryCode};

use super::proto::{FileDetailsType, MirrorList, MirrorListCacheType};
use super::warning::Warning;

/// The result of a conversion.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The snapshot, checked by [`validate`].
    pub snapshot: Snapshot,
    /// What was tolerated, in the order found.
    pub warnings: Vec<Warning>,
    /// Counts of the snapshot.
    pub stats: Stats,
}

/// Why a cache cannot be converted at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The category's top directory of this directory cannot be derived.
    #[error(
        "directory {directory:?}: Subpath {subpath:?} is not the end of the directory name, so its category's top \
         directory cannot be derived"
    )]
    SubpathMismatch {
        /// The directory.
        directory: String,
        /// Its Subpath.
        subpath: String,
    },
    /// More items than 32-bit ids can number.
    #[error("too many {what} ({count}) for 32-bit ids")]
    TooMany {
        /// What.
        what: &'static str,
        /// How many.
        count: usize,
    },
    /// The converter built something that points nowhere (a converter bug, never the input's fault).
    #[error("converted snapshot is inconsistent: {0}")]
    Invalid(String),
}

/// Converts a decoded cache. Never panics on bad input: oddities become warnings, undecidable input an error.
pub fn convert(cache: &MirrorList) -> Result<Conversion, ConvertError> {
    let mut warnings = Vec::new();
    let w = &mut warnings;

    let dirs = kept_directories(cache, w)?;
    let (categories, category_of) = categories(&dirs);
    let hosts = HostTable::build(cache, &dirs, w)?;
    let safe = |e: &&crate::proto::IntStringMap| {
        let bad = e.value.chars().any(|c| c.is_control() || c.is_whitespace());
        if bad {
            w.push(Warning::UnsafeUrl {
                id: e.key,
                url: format!("{:?}", e.value),
            });
        }
        !bad
    };
    let urls: HashMap<i64, &str> = first_by_key(
        cache
            .hc_url_cache
            .iter()
            .filter(safe)
            .map(|e| (e.key, e.value.as_str())),
    );

    let carried = carriage(&dirs, &category_of, &hosts, &categories, &urls, w);
    let (host_categories, hc_ids) = host_categories(&carried, &hosts.hosts, &categories, &urls, w)?;
    for &(dir, host) in &carried.counted_only {
        let hc = hc_ids
            .get(&(host, carried.dir_category[dir]))
            .map(|id| &host_categories[id.index()]);
        if hc.is_some_and(|hc| !hc.urls.is_empty()) {
            let host = hosts.hosts[host.index()].id;
            w.push(Warning::CountedWithoutUrls {
                host,
                directory: dirs[dir].src.directory.clone(),
            });
        }
    }
    let (host_sets, directories) = host_sets_and_directories(&dirs, &carried, &hc_ids)?;
    let dir_ids: HashMap<&str, DirectoryId> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.src.directory.as_str(), DirectoryId(i as u32)))
        .collect();

    let snapshot = Snapshot {
        created: cache.time.unwrap_or(0),
        hosts: hosts.hosts,
        categories,
        host_categories,
        host_sets,
        directories,
        repositories: repositories(cache, &dir_ids, w),
        disabled_prefixes: disabled_prefixes(cache),
        repository_redirects: repository_redirects(cache, w),
        files: files(cache, &dir_ids, w),
        host_netblocks: host_netblocks(cache, &hosts.ids, w),
        netblock_countries: netblock_countries(cache, w),
        continent_overrides: continent_overrides(cache, w),
    };
    validate(&snapshot)?;
    let stats = Stats::of(&snapshot);
    Ok(Conversion {
        snapshot,
        warnings,
        stats,
    })
}

/// The single validation call site of the converter: the selector's own validation and indexing, so a
/// converted snapshot that passes here is one every edge will load.
pub fn validate(snapshot: &Snapshot) -> Result<(), ConvertError> {
    mirrorvane_selector::Selector::new(snapshot.clone())
        .map(drop)
        .map_err(|e| ConvertError::Invalid(e.to_string()))
}

/// A directory kept for conversion, with its category's top directory.
struct Dir<'a> {
    src: &'a MirrorListCacheType,
    topdir: &'a str,
}

/// Directories in cache order, first of each name, with top directories derived from `Subpath`.
fn kept_directories<'a>(cache: &'a MirrorList, w: &mut Vec<Warning>) -> Result<Vec<Dir<'a>>, ConvertError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(cache.mirror_list_cache.len());
    for src in &cache.mirror_list_cache {
        let name = src.directory.as_str();
        if !seen.insert(name) {
            w.push(Warning::DuplicateDirectory { name: name.to_owned() });
            continue;
        }
        out.push(Dir {
            src,
            topdir: topdir(name, src.subpath.as_deref().unwrap_or(""))?,
        });
    }
    fits_u32("directories", out.len())?;
    Ok(out)
}

/// The category top directory of `name` given its `subpath`: the name minus `/subpath`.
fn topdir<'a>(name: &'a str, subpath: &str) -> Result<&'a str, ConvertError> {
    if name == subpath {
        return Ok("");
    }
    if subpath.is_empty() {
        return Ok(name);
    }
    name.strip_suffix(subpath)
        .and_then(|rest| rest.strip_suffix('/'))
        .ok_or_else(|| ConvertError::SubpathMismatch {
            directory: name.to_owned(),
            subpath: subpath.to_owned(),
        })
}

/// One category per distinct top directory, sorted by top directory.
fn categories<'a>(dirs: &[Dir<'a>]) -> (Vec<Category>, HashMap<&'a str, CategoryId>) {
    let topdirs: BTreeSet<&str> = dirs.iter().map(|d| d.topdir).collect();
    let categories = topdirs
        .iter()
        .map(|&t| Category {
            name: if t.is_empty() { "(root)".into() } else { t.into() },
            topdir: t.into(),
        })
        .collect();
    let ids = topdirs
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, CategoryId(i as u32)))
        .collect();
    (categories, ids)
}

/// Hosts by MirrorManager id, and the id → [`HostId`] map used everywhere else.
struct HostTable {
    hosts: Vec<Host>,
    ids: HashMap<i64, HostId>,
}

impl HostTable {
    fn build(cache: &MirrorList, dirs: &[Dir], w: &mut Vec<Warning>) -> Result<HostTable, ConvertError> {
        let mut all: BTreeSet<u32> = BTreeSet::new();
        let mut rejected: HashSet<i64> = HashSet::new();
        let mut note = |id: i64, map: &'static str, w: &mut Vec<Warning>| match u32::try_from(id) {
            Ok(id) => {
                all.insert(id);
            }
            Err(_) => {
                if rejected.insert(id) {
                    w.push(Warning::HostIdOutOfRange { id, map });
                }
            }
        };
        let mut with_content: HashSet<i64> = HashSet::new();
        let mut public: HashSet<i64> = HashSet::new();
        for d in dirs {
            for e in &d.src.by_host_id {
                note(e.key, "ByHostId", w);
                with_content.insert(e.key);
            }
            for &h in &d.src.global {
                note(h, "Global", w);
                public.insert(h);
            }
            for e in &d.src.by_country {
                e.value.iter().for_each(|&h| note(h, "ByCountry", w));
            }
        }
        for e in &cache.host_asn_cache {
            e.value.iter().for_each(|&h| note(h, "HostAsnCache", w));
        }
        for e in &cache.host_netblock_cache {
            e.value.iter().for_each(|&h| note(h, "HostNetblockCache", w));
        }
        cache
            .host_bandwidth_cache
            .iter()
            .for_each(|e| note(e.key, "HostBandwidthCache", w));
        cache
            .host_country_cache
            .iter()
            .for_each(|e| note(e.key, "HostCountryCache", w));
        cache
            .host_country_allowed_cache
            .iter()
            .for_each(|e| note(e.key, "HostCountryAllowedCache", w));
        fits_u32("hosts", all.len())?;

        let countries = first_by_key_warn(
            cache.host_country_cache.iter().map(|e| (e.key, e.value.as_str())),
            "HostCountryCache",
            w,
        );
        let bandwidths = first_by_key_warn(
            cache.host_bandwidth_cache.iter().map(|e| (e.key, e.value)),
            "HostBandwidthCache",
            w,
        );
        let allowed = first_by_key_warn(
            cache.host_country_allowed_cache.iter().map(|e| (e.key, &e.value)),
            "HostCountryAllowedCache",
            w,
        );
        let mut asns: HashMap<i64, Vec<u32>> = HashMap::new();
        for e in &cache.host_asn_cache {
            let Ok(asn) = u32::try_from(e.key) else {
                w.push(Warning::InvalidAsn { value: e.key });
                continue;
            };
            e.value.iter().for_each(|&h| asns.entry(h).or_default().push(asn));
        }

        let mut hosts = Vec::with_capacity(all.len());
        let mut ids = HashMap::with_capacity(all.len());
        for (i, id) in all.into_iter().enumerate() {
            let key = i64::from(id);
            ids.insert(key, HostId(i as u32));
            let country = countries.get(&key).and_then(|&c| {
                let code = CountryCode::parse(c.trim());
                if code.is_none() {
                    w.push(Warning::InvalidCountry {
                        host: id,
                        value: c.to_owned(),
                    });
                }
                code
            });
            let bandwidth = match bandwidths.get(&key) {
                Some(&b) => b.clamp(1, 10_000) as u32,
                None => {
                    w.push(Warning::MissingBandwidth { host: id });
                    1
                }
            };
            let mut host_asns = asns.remove(&key).unwrap_or_default();
            host_asns.sort_unstable();
            host_asns.dedup();
            let mut allowed_countries: Vec<CountryCode> = Vec::new();
            for c in allowed.get(&key).map(|v| v.as_slice()).unwrap_or_default() {
                match CountryCode::parse(c.trim()) {
                    Some(code) => allowed_countries.push(code),
                    None => w.push(Warning::InvalidAllowedCountry {
                        host: id,
                        value: c.clone(),
                    }),
                }
            }
            allowed_countries.sort_unstable();
            allowed_countries.dedup();
            hosts.push(Host {
                id,
                name: format!("host-{id}"),
                country,
                bandwidth,
                private: with_content.contains(&key) && !public.contains(&key),
                asns: host_asns,
                allowed_countries,
                reachability: Reachability::default(),
            });
        }
        Ok(HostTable { hosts, ids })
    }
}

/// Which hosts carry which directory, before host categories have ids.
struct Carriage {
    /// Per kept directory: its category.
    dir_category: Vec<CategoryId>,
    /// Per kept directory: hosts of ByHostId ∪ Global ∪ ByCountry, sorted, unique.
    members: Vec<Vec<HostId>>,
    /// (host, category) → hcurl ids of the first directory that listed the host in ByHostId (`None`: only
    /// ever counted, never given URLs).
    hcurls: HashMap<(HostId, CategoryId), Option<Vec<i64>>>,
    /// (directory index, host) pairs counted in Global/ByCountry without a ByHostId entry.
    counted_only: Vec<(usize, HostId)>,
}

/// Walks every directory once: membership, URL lists per (host, category), and the ByCountry check.
fn carriage(
    dirs: &[Dir],
    category_of: &HashMap<&str, CategoryId>,
    hosts: &HostTable,
    categories: &[Category],
    urls: &HashMap<i64, &str>,
    w: &mut Vec<Warning>,
) -> Carriage {
    let mut c = Carriage {
        dir_category: Vec::with_capacity(dirs.len()),
        members: Vec::with_capacity(dirs.len()),
        hcurls: HashMap::new(),
        counted_only: Vec::new(),
    };
    let host = |id: i64| hosts.ids.get(&id).copied();
    let resolve = |ids: &[i64]| ids.iter().map(|id| urls.get(id).copied()).collect::<Vec<_>>();
    for (di, d) in dirs.iter().enumerate() {
        // Every kept directory's top directory is in `category_of` (both come from `dirs`).
        let category = category_of.get(d.topdir).copied().unwrap_or(CategoryId(0));
        let mut with_urls = Vec::with_capacity(d.src.by_host_id.len());
        for e in &d.src.by_host_id {
            let Some(h) = host(e.key) else { continue };
            with_urls.push(h);
            match c.hcurls.entry((h, category)) {
                Entry::Vacant(v) => {
                    v.insert(Some(e.value.clone()));
                }
                Entry::Occupied(mut o) => match o.get() {
                    None => {
                        o.insert(Some(e.value.clone()));
                    }
                    Some(first) if *first != e.value && resolve(first) != resolve(&e.value) => {
                        w.push(Warning::InconsistentUrls {
                            host: hosts.hosts[h.index()].id,
                            category: categories[category.index()].topdir.clone(),
                            directory: d.src.directory.clone(),
                        });
                    }
                    Some(_) => {}
                },
            }
        }
        with_urls.sort_unstable();
        with_urls.dedup();
        let mut members = with_urls.clone();
        let counted = d
            .src
            .global
            .iter()
            .chain(d.src.by_country.iter().flat_map(|e| e.value.iter()));
        for h in counted.filter_map(|&id| host(id)) {
            if with_urls.binary_search(&h).is_err() {
                c.hcurls.entry((h, category)).or_insert(None);
                members.push(h);
            }
        }
        members.sort_unstable();
        members.dedup();
        for &h in &members {
            if with_urls.binary_search(&h).is_err() {
                c.counted_only.push((di, h));
            }
        }
        if !by_country_matches(d.src, hosts, w) {
            w.push(Warning::ByCountryMismatch {
                directory: d.src.directory.clone(),
            });
        }
        c.dir_category.push(category);
        c.members.push(members);
    }
    c
}

/// True when `ByCountry` is exactly `Global` grouped by each host's country.
fn by_country_matches(d: &MirrorListCacheType, hosts: &HostTable, w: &mut Vec<Warning>) -> bool {
    let host = |id: &i64| hosts.ids.get(id).copied();
    let mut derived: Vec<(CountryCode, HostId)> = d
        .global
        .iter()
        .filter_map(host)
        .filter_map(|h| Some((hosts.hosts[h.index()].country?, h)))
        .collect();
    let mut listed: Vec<(CountryCode, HostId)> = Vec::with_capacity(derived.len());
    let mut ok = true;
    for e in &d.by_country {
        match CountryCode::parse(e.key.trim()) {
            Some(cc) => listed.extend(e.value.iter().filter_map(host).map(|h| (cc, h))),
            None => {
                w.push(Warning::InvalidCode {
                    map: "ByCountry",
                    value: e.key.clone(),
                });
                ok = false;
            }
        }
    }
    for v in [&mut derived, &mut listed] {
        v.sort_unstable();
        v.dedup();
    }
    ok && derived == listed
}

/// Host categories sorted by (category, host) with resolved URLs, and their ids.
fn host_categories(
    carried: &Carriage,
    hosts: &[Host],
    categories: &[Category],
    urls: &HashMap<i64, &str>,
    w: &mut Vec<Warning>,
) -> Result<(Vec<HostCategory>, HcIds), ConvertError> {
    let mut keys: Vec<(HostId, CategoryId)> = carried.hcurls.keys().copied().collect();
    keys.sort_unstable_by_key(|&(h, c)| (c, h));
    fits_u32("host categories", keys.len())?;
    let mut list = Vec::with_capacity(keys.len());
    let mut ids = HashMap::with_capacity(keys.len());
    for (i, key @ (host, category)) in keys.into_iter().enumerate() {
        let hcurls = carried.hcurls.get(&key).and_then(|v| v.as_deref()).unwrap_or_default();
        let mut resolved = Vec::with_capacity(hcurls.len());
        for id in hcurls {
            match urls.get(id) {
                Some(url) => resolved.push((*url).to_owned()),
                None => w.push(Warning::UnknownHcUrl {
                    host: hosts[host.index()].id,
                    category: categories[category.index()].topdir.clone(),
                    id: *id,
                }),
            }
        }
        ids.insert(key, HostCategoryId(i as u32));
        list.push(HostCategory {
            host,
            category,
            urls: resolved,
        });
    }
    Ok((list, ids))
}

/// (host, category) → its host category.
type HcIds = HashMap<(HostId, CategoryId), HostCategoryId>;

/// Directories in cache order, each pointing at a shared host set.
fn host_sets_and_directories(
    dirs: &[Dir],
    carried: &Carriage,
    hc_ids: &HcIds,
) -> Result<(Vec<HostSet>, Vec<Directory>), ConvertError> {
    let mut sets: Vec<HostSet> = Vec::new();
    let mut set_ids: HashMap<HostSet, HostSetId> = HashMap::new();
    let mut directories = Vec::with_capacity(dirs.len());
    for (di, d) in dirs.iter().enumerate() {
        let category = carried.dir_category[di];
        let members = carried.members[di]
            .iter()
            .filter_map(|&h| hc_ids.get(&(h, category)).copied())
            .collect();
        let set = HostSet::new(members);
        let next = HostSetId(sets.len() as u32);
        let id = *set_ids.entry(set).or_insert_with_key(|set| {
            sets.push(set.clone());
            next
        });
        directories.push(Directory {
            name: d.src.directory.clone(),
            category,
            hosts: id,
        });
    }
    fits_u32("host sets", sets.len())?;
    Ok((sets, directories))
}

/// `"prefix+arch" → directory`, for keys with exactly one `+`, in cache order.
fn repositories(cache: &MirrorList, dirs: &HashMap<&str, DirectoryId>, w: &mut Vec<Warning>) -> Vec<Repository> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for e in &cache.repo_arch_to_directory_name {
        let (Some((prefix, arch)), 1) = (e.key.split_once('+'), e.key.matches('+').count()) else {
            w.push(Warning::InvalidRepositoryKey { key: e.key.clone() });
            continue;
        };
        let Some(&directory) = dirs.get(e.value.as_str()) else {
            w.push(Warning::UnknownDirectory {
                map: "RepoArchToDirectoryName",
                name: e.value.clone(),
            });
            continue;
        };
        if !seen.insert(e.key.as_str()) {
            w.push(Warning::DuplicateKey {
                map: "RepoArchToDirectoryName",
                key: e.key.clone(),
            });
            continue;
        }
        out.push(Repository {
            prefix: prefix.to_owned(),
            arch: arch.to_owned(),
            directory,
        });
    }
    out
}

/// Prefixes with a `true` entry, first-seen order. The generator writes one entry per repository, so a prefix
/// with several arches is listed several times; that is normal and not warned about.
fn disabled_prefixes(cache: &MirrorList) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for e in cache.disabled_repository_cache.iter().filter(|e| e.value) {
        if seen.insert(e.key.as_str()) {
            out.push(e.key.clone());
        }
    }
    out
}

/// Repository aliases, first of each `from`.
fn repository_redirects(cache: &MirrorList, w: &mut Vec<Warning>) -> Vec<RepositoryRedirect> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for e in &cache.repository_redirect_cache {
        if !seen.insert(e.key.as_str()) {
            w.push(Warning::DuplicateKey {
                map: "RepositoryRedirectCache",
                key: e.key.clone(),
            });
            continue;
        }
        out.push(RepositoryRedirect {
            from: e.key.clone(),
            to: e.value.clone(),
        });
    }
    out
}

/// Metalink file details, keeping the cache's newest-first order.
fn files(cache: &MirrorList, dirs: &HashMap<&str, DirectoryId>, w: &mut Vec<Warning>) -> Vec<FileEntry> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for d in &cache.file_details_cache {
        let Some(&directory) = dirs.get(d.directory.as_str()) else {
            w.push(Warning::UnknownDirectory {
                map: "FileDetailsCache",
                name: d.directory.clone(),
            });
            continue;
        };
        for f in &d.file_details_cache_files {
            if !seen.insert((directory, f.filename.as_str())) {
                let key = format!("{}/{}", d.directory, f.filename);
                w.push(Warning::DuplicateKey {
                    map: "FileDetailsCache",
                    key,
                });
                continue;
            }
            let details = f.file_details.iter().map(file_detail).collect();
            out.push(FileEntry {
                directory,
                name: f.filename.clone(),
                details,
            });
        }
    }
    out
}

fn file_detail(d: &FileDetailsType) -> FileDetail {
    let digest = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(Digest::from_text);
    FileDetail {
        timestamp: d.time_stamp,
        size: d.size,
        md5: digest(&d.md5),
        sha1: digest(&d.sha1),
        sha256: digest(&d.sha256),
        sha512: digest(&d.sha512),
    }
}

/// Host netblocks; equal networks (after dropping host bits) are merged.
fn host_netblocks(cache: &MirrorList, hosts: &HashMap<i64, HostId>, w: &mut Vec<Warning>) -> Vec<HostNetblock> {
    let mut index: HashMap<IpNet, usize> = HashMap::new();
    let mut out: Vec<HostNetblock> = Vec::new();
    for e in &cache.host_netblock_cache {
        let Some(network) = parse_network(&e.key) else {
            w.push(Warning::InvalidNetwork {
                map: "HostNetblockCache",
                value: e.key.clone(),
            });
            continue;
        };
        let i = *index.entry(network).or_insert_with(|| {
            out.push(HostNetblock {
                network,
                hosts: Vec::new(),
            });
            out.len() - 1
        });
        out[i]
            .hosts
            .extend(e.value.iter().filter_map(|h| hosts.get(h).copied()));
    }
    for n in &mut out {
        n.hosts.sort_unstable();
        n.hosts.dedup();
    }
    out.retain(|n| !n.hosts.is_empty());
    out
}

/// Netblock → country overrides, in cache order (MirrorManager takes the first match).
fn netblock_countries(cache: &MirrorList, w: &mut Vec<Warning>) -> Vec<NetblockCountry> {
    let mut out = Vec::new();
    for e in &cache.netblock_country_cache {
        let Some(network) = parse_network(&e.key) else {
            w.push(Warning::InvalidNetwork {
                map: "NetblockCountryCache",
                value: e.key.clone(),
            });
            continue;
        };
        let Some(country) = CountryCode::parse(e.value.trim()) else {
            w.push(Warning::InvalidCode {
                map: "NetblockCountryCache",
                value: e.value.clone(),
            });
            continue;
        };
        out.push(NetblockCountry { network, country });
    }
    out
}

/// Country → continent overrides, first of each country.
fn continent_overrides(cache: &MirrorList, w: &mut Vec<Warning>) -> Vec<ContinentOverride> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for e in &cache.country_continent_redirect_cache {
        let (Some(country), Some(continent)) = (CountryCode::parse(e.key.trim()), ContinentCode::parse(e.value.trim()))
        else {
            let value = format!("{} → {}", e.key, e.value);
            w.push(Warning::InvalidCode {
                map: "CountryContinentRedirectCache",
                value,
            });
            continue;
        };
        if !seen.insert(country) {
            w.push(Warning::DuplicateKey {
                map: "CountryContinentRedirectCache",
                key: e.key.clone(),
            });
            continue;
        }
        out.push(ContinentOverride { country, continent });
    }
    out
}

/// A map from key/value pairs keeping the first value of each key.
fn first_by_key<K: std::hash::Hash + Eq, V>(pairs: impl Iterator<Item = (K, V)>) -> HashMap<K, V> {
    let mut map = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

/// Like [`first_by_key`], warning about repeated keys.
fn first_by_key_warn<V>(
    pairs: impl Iterator<Item = (i64, V)>,
    map: &'static str,
    w: &mut Vec<Warning>,
) -> HashMap<i64, V> {
    let mut out = HashMap::new();
    for (k, v) in pairs {
        match out.entry(k) {
            Entry::Vacant(e) => {
                e.insert(v);
            }
            Entry::Occupied(_) => w.push(Warning::DuplicateKey {
                map,
                key: k.to_string(),
            }),
        }
    }
    out
}

fn fits_u32(what: &'static str, count: usize) -> Result<(), ConvertError> {
    match u32::try_from(count) {
        Ok(_) => Ok(()),
        Err(_) => Err(ConvertError::TooMany { what, count }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topdir_from_subpath() {
        assert_eq!(
            topdir("pub/fedora/linux/releases/41", "releases/41"),
            Ok("pub/fedora/linux")
        );
        assert_eq!(topdir("pub/fedora/linux", ""), Ok("pub/fedora/linux"));
        assert_eq!(topdir("directory/repodata", "directory/repodata"), Ok(""));
        assert_eq!(topdir("", ""), Ok(""));
        assert!(matches!(
            topdir("pub/fedora/linux", "epel/9"),
            Err(ConvertError::SubpathMismatch { .. })
        ));
        // A suffix that does not start at a path component boundary is no subpath.
        assert!(topdir("pub/fedoralinux", "linux").is_err());
    }
}
