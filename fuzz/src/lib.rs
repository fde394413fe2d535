//! Shared by the fuzz targets: a small but complete snapshot (every table non-empty, so every tier of the
//! decision and every output can be reached) and a helper that answers requests and checks the answer.

use std::net::IpAddr;
use std::sync::OnceLock;

use mirrorvane_selector::snapshot::*;
use mirrorvane_selector::{ClientGeo, Code, ContentType, Context, Request, SeededRandom, Selector, Workspace};

/// The fixed snapshot of the `query` target and the starting point of the `snapshot` target's mutations.
pub fn fixture() -> Snapshot {
    let code = |s: &str| Code::parse(s).unwrap();
    let countries = ["DE", "US", "JP", "BR", "FR", "ZA"];
    let mut s = Snapshot {
        created: 1_700_000_000,
        ..Default::default()
    };
    for (i, c) in countries.iter().enumerate() {
        let i = i as u32;
        s.hosts.push(Host {
            id: 100 + i,
            name: format!("mirror{i}.example"),
            country: (i != 5).then(|| code(c)),
            bandwidth: [1, 100, 1000, 10_000, 0, 7][i as usize],
            private: i == 4,
            asns: if i == 1 { vec![64_500, 64_501] } else { vec![] },
            allowed_countries: if i == 3 { vec![code("BR"), code("AR")] } else { vec![] },
            reachability: Reachability::default(),
        });
    }
    s.categories = vec![
        Category {
            name: "Fedora Linux".into(),
            topdir: "pub/fedora/linux".into(),
        },
        Category {
            name: "Fedora EPEL".into(),
            topdir: "pub/epel".into(),
        },
    ];
    for c in 0..2u32 {
        for h in 0..countries.len() as u32 {
            let urls = match h {
                0 => vec![
                    format!("https://m{h}.example/{c}"),
                    format!("http://m{h}.example/{c}/"),
                    format!("rsync://m{h}.example/{c}"),
                ],
                2 => vec![format!("ftp://m{h}.example/{c}")],
                5 => vec![],
                _ => vec![format!("https://m{h}.example/c{c}")],
            };
            s.host_categories.push(HostCategory {
                host: HostId(h),
                category: CategoryId(c),
                urls,
            });
        }
    }
    s.host_sets = vec![
        HostSet::new((0..6).map(HostCategoryId).collect()),
        HostSet::new(vec![HostCategoryId(0), HostCategoryId(3), HostCategoryId(4)]),
        HostSet::new((6..12).map(HostCategoryId).collect()),
        HostSet::new(vec![]),
    ];
    let dirs = [
        ("pub/fedora/linux", 0, 0),
        ("pub/fedora/linux/releases/41/Everything/x86_64/os", 0, 0),
        ("pub/fedora/linux/releases/41/Everything/x86_64/os/repodata", 0, 1),
        ("pub/fedora/linux/releases/41/Everything/source/tree", 0, 3),
        ("pub/epel/9/Everything/x86_64", 1, 2),
        ("pub/epel/9/Everything/x86_64/repodata", 1, 2),
    ];
    for (name, c, set) in dirs {
        s.directories.push(Directory {
            name: name.into(),
            category: CategoryId(c),
            hosts: HostSetId(set),
        });
    }
    for (prefix, arch, d) in [
        ("fedora-41", "x86_64", 1),
        ("fedora-source-41", "x86_64", 3),
        ("epel-9", "x86_64", 4),
    ] {
        s.repositories.push(Repository {
            prefix: prefix.into(),
            arch: arch.into(),
            directory: DirectoryId(d),
        });
    }
    s.disabled_prefixes = vec!["fedora-40".into()];
    s.repository_redirects = vec![RepositoryRedirect {
        from: "fedora-rawhide".into(),
        to: "fedora-41".into(),
    }];
    let detail = |ts, size, sha256: &str| FileDetail {
        timestamp: ts,
        size,
        md5: Some(Digest::from_text("d41d8cd98f00b204e9800998ecf8427e")),
        sha1: None,
        sha256: Some(Digest::from_text(sha256)),
        sha512: None,
    };
    s.files = vec![
        FileEntry {
            directory: DirectoryId(2),
            name: "repomd.xml".into(),
            details: vec![
                detail(1_699_999_000, 4321, "00ff"),
                detail(1_699_000_000, 4000, "NOT-HEX"),
            ],
        },
        FileEntry {
            directory: DirectoryId(5),
            name: "repomd.xml".into(),
            details: vec![detail(0, 0, "")],
        },
    ];
    s.host_netblocks = vec![
        HostNetblock {
            network: "192.0.2.0/24".parse().unwrap(),
            hosts: vec![HostId(4), HostId(2)],
        },
        HostNetblock {
            network: "2001:db8::/32".parse().unwrap(),
            hosts: vec![HostId(4)],
        },
    ];
    s.netblock_countries = vec![NetblockCountry {
        network: "198.51.100.0/24".parse().unwrap(),
        country: code("JP"),
    }];
    s.continent_overrides = vec![ContinentOverride {
        country: code("JP"),
        continent: code("OC"),
    }];
    s
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
        country: (last & 8 == 0).then(|| Code::parse(countries[usize::from(last & 7)]).unwrap()),
        continent: (last & 16 != 0).then(|| Code::parse(["EU", "NA", "OC", "--"][usize::from(last >> 6)]).unwrap()),
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
