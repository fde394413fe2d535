//! The native edge's [`Locate`]: a country database plus, optionally, an origin-AS source.

use std::net::IpAddr;

use mirrorvane_selector::client::locating_address;
use mirrorvane_selector::{ClientGeo, Locate};

use crate::{AsnSource, CountryDb};

/// Answers the selector's per-request question "where is this client".
#[derive(Debug)]
pub struct GeoLocator {
    /// Country and continent.
    pub country: CountryDb,
    /// Origin AS; without it the selector's ASN step finds nothing, as in MirrorManager without the file.
    pub asn: Option<AsnSource>,
}

impl GeoLocator {
    /// Combines the two sources.
    pub fn new(country: CountryDb, asn: Option<AsnSource>) -> Self {
        GeoLocator { country, asn }
    }
}

impl Locate for GeoLocator {
    /// The country comes from the IPv4 address embedded in 6to4/Teredo/mapped IPv6 addresses, as
    /// MirrorManager's Python server did: the tunnel relay's country says nothing about the client. The AS is
    /// looked up for `ip` as given, as MirrorManager's Rust server did: global_netblocks.txt routes the relay.
    fn locate(&self, ip: IpAddr) -> ClientGeo {
        let info = self.country.locate(locating_address(ip));
        ClientGeo {
            country: info.country,
            continent: info.continent,
            asn: self.asn.as_ref().and_then(|a| a.asn(ip)),
        }
    }
}
