//! Request scenarios for the selector benchmarks, built from a synthetic world: one client per decision tier,
//! and a mixed load of popular repositories. Kept in the library so other tools (profiling loops, the load
//! generator) can replay exactly what the benchmarks measure.

use std::net::IpAddr;

use crate::synthetic::{CREATED, SyntheticGeo, World};
use mirrorvane_selector::{Context, Request, SeededRandom, Selector, Tier, Workspace};

/// The repository every per-tier scenario asks for: the most requested one.
pub const POPULAR: &str = "repo=fedora-43&arch=x86_64";

/// "Now" for every benchmark request (a day after the world's creation).
pub const NOW: u64 = CREATED + 86_400;

/// One request shape: a name for the report, the query string, and the client address.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `netblock`, `asn`, `geoip_country`, …
    pub name: &'static str,
    /// Query string without `?`.
    pub query: String,
    /// The connecting client.
    pub ip: IpAddr,
}

impl Scenario {
    /// The request for `path` (`/metalink` or `/mirrorlist`).
    pub fn request<'a>(&'a self, path: &'a str) -> Request<'a> {
        Request {
            path,
            query: &self.query,
            forwarded_for: None,
            accept: None,
            peer: self.ip,
        }
    }
}

/// The tiers a decision used, in answer order (deduplicated), for choosing clients and for reports.
pub fn tiers(sel: &Selector, geo: &SyntheticGeo, path: &str, query: &str, ip: IpAddr) -> Vec<Tier> {
    let req = Request {
        path,
        query,
        forwarded_for: None,
        accept: None,
        peer: ip,
    };
    let mut rng = SeededRandom::new(1);
    let mut ctx = Context {
        now: NOW,
        minimum: 5,
        locate: geo,
        random: &mut rng,
    };
    let mut ws = Workspace::new();
    let mut out: Vec<Tier> = match sel.decide(&req, &mut ctx, &mut ws) {
        Ok(d) => d.entries.iter().map(|e| e.tier).collect(),
        Err(_) => Vec::new(),
    };
    out.dedup();
    out
}

/// One scenario per tier on [`POPULAR`]: netblock client, ASN client, GeoIP country with many hosts (US),
/// continent-heavy European client (DE), global fallback, and `country=FR` asked by a US client.
pub fn tier_scenarios(world: &World, sel: &Selector) -> Vec<Scenario> {
    let geo = &world.geo;
    let c = &world.clients;
    let first_tier = |ip: &IpAddr, tier: Tier| tiers(sel, geo, "/metalink", POPULAR, *ip).first() == Some(&tier);
    let netblock = c.netblock.iter().find(|ip| first_tier(ip, Tier::Netblock)).copied();
    let asn = c.asn.iter().find(|ip| first_tier(ip, Tier::Asn)).copied();
    let us = c.in_country("US");
    let de = c.in_country("DE");
    let mut out = Vec::new();
    let mut add = |name, query: String, ip: Option<IpAddr>| {
        if let Some(ip) = ip {
            out.push(Scenario { name, query, ip });
        }
    };
    add("netblock", POPULAR.into(), netblock);
    add("asn", POPULAR.into(), asn);
    add("geoip_country_us", POPULAR.into(), us);
    add("continent_de", POPULAR.into(), de);
    add("global_fallback", POPULAR.into(), Some(c.global_fallback.1));
    add("requested_country_fr", format!("{POPULAR}&country=FR"), us);
    out
}

/// A mixed load: popular repositories (current Fedora, updates and EPEL on x86_64 and aarch64) from clients
/// all over the world, some in host netblocks and ASNs, half metalinks and half mirrorlists. `n` requests.
pub fn mixed(world: &World, n: usize) -> Vec<(&'static str, Scenario)> {
    let repos: Vec<String> = world
        .snapshot
        .repositories
        .iter()
        .filter(|r| {
            (r.arch == "x86_64" || r.arch == "aarch64")
                && ["fedora-4", "updates-released-f4", "epel-9", "epel-10"]
                    .iter()
                    .any(|p| r.prefix.starts_with(p) && !r.prefix.contains("debug"))
        })
        .map(|r| format!("repo={}&arch={}", r.prefix, r.arch))
        .collect();
    let c = &world.clients;
    let mut clients: Vec<IpAddr> = c.countries.iter().map(|(_, ip)| *ip).collect();
    clients.extend(c.netblock.iter().take(20));
    clients.extend(c.asn.iter().take(20));
    let mut rng = SeededRandom::new(42);
    use mirrorvane_selector::Random;
    (0..n)
        .map(|i| {
            let path = if i % 2 == 0 { "/metalink" } else { "/mirrorlist" };
            let query = repos[rng.below(repos.len() as u64) as usize].clone();
            let ip = clients[rng.below(clients.len() as u64) as usize];
            (
                path,
                Scenario {
                    name: "mixed",
                    query,
                    ip,
                },
            )
        })
        .collect()
}
