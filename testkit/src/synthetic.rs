//! A deterministic, Fedora-shaped synthetic mirror network: a [`Snapshot`] plus the things around it that a
//! benchmark, a test or a demo needs to exercise every tier of the decision — the global ASN prefix list, a
//! GeoIP stand-in ([`SyntheticGeo`]) and sample client addresses per tier ([`Clients`]).
//!
//! Same [`Scale`] and seed, same snapshot bytes: every random draw comes from a seeded SplitMix64 stream per
//! generation stage. No real mirror data is involved; the shapes (hosts per country, URLs per host, repository
//! naming, carrier fractions) follow `shared/data/fedora-scale/dataset_stats.json`.

mod geo;
mod mirrors;
mod network;
mod places;
mod rng;
mod tree;

use std::io::{self, Write};
use std::net::IpAddr;

use ipnet::IpNet;
use mirrorvane_selector::{CountryCode, Snapshot};

pub use geo::SyntheticGeo;

/// How big a world to make. Counts are targets: directories and repositories are hit exactly when the naming
/// scheme has enough names, hosts and prefixes exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scale {
    /// Mirror hosts.
    pub hosts: usize,
    /// Countries with at least one host (heaviest first from a built-in table, at most 68).
    pub countries: usize,
    /// Directories over all categories.
    pub directories: usize,
    /// `repo=`/`arch=` pairs.
    pub repositories: usize,
    /// Client networks hosts serve first.
    pub host_netblocks: usize,
    /// Lines of the global `prefix/len asn` list.
    pub asn_prefixes: usize,
    /// Share of private hosts, ‰.
    pub private_permille: u32,
    /// Share of hosts serving their ASN's clients, ‰.
    pub asn_permille: u32,
    /// Chance that a host category carries a given directory of its category up to date, ‰.
    pub carry_permille: u32,
    /// Share of host categories that are always up to date (they carry every directory), ‰.
    pub always_up2date_permille: u32,
}

impl Scale {
    /// Fedora's network today: ~400 hosts in 62 countries, 25,000 directories, 4,000 repositories.
    pub fn fedora() -> Scale {
        Scale {
            hosts: 400,
            countries: 62,
            directories: 25_000,
            repositories: 4_000,
            host_netblocks: 1_000,
            asn_prefixes: 50_000,
            private_permille: 100,
            asn_permille: 420,
            carry_permille: 670,
            always_up2date_permille: 40,
        }
    }

    /// A tenth of it, for demos and fast tests: ~40 hosts, 2,500 directories, a few hundred repositories.
    pub fn demo() -> Scale {
        Scale {
            hosts: 40,
            countries: 20,
            directories: 2_500,
            repositories: 300,
            host_netblocks: 100,
            asn_prefixes: 2_000,
            ..Scale::fedora()
        }
    }
}

/// Sample client addresses, one list per tier they are meant to reach. Which hosts they get still depends on
/// the directory (a netblock's host may not carry it), so callers pick among the samples.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Inside a host netblock (one per netblock, in snapshot order).
    pub netblock: Vec<IpAddr>,
    /// Inside a prefix of a host's ASN, outside every host netblock (one per host ASN).
    pub asn: Vec<IpAddr>,
    /// One address per country of the geo table, outside every host netblock and host-ASN prefix.
    pub countries: Vec<(CountryCode, IpAddr)>,
    /// A client in a country without mirrors, on the continent with the fewest public hosts.
    pub global_fallback: (CountryCode, IpAddr),
}

impl Clients {
    /// The sample client of country `cc` (`"DE"`), if the geo table has one.
    pub fn in_country(&self, cc: &str) -> Option<IpAddr> {
        let cc = mirrorvane_selector::CountryCode::parse(cc)?;
        self.countries.iter().find(|(c, _)| *c == cc).map(|(_, ip)| *ip)
    }
}

/// A generated world.
#[derive(Clone, Debug)]
pub struct World {
    /// The snapshot; `Selector::new` accepts it.
    pub snapshot: Snapshot,
    /// The global ASN prefix list (MirrorManager's `global_netblocks.txt`), sorted, non-overlapping. Covers every
    /// host ASN and some networks around host netblocks.
    pub asn_prefixes: Vec<(IpNet, u32)>,
    /// Sample clients per tier.
    pub clients: Clients,
    /// Locates the sample clients (and any other address) in this world.
    pub geo: SyntheticGeo,
}

/// Snapshot creation time of every generated world (fixed so that the bytes depend on the seed only).
pub const CREATED: u64 = 1_795_000_000;

/// Generates the world of `scale` for `seed`.
pub fn generate(scale: &Scale, seed: u64) -> World {
    let m = mirrors::generate(scale, seed);
    let t = tree::generate(scale, seed, CREATED, &m.host_categories, &m.always_up2date);
    let n = network::generate(scale, seed, &m.hosts);
    World {
        snapshot: Snapshot {
            created: CREATED,
            hosts: m.hosts,
            categories: m.categories,
            host_categories: m.host_categories,
            host_sets: t.host_sets,
            directories: t.directories,
            repositories: t.repositories,
            disabled_prefixes: t.disabled_prefixes,
            repository_redirects: t.repository_redirects,
            files: t.files,
            host_netblocks: n.host_netblocks,
            netblock_countries: n.netblock_countries,
            continent_overrides: n.continent_overrides,
        },
        asn_prefixes: n.asn_prefixes,
        clients: n.clients,
        geo: n.geo,
    }
}

/// Writes the world's ASN prefixes in MirrorManager's `global_netblocks.txt` format: `prefix/len asn` per line.
pub fn write_global_netblocks(world: &World, mut out: impl Write) -> io::Result<()> {
    for (net, asn) in &world.asn_prefixes {
        writeln!(out, "{net} {asn}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
