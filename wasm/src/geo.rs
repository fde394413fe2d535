//! Optional GeoIP databases (feature `mmdb`): country and ASN from MaxMind-format bytes the host loaded once per
//! isolate (from KV, R2 or a bundle), for platforms that attach no geo to requests. Platform hints win: a
//! database is consulted only for what the hints leave unknown, and for `ip=` addresses (which hints do not
//! describe) — then it answers exactly like the native edge, whose readers these are (`mirrorvane-geo`: layout
//! detection of GeoIP2/GeoLite2 Country or City and of the flat ip-location-db files, ASN from
//! `autonomous_system_number`).

use core::net::IpAddr;

use mirrorvane_geo::{AsnDb, CountryDb, GeoError as Refused};
use mirrorvane_selector::ClientGeo;
use mirrorvane_selector::client::locating_address;

/// A country database and/or an ASN database.
#[derive(Default)]
pub struct Databases {
    country: Option<CountryDb>,
    asn: Option<AsnDb>,
}

/// Why a database was refused.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// Not a MaxMind DB, or a corrupt one.
    #[error("{which} database: not a valid MaxMind DB: {reason}")]
    Corrupt {
        /// `country` or `ASN`.
        which: &'static str,
        /// What the reader found.
        reason: String,
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

impl GeoError {
    fn of(which: &'static str, e: Refused) -> GeoError {
        match e {
            Refused::NoCountryData { database_type, .. } | Refused::NoAsnData { database_type, .. } => {
                GeoError::NoData { which, database_type }
            }
            other => GeoError::Corrupt {
                which,
                reason: other.to_string(),
            },
        }
    }
}

impl Databases {
    /// Opens the databases given (whole `.mmdb` files) and detects the country layout.
    pub fn new(country: Option<Vec<u8>>, asn: Option<Vec<u8>>) -> Result<Databases, GeoError> {
        let country = country
            .map(CountryDb::from_bytes)
            .transpose()
            .map_err(|e| GeoError::of("country", e))?;
        let asn = asn
            .map(AsnDb::from_bytes)
            .transpose()
            .map_err(|e| GeoError::of("ASN", e))?;
        Ok(Databases { country, asn })
    }

    /// `known` completed from the databases: country and continent when the hints had neither, the ASN when
    /// they had none. Lookup failures (a broken record, IPv6 in an IPv4-only file) count as unknown.
    pub fn complete(&self, ip: IpAddr, known: ClientGeo) -> ClientGeo {
        let mut geo = known;
        if let Some(db) = &self.country
            && known.country.is_none()
            && known.continent.is_none()
        {
            let info = db.locate(locating_address(ip));
            (geo.country, geo.continent) = (info.country, info.continent);
        }
        if let Some(db) = &self.asn
            && known.asn.is_none()
        {
            geo.asn = db.lookup(ip).ok().flatten();
        }
        geo
    }
}
