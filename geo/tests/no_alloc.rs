//! Lookups run on every request: check that they do not allocate (the error paths may; they are rare).
//!
//! A separate test binary because it installs a counting global allocator. Only allocations made by the test's
//! own thread are counted, so the harness's threads do not disturb the figure.

use std::net::IpAddr;

use mirrorvane_geo::{AsnSource, CountryDb, GeoLocator};
use mirrorvane_selector::Locate;
use mirrorvane_testkit::alloc::{Counting, allocations};
use mirrorvane_testkit::geo_testdata;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn lookups_do_not_allocate() {
    let addrs: Vec<IpAddr> = [
        "89.160.20.113",
        "2001:218::1",
        "2a02:d500::1",
        "214.1.1.1",
        "127.0.0.1",
        "134.108.34.134",
        "2002:59a0:1471::1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let locators = [
        GeoLocator::new(
            CountryDb::open(geo_testdata("GeoIP2-City-Test.mmdb")).unwrap(),
            Some(AsnSource::open(geo_testdata("GeoLite2-ASN-Test.mmdb")).unwrap()),
        ),
        GeoLocator::new(
            CountryDb::open(geo_testdata("ip-location-db-country-Test.mmdb")).unwrap(),
            Some(AsnSource::open(geo_testdata("global_netblocks-test.txt")).unwrap()),
        ),
    ];
    // The counter works.
    let before = allocations();
    std::hint::black_box(vec![0u8; 16]);
    assert_eq!(allocations() - before, 1);

    let before = allocations();
    let mut known = 0;
    for loc in &locators {
        for &ip in &addrs {
            let geo = loc.locate(ip);
            known += usize::from(geo.country.is_some()) + usize::from(geo.asn.is_some());
        }
    }
    assert_eq!(allocations() - before, 0);
    assert!(known > 0);
}
