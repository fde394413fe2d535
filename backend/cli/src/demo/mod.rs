//! The demo world on the real pipeline: a synthetic mirror network as an inventory, three real mirrors on this
//! machine ([`local`]), a small Fedora-like primary tree on disk pushed three times, and the steps an operator
//! runs — apply the inventory, scan after each push, crawl, build the snapshot.

pub mod inventory;
pub mod local;

use std::path::Path;

use anyhow::Context as _;
use mirrorvane_selector::snapshot::Snapshot;
use mirrorvane_testkit::tree;

use crate::builder::{self, Built};
use crate::db::Database;
use crate::inventory::{Prune, diff, store};
use crate::scan::store::{ScanOptions, Source, Summary, scan_category};

/// What building the demo world did, for the demo's opening lines.
pub struct Prepared {
    /// The built snapshot.
    pub built: Built,
    /// Inventory changes applied.
    pub changes: usize,
    /// One summary per scanned category (of the last push).
    pub scans: Vec<Summary>,
    /// The crawl of the local mirrors.
    pub crawl: mirrorvane_crawler::Report,
    /// Per local mirror: (name, what the crawl found, whether it is in the answers).
    pub mirrors: Vec<(String, String)>,
    /// The local mirrors' servers: they serve as long as this lives.
    pub local: local::LocalMirrors,
}

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Builds the demo in `dir`: starts the local mirrors, applies the network's inventory to `db`, pushes the
/// primary tree (`dir/primary`) three times with a scan after each — the stale mirror syncs after the first, the
/// others after the last — crawls the local mirrors and builds the snapshot (created at `now`).
pub async fn prepare(db: &Database, network: &Snapshot, dir: &Path, now: u64) -> anyhow::Result<Prepared> {
    let primary = dir.join("primary");
    let mirrors = dir.join("mirrors");
    let local = local::start(&mirrors).await?;
    let mut desired = inventory::from_network(network);
    desired.sites.push(local::site(&local, tree::CATEGORIES));
    let current = store::load(db).await?;
    let changes = diff(&current, &desired, Prune::No);
    store::apply(db, &changes, "mirrorvane demo")
        .await
        .context("applying the demo inventory")?;
    let mut scans = Vec::new();
    for (push, at) in [now - 2 * DAY, now - DAY, now - HOUR].into_iter().enumerate() {
        tree::write(&primary, at).with_context(|| format!("writing {}", primary.display()))?;
        scans.clear();
        for (name, _, topdir) in tree::CATEGORIES {
            let source = Source::Disk {
                path: primary.join(topdir),
            };
            let mut options = ScanOptions::new(now as i64);
            options.started = Some(now as i64);
            scans.push(
                scan_category(db, name, &source, &options)
                    .await
                    .with_context(|| format!("scanning {name}"))?,
            );
        }
        if push == 0 {
            local::sync(&mirrors, "stale", &primary)?;
        }
    }
    local::sync(&mirrors, "fresh", &primary)?;

    let mut options =
        mirrorvane_crawler::Options::new("demo".into(), crate::commands::crawl::DEFAULT_USER_AGENT.into());
    options.filter.hosts = local::NAMES.iter().map(|n| (*n).to_owned()).collect();
    options.request_timeout = std::time::Duration::from_secs(5);
    // `localhost` is 127.0.0.1 and ::1 (some /etc/hosts leave ::1 out): the crawl tells which one answers.
    let mut loopback = vec![std::net::IpAddr::from([127, 0, 0, 1])];
    if local.ipv6 {
        loopback.push(std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
    }
    options.names = mirrorvane_crawler::Names::with_fixed([("localhost".to_owned(), loopback)].into());
    options.retries = 1;
    let crawl = mirrorvane_crawler::crawl(db, &options, &|_, _, _, _| {})
        .await
        .context("crawling the local mirrors")?;
    let mirrors = describe(db).await?;
    let built = builder::build(
        db,
        builder::Options {
            created: now,
            resolve_names: false,
        },
    )
    .await?;
    Ok(Prepared {
        built,
        changes: changes.len(),
        scans,
        crawl,
        mirrors,
        local,
    })
}

/// What the crawl found of each local mirror, from the database.
async fn describe(db: &Database) -> anyhow::Result<Vec<(String, String)>> {
    let mut conn = db.acquire().await?;
    let mut out = Vec::new();
    for name in local::NAMES {
        let Some(id) = mirrorvane_db::crawl::host_id(&mut conn, name).await? else {
            continue;
        };
        let (v4, v6) = mirrorvane_db::sites::reachability(&mut conn, id).await?;
        let mut fresh = 0;
        let mut stale = 0;
        for hc in mirrorvane_db::crawl::host_categories(&mut conn, Some(id)).await? {
            fresh += mirrorvane_db::crawl::directory_set(&mut conn, hc.up2date_set_id)
                .await?
                .len();
            stale += mirrorvane_db::crawl::directory_set(&mut conn, hc.stale_set_id)
                .await?
                .len();
        }
        let families = match (v4.map(bool::from), v6.map(bool::from)) {
            (Some(true), Some(true)) => "IPv4 and IPv6",
            (Some(true), _) => "IPv4 only",
            (_, Some(true)) => "IPv6 only",
            _ => "unreachable",
        };
        out.push((
            name.to_owned(),
            format!("{fresh} directories up to date, {stale} not; answers over {families}"),
        ));
    }
    Ok(out)
}
