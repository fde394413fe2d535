//! `mirrorvane apply -f inventory.toml [--dry-run] [--prune]` and `mirrorvane export [-o FILE]`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::db::Database;
use crate::inventory::store::{self, ApplyReport};
use crate::inventory::{Change, Inventory, KnownNames, Prune, diff_with, parse, to_toml, url_conflicts};
use crate::write::write_atomically;

/// Arguments of `mirrorvane apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    /// Inventory file to apply.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: PathBuf,
    /// Print the changes and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove sites, hosts and country data the file does not list.
    #[arg(long)]
    pub prune: bool,
}

/// Arguments of `mirrorvane export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// File to write (atomically); standard output when absent.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
}

/// What an apply did (or, for a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct ApplyOutcome {
    pub changes: Vec<Change>,
    /// `None` for a dry run or when there was nothing to do.
    pub report: Option<ApplyReport>,
}

/// `mirrorvane apply`, printing to standard output.
pub async fn run_apply(db: &Database, args: &ApplyArgs) -> anyhow::Result<()> {
    apply_file(db, args, &mut std::io::stdout().lock()).await.map(|_| ())
}

/// `mirrorvane apply`, printing to `out`: one line per change, then a summary.
pub async fn apply_file(db: &Database, args: &ApplyArgs, out: &mut dyn Write) -> anyhow::Result<ApplyOutcome> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let current = store::load(db).await?;
    let name = args.file.display().to_string();
    // The parse errors are the whole message (one `file:line:column: …` per line).
    let desired = parse(&name, &text, &KnownNames::of(&current)).map_err(anyhow::Error::new)?;
    let prune = if args.prune { Prune::Yes } else { Prune::No };
    apply_inventory(db, &current, &desired, prune, args.dry_run, out).await
}

/// Diffs `desired` against `current` (as [`store::load`] returned it), prints and (unless `dry_run`) stores.
pub async fn apply_inventory(
    db: &Database,
    current: &Inventory,
    desired: &Inventory,
    prune: Prune,
    dry_run: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ApplyOutcome> {
    let changes = diff_with(current, desired, prune, &store::password_matches);
    if changes.is_empty() {
        writeln!(out, "no changes")?;
        return Ok(ApplyOutcome { changes, report: None });
    }
    for change in &changes {
        writeln!(out, "{change}")?;
    }
    if dry_run {
        let conflicts = url_conflicts(current, &changes);
        if !conflicts.is_empty() {
            return Err(store::StoreError::UrlConflicts(conflicts).into());
        }
        writeln!(
            out,
            "dry run: {} not applied",
            super::count(changes.len(), "change", "changes")
        )?;
        return Ok(ApplyOutcome { changes, report: None });
    }
    let report = store::apply(db, &changes, "mirrorvane apply").await?;
    writeln!(
        out,
        "applied {}: {} added, {} updated, {} removed",
        super::count(report.total(), "change", "changes"),
        report.added,
        report.updated,
        report.removed
    )?;
    Ok(ApplyOutcome {
        changes,
        report: Some(report),
    })
}

/// The stored inventory as the file format, passwords left out. An empty database exports a comment saying so
/// (an empty output would look like a failure).
pub async fn export_text(db: &Database) -> anyhow::Result<String> {
    let mut inv = store::load(db).await?;
    if inv == Inventory::default() {
        return Ok(format!(
            "# {} holds no inventory yet. Add one with `mirrorvane apply -f FILE` (examples/inventory.toml,\n\
             # docs/inventory.md) or `mirrorvane site add` / `mirrorvane host add`.\n",
            db.url()
        ));
    }
    store::strip_passwords(&mut inv);
    Ok(to_toml(&inv))
}

/// `mirrorvane export`.
pub async fn run_export(db: &Database, args: &ExportArgs) -> anyhow::Result<()> {
    let text = export_text(db).await?;
    match &args.output {
        Some(path) => {
            write_atomically(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}
