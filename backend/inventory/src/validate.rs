//! Checks and normalisations of single values, following MirrorManager's forms (`forms.py`) where it has a
//! rule and being stricter where its leniency only stores garbage (a `/33` netblock, an empty host name).
//!
//! Each function returns the value as it is stored, or the [`Problem`]; positions are the caller's business.

use super::error::Problem;
use mirrorvane_db::netblock::{self, Editor, Netblock, Origin, parse_network};

pub const CONTINENTS: [&str; 7] = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"];

/// Two ASCII letters, uppercased (MirrorManager's `^[a-zA-Z][a-zA-Z]$`).
pub fn country(text: &str) -> Result<String, Problem> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err(Problem::Country(text.to_owned()))
    }
}

/// One of MirrorManager's seven continent codes, uppercased.
pub fn continent(text: &str) -> Result<String, Problem> {
    let upper = text.to_ascii_uppercase();
    if CONTINENTS.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(Problem::Continent(text.to_owned()))
    }
}

/// A mirror URL: http, https or rsync (MirrorManager's `MM_PROTOCOL_REGEX` refuses ftp), with a host, trailing
/// `/` stripped. Kept as written otherwise: it is matched against what the database stores.
pub fn mirror_url(text: &str) -> Result<String, Problem> {
    let trimmed = text.trim().trim_end_matches('/');
    // The URL parser silently drops tabs and line breaks, but the text is what is stored and rendered: a CR/LF
    // would inject lines into mirrorlists.
    if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Problem::UrlSyntax {
            url: text.to_owned(),
            reason: "control characters and whitespace are not allowed".to_owned(),
        });
    }
    let parsed = url::Url::parse(trimmed).map_err(|e| Problem::UrlSyntax {
        url: text.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https" | "rsync") {
        return Err(Problem::UrlScheme { url: text.to_owned() });
    }
    // `rsync:foo` parses (rsync is not a "special" scheme) but names no server.
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Problem::UrlSyntax {
            url: text.to_owned(),
            reason: "no host".to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

/// A host netblock as an admin enters it ([`netblock::check`]): an IP network, stored canonical (`192.0.2.7` →
/// `192.0.2.7/32`), or a DNS name, stored lowercased and unresolved (as MirrorManager accepts it). Text that looks
/// like an address but does not parse (`10.0.0.0/33`), host bits set (`192.0.2.0/0`) and `/0` are refused.
pub fn host_netblock(text: &str) -> Result<String, Problem> {
    match netblock::check(text, Origin::Input(Editor::Admin)) {
        Ok(Netblock::Network(net)) => Ok(net.to_string()),
        Ok(Netblock::Name(name)) => Ok(name),
        Err(e) => Err(Problem::Netblock(e)),
    }
}

/// A `netblock_country` network: IP networks only (the selector matches addresses, not names).
pub fn ip_network(text: &str) -> Result<String, Problem> {
    if parse_network(text).is_none() {
        return Err(Problem::NotIpNetwork(text.to_owned()));
    }
    host_netblock(text)
}

/// An integer field within `min..=max`.
pub fn in_range(field: &'static str, value: i64, min: i64, max: i64) -> Result<u32, Problem> {
    if (min..=max).contains(&value) {
        u32::try_from(value).map_err(|_| Problem::OutOfRange { field, value, min, max })
    } else {
        Err(Problem::OutOfRange { field, value, min, max })
    }
}

/// An autonomous system number: 1 to 4294967295 (0 is reserved).
pub fn asn(field: &'static str, value: i64) -> Result<u32, Problem> {
    in_range(field, value, 1, i64::from(u32::MAX))
}

/// Bandwidth and max_connections: ≥ 1, and small enough for a 32-bit signed database column.
pub fn positive(field: &'static str, value: i64) -> Result<u32, Problem> {
    in_range(field, value, 1, i64::from(i32::MAX))
}

/// A name (product, category, site, admin …): not empty once trimmed; returned trimmed.
pub fn name(field: &'static str, text: &str) -> Result<String, Problem> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err(Problem::Empty { field })
    } else {
        Ok(trimmed.to_owned())
    }
}

/// A host ACL IP (an address allowed to pull from the primary): an IP address or network, stored canonical.
pub fn acl_ip(text: &str) -> Result<String, Problem> {
    let trimmed = text.trim();
    if let Ok(ip) = trimmed.parse::<std::net::IpAddr>() {
        return Ok(ip.to_string());
    }
    ip_network(trimmed)
}

/// A repository as `prefix/arch` (`fedora-41/x86_64`).
pub fn repository_ref(text: &str) -> Result<String, Problem> {
    let trimmed = text.trim();
    match trimmed.rsplit_once('/') {
        Some((prefix, arch)) if !prefix.is_empty() && !arch.is_empty() && !trimmed.contains(char::is_whitespace) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(Problem::RepositoryRef(text.to_owned())),
    }
}

/// A host name: not empty, no whitespace anywhere (it is an FQDN).
pub fn host_name(text: &str) -> Result<String, Problem> {
    if text.is_empty() {
        Err(Problem::Empty { field: "host name" })
    } else if text.chars().any(char::is_whitespace) {
        Err(Problem::HostName(text.to_owned()))
    } else {
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_and_continents() {
        assert_eq!(country("tw"), Ok("TW".into()));
        assert!(matches!(country("USA"), Err(Problem::Country(_))));
        assert!(matches!(country("U1"), Err(Problem::Country(_))));
        assert!(matches!(country("ÜS"), Err(Problem::Country(_))));
        assert_eq!(continent("eu"), Ok("EU".into()));
        assert!(matches!(continent("--"), Err(Problem::Continent(_))));
    }

    #[test]
    fn urls() {
        assert_eq!(
            mirror_url("https://m.example.org/pub/fedora/"),
            Ok("https://m.example.org/pub/fedora".into())
        );
        assert_eq!(
            mirror_url("rsync://m.example.org/fedora"),
            Ok("rsync://m.example.org/fedora".into())
        );
        assert_eq!(
            mirror_url("ftp://m.example.org/x"),
            Err(Problem::UrlScheme {
                url: "ftp://m.example.org/x".into()
            })
        );
        assert!(matches!(mirror_url("m.example.org/x"), Err(Problem::UrlSyntax { .. })));
        assert!(matches!(mirror_url("rsync:fedora"), Err(Problem::UrlSyntax { .. })));
        assert!(matches!(mirror_url("https://"), Err(Problem::UrlSyntax { .. })));
        for injected in [
            "https://m.example.org/a\r\nhttps://evil.example/",
            "https://m.example.org/a\nb",
            "https://m.example.org/a\tb",
            "https://m.example.org/a b",
            "https://m.example.org/\u{7f}",
        ] {
            assert!(
                matches!(mirror_url(injected), Err(Problem::UrlSyntax { .. })),
                "{injected:?}"
            );
        }
    }

    #[test]
    fn netblocks() {
        assert_eq!(host_netblock("192.0.2.7"), Ok("192.0.2.7/32".into()));
        assert_eq!(host_netblock("2001:db8::1"), Ok("2001:db8::1/128".into()));
        assert_eq!(
            host_netblock("198.51.100.0/255.255.255.0"),
            Ok("198.51.100.0/24".into())
        );
        assert_eq!(host_netblock("Mirror.Example.ORG."), Ok("mirror.example.org".into()));
        for bad in [
            "10.0.0.0/33",
            "10.0.0",
            "",
            "a b",
            "2001:db8::/129",
            "x/8",
            "198.51.100.9/255.255.255.0",
            "192.0.2.0/0",
            "0.0.0.0/0",
        ] {
            assert!(matches!(host_netblock(bad), Err(Problem::Netblock(_))), "{bad:?}");
        }
        assert!(matches!(
            ip_network("mirror.example.org"),
            Err(Problem::NotIpNetwork(_))
        ));
    }

    #[test]
    fn numbers_and_names() {
        assert_eq!(asn("asn", 4_294_967_295), Ok(u32::MAX));
        assert!(asn("asn", 0).is_err());
        assert!(asn("asn", 4_294_967_296).is_err());
        assert_eq!(positive("bandwidth", 1), Ok(1));
        assert!(positive("bandwidth", 0).is_err());
        assert!(positive("bandwidth", -5).is_err());
        assert_eq!(name("site name", "  X "), Ok("X".into()));
        assert!(name("site name", " ").is_err());
        assert!(host_name("a b").is_err());
        assert!(host_name("").is_err());
    }
}
