//! [`Selector`]: a validated snapshot plus the indexes built once at load, so a request does hash and trie
//! lookups only — no scan of a snapshot-wide table.
//!
//! Validation runs here, before any index: every id must point at something, names must be unique where a
//! lookup needs them to be, codes must be codes. A snapshot that passes can be served without a single
//! bounds-check failure, which is what lets the request path index without `get`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::hash::{BuildHasher, Hash};
use core::net::IpAddr;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::codes::{self, CodeSet, ContinentCode, CountryCode};
use crate::nearby::Nearby;
use crate::prefix::PrefixMap;
use crate::render::FileBlocks;
use crate::snapshot::{self, DirectoryId, HostCategoryId, HostId, Snapshot, SnapshotError};
use crate::urls::{self, Url, UrlTable};

/// A snapshot ready to answer requests. Immutable; share it behind an `Arc` and swap the whole value to reload.
pub struct Selector {
    pub(crate) snap: Snapshot,
    hasher: FixedState,
    directories: HashTable<u32>,
    /// The longest directory name: a longer `path=` names nothing, found without hashing it (a 16 KB path would
    /// otherwise be hashed for each lookup).
    longest_directory: usize,
    repositories: HashTable<u32>,
    redirects: HashTable<u32>,
    disabled: HashTable<u32>,
    files: HashTable<u32>,
    /// Per repository: its `…/repodata` directory, where metalinks look for hosts and `repomd.xml`.
    pub(crate) repodata: Vec<Option<DirectoryId>>,
    /// The `# repo=…&arch=…` lines of the "invalid repo or arch" answer, sorted, built once.
    pub(crate) available: String,
    pub(crate) host_netblocks: PrefixMap<Vec<HostId>>,
    netblock_countries: PrefixMap<CountryCode>,
    asn_hosts: hashbrown::HashMap<u32, Vec<HostId>, FixedState>,
    continent_overrides: Vec<(CountryCode, ContinentCode)>,
    /// Per host category: what the decision's tier assignment and global scan read, packed in 16 bytes.
    pub(crate) hc_facts: Vec<facts::HcFacts>,
    /// Per host set: its public members with a country, by continent and country (on first use).
    pub(crate) nearby: Nearby,
    /// Where each host category's URLs start in `urls` (and one more: where the last one's URLs end).
    pub(crate) hc_urls: Vec<u32>,
    pub(crate) urls: UrlTable,
    /// Whether hosts known not to answer over the client's address family go last in their tier (on unless
    /// turned off for MirrorManager's exact order); `false` also when no host is known not to.
    pub(crate) family_order: bool,
    /// Whether any host is known not to answer over one of the families.
    one_family_hosts: bool,
    /// Per directory: byte offset of its subpath (the part below the category top directory) in its name.
    pub(crate) subpath_start: Vec<u32>,
    /// Per file entry: the metalink `<file>` opening, details and alternates, rendered once.
    pub(crate) file_blocks: Vec<FileBlocks>,
}

/// Compact per-host-category data for the decision's scans.
pub(crate) mod facts {
    use crate::codes::ContinentCode;
    use crate::snapshot::HostId;

    /// The host is public (not private).
    pub const PUBLIC: u8 = 1;
    /// The host category has at least one public URL.
    pub const HAS_URLS: u8 = 2;
    /// The host has an allowed-countries list.
    pub const RESTRICTED: u8 = 4;
    /// A crawler found the host not answering over IPv4.
    pub const NO_IPV4: u8 = 8;
    /// A crawler found the host not answering over IPv6.
    pub const NO_IPV6: u8 = 16;
    /// Stands for "no continent" (never a valid [`ContinentCode`]).
    pub const NO_CONTINENT: ContinentCode = ContinentCode([0, 0]);
    /// Stands for "no country" in [`HcFacts::country`] (never a [`crate::codes::CodeSet`] slot).
    pub const NO_COUNTRY: u16 = u16::MAX;

    /// What a scan over a directory's carriers needs, without touching [`crate::snapshot::Host`].
    ///
    /// Kept small (16 bytes): the global tier reads one per carrier of the directory.
    #[derive(Clone, Copy, Debug)]
    pub struct HcFacts {
        pub host: HostId,
        /// [`crate::random::inverse_weight`] of the host's bandwidth: the weighted order multiplies by it (a
        /// division per host was a tenth of the decision's time).
        pub inverse_weight: f32,
        /// The host's country as its [`crate::codes::CodeSet`] slot (a comparison and a set bit without
        /// decoding), or [`NO_COUNTRY`].
        pub country: u16,
        pub continent: ContinentCode,
        pub flags: u8,
        /// How many URLs it has (at most [`super::MAX_URLS_PER_HOST_CATEGORY`]), read with the flags.
        pub url_count: u8,
        /// [`crate::urls::first_preferred`] of its URLs: the usual protocol trim from the facts the decision
        /// has just read, not from the URL table.
        pub first_preferred: [u8; 2],
    }

    impl HcFacts {
        /// Bit i set for each of its URLs: an entry's initial URL mask.
        pub fn all_urls(&self) -> u64 {
            u64::MAX.checked_shr(64 - u32::from(self.url_count)).unwrap_or(0)
        }
    }

    const _: () = assert!(core::mem::size_of::<HcFacts>() == 16);
}

/// Most hosts a snapshot may have: keeps every weighted-shuffle total within 32 bits (hosts × 10,000).
pub const MAX_HOSTS: usize = 400_000;

/// Most URLs one host category may have: the per-request URL filter is a 64-bit mask.
pub const MAX_URLS_PER_HOST_CATEGORY: usize = 64;

fn inconsistent(msg: String) -> SnapshotError {
    SnapshotError::Inconsistent(msg)
}

impl Selector {
    /// Decodes snapshot bytes (header, checksum, payload) and indexes them.
    pub fn decode(bytes: &[u8]) -> Result<Selector, SnapshotError> {
        Selector::new(snapshot::decode(bytes)?)
    }

    /// Validates `snap` and builds the indexes.
    pub fn new(snap: Snapshot) -> Result<Selector, SnapshotError> {
        validate(&snap)?;
        let hasher = FixedState::with_seed(0x6d69_7272_6f72_7661);
        let mut s = Selector {
            hasher: hasher.clone(),
            directories: HashTable::with_capacity(snap.directories.len()),
            longest_directory: snap.directories.iter().map(|d| d.name.len()).max().unwrap_or(0),
            repositories: HashTable::with_capacity(snap.repositories.len()),
            redirects: HashTable::with_capacity(snap.repository_redirects.len()),
            disabled: HashTable::with_capacity(snap.disabled_prefixes.len()),
            files: HashTable::with_capacity(snap.files.len()),
            repodata: Vec::new(),
            available: String::new(),
            host_netblocks: PrefixMap::new(),
            netblock_countries: PrefixMap::new(),
            asn_hosts: hashbrown::HashMap::with_hasher(hasher),
            continent_overrides: Vec::new(),
            hc_facts: Vec::new(),
            family_order: false,
            one_family_hosts: false,
            nearby: Nearby::default(),
            hc_urls: Vec::new(),
            urls: UrlTable::default(),
            subpath_start: Vec::new(),
            file_blocks: Vec::new(),
            snap: Snapshot::default(),
        };

        let h = &s.hasher;
        let (table, first_dup) = index_by(h, &snap.directories, |d| d.name.as_str());
        if let Some(i) = first_dup {
            return Err(inconsistent(format!(
                "directory {:?} appears twice",
                snap.directories[i].name
            )));
        }
        s.directories = table;
        let (table, first_dup) = index_by(h, &snap.repositories, |r| (r.prefix.as_str(), r.arch.as_str()));
        if let Some(i) = first_dup {
            let r = &snap.repositories[i];
            return Err(inconsistent(format!(
                "repository {} for {} appears twice",
                r.prefix, r.arch
            )));
        }
        s.repositories = table;
        let (table, first_dup) = index_by(h, &snap.repository_redirects, |r| r.from.as_str());
        if let Some(i) = first_dup {
            let from = &snap.repository_redirects[i].from;
            return Err(inconsistent(format!("repository redirect from {from:?} appears twice")));
        }
        s.redirects = table;
        // A prefix disabled twice is still disabled once.
        s.disabled = index_by(h, &snap.disabled_prefixes, alloc::string::String::as_str).0;
        let (table, first_dup) = index_by(h, &snap.files, |f| (f.directory.0, f.name.as_str()));
        if let Some(i) = first_dup {
            let f = &snap.files[i];
            return Err(inconsistent(format!(
                "file {:?} of directory {:?} appears twice",
                f.name,
                snap.directories[f.directory.index()].name
            )));
        }
        s.files = table;

        s.continent_overrides = snap
            .continent_overrides
            .iter()
            .map(|o| (o.country, o.continent))
            .collect();
        s.continent_overrides.sort();
        s.continent_overrides.dedup_by_key(|o| o.0);

        // MirrorManager's metalink looks in `<repo dir>/repodata` unless the repo dir already is one.
        let mut name = String::new();
        for r in &snap.repositories {
            let dir = &snap.directories[r.directory.index()].name;
            name.clear();
            name.push_str(dir);
            if !dir.ends_with("/repodata") {
                name.push_str("/repodata");
            }
            let found = find_by(
                &s.hasher,
                &s.directories,
                &snap.directories,
                |d| d.name.as_str(),
                name.as_str(),
            );
            s.repodata.push(found.map(|j| DirectoryId(j as u32)));
        }

        let mut keys: Vec<(&str, &str)> = snap
            .repositories
            .iter()
            .filter(|r| !r.prefix.contains('+') && !r.arch.contains('+'))
            .map(|r| (r.prefix.as_str(), r.arch.as_str()))
            .collect();
        // Sorted as MirrorManager sorts its "prefix+arch" keys.
        keys.sort_by(|a, b| {
            a.0.bytes()
                .chain([b'+'])
                .chain(a.1.bytes())
                .cmp(b.0.bytes().chain([b'+']).chain(b.1.bytes()))
        });
        for (prefix, arch) in keys {
            let _ = writeln!(s.available, "# repo={prefix}&arch={arch}");
        }

        for nb in &snap.host_netblocks {
            let hosts = s.host_netblocks.entry(nb.network.trunc(), Vec::new);
            for h in &nb.hosts {
                if !hosts.contains(h) {
                    hosts.push(*h);
                }
            }
        }
        for nc in &snap.netblock_countries {
            // First entry for a network wins, as in MirrorManager's linear scan.
            s.netblock_countries.entry(nc.network.trunc(), || nc.country);
        }
        for (i, host) in snap.hosts.iter().enumerate() {
            for asn in &host.asns {
                let list = s.asn_hosts.entry(*asn).or_default();
                if !list.contains(&HostId(i as u32)) {
                    list.push(HostId(i as u32));
                }
            }
        }
        for hc in &snap.host_categories {
            let host = &snap.hosts[hc.host.index()];
            let mut flags = 0;
            if !host.private {
                flags |= facts::PUBLIC;
            }
            if !hc.urls.is_empty() {
                flags |= facts::HAS_URLS;
            }
            if !host.allowed_countries.is_empty() {
                flags |= facts::RESTRICTED;
            }
            if host.reachability.ipv4 == Some(false) {
                flags |= facts::NO_IPV4;
            }
            if host.reachability.ipv6 == Some(false) {
                flags |= facts::NO_IPV6;
            }
            s.one_family_hosts |= flags & (facts::NO_IPV4 | facts::NO_IPV6) != 0;
            s.hc_facts.push(facts::HcFacts {
                host: hc.host,
                inverse_weight: crate::random::inverse_weight(host.bandwidth),
                // Validated against MAX_URLS_PER_HOST_CATEGORY (64).
                url_count: hc.urls.len().min(MAX_URLS_PER_HOST_CATEGORY) as u8,
                first_preferred: urls::first_preferred(hc.urls.iter().map(String::as_str)),
                country: host.country.map_or(facts::NO_COUNTRY, CodeSet::slot_of),
                continent: host
                    .country
                    .and_then(|c| s.continent_of(c))
                    .unwrap_or(facts::NO_CONTINENT),
                flags,
            });
        }

        s.nearby = Nearby::new(&s.hc_facts, snap.host_sets.len());
        s.family_order = s.one_family_hosts;

        for hc in &snap.host_categories {
            let host = &snap.hosts[hc.host.index()];
            s.hc_urls.push(s.urls.len() as u32);
            s.urls
                .push_group(hc.urls.iter().map(String::as_str), host.country, host.private)
                .map_err(|_| {
                    inconsistent(String::from(
                        "the URLs take more than 4 GiB, or have more than 65,536 distinct protocol and country pairs",
                    ))
                })?;
        }
        s.hc_urls.push(s.urls.len() as u32);

        for d in &snap.directories {
            let topdir = &snap.categories[d.category.index()].topdir;
            let start = if topdir.is_empty() {
                0
            } else if d.name.len() == topdir.len() {
                d.name.len()
            } else {
                topdir.len() + 1
            };
            s.subpath_start.push(start as u32);
        }

        s.file_blocks = snap.files.iter().map(FileBlocks::render).collect();

        s.snap = snap;
        Ok(s)
    }

    /// The snapshot this selector answers from.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// Whether, within each tier, hosts a crawler found not answering over the client's address family (IPv4
    /// or IPv6) come after those that do or were not measured — none is dropped. On by default; off gives
    /// MirrorManager's order exactly (it sends IPv6 clients to IPv4-only mirrors as readily as to any).
    pub fn set_family_preference(&mut self, on: bool) {
        self.family_order = on && self.one_family_hosts;
    }

    /// The snapshot's creation time (Unix seconds).
    pub fn created(&self) -> u64 {
        self.snap.created
    }

    /// The continent of a country: the snapshot's overrides, else the built-in table.
    pub fn continent_of(&self, country: CountryCode) -> Option<ContinentCode> {
        match self.continent_overrides.binary_search_by_key(&country, |o| o.0) {
            Ok(i) => Some(self.continent_overrides[i].1),
            Err(_) => codes::builtin_continent(country),
        }
    }

    /// Looks a directory up by its full name.
    pub fn directory(&self, name: &str) -> Option<DirectoryId> {
        if name.len() > self.longest_directory {
            return None;
        }
        find_by(
            &self.hasher,
            &self.directories,
            &self.snap.directories,
            |d| d.name.as_str(),
            name,
        )
        .map(|j| DirectoryId(j as u32))
    }

    /// The repository `repo=prefix&arch=arch`, as an index into [`Snapshot::repositories`].
    pub fn repository(&self, prefix: &str, arch: &str) -> Option<usize> {
        let all = &self.snap.repositories;
        find_by(
            &self.hasher,
            &self.repositories,
            all,
            |r| (r.prefix.as_str(), r.arch.as_str()),
            (prefix, arch),
        )
    }

    /// Where a `repo=` alias points.
    pub fn redirect(&self, from: &str) -> Option<&str> {
        let all = &self.snap.repository_redirects;
        find_by(&self.hasher, &self.redirects, all, |r| r.from.as_str(), from).map(|j| all[j].to.as_str())
    }

    /// Whether `repo=prefix` is answered with `repo disabled`.
    pub fn is_disabled(&self, prefix: &str) -> bool {
        find_by(
            &self.hasher,
            &self.disabled,
            &self.snap.disabled_prefixes,
            |p| p.as_str(),
            prefix,
        )
        .is_some()
    }

    /// The metalink data of `name` in `dir`, as an index into [`Snapshot::files`].
    pub fn file(&self, dir: DirectoryId, name: &str) -> Option<usize> {
        find_by(
            &self.hasher,
            &self.files,
            &self.snap.files,
            |f| (f.directory.0, f.name.as_str()),
            (dir.0, name),
        )
    }

    /// The part of a directory's name below its category's top directory (MirrorManager's `Subpath`).
    pub fn subpath(&self, dir: DirectoryId) -> &str {
        &self.snap.directories[dir.index()].name[self.subpath_start[dir.index()] as usize..]
    }

    /// The country operators assigned to `ip`'s network, overriding GeoIP (most specific network wins).
    pub fn netblock_country(&self, ip: IpAddr) -> Option<CountryCode> {
        self.netblock_countries.longest(ip).map(|(_, c)| *c)
    }

    /// Hosts serving clients of `asn`.
    pub fn asn_hosts(&self, asn: u32) -> &[HostId] {
        self.asn_hosts.get(&asn).map_or(&[], Vec::as_slice)
    }

    /// The host category through which `host` carries `dir`, if it does.
    pub fn carrier(&self, dir: DirectoryId, host: HostId) -> Option<HostCategoryId> {
        let set = &self.snap.host_sets[self.snap.directories[dir.index()].hosts.index()];
        let hcs = &self.snap.host_categories;
        let members = set.members();
        members
            .binary_search_by_key(&host, |m| hcs[m.index()].host)
            .ok()
            .map(|i| members[i])
    }

    /// Positions of a host category's URLs in `urls`.
    fn url_range(&self, hc: HostCategoryId) -> core::ops::Range<usize> {
        self.hc_urls[hc.index()] as usize..self.hc_urls[hc.index() + 1] as usize
    }

    /// The URLs of a host category.
    pub(crate) fn urls_of(&self, hc: HostCategoryId) -> impl ExactSizeIterator<Item = Url<'_>> {
        self.url_range(hc).map(|i| self.urls.get(i))
    }

    /// The URLs of `hc` whose bits are set in `mask` (bit i = URL i), in order: a walk over the set bits, since
    /// after the protocol trim there is usually one.
    pub(crate) fn printed_urls(&self, hc: HostCategoryId, mut mask: u64) -> impl Iterator<Item = Url<'_>> {
        let core::ops::Range { start, end } = self.url_range(hc);
        core::iter::from_fn(move || {
            let i = start + mask.trailing_zeros() as usize;
            mask &= mask.wrapping_sub(1);
            (i < end).then(|| self.urls.get(i))
        })
    }

    /// The bit of the first URL of `hc` in `mask` that `accept`s, or 0.
    pub(crate) fn first_printed(&self, hc: HostCategoryId, mut mask: u64, accept: impl Fn(&Url<'_>) -> bool) -> u64 {
        let core::ops::Range { start, end } = self.url_range(hc);
        while mask != 0 {
            let bit = mask & mask.wrapping_neg();
            let i = start + bit.trailing_zeros() as usize;
            if i >= end {
                break;
            }
            if accept(&self.urls.get(i)) {
                return bit;
            }
            mask ^= bit;
        }
        0
    }
}

/// A hash table of positions in `items`, keyed by `key`; the first of equal keys wins. Also returns the position
/// of the first item whose key repeats an earlier one.
fn index_by<'a, T, K: Hash + Eq>(
    hasher: &FixedState,
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> (HashTable<u32>, Option<usize>) {
    let mut table = HashTable::with_capacity(items.len());
    let mut first_dup = None;
    for (i, item) in items.iter().enumerate() {
        let k = key(item);
        let h = hasher.hash_one(&k);
        if table.find(h, |&j: &u32| key(&items[j as usize]) == k).is_some() {
            first_dup.get_or_insert(i);
            continue;
        }
        table.insert_unique(h, i as u32, |&j| hasher.hash_one(key(&items[j as usize])));
    }
    (table, first_dup)
}

/// The position of the item with key `k` in a table built by [`index_by`] with the same `key`.
fn find_by<'a, T, K: Hash + Eq>(
    hasher: &FixedState,
    table: &HashTable<u32>,
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
    k: K,
) -> Option<usize> {
    table
        .find(hasher.hash_one(&k), |&j| key(&items[j as usize]) == k)
        .map(|&j| j as usize)
}

/// Checks every reference and invariant the request path relies on.
fn validate(s: &Snapshot) -> Result<(), SnapshotError> {
    let hosts = s.hosts.len();
    if hosts > MAX_HOSTS {
        return Err(inconsistent(format!(
            "{hosts} hosts; at most {MAX_HOSTS} are supported"
        )));
    }
    for h in &s.hosts {
        if let Some(c) = h.country {
            check_code(c, || format!("host {} ({})", h.id, h.name))?;
        }
        for c in &h.allowed_countries {
            check_code(*c, || format!("allowed countries of host {}", h.id))?;
        }
    }
    for (i, hc) in s.host_categories.iter().enumerate() {
        if hc.host.index() >= hosts || hc.category.index() >= s.categories.len() {
            return Err(inconsistent(format!(
                "host category {i} points outside the host or category table"
            )));
        }
        if hc.urls.len() > MAX_URLS_PER_HOST_CATEGORY {
            return Err(inconsistent(format!(
                "host {} has {} URLs in one category, at most {MAX_URLS_PER_HOST_CATEGORY} are supported",
                s.hosts[hc.host.index()].id,
                hc.urls.len()
            )));
        }
        if let Some(bad) = hc.urls.iter().find(|u| !u.contains(':')) {
            return Err(inconsistent(format!(
                "URL {bad:?} of host {} has no scheme",
                s.hosts[hc.host.index()].id
            )));
        }
        // A line break in a URL would inject lines into a mirrorlist (and break a metalink's XML).
        if let Some(bad) = hc
            .urls
            .iter()
            .find(|u| u.chars().any(|c| c.is_control() || c.is_whitespace()))
        {
            return Err(inconsistent(format!(
                "URL {bad:?} of host {} holds a control character or whitespace",
                s.hosts[hc.host.index()].id
            )));
        }
        if i > 0 {
            let prev = &s.host_categories[i - 1];
            if (prev.category, prev.host) >= (hc.category, hc.host) {
                return Err(inconsistent(format!(
                    "host categories must be sorted by (category, host) without duplicates (entry {i})"
                )));
            }
        }
    }
    for (i, set) in s.host_sets.iter().enumerate() {
        if let Some(last) = set.members().last()
            && last.index() >= s.host_categories.len()
        {
            return Err(inconsistent(format!(
                "host set {i} points outside the host category table"
            )));
        }
    }
    for d in &s.directories {
        let Some(cat) = s.categories.get(d.category.index()) else {
            return Err(inconsistent(format!(
                "directory {:?} points outside the category table",
                d.name
            )));
        };
        let Some(set) = s.host_sets.get(d.hosts.index()) else {
            return Err(inconsistent(format!(
                "directory {:?} points outside the host set table",
                d.name
            )));
        };
        let t = &cat.topdir;
        let below = t.is_empty()
            || d.name == *t
            || (d.name.starts_with(t.as_str()) && d.name.as_bytes().get(t.len()) == Some(&b'/'));
        if !below {
            return Err(inconsistent(format!(
                "directory {:?} is not below its category's top directory {t:?}",
                d.name
            )));
        }
        if let Some(m) = set
            .members()
            .iter()
            .find(|m| s.host_categories[m.index()].category != d.category)
        {
            return Err(inconsistent(format!(
                "directory {:?} is carried by host {} through another category",
                d.name,
                s.hosts[s.host_categories[m.index()].host.index()].id
            )));
        }
    }
    for r in &s.repositories {
        if r.directory.index() >= s.directories.len() {
            return Err(inconsistent(format!(
                "repository {} {} points outside the directory table",
                r.prefix, r.arch
            )));
        }
    }
    for f in &s.files {
        if f.directory.index() >= s.directories.len() {
            return Err(inconsistent(format!(
                "file {:?} points outside the directory table",
                f.name
            )));
        }
    }
    for nb in &s.host_netblocks {
        if nb.hosts.iter().any(|h| h.index() >= hosts) {
            return Err(inconsistent(format!(
                "netblock {} points outside the host table",
                nb.network
            )));
        }
    }
    for nc in &s.netblock_countries {
        check_code(nc.country, || format!("netblock country {}", nc.network))?;
    }
    for o in &s.continent_overrides {
        check_code(o.country, || String::from("continent override"))?;
        if !o.continent.is_valid() {
            return Err(inconsistent(format!(
                "continent override: {:?} is not a two-letter code",
                o.continent.0
            )));
        }
    }
    Ok(())
}

fn check_code(c: CountryCode, what: impl FnOnce() -> String) -> Result<(), SnapshotError> {
    if c.is_valid() {
        Ok(())
    } else {
        Err(inconsistent(format!("{}: {:?} is not a two-letter code", what(), c.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::facts::{HcFacts, NO_CONTINENT, NO_COUNTRY};
    use crate::snapshot::HostId;

    #[test]
    fn all_urls_sets_one_bit_per_url() {
        let facts = |url_count| HcFacts {
            host: HostId(0),
            inverse_weight: 1.0,
            country: NO_COUNTRY,
            continent: NO_CONTINENT,
            flags: 0,
            url_count,
            first_preferred: [0; 2],
        };
        assert_eq!(facts(0).all_urls(), 0);
        assert_eq!(facts(1).all_urls(), 1);
        assert_eq!(facts(3).all_urls(), 0b111);
        assert_eq!(facts(63).all_urls(), u64::MAX >> 1);
        assert_eq!(facts(64).all_urls(), u64::MAX);
    }
}
