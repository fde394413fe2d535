//! Writes the differential corpus for the WASM module: a synthetic snapshot and, for each request of a corpus
//! covering every tier, error, protocol filter, redirect, path mode and output format, the answer the **native**
//! selector gives with a fixed seed. `wasm/worker/test/` replays it against the WASM module (in Node and in
//! workerd, over HTTP) and requires byte-identical answers.
//!
//! ```sh
//! cargo run -p mirrorvane-wasm --example corpus -- OUT_DIR                   # demo scale, the test corpus
//! cargo run --release -p mirrorvane-wasm --example corpus -- --fedora --mixed 2000 --bench OUT_DIR
//! ```
//!
//! `--fedora` uses the Fedora-scale world of the benchmarks, `--mixed N` replaces the corpus by N requests of the
//! criterion "mixed popular requests" load, and `--bench` prints the native in-process time per request over the
//! corpus (the figure the WASM timings are compared with). Output: `OUT_DIR/snapshot.bin`, `OUT_DIR/corpus.json`, and
//! `OUT_DIR/snapshot-next.bin` (the same network an hour later, for reload tests).
//!
//! The native answers use the selector directly with the synthetic GeoIP stand-in, like the native edge; the WASM
//! side gets the same geo as platform hints. The generator fails when a tier it is meant to cover is missing.

use std::net::IpAddr;
use std::time::Instant;

use mirrorvane_geo::{AsnSource, CountryDb, GeoLocator};
use mirrorvane_selector::client::locating_address;
use mirrorvane_selector::snapshot::encode;
use mirrorvane_selector::{
    ClientGeo, Context, ContinentCode, CountryCode, Locate, Request, SeededRandom, Selector, Tier, Workspace,
};
use mirrorvane_testkit::geo_testdata;
use mirrorvane_testkit::scenarios::{NOW, POPULAR, mixed, tier_scenarios, tiers};
use mirrorvane_testkit::synthetic::{self, Scale, SyntheticGeo, World};
use serde_json::{Value, json};

/// One corpus request. Geo hints are what a platform would attach to the connection; `geo_db` cases also have
/// the GeoIP test databases loaded (native: the edge's `GeoLocator`).
#[derive(Clone, Debug, Default)]
struct Case {
    geo_db: bool,
    name: String,
    target: String,
    client_ip: String,
    country: Option<String>,
    continent: Option<String>,
    asn: Option<u32>,
    accept: Option<String>,
    seed: u64,
}

/// The geo of the connecting client only (what platform hints describe); `ip=` addresses are not located by
/// hints. With the native edge's GeoIP locator, it fills in what the hints leave unknown (country and continent
/// when the hints have neither, the ASN when they have none), for any address.
struct PeerOnly<'a> {
    peer: Option<IpAddr>,
    geo: ClientGeo,
    db: Option<&'a GeoLocator>,
}

impl Locate for PeerOnly<'_> {
    fn locate(&self, ip: IpAddr) -> ClientGeo {
        let hinted = if self.peer == Some(ip) {
            self.geo
        } else {
            ClientGeo::default()
        };
        let Some(db) = self.db else { return hinted };
        let found = db.locate(ip);
        let located = hinted.country.is_some() || hinted.continent.is_some();
        ClientGeo {
            country: if located { hinted.country } else { found.country },
            continent: if located { hinted.continent } else { found.continent },
            asn: hinted.asn.or(found.asn),
        }
    }
}

fn answer(sel: &Selector, ws: &mut Workspace, c: &Case, db: &GeoLocator) -> Value {
    let (path, query) = c.target.split_once('?').unwrap_or((&c.target, ""));
    // A client address that is not an address reaches the selector as the native edge's bad X-Forwarded-For.
    let (peer, forwarded_for) = match c.client_ip.parse::<IpAddr>() {
        Ok(ip) => (ip, None),
        Err(_) => ("::".parse().unwrap(), Some(c.client_ip.as_bytes())),
    };
    let locate = PeerOnly {
        peer: forwarded_for.is_none().then(|| locating_address(peer.to_canonical())),
        geo: ClientGeo {
            country: c.country.as_deref().and_then(CountryCode::parse),
            continent: c.continent.as_deref().and_then(ContinentCode::parse),
            asn: c.asn,
        },
        db: c.geo_db.then_some(db),
    };
    let req = Request {
        path,
        query,
        forwarded_for,
        accept: c.accept.as_deref().map(str::as_bytes),
        peer,
    };
    let mut rng = SeededRandom::new(c.seed);
    let mut ctx = Context {
        now: NOW,
        minimum: 5,
        locate: &locate,
        random: &mut rng,
    };
    let a = sel.handle(&req, &mut ctx, ws);
    let mut headers = json!({ "content-type": a.content_type.as_str() });
    if !a.location.is_empty() {
        headers["location"] = json!(a.location);
    }
    json!({
        "status": a.status,
        "headers": headers,
        "body": a.body,
        "logLine": a.log_line,
    })
}

fn hinted(name: &str, target: String, ip: IpAddr, geo: &SyntheticGeo, seed: u64) -> Case {
    let g = geo.locate(locating_address(ip));
    Case {
        name: name.into(),
        target,
        client_ip: ip.to_string(),
        country: g.country.map(|c| c.as_str().to_owned()),
        continent: None,
        asn: g.asn,
        accept: None,
        seed,
        geo_db: false,
    }
}

fn bare(name: &str, target: &str, client_ip: &str, seed: u64) -> Case {
    Case {
        name: name.into(),
        target: target.into(),
        client_ip: client_ip.into(),
        country: None,
        continent: None,
        asn: None,
        accept: None,
        seed,
        geo_db: false,
    }
}

/// Addresses of MaxMind's test databases (`geo/testdata/`), some with a country, some with an ASN.
const GEOIP_TEST_CLIENTS: [&str; 8] = [
    "89.160.20.112",
    "81.2.69.160",
    "216.160.83.56",
    "2.125.160.216",
    "67.43.156.1",
    "1.128.0.1",
    "2001:218::1",
    "12.81.92.1",
];

/// The differential corpus: every tier on both endpoints, then the edges of the request language.
fn corpus(world: &World, sel: &Selector, db: &GeoLocator) -> Vec<Case> {
    let geo = &world.geo;
    let snap = &world.snapshot;
    let scenarios = tier_scenarios(world, sel);
    let expected = [
        ("netblock", Tier::Netblock),
        ("asn", Tier::Asn),
        ("geoip_country_us", Tier::GeoCountry),
        ("continent_de", Tier::GeoCountry),
        ("global_fallback", Tier::Global),
        ("requested_country_fr", Tier::Country),
    ];
    for (name, tier) in expected {
        let s = scenarios
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} client in this world"));
        let got = tiers(sel, geo, "/metalink", &s.query, s.ip);
        assert!(got.contains(&tier), "{name}: tiers {got:?} lack {tier:?}");
    }
    let de = world.clients.in_country("DE").expect("a German client");
    let de_tiers = tiers(sel, geo, "/metalink", POPULAR, de);
    assert!(de_tiers.contains(&Tier::Continent), "DE client: {de_tiers:?}");

    let mut out = Vec::new();
    let mut seed = 0x5eed_0000_0000_0000u64;
    let mut next = || {
        seed += 1;
        seed
    };
    for s in &scenarios {
        for path in ["/metalink", "/mirrorlist"] {
            out.push(hinted(
                &format!("{}{}", s.name, path.replace('/', "_")),
                format!("{path}?{}", s.query),
                s.ip,
                geo,
                next(),
            ));
        }
    }
    let repo = &snap.repositories[sel_repo(world)];
    let repo_dir = &snap.directories[repo.directory.0 as usize].name;
    let de_ip = de.to_string();
    let mut add = |c: Case| out.push(c);
    let mut c = hinted("metalink4_accept", format!("/metalink?{POPULAR}"), de, geo, next());
    c.accept = Some("application/metalink4+xml, application/metalink+xml;q=0.5".into());
    add(c);
    let mut c = hinted(
        "metalink3_accept_prefers_v3",
        format!("/metalink?{POPULAR}"),
        de,
        geo,
        next(),
    );
    c.accept = Some("application/metalink4+xml;q=0.4, application/metalink+xml".into());
    add(c);
    // Cloudflare sends both; a lower-case country and a continent-only hint are handled like the native locator.
    let mut c = bare(
        "hint_country_lowercase_and_continent",
        &format!("/mirrorlist?{POPULAR}"),
        &de_ip,
        next(),
    );
    (c.country, c.continent) = (Some("de".into()), Some("EU".into()));
    add(c);
    let mut c = bare("hint_continent_only", &format!("/mirrorlist?{POPULAR}"), &de_ip, next());
    c.continent = Some("EU".into());
    add(c);
    let mut c = bare("hint_asn_only", &format!("/metalink?{POPULAR}"), "203.0.113.7", next());
    c.asn = snap.hosts.iter().flat_map(|h| h.asns.iter()).next().copied();
    assert!(c.asn.is_some(), "no host ASN in this world");
    add(c);
    add(bare(
        "no_hints_global",
        &format!("/metalink?{POPULAR}"),
        "203.0.113.7",
        next(),
    ));
    add(bare(
        "ipv6_client",
        &format!("/mirrorlist?{POPULAR}"),
        "2001:db8::7",
        next(),
    ));
    let mut c = hinted("six_to_four_client", format!("/mirrorlist?{POPULAR}"), de, geo, next());
    if let IpAddr::V4(v4) = de {
        let o = v4.octets();
        c.client_ip = format!("2002:{:02x}{:02x}:{:02x}{:02x}::1", o[0], o[1], o[2], o[3]);
    }
    add(c);
    let mut c = hinted(
        "ip_param_not_located",
        format!("/mirrorlist?{POPULAR}&ip=198.51.100.20"),
        de,
        geo,
        next(),
    );
    c.name = "ip_param_not_located".into();
    add(c);
    let h = |name: &str, q: &str| hinted(name, q.to_owned(), de, geo, 7);
    add(h("netblock_off", &format!("/mirrorlist?{POPULAR}&netblock=0")));
    add(h(
        "country_list_echo",
        &format!("/mirrorlist?{POPULAR}&country=fr,de,FR"),
    ));
    add(h("country_global", &format!("/metalink?{POPULAR}&country=global")));
    add(h("country_without_hosts", &format!("/mirrorlist?{POPULAR}&country=LI")));
    // Two countries of one continent without hosts of their own, and one spelled four ways: each host once.
    add(h(
        "countries_one_continent",
        &format!("/mirrorlist?{POPULAR}&country=LI,LU"),
    ));
    add(h(
        "country_spelled_four_ways",
        &format!("/metalink?{POPULAR}&country=li,Li,lI,LI"),
    ));
    add(h("time", &format!("/mirrorlist?{POPULAR}&time=1")));
    add(h("explain", &format!("/metalink?{POPULAR}&explain=1")));
    add(h("protocol_https", &format!("/mirrorlist?{POPULAR}&protocol=https")));
    add(h(
        "protocol_http_https",
        &format!("/mirrorlist?{POPULAR}&protocol=http,https"),
    ));
    add(h(
        "protocol_rsync_metalink",
        &format!("/metalink?{POPULAR}&protocol=rsync"),
    ));
    add(h("protocol_nothing", &format!("/mirrorlist?{POPULAR}&protocol=gopher")));
    add(h("redirect", &format!("/mirrorlist?{POPULAR}&redirect=1")));
    add(h("redirect_path", &format!("/mirrorlist?path={repo_dir}&redirect")));
    add(h("path_dir", &format!("/mirrorlist?path={repo_dir}")));
    add(h(
        "path_slashes",
        &format!("/mirrorlist?path=//{}//", repo_dir.replace('/', "//")),
    ));
    add(h(
        "path_file_metalink",
        &format!("/metalink?path={repo_dir}/repodata/repomd.xml"),
    ));
    add(h("path_bad", "/mirrorlist?path=no/such/directory/file"));
    add(h("path_bad_metalink", "/metalink?path=no/such/directory/file"));
    add(h("longer_path", &format!("/pub/fedora/metalink?{POPULAR}&countme=1")));
    let redirect = snap.repository_redirects.first().expect("a repository redirect");
    add(h(
        "repo_redirect",
        &format!("/metalink?repo={}&arch=x86_64", redirect.from),
    ));
    let disabled = snap.disabled_prefixes.first().expect("a disabled prefix");
    add(h("repo_disabled", &format!("/mirrorlist?repo={disabled}&arch=x86_64")));
    add(h(
        "repo_disabled_metalink",
        &format!("/metalink?repo={disabled}&arch=x86_64"),
    ));
    add(h("repo_unknown", "/mirrorlist?repo=no-such-repo&arch=x86_64"));
    add(h("repo_unknown_metalink", "/metalink?repo=no-such-repo&arch=x86_64"));
    add(h("source_forces_arch", "/mirrorlist?repo=fedora-source-43&arch=x86_64"));
    add(h("missing_arch", "/mirrorlist?repo=fedora-43"));
    add(h("missing_arch_metalink", "/metalink?repo=fedora-43"));
    add(h("no_query", "/mirrorlist"));
    add(h("other_endpoint", "/favicon.ico"));
    add(h("bad_ip_param", &format!("/mirrorlist?{POPULAR}&ip=bogus")));
    add(bare(
        "bad_client_ip",
        &format!("/metalink?{POPULAR}"),
        "not-an-address",
        9,
    ));
    add(h(
        "percent_encoded_kept_raw",
        &format!("/mirrorlist?{POPULAR}&country=%44E"),
    ));

    // GeoIP databases loaded, no platform hints: the native edge's lookups.
    let (mut countries, mut asns) = (0, 0);
    for ip in GEOIP_TEST_CLIENTS {
        let g = db.locate(ip.parse().unwrap());
        countries += usize::from(g.country.is_some());
        asns += usize::from(g.asn.is_some());
        for path in ["/metalink", "/mirrorlist"] {
            let mut c = bare(
                &format!("geoip_db_{ip}{}", path.replace('/', "_")),
                &format!("{path}?{POPULAR}"),
                ip,
                11,
            );
            c.geo_db = true;
            add(c);
        }
    }
    assert!(
        countries >= 4 && asns >= 2,
        "test databases: {countries} countries, {asns} ASNs"
    );
    // Hints win over the databases; the ASN comes from the database when the hints have none.
    let mut c = bare(
        "geoip_db_hint_wins",
        &format!("/mirrorlist?{POPULAR}"),
        "89.160.20.112",
        12,
    );
    (c.country, c.geo_db) = (Some("FR".into()), true);
    add(c);
    // `ip=` is located by the databases (hints describe the connection only).
    let mut c = bare(
        "geoip_db_ip_param",
        &format!("/mirrorlist?{POPULAR}&ip=216.160.83.56"),
        &de_ip,
        13,
    );
    (c.country, c.geo_db) = (Some("DE".into()), true);
    add(c);
    out
}

/// A repository with a `repodata` directory carried by some host (for path-mode cases).
fn sel_repo(world: &World) -> usize {
    let (prefix, arch) = POPULAR
        .strip_prefix("repo=")
        .and_then(|r| r.split_once("&arch="))
        .expect("POPULAR is repo=…&arch=…");
    world
        .snapshot
        .repositories
        .iter()
        .position(|r| r.prefix == prefix && r.arch == arch)
        .expect("the popular repository exists")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let value = |f: &str| args.iter().position(|a| a == f).and_then(|i| args.get(i + 1));
    let out_dir = args
        .last()
        .filter(|a| !a.starts_with("--"))
        .expect("usage: corpus [--fedora] [--mixed N] [--bench] OUT_DIR");
    let scale = if flag("--fedora") {
        Scale::fedora()
    } else {
        Scale::demo()
    };
    let world = synthetic::generate(&scale, 1);
    let bytes = encode(&world.snapshot);
    let sel = Selector::decode(&bytes).expect("the synthetic snapshot loads");
    let country_db = geo_testdata("GeoIP2-Country-Test.mmdb");
    let asn_db = geo_testdata("GeoLite2-ASN-Test.mmdb");
    let db = GeoLocator::new(
        CountryDb::open(&country_db).expect("country test database"),
        Some(AsnSource::open(&asn_db).expect("ASN test database")),
    );

    let cases = match value("--mixed") {
        Some(n) => {
            let n: usize = n.parse().expect("--mixed N");
            mixed(&world, n)
                .into_iter()
                .enumerate()
                .map(|(i, (path, s))| hinted("mixed", format!("{path}?{}", s.query), s.ip, &world.geo, i as u64))
                .collect()
        }
        None => corpus(&world, &sel, &db),
    };

    let mut ws = Workspace::new();
    let entries: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "target": c.target,
                "clientIp": c.client_ip,
                "country": c.country,
                "continent": c.continent,
                "asn": c.asn,
                "accept": c.accept,
                "now": NOW,
                // A string: JSON numbers lose bits above 2^53.
                "seed": c.seed.to_string(),
                "geoDb": c.geo_db,
                "expect": answer(&sel, &mut ws, c, &db),
            })
        })
        .collect();
    std::fs::create_dir_all(out_dir).expect("create OUT_DIR");
    std::fs::write(format!("{out_dir}/snapshot.bin"), &bytes).expect("write snapshot.bin");
    // The same network an hour later: what a reload test swaps in.
    let mut later = world.snapshot.clone();
    later.created += 3600;
    std::fs::write(format!("{out_dir}/snapshot-next.bin"), encode(&later)).expect("write snapshot-next.bin");
    // The later one signed by a fixed test key (as `mirrorvane snapshot --sign-key` signs), for the worker's
    // signature checks; the key's public half goes into corpus.json.
    let key = mirrorvane_signature::SecretKey::from_text(
        "mirrorvane-snapshot-secret-key BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
    )
    .expect("a test key");
    std::fs::write(format!("{out_dir}/snapshot-signed.bin"), key.sign(&encode(&later)))
        .expect("write snapshot-signed.bin");
    let geo = json!({
        "country": std::fs::canonicalize(&country_db).expect("country test database"),
        "asn": std::fs::canonicalize(&asn_db).expect("ASN test database"),
    });
    let doc = json!({
        "created": world.snapshot.created,
        "geo": geo,
        "publicKey": key.public().to_text(),
        "entries": entries,
    });
    std::fs::write(format!("{out_dir}/corpus.json"), doc.to_string()).expect("write corpus.json");
    eprintln!("{out_dir}: {} requests, snapshot {} bytes", cases.len(), bytes.len());

    if flag("--bench") {
        // Same loop as the WASM benchmark: every corpus request in order, answers rendered, repeated.
        let rounds = (200_000 / cases.len()).max(3);
        let mut sink = 0usize;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..rounds {
                for c in &cases {
                    sink += answer_len(&sel, &mut ws, c);
                }
            }
            best = best.min(t.elapsed().as_secs_f64() / (rounds * cases.len()) as f64);
        }
        println!(
            "native in-process: {:.2} µs per request (best of 5 × {} requests; {sink} bytes)",
            best * 1e6,
            rounds * cases.len()
        );
    }
}

/// The native request path without the JSON conversion: decide and render, return the body length.
fn answer_len(sel: &Selector, ws: &mut Workspace, c: &Case) -> usize {
    let (path, query) = c.target.split_once('?').unwrap_or((&c.target, ""));
    let peer: IpAddr = c.client_ip.parse().expect("bench clients are addresses");
    let locate = PeerOnly {
        peer: Some(locating_address(peer)),
        geo: ClientGeo {
            country: c.country.as_deref().and_then(CountryCode::parse),
            continent: None,
            asn: c.asn,
        },
        db: None,
    };
    let req = Request {
        path,
        query,
        forwarded_for: None,
        accept: None,
        peer,
    };
    let mut rng = SeededRandom::new(c.seed);
    let mut ctx = Context {
        now: NOW,
        minimum: 5,
        locate: &locate,
        random: &mut rng,
    };
    sel.handle(&req, &mut ctx, ws).body.len()
}
