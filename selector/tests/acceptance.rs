//! Every acceptance case of reference §8.2 and §8.3, plus the cases of our deliberate differences, as one table.
//! Each row: a fixture, a request, and what the answer must show (status, content type, the part of the body the
//! case is about, access-log line, Location). Every row's whole answer — status, headers, log line and every
//! byte of the body — is also compared with its golden file in `tests/golden/`, so a change anywhere in an
//! answer is seen. After a deliberate change, regenerate them and review the diff:
//!
//!     UPDATE_EXPECT=1 cargo test -p mirrorvane-selector --test acceptance

use expect_test::expect_file;
use mirrorvane_testkit::fixture::*;

const NOW: u64 = 1_795_700_403; // Thu, 26 Nov 2026 13:40:03 GMT

/// Fixture F of the upstream `do_mirrorlist_test`.
fn f() -> Fixture {
    let urls = |h: u32| -> Vec<String> { (1..=3).map(|i| format!("http://hcurl{h}{i}/test-{h}{i}")).collect() };
    let mut fx = Fixture {
        created: 1_700_000_000,
        ..Default::default()
    };
    for (id, cc, bw) in [(1, None, 100), (42, Some("SE"), 83), (100, None, 1000)] {
        let u = urls(id);
        fx = fx.host(id, cc, bw, &u.iter().map(String::as_str).collect::<Vec<_>>());
    }
    fx.dir("directory/level/three", "directory/level/three", &[1, 42, 100])
}

fn f_repo() -> Fixture {
    let mut fx = f();
    fx.repos.push(("repo-name", "arch-name", "directory/level/three"));
    fx
}

fn f_repodata() -> Fixture {
    f_repo().dir("directory/level/three/repodata", "directory/level/three", &[1, 42, 100])
}

fn f_file() -> Fixture {
    let mut fx = f_repodata();
    fx.files.push((
        "directory/level/three/repodata",
        "repomd.xml",
        vec![detail(17, 3, "MD5555")],
    ));
    fx
}

fn netblock() -> Fixture {
    let mut fx = Fixture::default()
        .host(42, None, 100, &["http://mirror42.example.com/pub"])
        .host(99, None, 100, &["http://mirror99.example.com/pub"])
        .with(42, |h| h.private = true)
        .with(99, |h| h.private = true)
        .dir("test/netblock/path", "test/netblock/path", &[42, 99]);
    fx.netblocks.push(("10.0.0.0/8", vec![42]));
    fx
}

const OS: &str = "pub/fedora/linux/releases/40/Everything/x86_64/os";
const REPODATA: &str = "pub/fedora/linux/releases/40/Everything/x86_64/os/repodata";

/// A small Fedora-shaped world: hosts a (DE), b (AT), c (FR), d (US), p (private, SE, netblock 192.0.2.0/24),
/// q (public, NL, ASN 64500, https only).
fn fedora() -> Fixture {
    let mut fx = Fixture {
        created: 1_790_000_000,
        ..Default::default()
    }
    .host(
        1,
        Some("DE"),
        1000,
        &[
            "http://a.example/fedora/linux",
            "https://a.example/fedora/linux",
            "rsync://a.example/fedora/linux",
        ],
    )
    .host(2, Some("AT"), 100, &["https://b.example/pub/fedora/linux"])
    .host(3, Some("fr"), 100, &["http://c.example/fedora"])
    .host(4, Some("US"), 500, &["https://d.example/fedora/linux"])
    .host(5, Some("SE"), 100, &["http://p.example/fedora/linux"])
    .with(5, |h| h.private = true)
    .host(6, Some("NL"), 10, &["https://q.example/linux"])
    .with(6, |h| h.asns = vec![64500])
    .dir(OS, "pub/fedora/linux", &[1, 2, 3, 4, 5, 6])
    .dir(REPODATA, "pub/fedora/linux", &[1, 2, 3, 4, 5, 6])
    .dir(
        "pub/fedora/linux/releases/40/Everything/source/tree",
        "pub/fedora/linux",
        &[1, 4],
    );
    fx.repos = vec![
        ("fedora-40", "x86_64", OS),
        (
            "fedora-source-40",
            "source",
            "pub/fedora/linux/releases/40/Everything/source/tree",
        ),
        ("rawhide", "x86_64", OS),
    ];
    fx.redirects = vec![("fedora-rawhide", "rawhide")];
    fx.files.push((
        REPODATA,
        "repomd.xml",
        vec![detail(1_790_000_100, 4321, "0123abcd"), detail(1_789_000_000, 4000, "")],
    ));
    fx.netblocks.push(("192.0.2.0/24", vec![5]));
    fx
}

fn geo() -> Geo {
    Geo(vec![
        ("89.160.20.113", Some("SE"), None),
        ("134.108.34.134", None, Some(553)),
        ("203.0.113.9", Some("US"), None),
        ("198.51.100.7", Some("DE"), None),
        ("198.51.100.8", Some("SE"), None),
        ("192.0.2.10", Some("SE"), None),
        ("198.18.0.4", Some("GB"), Some(64500)),
    ])
}

enum Body {
    Exact(&'static str),
    Contains(&'static [&'static str]),
    /// Starts with the text and has this many lines.
    Prefix(&'static str, usize),
    Lacks(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    fixture: fn() -> Fixture,
    request: &'static str,
    minimum: usize,
    xff: Option<&'static str>,
    accept: Option<&'static str>,
    status: u16,
    content_type: &'static str,
    body: Body,
    log: Option<&'static str>,
    location: Option<&'static str>,
}

const fn case(name: &'static str, fixture: fn() -> Fixture, request: &'static str, status: u16, body: Body) -> Case {
    Case {
        name,
        fixture,
        request,
        minimum: 5,
        xff: None,
        accept: None,
        status,
        content_type: "text/plain",
        body,
        log: None,
        location: None,
    }
}

const ML: &str = "application/metalink+xml";

fn cases() -> Vec<Case> {
    use Body::*;
    vec![
        // §8.2, upstream tests
        case(
            "1 unknown endpoint",
            f,
            "/",
            404,
            Exact("We don't serve their kind here!"),
        ),
        case(
            "2 mirrorlist without parameters",
            f,
            "/mirrorlist",
            200,
            Exact("# either path=, or repo= and arch= must be specified"),
        ),
        Case {
            content_type: ML,
            ..case(
                "3 metalink without parameters",
                f,
                "/metalink",
                200,
                Contains(&["<!-- # either path=, or repo= and arch= must be specified\n-->\n</metalink>\n"]),
            )
        },
        case(
            "4 invalid path",
            f,
            "/mirrorlist?path=n/a",
            404,
            Exact("error: invalid path"),
        ),
        case(
            "5 bad ip",
            f,
            "/mirrorlist?path=directory/level/three&ip=10.11.12.331",
            500,
            Exact("Cannot parse client IP address. Aborting."),
        ),
        case(
            "6 requested country, no global",
            f,
            "/mirrorlist?path=directory/level/three&country=sE",
            200,
            Exact("# path = directory/level/three country = sE \nhttp://hcurl421/test-421/\n"),
        ),
        Case {
            minimum: 1,
            ..case(
                "7 geoip country, minimum 1",
                f,
                "/mirrorlist?path=directory/level/three&ip=89.160.20.113",
                200,
                Exact("# path = directory/level/three country = SE \nhttp://hcurl421/test-421/\n"),
            )
        },
        Case {
            minimum: 2,
            ..case(
                "8 geoip country then global",
                f,
                "/mirrorlist?path=directory/level/three&ip=89.160.20.113",
                200,
                Prefix(
                    "# path = directory/level/three country = SE country = global \nhttp://hcurl421/test-421/\nhttp://hcurl",
                    4,
                ),
            )
        },
        Case {
            content_type: ML,
            ..case(
                "9 invalid repo",
                f,
                "/metalink?repo=repo-name&arch=arch-name&ip=89.160.20.113",
                404,
                Contains(&["# repo = repo-name arch = arch-name error: invalid repo or arch"]),
            )
        },
        case(
            "10 no repodata directory",
            f_repo,
            "/metalink?repo=repo-name&arch=arch-name&ip=89.160.20.113",
            500,
            Contains(&["mirrorlist cache index out of range, you broke it!"]),
        ),
        Case {
            content_type: ML,
            ..case(
                "11 no file details",
                f_repodata,
                "/metalink?repo=repo-name&arch=arch-name&ip=89.160.20.113",
                404,
                Contains(&["repomd.xml not found or has not metalink"]),
            )
        },
        Case {
            content_type: ML,
            log: Some("IP: 89.160.20.113; DATE: 2026-11-26; COUNTRY: SE; REPO: repo-name; ARCH: arch-name\n"),
            ..case(
                "12 metalink",
                f_file,
                "/metalink?repo=repo-name&arch=arch-name&ip=89.160.20.113",
                200,
                Contains(&[
                    "<hash type=\"md5\">MD5555</hash>",
                    "<mm0:timestamp>17</mm0:timestamp>",
                    "<size>3</size>",
                    "<file name=\"repomd.xml\">",
                ]),
            )
        },
        Case {
            minimum: 1,
            ..case(
                "13 preferred netblock",
                netblock,
                "/mirrorlist?path=test/netblock/path&ip=10.0.0.1",
                200,
                Exact("# path = test/netblock/path Using preferred netblock \nhttp://mirror42.example.com/pub/\n"),
            )
        },
        Case {
            content_type: ML,
            ..case(
                "15 metalink header",
                f_file,
                "/metalink?repo=repo-name&arch=arch-name",
                200,
                Contains(&[
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<metalink version=\"3.0\" xmlns=\"http://www.metalinker.org/\" type=\"dynamic\" pubdate=\"Thu, 26 Nov 2026 13:40:03 GMT\" generator=\"mirrormanager\" xmlns:mm0=\"http://fedorahosted.org/mirrormanager\">\n",
                ]),
            )
        },
        // §8.3, derived from the code
        Case {
            fixture: || {
                let mut fx = fedora();
                fx.disabled.push("fedora-40");
                fx
            },
            ..case(
                "D1 disabled",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64",
                200,
                Exact("repo disabled"),
            )
        },
        Case {
            log: Some("IP: 198.51.100.7; DATE: 2026-11-26; COUNTRY: DE; REPO: fedora-source-40; ARCH: source\n"),
            ..case(
                "D2 source forces arch",
                fedora,
                "/mirrorlist?repo=fedora-source-40&arch=x86_64&ip=198.51.100.7&country=de",
                200,
                Exact(
                    "# repo = fedora-source-40 arch = source country = de \nhttp://a.example/fedora/linux/releases/40/Everything/source/tree/\n",
                ),
            )
        },
        Case {
            log: Some("IP: 198.51.100.7; DATE: 2026-11-26; COUNTRY: DE; REPO: fedora-rawhide; ARCH: x86_64\n"),
            ..case(
                "D3 repository redirect",
                fedora,
                "/mirrorlist?repo=fedora-rawhide&arch=x86_64&ip=198.51.100.7&country=DE",
                200,
                Exact(
                    "# repo = rawhide arch = x86_64 country = DE \nhttp://a.example/fedora/linux/releases/40/Everything/x86_64/os/\n",
                ),
            )
        },
        case(
            "D4 country=global",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.51.100.7&country=global",
            200,
            Prefix("# repo = fedora-40 arch = x86_64 country = global \n", 6),
        ),
        case(
            "D5 continent then global",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.51.100.7",
            200,
            Prefix(
                "# repo = fedora-40 arch = x86_64 country = DE country = AT country = FR country = NL country = global \nhttp://a.example/fedora/linux/releases/40/Everything/x86_64/os/\n",
                6,
            ),
        ),
        Case {
            minimum: 1,
            ..case(
                "D5b continent always, no global",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.51.100.7",
                200,
                Lacks(&["d.example", "country = global"]),
            )
        },
        case(
            "D6 unknown requested country falls through, no netblock",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&ip=192.0.2.10&country=zz",
            200,
            Lacks(&["p.example", "Using preferred netblock"]),
        ),
        Case {
            fixture: || fedora().with(1, |h| h.allowed = vec!["DE"]),
            ..case(
                "D7 allowed countries empty the requested list",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=89.160.20.113&country=de",
                200,
                Exact("# repo = fedora-40 arch = x86_64 country = de \n"),
            )
        },
        case(
            "D8a plain list takes the first http/https/ftp URL in order",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&country=DE",
            200,
            Exact(
                "# repo = fedora-40 arch = x86_64 country = DE \nhttp://a.example/fedora/linux/releases/40/Everything/x86_64/os/\n",
            ),
        ),
        case(
            "D8b protocol=https",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&country=DE&protocol=https",
            200,
            Exact(
                "# repo = fedora-40 arch = x86_64 country = DE protocol = https\nhttps://a.example/fedora/linux/releases/40/Everything/x86_64/os/\n",
            ),
        ),
        case(
            "D8c protocol=https,http",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&country=DE&protocol=https,http",
            200,
            Exact(
                "# repo = fedora-40 arch = x86_64 country = DE protocol = https,http\nhttp://a.example/fedora/linux/releases/40/Everything/x86_64/os/\nhttps://a.example/fedora/linux/releases/40/Everything/x86_64/os/\n",
            ),
        ),
        case(
            "D8d protocol nobody has keeps everything",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&country=DE&protocol=ftp",
            200,
            Exact(
                "# repo = fedora-40 arch = x86_64 country = DE protocol = ftp\nhttp://a.example/fedora/linux/releases/40/Everything/x86_64/os/\nhttps://a.example/fedora/linux/releases/40/Everything/x86_64/os/\nrsync://a.example/fedora/linux/releases/40/Everything/x86_64/os/\n",
            ),
        ),
        Case {
            location: Some("http://a.example/fedora/linux/releases/40/Everything/x86_64/os/"),
            ..case(
                "D9a redirect",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&country=DE&redirect=1",
                302,
                Exact(""),
            )
        },
        Case {
            // The protocol filter runs before the redirect's: the redirect takes the first web URL the filter
            // left (https here, though the host lists http first).
            location: Some("https://a.example/fedora/linux/releases/40/Everything/x86_64/os/"),
            ..case(
                "D9c redirect after protocol=https",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&country=DE&protocol=https&redirect=1",
                302,
                Exact(""),
            )
        },
        Case {
            fixture: || {
                let mut fx = fedora();
                fx.hosts.get_mut(&1).unwrap().urls = vec!["rsync://a.example/fedora/linux".into()];
                fx
            },
            ..case(
                "D9b redirect without http",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&country=DE&redirect=1",
                404,
                Exact(""),
            )
        },
        Case {
            content_type: ML,
            minimum: 1,
            ..case(
                "D10 metalink preference, private, location",
                fedora,
                "/metalink?repo=fedora-40&arch=x86_64&ip=192.0.2.10",
                200,
                Contains(&[
                    "<url protocol=\"http\" type=\"http\" location=\"SE\" preference=\"100\" mm0:private=\"True\">http://p.example/fedora/linux/releases/40/Everything/x86_64/os/repodata/repomd.xml</url>\n",
                    "location=\"FR\" preference=\"",
                    "<url protocol=\"rsync\" type=\"rsync\" location=\"DE\" preference=\"",
                    "   <mm0:alternates>\n    <mm0:alternate>\n      <mm0:timestamp>1789000000</mm0:timestamp>\n      <size>4000</size>\n      <verification>\n      </verification>\n    </mm0:alternate>\n   </mm0:alternates>\n",
                    " <files>\n  <file name=\"repomd.xml\">\n   <mm0:timestamp>1790000100</mm0:timestamp>\n   <size>4321</size>\n   <verification>\n    <hash type=\"md5\">0123abcd</hash>\n   </verification>\n",
                    "preference=\"99\"",
                    "preference=\"98\"",
                    "   </resources>\n  </file>\n </files>\n</metalink>\n",
                ]),
            )
        },
        case(
            "D11 time",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&country=AT&time",
            200,
            Exact(
                "# repo = fedora-40 arch = x86_64 country = AT \n# database creation time: 1790000000\nhttps://b.example/pub/fedora/linux/releases/40/Everything/x86_64/os/\n",
            ),
        ),
        Case {
            xff: Some("198.51.100.7, 203.0.113.9"),
            log: Some("IP: 203.0.113.9; DATE: 2026-11-26; COUNTRY: US; REPO: fedora-40; ARCH: x86_64\n"),
            minimum: 1,
            ..case(
                "D12/D14 X-Forwarded-For, log line",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64",
                200,
                Exact(
                    "# repo = fedora-40 arch = x86_64 country = US \nhttps://d.example/fedora/linux/releases/40/Everything/x86_64/os/\n",
                ),
            )
        },
        Case {
            xff: Some("198.51.100.7, 203.0.113.9"),
            log: Some("IP: 198.51.100.7; DATE: 2026-11-26; COUNTRY: DE; REPO: fedora-40; ARCH: x86_64\n"),
            minimum: 1,
            ..case(
                "D12b ip= overrides X-Forwarded-For",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.51.100.7",
                200,
                Contains(&["country = DE "]),
            )
        },
        case(
            "D13a path normalisation",
            fedora,
            "/mirrorlist?path=//pub/fedora/linux/releases/40/Everything/x86_64///os/&country=AT",
            200,
            Exact(
                "# path = pub/fedora/linux/releases/40/Everything/x86_64/os country = AT \nhttps://b.example/pub/fedora/linux/releases/40/Everything/x86_64/os/\n",
            ),
        ),
        case(
            "D13b file request",
            fedora,
            "/mirrorlist?path=pub/fedora/linux/releases/40/Everything/x86_64/os/repodata/repomd.xml&country=AT",
            200,
            Exact(
                "# path = pub/fedora/linux/releases/40/Everything/x86_64/os/repodata/repomd.xml country = AT \nhttps://b.example/pub/fedora/linux/releases/40/Everything/x86_64/os/repodata/repomd.xml\n",
            ),
        ),
        // Beyond the reference: ASN tier, explain, metalink v4, embedded IPv4, robustness.
        Case {
            minimum: 1,
            ..case(
                "ASN tier",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.18.0.4",
                200,
                Prefix(
                    "# repo = fedora-40 arch = x86_64 Using ASN 64500 country = AT country = DE country = FR country = NL \nhttps://q.example/",
                    5,
                ),
            )
        },
        Case {
            minimum: 1,
            ..case(
                "ASN hosts come first",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.18.0.4",
                200,
                Contains(&["\nhttps://q.example/linux/releases/40/Everything/x86_64/os/\n"]),
            )
        },
        case(
            "netblock=0 disables netblock and ASN",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.18.0.4&netblock=0",
            200,
            Lacks(&["Using ASN"]),
        ),
        Case {
            minimum: 1,
            ..case(
                "6to4 client located by its IPv4",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=2002:c633:6407::1",
                200,
                Contains(&["country = DE "]),
            )
        },
        Case {
            accept: Some("application/metalink4+xml, application/metalink+xml;q=0.5"),
            content_type: "application/metalink4+xml",
            minimum: 1,
            ..case(
                "metalink v4 by Accept",
                fedora,
                "/metalink?repo=fedora-40&arch=x86_64&ip=198.51.100.8&country=SE",
                200,
                Contains(&[
                    "<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\"",
                    "<published>2026-11-26T13:40:03Z</published>",
                    "  <file name=\"repomd.xml\">\n    <size>4321</size>\n    <hash type=\"md5\">0123abcd</hash>\n",
                ]),
            )
        },
        Case {
            content_type: "application/json",
            minimum: 1,
            ..case(
                "explain",
                fedora,
                "/metalink?repo=fedora-40&arch=x86_64&ip=198.51.100.7&explain=1",
                200,
                Contains(&[
                    "\"tier\": \"geoip\"",
                    "\"tier\": \"continent\"",
                    "\"reason\": \"private\"",
                    "\"country_source\": \"geoip\"",
                ]),
            )
        },
        case(
            "unknown parameters are ignored",
            fedora,
            "/mirrorlist?repo=fedora-40&arch=x86_64&country=AT&countme=4&infra=container",
            200,
            Exact(
                "# repo = fedora-40 arch = x86_64 country = AT \nhttps://b.example/pub/fedora/linux/releases/40/Everything/x86_64/os/\n",
            ),
        ),
        Case {
            xff: Some("\u{00e9}t\u{00e9}"),
            ..case(
                "non-ASCII X-Forwarded-For is a bad address, not a panic",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64",
                500,
                Exact("Cannot parse client IP address. Aborting."),
            )
        },
        Case {
            fixture: || {
                let mut fx = fedora();
                fx.netblock_countries.push(("203.0.113.0/24", "AT"));
                fx
            },
            minimum: 1,
            ..case(
                "netblock country overrides GeoIP",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=203.0.113.9",
                200,
                Prefix(
                    "# repo = fedora-40 arch = x86_64 country = AT country = DE country = FR country = NL \nhttps://b.example/",
                    5,
                ),
            )
        },
        Case {
            fixture: || fedora().with(3, |h| h.allowed = vec!["FR"]),
            minimum: 1,
            ..case(
                "allowed countries also apply to the continent tier (deliberate)",
                fedora,
                "/mirrorlist?repo=fedora-40&arch=x86_64&ip=198.51.100.7",
                200,
                Lacks(&["c.example"]),
            )
        },
    ]
}

#[test]
fn acceptance_table() {
    let mut failures = Vec::new();
    let mut answers = Vec::new();
    for c in cases() {
        let fx = (c.fixture)();
        let sel = fx.selector();
        let r = call(
            &sel,
            &geo(),
            &Call {
                path_and_query: c.request,
                minimum: c.minimum,
                xff: c.xff,
                accept: c.accept,
                now: NOW,
                ..Default::default()
            },
        );
        let mut problems = Vec::new();
        if r.status != c.status {
            problems.push(format!("status {} != {}", r.status, c.status));
        }
        if r.content_type != c.content_type {
            problems.push(format!("content type {} != {}", r.content_type, c.content_type));
        }
        match &c.body {
            Body::Exact(e) if r.body != *e => problems.push(format!("body differs, expected\n{e:?}")),
            Body::Contains(parts) => {
                for p in *parts {
                    if !r.body.contains(p) {
                        problems.push(format!("body lacks {p:?}"));
                    }
                }
            }
            Body::Prefix(p, lines) => {
                if !r.body.starts_with(p) {
                    problems.push(format!("body does not start with {p:?}"));
                }
                if r.body.lines().count() != *lines {
                    problems.push(format!("{} lines, expected {lines}", r.body.lines().count()));
                }
            }
            Body::Lacks(parts) => {
                for p in *parts {
                    if r.body.contains(p) {
                        problems.push(format!("body contains {p:?}"));
                    }
                }
            }
            _ => {}
        }
        if let Some(l) = c.log
            && r.log != l
        {
            problems.push(format!("log {:?} != {l:?}", r.log));
        }
        if let Some(l) = c.location
            && r.location != l
        {
            problems.push(format!("location {:?} != {l:?}", r.location));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "── {} ──\n{}\nactual body:\n{}\n",
                c.name,
                problems.join("\n"),
                r.body
            ));
        }
        answers.push((c.name, r));
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    let mut names = std::collections::BTreeSet::new();
    for (name, r) in answers {
        let file = golden_name(name);
        assert!(names.insert(file.clone()), "two cases share the golden file {file}");
        expect_file![format!("golden/{file}")].assert_eq(&whole_answer(&r));
    }
}

/// `golden/<case name in lower case, words joined by '-'>.txt`, a leading number padded so files sort by it.
fn golden_name(case: &str) -> String {
    let mut out = String::new();
    for word in case
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.is_empty() && word.len() == 1 && word.as_bytes()[0].is_ascii_digit() {
            out.push('0');
        } else if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out + ".txt"
}

/// What a shell sends and logs for an answer, as text: the status and headers it sets, the access-log line, a
/// blank line, then the body exactly.
fn whole_answer(r: &Reply) -> String {
    let mut out = format!("status: {}\ncontent-type: {}\n", r.status, r.content_type);
    if !r.location.is_empty() {
        out.push_str(&format!("location: {}\n", r.location));
    }
    if !r.log.is_empty() {
        out.push_str(&format!("log: {}", r.log));
    }
    out.push('\n');
    out.push_str(&r.body);
    out
}

/// A client without a GeoIP country has no continent either: no host is "on its continent", not even one whose
/// own country has no continent in the table (an earlier version matched the two unknowns).
#[test]
fn unknown_continent_matches_nothing() {
    let fx = Fixture::default()
        .host(1, Some("ZZ"), 100, &["http://zz.example/pub"])
        .host(2, Some("DE"), 100, &["http://de.example/pub"])
        .dir("pub/x", "pub", &[1, 2]);
    let sel = fx.selector();
    let geo = Geo(vec![]);
    let r = call(
        &sel,
        &geo,
        &Call {
            path_and_query: "/mirrorlist?path=pub/x&ip=198.51.100.7",
            minimum: 0,
            ..Default::default()
        },
    );
    assert_eq!(r.body.lines().count(), 1, "{}", r.body);
    // With the default minimum the global list brings both.
    let r = call(
        &sel,
        &geo,
        &Call {
            path_and_query: "/mirrorlist?path=pub/x&ip=198.51.100.7",
            minimum: 5,
            ..Default::default()
        },
    );
    assert!(
        r.body.contains("zz.example") && r.body.contains("de.example"),
        "{}",
        r.body
    );
}

/// A URL with a line break (it would inject lines into a mirrorlist and headers into a redirect) makes the
/// snapshot invalid: no answer can carry it. (The builder and the cache converter leave such URLs out first.)
#[test]
fn a_url_with_a_control_character_is_refused() {
    let fx = Fixture::default()
        .host(1, Some("DE"), 100, &["http://bad.example/a\r\nSet-Cookie: x"])
        .dir("pub/x", "pub", &[1]);
    let err = mirrorvane_selector::Selector::new(fx.snapshot())
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("holds a control character or whitespace"),
        "{err}"
    );
}
