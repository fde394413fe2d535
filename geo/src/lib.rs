//! Where a client is: country, continent and origin AS of an address, for the selector's [`Locate`] hook.
//!
//! MirrorManager's server answers these from two files: a MaxMind GeoIP2/GeoLite2 Country database and
//! `global_netblocks.txt` (prefix → origin AS, made from routeviews dumps). We read the same files, plus the
//! public-domain ip-location-db country databases and GeoLite2-ASN, so a deployment can pick what it has.
//!
//! Everything here is built once at start-up; lookups borrow from the loaded bytes and allocate nothing.
//!
//! [`Locate`]: mirrorvane_selector::Locate

mod asn;
mod city;
mod country;
mod error;
mod locator;
mod mmdb;
mod netblocks;

pub use asn::{AsnDb, AsnSource};
pub use city::CityDb;
pub use country::{CountryDb, CountryInfo, CountrySchema};
pub use error::GeoError;
pub use locator::GeoLocator;
pub use mmdb::is_mmdb;
pub use netblocks::{NetblockReport, PrefixAsnTable};
