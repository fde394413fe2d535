//! `mirrorvane import-mm2 --from postgres://…`: copy a MirrorManager2 database into our empty database.

use anyhow::Context;

use crate::db::{Database, redact};
use crate::import::mm2db;

/// Arguments of `mirrorvane import-mm2`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The MirrorManager2 PostgreSQL database to read (`postgres://USER@HOST/mirrormanager`); only read.
    #[arg(long = "from", value_name = "URL")]
    pub from: String,
}

/// Imports, then prints each skipped row and note on stderr and the summary line on stdout.
pub async fn run(db: &Database, args: &Args) -> anyhow::Result<()> {
    let report = mm2db::import(db, &args.from)
        .await
        .with_context(|| format!("cannot import {} into {}", redact(&args.from), db.url()))?;
    for line in &report.skipped {
        eprintln!("skipped: {line}");
    }
    for line in &report.notes {
        eprintln!("note: {line}");
    }
    println!("{}", report.summary());
    Ok(())
}
