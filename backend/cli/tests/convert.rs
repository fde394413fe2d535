//! Conversion of hand-built MirrorManager caches: the library function and the `mirrorvane` binary.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use mirrorvane_mm2::proto::{
    FileDetailsCacheDirectoryType, FileDetailsCacheFilesType, FileDetailsType, IntIntMap, IntRepeatedIntMap,
    IntRepeatedStringMap, IntStringMap, MirrorList, MirrorListCacheType, StringBoolMap, StringRepeatedIntMap,
    StringStringMap,
};
use mirrorvane_mm2::{self as mm2, ConvertError, LoadError, Warning};
use mirrorvane_selector::snapshot::{self, Digest, Snapshot};
use mirrorvane_selector::{ContinentCode, CountryCode};
use prost::Message;

// ---- builders -------------------------------------------------------------------------------

fn ss(key: &str, value: &str) -> StringStringMap {
    StringStringMap {
        key: key.into(),
        value: value.into(),
    }
}

fn sri(key: &str, value: &[i64]) -> StringRepeatedIntMap {
    StringRepeatedIntMap {
        key: key.into(),
        value: value.to_vec(),
    }
}

fn iri(key: i64, value: &[i64]) -> IntRepeatedIntMap {
    IntRepeatedIntMap {
        key,
        value: value.to_vec(),
    }
}

fn dir(name: &str, subpath: Option<&str>, global: &[i64], by_host: &[(i64, &[i64])]) -> MirrorListCacheType {
    MirrorListCacheType {
        directory: name.into(),
        global: global.to_vec(),
        subpath: subpath.map(Into::into),
        by_host_id: by_host.iter().map(|(h, ids)| iri(*h, ids)).collect(),
        ..Default::default()
    }
}

fn urls_for(ids: &[i64]) -> Vec<IntStringMap> {
    ids.iter()
        .map(|&id| IntStringMap {
            key: id,
            value: format!("http://hcurl{id}/test-{id}"),
        })
        .collect()
}

fn bandwidth(pairs: &[(i64, i64)]) -> Vec<IntIntMap> {
    pairs.iter().map(|&(key, value)| IntIntMap { key, value }).collect()
}

/// The upstream `do_mirrorlist_test` fixture (reference §8.2 F).
fn fixture_f() -> MirrorList {
    let mut d = dir(
        "directory/level/three",
        None,
        &[1, 42, 100],
        &[(42, &[421, 422, 423]), (1, &[11, 12, 13]), (100, &[1001, 1002, 1003])],
    );
    d.by_country = vec![sri("SE", &[42])];
    MirrorList {
        time: Some(1_700_000_000),
        hc_url_cache: urls_for(&[421, 422, 423, 11, 12, 13, 1001, 1002, 1003]),
        host_bandwidth_cache: bandwidth(&[(1, 100), (42, 83), (100, 1000)]),
        mirror_list_cache: vec![d],
        ..Default::default()
    }
}

fn convert(cache: &MirrorList) -> mm2::Conversion {
    let c = mm2::convert(cache).expect("converts");
    // Every converted snapshot survives the file format.
    let back = snapshot::decode(&snapshot::encode(&c.snapshot)).expect("decodes");
    assert_eq!(back, c.snapshot);
    c
}

fn urls_of(s: &Snapshot, mm_host: u32) -> Vec<Vec<String>> {
    s.host_categories
        .iter()
        .filter(|hc| s.hosts[hc.host.index()].id == mm_host)
        .map(|hc| hc.urls.clone())
        .collect()
}

fn members_of(s: &Snapshot, directory: &str) -> Vec<u32> {
    let d = s.directories.iter().find(|d| d.name == directory).expect("directory");
    s.host_sets[d.hosts.index()]
        .members()
        .iter()
        .map(|m| s.hosts[s.host_categories[m.index()].host.index()].id)
        .collect()
}

// ---- library ----------------------------------------------------------------------------------

#[test]
fn upstream_fixture_converts() {
    let mut cache = fixture_f();
    cache.host_country_cache = vec![IntStringMap {
        key: 42,
        value: "se".into(),
    }];
    let c = convert(&cache);
    let s = &c.snapshot;
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(s.created, 1_700_000_000);
    assert_eq!(s.hosts.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 42, 100]);
    assert_eq!(s.hosts.iter().map(|h| h.bandwidth).collect::<Vec<_>>(), [100, 83, 1000]);
    assert_eq!(s.hosts[1].country, CountryCode::parse("SE"));
    assert_eq!(s.hosts[1].name, "host-42");
    assert!(s.hosts.iter().all(|h| !h.private));
    assert_eq!(s.categories.len(), 1);
    assert_eq!(s.categories[0].topdir, "directory/level/three");
    assert_eq!(
        urls_of(s, 42),
        [[
            "http://hcurl421/test-421",
            "http://hcurl422/test-422",
            "http://hcurl423/test-423"
        ]]
    );
    assert_eq!(members_of(s, "directory/level/three"), [1, 42, 100]);
    assert_eq!(
        (c.stats.host_sets, c.stats.directories, c.stats.directory_hosts),
        (1, 1, 3)
    );
}

#[test]
fn upstream_fixture_without_countries_warns_about_by_country() {
    // Upstream's fixture has ByCountry {SE: [42]} but no HostCountryCache: the lists cannot be derived.
    let c = convert(&fixture_f());
    assert_eq!(
        c.warnings,
        [Warning::ByCountryMismatch {
            directory: "directory/level/three".into()
        }]
    );
}

#[test]
fn top_directories_come_from_subpaths() {
    let cache = MirrorList {
        hc_url_cache: urls_for(&[1, 2]),
        host_bandwidth_cache: bandwidth(&[(1, 10), (2, 10)]),
        mirror_list_cache: vec![
            dir("pub/fedora/linux", Some(""), &[1], &[(1, &[1])]),
            dir("pub/fedora/linux/releases/41", Some("releases/41"), &[1], &[(1, &[1])]),
            dir("pub/epel", None, &[2], &[(2, &[2])]),
            dir("directory/repodata", Some("directory/repodata"), &[2], &[(2, &[2])]),
        ],
        ..Default::default()
    };
    let s = convert(&cache).snapshot;
    let cats: Vec<(&str, &str)> = s
        .categories
        .iter()
        .map(|c| (c.name.as_str(), c.topdir.as_str()))
        .collect();
    assert_eq!(
        cats,
        [
            ("(root)", ""),
            ("pub/epel", "pub/epel"),
            ("pub/fedora/linux", "pub/fedora/linux")
        ]
    );
    let dir_cats: Vec<&str> = s
        .directories
        .iter()
        .map(|d| s.categories[d.category.index()].topdir.as_str())
        .collect();
    assert_eq!(dir_cats, ["pub/fedora/linux", "pub/fedora/linux", "pub/epel", ""]);
    // Both fedora directories share one host set; host 2 has one host category per category.
    assert_eq!(s.directories[0].hosts, s.directories[1].hosts);
    assert_eq!(urls_of(&s, 2).len(), 2);
    // Sorted by (category, host).
    let keys: Vec<_> = s.host_categories.iter().map(|hc| (hc.category, hc.host)).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn subpath_that_is_not_a_suffix_is_an_error() {
    let cache = MirrorList {
        mirror_list_cache: vec![dir("pub/fedora/linux/releases", Some("epel/9"), &[], &[])],
        ..Default::default()
    };
    let err = mm2::convert(&cache).expect_err("must fail");
    assert!(matches!(err, ConvertError::SubpathMismatch { .. }));
    assert!(err.to_string().contains("pub/fedora/linux/releases"), "{err}");
}

#[test]
fn private_hosts_are_carried_but_never_global() {
    let cache = MirrorList {
        hc_url_cache: urls_for(&[1, 2, 3]),
        host_bandwidth_cache: bandwidth(&[(1, 1), (2, 1), (3, 1)]),
        mirror_list_cache: vec![
            // Host 2 is in ByHostId only here, but Global in the next directory: public.
            dir("a", None, &[1], &[(1, &[1]), (2, &[2]), (3, &[3])]),
            dir("b", None, &[2], &[(2, &[2])]),
        ],
        ..Default::default()
    };
    let s = convert(&cache).snapshot;
    let private: Vec<(u32, bool)> = s.hosts.iter().map(|h| (h.id, h.private)).collect();
    assert_eq!(private, [(1, false), (2, false), (3, true)]);
    assert_eq!(members_of(&s, "a"), [1, 2, 3]);
}

#[test]
fn hosts_only_counted_get_empty_url_lists() {
    let mut d = dir("a", None, &[1, 2], &[(1, &[1])]);
    d.by_country = vec![sri("DE", &[2])];
    let cache = MirrorList {
        hc_url_cache: urls_for(&[1]),
        host_bandwidth_cache: bandwidth(&[(1, 5), (2, 5)]),
        host_country_cache: vec![IntStringMap {
            key: 2,
            value: "DE".into(),
        }],
        mirror_list_cache: vec![d],
        ..Default::default()
    };
    let c = convert(&cache);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(urls_of(&c.snapshot, 2), [Vec::<String>::new()]);
    assert_eq!(members_of(&c.snapshot, "a"), [1, 2]);
    assert_eq!(c.stats.host_categories_without_urls, 1);
}

#[test]
fn url_trouble_is_warned_about() {
    let cache = MirrorList {
        hc_url_cache: urls_for(&[1, 2]),
        host_bandwidth_cache: bandwidth(&[(1, 5)]),
        mirror_list_cache: vec![
            dir("t/a", Some("a"), &[1], &[(1, &[1, 99])]),
            dir("t/b", Some("b"), &[1], &[(1, &[2])]),
        ],
        ..Default::default()
    };
    let c = convert(&cache);
    assert_eq!(urls_of(&c.snapshot, 1), [["http://hcurl1/test-1"]]);
    assert!(c.warnings.contains(&Warning::InconsistentUrls {
        host: 1,
        category: "t".into(),
        directory: "t/b".into()
    }));
    assert!(c.warnings.contains(&Warning::UnknownHcUrl {
        host: 1,
        category: "t".into(),
        id: 99
    }));
}

#[test]
fn host_attributes() {
    let cache = MirrorList {
        host_country_cache: vec![
            IntStringMap {
                key: 1,
                value: "de".into(),
            },
            IntStringMap {
                key: 2,
                value: "Germany".into(),
            },
        ],
        host_bandwidth_cache: bandwidth(&[(1, 0), (2, 1_000_000)]),
        host_asn_cache: vec![iri(64500, &[1, 3]), iri(64499, &[1]), iri(-5, &[1])],
        host_country_allowed_cache: vec![IntRepeatedStringMap {
            key: 1,
            value: vec!["se".into(), "DE".into(), "xyz".into(), "se".into()],
        }],
        host_netblock_cache: vec![sri("10.0.0.0/8", &[-1])],
        ..Default::default()
    };
    let c = convert(&cache);
    let h = &c.snapshot.hosts;
    assert_eq!(h.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!((h[0].country, h[1].country), (CountryCode::parse("DE"), None));
    assert_eq!((h[0].bandwidth, h[1].bandwidth, h[2].bandwidth), (1, 10_000, 1));
    assert_eq!(h[0].asns, [64499, 64500]);
    assert_eq!(h[2].asns, [64500]);
    assert_eq!(
        h[0].allowed_countries,
        [CountryCode::parse("DE").unwrap(), CountryCode::parse("SE").unwrap()]
    );
    for expected in [
        Warning::InvalidCountry {
            host: 2,
            value: "Germany".into(),
        },
        Warning::MissingBandwidth { host: 3 },
        Warning::InvalidAsn { value: -5 },
        Warning::InvalidAllowedCountry {
            host: 1,
            value: "xyz".into(),
        },
        Warning::HostIdOutOfRange {
            id: -1,
            map: "HostNetblockCache",
        },
    ] {
        assert!(
            c.warnings.contains(&expected),
            "missing {expected:?} in {:?}",
            c.warnings
        );
    }
}

#[test]
fn netblocks_are_parsed_and_merged() {
    let cache = MirrorList {
        host_bandwidth_cache: bandwidth(&[(1, 1), (2, 1)]),
        host_netblock_cache: vec![
            sri("10.0.0.0/8", &[1]),
            sri("10.1.2.3/8", &[2, 1]),
            sri("192.0.2.7", &[1]),
            sri("2001:db8::1", &[2]),
            sri("192.168.7.9/255.255.255.0", &[2]),
            sri("mirror.example.org", &[1]),
        ],
        netblock_country_cache: vec![
            ss("198.51.100.0/24", "us"),
            ss("nonsense", "US"),
            ss("203.0.113.0/24", "USA"),
        ],
        ..Default::default()
    };
    let c = convert(&cache);
    let nets: Vec<(String, Vec<u32>)> = c
        .snapshot
        .host_netblocks
        .iter()
        .map(|n| {
            (
                n.network.to_string(),
                n.hosts.iter().map(|h| c.snapshot.hosts[h.index()].id).collect(),
            )
        })
        .collect();
    let expected = [
        ("10.0.0.0/8", vec![1, 2]),
        ("192.0.2.7/32", vec![1]),
        ("2001:db8::1/128", vec![2]),
        ("192.168.7.0/24", vec![2]),
    ];
    assert_eq!(nets, expected.map(|(n, h)| (n.to_string(), h)));
    assert!(c.warnings.contains(&Warning::InvalidNetwork {
        map: "HostNetblockCache",
        value: "mirror.example.org".into()
    }));
    let countries: Vec<String> = c
        .snapshot
        .netblock_countries
        .iter()
        .map(|n| format!("{} {}", n.network, n.country))
        .collect();
    assert_eq!(countries, ["198.51.100.0/24 US"]);
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
}

#[test]
fn repositories_redirects_and_disabled() {
    let cache = MirrorList {
        mirror_list_cache: vec![
            dir("pub/f/41", Some("41"), &[], &[]),
            dir("pub/f/42", Some("42"), &[], &[]),
        ],
        repo_arch_to_directory_name: vec![
            ss("fedora-41+x86_64", "pub/f/41"),
            ss("fedora-42+x86_64", "pub/f/42"),
            ss("fedora-41+x86_64", "pub/f/42"),
            ss("no-plus", "pub/f/41"),
            ss("a+b+c", "pub/f/41"),
            ss("fedora-40+x86_64", "pub/f/40"),
        ],
        disabled_repository_cache: vec![
            StringBoolMap {
                key: "fedora-39".into(),
                value: true,
            },
            StringBoolMap {
                key: "fedora-39".into(),
                value: true,
            },
            StringBoolMap {
                key: "fedora-41".into(),
                value: false,
            },
        ],
        repository_redirect_cache: vec![ss("fedora-rawhide", "rawhide"), ss("fedora-rawhide", "other")],
        country_continent_redirect_cache: vec![ss("IL", "EU"), ss("IL", "AS"), ss("Israel", "EU")],
        ..Default::default()
    };
    let c = convert(&cache);
    let s = &c.snapshot;
    let repos: Vec<(&str, &str, u32)> = s
        .repositories
        .iter()
        .map(|r| (r.prefix.as_str(), r.arch.as_str(), r.directory.0))
        .collect();
    assert_eq!(repos, [("fedora-41", "x86_64", 0), ("fedora-42", "x86_64", 1)]);
    assert_eq!(s.disabled_prefixes, ["fedora-39"]);
    assert_eq!(s.repository_redirects.len(), 1);
    assert_eq!(s.repository_redirects[0].to, "rawhide");
    assert_eq!(s.continent_overrides.len(), 1);
    assert_eq!(s.continent_overrides[0].continent, ContinentCode::parse("EU").unwrap());
    for expected in [
        Warning::DuplicateKey {
            map: "RepoArchToDirectoryName",
            key: "fedora-41+x86_64".into(),
        },
        Warning::InvalidRepositoryKey { key: "no-plus".into() },
        Warning::InvalidRepositoryKey { key: "a+b+c".into() },
        Warning::UnknownDirectory {
            map: "RepoArchToDirectoryName",
            name: "pub/f/40".into(),
        },
        Warning::DuplicateKey {
            map: "RepositoryRedirectCache",
            key: "fedora-rawhide".into(),
        },
        Warning::DuplicateKey {
            map: "CountryContinentRedirectCache",
            key: "IL".into(),
        },
    ] {
        assert!(
            c.warnings.contains(&expected),
            "missing {expected:?} in {:?}",
            c.warnings
        );
    }
    assert_eq!(c.warnings.len(), 7, "{:?}", c.warnings);
}

#[test]
fn duplicate_directories_keep_the_first() {
    let cache = MirrorList {
        hc_url_cache: urls_for(&[1, 2]),
        host_bandwidth_cache: bandwidth(&[(1, 1), (2, 1)]),
        mirror_list_cache: vec![dir("d", None, &[1], &[(1, &[1])]), dir("d", None, &[2], &[(2, &[2])])],
        ..Default::default()
    };
    let c = convert(&cache);
    assert_eq!(c.snapshot.directories.len(), 1);
    assert_eq!(members_of(&c.snapshot, "d"), [1]);
    assert_eq!(c.warnings, [Warning::DuplicateDirectory { name: "d".into() }]);
}

#[test]
fn file_details_keep_order_and_hashes() {
    let detail = |ts: u64, md5: Option<&str>, sha256: &str| FileDetailsType {
        time_stamp: ts,
        size: ts * 10,
        md5: md5.map(Into::into),
        sha1: Some(String::new()),
        sha256: Some(sha256.into()),
        sha512: None,
    };
    let cache = MirrorList {
        mirror_list_cache: vec![dir("pub/x/repodata", Some("x/repodata"), &[], &[])],
        file_details_cache: vec![
            FileDetailsCacheDirectoryType {
                directory: "pub/x/repodata".into(),
                file_details_cache_files: vec![FileDetailsCacheFilesType {
                    filename: "repomd.xml".into(),
                    file_details: vec![detail(20, Some("MD5555"), "ab01"), detail(10, None, "cd")],
                }],
            },
            FileDetailsCacheDirectoryType {
                directory: "pub/gone".into(),
                file_details_cache_files: vec![],
            },
        ],
        ..Default::default()
    };
    let c = convert(&cache);
    let f = &c.snapshot.files;
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].name, "repomd.xml");
    let d = &f[0].details;
    assert_eq!((d[0].timestamp, d[0].size, d[1].timestamp), (20, 200, 10));
    assert_eq!(d[0].md5, Some(Digest::Text("MD5555".into())));
    assert_eq!(d[0].sha256, Some(Digest::Bytes(vec![0xab, 0x01])));
    assert_eq!(
        (d[0].sha1.clone(), d[1].md5.clone(), d[0].sha512.clone()),
        (None, None, None)
    );
    assert_eq!(
        c.warnings,
        [Warning::UnknownDirectory {
            map: "FileDetailsCache",
            name: "pub/gone".into()
        }]
    );
}

#[test]
fn empty_cache_converts_to_empty_snapshot() {
    let c = convert(&MirrorList::default());
    assert_eq!(c.snapshot, Snapshot::default());
    assert!(c.warnings.is_empty());
}

// ---- loading ----------------------------------------------------------------------------------

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn loads_plain_and_gzip_by_content_not_name() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = fixture_f().encode_to_vec();
    let plain = write_file(tmp.path(), "cache.gz", &bytes);
    let packed = write_file(tmp.path(), "cache.proto", &gzip(&bytes));
    assert_eq!(mm2::load(&plain).unwrap(), fixture_f());
    assert_eq!(mm2::load(&packed).unwrap(), fixture_f());
}

#[test]
fn bad_files_are_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = fixture_f().encode_to_vec();
    let truncated = write_file(tmp.path(), "truncated.proto", &bytes[..bytes.len() - 3]);
    let garbage = write_file(tmp.path(), "garbage.proto", b"\xff\xff\xff\xff not a protobuf at all");
    let bad_gzip = write_file(tmp.path(), "bad.gz", b"\x1f\x8b\x08\x00garbage");
    let missing = tmp.path().join("missing.proto");
    assert!(matches!(mm2::load(&truncated), Err(LoadError::Decode { .. })));
    assert!(matches!(mm2::load(&garbage), Err(LoadError::Decode { .. })));
    assert!(matches!(mm2::load(&bad_gzip), Err(LoadError::Gzip { .. })));
    let err = mm2::load(&missing).unwrap_err();
    assert!(matches!(err, LoadError::Read { .. }));
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
}

// ---- the binary -------------------------------------------------------------------------------

fn mirrorvane(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .args(args)
        .output()
        .expect("runs mirrorvane")
}

fn snapshot_cmd(input: &Path, output: &Path) -> Output {
    mirrorvane(&[
        "snapshot".as_ref(),
        "--from-mm2-cache".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        output.as_os_str(),
    ])
}

#[test]
fn cli_converts_and_keeps_previous_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "cache.proto.gz", &gzip(&fixture_f().encode_to_vec()));
    let out = tmp.path().join("snap.bin");

    let first = snapshot_cmd(&input, &out);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("3 hosts") && stdout.contains("1 directories") && stdout.contains("1 warnings"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("warning: directory \"directory/level/three\": ByCountry"),
        "{stderr}"
    );
    let snap = snapshot::decode(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(snap.hosts.len(), 3);

    let mut cache = fixture_f();
    cache.time = Some(1_800_000_000);
    std::fs::write(&input, cache.encode_to_vec()).unwrap();
    let second = snapshot_cmd(&input, &out);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let prev = snapshot::decode(&std::fs::read(tmp.path().join("snap.bin.prev")).unwrap()).unwrap();
    let now = snapshot::decode(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!((prev.created, now.created), (1_700_000_000, 1_800_000_000));
    assert!(!tmp.path().join("snap.bin.tmp").exists());
}

#[test]
fn cli_reports_errors_with_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap.bin");
    let missing = tmp.path().join("does-not-exist.proto");
    let garbage = write_file(tmp.path(), "garbage", b"\x0a\xff\xff\xff\xff\x0f");
    let bad_subpath = MirrorList {
        mirror_list_cache: vec![dir("pub/a", Some("b"), &[], &[])],
        ..Default::default()
    };
    let bad_subpath = write_file(tmp.path(), "subpath.proto", &bad_subpath.encode_to_vec());
    for (input, needle) in [
        (&missing, "does-not-exist.proto"),
        (&garbage, "garbage"),
        (&bad_subpath, "pub/a"),
    ] {
        let o = snapshot_cmd(input, &out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{stderr}");
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(!out.exists());
}
