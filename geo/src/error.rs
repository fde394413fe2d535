//! Typed failures of loading and looking up geo data.
//!
//! Loading errors are fatal at start-up (MirrorManager exits too); lookup errors only ever turn into
//! "unknown" on the request path, but are kept typed so tests and diagnostics can tell them apart.

use std::io;
use std::net::IpAddr;

/// Why geo data could not be loaded or looked up. `source` names the file, or `<memory>` for byte input.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The file could not be read.
    #[error("cannot read {source_name}: {error}")]
    Io {
        /// The file.
        source_name: String,
        /// What the OS said.
        #[source]
        error: io::Error,
    },
    /// No MaxMind DB metadata marker: not a MaxMind DB at all (or cut short).
    #[error("{source_name} is not a MaxMind DB (no metadata marker in its last 128 KiB)")]
    NotMaxMindDb {
        /// The file.
        source_name: String,
    },
    /// Has the marker, but its metadata, search tree or data section is broken.
    #[error("{source_name} is a corrupt MaxMind DB: {error}")]
    CorruptMaxMindDb {
        /// The file.
        source_name: String,
        /// What the reader found.
        #[source]
        error: maxminddb::MaxMindDbError,
    },
    /// A valid MaxMind DB whose records carry no country (e.g. an ASN database given as the country database).
    #[error("{source_name}: database type {database_type:?} has no country data")]
    NoCountryData {
        /// The file.
        source_name: String,
        /// `database_type` from its metadata.
        database_type: String,
    },
    /// A valid MaxMind DB whose records carry no `autonomous_system_number`.
    #[error("{source_name}: database type {database_type:?} has no ASN data")]
    NoAsnData {
        /// The file.
        source_name: String,
        /// `database_type` from its metadata.
        database_type: String,
    },
    /// A netblock list from which no IPv4 prefix could be loaded; MirrorManager refuses to start then too.
    #[error("{source_name}: no IPv4 prefix loaded ({ipv6} IPv6 prefixes, {skipped} lines skipped)")]
    NoIpv4Prefixes {
        /// The file.
        source_name: String,
        /// IPv6 prefixes that did load.
        ipv6: usize,
        /// Lines that did not parse.
        skipped: usize,
    },
    /// A lookup failed inside the database (corrupt record, or an IPv6 address in an IPv4-only database).
    #[error("lookup of {ip} failed: {error}")]
    Lookup {
        /// The address looked up.
        ip: IpAddr,
        /// What the reader found.
        #[source]
        error: maxminddb::MaxMindDbError,
    },
}
