//! `mirrorvane demo`: the whole pipeline on built-in data, served by a real edge on 127.0.0.1 with MaxMind's
//! small test GeoIP database bundled — so one command shows what Mirrorvane does, with nothing to set up.
//!
//! In a temporary directory it creates a SQLite database, applies the inventory of a realistic synthetic mirror
//! network, writes a small Fedora-like primary tree (real `repodata/repomd.xml`), scans it, builds the snapshot
//! and serves it. The edge watches the snapshot file like a production edge does, so rebuilding it
//! (`mirrorvane --database sqlite://DIR/demo.db snapshot -o DIR/snapshot`) reloads.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use mirrorvane_edge::geo::CountryDb;
use mirrorvane_edge::source::{Intervals, Source};
use mirrorvane_selector::{ClientGeo, Locate, snapshot};

use crate::db::Database;
use mirrorvane_testkit::synthetic::{self, Scale, SyntheticGeo, World};

/// Seed of the demo network (fixed: the demo is the same every time).
pub const SEED: u64 = 20_261_126;

/// Options of `mirrorvane demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (loopback only by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Fewer content-carrying hosts than this near the client adds the global list.
    #[arg(long, default_value_t = 5)]
    pub minimum: usize,
    /// Address of the web UI and public pages (`mirrorvane serve`'s service, on the demo's database).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub web_listen: SocketAddr,
}

/// The demo's web accounts: an admin, and the admin of the demo's first site.
const DEMO_ADMIN: (&str, &str) = ("admin", "demo-admin-password");
const DEMO_SITE_ADMIN: (&str, &str) = ("mirror-admin", "demo-mirror-password");

/// The demo's accounts: an admin, and a site admin of the first site (made its admin through an inventory edit,
/// as the UI would).
async fn demo_accounts(db: &Database) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    for (name, password) in [DEMO_ADMIN, DEMO_SITE_ADMIN] {
        let hash = mirrorvane_db::password::hash(password)?;
        let id = mirrorvane_db::accounts::create(&mut conn, name, "", Some(&hash), 0)
            .await?
            .context("a new database has no accounts")?;
        if name == DEMO_ADMIN.0 {
            mirrorvane_db::accounts::add_group(&mut conn, id, "sysadmin-main").await?;
        }
    }
    drop(conn);
    let admin = mirrorvane_inventory::policy::Actor {
        name: DEMO_ADMIN.0.to_owned(),
        admin: true,
    };
    mirrorvane_inventory::edit::edit(db, &admin, |inv| {
        if let Some(site) = inv.sites.first_mut() {
            site.admins.push(DEMO_SITE_ADMIN.0.to_owned());
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// MaxMind's test database where it knows the address, the synthetic network's geography elsewhere.
struct DemoGeo {
    maxmind: CountryDb,
    synthetic: SyntheticGeo,
}

impl Locate for DemoGeo {
    fn locate(&self, ip: IpAddr) -> ClientGeo {
        let known = self.maxmind.locate(ip);
        let synthetic = self.synthetic.locate(ip);
        match known.country {
            Some(country) => ClientGeo {
                country: Some(country),
                continent: known.continent,
                asn: synthetic.asn,
            },
            None => synthetic,
        }
    }
}

/// Example requests to print: (what, query).
fn examples(snap: &snapshot::Snapshot, world: &World) -> Vec<(String, String)> {
    let repo = snap
        .repositories
        .iter()
        .find(|r| r.prefix.starts_with("fedora-") && r.arch == "x86_64" && !r.prefix.contains("debug"))
        .or_else(|| snap.repositories.first());
    let Some(repo) = repo else { return Vec::new() };
    let q = format!("repo={}&arch={}", repo.prefix, repo.arch);
    let mut out = vec![
        (
            "metalink for a client in Sweden (MaxMind test address)".to_string(),
            format!("metalink?{q}&ip=89.160.20.113"),
        ),
        (
            "plain mirrorlist, the same client".to_string(),
            format!("mirrorlist?{q}&ip=89.160.20.113"),
        ),
    ];
    if let Some(ip) = world.clients.netblock.first() {
        out.push((
            "a client inside a mirror's netblock".into(),
            format!("mirrorlist?{q}&ip={ip}"),
        ));
    }
    if let Some(ip) = world.clients.asn.first() {
        out.push((
            "a client in a mirror's autonomous system".into(),
            format!("mirrorlist?{q}&ip={ip}"),
        ));
    }
    let (cc, ip) = world.clients.global_fallback;
    out.push((
        format!("a client in {cc}, where there are few mirrors (global fallback)"),
        format!("mirrorlist?{q}&ip={ip}"),
    ));
    out.push((
        "only https, only Germany".into(),
        format!("mirrorlist?{q}&country=DE&protocol=https"),
    ));
    out.push((
        "why: the decision as JSON".into(),
        format!("metalink?{q}&ip=89.160.20.113&explain=1"),
    ));
    out
}

/// Runs the demo until Ctrl-C or SIGTERM, then removes its temporary directory.
///
/// The three local mirrors of [`crate::demo::local`] are crawled before the edge starts: two are up to date and
/// answer this machine's clients first (their netblock is the loopback's), the third is two pushes behind and
/// absent from metalinks.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let world = synthetic::generate(&Scale::demo(), SEED);
    let dir = tempfile::Builder::new()
        .prefix("mirrorvane-demo-")
        .tempdir()
        .context("creating a temporary directory")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let db_url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (prepared, db) = runtime.block_on(async {
        let db = Database::open(&db_url).await?;
        let prepared = crate::demo::prepare(&db, &world.snapshot, dir.path(), now).await?;
        demo_accounts(&db).await?;
        anyhow::Ok((prepared, db))
    })?;
    let built = &prepared.built.snapshot;
    let snapshot_path = dir.path().join("snapshot");
    crate::write::write_atomically(&snapshot_path, &snapshot::encode(built))
        .with_context(|| format!("writing {}", snapshot_path.display()))?;
    let netblocks = dir.path().join("global_netblocks.txt");
    let mut text = Vec::new();
    synthetic::write_global_netblocks(&world, &mut text)?;
    std::fs::write(&netblocks, text).with_context(|| format!("writing {}", netblocks.display()))?;

    let geo = DemoGeo {
        maxmind: CountryDb::from_bytes(mirrorvane_testkit::GEOIP2_COUNTRY_TEST.to_vec())?,
        synthetic: world.geo.clone(),
    };
    let config = mirrorvane_edge::Config {
        listen: args.listen,
        minimum: args.minimum,
        family_preference: true,
        source: Source::File(snapshot_path.clone()),
        intervals: Intervals {
            file: Duration::from_secs(2),
            url: Duration::from_secs(30),
        },
        access_log: Some(dir.path().join("access.log")),
        workers: None,
        limits: mirrorvane_edge::Limits::default(),
        trust: mirrorvane_edge::Trust::default(),
        admin_listen: None,
        fetch: mirrorvane_edge::source::Fetch::default(),
        max_age: None,
    };
    let s = built;
    let countries: std::collections::BTreeSet<_> = s.hosts.iter().filter_map(|h| h.country).collect();
    println!(
        "Database {db_url}: applied {} (synthetic network, seed {SEED})",
        super::count(prepared.changes, "inventory change", "inventory changes")
    );
    for scan in &prepared.scans {
        println!("{scan}");
    }
    println!("Three mirrors on this machine, crawled: {}", prepared.crawl);
    for ((name, found), (_, url)) in prepared.mirrors.iter().zip(&prepared.local.hosts) {
        println!("  {name:<14} {url:<34} {found}");
    }
    if !prepared.local.ipv6 {
        println!("  (no ::1 on this machine: mirror-a.demo answers over IPv4 only)");
    }
    println!(
        "Mirrorvane demo: {} mirrors in {} countries, {} directories, {} repositories",
        s.hosts.len(),
        countries.len(),
        s.directories.len(),
        s.repositories.len()
    );
    println!(
        "Snapshot {} ({} bytes); replace it and the edge reloads.",
        snapshot_path.display(),
        std::fs::metadata(&snapshot_path)?.len()
    );
    println!("Access log {}", dir.path().join("access.log").display());
    let examples = examples(built, &world);
    let web = mirrorvane_web::router(
        db,
        mirrorvane_web::Config {
            snapshot: snapshot_path.clone(),
            limits: mirrorvane_web::checkin::Limits::default(),
            publishing: mirrorvane_web::snapshot::Publishing::default(),
            // Plain HTTP on the loopback: the browser must keep the cookie.
            accounts: mirrorvane_web::AccountsConfig {
                secure_cookies: false,
                ..mirrorvane_web::AccountsConfig::default()
            },
        },
    )
    .context("the web UI's templates")?;
    let web_listen = args.web_listen;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(web_listen)
            .await
            .with_context(|| format!("cannot listen on {web_listen} for the web UI"))?;
        println!(
            "Web UI and public pages on http://{}/ (sign in as {} / {}, or as {} / {}, the admin of a demo site)",
            listener.local_addr()?,
            DEMO_ADMIN.0,
            DEMO_ADMIN.1,
            DEMO_SITE_ADMIN.0,
            DEMO_SITE_ADMIN.1
        );
        tokio::spawn(mirrorvane_web::serve(listener, web, mirrorvane_web::ServeLimits::default()));
        let serve = mirrorvane_edge::serve(config, Arc::new(geo), move |addr| {
            println!("Listening on http://{addr}\n\nTry:");
            for (what, query) in &examples {
                println!("  # {what}\n  curl 'http://{addr}/{query}'");
            }
            println!("  curl http://{addr}/metrics\n\nWith dnf (this machine's mirrors come first, the stale one never):");
            println!(
                "  printf '[mirrorvane-demo]\\nname=Mirrorvane demo\\nmetalink=http://{addr}/metalink?repo=fedora-41&arch=x86_64\\ngpgcheck=0\\n' > /etc/yum.repos.d/mirrorvane-demo.repo"
            );
            println!("  dnf makecache --repo mirrorvane-demo\n\nCtrl-C to stop.");
        });
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = serve => r,
            _ = tokio::signal::ctrl_c() => { println!("\nstopped"); Ok(()) }
            _ = terminate.recv() => { println!("stopped (SIGTERM)"); Ok(()) }
        }
    })?;
    // The database, tree and snapshot go with the directory: nothing of the demo outlives it.
    drop(dir);
    Ok(())
}
