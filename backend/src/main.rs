//! `mirrorvane`: the operator's command line. Parses arguments, sets up logging, dispatches to
//! [`mirrorvane_backend::commands`]. Exit code 0 on success, 1 on any error (printed with its causes).

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use mirrorvane_backend::commands::{demo, snapshot};
use tracing_subscriber::EnvFilter;

/// Mirrorvane: a mirrorlist/metalink server for MirrorManager data.
#[derive(Debug, Parser)]
#[command(name = "mirrorvane", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Subcommands. New ones (serve, demo, init, …) are added here as their modules land.
#[derive(Debug, Subcommand)]
enum Command {
    /// Build a snapshot file (today: by converting a MirrorManager mirrorlist cache).
    Snapshot(snapshot::Args),
    /// Serve a realistic synthetic mirror network on 127.0.0.1 with a bundled GeoIP test database.
    Demo(demo::Args),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match Cli::parse().command {
        Command::Snapshot(args) => {
            let outcome = snapshot::run(&args)?;
            for line in snapshot::warning_lines(&outcome.warnings) {
                eprintln!("{line}");
            }
            println!("{}", outcome.summary());
        }
        Command::Demo(args) => demo::run(&args)?,
    }
    Ok(())
}
