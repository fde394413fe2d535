//! Longest-prefix lookups over IPv4 and IPv6 networks, without std.
//!
//! A path-compressed binary trie would be smaller; a plain binary trie over at most ~1,000 netblocks is already
//! small (one node per distinct prefix bit) and a lookup walks at most 32 or 128 nodes. Nodes live in one vector
//! and refer to each other by index, so the whole structure is two allocations.

use alloc::vec::Vec;
use core::net::IpAddr;

use ipnet::IpNet;

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    child: [u32; 2],
    value: u32,
}

/// Maps networks to values; finds every network containing an address, most specific first.
#[derive(Clone, Debug)]
pub struct PrefixMap<V> {
    roots: [u32; 2],
    nodes: Vec<Node>,
    values: Vec<(u8, V)>,
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        PrefixMap {
            roots: [NONE, NONE],
            nodes: Vec::new(),
            values: Vec::new(),
        }
    }
}

fn bits(ip: IpAddr) -> (usize, u128, u32) {
    match ip {
        IpAddr::V4(a) => (0, u128::from(u32::from(a)) << 96, 32),
        IpAddr::V6(a) => (1, u128::from(a), 128),
    }
}

impl<V> PrefixMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of networks stored.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no network is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node {
            child: [NONE, NONE],
            value: NONE,
        });
        (self.nodes.len() - 1) as u32
    }

    /// The value stored for exactly `net`, inserting `make()` first if there is none.
    pub fn entry(&mut self, net: IpNet, make: impl FnOnce() -> V) -> &mut V {
        let (family, addr, _) = bits(net.network());
        if self.roots[family] == NONE {
            let n = self.new_node();
            self.roots[family] = n;
        }
        let mut node = self.roots[family];
        for depth in 0..u32::from(net.prefix_len()) {
            let bit = ((addr >> (127 - depth)) & 1) as usize;
            if self.nodes[node as usize].child[bit] == NONE {
                let n = self.new_node();
                self.nodes[node as usize].child[bit] = n;
            }
            node = self.nodes[node as usize].child[bit];
        }
        if self.nodes[node as usize].value == NONE {
            self.values.push((net.prefix_len(), make()));
            self.nodes[node as usize].value = (self.values.len() - 1) as u32;
        }
        let v = self.nodes[node as usize].value as usize;
        &mut self.values[v].1
    }

    /// Every network containing `ip`, most specific first, as (prefix length, value).
    pub fn matches(&self, ip: IpAddr) -> impl Iterator<Item = (u8, &V)> {
        let mut found: [u32; 129] = [NONE; 129];
        let mut count = 0;
        let (family, addr, width) = bits(ip);
        let mut node = self.roots[family];
        let mut depth = 0;
        while node != NONE {
            let n = &self.nodes[node as usize];
            if n.value != NONE {
                found[count] = n.value;
                count += 1;
            }
            if depth == width {
                break;
            }
            let bit = ((addr >> (127 - depth)) & 1) as usize;
            node = n.child[bit];
            depth += 1;
        }
        (0..count).rev().map(move |i| {
            let (len, ref v) = self.values[found[i] as usize];
            (len, v)
        })
    }

    /// The most specific network containing `ip`.
    pub fn longest(&self, ip: IpAddr) -> Option<(u8, &V)> {
        self.matches(ip).next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn most_specific_first() {
        let mut m = PrefixMap::new();
        *m.entry(net("10.0.0.0/8"), || 0) = 8;
        *m.entry(net("10.1.0.0/16"), || 0) = 16;
        *m.entry(net("10.1.2.3/32"), || 0) = 32;
        *m.entry(net("0.0.0.0/0"), || 0) = 0;
        *m.entry(net("2001:db8::/32"), || 0) = 132;
        let got: Vec<_> = m.matches("10.1.2.3".parse().unwrap()).map(|(l, v)| (l, *v)).collect();
        assert_eq!(got, [(32, 32), (16, 16), (8, 8), (0, 0)]);
        let got: Vec<_> = m.matches("10.2.0.1".parse().unwrap()).map(|(l, v)| (l, *v)).collect();
        assert_eq!(got, [(8, 8), (0, 0)]);
        assert_eq!(
            m.longest("2001:db8::5".parse().unwrap()).map(|(l, v)| (l, *v)),
            Some((32, 132))
        );
        assert_eq!(m.longest("2001:db9::5".parse().unwrap()), None);
        // Host bits of the key are ignored.
        *m.entry(net("192.168.1.77/24"), || 0) = 24;
        assert_eq!(
            m.longest("192.168.1.1".parse().unwrap()).map(|(l, v)| (l, *v)),
            Some((24, 24))
        );
        assert_eq!(m.len(), 6);
    }
}
