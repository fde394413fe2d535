//! What Mirrorvane's tests and benchmarks share, so each is written once:
//!
//! - [`synthetic`]: a deterministic, Fedora-shaped mirror network (snapshot, global ASN list, GeoIP stand-in,
//!   sample clients per decision tier) — benchmarks, the WASM corpus, the backend's tests and the demo;
//! - [`fixture`]: the one hand-built snapshot builder, in the shape of MirrorManager's cache, with a geo table
//!   and a one-call request helper;
//! - [`scenarios`]: request scenarios per decision tier and a mixed load over a synthetic world;
//! - [`compare`]: one probe corpus through two selectors, the first differing answer;
//! - [`tree`]: a small Fedora-like primary tree on disk, with real `repodata/repomd.xml`;
//! - [`mirror`] (feature `mirrors`): real mirrors on the loopback interface — HTTP(S) servers and rsync daemons;
//! - [`postgres`] (feature `postgres`): a private PostgreSQL server a test may stop and start;
//! - [`alloc`]: a counting global allocator for "allocates nothing" tests.
//!
//! What it is not: production code. Only the demo (behind the `mirrorvane` binary's `demo` feature) links it
//! outside tests. It has no database dependency, and nothing of the network without the `mirrors` feature, so the WASM crate can
//! use it.

pub mod alloc;
pub mod compare;
pub mod fixture;
#[cfg(feature = "mirrors")]
pub mod mirror;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod scenarios;
pub mod synthetic;
pub mod tree;

use std::path::PathBuf;

/// MaxMind's GeoIP2 country test database (MIT/Apache-2.0, `geo/testdata/`), as bytes: the demo bundles it so it
/// needs no download.
pub static GEOIP2_COUNTRY_TEST: &[u8] = include_bytes!("../../geo/testdata/GeoIP2-Country-Test.mmdb");

/// A file of `geo/testdata/` (MaxMind's test databases, a `global_netblocks.txt`): the GeoIP data every test that
/// needs a real database uses.
pub fn geo_testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../geo/testdata")
        .join(name)
}

/// The environment variable naming the Fedora-scale dataset's directory (a MirrorManager cache of 400 hosts and
/// 25,000 directories, `global_netblocks.txt`, …); default `../shared/data/fedora-scale` beside the checkout.
pub const FEDORA_SCALE_ENV: &str = "MIRRORVANE_FEDORA_SCALE";

/// The Fedora-scale dataset's directory, whether or not it exists.
pub fn fedora_scale_dir() -> PathBuf {
    match std::env::var_os(FEDORA_SCALE_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fedora-scale"),
    }
}

/// A file of the Fedora-scale dataset. Tests that need it are `#[ignore]`d (a fresh clone does not have it) and
/// run by `scripts/test.sh` where it is present; run by hand without it, they fail here saying how to get it.
pub fn fedora_scale(file: &str) -> PathBuf {
    let path = fedora_scale_dir().join(file);
    assert!(
        path.exists(),
        "{} not found: this test needs the Fedora-scale dataset (shared/data/fedora-scale beside the checkout, or \
         set {FEDORA_SCALE_ENV} to its directory)",
        path.display()
    );
    path
}
