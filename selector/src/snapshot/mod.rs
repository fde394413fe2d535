//! The snapshot: everything a decision needs, as one immutable value.
//!
//! The backend builds it (or `mirrorvane snapshot --from-mm2-cache` converts MirrorManager's protobuf cache),
//! edges load it. It is deliberately *normalised* where MirrorManager's cache is not: a directory points to a
//! shared [`HostSet`] instead of carrying its own host lists, URLs live once per [`HostCategory`] instead of once
//! per directory, and country lists are not stored at all (they follow from each host's country).
//!
//! Identifiers ([`HostId`], [`DirectoryId`], …) are indexes into the vectors of [`Snapshot`]; the numbers the
//! operators know (MirrorManager's host ids) are kept in [`Host::id`]. [`crate::Selector::new`] checks every
//! index, so a snapshot that decodes but points nowhere is refused, never a panic later.

mod codec;
mod host_set;
mod stats;

pub use codec::{
    FORMAT_VERSION, HEADER_LEN, MAGIC, SIGNATURE_LEN, SIGNATURE_MAGIC, Signed, SnapshotError, decode, encode,
    read_header, signed, unsigned,
};
pub use host_set::HostSet;
pub use stats::Stats;

use alloc::string::String;
use alloc::vec::Vec;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::codes::{ContinentCode, CountryCode};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The position in its vector.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id!(
    /// Index into [`Snapshot::hosts`].
    HostId
);
id!(
    /// Index into [`Snapshot::categories`].
    CategoryId
);
id!(
    /// Index into [`Snapshot::host_categories`].
    HostCategoryId
);
id!(
    /// Index into [`Snapshot::host_sets`].
    HostSetId
);
id!(
    /// Index into [`Snapshot::directories`].
    DirectoryId
);

/// Everything the selector reads. Immutable once loaded; a reload replaces the whole value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Creation time, seconds since the Unix epoch (MirrorManager's `Time`; printed by `&time=1`).
    pub created: u64,
    /// Every host that appears anywhere below.
    pub hosts: Vec<Host>,
    /// Content categories (`Fedora Linux`, `Fedora EPEL`, …) with their top directory.
    pub categories: Vec<Category>,
    /// A host's membership of a category, with its public URLs. Sorted by (category, host).
    pub host_categories: Vec<HostCategory>,
    /// Sets of host categories that carry a directory, shared by every directory with the same set.
    pub host_sets: Vec<HostSet>,
    /// Every directory of every category.
    pub directories: Vec<Directory>,
    /// `repo=` + `arch=` → directory.
    pub repositories: Vec<Repository>,
    /// Repository prefixes answered with `repo disabled` (all arches).
    pub disabled_prefixes: Vec<String>,
    /// `repo=` aliases (e.g. `fedora-rawhide` → `rawhide`).
    pub repository_redirects: Vec<RepositoryRedirect>,
    /// Size, timestamp and hashes of files served through metalinks (`repomd.xml`, ISOs, …).
    pub files: Vec<FileEntry>,
    /// Client networks a host prefers to serve (its own networks, a campus, a cloud region).
    pub host_netblocks: Vec<HostNetblock>,
    /// Client networks whose country is forced, overriding GeoIP.
    pub netblock_countries: Vec<NetblockCountry>,
    /// Country → continent assignments that override the built-in table.
    pub continent_overrides: Vec<ContinentOverride>,
}

/// A mirror host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// The operators' identifier (MirrorManager's `host.id`).
    pub id: u32,
    /// Fully qualified name, for explanations and logs.
    pub name: String,
    /// Where the host is; `None` puts it in no country list (it can still be reached by netblock, ASN or the
    /// global list).
    pub country: Option<CountryCode>,
    /// Weight of the bandwidth-weighted shuffle, 1..=10000 (MirrorManager clamps `bandwidth_int` likewise).
    pub bandwidth: u32,
    /// Private hosts are offered only to clients in their netblocks or ASNs, and marked `mm0:private`.
    pub private: bool,
    /// Clients whose origin AS is one of these get this host first (MirrorManager's `asn` with `asn_clients`,
    /// plus peer ASNs when the backend provides them).
    pub asns: Vec<u32>,
    /// When non-empty, only clients located in one of these countries are offered the host.
    pub allowed_countries: Vec<CountryCode>,
    /// Reachability per address family, as measured by crawlers; `None` = not measured.
    pub reachability: Reachability,
}

/// Measured reachability of a host per address family, as the crawlers found it. Within each tier the selector
/// puts hosts known not to answer over the client's family last (see [`crate::Selector::set_family_preference`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reachability {
    /// Reachable over IPv4.
    pub ipv4: Option<bool>,
    /// Reachable over IPv6.
    pub ipv6: Option<bool>,
}

/// A content category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// Display name (`Fedora Linux`).
    pub name: String,
    /// Directory name of the category's top (`pub/fedora/linux`), possibly empty. Each URL of a
    /// [`HostCategory`] points at this directory on the mirror.
    pub topdir: String,
}

/// A host carrying a category, with the URLs under which the category's top directory is published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostCategory {
    /// The host.
    pub host: HostId,
    /// The category.
    pub category: CategoryId,
    /// Public URLs in the operator's order; may be empty (then the host is counted but never listed, as in
    /// MirrorManager).
    pub urls: Vec<String>,
}

/// A directory of the primary tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    /// Full name without leading `/` (`pub/fedora/linux/releases/41/Everything/x86_64/os`).
    pub name: String,
    /// The category whose tree contains it; its `topdir` is a prefix of `name`.
    pub category: CategoryId,
    /// The host categories that carry this directory up to date.
    pub hosts: HostSetId,
}

/// A dnf repository: `repo=<prefix>&arch=<arch>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// The `repo=` value (`fedora-41`, `updates-released-f41`, `epel-9`).
    pub prefix: String,
    /// The `arch=` value.
    pub arch: String,
    /// Where it lives.
    pub directory: DirectoryId,
}

/// A `repo=` alias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepositoryRedirect {
    /// The name clients send.
    pub from: String,
    /// The prefix it means.
    pub to: String,
}

/// Metalink data of one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Containing directory.
    pub directory: DirectoryId,
    /// File name (`repomd.xml`).
    pub name: String,
    /// Newest first: the first is the current file, the others are metalink *alternates* (a mirror one push
    /// behind still serves a file dnf accepts).
    pub details: Vec<FileDetail>,
}

/// One version of a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileDetail {
    /// Seconds since the epoch (for `repomd.xml`, the newest `<timestamp>` inside it); 0 = unknown.
    pub timestamp: u64,
    /// Bytes; 0 = unknown.
    pub size: u64,
    /// MD5 digest.
    pub md5: Option<Digest>,
    /// SHA-1 digest.
    pub sha1: Option<Digest>,
    /// SHA-256 digest.
    pub sha256: Option<Digest>,
    /// SHA-512 digest.
    pub sha512: Option<Digest>,
}

/// A digest: raw bytes (printed as lower-case hex) or, for whatever text a source database holds that is not
/// lower-case hex, that text verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Digest {
    /// Printed as lower-case hex.
    Bytes(Vec<u8>),
    /// Printed as is.
    Text(String),
}

impl Digest {
    /// Keeps lower-case hex compactly as bytes and anything else as text, so printing gives back `s`.
    pub fn from_text(s: &str) -> Digest {
        let b = s.as_bytes();
        let lower_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if !b.is_empty() && b.len().is_multiple_of(2) && b.iter().all(|&c| lower_hex(c)) {
            let nibble = |c: u8| {
                if c.is_ascii_digit() { c - b'0' } else { c - b'a' + 10 }
            };
            Digest::Bytes(b.chunks(2).map(|p| nibble(p[0]) << 4 | nibble(p[1])).collect())
        } else {
            Digest::Text(String::from(s))
        }
    }

    /// True when the printed form is empty.
    pub fn is_empty(&self) -> bool {
        match self {
            Digest::Bytes(b) => b.is_empty(),
            Digest::Text(t) => t.is_empty(),
        }
    }

    /// Appends the printed form to `out`.
    pub fn write_to(&self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match self {
            Digest::Bytes(bytes) => {
                for b in bytes {
                    out.push(HEX[(b >> 4) as usize] as char);
                    out.push(HEX[(b & 15) as usize] as char);
                }
            }
            Digest::Text(t) => out.push_str(t),
        }
    }

    /// The printed form.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_to(&mut s);
        s
    }
}

/// A client network that a host serves first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostNetblock {
    /// The network (host bits are ignored).
    pub network: IpNet,
    /// Hosts serving it.
    pub hosts: Vec<HostId>,
}

/// A client network whose country is fixed by the operators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetblockCountry {
    /// The network.
    pub network: IpNet,
    /// The country clients in it are treated as.
    pub country: CountryCode,
}

/// A country whose continent differs from the built-in table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinentOverride {
    /// The country.
    pub country: CountryCode,
    /// Its continent.
    pub continent: ContinentCode,
}
