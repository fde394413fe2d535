//! The crawler at Fedora's scale on one machine: a primary tree of ~25,000 directories, scanned; 400 mirror hosts
//! serving it from this process (one HTTP port each) and one rsync daemon (one module each); then `mirrorvane
//! crawl` as its own process under `/usr/bin/time -v`, once for a single host (the baseline) and once for all.
//! Prints wall time, requests and peak RSS of each.
//!
//! ```text
//! cargo build --release -p mirrorvane-backend
//! cargo run --release -p mirrorvane-benches --example crawl_farm -- --mirrorvane target/release/mirrorvane
//! ```
//!
//! Options: `--hosts N` (400), `--dirs N` (25000), `--http-only N` (hosts without rsync, crawled with a HEAD per
//! file; 10), `--concurrency N` (32), `--database URL` (a SQLite file in the scratch directory).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mirrorvane_backend::commands::{inventory, scan};
use mirrorvane_db::Database;
use mirrorvane_testkit::mirror::{HttpMirror, MirrorConfig, RsyncDaemon};
use mirrorvane_testkit::tree;

struct Options {
    hosts: usize,
    dirs: usize,
    http_only: usize,
    concurrency: usize,
    database: Option<String>,
    mirrorvane: PathBuf,
}

fn options() -> Options {
    let mut o = Options {
        hosts: 400,
        dirs: 25_000,
        http_only: 10,
        concurrency: 32,
        database: None,
        mirrorvane: PathBuf::from("target/release/mirrorvane"),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || {
            value
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--hosts" => o.hosts = number(),
            "--dirs" => o.dirs = number(),
            "--http-only" => o.http_only = number(),
            "--concurrency" => o.concurrency = number(),
            "--database" => o.database = Some(value.clone()),
            "--mirrorvane" => o.mirrorvane = PathBuf::from(value),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(o.http_only <= o.hosts, "--http-only exceeds --hosts");
    o
}

fn count_dirs(root: &Path) -> usize {
    let mut n = 0;
    let mut pending = vec![root.to_owned()];
    while let Some(d) = pending.pop() {
        n += 1;
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                pending.push(e.path());
            }
        }
    }
    n
}

/// What `/usr/bin/time -v` and the crawl's summary line said.
struct Measured {
    wall: f64,
    rss_mb: f64,
    summary: String,
}

fn crawl(o: &Options, db: &str, extra: &[&str]) -> Measured {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(&o.mirrorvane)
        .args(["--database", db, "crawl", "--concurrency", &o.concurrency.to_string()])
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs /usr/bin/time (apt install time) and mirrorvane");
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "crawl failed:\n{stderr}");
    let rss_kb: f64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .expect("time -v reports the peak RSS");
    Measured {
        wall,
        rss_mb: rss_kb / 1024.0,
        summary: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    }
}

fn main() {
    let o = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let scratch = tempfile::Builder::new().prefix("crawl-farm-").tempdir().unwrap();
    let dir = scratch.path();
    let db_url = o
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("farm.db").display()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    // The primary: the demo tree with enough package directories per repository to reach --dirs.
    let primary = dir.join("primary");
    let repositories = tree::write(&primary, now - 7200).unwrap();
    let base = count_dirs(&primary.join("pub"));
    let extra = o.dirs.saturating_sub(base) / repositories.max(1);
    tree::write_scaled(&primary, now - 3600, extra).unwrap();
    let dirs = count_dirs(&primary.join("pub"));
    eprintln!("primary: {dirs} directories ({repositories} repositories, {extra} package directories each)");

    runtime.block_on(async move {
        // The mirrors: one HTTP port per host, one rsync daemon with a module per host, all serving the primary.
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut servers = Vec::with_capacity(o.hosts);
        for _ in 0..o.hosts {
            servers.push(
                HttpMirror::start(MirrorConfig {
                    addresses: vec![v4],
                    default_root: Some(primary.clone()),
                    ..MirrorConfig::default()
                })
                .await
                .unwrap(),
            );
        }
        let modules: Vec<(String, PathBuf)> = (0..o.hosts).map(|i| (format!("h{i:03}"), primary.clone())).collect();
        let refs: Vec<(&str, &Path)> = modules.iter().map(|(m, p)| (m.as_str(), p.as_path())).collect();
        let rsync = RsyncDaemon::start(v4, &refs).unwrap();

        let db = Database::open(&db_url).await.unwrap();
        let mut toml = String::from(
            "[[arch]]\nname = \"x86_64\"\n\n[[arch]]\nname = \"aarch64\"\n\n[[arch]]\nname = \"source\"\n\n",
        );
        for (name, product, topdir) in tree::CATEGORIES {
            if !toml.contains(&format!("name = \"{product}\"\n\n[[category")) {
                toml.push_str(&format!("[[product]]\nname = \"{product}\"\n\n"));
            }
            toml.push_str(&format!(
                "[[category]]\nname = \"{name}\"\nproduct = \"{product}\"\ntopdir = \"{topdir}\"\n\n"
            ));
        }
        for (i, server) in servers.iter().enumerate() {
            let name = format!("h{i:03}.farm.test");
            toml.push_str(&format!(
                "[[site]]\nname = \"{name}\"\n\n[[site.host]]\nname = \"{name}\"\ncountry = \"DE\"\n\n"
            ));
            for (category, _, topdir) in tree::CATEGORIES {
                let http = format!("http://127.0.0.1:{}/{topdir}", server.port());
                let urls = if i < o.http_only {
                    format!("\"{http}\"")
                } else {
                    format!("\"rsync://127.0.0.1:{}/h{i:03}/{topdir}\", \"{http}\"", rsync.port())
                };
                toml.push_str(&format!(
                    "[[site.host.category]]\nname = \"{category}\"\nurls = [{urls}]\n\n"
                ));
            }
        }
        let file = dir.join("inventory.toml");
        std::fs::write(&file, toml).unwrap();
        inventory::apply_file(
            &db,
            &inventory::ApplyArgs {
                file,
                dry_run: false,
                prune: false,
            },
            &mut std::io::sink(),
        )
        .await
        .unwrap();
        for (name, _, topdir) in tree::CATEGORIES {
            let args = scan::Args {
                categories: vec![(*name).to_owned()],
                path: Some(primary.join(topdir)),
                max_stale_days: 4,
                ..Default::default()
            };
            scan::run(&db, &args).await.unwrap();
        }
        db.close().await;

        let db_arg = db_url.clone();
        let (one, all) = tokio::task::spawn_blocking(move || {
            let one = crawl(&o, &db_arg, &["--host", &format!("h{:03}.farm.test", o.hosts - 1)]);
            let all = crawl(&o, &db_arg, &[]);
            (one, all)
        })
        .await
        .unwrap();
        let served: u64 = servers.iter().map(|s| s.knobs().requests()).sum();
        println!("{} directories; {} hosts", dirs, servers.len());
        for (what, m) in [("one host (baseline)", &one), ("all hosts", &all)] {
            println!(
                "{what}: wall {:.1} s, peak RSS {:.0} MB\n  {}",
                m.wall, m.rss_mb, m.summary
            );
        }
        println!("HTTP requests the mirrors answered: {served}");
        drop(rsync);
    });
}
