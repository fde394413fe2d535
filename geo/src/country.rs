//! Country (and continent) of an address from a MaxMind-format country database.
//!
//! Two record layouts exist in the wild and both are accepted:
//! - GeoIP2/GeoLite2 Country and City (also DB-IP's "lite" files): `country.iso_code`, `continent.code`, and
//!   `registered_country.iso_code`, which we use when `country` is absent (MaxMind leaves `country` out for
//!   some anycast and satellite networks);
//! - the flat layout of the public-domain ip-location-db files: top-level `country_code` (and
//!   `continent_code` where a file has it).
//!
//! The layout is detected once when the database is opened. Each lookup then decodes only the few fields we
//! need, as `&str` borrowed from the database bytes; everything else in the record is skipped unread.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{PathElement, Reader};
use mirrorvane_selector::{ContinentCode, CountryCode};
use serde::Deserialize;

use crate::GeoError;
use crate::mmdb::{MEMORY, open_reader, probe, read_file};

/// The record layout of a country database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountrySchema {
    /// MaxMind GeoIP2/GeoLite2 Country or City: nested `country` / `registered_country` / `continent` maps.
    GeoIp2,
    /// ip-location-db: top-level `country_code` (and optionally `continent_code`).
    Flat,
}

/// What a country database knows about one address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountryInfo {
    /// ISO 3166 country; `None` when absent or not a two-letter code.
    pub country: Option<CountryCode>,
    /// Continent; `None` when the database does not say.
    pub continent: Option<ContinentCode>,
}

/// A MaxMind-format country database held in memory.
pub struct CountryDb {
    reader: Reader<Vec<u8>>,
    schema: CountrySchema,
}

impl std::fmt::Debug for CountryDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountryDb")
            .field("database_type", &self.reader.metadata().database_type)
            .field("schema", &self.schema)
            .finish()
    }
}

impl CountryDb {
    /// Loads the database at `path` into memory and detects its layout.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoError> {
        let path = path.as_ref();
        Self::from_bytes_named(read_file(path)?, &path.display().to_string())
    }

    /// Uses `bytes` (a whole `.mmdb` file) as the database.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GeoError> {
        Self::from_bytes_named(bytes, MEMORY)
    }

    fn from_bytes_named(bytes: Vec<u8>, source_name: &str) -> Result<Self, GeoError> {
        let reader = open_reader(bytes, source_name)?;
        let schema = probe(&reader, source_name, |p: Probe<'_>| p.schema())?;
        let Some(schema) = schema else {
            return Err(GeoError::NoCountryData {
                source_name: source_name.to_owned(),
                database_type: reader.metadata().database_type.clone(),
            });
        };
        Ok(CountryDb { reader, schema })
    }

    /// The detected record layout.
    pub fn schema(&self) -> CountrySchema {
        self.schema
    }

    /// `database_type` from the metadata, e.g. `GeoLite2-Country`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Country and continent of `ip`. Addresses the database has no record for give the empty [`CountryInfo`];
    /// errors are for broken records and IPv6 addresses in IPv4-only databases.
    pub fn lookup(&self, ip: IpAddr) -> Result<CountryInfo, GeoError> {
        let lookup_err = |error| GeoError::Lookup { ip, error };
        let found = self.reader.lookup(ip).map_err(lookup_err)?;
        if !found.has_data() {
            return Ok(CountryInfo::default());
        }
        Ok(match self.schema {
            CountrySchema::GeoIp2 => {
                let text = |path: &[PathElement<'_>]| found.decode_path::<&str>(path).map_err(lookup_err);
                let country = match text(COUNTRY_ISO)? {
                    Some(iso) => Some(iso),
                    None => text(REGISTERED_COUNTRY_ISO)?,
                };
                CountryInfo {
                    country: country.and_then(CountryCode::parse),
                    continent: text(CONTINENT_CODE)?.and_then(ContinentCode::parse),
                }
            }
            CountrySchema::Flat => {
                found
                    .decode::<FlatRecord<'_>>()
                    .map_err(lookup_err)?
                    .map_or_else(CountryInfo::default, |r| CountryInfo {
                        country: r.country_code.and_then(CountryCode::parse),
                        continent: r.continent_code.and_then(ContinentCode::parse),
                    })
            }
        })
    }

    /// Like [`lookup`](Self::lookup), with every failure read as "unknown": what the request path wants.
    pub fn locate(&self, ip: IpAddr) -> CountryInfo {
        self.lookup(ip).unwrap_or_default()
    }
}

/// The fields we read from a GeoIP2 record, by path rather than through a `Deserialize` struct: a path
/// stops reading a map at the key it wants, while a struct has to skip every other entry, including the
/// `names` maps in eight languages (release build, whole lookup: ~350 ns against ~630 ns on
/// GeoIP2-Country-Test, ~345 ns against ~1.1 µs on GeoIP2-City-Test).
/// A `country` map without `iso_code` counts as absent, so `registered_country` is used then too.
const COUNTRY_ISO: &[PathElement<'static>] = &[PathElement::Key("country"), PathElement::Key("iso_code")];
const REGISTERED_COUNTRY_ISO: &[PathElement<'static>] =
    &[PathElement::Key("registered_country"), PathElement::Key("iso_code")];
const CONTINENT_CODE: &[PathElement<'static>] = &[PathElement::Key("continent"), PathElement::Key("code")];

#[derive(Deserialize)]
struct IsoCode<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct ContinentRecord<'a> {
    #[serde(borrow, default)]
    code: Option<&'a str>,
}

#[derive(Deserialize)]
struct FlatRecord<'a> {
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(borrow, default)]
    continent_code: Option<&'a str>,
}

/// Which country fields a record has; used once, to pick the layout. The GeoIP2 keys must hold maps with a
/// code in them: a file whose `country` is a plain name string fails to decode here and so is not taken for
/// GeoIP2.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    registered_country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    continent: Option<ContinentRecord<'a>>,
}

impl Probe<'_> {
    fn schema(&self) -> Option<CountrySchema> {
        let iso = |c: &Option<IsoCode<'_>>| c.as_ref().is_some_and(|c| c.iso_code.is_some());
        if self.country_code.is_some() {
            Some(CountrySchema::Flat)
        } else if iso(&self.country)
            || iso(&self.registered_country)
            || self.continent.as_ref().is_some_and(|c| c.code.is_some())
        {
            Some(CountrySchema::GeoIp2)
        } else {
            None
        }
    }
}
