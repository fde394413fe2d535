//! Optional GeoIP databases (feature `mmdb`): country and ASN from MaxMind-format bytes the host loaded once per
//! isolate (from KV, R2 or a bundle), for platforms that attach no geo to requests. Platform hints win: a
//! database is consulted only for what the hints leave unknown, and for `ip=` addresses (which hints do not
//! describe) — then it answers exactly like the native edge's `GeoLocator`, which the differential corpus checks.
//!
//! The lookups follow `edge/src/geo/` (the edge crate needs tokio and cannot be built for
//! `wasm32-unknown-unknown`): GeoIP2/GeoLite2 Country or City records (`country.iso_code`, falling back to
//! `registered_country.iso_code`, and `continent.code`) or the flat ip-location-db layout (`country_code`,
//! `continent_code`), detected once when the database is opened; ASN from `autonomous_system_number`.

use core::net::IpAddr;

use maxminddb::{PathElement, Reader};
use mirrorvane_selector::client::locating_address;
use mirrorvane_selector::{ClientGeo, ContinentCode, CountryCode};
use serde::Deserialize;

/// Records read when detecting a database's layout.
const PROBE_RECORDS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Schema {
    GeoIp2,
    Flat,
}

/// A country database and/or an ASN database.
#[derive(Default)]
pub struct Databases {
    country: Option<(Reader<Vec<u8>>, Schema)>,
    asn: Option<Reader<Vec<u8>>>,
}

/// Why a database was refused.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// Not a MaxMind DB, or a corrupt one.
    #[error("{which} database: not a valid MaxMind DB: {error}")]
    Corrupt {
        /// `country` or `ASN`.
        which: &'static str,
        /// The reader's message.
        error: maxminddb::MaxMindDbError,
    },
    /// A valid MaxMind DB without the fields we need.
    #[error("{which} database ({database_type}) has no {which} data in its first records")]
    NoData {
        /// `country` or `ASN`.
        which: &'static str,
        /// `database_type` from the metadata.
        database_type: String,
    },
}

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

/// The country fields a record has, to pick the layout (a `country` that is a plain string is not GeoIP2).
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

#[derive(Deserialize)]
struct AsnRecord {
    #[serde(default)]
    autonomous_system_number: Option<u32>,
}

fn open(which: &'static str, bytes: Vec<u8>) -> Result<Reader<Vec<u8>>, GeoError> {
    Reader::from_source(bytes).map_err(|error| GeoError::Corrupt { which, error })
}

/// The first verdict `decide` gives over the first records.
fn probe<'de, T: Deserialize<'de>, R>(
    which: &'static str,
    reader: &'de Reader<Vec<u8>>,
    mut decide: impl FnMut(T) -> Option<R>,
) -> Result<Option<R>, GeoError> {
    let corrupt = |error| GeoError::Corrupt { which, error };
    for item in reader
        .networks(Default::default())
        .map_err(corrupt)?
        .take(PROBE_RECORDS)
    {
        if let Ok(Some(record)) = item.map_err(corrupt)?.decode::<T>()
            && let Some(verdict) = decide(record)
        {
            return Ok(Some(verdict));
        }
    }
    Ok(None)
}

impl Databases {
    /// Opens the databases given (whole `.mmdb` files) and detects the country layout.
    pub fn new(country: Option<Vec<u8>>, asn: Option<Vec<u8>>) -> Result<Databases, GeoError> {
        let country = match country {
            None => None,
            Some(bytes) => {
                let reader = open("country", bytes)?;
                let schema = probe("country", &reader, |p: Probe<'_>| {
                    let iso = |c: &Option<IsoCode<'_>>| c.as_ref().is_some_and(|c| c.iso_code.is_some());
                    if p.country_code.is_some() {
                        Some(Schema::Flat)
                    } else if iso(&p.country)
                        || iso(&p.registered_country)
                        || p.continent.as_ref().is_some_and(|c| c.code.is_some())
                    {
                        Some(Schema::GeoIp2)
                    } else {
                        None
                    }
                })?;
                let Some(schema) = schema else {
                    let database_type = reader.metadata().database_type.clone();
                    return Err(GeoError::NoData {
                        which: "country",
                        database_type,
                    });
                };
                Some((reader, schema))
            }
        };
        let asn = match asn {
            None => None,
            Some(bytes) => {
                let reader = open("ASN", bytes)?;
                if probe("ASN", &reader, |r: AsnRecord| r.autonomous_system_number)?.is_none() {
                    let database_type = reader.metadata().database_type.clone();
                    return Err(GeoError::NoData {
                        which: "ASN",
                        database_type,
                    });
                }
                Some(reader)
            }
        };
        Ok(Databases { country, asn })
    }

    /// `known` completed from the databases: country and continent when the hints had neither, the ASN when
    /// they had none. Lookup failures (a broken record, IPv6 in an IPv4-only file) count as unknown.
    pub fn complete(&self, ip: IpAddr, known: ClientGeo) -> ClientGeo {
        let mut geo = known;
        if let Some((reader, schema)) = &self.country
            && known.country.is_none()
            && known.continent.is_none()
        {
            (geo.country, geo.continent) = country(reader, *schema, locating_address(ip)).unwrap_or((None, None));
        }
        if let Some(reader) = &self.asn
            && known.asn.is_none()
        {
            geo.asn = reader
                .lookup(ip)
                .ok()
                .and_then(|found| found.decode::<AsnRecord>().ok().flatten())
                .and_then(|r| r.autonomous_system_number);
        }
        geo
    }
}

type CountryInfo = (Option<CountryCode>, Option<ContinentCode>);

fn country(reader: &Reader<Vec<u8>>, schema: Schema, ip: IpAddr) -> Result<CountryInfo, maxminddb::MaxMindDbError> {
    let found = reader.lookup(ip)?;
    if !found.has_data() {
        return Ok((None, None));
    }
    Ok(match schema {
        Schema::GeoIp2 => {
            let text = |path: &[PathElement<'_>]| found.decode_path::<&str>(path);
            let country = match text(COUNTRY_ISO)? {
                Some(iso) => Some(iso),
                None => text(REGISTERED_COUNTRY_ISO)?,
            };
            (
                country.and_then(CountryCode::parse),
                text(CONTINENT_CODE)?.and_then(ContinentCode::parse),
            )
        }
        Schema::Flat => found.decode::<FlatRecord<'_>>()?.map_or((None, None), |r| {
            (
                r.country_code.and_then(CountryCode::parse),
                r.continent_code.and_then(ContinentCode::parse),
            )
        }),
    })
}
