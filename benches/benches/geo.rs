//! Where-is-the-client lookups, the edge's per-request GeoIP and ASN cost: MaxMind's test databases (country,
//! city, ASN) and a `global_netblocks.txt` of the Fedora-scale synthetic world's 50,000 prefixes, loaded and
//! looked up. Inputs are built outside the timed closures.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use mirrorvane_geo::{AsnSource, CountryDb, PrefixAsnTable};
use mirrorvane_testkit::geo_testdata;
use mirrorvane_testkit::synthetic::{Scale, generate, write_global_netblocks};

fn addresses(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().expect("address")).collect()
}

fn mmdb(c: &mut Criterion) {
    // Addresses spread over the test databases' data, plus misses.
    let countries = addresses(&[
        "89.160.20.113",
        "81.2.69.160",
        "216.160.83.57",
        "175.16.199.1",
        "2001:218::1",
        "2a02:d040::9",
    ]);
    let asns = addresses(&[
        "89.160.20.113",
        "1.0.0.1",
        "38.108.80.30",
        "2001:1700::1",
        "65.116.3.82",
        "12.87.120.9",
    ]);
    let mut group = c.benchmark_group("geo");
    for file in ["GeoIP2-Country-Test.mmdb", "GeoIP2-City-Test.mmdb"] {
        let db = CountryDb::open(geo_testdata(file)).expect("test database");
        let mut i = 0;
        group.bench_function(file.trim_end_matches(".mmdb"), |b| {
            b.iter(|| {
                i = (i + 1) % countries.len();
                black_box(db.locate(black_box(countries[i])))
            });
        });
    }
    let asn = AsnSource::open(geo_testdata("GeoLite2-ASN-Test.mmdb")).expect("test database");
    let mut i = 0;
    group.bench_function("GeoLite2-ASN-Test", |b| {
        b.iter(|| {
            i = (i + 1) % asns.len();
            black_box(asn.asn(black_box(asns[i])))
        });
    });
    group.finish();
}

fn netblocks(c: &mut Criterion) {
    let world = generate(&Scale::fedora(), 20260101);
    let mut text = Vec::new();
    write_global_netblocks(&world, &mut text).expect("in memory");
    let mut group = c.benchmark_group("global_netblocks");
    group.sample_size(20);
    group.bench_function("load_50k_prefixes", |b| {
        b.iter(|| black_box(PrefixAsnTable::parse(black_box(&text)).expect("parses")));
    });
    let table = PrefixAsnTable::parse(&text).expect("parses");
    // Random IPv4 addresses from a fixed xorshift stream: hits and misses as real clients give them.
    let mut x = 0x9e37_79b9_u32;
    let probes: Vec<IpAddr> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            IpAddr::from(x.to_be_bytes())
        })
        .collect();
    let mut i = 0;
    group.sample_size(100);
    group.bench_function("lookup_random_ipv4", |b| {
        b.iter(|| {
            i = (i + 1) % probes.len();
            black_box(table.asn(black_box(probes[i])))
        });
    });
    group.finish();
}

criterion_group!(benches, mmdb, netblocks);
criterion_main!(benches);
