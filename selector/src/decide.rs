//! The decision: which host categories answer a request, in which order, with which URLs.
//!
//! Tiers follow MirrorManager's Rust server (reference §3.6): netblock → ASN → requested countries (or their
//! continent) → GeoIP country → rest of the continent → global, the last only when fewer than `minimum` hosts
//! that carry the content were found. Each host appears once, in the first tier that reaches it.
//!
//! Two things make it cheap: a host is assigned to its first tier while the tiers are collected (one bitset
//! instead of a de-duplication pass over URL lists), and hosts that can never be printed (no public URL) are
//! dropped before shuffling. Neither changes the distribution of the order: removing items from a weighted
//! sampling without replacement leaves the others' relative order distributed as sampling them alone.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

use crate::client::ClientGeo;
use crate::codes::{CodeSet, ContinentCode, CountryCode};
use crate::index::Selector;
use crate::index::facts;
use crate::random::{self, Random};
use crate::snapshot::{DirectoryId, HostCategoryId, HostId};
use crate::urls::{self, Preferred, Url};

/// Why a host is in the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// One of its netblocks contains the client.
    Netblock,
    /// It serves the client's autonomous system.
    Asn,
    /// It is in a country the client asked for with `country=` (or, when none has hosts, on their continent).
    Country,
    /// It is in the client's country.
    GeoCountry,
    /// It is on the client's continent.
    Continent,
    /// Too few hosts were found nearby; it is anywhere.
    Global,
}

impl Tier {
    /// Lower-case name used in explanations.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Netblock => "netblock",
            Tier::Asn => "asn",
            Tier::Country => "country",
            Tier::GeoCountry => "geoip",
            Tier::Continent => "continent",
            Tier::Global => "global",
        }
    }
}

/// One listed host category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Through which the host carries the directory.
    pub hc: HostCategoryId,
    /// The tier that brought it in.
    pub tier: Tier,
    /// Which of its URLs are printed (bit i = URL i); 0 = dropped by a protocol filter.
    pub urls: u64,
}

/// The outcome of a decision, reused between requests (its buffers keep their capacity).
#[derive(Default)]
pub struct Decision {
    /// The mirrorlist header line (`# repo = … country = DE `), without the final newline.
    pub header: String,
    /// Hosts in answer order.
    pub entries: Vec<Entry>,
    /// Hosts with content found before the global tier (after the protocol filter) — MirrorManager's count.
    pub found: usize,
    /// Whether the global tier was added.
    pub global: bool,
    /// Whether `country=` matched and so limited the answer.
    pub only_country: bool,
    /// The client's country as used (`None` prints as `N/A`).
    pub country: Option<CountryCode>,
    /// The client's continent as used.
    pub continent: Option<ContinentCode>,
    /// The client's AS.
    pub asn: Option<u32>,
    seen: Vec<u64>,
    levels: Vec<u8>,
    groups: [Vec<HostCategoryId>; 5],
    countries: CodeSet,
    requested: Vec<(u32, u32)>,
    protocols: Vec<(u32, u32)>,
    /// Distinct `protocol=` values asked for, known or not.
    protocols_asked: usize,
    masks: Vec<u64>,
    keys: Vec<u64>,
    shuffled: Vec<Entry>,
}

/// What a decision is about.
pub(crate) struct Inputs<'q> {
    pub dir: DirectoryId,
    pub ip: IpAddr,
    pub geo: ClientGeo,
    /// Raw `country=` value.
    pub country: Option<&'q str>,
    /// Netblock and ASN tiers enabled (`netblock` absent or `1`).
    pub netblocks: bool,
    /// Raw `protocol=` value.
    pub protocol: Option<&'q str>,
    pub minimum: usize,
}

/// Most `country=` codes a request is answered for; more are ignored. A dnf client sends one; each costs a pass
/// over the directory's carriers.
pub const MAX_REQUESTED_COUNTRIES: usize = 16;

/// Most values of a `country=` or `protocol=` list that are read; the rest are ignored. Sorting and
/// de-duplicating a 16 KB list of two-letter codes cost a thousand normal requests; 64 values are four times the
/// distinct countries answered and more than any client sends.
pub const MAX_LIST_VALUES: usize = 64;

/// The schemes `protocol=` can select (MirrorManager's hosts publish no others); anything else is ignored.
const PROTOCOLS: [&str; 4] = ["http", "https", "rsync", "ftp"];

/// The requested countries: split, sorted, de-duplicated regardless of case (the first spelling in byte order
/// is kept; MirrorManager echoed each spelling in the header and listed the hosts once per spelling), at most
/// [`MAX_REQUESTED_COUNTRIES`].
fn split_countries(raw: &str, out: &mut Vec<(u32, u32)>) {
    split_sorted(raw, out);
    let text = |r: &(u32, u32)| &raw[r.0 as usize..r.1 as usize];
    let folded = |r: &(u32, u32)| text(r).bytes().map(|c| c.to_ascii_uppercase());
    out.sort_by(|a, b| folded(a).cmp(folded(b)).then_with(|| text(a).cmp(text(b))));
    out.dedup_by(|a, b| text(a).eq_ignore_ascii_case(text(b)));
    out.sort_unstable_by(|a, b| text(a).cmp(text(b)));
    out.truncate(MAX_REQUESTED_COUNTRIES);
}

/// The requested protocols: the known schemes among them, once each; returns how many distinct values were
/// asked for (MirrorManager keeps that many URLs per host). Unknown values matched no URL anyway, so this
/// changes no answer; it bounds a request's cost (each value was compared with every URL).
fn split_protocols(raw: &str, out: &mut Vec<(u32, u32)>) -> usize {
    split_sorted(raw, out);
    let asked = out.len();
    out.retain(|r| PROTOCOLS.contains(&&raw[r.0 as usize..r.1 as usize]));
    asked
}

/// Splits the first [`MAX_LIST_VALUES`] values of `raw` on `,`, sorted and de-duplicated as raw strings, as
/// ranges into `raw`.
fn split_sorted(raw: &str, out: &mut Vec<(u32, u32)>) {
    out.clear();
    let mut start = 0;
    for piece in raw.split(',').take(MAX_LIST_VALUES) {
        out.push((start as u32, (start + piece.len()) as u32));
        start += piece.len() + 1;
    }
    let text = |r: &(u32, u32)| &raw[r.0 as usize..r.1 as usize];
    out.sort_unstable_by(|a, b| text(a).cmp(text(b)));
    out.dedup_by(|a, b| text(a) == text(b));
}

/// The end of the run of entries starting at `start` that are ordered together: one tier, and for netblocks one
/// prefix length.
fn run_end(d: &Decision, start: usize) -> usize {
    let tier = d.entries[start].tier;
    let mut end = start + 1;
    while end < d.entries.len()
        && d.entries[end].tier == tier
        && (tier != Tier::Netblock || d.levels[end] == d.levels[start])
    {
        end += 1;
    }
    end
}

/// Does `url` start with `<p>:` for one of `protocols`?
fn matches_protocol(url: &str, raw: &str, protocols: &[(u32, u32)]) -> bool {
    protocols.iter().any(|&(s, e)| {
        let p = &raw[s as usize..e as usize];
        url.len() > p.len() && url.as_bytes()[p.len()] == b':' && url.starts_with(p)
    })
}

impl Decision {
    fn mark(&mut self, host: HostId) -> bool {
        let (w, b) = (host.index() / 64, host.index() % 64);
        let fresh = self.seen[w] & (1 << b) == 0;
        self.seen[w] |= 1 << b;
        fresh
    }

    /// Keeps, per entry, the first `max` printed URLs that `keep` accepts; when that leaves nothing at all,
    /// keeps everything (MirrorManager's `trim_to_preferred_protocols`).
    fn trim_with(&mut self, sel: &Selector, max: usize, keep: impl Fn(&Url<'_>) -> bool) {
        self.masks.clear();
        let mut any = false;
        for e in &self.entries {
            let mut kept = 0u64;
            let mut count = 0;
            for (i, url) in sel.urls_of(e.hc).enumerate() {
                if count >= max {
                    break;
                }
                if e.urls & (1 << i) != 0 && keep(&url) {
                    kept |= 1 << i;
                    count += 1;
                }
            }
            any |= kept != 0;
            self.masks.push(kept);
        }
        if any {
            for (e, m) in self.entries.iter_mut().zip(&self.masks) {
                e.urls = *m;
            }
        }
    }

    /// Trims to the request's `protocol=` list (as split by the decision): up to one URL per protocol.
    pub(crate) fn trim_requested(&mut self, sel: &Selector, raw: &str) {
        let ranges = core::mem::take(&mut self.protocols);
        let slots = self.protocols_asked.min(crate::index::MAX_URLS_PER_HOST_CATEGORY);
        self.trim_with(sel, slots, |u| matches_protocol(u.text(), raw, &ranges));
        self.protocols = ranges;
    }

    /// Trims to each host's first URL with a [`Preferred`] protocol; when no host has one, keeps everything
    /// (as [`Decision::trim_with`] with a limit of one). The facts hold each host category's first such URL.
    pub(crate) fn trim_to(&mut self, sel: &Selector, preferred: Preferred) {
        let schemes = preferred.schemes();
        let first = |e: &Entry| match sel.hc_facts[e.hc.index()].first_preferred[preferred as usize] {
            urls::NONE => 0,
            // The first such URL of the host category, when the mask keeps it, is the first in the mask.
            i if e.urls & (1 << i) != 0 => 1 << i,
            _ => sel.first_printed(e.hc, e.urls, |u| u.scheme() & schemes != 0),
        };
        if self.entries.iter().any(|e| first(e) != 0) {
            for e in &mut self.entries {
                e.urls = first(e);
            }
        }
    }
}

impl Selector {
    fn public(&self, hc: HostCategoryId) -> bool {
        self.hc_facts[hc.index()].flags & facts::PUBLIC != 0
    }

    fn has_urls(&self, hc: HostCategoryId) -> bool {
        self.hc_facts[hc.index()].flags & facts::HAS_URLS != 0
    }

    /// A host with allowed countries is offered only to clients located in one of them.
    pub(crate) fn allowed(&self, host: HostId, country: Option<CountryCode>) -> bool {
        let allowed = &self.snap.hosts[host.index()].allowed_countries;
        allowed.is_empty() || country.is_some_and(|c| allowed.contains(&c))
    }

    /// [`Selector::allowed`] through the host category's facts (no allow-list: no lookup).
    fn allowed_hc(&self, hc: HostCategoryId, country: Option<CountryCode>) -> bool {
        let f = &self.hc_facts[hc.index()];
        f.flags & facts::RESTRICTED == 0 || self.allowed(f.host, country)
    }

    fn host_of(&self, hc: HostCategoryId) -> HostId {
        self.hc_facts[hc.index()].host
    }

    /// Pushes the public members of `dir` in `country`; true if there are any (with or without URLs, as
    /// MirrorManager's country lists).
    fn push_country(&self, members: &[HostCategoryId], country: CountryCode, out: &mut Vec<HostCategoryId>) -> bool {
        let mut any = false;
        let country = CodeSet::slot_of(country);
        for &m in members {
            let f = &self.hc_facts[m.index()];
            if f.flags & facts::PUBLIC != 0 && f.country == country {
                out.push(m);
                any = true;
            }
        }
        any
    }

    /// Pushes the public members on `continent` outside `except`; writes `country = XX ` for each of their
    /// countries, in code order (MirrorManager used hash-map order, which varies per process).
    fn push_continent(
        &self,
        members: &[HostCategoryId],
        continent: ContinentCode,
        except: Option<CountryCode>,
        countries: &mut CodeSet,
        header: &mut String,
        out: &mut Vec<HostCategoryId>,
    ) {
        countries.clear();
        let except = except.map_or(facts::NO_COUNTRY, CodeSet::slot_of);
        for &m in members {
            let f = &self.hc_facts[m.index()];
            if f.flags & facts::PUBLIC != 0
                && f.continent == continent
                && f.country != except
                && f.country != facts::NO_COUNTRY
            {
                out.push(m);
                countries.insert_slot(f.country);
            }
        }
        countries.for_each(|c| {
            header.push_str("country = ");
            c.push_to(header);
            header.push(' ');
        });
    }

    /// Runs the decision into `d` (its `header` already holds the request part of the header line).
    pub(crate) fn select(&self, inp: &Inputs<'_>, rng: &mut dyn Random, d: &mut Decision) {
        let set = self.snap.directories[inp.dir.index()].hosts;
        let members = self.snap.host_sets[set.index()].members();
        d.entries.clear();
        d.seen.clear();
        d.seen.resize(self.snap.hosts.len().div_ceil(64), 0);
        d.levels.clear();
        for g in &mut d.groups {
            g.clear();
        }
        d.global = false;
        d.only_country = false;
        d.asn = inp.geo.asn;

        // Tiers 1 and 2: netblocks (only hosts with content) and ASN.
        let requested_raw = inp.country.filter(|c| !c.is_empty());
        if requested_raw.is_none() && inp.netblocks {
            let mut any = false;
            for (len, hosts) in self.host_netblocks.matches(inp.ip) {
                for &h in hosts {
                    if let Some(hc) = self.carrier(inp.dir, h).filter(|&hc| self.has_urls(hc)) {
                        any = true;
                        d.groups[0].push(hc);
                        d.levels.push(len);
                    }
                }
            }
            if any {
                d.header.push_str("Using preferred netblock ");
            }
            if let Some(asn) = inp.geo.asn {
                let hosts = self.asn_hosts(asn);
                if !hosts.is_empty() {
                    d.header.push_str("Using ASN ");
                    d.header.push_str(itoa::Buffer::new().format(asn));
                    d.header.push(' ');
                }
                for &h in hosts {
                    if let Some(hc) = self.carrier(inp.dir, h) {
                        d.groups[1].push(hc);
                    }
                }
            }
        }

        // The client's country: the operators' netblock override, else the geo lookup.
        let country = self.netblock_country(inp.ip).or(inp.geo.country);
        let country_continent = country.and_then(|c| self.continent_of(c));
        let continent = country_continent.or(inp.geo.continent);
        d.country = country;
        d.continent = continent;

        // Tier 3: requested countries, or their continents.
        if let Some(raw) = requested_raw {
            split_countries(raw, &mut d.requested);
            let mut found = false;
            for &(s, e) in &d.requested {
                let c = &raw[s as usize..e as usize];
                if c.eq_ignore_ascii_case("global") {
                    d.header.push_str("country = global ");
                    d.groups[2].extend(members.iter().copied().filter(|&m| self.public(m)));
                    found |= members.iter().any(|&m| self.public(m));
                }
                if let Some(code) = CountryCode::parse(c)
                    && self.push_country(members, code, &mut d.groups[2])
                {
                    d.header.push_str("country = ");
                    d.header.push_str(c);
                    d.header.push(' ');
                    found = true;
                }
            }
            if !found {
                for &(s, e) in &d.requested {
                    let Some(code) = CountryCode::parse(&raw[s as usize..e as usize]) else {
                        continue;
                    };
                    let Some(k) = self.continent_of(code) else {
                        continue;
                    };
                    let before = d.groups[4].len();
                    self.push_continent(
                        members,
                        k,
                        Some(code),
                        &mut d.countries,
                        &mut d.header,
                        &mut d.groups[4],
                    );
                    found |= d.groups[4].len() > before;
                }
            }
            d.only_country = found;
        }

        // Tiers 4 and 5: GeoIP country and the rest of its continent, slices of the set's members ordered by
        // continent and country.
        if !d.only_country {
            let around = self
                .nearby
                .around(set, members, country.map(|c| (c, country_continent)), continent);
            d.groups[3].extend_from_slice(around.country);
            for part in around.continent {
                d.groups[4].extend_from_slice(part);
            }
            if let Some(cc) = country.filter(|_| !around.country.is_empty()) {
                d.header.push_str("country = ");
                cc.push_to(&mut d.header);
                d.header.push(' ');
            }
            for c in around.continent_countries() {
                d.header.push_str("country = ");
                c.push_to(&mut d.header);
                d.header.push(' ');
            }
        }

        // Assign each host to its first tier, dropping what cannot be printed or is not allowed for the client.
        let order = [
            (0, Tier::Netblock),
            (1, Tier::Asn),
            (2, Tier::Country),
            (3, Tier::GeoCountry),
            (4, Tier::Continent),
        ];
        // Entries before `marked` are in `seen`. The GeoIP and continent groups come from one pass over the
        // directory's carriers (one per host, validated at load) and are disjoint, so they need checking only
        // against hosts of the earlier tiers — usually there are none, and marking would cost a
        // read-modify-write per host. Requested countries are the exception: their continent group is filled once
        // per requested code, so two codes of one continent (or one code spelled twice) repeat its hosts.
        let mut marked = 0;
        let requested = requested_raw.is_some();
        for (g, tier) in order {
            let group = core::mem::take(&mut d.groups[g]);
            let geo_tier = g >= 2;
            let check = g < 3 || marked > 0 || requested;
            for (i, &hc) in group.iter().enumerate() {
                if !self.has_urls(hc) || (geo_tier && !self.allowed_hc(hc, country)) {
                    continue;
                }
                if check && !d.mark(self.host_of(hc)) {
                    continue;
                }
                if g == 0 {
                    d.levels[d.entries.len()] = d.levels[i];
                }
                d.entries.push(Entry {
                    hc,
                    tier,
                    urls: self.hc_facts[hc.index()].all_urls(),
                });
            }
            if check {
                marked = d.entries.len();
            }
            d.groups[g] = group;
        }

        // MirrorManager's count of hosts with content, after the protocol filter when one is asked for.
        if let Some(p) = inp.protocol {
            d.protocols_asked = split_protocols(p, &mut d.protocols);
        }
        d.found = d.entries.len();
        if let Some(p) = inp.protocol {
            let with_protocol = d
                .entries
                .iter()
                .filter(|e| self.urls_of(e.hc).any(|u| matches_protocol(u.text(), p, &d.protocols)))
                .count();
            if with_protocol > 0 {
                d.found = with_protocol;
            }
        }

        // Tier 6: global, only when too few were found and the client did not ask for countries.
        if d.found < inp.minimum && !d.only_country {
            d.global = true;
            d.header.push_str("country = global ");
            for i in marked..d.entries.len() {
                let host = self.host_of(d.entries[i].hc);
                d.mark(host);
            }
            for &hc in members {
                let host = self.host_of(hc);
                if self.public(hc) && self.has_urls(hc) && self.allowed_hc(hc, country) && d.mark(host) {
                    d.entries.push(Entry {
                        hc,
                        tier: Tier::Global,
                        urls: self.hc_facts[hc.index()].all_urls(),
                    });
                }
            }
        }

        self.shuffle_tiers(rng, d);
        if self.family_order {
            self.family_last(inp.ip, d);
        }
    }

    /// Within each tier (each run of one tier and, for netblocks, one prefix length), moves the hosts known not to
    /// answer over the client's address family after the others, keeping both groups' shuffled order.
    fn family_last(&self, ip: IpAddr, d: &mut Decision) {
        let unreachable = match ip.to_canonical() {
            IpAddr::V4(_) => facts::NO_IPV4,
            IpAddr::V6(_) => facts::NO_IPV6,
        };
        let last = |e: &Entry| self.hc_facts[e.hc.index()].flags & unreachable != 0;
        if !d.entries.iter().any(last) {
            return;
        }
        let mut start = 0;
        while start < d.entries.len() {
            let end = run_end(d, start);
            let run = &mut d.entries[start..end];
            if run.iter().any(last) {
                d.shuffled.clear();
                d.shuffled.extend(run.iter().filter(|e| !last(e)));
                d.shuffled.extend(run.iter().filter(|e| last(e)));
                run.copy_from_slice(&d.shuffled);
            }
            start = end;
        }
    }

    /// Netblock hosts: random within equal prefix length, most specific first. ASN hosts: uniform random.
    /// Everything else: bandwidth-weighted random order, each tier on its own.
    fn shuffle_tiers(&self, rng: &mut dyn Random, d: &mut Decision) {
        let mut start = 0;
        while start < d.entries.len() {
            let tier = d.entries[start].tier;
            let end = run_end(d, start);
            let run = &mut d.entries[start..end];
            match tier {
                Tier::Netblock | Tier::Asn => random::shuffle(run, rng),
                _ => {
                    let inverse = run.iter().map(|e| self.hc_facts[e.hc.index()].inverse_weight);
                    random::weighted_order(inverse, &mut d.keys, rng);
                    if d.keys.len() == run.len() {
                        d.shuffled.clear();
                        d.shuffled.extend(d.keys.iter().map(|&k| run[random::order_index(k)]));
                        run.copy_from_slice(&d.shuffled);
                    }
                }
            }
            start = end;
        }
    }
}
