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

/// What a host's netblock text means: a network, or a DNS name standing for the addresses it resolves to
/// (MirrorManager's `parse_ip` resolves names when it generates the cache).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Netblock {
    /// A network, host bits dropped.
    Network(IpNet),
    /// A host name, lower-cased.
    Name(String),
}

impl Netblock {
    /// A network in any form [`parse_network`] accepts, else a syntactically valid DNS name, else `None`.
    pub fn parse(text: &str) -> Option<Netblock> {
        if let Some(net) = parse_network(text) {
            return Some(Netblock::Network(net));
        }
        let name = text.trim().trim_end_matches('.');
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        // At least one letter somewhere: `10.0.0.0/33`-like typos are not names.
        let valid = name.len() <= 253 && name.split('.').all(label_ok) && name.bytes().any(|b| b.is_ascii_alphabetic());
        valid.then(|| Netblock::Name(name.to_ascii_lowercase()))
    }
}

/// Who is entering a netblock, and so which sizes are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Editor {
    /// An admin (inventory files, `mirrorvane sites`, admin users of the UI): any network but one that matches
    /// every client.
    Admin,
    /// A site's own admin in the UI: MirrorManager's limits, at most a /16 (IPv4) or a /32 (IPv6).
    SiteAdmin,
}

/// Where a netblock text comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Typed by someone now: host bits set are refused (`10.1.2.3/8` is a typo or a misunderstanding).
    Input(Editor),
    /// Already stored, or imported from MirrorManager (whose caches carry host bits set): they are dropped,
    /// as MirrorManager's generator drops them.
    Stored,
}

/// Why a netblock is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetblockError {
    #[error("netblock {0:?} is neither an IP network nor a DNS name")]
    Unparseable(String),
    #[error("netblock {given:?} has host bits set: the network would be {network} — write that if it is meant")]
    HostBits { given: String, network: IpNet },
    #[error("netblock {0} matches every client")]
    Everything(IpNet),
    /// MirrorManager's words (reference §6.3), so its users recognise the rule.
    #[error(
        "IPv4 netblocks larger than /16, and IPv6 netblocks larger than /32 can only be created by mirror \
         administrators ({network} is larger than a /{limit}); ask them if this one is meant"
    )]
    TooLarge { network: IpNet, limit: u8 },
}

/// The one netblock check, shared by inventory files, imports, the builder and the web UI: parses `text` like
/// [`Netblock::parse`] and applies the rules of `origin`.
pub fn check(text: &str, origin: Origin) -> Result<Netblock, NetblockError> {
    let parsed = Netblock::parse(text).ok_or_else(|| NetblockError::Unparseable(text.to_owned()))?;
    let Netblock::Network(network) = parsed else {
        return Ok(parsed);
    };
    if network.prefix_len() == 0 {
        return Err(NetblockError::Everything(network));
    }
    let Origin::Input(editor) = origin else {
        return Ok(parsed);
    };
    let given = text.trim();
    // The text's own address (before truncation) differs from the network's when host bits are set.
    let address = given.split('/').next().and_then(|a| a.trim().parse::<IpAddr>().ok());
    if address.is_some_and(|a| a != network.network()) {
        return Err(NetblockError::HostBits {
            given: given.to_owned(),
            network,
        });
    }
    let limit = match network {
        IpNet::V4(_) => 16,
        IpNet::V6(_) => 32,
    };
    if editor == Editor::SiteAdmin && network.prefix_len() < limit {
        return Err(NetblockError::TooLarge { network, limit });
    }
    Ok(parsed)
}

/// Every address `name` resolves to, each as a host route (/32 or /128), as MirrorManager does.
pub fn resolve_name(name: &str) -> std::io::Result<Vec<IpNet>> {
    use std::net::ToSocketAddrs;
    let mut nets: Vec<IpNet> = (name, 0u16).to_socket_addrs()?.map(|a| IpNet::from(a.ip())).collect();
    nets.sort_unstable();
    nets.dedup();
    Ok(nets)
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
    fn names_and_networks() {
        assert_eq!(
            Netblock::parse("10.1.0.0/16"),
            Some(Netblock::Network("10.1.0.0/16".parse().unwrap()))
        );
        assert_eq!(
            Netblock::parse("Mirror.Example.ORG."),
            Some(Netblock::Name("mirror.example.org".into()))
        );
        for bad in ["", "10.0.0.0/33", "a b.example", "-x.example", "1.2.3", "x..example"] {
            assert_eq!(Netblock::parse(bad), None, "{bad:?}");
        }
        let local = resolve_name("localhost").unwrap();
        assert!(
            local
                .iter()
                .all(|n| n.addr().is_loopback() && n.prefix_len() == n.max_prefix_len()),
            "{local:?}"
        );
    }

    #[test]
    fn checked_by_origin() {
        let input = Origin::Input(Editor::Admin);
        let ok = |t: &str, o| check(t, o).map(|n| format!("{n:?}"));
        assert_eq!(ok("192.0.2.0/24", input), Ok("Network(192.0.2.0/24)".into()));
        assert_eq!(ok("192.0.2.7", input), Ok("Network(192.0.2.7/32)".into()));
        assert_eq!(ok("a-b.example", input), Ok("Name(\"a-b.example\")".into()));
        // The typo: it would match every client, typed or stored.
        assert!(matches!(check("192.0.2.0/0", input), Err(NetblockError::Everything(_))));
        assert!(matches!(
            check("192.0.2.0/0", Origin::Stored),
            Err(NetblockError::Everything(_))
        ));
        assert!(matches!(check("::/0", input), Err(NetblockError::Everything(_))));
        // Host bits: refused when typed, dropped when stored (MirrorManager's caches carry them).
        assert!(matches!(
            check("10.1.2.3/8", input),
            Err(NetblockError::HostBits { .. })
        ));
        assert_eq!(ok("10.1.2.3/8", Origin::Stored), Ok("Network(10.0.0.0/8)".into()));
        // MirrorManager's size limits for a site's own admins.
        let site = Origin::Input(Editor::SiteAdmin);
        assert!(matches!(
            check("10.0.0.0/8", site),
            Err(NetblockError::TooLarge { limit: 16, .. })
        ));
        assert!(check("10.1.0.0/16", site).is_ok());
        assert!(matches!(
            check("2001:db8::/31", site),
            Err(NetblockError::TooLarge { limit: 32, .. })
        ));
        assert!(check("2001:db8::/32", site).is_ok());
        assert!(check("10.0.0.0/8", input).is_ok());
        for bad in ["a_b.example", "10.0.0.0/33", "", "1.2.3"] {
            assert!(
                matches!(check(bad, input), Err(NetblockError::Unparseable(_))),
                "{bad:?}"
            );
        }
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
