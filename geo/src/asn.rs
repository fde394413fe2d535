//! Origin autonomous system of an address, from either kind of file a deployment may have.
//!
//! MirrorManager reads `global_netblocks.txt` (see [`PrefixAsnTable`]); GeoLite2-ASN and ip-location-db's ASN
//! databases carry the same answer as a MaxMind DB ([`AsnDb`]). [`AsnSource::open`] tells them apart by
//! content, so the operator only passes a path.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::Reader;
use serde::Deserialize;

use crate::mmdb::{MEMORY, is_mmdb, open_reader, probe, read_file};
use crate::{GeoError, PrefixAsnTable};

/// A GeoLite2-ASN-style MaxMind DB (`autonomous_system_number` at the top level of each record).
pub struct AsnDb {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for AsnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsnDb")
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

#[derive(Deserialize)]
struct AsnRecord {
    #[serde(default)]
    autonomous_system_number: Option<u32>,
}

impl AsnDb {
    /// Loads the database at `path` into memory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoError> {
        let path = path.as_ref();
        Self::from_bytes_named(read_file(path)?, &path.display().to_string())
    }

    /// Uses `bytes` (a whole `.mmdb` file) as the database.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GeoError> {
        Self::from_bytes_named(bytes, MEMORY)
    }

    pub(crate) fn from_bytes_named(bytes: Vec<u8>, source_name: &str) -> Result<Self, GeoError> {
        let reader = open_reader(bytes, source_name)?;
        if probe(&reader, source_name, |r: AsnRecord| r.autonomous_system_number)?.is_none() {
            return Err(GeoError::NoAsnData {
                source_name: source_name.to_owned(),
                database_type: reader.metadata().database_type.clone(),
            });
        }
        Ok(AsnDb { reader })
    }

    /// `database_type` from the metadata, e.g. `GeoLite2-ASN`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Origin AS of `ip`; `Ok(None)` when the database has no number for it.
    pub fn lookup(&self, ip: IpAddr) -> Result<Option<u32>, GeoError> {
        let lookup_err = |error| GeoError::Lookup { ip, error };
        let found = self.reader.lookup(ip).map_err(lookup_err)?;
        Ok(found
            .decode::<AsnRecord>()
            .map_err(lookup_err)?
            .and_then(|r| r.autonomous_system_number))
    }
}

/// Where origin-AS answers come from.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per process; boxing would add a pointer chase per lookup"
)]
pub enum AsnSource {
    /// A MaxMind DB such as GeoLite2-ASN.
    Mmdb(AsnDb),
    /// MirrorManager's `global_netblocks.txt`.
    Prefixes(PrefixAsnTable),
}

impl AsnSource {
    /// Loads `path` as a MaxMind DB when it carries the metadata marker, else as a `global_netblocks.txt`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoError> {
        let path = path.as_ref();
        Self::from_bytes_named(read_file(path)?, &path.display().to_string())
    }

    /// Like [`open`](Self::open), for the bytes of a file.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GeoError> {
        Self::from_bytes_named(bytes, MEMORY)
    }

    fn from_bytes_named(bytes: Vec<u8>, source_name: &str) -> Result<Self, GeoError> {
        if is_mmdb(&bytes) {
            AsnDb::from_bytes_named(bytes, source_name).map(AsnSource::Mmdb)
        } else {
            PrefixAsnTable::parse_named(&bytes, source_name).map(AsnSource::Prefixes)
        }
    }

    /// Origin AS of `ip`, `None` when unknown or when the database fails on it.
    pub fn asn(&self, ip: IpAddr) -> Option<u32> {
        match self {
            AsnSource::Mmdb(db) => db.lookup(ip).ok().flatten(),
            AsnSource::Prefixes(table) => table.asn(ip),
        }
    }
}
