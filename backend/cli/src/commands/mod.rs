//! The `mirrorvane` subcommands, as library code so tests and other shells can call them.
//!
//! Each subcommand is one module with an `Args` struct (clap derive) and a `run` function; `main.rs` only
//! parses, sets up logging and dispatches.

pub mod account;
pub mod crawl;
#[cfg(feature = "demo")]
pub mod demo;
pub mod import_cache;
pub mod import_mm2;
pub mod inventory;
pub mod keygen;
pub mod locate;
pub mod release;
pub mod report;
pub mod scan;
pub mod serve;
pub mod sites;
pub mod snapshot;
pub mod stats;

/// `1 change`, `2 changes`: a count with its noun in the right number.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
