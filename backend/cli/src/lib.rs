//! The `mirrorvane` command as a library, so tests and other shells can call the subcommands: one module per
//! subcommand under [`commands`], the release-day repository moves ([`release`]) and the demo world ([`demo`],
//! feature `demo`).
//!
//! The work itself lives in the backend's crates — `mirrorvane-db` (schema, rows, queries), `mirrorvane-scan`,
//! `mirrorvane-inventory`, `mirrorvane-mm2`, `mirrorvane-builder` — re-exported here under short names for
//! the command modules.

pub mod commands;
#[cfg(feature = "demo")]
pub mod demo;
pub mod release;

pub use mirrorvane_builder as builder;
pub use mirrorvane_builder::write;
pub use mirrorvane_db as db;
pub use mirrorvane_inventory as inventory;
pub use mirrorvane_mm2 as mm2;
pub use mirrorvane_mm2::import;
pub use mirrorvane_scan as scan;
