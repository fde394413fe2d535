//! `mirrorvane move-devel-to-release` and `mirrorvane move-to-archive`: MirrorManager's release tools
//! (reference §7) over our database, printing MirrorManager's lines.

use crate::db::Database;
use crate::release::{self, Outcome, Selection, Stream};

/// Arguments of `mirrorvane move-devel-to-release`.
#[derive(Debug, Clone, clap::Args)]
pub struct MoveDevelToReleaseArgs {
    /// Version to move from the development tree to the release tree (e.g. `41`).
    #[arg(long, value_name = "V")]
    pub version: String,
    /// Category whose repositories move (e.g. `Fedora Linux`).
    #[arg(long, value_name = "C")]
    pub category: String,
    /// Print what would move; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `mirrorvane move-to-archive`: `--product P --version V` or `--repository PREFIX`.
#[derive(Debug, Clone, clap::Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["product", "repository"]))]
pub struct MoveToArchiveArgs {
    /// Product of the version to archive (e.g. `Fedora`).
    #[arg(long, value_name = "P", requires = "version")]
    pub product: Option<String>,
    /// Version to archive (e.g. `26`).
    #[arg(long, value_name = "V", requires = "product")]
    pub version: Option<String>,
    /// Archive the repositories with this prefix instead (e.g. `updates-testing-f26`).
    #[arg(long, value_name = "PREFIX", conflicts_with_all = ["product", "version"])]
    pub repository: Option<String>,
    /// The archive category.
    #[arg(long, value_name = "C", default_value = release::DEFAULT_ARCHIVE_CATEGORY)]
    pub archive_category: String,
    /// Print what would move; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `move-devel-to-release`; an error (unknown category or version) changes nothing.
pub async fn run_move_devel_to_release(db: &Database, args: &MoveDevelToReleaseArgs) -> anyhow::Result<()> {
    let outcome = release::move_devel_to_release(db, &args.version, &args.category, args.dry_run).await?;
    print(&outcome);
    Ok(())
}

/// Runs `move-to-archive`; an error (unknown product, version or category, missing archive directory) changes
/// nothing.
pub async fn run_move_to_archive(db: &Database, args: &MoveToArchiveArgs) -> anyhow::Result<()> {
    let selection = match (&args.product, &args.version, &args.repository) {
        (_, _, Some(prefix)) => Selection::Prefix(prefix.clone()),
        (Some(product), Some(version), None) => Selection::Version {
            product: product.clone(),
            version: version.clone(),
        },
        // clap enforces the group; a caller building Args by hand gets a message, not a panic.
        _ => anyhow::bail!("give --product P --version V, or --repository PREFIX"),
    };
    let outcome = release::move_to_archive(db, &selection, &args.archive_category, args.dry_run).await?;
    print(&outcome);
    Ok(())
}

fn print(outcome: &Outcome) {
    for m in &outcome.messages {
        match m.stream {
            Stream::Out => println!("{}", m.text),
            Stream::Err => eprintln!("{}", m.text),
        }
    }
    if outcome.dry_run {
        eprintln!(
            "dry run: {} repositories would move; nothing changed",
            outcome.moves.len()
        );
    }
}
