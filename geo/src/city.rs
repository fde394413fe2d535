//! A GeoIP2/GeoLite2 City database's coordinates, for placing mirrors on the map (MirrorManager's
//! `mm2_generate-worldmap`). Not on the request path: the selector needs countries only.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{PathElement, Reader};

use crate::error::GeoError;
use crate::mmdb::{MEMORY, open_reader, read_file};

const LATITUDE: &[PathElement<'static>] = &[PathElement::Key("location"), PathElement::Key("latitude")];
const LONGITUDE: &[PathElement<'static>] = &[PathElement::Key("location"), PathElement::Key("longitude")];

/// A City database held in memory.
pub struct CityDb {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for CityDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CityDb")
            .field("database_type", &self.reader.metadata().database_type)
            .finish()
    }
}

impl CityDb {
    /// Loads the database at `path` into memory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoError> {
        let path = path.as_ref();
        let reader = open_reader(read_file(path)?, &path.display().to_string())?;
        Ok(CityDb { reader })
    }

    /// Uses `bytes` (a whole `.mmdb` file) as the database.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GeoError> {
        Ok(CityDb {
            reader: open_reader(bytes, MEMORY)?,
        })
    }

    /// (latitude, longitude) of `ip`, when the database places it.
    pub fn lookup(&self, ip: IpAddr) -> Result<Option<(f64, f64)>, GeoError> {
        let lookup_err = |error| GeoError::Lookup { ip, error };
        let found = self.reader.lookup(ip).map_err(lookup_err)?;
        if !found.has_data() {
            return Ok(None);
        }
        let lat = found.decode_path::<f64>(LATITUDE).map_err(lookup_err)?;
        let lon = found.decode_path::<f64>(LONGITUDE).map_err(lookup_err)?;
        Ok(lat
            .zip(lon)
            .filter(|(lat, lon)| lat.abs() <= 90.0 && lon.abs() <= 180.0))
    }
}
