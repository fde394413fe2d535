//! MirrorManager's `global_netblocks.txt`: BGP prefixes and their origin AS, longest prefix wins.
//!
//! Lines are `<prefix>/<len> <asn>`, whitespace separated (`mm2_get-netblocks` writes them from routeviews
//! dumps). Like MirrorManager, lines whose prefix does not parse, whose length is 0 or too long for the
//! family (`89.160.20.112/124`), are skipped rather than fatal; so are lines whose AS number is not a `u32`
//! (MirrorManager kept those as text that then matched no host). Host bits below the length are ignored.
//! A file that yields no IPv4 prefix is an error: MirrorManager exits then, since every ASN answer would be
//! empty.

use std::net::IpAddr;
use std::path::Path;

use ip_network::IpNetwork;
use ip_network_table::IpNetworkTable;

use crate::GeoError;
use crate::mmdb::{MEMORY, read_file};

/// What loading a netblock list did; worth logging at start-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetblockReport {
    /// IPv4 prefixes loaded.
    pub ipv4: usize,
    /// IPv6 prefixes loaded.
    pub ipv6: usize,
    /// Non-blank lines that did not parse.
    pub skipped: usize,
    /// 1-based number of the first skipped line, to point an operator at the problem.
    pub first_skipped_line: Option<usize>,
}

/// Prefix → origin AS, answered by longest-prefix match.
pub struct PrefixAsnTable {
    table: IpNetworkTable<u32>,
    report: NetblockReport,
}

impl std::fmt::Debug for PrefixAsnTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrefixAsnTable").field("report", &self.report).finish()
    }
}

impl PrefixAsnTable {
    /// Loads a `global_netblocks.txt`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GeoError> {
        let path = path.as_ref();
        Self::parse_named(&read_file(path)?, &path.display().to_string())
    }

    /// Parses the contents of a `global_netblocks.txt`. Lines that are not UTF-8 are skipped like any other
    /// line that does not parse.
    pub fn parse(text: &[u8]) -> Result<Self, GeoError> {
        Self::parse_named(text, MEMORY)
    }

    pub(crate) fn parse_named(text: &[u8], source_name: &str) -> Result<Self, GeoError> {
        let mut table = IpNetworkTable::new();
        let mut report = NetblockReport::default();
        for (index, line) in text.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_line(line) {
                Some((net, asn)) => {
                    // A repeated prefix replaces the earlier one, as in MirrorManager's tree; count it once.
                    if table.insert(net, asn).is_none() {
                        match net {
                            IpNetwork::V4(_) => report.ipv4 += 1,
                            IpNetwork::V6(_) => report.ipv6 += 1,
                        }
                    }
                }
                None => {
                    report.skipped += 1;
                    report.first_skipped_line.get_or_insert(index + 1);
                }
            }
        }
        if report.ipv4 == 0 {
            return Err(GeoError::NoIpv4Prefixes {
                source_name: source_name.to_owned(),
                ipv6: report.ipv6,
                skipped: report.skipped,
            });
        }
        Ok(PrefixAsnTable { table, report })
    }

    /// What loading found.
    pub fn report(&self) -> NetblockReport {
        self.report
    }

    /// Origin AS of the longest prefix containing `ip`.
    pub fn asn(&self, ip: IpAddr) -> Option<u32> {
        match ip {
            IpAddr::V4(v4) => self.table.longest_match_ipv4(v4).map(|(_, asn)| *asn),
            IpAddr::V6(v6) => self.table.longest_match_ipv6(v6).map(|(_, asn)| *asn),
        }
    }
}

/// `<addr>/<len> <asn> [anything]` → the network and AS, or `None` for a line to skip.
fn parse_line(line: &[u8]) -> Option<(IpNetwork, u32)> {
    let line = std::str::from_utf8(line).ok()?;
    let mut fields = line.split_ascii_whitespace();
    let (addr, len) = fields.next()?.split_once('/')?;
    let asn: u32 = fields.next()?.parse().ok()?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    if len == 0 {
        return None;
    }
    // Rejects lengths beyond 32 / 128.
    let net = IpNetwork::new_truncate(addr, len).ok()?;
    Some((net, asn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_rules() {
        assert!(parse_line(b"10.0.0.0/8 64512").is_some());
        assert!(parse_line(b"  10.0.0.0/8\t64512  extra\r").is_some());
        assert!(parse_line(b"10.1.2.3/8 64512").is_some(), "host bits are ignored");
        assert!(parse_line(b"0.0.0.0/0 64512").is_none(), "length 0 is skipped");
        assert!(parse_line(b"::/0 64512").is_none());
        assert!(parse_line(b"89.160.20.112/124 131313").is_none());
        assert!(parse_line(b"2001:db8::/129 1").is_none());
        assert!(parse_line(b"10.0.0.0 64512").is_none(), "a prefix needs a length");
        assert!(parse_line(b"10.0.0.0/8").is_none());
        assert!(parse_line(b"10.0.0.0/8 AS64512").is_none());
        assert!(parse_line(b"10.0.0.0/8 4294967296").is_none());
        assert!(parse_line(b"10.0.0.0/-8 1").is_none());
        assert!(parse_line(b"\xff\xfe/8 1").is_none());
    }

    #[test]
    fn report_counts() {
        let t = PrefixAsnTable::parse(b"10.0.0.0/8 1\n\nbad\n10.0.0.0/8 2\n2001:db8::/32 3\n\xff\n").unwrap();
        assert_eq!(
            t.report(),
            NetblockReport {
                ipv4: 1,
                ipv6: 1,
                skipped: 2,
                first_skipped_line: Some(3)
            }
        );
        assert_eq!(
            t.asn("10.1.1.1".parse().unwrap()),
            Some(2),
            "a repeated prefix replaces the earlier"
        );
    }
}
