//! Shared by the fuzz targets: a small but complete snapshot (every table non-empty, so every tier of the
//! decision and every output can be reached; built with the project's one fixture builder) and a helper that
//! answers requests and checks the answer.

use std::net::IpAddr;
use std::sync::OnceLock;

use mirrorvane_selector::snapshot::*;
use mirrorvane_selector::{
    ClientGeo, ContentType, Context, ContinentCode, CountryCode, Request, SeededRandom, Selector, Workspace,
};
use mirrorvane_testkit::fixture::{Fixture, detail};

/// The fixed snapshot of the `query` target and the starting point of the `snapshot` target's mutations: hosts
/// with and without a country, of every bandwidth extreme, private, with ASNs, restricted to countries, with
/// several protocols or none; two categories; repositories, a disabled prefix, a redirect; alternates and an
/// unparsable digest; netblocks, a netblock country and a continent override.
pub fn fixture() -> Snapshot {
    let linux = "pub/fedora/linux";
    let os = "pub/fedora/linux/releases/41/Everything/x86_64/os";
    let repodata = "pub/fedora/linux/releases/41/Everything/x86_64/os/repodata";
    let source = "pub/fedora/linux/releases/41/Everything/source/tree";
    let epel = "pub/epel/9/Everything/x86_64";
    let epel_repodata = "pub/epel/9/Everything/x86_64/repodata";
    let with_sums = |ts, size, sha256: &str| FileDetail {
        sha256: Some(Digest::from_text(sha256)),
        ..detail(ts, size, "d41d8cd98f00b204e9800998ecf8427e")
    };
    let mut f = Fixture {
        created: 1_700_000_000,
        ..Fixture::default()
    }
    .host(
        100,
        Some("DE"),
        1,
        &["https://m0.example/x", "http://m0.example/x/", "rsync://m0.example/x"],
    )
    .host(101, Some("US"), 100, &["https://m1.example/x"])
    .host(102, Some("JP"), 1000, &["ftp://m2.example/x"])
    .host(103, Some("BR"), 10_000, &["https://m3.example/x"])
    .host(104, Some("FR"), 0, &["https://m4.example/x"])
    .host(105, None, 7, &[])
    .with(101, |h| h.asns = vec![64_500, 64_501])
    .with(103, |h| h.allowed = vec!["BR", "AR"])
    .with(104, |h| h.private = true)
    .dir(linux, linux, &[100, 101, 102, 103, 104, 105])
    .dir(os, linux, &[100, 101, 102, 103, 104, 105])
    .dir(repodata, linux, &[100, 103, 104])
    .dir(source, linux, &[])
    .dir(epel, "pub/epel", &[100, 101, 102, 103, 104, 105])
    .dir(epel_repodata, "pub/epel", &[100, 101, 102, 103, 104, 105]);
    f.repos = vec![
        ("fedora-41", "x86_64", os),
        ("fedora-source-41", "x86_64", source),
        ("epel-9", "x86_64", epel),
    ];
    f.disabled = vec!["fedora-40"];
    f.redirects = vec![("fedora-rawhide", "fedora-41")];
    f.files = vec![
        (
            repodata,
            "repomd.xml",
            vec![
                with_sums(1_699_999_000, 4321, "00ff"),
                with_sums(1_699_000_000, 4000, "NOT-HEX"),
            ],
        ),
        (epel_repodata, "repomd.xml", vec![with_sums(0, 0, "")]),
    ];
    f.netblocks = vec![("192.0.2.0/24", vec![104, 102]), ("2001:db8::/32", vec![104])];
    f.netblock_countries = vec![("198.51.100.0/24", "JP")];
    f.continent_overrides = vec![("JP", "OC")];
    f.snapshot()
}

/// The fixed selector, built once per process.
pub fn selector() -> &'static Selector {
    static S: OnceLock<Selector> = OnceLock::new();
    S.get_or_init(|| Selector::new(fixture()).expect("fixture is valid"))
}

/// The encoded fixture, built once per process.
pub fn encoded() -> &'static [u8] {
    static E: OnceLock<Vec<u8>> = OnceLock::new();
    E.get_or_init(|| encode(&fixture()))
}

/// A location derived from the address, so the fuzzer can reach every tier: country from the last byte, an ASN
/// for some addresses, nothing for others.
pub fn geo(ip: IpAddr) -> ClientGeo {
    let last = match ip {
        IpAddr::V4(v4) => v4.octets()[3],
        IpAddr::V6(v6) => v6.octets()[15],
    };
    let countries = ["DE", "US", "JP", "BR", "AR", "ZA", "A1", "--"];
    ClientGeo {
        country: (last & 8 == 0).then(|| CountryCode::parse(countries[usize::from(last & 7)]).unwrap()),
        continent: (last & 16 != 0)
            .then(|| ContinentCode::parse(["EU", "NA", "OC", "--"][usize::from(last >> 6)]).unwrap()),
        asn: (last & 32 != 0).then_some(64_500 + u32::from(last & 1)),
    }
}

/// Answers `req` and checks what must hold for every answer.
pub fn answer_and_check(sel: &Selector, req: &Request<'_>, now: u64, minimum: usize, seed: u64, ws: &mut Workspace) {
    let mut rng = SeededRandom::new(seed);
    let mut ctx = Context {
        now,
        minimum,
        locate: &geo,
        random: &mut rng,
    };
    let a = sel.handle(req, &mut ctx, ws);
    assert!(matches!(a.status, 200 | 302 | 404 | 500), "status {}", a.status);
    if a.status == 302 && a.content_type != ContentType::Json {
        assert!(!a.location.is_empty(), "302 without a Location");
    }
    if !a.location.is_empty() {
        assert_eq!(a.status, 302, "Location on a {}", a.status);
    }
    assert!(a.log_line.is_empty() || a.log_line.ends_with('\n'));
}

/// What every listing reader promises: directories sorted by path with the top directory first, each once.
pub fn check_listing(listing: &mirrorvane_scan::Listing) {
    assert_eq!(
        listing.dirs.first().map(|d| d.path.as_str()),
        Some(""),
        "the top directory comes first"
    );
    for pair in listing.dirs.windows(2) {
        assert!(
            pair[0].path < pair[1].path,
            "{:?} before {:?}",
            pair[0].path,
            pair[1].path
        );
    }
}

/// Every digest kept by a checksum parser is lowercase hex of the algorithm's length.
pub fn check_checksums(algo: mirrorvane_scan::checksums::Algo, parsed: &mirrorvane_scan::checksums::ParsedChecksums) {
    for (name, digest) in &parsed.hashes {
        assert_eq!(digest.len(), algo.hex_len(), "{name}: {digest}");
        assert!(
            digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{name}: {digest}"
        );
    }
}
