//! The whole switch-over path of a MirrorManager deployment, end to end: a MirrorManager protobuf cache (fixture F
//! of the upstream server tests, reference §8.2) → its conversion (what `mirrorvane snapshot --from-mm2-cache` runs) → `mirrorvane-edge` with
//! MaxMind's test GeoIP database and the upstream `global_netblocks` lines → HTTP requests, with the upstream
//! expectations.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mirrorvane_edge::geo::{AsnSource, CountryDb, GeoLocator};
use mirrorvane_edge::source::{Intervals, Source};
use mirrorvane_mm2::proto::*;
use mirrorvane_testkit::geo_testdata;
use prost::Message;

fn urls(host: i64) -> Vec<i64> {
    (1..=3).map(|i| host * 10 + i).collect()
}

/// Fixture F: `directory/level/three`, Global [1, 42, 100], host 42 in SE, bandwidths 100/83/1000.
fn fixture_f() -> MirrorList {
    let mut hcurls = Vec::new();
    for h in [1i64, 42, 100] {
        for id in urls(h) {
            hcurls.push(IntStringMap {
                key: id,
                value: format!("http://hcurl{id}/test-{id}"),
            });
        }
    }
    let by_host = |dir: &str| MirrorListCacheType {
        directory: dir.into(),
        global: vec![1, 42, 100],
        subpath: Some(String::new()),
        by_country: vec![StringRepeatedIntMap {
            key: "SE".into(),
            value: vec![42],
        }],
        by_country_internet2: vec![],
        by_host_id: [1i64, 42, 100]
            .iter()
            .map(|&h| IntRepeatedIntMap { key: h, value: urls(h) })
            .collect(),
        ordered_mirror_list: None,
    };
    MirrorList {
        time: Some(1_700_000_000),
        hc_url_cache: hcurls,
        host_bandwidth_cache: vec![
            IntIntMap { key: 1, value: 100 },
            IntIntMap { key: 42, value: 83 },
            IntIntMap { key: 100, value: 1000 },
        ],
        host_country_cache: vec![IntStringMap {
            key: 42,
            value: "SE".into(),
        }],
        mirror_list_cache: vec![
            by_host("directory/level/three"),
            by_host("directory/level/three/repodata"),
        ],
        repo_arch_to_directory_name: vec![StringStringMap {
            key: "repo-name+arch-name".into(),
            value: "directory/level/three".into(),
        }],
        file_details_cache: vec![FileDetailsCacheDirectoryType {
            directory: "directory/level/three/repodata".into(),
            file_details_cache_files: vec![FileDetailsCacheFilesType {
                filename: "repomd.xml".into(),
                file_details: vec![FileDetailsType {
                    time_stamp: 17,
                    size: 3,
                    md5: Some("MD5555".into()),
                    sha1: None,
                    sha256: None,
                    sha512: None,
                }],
            }],
        }],
        ..Default::default()
    }
}

fn start_edge(snapshot: &Path, minimum: usize) -> SocketAddr {
    let config = mirrorvane_edge::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        minimum,
        // MirrorManager's order exactly: these tests compare with it byte for byte.
        family_preference: false,
        source: Source::File(snapshot.to_owned()),
        intervals: Intervals {
            file: Duration::from_secs(1),
            url: Duration::from_secs(30),
        },
        access_log: None,
        workers: None,
        limits: mirrorvane_edge::Limits::default(),
        trust: mirrorvane_edge::Trust::default(),
        admin_listen: None,
        fetch: mirrorvane_edge::source::Fetch::default(),
        max_age: None,
    };
    let locator = GeoLocator::new(
        CountryDb::open(geo_testdata("GeoIP2-Country-Test.mmdb")).unwrap(),
        Some(AsnSource::open(geo_testdata("global_netblocks-test.txt")).unwrap()),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let r = mirrorvane_edge::serve(config, Arc::new(locator), |addr| tx.send(addr).unwrap()).await;
            panic!("edge stopped: {r:?}");
        })
    });
    rx.recv_timeout(Duration::from_secs(20)).expect("edge listening")
}

fn get(addr: SocketAddr, target: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.split(' ').nth(1).unwrap().parse().unwrap(), body.to_owned())
}

#[test]
fn mirrormanager_cache_served_by_the_edge() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("mirrorlist_cache.proto");
    std::fs::write(&cache, fixture_f().encode_to_vec()).unwrap();
    let snapshot = dir.path().join("snapshot");
    let converted = mirrorvane_mm2::convert(&mirrorvane_mm2::load(&cache).unwrap()).unwrap();
    assert!(converted.stats.directories > 0, "{:?}", converted.stats);
    mirrorvane_builder::write::write_atomically(&snapshot, &mirrorvane_selector::snapshot::encode(&converted.snapshot))
        .unwrap();

    let five = start_edge(&snapshot, 5);
    let one = start_edge(&snapshot, 1);
    let two = start_edge(&snapshot, 2);
    assert_eq!(get(five, "/"), (404, "We don't serve their kind here!".into()));
    assert_eq!(
        get(five, "/mirrorlist"),
        (200, "# either path=, or repo= and arch= must be specified".into())
    );
    assert_eq!(get(five, "/mirrorlist?path=n/a"), (404, "error: invalid path".into()));
    assert_eq!(
        get(five, "/mirrorlist?path=directory/level/three&ip=10.11.12.331"),
        (500, "Cannot parse client IP address. Aborting.".into())
    );
    assert_eq!(
        get(five, "/mirrorlist?path=directory/level/three&country=sE"),
        (
            200,
            "# path = directory/level/three country = sE \nhttp://hcurl421/test-421/\n".into()
        )
    );
    // 89.160.20.113 is in Sweden in MaxMind's test database.
    assert_eq!(
        get(one, "/mirrorlist?path=directory/level/three&ip=89.160.20.113"),
        (
            200,
            "# path = directory/level/three country = SE \nhttp://hcurl421/test-421/\n".into()
        )
    );
    let (status, body) = get(two, "/mirrorlist?path=directory/level/three&ip=89.160.20.113");
    assert_eq!(status, 200);
    assert!(body.starts_with(
        "# path = directory/level/three country = SE country = global \nhttp://hcurl421/test-421/\nhttp://hcurl"
    ));
    assert_eq!(body.lines().count(), 4);
    let (status, body) = get(five, "/metalink?repo=repo-name&arch=arch-name&ip=89.160.20.113");
    assert_eq!(status, 200);
    for part in [
        "<hash type=\"md5\">MD5555</hash>",
        "<mm0:timestamp>17</mm0:timestamp>",
        "<size>3</size>",
        "<file name=\"repomd.xml\">",
    ] {
        assert!(body.contains(part), "{body}");
    }
    // The peer is 127.0.0.1 (no ASN); 134.108.34.134 is AS553 in the upstream global_netblocks lines.
    let (_, body) = get(five, "/mirrorlist?path=directory/level/three&ip=134.108.34.134");
    assert!(!body.contains("Using ASN"), "no host serves AS553 in fixture F: {body}");
}
