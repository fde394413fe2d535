use std::collections::HashSet;
use std::net::IpAddr;

use mirrorvane_selector::snapshot::encode;
use mirrorvane_selector::{Context, Locate, Request, SeededRandom, Selector, Tier, Workspace};

use super::*;

fn fedora() -> &'static World {
    static WORLD: std::sync::OnceLock<World> = std::sync::OnceLock::new();
    WORLD.get_or_init(|| generate(&Scale::fedora(), 20260101))
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = encode(&generate(&Scale::demo(), 7).snapshot);
    let b = encode(&generate(&Scale::demo(), 7).snapshot);
    let c = encode(&generate(&Scale::demo(), 8).snapshot);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        encode(&fedora().snapshot),
        encode(&generate(&Scale::fedora(), 20260101).snapshot)
    );
}

#[test]
fn fedora_counts_are_on_target() {
    let w = fedora();
    let s = &w.snapshot;
    let countries: HashSet<_> = s.hosts.iter().filter_map(|h| h.country).collect();
    let private = s.hosts.iter().filter(|h| h.private).count();
    let with_asn = s.hosts.iter().filter(|h| !h.asns.is_empty()).count();
    let urls: usize = s.host_categories.iter().map(|hc| hc.urls.len()).sum();
    let details: usize = s.files.iter().map(|f| f.details.len()).sum();
    let pairs: usize = s
        .directories
        .iter()
        .map(|d| s.host_sets[d.hosts.index()].members().len())
        .sum();
    println!(
        "hosts {} countries {} private {private} asn {with_asn} host categories {} urls {urls} dirs {} host sets {} \
         repos {} file details {details} carrier pairs {pairs} netblocks {} asn prefixes {}",
        s.hosts.len(),
        countries.len(),
        s.host_categories.len(),
        s.directories.len(),
        s.host_sets.len(),
        s.repositories.len(),
        s.host_netblocks.len(),
        w.asn_prefixes.len()
    );
    assert_eq!(s.hosts.len(), 400);
    assert_eq!(countries.len(), 62);
    assert!((20..=60).contains(&private), "{private}");
    assert!((130..=210).contains(&with_asn), "{with_asn}");
    assert!((850..=1150).contains(&s.host_categories.len()));
    assert!((2_100..=3_000).contains(&urls), "{urls}");
    assert_eq!(s.directories.len(), 25_000);
    assert_eq!(s.repositories.len(), 4_000);
    assert_eq!(s.files.len(), 4_000);
    assert!((5_000..=8_000).contains(&details), "{details}");
    assert!((1_500_000..=2_200_000).contains(&pairs), "{pairs}");
    assert_eq!(s.host_netblocks.len(), 1_000);
    assert_eq!(w.asn_prefixes.len(), 50_000);
    assert!(s.host_netblocks.iter().any(|n| n.network.addr().is_ipv6()));
    assert!(s.host_netblocks.iter().any(|n| n.hosts.len() > 1));
}

#[test]
fn selector_accepts_both_scales_and_every_repo_has_repodata() {
    for w in [fedora(), &generate(&Scale::demo(), 1)] {
        let sel = Selector::new(w.snapshot.clone()).expect("valid snapshot");
        for r in &w.snapshot.repositories {
            let dir = &w.snapshot.directories[r.directory.index()].name;
            let repodata = sel.directory(&format!("{dir}/repodata")).expect("repodata directory");
            assert!(sel.file(repodata, "repomd.xml").is_some(), "{dir}");
        }
        assert!(sel.repository("fedora-43", "x86_64").is_some());
        assert!(sel.repository("epel-9", "aarch64").is_some());
        assert!(sel.repository("updates-released-f42", "s390x").is_some());
        assert!(sel.repository("fedora-source-41", "source").is_some());
    }
}

#[test]
fn fedora_snapshot_fits_the_budget() {
    let bytes = encode(&fedora().snapshot);
    println!(
        "Fedora-scale snapshot: {} bytes ({:.2} MiB)",
        bytes.len(),
        bytes.len() as f64 / 1048576.0
    );
    assert!(bytes.len() <= 4 * 1024 * 1024, "{} bytes", bytes.len());
}

/// The decision for `ip` on the popular metalink.
fn tiers(sel: &Selector, geo: &SyntheticGeo, ip: IpAddr) -> (Vec<Tier>, bool) {
    let query = format!("repo=fedora-43&arch=x86_64&ip={ip}");
    let req = Request {
        path: "/metalink",
        query: &query,
        forwarded_for: None,
        accept: None,
        peer: ip,
    };
    let mut rng = SeededRandom::new(1);
    let mut ctx = Context {
        now: CREATED,
        minimum: 5,
        locate: geo,
        random: &mut rng,
    };
    let mut ws = Workspace::new();
    let Ok(d) = sel.decide(&req, &mut ctx, &mut ws) else {
        panic!("no decision for {ip}");
    };
    (d.entries.iter().map(|e| e.tier).collect(), d.global)
}

#[test]
fn sample_clients_reach_their_tiers() {
    let w = fedora();
    let sel = Selector::new(w.snapshot.clone()).unwrap();
    let c = &w.clients;
    assert!(
        c.netblock
            .iter()
            .any(|&ip| tiers(&sel, &w.geo, ip).0.contains(&Tier::Netblock))
    );
    let asn = c
        .asn
        .iter()
        .filter(|&&ip| tiers(&sel, &w.geo, ip).0.first() == Some(&Tier::Asn))
        .count();
    assert!(asn > c.asn.len() / 2, "{asn} of {}", c.asn.len());
    for &ip in &c.asn {
        assert!(tiers(&sel, &w.geo, ip).0.iter().all(|&t| t != Tier::Netblock));
    }
    let de = c.in_country("DE").unwrap();
    assert_eq!(w.geo.locate(de).country.map(|c| c.to_string()).as_deref(), Some("DE"));
    let (t, global) = tiers(&sel, &w.geo, de);
    assert_eq!(t.first(), Some(&Tier::GeoCountry));
    assert!(t.contains(&Tier::Continent) && !global);
    let (cc, ip) = c.global_fallback;
    assert_eq!(w.geo.locate(ip).country, Some(cc));
    let (t, global) = tiers(&sel, &w.geo, ip);
    assert!(global && t.contains(&Tier::Global), "{cc}: {t:?}");
}

#[test]
fn global_netblocks_round_trip() {
    let w = generate(&Scale::demo(), 3);
    let mut out = Vec::new();
    write_global_netblocks(&w, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let parsed: Vec<(IpNet, u32)> = text
        .lines()
        .map(|l| {
            let (net, asn) = l.split_once(' ').unwrap();
            (net.parse().unwrap(), asn.parse().unwrap())
        })
        .collect();
    assert_eq!(parsed, w.asn_prefixes);
    for ip in &w.clients.asn {
        assert!(w.geo.asn(*ip).is_some());
    }
}
