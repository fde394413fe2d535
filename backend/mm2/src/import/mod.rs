//! Moving an existing MirrorManager deployment's data into Mirrorvane's database.
//!
//! - [`from_snapshot`]: from a MirrorManager mirrorlist cache (converted first by [`crate::convert`]), for
//!   a deployment whose database is out of reach, and to seed benchmarks with Fedora-scale data.
//! - [`mm2db`]: from a MirrorManager2 PostgreSQL database, the whole inventory with its ids.

pub mod from_snapshot;
pub mod mm2db;
