//! `mirrorvane crawl` against real mirrors on 127.0.0.1 and ::1 — rsync daemons and HTTP and HTTPS servers
//! (certificates of a CA made for the test) — on SQLite and PostgreSQL: up to date, one push behind (accepted),
//! two behind (rejected), missing files, wrong sizes, slow (timeout), dead (disabled after 4 failures),
//! recovering (re-enabled), IPv4-only and IPv6-only; each checked in the database and in the snapshot's answers.
//! Then several crawler processes on one PostgreSQL database: shared work, and a killed crawler's hosts.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mirrorvane_backend::commands::{crawl, inventory, scan};
use mirrorvane_builder::{self as builder, Options};
use mirrorvane_crawler::auto_disable_reason;
use mirrorvane_db::testing::{TestDb, run};
use mirrorvane_db::{Database, Engine, Flag, engine_tests, repositories};
use mirrorvane_selector::{Context, Request, SeededRandom, Selector, Workspace};
use mirrorvane_testkit::fixture::Geo;
use mirrorvane_testkit::mirror::{HttpMirror, MirrorConfig, Mode, RsyncDaemon, TestCa, V4, V6, copy_tree};
use mirrorvane_testkit::tree;

const CAT: &str = "Fedora Linux";
const DAY: i64 = 86_400;
const FEDORA_41: &str = "pub/fedora/linux/releases/41/Everything/x86_64/os";
const UPDATES_41: &str = "pub/fedora/linux/updates/41/Everything/x86_64";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The primary after three pushes (2.5 days ago, 1.5 days ago, ten minutes ago), each scanned, and a copy of
/// the tree as it was after each: what mirrors that synced then serve.
struct Primary {
    tmp: tempfile::TempDir,
    /// `pushes[i]` holds `pub/…` as it was after push i + 1.
    pushes: Vec<PathBuf>,
}

impl Primary {
    fn dir(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

async fn apply(db: &Database, dir: &Path, toml: &str) {
    let file = dir.join(format!("inventory-{}.toml", now()));
    std::fs::write(&file, toml).unwrap();
    let args = inventory::ApplyArgs {
        file,
        dry_run: false,
        prune: false,
    };
    inventory::apply_file(db, &args, &mut std::io::sink())
        .await
        .expect("inventory applies");
}

const PRODUCT: &str = r#"
[[product]]
name = "Fedora"

[[category]]
name = "Fedora Linux"
product = "Fedora"
topdir = "pub/fedora/linux"

[[arch]]
name = "x86_64"

[[arch]]
name = "aarch64"

[[arch]]
name = "source"
publiclist = false
"#;

async fn primary(db: &Database) -> Primary {
    let tmp = tempfile::tempdir().unwrap();
    apply(db, tmp.path(), PRODUCT).await;
    let root = tmp.path().join("primary");
    let mut pushes = Vec::new();
    let t = now();
    for (i, ts) in [t - 5 * DAY / 2, t - 3 * DAY / 2, t - 600].into_iter().enumerate() {
        tree::write(&root, ts as u64).unwrap();
        let args = scan::Args {
            categories: vec![CAT.into()],
            path: Some(root.join("pub/fedora/linux")),
            max_stale_days: 4,
            ..Default::default()
        };
        scan::run(db, &args).await.expect("scan");
        let copy = tmp.path().join(format!("push{}", i + 1));
        copy_tree(&root, &copy).unwrap();
        pushes.push(copy);
    }
    Primary { tmp, pushes }
}

/// One host of the network: its name and its category URLs.
struct Mirror {
    name: &'static str,
    urls: Vec<String>,
}

fn inventory_toml(mirrors: &[Mirror]) -> String {
    let mut out = String::new();
    for m in mirrors {
        out.push_str(&format!(
            "[[site]]\nname = \"site of {0}\"\n\n[[site.host]]\nname = \"{0}\"\ncountry = \"DE\"\n\n\
             [[site.host.category]]\nname = \"{CAT}\"\nurls = [{1}]\n\n",
            m.name,
            m.urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ")
        ));
    }
    out
}

/// `--resolve NAME=127.0.0.1,::1` for every host: each name has both addresses, what answers on them decides.
fn resolve_all(mirrors: &[Mirror]) -> Vec<(String, Vec<std::net::IpAddr>)> {
    mirrors.iter().map(|m| (m.name.to_owned(), vec![V4, V6])).collect()
}

/// The host names of an answer, in order of first appearance.
fn hosts_of(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in body.split("://").skip(1) {
        let host = part.split([':', '/']).next().unwrap_or_default().to_owned();
        if host.ends_with(".test") && !out.contains(&host) {
            out.push(host);
        }
    }
    out
}

/// The hosts a metalink for `repo`/`x86_64` lists for a client at `ip` (located in Germany, like every host).
fn metalink(sel: &Selector, repo: &str, ip: &str) -> Vec<String> {
    let geo = Geo(vec![("2001:db8::1", Some("DE"), None), ("192.0.2.1", Some("DE"), None)]);
    let mut random = SeededRandom::new(7);
    let mut ws = Workspace::new();
    let query = format!("repo={repo}&arch=x86_64");
    let req = Request {
        path: "/metalink",
        query: &query,
        forwarded_for: None,
        accept: None,
        peer: ip.parse().unwrap(),
    };
    let answer = sel.handle(
        &req,
        &mut Context {
            now: now() as u64,
            minimum: 5,
            locate: &geo,
            random: &mut random,
        },
        &mut ws,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    hosts_of(&answer.body)
}

async fn snapshot(db: &Database) -> Selector {
    let built = builder::build(
        db,
        Options {
            created: now() as u64,
            resolve_names: false,
        },
    )
    .await
    .expect("builds");
    Selector::new(built.snapshot).expect("loads")
}

#[derive(Debug)]
struct HostRow {
    user_active: bool,
    disable_reason: String,
    crawl_failures: i64,
    ipv4_reachable: Option<bool>,
    ipv6_reachable: Option<bool>,
    last_crawled: Option<i64>,
}

async fn host(db: &Database, name: &str) -> HostRow {
    type Row = (Flag, String, i64, Option<Flag>, Option<Flag>, Option<i64>);
    let r: Row = sqlx::query_as(
        "SELECT user_active, COALESCE(disable_reason, '') AS disable_reason, crawl_failures, ipv4_reachable, \
         ipv6_reachable, last_crawled FROM host WHERE name = $1",
    )
    .bind(name)
    .fetch_one(db.pool())
    .await
    .unwrap_or_else(|e| panic!("host {name}: {e}"));
    HostRow {
        user_active: r.0.into(),
        disable_reason: r.1,
        crawl_failures: r.2,
        ipv4_reachable: r.3.map(bool::from),
        ipv6_reachable: r.4.map(bool::from),
        last_crawled: r.5,
    }
}

/// Whether the host's state says `dir` is up to date (`Some(true)`), not (`Some(false)`), or nothing.
async fn state(db: &Database, host: &str, dir: &str) -> Option<bool> {
    let mut conn = db.acquire().await.unwrap();
    let id = mirrorvane_db::crawl::host_id(&mut conn, host).await.unwrap().unwrap();
    let dir_id = mirrorvane_db::categories::directory_id(&mut conn, dir)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no directory {dir}"));
    for hc in mirrorvane_db::crawl::host_categories(&mut conn, Some(id))
        .await
        .unwrap()
    {
        let up = mirrorvane_db::crawl::directory_set(&mut conn, hc.up2date_set_id)
            .await
            .unwrap();
        let stale = mirrorvane_db::crawl::directory_set(&mut conn, hc.stale_set_id)
            .await
            .unwrap();
        if up.contains(dir_id) {
            return Some(true);
        }
        if stale.contains(dir_id) {
            return Some(false);
        }
    }
    None
}

fn crawl_args(ca: &Path, resolve: Vec<(String, Vec<std::net::IpAddr>)>) -> crawl::Args {
    crawl::Args {
        concurrency: 16,
        // Generous for a loaded machine (a host failing under load failed CI once); the slow mirror's ~35
        // requests at 1.5 s each, 4 at a time, still take longer than the host timeout.
        host_timeout: 8,
        request_timeout: 5,
        retries: 1,
        resolve,
        ca_files: vec![ca.to_owned()],
        crawler_name: Some("test-crawler".into()),
        ..crawl::Args::default()
    }
}

engine_tests! {
    /// Every kind of mirror in one network, crawled; then the dead and the recovering one, crawled again.
    async fn crawls_real_mirrors(t) {
        let db = &t.db;
        let p = primary(db).await;
        let (push1, push2, push3) = (&p.pushes[0], &p.pushes[1], &p.pushes[2]);

        // Mirrors that differ from a push.
        let missing = p.dir("missing");
        copy_tree(push3, &missing).unwrap();
        std::fs::remove_file(missing.join(FEDORA_41).join("repodata/repomd.xml")).unwrap();
        std::fs::remove_file(
            missing.join("pub/fedora/linux/releases/41/Everything/x86_64/iso/Fedora-Everything-netinst-x86_64-41-1.4.iso"),
        )
        .unwrap();
        let sizes = p.dir("sizes");
        copy_tree(push3, &sizes).unwrap();
        for f in [
            format!("{UPDATES_41}/repodata/repomd.xml"),
            format!("{FEDORA_41}/Packages/m/mirrorvane-1.2-1.noarch.rpm"),
        ] {
            std::fs::OpenOptions::new().append(true).open(sizes.join(f)).unwrap().write_all(b"x").unwrap();
        }

        // The servers.
        let ca = TestCa::new(&["fresh-https.test", "missing.test"]).unwrap();
        let ca_file = p.dir("ca.pem");
        std::fs::write(&ca_file, &ca.ca_pem).unwrap();
        let site = |name: &str, root: &Path| (name.to_owned(), root.to_owned());
        let both = vec![V4, V6];
        let http = HttpMirror::start(MirrorConfig {
            addresses: both.clone(),
            sites: vec![
                site("fresh-http.test", push3),
                site("fresh-rsync.test", push3),
                site("behind1.test", push2),
                site("behind2.test", push1),
            ],
            ..MirrorConfig::default()
        })
        .await
        .unwrap();
        let https = HttpMirror::start(MirrorConfig {
            addresses: both.clone(),
            sites: vec![site("fresh-https.test", push3), site("missing.test", &missing)],
            tls: Some(ca.server.clone()),
            ..MirrorConfig::default()
        })
        .await
        .unwrap();
        let v4 = HttpMirror::start(MirrorConfig {
            addresses: vec![V4],
            default_root: Some(push3.clone()),
            ..MirrorConfig::default()
        })
        .await
        .unwrap();
        let v6 = HttpMirror::start(MirrorConfig {
            addresses: vec![V6],
            default_root: Some(push3.clone()),
            ..MirrorConfig::default()
        })
        .await
        .unwrap();
        let slow = HttpMirror::start(MirrorConfig {
            addresses: both.clone(),
            default_root: Some(push3.clone()),
            ..MirrorConfig::default()
        })
        .await
        .unwrap();
        slow.knobs().set_delay(Duration::from_millis(1500));
        let flaky = HttpMirror::start(MirrorConfig {
            addresses: both.clone(),
            default_root: Some(push3.clone()),
            ..MirrorConfig::default()
        })
        .await
        .unwrap();
        flaky.knobs().set_mode(Mode::Reset);
        let dead_port = std::net::TcpListener::bind((V4, 0)).unwrap().local_addr().unwrap().port();
        let rsync = RsyncDaemon::start(V4, &[("fresh", push3.as_path()), ("sizes", sizes.as_path())]).unwrap();
        let rsync_url = |name: &str, module: &str| format!("rsync://{name}:{}/{module}/pub/fedora/linux", rsync.port());

        let tree = "pub/fedora/linux";
        let mirrors = vec![
            Mirror {
                name: "fresh-rsync.test",
                urls: vec![
                    rsync_url("fresh-rsync.test", "fresh"),
                    http.url("fresh-rsync.test", tree),
                ],
            },
            Mirror { name: "fresh-https.test", urls: vec![https.url("fresh-https.test", tree)] },
            Mirror { name: "fresh-http.test", urls: vec![http.url("fresh-http.test", tree)] },
            Mirror { name: "behind1.test", urls: vec![http.url("behind1.test", tree)] },
            Mirror { name: "behind2.test", urls: vec![http.url("behind2.test", tree)] },
            Mirror { name: "missing.test", urls: vec![https.url("missing.test", tree)] },
            Mirror { name: "sizes.test", urls: vec![rsync_url("sizes.test", "sizes")] },
            Mirror { name: "slow.test", urls: vec![slow.url("slow.test", tree)] },
            Mirror { name: "dead.test", urls: vec![format!("http://dead.test:{dead_port}/{tree}")] },
            Mirror { name: "flaky.test", urls: vec![flaky.url("flaky.test", tree)] },
            Mirror { name: "v4only.test", urls: vec![v4.url("v4only.test", tree)] },
            Mirror { name: "v6only.test", urls: vec![v6.url("v6only.test", tree)] },
        ];
        apply(db, p.tmp.path(), &inventory_toml(&mirrors)).await;
        {
            let mut conn = db.acquire().await.unwrap();
            let product = mirrorvane_db::categories::product_by_name(&mut conn, "Fedora").await.unwrap().unwrap();
            let v41 = repositories::version_id(&mut conn, product.id, "41").await.unwrap().unwrap();
            repositories::set_current(&mut conn, v41, true).await.unwrap();
        }

        // Before any crawl no mirror counts (none is always up to date).
        let before = snapshot(db).await;
        assert!(metalink(&before, "fedora-41", "192.0.2.1").is_empty());

        let args = crawl_args(&ca_file, resolve_all(&mirrors));
        let first = crawl::run(db, &args).await.expect("crawl runs");
        let r = &first.report;
        assert_eq!(r.considered, 12, "{r}");
        assert_eq!((r.success, r.failure, r.timeout, r.unknown), (9, 2, 1, 0), "{r}");
        assert!(r.requests > 0, "{r}");

        // Directory states.
        let repodata = |d: &str| format!("{d}/repodata");
        for fresh in ["fresh-rsync.test", "fresh-https.test", "fresh-http.test", "behind1.test", "v4only.test", "v6only.test"] {
            assert_eq!(state(db, fresh, &repodata(FEDORA_41)).await, Some(true), "{fresh}");
            assert_eq!(state(db, fresh, &format!("{FEDORA_41}/Packages/m")).await, Some(true), "{fresh}");
        }
        assert_eq!(state(db, "behind2.test", &repodata(FEDORA_41)).await, Some(false), "two pushes behind");
        assert_eq!(state(db, "behind2.test", &format!("{FEDORA_41}/Packages/m")).await, Some(true));
        assert_eq!(state(db, "missing.test", &repodata(FEDORA_41)).await, Some(false));
        assert_eq!(
            state(db, "missing.test", "pub/fedora/linux/releases/41/Everything/x86_64/iso").await,
            Some(false)
        );
        assert_eq!(state(db, "missing.test", &repodata(UPDATES_41)).await, Some(true));
        assert_eq!(state(db, "sizes.test", &repodata(UPDATES_41)).await, Some(false), "repomd.xml by size");
        assert_eq!(state(db, "sizes.test", &format!("{FEDORA_41}/Packages/m")).await, Some(false));
        assert_eq!(state(db, "sizes.test", &repodata(FEDORA_41)).await, Some(true));
        assert_eq!(state(db, "slow.test", &repodata(FEDORA_41)).await, None, "a timeout marks nothing up to date");

        // Hosts.
        let fresh = host(db, "fresh-http.test").await;
        assert_eq!((fresh.ipv4_reachable, fresh.ipv6_reachable, fresh.crawl_failures), (Some(true), Some(true), 0));
        assert!(fresh.last_crawled.is_some());
        let h = host(db, "v4only.test").await;
        assert_eq!((h.ipv4_reachable, h.ipv6_reachable), (Some(true), Some(false)));
        let h = host(db, "v6only.test").await;
        assert_eq!((h.ipv4_reachable, h.ipv6_reachable), (Some(false), Some(true)));
        let h = host(db, "sizes.test").await;
        assert_eq!((h.ipv4_reachable, h.ipv6_reachable), (Some(true), Some(false)), "its rsync daemon is IPv4 only");
        assert_eq!(host(db, "slow.test").await.crawl_failures, 1);
        assert_eq!(host(db, "dead.test").await.crawl_failures, 1);
        assert!(host(db, "dead.test").await.user_active);

        // The answers: metalinks list the hosts whose repodata is up to date.
        let sel = snapshot(db).await;
        let mut got = metalink(&sel, "fedora-41", "192.0.2.1");
        got.sort();
        assert_eq!(
            got,
            ["behind1.test", "fresh-http.test", "fresh-https.test", "fresh-rsync.test", "sizes.test", "v4only.test", "v6only.test"]
        );
        let mut got = metalink(&sel, "updates-released-f41", "192.0.2.1");
        got.sort();
        assert_eq!(
            got,
            ["behind1.test", "fresh-http.test", "fresh-https.test", "fresh-rsync.test", "missing.test", "v4only.test", "v6only.test"]
        );
        // An IPv6 client gets the hosts that answer over IPv6 first; an IPv4 client, those over IPv4.
        let v6_client = metalink(&sel, "fedora-41", "2001:db8::1");
        assert_eq!(v6_client.len(), 7);
        let mut tail = v6_client[5..].to_vec();
        tail.sort();
        assert_eq!(tail, ["sizes.test", "v4only.test"], "{v6_client:?}");
        let v4_client = metalink(&sel, "fedora-41", "192.0.2.1");
        assert_eq!(v4_client.last().map(String::as_str), Some("v6only.test"), "{v4_client:?}");

        // Propagation of fedora-41: today's push on five hosts, yesterday's on one, the day before's on one.
        let fedora_41 = repository_id(db, "fedora-41").await;
        let row = first
            .propagation
            .iter()
            .find(|r| r.repository_id == fedora_41)
            .copied()
            .expect("a propagation row for fedora-41");
        assert_eq!((row.one_day, row.two_day), (1, 1), "{row:?}");
        assert!(row.same_day >= 5, "{row:?}");
        assert_eq!(row.same_day + row.one_day + row.two_day + row.older + row.no_info, 12, "{row:?}");

        // Three more failures disable the dead and the broken host, with the reason stored.
        let mut again = args.clone();
        again.hosts = vec!["dead.test".into(), "flaky.test".into()];
        for _ in 0..3 {
            let run = crawl::run(db, &again).await.unwrap();
            assert_eq!(run.report.failure, 2, "{}", run.report);
        }
        for name in ["dead.test", "flaky.test"] {
            let h = host(db, name).await;
            assert!(!h.user_active, "{name}: {h:?}");
            assert_eq!(h.crawl_failures, 4);
            assert_eq!(h.disable_reason, auto_disable_reason(4));
        }
        // Disabled hosts are left alone unless asked.
        assert_eq!(crawl::run(db, &again).await.unwrap().report.considered, 0);

        // The broken one is mended: the next crawl of disabled hosts re-enables it; the dead one stays out.
        flaky.knobs().set_mode(Mode::Serve);
        again.include_disabled = true;
        let recovered = crawl::run(db, &again).await.unwrap();
        assert_eq!((recovered.report.success, recovered.report.failure, recovered.report.reenabled), (1, 1, 1));
        let h = host(db, "flaky.test").await;
        assert!(h.user_active && h.disable_reason.is_empty() && h.crawl_failures == 0, "{h:?}");
        let h = host(db, "dead.test").await;
        assert!(!h.user_active && h.crawl_failures == 5, "{h:?}");
        let sel = snapshot(db).await;
        let got = metalink(&sel, "fedora-41", "192.0.2.1");
        assert!(got.contains(&"flaky.test".to_owned()) && !got.contains(&"dead.test".to_owned()), "{got:?}");

        // Each crawl left a log in the database, newest first.
        let mut conn = db.acquire().await.unwrap();
        let id = mirrorvane_db::crawl::host_id(&mut conn, "flaky.test").await.unwrap().unwrap();
        let logs = mirrorvane_db::crawl::logs(&mut conn, id, 100).await.unwrap();
        assert_eq!(logs.len(), 5);
        assert_eq!(logs[0].outcome, "success");
        assert!(logs[0].text.contains("re-enables"), "{}", logs[0].text);
        assert!(logs[1].text.contains(&auto_disable_reason(4)), "{}", logs[1].text);
        assert_eq!(logs[0].crawler, "test-crawler");
        drop((http, https, v4, v6, slow, rsync));
    }
}

async fn repository_id(db: &Database, prefix: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT r.id FROM repository r JOIN arch a ON a.id = r.arch_id WHERE r.prefix = $1 AND a.name = 'x86_64'",
    )
    .bind(prefix)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// `mirrorvane crawl …` as a process on `db`.
fn crawler(db: &str, name: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mirrorvane"));
    cmd.args(["--database", db, "crawl", "--crawler-name", name, "--no-propagation"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A network of `n` HTTP mirrors on one server (virtual hosts), every host up to date.
async fn many_mirrors(db: &Database, p: &Primary, n: usize) -> (HttpMirror, Vec<String>) {
    let names: Vec<String> = (0..n).map(|i| format!("m{i:02}.test")).collect();
    let server = HttpMirror::start(MirrorConfig {
        addresses: vec![V4],
        default_root: Some(p.pushes[2].clone()),
        ..MirrorConfig::default()
    })
    .await
    .unwrap();
    let mut toml = String::new();
    for name in &names {
        toml.push_str(&format!(
            "[[site]]\nname = \"{name}\"\n\n[[site.host]]\nname = \"{name}\"\ncountry = \"DE\"\n\n\
             [[site.host.category]]\nname = \"{CAT}\"\nurls = [\"{}\"]\n\n",
            server.url(name, "pub/fedora/linux")
        ));
    }
    apply(db, p.tmp.path(), &toml).await;
    (server, names)
}

fn resolve_args(names: &[String]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| ["--resolve".to_owned(), format!("{n}=127.0.0.1")])
        .collect()
}

/// (host, crawler) of every crawl log.
async fn crawled_by(db: &Database) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> =
        sqlx::query_as("SELECT h.name, l.crawler FROM crawl_log l JOIN host h ON h.id = l.host_id ORDER BY h.name")
            .fetch_all(db.pool())
            .await
            .unwrap();
    rows.sort();
    rows
}

/// Two crawler processes on one PostgreSQL database share the hosts: each host is crawled once, by one of them.
#[test]
fn two_crawler_processes_share_the_hosts() {
    run(async {
        let t = TestDb::new(Engine::Postgres).await;
        let p = primary(&t.db).await;
        let (server, names) = many_mirrors(&t.db, &p, 12).await;
        // Slow enough that both processes are busy at once, even when the second one starts late on a loaded
        // machine (at 100 ms the first could crawl all twelve before the second had planned).
        server.knobs().set_delay(Duration::from_millis(400));
        let resolve = resolve_args(&names);
        let resolve: Vec<&str> = resolve.iter().map(String::as_str).collect();
        let a = crawler(
            &t.url,
            "crawler-a",
            &[&["--concurrency", "2"], resolve.as_slice()].concat(),
        )
        .spawn()
        .unwrap();
        let b = crawler(
            &t.url,
            "crawler-b",
            &[&["--concurrency", "2"], resolve.as_slice()].concat(),
        )
        .spawn()
        .unwrap();
        let (a, b) =
            tokio::task::spawn_blocking(move || (a.wait_with_output().unwrap(), b.wait_with_output().unwrap()))
                .await
                .unwrap();
        for out in [&a, &b] {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let rows = crawled_by(&t.db).await;
        let hosts: Vec<&String> = rows.iter().map(|(h, _)| h).collect();
        assert_eq!(
            hosts,
            names.iter().collect::<Vec<_>>(),
            "each host crawled exactly once: {rows:?}"
        );
        let by: HashMap<&str, usize> = rows.iter().fold(HashMap::new(), |mut m, (_, c)| {
            *m.entry(c.as_str()).or_default() += 1;
            m
        });
        assert_eq!(by.len(), 2, "both crawlers took hosts: {by:?}");
        let summary = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            summary(&a).contains(&format!("{} of 12 hosts crawled", by["crawler-a"])),
            "{}",
            summary(&a)
        );
        assert!(
            summary(&b).contains(&format!("{} of 12 hosts crawled", by["crawler-b"])),
            "{}",
            summary(&b)
        );
    });
}

/// A crawler killed mid-crawl keeps its hosts from others until its leases expire; then they are crawled.
#[test]
fn a_killed_crawlers_hosts_are_crawled_after_its_leases_expire() {
    run(async {
        let t = TestDb::new(Engine::Postgres).await;
        let p = primary(&t.db).await;
        let (server, names) = many_mirrors(&t.db, &p, 4).await;
        let resolve = resolve_args(&names);
        let resolve: Vec<&str> = resolve.iter().map(String::as_str).collect();
        // The mirrors hang: the first crawler takes all four hosts and waits on them.
        server.knobs().set_mode(Mode::Hang);
        let lease = ["--concurrency", "4", "--host-timeout", "3", "--lease", "4"];
        let mut a = crawler(&t.url, "crawler-a", &[&lease[..], resolve.as_slice()].concat())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crawl_lease WHERE owner = 'crawler-a'")
                .fetch_one(t.db.pool())
                .await
                .unwrap();
            if held == 4 {
                break;
            }
            assert!(Instant::now() < deadline, "crawler-a never took the hosts");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        a.kill().unwrap();
        a.wait().unwrap();
        server.knobs().set_mode(Mode::Serve);
        // Its leases are live: another crawler leaves the hosts alone.
        let b = crawler(&t.url, "crawler-b", &[&lease[..], resolve.as_slice()].concat())
            .output()
            .unwrap();
        assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
        assert!(
            String::from_utf8_lossy(&b.stdout).contains("0 of 4 hosts crawled"),
            "{}",
            String::from_utf8_lossy(&b.stdout)
        );
        assert!(crawled_by(&t.db).await.is_empty());
        // Once they expire, the hosts are crawled.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let c = crawler(&t.url, "crawler-c", &[&lease[..], resolve.as_slice()].concat())
            .output()
            .unwrap();
        assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
        let rows = crawled_by(&t.db).await;
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows.iter().all(|(_, c)| c == "crawler-c"), "{rows:?}");
        drop(server);
    });
}
