//! Address families (a deliberate difference from MirrorManager): within each tier, hosts a crawler found not
//! answering over the client's family (IPv4 or IPv6) come after the others; none is dropped, tiers keep their
//! order, and turning the preference off gives MirrorManager's order byte for byte.

use mirrorvane_selector::snapshot::Reachability;
use mirrorvane_testkit::fixture::*;

const V4_ONLY: Reachability = Reachability {
    ipv4: Some(true),
    ipv6: Some(false),
};
const V6_ONLY: Reachability = Reachability {
    ipv4: Some(false),
    ipv6: Some(true),
};
const DUAL: Reachability = Reachability {
    ipv4: Some(true),
    ipv6: Some(true),
};

/// Four German hosts (IPv4-only, IPv6-only, dual-stack, not measured) and two French ones (IPv4-only,
/// dual-stack), equal bandwidth.
fn fixture(measured: bool) -> Fixture {
    let r = |x: Reachability| if measured { x } else { Reachability::default() };
    Fixture::default()
        .host(1, Some("DE"), 100, &["http://h1.example/pub"])
        .with(1, |h| h.reachability = r(V4_ONLY))
        .host(2, Some("DE"), 100, &["http://h2.example/pub"])
        .with(2, |h| h.reachability = r(V6_ONLY))
        .host(3, Some("DE"), 100, &["http://h3.example/pub"])
        .with(3, |h| h.reachability = r(DUAL))
        .host(4, Some("DE"), 100, &["http://h4.example/pub"])
        .host(5, Some("FR"), 100, &["http://h5.example/pub"])
        .with(5, |h| h.reachability = r(V4_ONLY))
        .host(6, Some("FR"), 100, &["http://h6.example/pub"])
        .with(6, |h| h.reachability = r(DUAL))
        .dir("pub/x", "pub", &[1, 2, 3, 4, 5, 6])
}

fn geo() -> Geo {
    Geo(vec![
        ("2001:db8::7", Some("DE"), None),
        ("198.51.100.7", Some("DE"), None),
    ])
}

/// The host numbers of a mirrorlist answer, in order.
fn order(sel: &mirrorvane_selector::Selector, ip: &str, seed: u64) -> Vec<u32> {
    let query = format!("/mirrorlist?path=pub/x&ip={ip}");
    let r = call(
        sel,
        &geo(),
        &Call {
            path_and_query: &query,
            minimum: 1,
            seed,
            ..Default::default()
        },
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .lines()
        .filter_map(|l| l.strip_prefix("http://h"))
        .map(|l| l.split('.').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn known_unreachable_hosts_go_last_in_their_tier() {
    let sel = fixture(true).selector();
    for seed in 0..200 {
        let v6 = order(&sel, "2001:db8::7", seed);
        // Every host, German ones (the GeoIP tier) before French ones (the continent tier).
        let mut sorted = v6.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 2, 3, 4, 5, 6], "seed {seed}: {v6:?}");
        assert!(v6[..4].iter().all(|h| *h <= 4), "seed {seed}: {v6:?}");
        // The IPv4-only host of each tier last in it.
        assert_eq!(v6[3], 1, "seed {seed}: {v6:?}");
        assert_eq!(&v6[4..], [6, 5], "seed {seed}: {v6:?}");

        let v4 = order(&sel, "198.51.100.7", seed);
        assert_eq!(v4[3], 2, "seed {seed}: {v4:?}");
        assert!(v4[..4].iter().all(|h| *h <= 4), "seed {seed}: {v4:?}");
        // No French host is known not to answer over IPv4: the shuffle alone orders them.
        let mut fr = v4[4..].to_vec();
        fr.sort_unstable();
        assert_eq!(fr, [5, 6]);
        // An IPv4 address written as IPv6 (::ffff:a.b.c.d, as a dual-stack socket reports it) is IPv4.
        assert_eq!(order(&sel, "::ffff:198.51.100.7", seed)[3], 2);
    }
}

#[test]
fn the_rest_keeps_the_shuffled_order() {
    // Hosts 3 and 4 (both answer over IPv6) come first in either order, as the weighted shuffle draws them.
    let sel = fixture(true).selector();
    let mut first = std::collections::HashSet::new();
    for seed in 0..200 {
        let v6 = order(&sel, "2001:db8::7", seed);
        first.insert(v6[0]);
    }
    assert_eq!(first, [2, 3, 4].into_iter().collect());
}

#[test]
fn off_or_unmeasured_is_mirrormanagers_order() {
    let plain = fixture(false).selector();
    let mut off = fixture(true).selector();
    off.set_family_preference(false);
    let on_unmeasured = fixture(false).selector();
    let mut differs = false;
    let on = fixture(true).selector();
    for seed in 0..200 {
        for ip in ["2001:db8::7", "198.51.100.7"] {
            let expected = order(&plain, ip, seed);
            assert_eq!(order(&off, ip, seed), expected, "seed {seed} {ip}");
            assert_eq!(order(&on_unmeasured, ip, seed), expected, "seed {seed} {ip}");
            differs |= order(&on, ip, seed) != expected;
        }
    }
    assert!(differs, "the preference never changed an answer");
}
