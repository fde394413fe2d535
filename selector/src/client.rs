//! Who is asking: the client address and what is known about where it is.
//!
//! The selector does no lookups of its own beyond the snapshot. The shell (native edge, WASM worker, tests)
//! implements [`Locate`] with whatever it has — MaxMind databases, a prefix file, or the geo hints an edge
//! platform attaches to each request — and the selector calls it once per answered request.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::codes::{ContinentCode, CountryCode};

/// What a lookup knows about a client address. Every field may be unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientGeo {
    /// ISO 3166 country.
    pub country: Option<CountryCode>,
    /// Continent; used only when the country is unknown to the continent table.
    pub continent: Option<ContinentCode>,
    /// Origin autonomous system of the address.
    pub asn: Option<u32>,
}

/// Locates a client address. Implemented by the shells; must be cheap (it runs on every request).
pub trait Locate {
    /// What is known about `ip`.
    fn locate(&self, ip: IpAddr) -> ClientGeo;
}

/// A fixed answer for every address: for tests, and for edge platforms that hand over the geo of the connecting
/// client.
impl Locate for ClientGeo {
    fn locate(&self, _ip: IpAddr) -> ClientGeo {
        *self
    }
}

impl<F: Fn(IpAddr) -> ClientGeo> Locate for F {
    fn locate(&self, ip: IpAddr) -> ClientGeo {
        self(ip)
    }
}

/// The address whose location stands for `ip`: the IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`),
/// 6to4 (`2002:AABB:CCDD::/48`) or Teredo (`2001:0::/32`, client address inverted in the last 32 bits) IPv6
/// address; `ip` itself otherwise. MirrorManager's Python server did this for GeoIP; the Rust server dropped it.
pub fn locating_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => embedded_ipv4(v6).map_or(ip, IpAddr::V4),
    }
}

fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    match s[0] {
        0x2002 => Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        )),
        0x2001 if s[1] == 0 => {
            let x = ((u32::from(s[6]) << 16) | u32::from(s[7])) ^ 0xffff_ffff;
            Some(Ipv4Addr::from(x))
        }
        _ => None,
    }
}

/// The client address of a request: the `ip=` parameter when non-empty, else the last element of the last
/// `X-Forwarded-For` header, else the peer. `None` when the chosen text is not an address (the caller answers
/// 500 like MirrorManager).
///
/// Differences from MirrorManager's Rust server, on purpose: elements are split on `,` and trimmed (it split on
/// `", "`, so `a,b` failed), non-UTF-8 header bytes are a parse error (it panicked), and IPv4-mapped IPv6 peers
/// are reported as IPv4.
pub fn client_address(ip_param: Option<&str>, forwarded_for: Option<&[u8]>, peer: IpAddr) -> Option<IpAddr> {
    let text = match (ip_param, forwarded_for) {
        (Some(ip), _) if !ip.is_empty() => ip,
        (_, Some(xff)) => {
            let xff = core::str::from_utf8(xff).ok()?;
            xff.rsplit(',').next().unwrap_or(xff).trim()
        }
        _ => return Some(peer.to_canonical()),
    };
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn embedded_addresses() {
        assert_eq!(locating_address(ip("2002:c000:0204::1")), ip("192.0.2.4"));
        // Teredo: server 65.54.227.120, client 192.0.2.45 obfuscated as 3fff:fdd2.
        assert_eq!(
            locating_address(ip("2001:0:4136:e378:8000:63bf:3fff:fdd2")),
            ip("192.0.2.45")
        );
        assert_eq!(locating_address(ip("::ffff:198.51.100.1")), ip("198.51.100.1"));
        assert_eq!(locating_address(ip("2001:db8::1")), ip("2001:db8::1"));
        assert_eq!(locating_address(ip("203.0.113.9")), ip("203.0.113.9"));
    }

    #[test]
    fn client_address_precedence() {
        let peer = ip("127.0.0.1");
        assert_eq!(
            client_address(Some("192.0.2.1"), Some(b"198.51.100.7, 203.0.113.9"), peer),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(
            client_address(Some(""), Some(b"198.51.100.7, 203.0.113.9"), peer),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(None, Some(b"198.51.100.7,203.0.113.9"), peer),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client_address(None, None, peer), Some(peer));
        assert_eq!(client_address(None, None, ip("::ffff:10.1.2.3")), Some(ip("10.1.2.3")));
        assert_eq!(client_address(Some("10.11.12.331"), None, peer), None);
        assert_eq!(client_address(None, Some(b"\xff\xfe"), peer), None);
        assert_eq!(client_address(None, Some(b""), peer), None);
    }
}
