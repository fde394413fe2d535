//! `mirrorvane`: the operator's command line. Parses arguments, sets up logging, dispatches to
//! [`mirrorvane_backend::commands`]. Exit code 0 on success, 1 on any error (printed with its causes).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
#[cfg(feature = "demo")]
use mirrorvane_backend::commands::demo;
use mirrorvane_backend::commands::{
    account, crawl, import_cache, import_mm2, inventory, keygen, locate, release, report, scan, serve, sites, snapshot,
    stats,
};
use mirrorvane_backend::db::{DATABASE_URL_ENV, DEFAULT_DATABASE_URL, Database};
use tracing_subscriber::EnvFilter;

/// Mirrorvane: decides which mirrors every dnf/yum client gets, and proves they are fresh.
#[derive(Debug, Parser)]
#[command(name = "mirrorvane", version, about)]
struct Cli {
    /// Database URL: sqlite://PATH (the embedded default) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = DATABASE_URL_ENV, default_value = DEFAULT_DATABASE_URL)]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database or bring its schema up to date (every command also does this on start).
    Init,
    /// Scan the primary mirror tree of categories (disk, fullfiletimelist, rsync listing) into the database.
    Scan(scan::Args),
    /// Crawl the public mirrors over rsync, HTTP and HTTPS and record which directories are up to date.
    Crawl(crawl::Args),
    /// Print a host's last crawl log (or every kept one).
    CrawlLog(crawl::LogArgs),
    /// Count how many mirrors serve each followed repository's newest repomd.xml (or show stored counts).
    Propagation(crawl::PropagationArgs),
    /// Make a key for signing snapshots: the secret key to a file, the public key (for edges) printed.
    Keygen(keygen::Args),
    /// Check in a private mirror: report the directories of its local tree (MirrorManager's report_mirror).
    Report(report::Args),
    /// List versions; mark which ones are current (propagation follows their repositories).
    #[command(subcommand)]
    Version(crawl::VersionCommand),
    /// Build a snapshot file from the database (or convert a MirrorManager cache with --from-mm2-cache).
    Snapshot(snapshot::Args),
    /// The backend's web service: the snapshot for edges (with ETags), private mirrors' check-ins (`/xmlrpc`,
    /// `/checkin/json`), crawl logs (`/crawler/HOST.log`); optionally rebuilds the snapshot.
    Serve(serve::Args),
    /// Apply an inventory file (sites, hosts, URLs, netblocks, categories, countries): idempotent, --dry-run
    /// shows the changes.
    Apply(inventory::ApplyArgs),
    /// Write the inventory in the format `apply` reads.
    Export(inventory::ExportArgs),
    /// Add, edit, disable, enable or remove one site.
    #[command(subcommand)]
    Site(sites::SiteCommand),
    /// Add, edit, disable, enable or remove one host.
    #[command(subcommand)]
    Host(sites::HostCommand),
    /// Place hosts on the map from a GeoIP2/GeoLite2 City database (MirrorManager's mm2_generate-worldmap).
    LocateHosts(locate::Args),
    /// Usage statistics: count edges' access logs (`stats ingest LOG…`, idempotent per file and day).
    #[command(subcommand)]
    Stats(stats::StatsCommand),
    /// Accounts of the web UI and the API: add, set a password, make an API token, list.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Import a MirrorManager2 database (postgres://…) into an empty database, reporting what was skipped.
    ImportMm2(import_mm2::Args),
    /// Point a version's repositories from development/V to releases/V (MirrorManager's mm2_move-devel-to-release).
    MoveDevelToRelease(release::MoveDevelToReleaseArgs),
    /// Point repositories at the archive category (MirrorManager's mm2_move-to-archive).
    MoveToArchive(release::MoveToArchiveArgs),
    /// Seed an empty database from a MirrorManager mirrorlist cache.
    ImportMm2Cache(import_cache::Args),
    /// Serve a realistic synthetic mirror network on 127.0.0.1 with a bundled GeoIP test database.
    #[cfg(feature = "demo")]
    Demo(demo::Args),
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line with the causes (`a: b: c`), MirrorManager's `Error: ` prefix, no backtrace even when
            // RUST_BACKTRACE is set for other reasons.
            eprintln!("Error: {}", causes(&e));
            ExitCode::FAILURE
        }
    }
}

/// `e` and its causes joined by `: `, leaving out a cause whose text its parent already ends with (sqlx and
/// reqwest print their source inside their own message: `… database: Connection refused (os error 111)` is
/// followed by `Connection refused (os error 111)`).
fn causes(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Logging unless `RUST_LOG` says otherwise: our info lines; PostgreSQL's notices (`relation … already exists,
/// skipping` on every start) only when they are warnings.
const DEFAULT_LOG: &str = "info,sqlx::postgres::notice=warn";

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    #[cfg(feature = "demo")]
    if let Command::Demo(args) = &cli.command {
        return demo::run(args);
    }
    if let Command::Keygen(args) = &cli.command {
        return keygen::run(args).map(drop);
    }
    if let Command::Report(args) = &cli.command {
        // A mirror's client: no database.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        return runtime.block_on(report::run(args)).map(drop);
    }
    if let Command::Snapshot(args) = &cli.command
        && args.from_mm2_cache.is_some()
    {
        let outcome = snapshot::run(args)?;
        for line in snapshot::warning_lines(&outcome.warnings) {
            eprintln!("{line}");
        }
        println!("{}", outcome.summary());
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start runtime")?;
    runtime.block_on(async {
        let db = Database::open(&cli.database).await?;
        match &cli.command {
            Command::Init => println!("database {} is ready", db.url()),
            Command::Snapshot(args) => {
                let built = snapshot::run_from_database(&db, args).await?;
                for w in &built.warnings {
                    eprintln!("warning: {w}");
                }
                println!("{}", built.summary());
            }
            Command::Scan(args) => drop(scan::run(&db, args).await?),
            Command::Crawl(args) => drop(crawl::run(&db, args).await?),
            Command::CrawlLog(args) => crawl::run_log(&db, args).await?,
            Command::Propagation(args) => crawl::run_propagation(&db, args).await?,
            Command::Version(cmd) => crawl::run_version(&db, cmd).await?,
            Command::Apply(args) => inventory::run_apply(&db, args).await?,
            Command::Export(args) => inventory::run_export(&db, args).await?,
            Command::Site(cmd) => sites::run_site(&db, cmd).await?,
            Command::Host(cmd) => sites::run_host(&db, cmd).await?,
            Command::Account(cmd) => account::run(&db, cmd).await?,
            Command::Stats(cmd) => stats::run(&db, cmd).await?,
            Command::LocateHosts(args) => {
                locate::run(&db, args).await?;
            }
            Command::ImportMm2(args) => import_mm2::run(&db, args).await?,
            Command::MoveDevelToRelease(args) => release::run_move_devel_to_release(&db, args).await?,
            Command::MoveToArchive(args) => release::run_move_to_archive(&db, args).await?,
            Command::ImportMm2Cache(args) => drop(import_cache::run(&db, args).await?),
            Command::Serve(args) => serve::run(db.clone(), args).await?,
            // Handled before the runtime starts (they need no database).
            #[cfg(feature = "demo")]
            Command::Demo(_) => {}
            Command::Report(_) | Command::Keygen(_) => {}
        }
        db.close().await;
        Ok(())
    })
}
