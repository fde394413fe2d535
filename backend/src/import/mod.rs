//! Moving an existing MirrorManager deployment's data into Mirrorvane's database.
//!
//! - [`from_snapshot`]: from a MirrorManager mirrorlist cache (converted first by [`crate::mm2::convert`]), for
//!   a deployment whose database is out of reach, and to seed benchmarks with Fedora-scale data.

pub mod from_snapshot;
