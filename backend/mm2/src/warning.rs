//! Things a conversion tolerated: data it dropped, defaulted or found inconsistent.
//!
//! A cache written by MirrorManager's generator should produce none; each one names what was done so an
//! operator can judge whether the snapshot still says what the cache meant.

/// One tolerated oddity of the input cache.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Warning {
    /// A host id that does not fit Mirrorvane's `u32` ids; every mention of it is dropped.
    #[error("host id {id} (in {map}) is out of range; ignored")]
    HostIdOutOfRange {
        /// The id.
        id: i64,
        /// The field it was first seen in.
        map: &'static str,
    },
    /// A map key listed twice; the first entry is used.
    #[error("{map}: key {key:?} listed more than once; the first entry is kept")]
    DuplicateKey {
        /// The field.
        map: &'static str,
        /// The key.
        key: String,
    },
    /// A host's country is not a two-letter code.
    #[error("host {host}: country {value:?} is not a country code; the host gets no country")]
    InvalidCountry {
        /// MirrorManager host id.
        host: u32,
        /// The value.
        value: String,
    },
    /// A host has no bandwidth (MirrorManager would weigh it 0).
    #[error("host {host}: no bandwidth in HostBandwidthCache; weight 1 assumed")]
    MissingBandwidth {
        /// MirrorManager host id.
        host: u32,
    },
    /// An ASN that is not a 32-bit number.
    #[error("HostAsnCache: ASN {value} is not a 32-bit AS number; ignored")]
    InvalidAsn {
        /// The value.
        value: i64,
    },
    /// An allowed-country entry that is not a two-letter code.
    #[error("host {host}: allowed country {value:?} is not a country code; ignored")]
    InvalidAllowedCountry {
        /// MirrorManager host id.
        host: u32,
        /// The value.
        value: String,
    },
    /// A URL with a control character or whitespace: it would inject lines into mirrorlists.
    #[error("HCUrlCache entry {id}: URL {url} holds a control character or whitespace; skipped")]
    UnsafeUrl {
        /// The hcurl id.
        id: i64,
        /// The URL, escaped.
        url: String,
    },
    /// A hcurl id with no URL in HCUrlCache.
    #[error("host {host}, category {category:?}: hcurl id {id} has no entry in HCUrlCache; URL skipped")]
    UnknownHcUrl {
        /// MirrorManager host id.
        host: u32,
        /// Category top directory.
        category: String,
        /// The hcurl id.
        id: i64,
    },
    /// One host shows different URLs in two directories of the same category.
    #[error(
        "host {host}, category {category:?}: directory {directory:?} lists other URLs than an earlier \
         directory; the first list is kept"
    )]
    InconsistentUrls {
        /// MirrorManager host id.
        host: u32,
        /// Category top directory.
        category: String,
        /// The directory that disagreed.
        directory: String,
    },
    /// A host is in a directory's Global/ByCountry lists without ByHostId, yet has URLs in another directory of
    /// the category: MirrorManager would not list it there, Mirrorvane will.
    #[error(
        "host {host}: counted in {directory:?} without URLs there, but it has URLs elsewhere in the category; \
         it will be listed for that directory"
    )]
    CountedWithoutUrls {
        /// MirrorManager host id.
        host: u32,
        /// The directory.
        directory: String,
    },
    /// ByCountry is not Global partitioned by host country (Mirrorvane derives it, so it will differ).
    #[error("directory {directory:?}: ByCountry differs from Global grouped by host country; derived lists used")]
    ByCountryMismatch {
        /// The directory.
        directory: String,
    },
    /// A directory listed twice in MirrorListCache.
    #[error("directory {name:?} listed more than once in MirrorListCache; the first entry is kept")]
    DuplicateDirectory {
        /// The directory.
        name: String,
    },
    /// A RepoArchToDirectoryName key without exactly one `+` (MirrorManager does not list it either).
    #[error("RepoArchToDirectoryName: key {key:?} is not \"prefix+arch\" with exactly one '+'; ignored")]
    InvalidRepositoryKey {
        /// The key.
        key: String,
    },
    /// A reference to a directory that MirrorListCache does not have.
    #[error("{map}: directory {name:?} is not in MirrorListCache; entry ignored")]
    UnknownDirectory {
        /// The field.
        map: &'static str,
        /// The directory.
        name: String,
    },
    /// A network that does not parse.
    #[error("{map}: {value:?} is not a network; ignored")]
    InvalidNetwork {
        /// The field.
        map: &'static str,
        /// The value.
        value: String,
    },
    /// A country or continent that is not a two-letter code.
    #[error("{map}: {value:?} is not a two-letter code; entry ignored")]
    InvalidCode {
        /// The field.
        map: &'static str,
        /// The value.
        value: String,
    },
}
