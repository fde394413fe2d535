//! The demo world on the real pipeline: a synthetic mirror network as an inventory, a small Fedora-like primary
//! tree on disk, and the steps an operator runs — apply the inventory, scan the tree, build the snapshot.

pub mod inventory;

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
    /// One summary per scanned category.
    pub scans: Vec<Summary>,
}

/// Writes the primary tree under `dir/primary`, applies the network's inventory to `db`, scans every demo
/// category and builds the snapshot (created at `now`).
pub async fn prepare(db: &Database, network: &Snapshot, dir: &Path, now: u64) -> anyhow::Result<Prepared> {
    let primary = dir.join("primary");
    tree::write(&primary, now.saturating_sub(3600)).with_context(|| format!("writing {}", primary.display()))?;
    let desired = inventory::from_network(network);
    let current = store::load(db).await?;
    let changes = diff(&current, &desired, Prune::No);
    store::apply(db, &changes)
        .await
        .context("applying the demo inventory")?;
    let mut scans = Vec::new();
    for (name, _, topdir) in tree::CATEGORIES {
        let source = Source::Disk {
            path: primary.join(topdir),
        };
        let options = ScanOptions::new(now as i64);
        scans.push(
            scan_category(db, name, &source, &options)
                .await
                .with_context(|| format!("scanning {name}"))?,
        );
    }
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
    })
}
