//! Parsing the network strings of MirrorManager's netblock caches.
//!
//! The generator writes canonical CIDRs, but the database column it reads is free text, and older caches (and
//! hand-made ones) carry what admins typed: bare addresses, dotted masks, host bits set. We accept what
//! MirrorManager's `parse_ip` accepts, minus DNS names (resolving is the generator's job, not a converter's).

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

/// Parses `10.0.0.0/8`, `10.1.2.3/8` (host bits dropped), `192.0.2.7` (→ /32), `2001:db8::1` (→ /128) and
/// `10.0.0.0/255.0.0.0` (dotted mask → prefix length). Anything else, including non-contiguous masks, is
/// `None`.
pub fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(IpNet::from(addr));
    }
    let (addr, mask) = text.split_once('/')?;
    let addr: Ipv4Addr = addr.trim().parse().ok()?;
    let mask: Ipv4Addr = mask.trim().parse().ok()?;
    let len = ipnet::ipv4_mask_to_prefix(mask).ok()?;
    Ipv4Net::new(addr, len).ok().map(|n| IpNet::V4(n.trunc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Option<String> {
        parse_network(s).map(|n| n.to_string())
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(net("10.0.0.0/8").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(net(" 10.1.2.3/8 ").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(net("192.0.2.7").as_deref(), Some("192.0.2.7/32"));
        assert_eq!(net("2001:db8::1").as_deref(), Some("2001:db8::1/128"));
        assert_eq!(net("2001:db8:1:2::/32").as_deref(), Some("2001:db8::/32"));
        assert_eq!(net("192.168.7.9/255.255.255.0").as_deref(), Some("192.168.7.0/24"));
        assert_eq!(net("0.0.0.0/0.0.0.0").as_deref(), Some("0.0.0.0/0"));
    }

    #[test]
    fn rejected_forms() {
        for bad in [
            "",
            "mirror.example.org",
            "10.0.0.0/33",
            "10.0.0.0/255.0.255.0",
            "10.0.0/8",
            "::/129",
            "1.2.3.4/",
        ] {
            assert_eq!(net(bad), None, "{bad:?}");
        }
    }
}
