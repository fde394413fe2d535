//! Lookups run on every request: check that they do not allocate (the error paths may; they are rare).
//!
//! A separate test binary because it installs a counting global allocator. Only allocations made by the test's
//! own thread are counted, so the harness's threads do not disturb the figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;
use std::path::Path;

use mirrorvane_edge::geo::{AsnSource, CountryDb, GeoLocator};
use mirrorvane_selector::Locate;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn lookups_do_not_allocate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
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
            CountryDb::open(dir.join("GeoIP2-City-Test.mmdb")).unwrap(),
            Some(AsnSource::open(dir.join("GeoLite2-ASN-Test.mmdb")).unwrap()),
        ),
        GeoLocator::new(
            CountryDb::open(dir.join("ip-location-db-country-Test.mmdb")).unwrap(),
            Some(AsnSource::open(dir.join("global_netblocks-test.txt")).unwrap()),
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
