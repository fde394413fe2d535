//! The decision at the heart of Mirrorvane: given a snapshot of the mirror network and one dnf/yum request,
//! which mirrors does this client get, in which order, and in which bytes.
//!
//! ```text
//! snapshot bytes ──decode──▶ Snapshot ──Selector::new (validate + index)──▶ Selector
//! Request + Context (now, minimum, Locate, Random) ──Selector::handle──▶ Answer (status, headers, body, log line)
//! ```
//!
//! The crate is `no_std` + `alloc`: it does no I/O, reads no clock and owns no random generator. Everything that
//! varies between deployments — the client's location, the time, randomness — is passed in, so the same inputs
//! give the same bytes natively, in WASM and in tests. It answers exactly like MirrorManager's Rust
//! mirrorlist server except where that server has a known defect; `ARCHITECTURE.md` lists each difference.
//!
//! What this crate is not: an HTTP server (see `mirrorvane-edge`), a GeoIP reader (shells implement
//! [`Locate`]), or a database (see `mirrorvane-backend`, which builds snapshots).

#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod client;
pub mod codes;
mod decide;
mod handle;
mod index;
mod nearby;
pub mod prefix;
pub mod query;
pub mod random;
mod render;
pub mod snapshot;
pub mod time;
mod urls;

pub use client::{ClientGeo, Locate};
pub use codes::{ContinentCode, CountryCode};
pub use decide::{Decision, Tier};
pub use handle::{Answer, ContentType, Context, Kind, Request, Workspace};
pub use index::Selector;
pub use random::{Random, SeededRandom};
pub use snapshot::{Snapshot, SnapshotError};
