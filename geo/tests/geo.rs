//! The geo module against real MaxMind test databases, generated fixtures and broken input.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use mirrorvane_geo::{
    AsnDb, AsnSource, CountryDb, CountryInfo, CountrySchema, GeoError, GeoLocator, NetblockReport, PrefixAsnTable,
};
use mirrorvane_selector::{ClientGeo, ContinentCode, CountryCode, Locate};
use mmdb_writer::{IpVersion, Writer, ipnet};
use serde::Serialize;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn code(s: &str) -> Option<CountryCode> {
    Some(CountryCode::parse(s).unwrap())
}

fn info(country: Option<&str>, continent: Option<&str>) -> CountryInfo {
    CountryInfo {
        country: country.and_then(CountryCode::parse),
        continent: continent.and_then(ContinentCode::parse),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Country databases

#[test]
fn geoip2_country_test_db() {
    let db = CountryDb::open(testdata("GeoIP2-Country-Test.mmdb")).unwrap();
    assert_eq!(db.schema(), CountrySchema::GeoIp2);
    assert_eq!(db.database_type(), "GeoIP2-Country");
    // MirrorManager's own test expectation.
    assert_eq!(db.lookup(ip("89.160.20.113")).unwrap(), info(Some("SE"), Some("EU")));
    assert_eq!(db.lookup(ip("2001:218::1")).unwrap(), info(Some("JP"), Some("AS")));
    assert_eq!(db.lookup(ip("81.2.69.160")).unwrap(), info(Some("GB"), Some("EU")));
    // Only a continent in the record.
    assert_eq!(db.lookup(ip("2a02:d500::1")).unwrap(), info(None, Some("EU")));
    // Only traits in the record.
    assert_eq!(db.lookup(ip("214.1.1.1")).unwrap(), CountryInfo::default());
    // Not in the database.
    assert_eq!(db.lookup(ip("127.0.0.1")).unwrap(), CountryInfo::default());
    assert_eq!(db.lookup(ip("::1")).unwrap(), CountryInfo::default());
}

#[test]
fn geoip2_city_test_db() {
    let db = CountryDb::open(testdata("GeoIP2-City-Test.mmdb")).unwrap();
    assert_eq!(db.schema(), CountrySchema::GeoIp2);
    assert_eq!(db.lookup(ip("89.160.20.128")).unwrap(), info(Some("SE"), Some("EU")));
    assert_eq!(db.lookup(ip("216.160.83.56")).unwrap(), info(Some("US"), Some("NA")));
    assert_eq!(db.lookup(ip("175.16.199.1")).unwrap(), info(Some("CN"), Some("AS")));
    assert_eq!(db.lookup(ip("2.3.3.1")).unwrap(), info(None, Some("EU")));
    assert_eq!(db.lookup(ip("10.0.0.1")).unwrap(), CountryInfo::default());
}

#[test]
fn country_db_from_bytes_equals_from_path() {
    let bytes = std::fs::read(testdata("GeoIP2-Country-Test.mmdb")).unwrap();
    let db = CountryDb::from_bytes(bytes).unwrap();
    assert_eq!(db.locate(ip("89.160.20.113")).country, code("SE"));
}

#[derive(Serialize)]
struct Iso {
    #[serde(skip_serializing_if = "Option::is_none")]
    iso_code: Option<&'static str>,
}

#[derive(Serialize)]
struct Continent {
    code: &'static str,
}

#[derive(Serialize)]
struct GeoIp2Like {
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<Iso>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_country: Option<Iso>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continent: Option<Continent>,
}

fn writer(database_type: &str) -> Writer {
    Writer::builder(database_type)
        .build_epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .build()
}

#[test]
fn geoip2_registered_country_fallback() {
    let mut w = writer("GeoLite2-Country");
    // No country at all: the registered country stands in.
    let rec = GeoIp2Like {
        country: None,
        registered_country: Some(Iso { iso_code: Some("NL") }),
        continent: Some(Continent { code: "EU" }),
    };
    w.insert("192.0.2.0/25".parse::<ipnet::IpNet>().unwrap(), &rec).unwrap();
    // A country map without iso_code counts as absent too.
    let rec = GeoIp2Like {
        country: Some(Iso { iso_code: None }),
        registered_country: Some(Iso { iso_code: Some("FR") }),
        continent: None,
    };
    w.insert("192.0.2.128/25".parse::<ipnet::IpNet>().unwrap(), &rec)
        .unwrap();
    let db = CountryDb::from_bytes(w.to_bytes().unwrap()).unwrap();
    assert_eq!(db.schema(), CountrySchema::GeoIp2);
    assert_eq!(db.lookup(ip("192.0.2.1")).unwrap(), info(Some("NL"), Some("EU")));
    assert_eq!(db.lookup(ip("192.0.2.200")).unwrap(), info(Some("FR"), None));
}

#[derive(Serialize)]
struct Flat {
    country_code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    continent_code: Option<&'static str>,
}

/// The checked-in flat-layout fixture, rebuilt from this list.
fn flat_fixture() -> Vec<u8> {
    let mut w = writer("ip-location-db-country-Test");
    let rows: [(&str, &'static str, Option<&'static str>); 5] = [
        ("192.0.2.0/24", "DE", None),
        ("198.51.100.0/24", "jp", None),
        ("203.0.113.0/24", "ZZZ", None),
        ("100.64.0.0/10", "US", Some("NA")),
        ("2001:db8::/32", "SE", None),
    ];
    for (net, country_code, continent_code) in rows {
        w.insert(
            net.parse::<ipnet::IpNet>().unwrap(),
            &Flat {
                country_code,
                continent_code,
            },
        )
        .unwrap();
    }
    w.to_bytes().unwrap()
}

#[test]
fn flat_fixture_is_current() {
    let path = testdata("ip-location-db-country-Test.mmdb");
    let fresh = flat_fixture();
    if std::env::var_os("MIRRORVANE_REGEN_FIXTURES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let stored = std::fs::read(&path).unwrap();
    assert!(
        stored == fresh,
        "{} is stale; rerun with MIRRORVANE_REGEN_FIXTURES=1",
        path.display()
    );
}

#[test]
fn flat_country_code_schema() {
    let db = CountryDb::open(testdata("ip-location-db-country-Test.mmdb")).unwrap();
    assert_eq!(db.schema(), CountrySchema::Flat);
    assert_eq!(db.lookup(ip("192.0.2.7")).unwrap(), info(Some("DE"), None));
    assert_eq!(
        db.lookup(ip("198.51.100.7")).unwrap(),
        info(Some("JP"), None),
        "lower case is accepted"
    );
    assert_eq!(
        db.lookup(ip("203.0.113.7")).unwrap(),
        CountryInfo::default(),
        "not a two-letter code"
    );
    assert_eq!(db.lookup(ip("100.100.1.1")).unwrap(), info(Some("US"), Some("NA")));
    assert_eq!(db.lookup(ip("2001:db8::1")).unwrap(), info(Some("SE"), None));
    assert_eq!(
        db.lookup(ip("::ffff:192.0.2.7")).unwrap(),
        info(Some("DE"), None),
        "IPv4-mapped alias"
    );
    assert_eq!(db.lookup(ip("10.0.0.1")).unwrap(), CountryInfo::default());
}

#[test]
fn ipv6_in_ipv4_only_db_is_a_lookup_error() {
    let mut w = Writer::builder("ip-location-db-country-Test")
        .ip_version(IpVersion::V4)
        .build();
    w.insert(
        "192.0.2.0/24".parse::<ipnet::IpNet>().unwrap(),
        &Flat {
            country_code: "DE",
            continent_code: None,
        },
    )
    .unwrap();
    let db = CountryDb::from_bytes(w.to_bytes().unwrap()).unwrap();
    assert_eq!(db.locate(ip("192.0.2.1")).country, code("DE"));
    assert!(matches!(db.lookup(ip("2001:db8::1")), Err(GeoError::Lookup { .. })));
    assert_eq!(db.locate(ip("2001:db8::1")), CountryInfo::default());
}

#[test]
fn databases_without_country_data() {
    let err = CountryDb::open(testdata("GeoLite2-ASN-Test.mmdb")).unwrap_err();
    assert!(matches!(&err, GeoError::NoCountryData { database_type, .. } if database_type == "GeoLite2-ASN"));
    assert!(
        err.to_string()
            .contains("database type \"GeoLite2-ASN\" has no country data"),
        "{err}"
    );

    // A `country` that is a name, not a GeoIP2 map, is not mistaken for GeoIP2.
    #[derive(Serialize)]
    struct NameOnly {
        country: &'static str,
    }
    let mut w = writer("Some-Other-Country");
    w.insert(
        "192.0.2.0/24".parse::<ipnet::IpNet>().unwrap(),
        &NameOnly { country: "Germany" },
    )
    .unwrap();
    assert!(matches!(
        CountryDb::from_bytes(w.to_bytes().unwrap()),
        Err(GeoError::NoCountryData { .. })
    ));

    // A valid database with no records at all.
    let empty = writer("Empty").to_bytes().unwrap();
    assert!(matches!(
        CountryDb::from_bytes(empty),
        Err(GeoError::NoCountryData { .. })
    ));
}

// ---------------------------------------------------------------------------------------------------------
// ASN sources

#[test]
fn asn_from_mmdb() {
    let db = AsnDb::open(testdata("GeoLite2-ASN-Test.mmdb")).unwrap();
    assert_eq!(db.database_type(), "GeoLite2-ASN");
    assert_eq!(db.lookup(ip("89.160.20.113")).unwrap(), Some(29518));
    assert_eq!(db.lookup(ip("1.0.0.1")).unwrap(), Some(15169));
    assert_eq!(db.lookup(ip("2001:1700::1")).unwrap(), Some(6730));
    assert_eq!(db.lookup(ip("127.0.0.1")).unwrap(), None);

    let src = AsnSource::open(testdata("GeoLite2-ASN-Test.mmdb")).unwrap();
    assert!(matches!(src, AsnSource::Mmdb(_)));
    assert_eq!(src.asn(ip("89.160.20.113")), Some(29518));
}

#[test]
fn country_db_is_not_an_asn_db() {
    let err = AsnSource::open(testdata("GeoIP2-Country-Test.mmdb")).unwrap_err();
    assert!(matches!(&err, GeoError::NoAsnData { database_type, .. } if database_type == "GeoIP2-Country"));
}

#[test]
fn asn_from_global_netblocks() {
    let table = PrefixAsnTable::open(testdata("global_netblocks-test.txt")).unwrap();
    assert_eq!(
        table.report(),
        NetblockReport {
            ipv4: 6,
            ipv6: 1,
            skipped: 1,
            first_skipped_line: Some(5)
        }
    );
    assert_eq!(table.asn(ip("134.108.34.134")), Some(553));
    assert_eq!(table.asn(ip("127.0.0.1")), None);
    assert_eq!(table.asn(ip("2001:7c0:700:1234::4321")), Some(553));
    assert_eq!(table.asn(ip("134.107.227.255")), Some(5520));
    assert_eq!(table.asn(ip("134.107.228.0")), None);
    assert_eq!(table.asn(ip("89.160.20.113")), None, "the /124 line was skipped");

    let src = AsnSource::open(testdata("global_netblocks-test.txt")).unwrap();
    assert!(matches!(src, AsnSource::Prefixes(_)));
    assert_eq!(src.asn(ip("134.112.1.1")), Some(10455));
}

#[test]
fn longest_prefix_wins() {
    let table = PrefixAsnTable::parse(b"10.0.0.0/8 1\n10.1.0.0/16 2\n10.1.2.0/24 3\n").unwrap();
    assert_eq!(table.asn(ip("10.9.9.9")), Some(1));
    assert_eq!(table.asn(ip("10.1.9.9")), Some(2));
    assert_eq!(table.asn(ip("10.1.2.9")), Some(3));
}

#[test]
fn netblocks_with_garbage_lines() {
    let text = b"# comment\n\x00\x01\x02 binary\n10.0.0.0/8 64512\nnot a line at all\n300.0.0.0/8 1\n10.0.0.0/33 1\n";
    let table = PrefixAsnTable::parse(text).unwrap();
    assert_eq!(table.report().ipv4, 1);
    assert_eq!(table.report().skipped, 5);
    assert_eq!(table.report().first_skipped_line, Some(1));
    assert_eq!(table.asn(ip("10.20.30.40")), Some(64512));
}

#[test]
fn netblocks_without_ipv4_are_an_error() {
    for text in [
        &b""[..],
        b"\n\n  \n",
        b"garbage\nmore garbage\n",
        b"2001:db8::/32 64512\n",
        b"0.0.0.0/0 1\n",
    ] {
        let err = PrefixAsnTable::parse(text).unwrap_err();
        assert!(matches!(err, GeoError::NoIpv4Prefixes { .. }), "{err}");
        let err = AsnSource::from_bytes(text.to_vec()).unwrap_err();
        assert!(matches!(err, GeoError::NoIpv4Prefixes { .. }), "{err}");
    }
    let err = PrefixAsnTable::parse(b"2001:db8::/32 64512\nx\n").unwrap_err();
    assert!(matches!(
        err,
        GeoError::NoIpv4Prefixes {
            ipv6: 1,
            skipped: 1,
            ..
        }
    ));
}

#[test]
fn missing_file_is_an_io_error() {
    let missing = testdata("does-not-exist.mmdb");
    assert!(matches!(CountryDb::open(&missing), Err(GeoError::Io { .. })));
    assert!(matches!(AsnSource::open(&missing), Err(GeoError::Io { .. })));
    assert!(matches!(PrefixAsnTable::open(&missing), Err(GeoError::Io { .. })));
}

// ---------------------------------------------------------------------------------------------------------
// Broken databases: typed errors, never a panic.

/// Deterministic noise (xorshift64), so failures reproduce.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[test]
fn truncated_mmdb() {
    let bytes = std::fs::read(testdata("GeoIP2-Country-Test.mmdb")).unwrap();
    // Cut short: the metadata at the end is gone.
    for len in [0, 1, 100, bytes.len() / 2] {
        let err = CountryDb::from_bytes(bytes[..len].to_vec()).unwrap_err();
        assert!(matches!(err, GeoError::NotMaxMindDb { .. }), "{len}: {err}");
        assert!(err.to_string().contains("is not a MaxMind DB"));
    }
    // Cut inside the metadata: the marker is there, what follows is not.
    let err = CountryDb::from_bytes(bytes[..bytes.len() - 100].to_vec()).unwrap_err();
    assert!(matches!(err, GeoError::CorruptMaxMindDb { .. }), "{err}");
    // Head cut off: metadata intact, tree and data gone.
    let tail = bytes[bytes.len() - 400..].to_vec();
    let err = CountryDb::from_bytes(tail).unwrap_err();
    assert!(matches!(err, GeoError::CorruptMaxMindDb { .. }), "{err}");
}

#[test]
fn random_bytes() {
    for seed in 1..20u64 {
        let bytes = noise(4096, seed);
        assert!(matches!(
            CountryDb::from_bytes(bytes.clone()),
            Err(GeoError::NotMaxMindDb { .. })
        ));
        assert!(matches!(
            AsnDb::from_bytes(bytes.clone()),
            Err(GeoError::NotMaxMindDb { .. })
        ));
        // Not an mmdb, so read as text: nothing parses.
        assert!(matches!(
            AsnSource::from_bytes(bytes),
            Err(GeoError::NoIpv4Prefixes { .. })
        ));
        // Noise around a metadata marker.
        let mut bytes = noise(2048, seed);
        bytes.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
        bytes.extend(noise(200, seed + 100));
        assert!(CountryDb::from_bytes(bytes.clone()).is_err());
        assert!(AsnSource::from_bytes(bytes).is_err());
    }
}

/// Flips bytes all over real databases; whatever opens must answer lookups without panicking.
#[test]
fn corrupted_bytes_never_panic() {
    let probes = [
        "89.160.20.113",
        "2001:218::1",
        "1.0.0.1",
        "81.2.69.160",
        "::1",
        "2a02:d500::1",
    ]
    .map(ip);
    for (name, seed) in [("GeoIP2-Country-Test.mmdb", 7u64), ("GeoLite2-ASN-Test.mmdb", 11)] {
        let original = std::fs::read(testdata(name)).unwrap();
        let positions = noise(600 * 8, seed);
        for chunk in positions.chunks_exact(8) {
            let mut bytes = original.clone();
            let at = u64::from_le_bytes(chunk.try_into().unwrap()) as usize % bytes.len();
            bytes[at] ^= chunk[0] | 1;
            if let Ok(db) = CountryDb::from_bytes(bytes.clone()) {
                for p in probes {
                    let _ = db.lookup(p);
                }
            }
            if let Ok(src) = AsnSource::from_bytes(bytes) {
                for p in probes {
                    let _ = src.asn(p);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The Locate implementation

#[test]
fn locator_combines_sources() {
    let country = CountryDb::open(testdata("GeoIP2-Country-Test.mmdb")).unwrap();
    let asn = AsnSource::open(testdata("GeoLite2-ASN-Test.mmdb")).unwrap();
    let loc = GeoLocator::new(country, Some(asn));
    assert_eq!(
        loc.locate(ip("89.160.20.113")),
        ClientGeo {
            country: code("SE"),
            continent: ContinentCode::parse("EU"),
            asn: Some(29518)
        }
    );
    // 6to4 address wrapping 89.160.20.113: the country follows the embedded IPv4 address.
    let geo = loc.locate(ip("2002:59a0:1471::1"));
    assert_eq!((geo.country, geo.continent), (code("SE"), ContinentCode::parse("EU")));
    assert_eq!(loc.locate(ip("127.0.0.1")), ClientGeo::default());

    let loc = GeoLocator::new(
        CountryDb::open(testdata("GeoIP2-City-Test.mmdb")).unwrap(),
        Some(AsnSource::open(testdata("global_netblocks-test.txt")).unwrap()),
    );
    assert_eq!(
        loc.locate(ip("134.108.34.134")),
        ClientGeo {
            country: None,
            continent: None,
            asn: Some(553)
        }
    );
    assert_eq!(loc.locate(ip("2001:7c0:700:1234::4321")).asn, Some(553));

    let loc = GeoLocator::new(CountryDb::open(testdata("GeoIP2-City-Test.mmdb")).unwrap(), None);
    assert_eq!(loc.locate(ip("134.108.34.134")).asn, None);
}

// ---------------------------------------------------------------------------------------------------------
