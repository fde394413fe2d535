//! The address side: host netblocks, the global ASN prefix list, the geo table and sample clients per tier.
//!
//! Every IPv4 host netblock and every prefix of the global list gets a /16 of its own (an IPv6 one a /32), so
//! nothing overlaps by accident and each sample client reaches exactly the tier it is meant for: a netblock
//! client is inside one host netblock; an ASN client is inside a prefix of a host's ASN but in no netblock; a
//! country client is in neither.

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use mirrorvane_selector::codes::builtin_continent;
use mirrorvane_selector::snapshot::{ContinentOverride, Host, HostId, HostNetblock, NetblockCountry};
use mirrorvane_selector::{ContinentCode, CountryCode};

use super::geo::SyntheticGeo;
use super::places::{CLIENT_ONLY_COUNTRIES, MIRROR_COUNTRIES, code};
use super::rng::Rng;
use super::{Clients, Scale};

/// What a /16 is used for; country clients avoid host networks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Free,
    HostNetblock,
    HostAsn,
    Other,
}

/// First octets never handed out: this-network, private, CGN, loopback, link-local, documentation ranges.
const RESERVED_FIRST_OCTETS: &[u32] = &[0, 10, 100, 127, 169, 172, 192, 198, 203];

struct Space {
    v4: Vec<Use>,
    v6: HashSet<u32>,
    v4_free: usize,
}

impl Space {
    fn new() -> Space {
        let mut v4 = vec![Use::Free; 1 << 16];
        for (b, u) in v4.iter_mut().enumerate() {
            let first = (b >> 8) as u32;
            if first > 223 || RESERVED_FIRST_OCTETS.contains(&first) {
                *u = Use::Other;
            }
        }
        let v4_free = v4.iter().filter(|u| **u == Use::Free).count();
        Space {
            v4,
            v6: HashSet::new(),
            v4_free,
        }
    }

    /// An unused IPv4 /16 (as its top 16 bits), or `None` when the space is nearly exhausted.
    fn fresh_v4(&mut self, rng: &mut Rng, what: Use) -> Option<u32> {
        if self.v4_free < 1024 {
            return None;
        }
        loop {
            let b = rng.below(1 << 16);
            if self.v4[b] == Use::Free {
                self.v4[b] = what;
                self.v4_free -= 1;
                return Some(b as u32);
            }
        }
    }

    /// An unused IPv6 /32 in 2400::/13..2bff::/16 (clear of 6to4 and Teredo, which locate as IPv4).
    fn fresh_v6(&mut self, rng: &mut Rng) -> u32 {
        loop {
            let top = (rng.range(0x2400, 0x2bff) as u32) << 16 | rng.below(1 << 16) as u32;
            if self.v6.insert(top) {
                return top;
            }
        }
    }
}

fn v4_net(top16: u32, low: u32, len: u8) -> IpNet {
    let addr = Ipv4Addr::from(top16 << 16 | (low & 0xffff));
    IpNet::V4(Ipv4Net::new(addr, len).expect("prefix length ≤ 32").trunc())
}

fn v6_net(top32: u32, low: u128, len: u8) -> IpNet {
    let addr = Ipv6Addr::from(u128::from(top32) << 96 | (low & ((1u128 << 96) - 1)));
    IpNet::V6(Ipv6Net::new(addr, len).expect("prefix length ≤ 128").trunc())
}

/// An address inside `net`: its second address, or the network itself for a host route.
fn inside(net: IpNet) -> IpAddr {
    match net {
        IpNet::V4(n) if n.prefix_len() < 32 => IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) + 1)),
        IpNet::V6(n) if n.prefix_len() < 128 => IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) + 1)),
        n => n.network(),
    }
}

/// A random IPv4 prefix length, mostly /24 as in real netblock lists.
fn v4_len(rng: &mut Rng, min: u8, max: u8) -> u8 {
    const LENS: &[(u8, u32)] = &[
        (16, 5),
        (18, 5),
        (20, 10),
        (22, 15),
        (23, 10),
        (24, 35),
        (25, 5),
        (26, 5),
        (27, 4),
        (28, 3),
        (29, 3),
    ];
    loop {
        let i = rng.weighted(&LENS.iter().map(|l| l.1).collect::<Vec<_>>());
        if (min..=max).contains(&LENS[i].0) {
            return LENS[i].0;
        }
    }
}

pub(crate) struct Network {
    pub host_netblocks: Vec<HostNetblock>,
    pub netblock_countries: Vec<NetblockCountry>,
    pub continent_overrides: Vec<ContinentOverride>,
    pub asn_prefixes: Vec<(IpNet, u32)>,
    pub clients: Clients,
    pub geo: SyntheticGeo,
}

pub(crate) fn generate(scale: &Scale, seed: u64, hosts: &[Host]) -> Network {
    let mut rng = Rng::new(seed, 3);
    let mut space = Space::new();

    // The geo table: every country with a weight; countries without mirrors weigh little.
    let mirror_countries = scale.countries.clamp(1, MIRROR_COUNTRIES.len());
    let mut countries: Vec<CountryCode> = MIRROR_COUNTRIES.iter().map(|c| code(c.0)).collect();
    let mut weights: Vec<u32> = MIRROR_COUNTRIES
        .iter()
        .enumerate()
        .map(|(i, c)| if i < mirror_countries { c.1 * 4 } else { 2 })
        .collect();
    countries.extend(CLIENT_ONLY_COUNTRIES.iter().map(|c| code(c)));
    weights.extend(CLIENT_ONLY_COUNTRIES.iter().map(|_| 2));
    let index_of = |c: CountryCode| countries.iter().position(|&x| x == c).unwrap_or(0) as u8;
    let mut v4_country: Vec<u8> = (0..1 << 16).map(|_| rng.weighted(&weights) as u8).collect();
    let mut v6_country: Vec<u8> = (0..1 << 16).map(|_| rng.weighted(&weights) as u8).collect();
    let host_country = |h: usize| index_of(hosts[h].country.unwrap_or(countries[0]));

    let other_asns: Vec<u32> = {
        let host_asns: HashSet<u32> = hosts.iter().flat_map(|h| h.asns.iter().copied()).collect();
        let want = (scale.asn_prefixes / 3).max(1);
        let mut v = Vec::with_capacity(want);
        while v.len() < want {
            let asn = rng.range(1, 399_999) as u32;
            if !host_asns.contains(&asn) {
                v.push(asn);
            }
        }
        v
    };

    // Host netblocks: private hosts first (they are reachable only this way), then public hosts that publish
    // their campus or ISP networks.
    let mut owners: Vec<usize> = Vec::new();
    for (h, host) in hosts.iter().enumerate() {
        if host.private {
            for _ in 0..rng.range(1, 3) {
                owners.push(h);
            }
        }
    }
    let publishers: Vec<usize> = (0..hosts.len())
        .filter(|&h| !hosts[h].private && rng.chance(450))
        .collect();
    while owners.len() < scale.host_netblocks && !publishers.is_empty() {
        owners.push(*rng.pick(&publishers));
    }
    owners.truncate(scale.host_netblocks);

    let mut host_netblocks = Vec::with_capacity(owners.len());
    let mut asn_prefixes = Vec::with_capacity(scale.asn_prefixes);
    let mut netblock_clients = Vec::new();
    for &h in &owners {
        let asn = hosts[h].asns.first().copied().unwrap_or_else(|| *rng.pick(&other_asns));
        let v4 = !rng.chance(80);
        let top = if v4 {
            space.fresh_v4(&mut rng, Use::HostNetblock)
        } else {
            None
        };
        let network = match top {
            Some(top) => {
                v4_country[top as usize] = host_country(h);
                let len = if rng.chance(10) { 32 } else { v4_len(&mut rng, 16, 29) };
                if rng.chance(600) {
                    asn_prefixes.push((v4_net(top, 0, 16), asn));
                }
                v4_net(top, rng.next_u64() as u32, len)
            }
            None => {
                let top = space.fresh_v6(&mut rng);
                v6_country[(top & 0xffff) as usize] = host_country(h);
                let len = *rng.pick(&[48, 48, 48, 56, 64, 40, 32]);
                if rng.chance(600) {
                    asn_prefixes.push((v6_net(top, 0, 32), asn));
                }
                v6_net(top, u128::from(rng.next_u64()) << 32, len)
            }
        };
        let mut members = vec![HostId(h as u32)];
        if rng.chance(25) {
            let other = rng.below(hosts.len());
            if other != h {
                members.push(HostId(other as u32));
            }
        }
        netblock_clients.push(inside(network));
        host_netblocks.push(HostNetblock {
            network,
            hosts: members,
        });
    }

    // Prefixes of each host ASN, away from the netblocks; the first of each is where its sample client lives.
    let host_asns: BTreeSet<(u32, usize)> = hosts
        .iter()
        .enumerate()
        .flat_map(|(h, host)| host.asns.iter().map(move |&a| (a, h)))
        .collect();
    let mut asn_clients = Vec::new();
    let mut seen = HashSet::new();
    for (asn, h) in host_asns {
        if !seen.insert(asn) {
            continue;
        }
        for k in 0..rng.range(1, 4) {
            let Some(top) = space.fresh_v4(&mut rng, Use::HostAsn) else {
                break;
            };
            v4_country[top as usize] = host_country(h);
            let net = v4_net(top, rng.next_u64() as u32, v4_len(&mut rng, 16, 24));
            if k == 0 {
                asn_clients.push(inside(net));
            }
            asn_prefixes.push((net, asn));
        }
    }

    // Two operator-pinned client networks, as in Fedora's netblock_country table.
    let mut netblock_countries = Vec::new();
    for cc in ["JP", "DE"] {
        if let Some(top) = space.fresh_v4(&mut rng, Use::Other) {
            netblock_countries.push(NetblockCountry {
                network: v4_net(top, 0x0100, 24),
                country: code(cc),
            });
        }
    }

    // The rest of the Internet.
    while asn_prefixes.len() < scale.asn_prefixes {
        let asn = *rng.pick(&other_asns);
        let v4 = if rng.chance(850) {
            space.fresh_v4(&mut rng, Use::Other)
        } else {
            None
        };
        let net = match v4 {
            Some(top) => v4_net(top, rng.next_u64() as u32, v4_len(&mut rng, 16, 24)),
            None => {
                let len = *rng.pick(&[32, 32, 36, 40, 44, 48]);
                v6_net(space.fresh_v6(&mut rng), u128::from(rng.next_u64()) << 64, len)
            }
        };
        asn_prefixes.push((net, asn));
    }
    asn_prefixes.sort();

    let continent_overrides = vec![ContinentOverride {
        country: code("CY"),
        continent: ContinentCode(*b"EU"),
    }];
    let continent = |c: CountryCode| -> Option<ContinentCode> {
        continent_overrides
            .iter()
            .find(|o| o.country == c)
            .map(|o| o.continent)
            .or_else(|| builtin_continent(c))
    };

    // One address per country, outside every host network.
    let mut country_clients = Vec::new();
    for (i, &c) in countries.iter().enumerate() {
        let start = rng.below(1 << 16);
        let found = (0..1 << 16).map(|k| (start + k) & 0xffff).find(|&b| {
            v4_country[b] as usize == i && matches!(space.v4[b], Use::Free | Use::Other) && {
                let first = b >> 8;
                first <= 223 && !RESERVED_FIRST_OCTETS.contains(&(first as u32))
            }
        });
        if let Some(b) = found {
            country_clients.push((c, IpAddr::V4(Ipv4Addr::from((b as u32) << 16 | 0x0707))));
        }
    }
    // The global-fallback client: a country without mirrors on the continent with the fewest public hosts.
    let public_on = |k: Option<ContinentCode>| {
        hosts
            .iter()
            .filter(|h| !h.private && h.country.and_then(continent) == k && k.is_some())
            .count()
    };
    let mirrored: HashSet<CountryCode> = hosts.iter().filter_map(|h| h.country).collect();
    let global_fallback = country_clients
        .iter()
        .filter(|(c, _)| !mirrored.contains(c) && continent(*c).is_some())
        .min_by_key(|(c, _)| public_on(continent(*c)))
        .copied()
        .unwrap_or(country_clients[0]);

    let mut v4_asn = Vec::new();
    let mut v6_asn = Vec::new();
    for (net, asn) in &asn_prefixes {
        match net {
            IpNet::V4(n) => v4_asn.push((u32::from(n.network()), u32::from(n.broadcast()), *asn)),
            IpNet::V6(n) => v6_asn.push((u128::from(n.network()), u128::from(n.broadcast()), *asn)),
        }
    }
    v4_asn.sort_unstable();
    v6_asn.sort_unstable();

    Network {
        host_netblocks,
        netblock_countries,
        continent_overrides,
        asn_prefixes,
        clients: Clients {
            netblock: netblock_clients,
            asn: asn_clients,
            countries: country_clients,
            global_fallback,
        },
        geo: SyntheticGeo {
            countries,
            v4_country,
            v6_country,
            v4_asn,
            v6_asn,
        },
    }
}
