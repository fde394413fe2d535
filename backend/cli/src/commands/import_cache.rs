//! `mirrorvane import-mm2-cache PATH`: seed an empty database from a MirrorManager mirrorlist cache, for a
//! deployment whose MirrorManager database is out of reach (and for Fedora-scale benchmarks).

use std::path::PathBuf;

use anyhow::Context as _;

use crate::db::Database;
use crate::import::from_snapshot;
use crate::mm2;

/// Arguments of `mirrorvane import-mm2-cache`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The cache (`mirrorlist_cache.proto`, gzip detected).
    #[arg(value_name = "PATH")]
    pub cache: PathBuf,
    /// Product the imported categories belong to (a cache does not name it).
    #[arg(long, default_value = "Fedora")]
    pub product: String,
}

/// Converts the cache and writes it into `db`; prints what was skipped and a summary line.
pub async fn run(db: &Database, args: &Args) -> anyhow::Result<from_snapshot::Report> {
    let cache = mm2::load(&args.cache)?;
    let conversion =
        mm2::convert(&cache).with_context(|| format!("cannot convert MirrorManager cache {}", args.cache.display()))?;
    drop(cache);
    let report = from_snapshot::import(db, &conversion.snapshot, &args.product).await?;
    for s in &report.skipped {
        eprintln!("skipped: {s}");
    }
    println!(
        "imported {} hosts, {} directories, {} host categories ({} distinct directory sets), {} repositories, \
         {} file details into {}",
        report.hosts,
        report.directories,
        report.host_categories,
        report.directory_sets,
        report.repositories,
        report.file_details,
        db.url()
    );
    Ok(report)
}
