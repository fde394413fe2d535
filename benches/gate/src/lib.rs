//! The request mix of the load test, in-process, and what the performance gate counts in it.
//!
//! [`Mix::load`] builds the mix of `benches/load/requests.lua` from the Fedora-scale dataset's side files (4,096
//! requests: popular repositories; the dataset's netblock/ASN clients plus 2,000 addresses over the unicast IPv4
//! space; fixed seeds). [`answer`] is one request — locate + decide + render, `Selector::handle` — in a function
//! of its own, so that callgrind can count inside it alone (`--toggle-collect=mirrorvane_perf_gate::answer`).
//! `benches/examples/replay.rs` times the mix with any GeoIP database; the `perf-gate` binary (`check.sh`) counts
//! it with [`synthetic_country_db`], so that the gate needs nothing the repository and the dataset do not have.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use mirrorvane_geo::{AsnSource, CountryDb, GeoLocator};
use mirrorvane_selector::{Context, Locate, Random, Request, SeededRandom, Selector, Workspace};
use mmdb_writer::{IpVersion, Value, Writer, ipnet::Ipv4Net};

/// Requests in the mix.
pub const REQUESTS: usize = 4096;

/// The load test's request mix for one endpoint.
#[derive(Clone, Debug)]
pub struct Mix {
    path: String,
    /// Query string and client address of each request.
    requests: Vec<(String, IpAddr)>,
}

impl Mix {
    /// The mix of `benches/load/requests.lua` for `endpoint` (`metalink` or `mirrorlist`), from the dataset
    /// directory's `repos.txt` (the popular repositories) and `special_clients.txt`.
    pub fn load(data_dir: &Path, endpoint: &str) -> Result<Mix, Box<dyn Error>> {
        let read = |name: &str| {
            let path = data_dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let mut repos = Vec::new();
        for line in read("repos.txt")?.lines() {
            if let [prefix, arch, "1"] = line.split_whitespace().collect::<Vec<_>>()[..] {
                repos.push(format!("repo={prefix}&arch={arch}&countme=1"));
            }
        }
        if repos.is_empty() {
            return Err(format!("{}: no popular repositories", data_dir.join("repos.txt").display()).into());
        }
        let mut rng = SeededRandom::new(42);
        let mut clients: Vec<IpAddr> = read("special_clients.txt")?
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        for _ in 0..2000 {
            let v = rng.next_u64();
            let a = 1 + (v % 223) as u8;
            let [_, _, _, _, b, c, d, _] = v.to_be_bytes();
            clients.push(IpAddr::from([a, b, c, d.max(1)]));
        }
        let requests = (0..REQUESTS)
            .map(|_| {
                let repo = &repos[rng.below(repos.len() as u64) as usize];
                (repo.clone(), clients[rng.below(clients.len() as u64) as usize])
            })
            .collect();
        Ok(Mix {
            path: format!("/{endpoint}"),
            requests,
        })
    }

    /// Number of requests.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The `i`-th request.
    pub fn request(&self, i: usize) -> Request<'_> {
        let (query, ip) = &self.requests[i];
        Request {
            path: &self.path,
            query,
            forwarded_for: None,
            accept: None,
            peer: *ip,
        }
    }

    /// The requests in order.
    pub fn requests(&self) -> impl Iterator<Item = Request<'_>> + Clone {
        (0..self.len()).map(|i| self.request(i))
    }
}

/// The context every request of the mix gets: an hour after the snapshot was made, MirrorManager's default
/// minimum.
pub fn context<'a>(selector: &Selector, locate: &'a dyn Locate, random: &'a mut dyn Random) -> Context<'a> {
    Context {
        now: selector.created() + 3600,
        minimum: 5,
        locate,
        random,
    }
}

/// One request: locate + decide + render. Its own function, never inlined, so that callgrind counts inside it
/// alone.
#[inline(never)]
pub fn answer(selector: &Selector, request: &Request<'_>, ctx: &mut Context<'_>, ws: &mut Workspace) -> usize {
    selector.handle(request, ctx, ws).body.len()
}

/// Which tiers the answers of a pass over the mix used, and their size.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Requests per tier combination ("country+continent+global (≤150 hosts)", "answered early: 404", …).
    pub tiers: BTreeMap<String, usize>,
    /// Body bytes of all answers.
    pub bytes: usize,
    /// Requests.
    pub requests: usize,
}

impl Summary {
    /// One pass over `mix`, decision and answer of each request. It also warms up what a request builds on
    /// first use (a host set's order, the workspace's buffers), so that a pass after it measures the steady
    /// state.
    pub fn of(selector: &Selector, mix: &Mix, ctx: &mut Context<'_>, ws: &mut Workspace) -> Summary {
        let mut s = Summary::default();
        for r in mix.requests() {
            let key = match selector.decide(&r, ctx, ws) {
                Ok(d) => {
                    let mut t: Vec<&str> = d.entries.iter().map(|e| e.tier.name()).collect();
                    t.dedup();
                    format!(
                        "{} ({} hosts)",
                        t.join("+"),
                        if d.entries.len() > 150 { ">150" } else { "≤150" }
                    )
                }
                Err(a) => format!("answered early: {}", a.status),
            };
            *s.tiers.entry(key).or_default() += 1;
            s.bytes += selector.handle(&r, ctx, ws).body.len();
            s.requests += 1;
        }
        s
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.requests.max(1);
        for (k, c) in &self.tiers {
            writeln!(f, "{:5.1} %  {k}", *c as f64 * 100.0 / n as f64)?;
        }
        write!(f, "average answer {} bytes", self.bytes / n)
    }
}

/// Shares of the IPv4 space by country in [`synthetic_country_db`]: roughly the real allocation (the US
/// first, then China, Japan, Europe's large networks), with countries that have no mirror in the dataset
/// (their clients get their continent's list) and a share without any country (the global list).
const COUNTRY_WEIGHTS: &[(&str, u32)] = &[
    ("US", 300),
    ("CN", 70),
    ("JP", 40),
    ("DE", 30),
    ("GB", 28),
    ("KR", 25),
    ("BR", 20),
    ("FR", 20),
    ("CA", 16),
    ("IT", 13),
    ("NL", 12),
    ("AU", 12),
    ("RU", 11),
    ("IN", 9),
    ("TW", 8),
    ("ES", 7),
    ("SE", 7),
    ("MX", 6),
    ("ZA", 6),
    ("CH", 5),
    ("PL", 5),
    ("EG", 5),
    ("VN", 4),
    ("AR", 4),
    ("ID", 4),
    ("TR", 4),
    ("CO", 3),
    ("UA", 3),
    ("FI", 3),
    ("BE", 3),
    ("NO", 3),
    ("DK", 3),
    ("AT", 3),
    ("SG", 3),
    ("HK", 3),
    ("IR", 3),
    ("TH", 3),
    ("CZ", 2),
    ("RO", 2),
    ("IL", 2),
    ("CL", 2),
    ("NZ", 2),
    ("SA", 2),
    ("MY", 2),
    ("PT", 2),
    ("GR", 2),
    ("HU", 2),
    ("IE", 2),
    ("PH", 2),
    ("PK", 1),
    ("NG", 1),
    ("KE", 1),
    ("MA", 1),
    ("PE", 1),
    ("VE", 1),
    ("BD", 1),
    ("KZ", 1),
    ("BG", 1),
    ("SK", 1),
    ("AE", 1),
];

/// Weight of the IPv4 space that no country is given for.
const UNLOCATED_WEIGHT: u32 = 60;

/// A country database (the flat layout of the public-domain ip-location-db files: `country_code`) that gives
/// every IPv4 /16 from 1.0.0.0 to 223.255.0.0 (but 10/8 and 127/8) a country drawn from [`COUNTRY_WEIGHTS`]
/// with a fixed seed, or none. The same bytes on every run: the gate's input is the repository plus the
/// dataset, which has no GeoIP database of its own. 57,000 networks; a lookup walks the same kind of tree as
/// in a real country database (IPv6 with IPv4 aliased, 16 levels below the IPv4 root).
pub fn synthetic_country_db() -> Result<CountryDb, Box<dyn Error>> {
    let mut w = Writer::builder("mirrorvane-perf-gate-Country")
        .ip_version(IpVersion::V6)
        .build_epoch(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        .build();
    let total: u32 = COUNTRY_WEIGHTS.iter().map(|c| c.1).sum::<u32>() + UNLOCATED_WEIGHT;
    let mut rng = SeededRandom::new(20260101);
    for a in 1..=223u8 {
        if a == 10 || a == 127 {
            continue;
        }
        for b in 0..=255u8 {
            let mut pick = rng.below(u64::from(total)) as u32;
            let Some(&(code, _)) = COUNTRY_WEIGHTS.iter().find(|&&(_, weight)| {
                let here = pick < weight;
                pick = pick.wrapping_sub(weight);
                here
            }) else {
                continue;
            };
            let net = Ipv4Net::new(Ipv4Addr::new(a, b, 0, 0), 16)?;
            w.insert_value(net, Value::map([("country_code", Value::from(code))]))?;
        }
    }
    Ok(CountryDb::from_bytes(w.to_bytes()?)?)
}

/// The gate's locator: [`synthetic_country_db`] and the dataset's `global_netblocks.txt` for origin ASes.
pub fn gate_locator(data_dir: &Path) -> Result<GeoLocator, Box<dyn Error>> {
    Ok(GeoLocator::new(
        synthetic_country_db()?,
        Some(AsnSource::open(data_dir.join("global_netblocks.txt"))?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_countries_are_fixed_and_mixed() {
        let db = synthetic_country_db().unwrap();
        let again = synthetic_country_db().unwrap();
        let mut located = 0;
        for i in 0..2000u32 {
            let ip = IpAddr::from(Ipv4Addr::from(0x0100_0000 + i.wrapping_mul(0x0007_3f1b)));
            let c = db.locate(ip).country;
            assert_eq!(c, again.locate(ip).country);
            located += usize::from(c.is_some());
        }
        // ~7 % of the space has no country.
        assert!((1700..1990).contains(&located), "{located} of 2000 located");
        assert_eq!(db.locate("10.1.2.3".parse().unwrap()).country, None);
    }
}
