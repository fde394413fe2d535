//! Mirrorvane's crawler: knows which mirrors are fresh.
//!
//! A run ([`crawl`]) takes the public hosts in service, shares them with every other crawler process on the same
//! database through leases, and crawls each: whether it answers over IPv4 and over IPv6, then each category by
//! the cheapest method that works — one `rsync --list-only -r` for the whole category, else `HEAD` per file of
//! the scanner's short lists and `GET` per `repomd.xml` — compared with what the scanner recorded
//! ([`plan`]). A `repomd.xml` of the newest push or of the pushes before it that dnf still accepts through the
//! metalink's alternates counts as up to date; a `repodata` directory is judged by it alone. Each host's results
//! (directory state, bookkeeping, auto-disable after repeated failures, the `repomd.xml` versions seen and a log)
//! are written as it finishes; [`propagation`] counts the versions seen into statistics.
//!
//! What it is not: the scanner of the primary tree (`mirrorvane-scan`) or the check-in of private mirrors
//! (`mirrorvane-web`). All SQL is `mirrorvane_db::crawl`'s.

pub mod host;
pub mod http;
pub mod judge;
pub mod log;
pub mod names;
pub mod plan;
pub mod propagation;
pub mod rsync;
pub mod run;

pub use host::Outcome;
pub use names::{Family, Names};
pub use run::{Options, Report, auto_disable_reason, crawl};

/// Why a crawl could not run (a host's trouble is never an error: it is the host's outcome).
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// The database failed.
    #[error(transparent)]
    Db(mirrorvane_db::DbError),
    /// An option cannot be used (an unreadable CA file, a bad User-Agent).
    #[error("{0}")]
    Config(String),
}
