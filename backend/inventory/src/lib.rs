//! Inventory as code: the mirror network's configuration (products, categories, sites, hosts, URLs,
//! netblocks, ASNs, country data) as a human-written TOML file.
//!
//! `mirrorvane apply -f inventory.toml` = [`parse`] the file, load the database's [`Inventory`], [`diff`] them
//! (printed for a dry run, with [`url_conflicts`]) and store the changes; `mirrorvane export` = load and [`to_toml`]. Only
//! [`store`] touches the database; the rest owns the format, the model, validation, the diff and rendering.

pub mod conflicts;
pub mod diff;
pub mod edit;
pub mod error;
pub mod format;
pub mod model;
pub mod policy;
pub mod render;
pub mod store;
pub mod validate;

#[cfg(test)]
mod tests;

pub use conflicts::{UrlConflict, url_conflicts};
pub use diff::{Change, Entity, Key, Prune, Value, diff, diff_with};
pub use error::{InventoryError, InventoryErrors, Problem};
pub use format::{KnownNames, parse};
pub use model::*;
pub use render::to_toml;
