//! [`SyntheticGeo`]: a GeoIP + ASN lookup for the synthetic address space, so benchmarks, tests and demos need
//! no MaxMind database.
//!
//! Countries come from a table indexed by the top 16 bits of an IPv4 address (bits 16–31 of an IPv6 address);
//! the generator fills it by country weight and then pins each host's netblocks and ASN prefixes to the host's
//! country, so a client "inside a mirror's network" is also in the mirror's country. ASNs come from the
//! generated global prefix list, which is free of overlaps: a binary search finds the one candidate.

use std::net::IpAddr;

use mirrorvane_selector::{ClientGeo, CountryCode, Locate};

/// Deterministic address → (country, ASN) for the synthetic world.
#[derive(Clone, Debug)]
pub struct SyntheticGeo {
    pub(crate) countries: Vec<CountryCode>,
    /// Index into `countries`, per IPv4 /16.
    pub(crate) v4_country: Vec<u8>,
    /// Index into `countries`, per IPv6 bits 16–31.
    pub(crate) v6_country: Vec<u8>,
    /// (first, last, asn), sorted, disjoint.
    pub(crate) v4_asn: Vec<(u32, u32, u32)>,
    /// (first, last, asn), sorted, disjoint.
    pub(crate) v6_asn: Vec<(u128, u128, u32)>,
}

fn find<T: Copy + Ord>(ranges: &[(T, T, u32)], x: T) -> Option<u32> {
    let i = ranges.partition_point(|r| r.0 <= x);
    let r = ranges.get(i.checked_sub(1)?)?;
    (x <= r.1).then_some(r.2)
}

impl SyntheticGeo {
    /// The country of `ip`.
    pub fn country(&self, ip: IpAddr) -> CountryCode {
        let i = match ip {
            IpAddr::V4(a) => self.v4_country[(u32::from(a) >> 16) as usize],
            IpAddr::V6(a) => self.v6_country[a.segments()[1] as usize],
        };
        self.countries[usize::from(i)]
    }

    /// The origin AS of `ip`, if a global prefix covers it.
    pub fn asn(&self, ip: IpAddr) -> Option<u32> {
        match ip {
            IpAddr::V4(a) => find(&self.v4_asn, u32::from(a)),
            IpAddr::V6(a) => find(&self.v6_asn, u128::from(a)),
        }
    }
}

impl Locate for SyntheticGeo {
    fn locate(&self, ip: IpAddr) -> ClientGeo {
        ClientGeo {
            country: Some(self.country(ip)),
            continent: None,
            asn: self.asn(ip),
        }
    }
}
