//! [`HostSet`]: a sorted set of host categories, stored compactly.
//!
//! At Fedora scale directories × hosts is about two million pairs, and a synthetic or real-world crawl leaves most
//! directories with a set of their own. Ids of one category's host categories are contiguous (they are sorted by
//! category), so a set is either a bitmap over `[first, last]` or, when sparse, a list of gaps; both fit in
//! roughly one byte per member or less. Decoding is bounded by the encoded length.

use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::HostCategoryId;

/// Sorted, duplicate-free host categories.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct HostSet(Vec<HostCategoryId>);

impl HostSet {
    /// Sorts and de-duplicates `members`.
    pub fn new(mut members: Vec<HostCategoryId>) -> HostSet {
        members.sort_unstable();
        members.dedup();
        HostSet(members)
    }

    /// The members, ascending.
    pub fn members(&self) -> &[HostCategoryId] {
        &self.0
    }

    /// Membership by binary search.
    pub fn contains(&self, id: HostCategoryId) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    fn encode(&self) -> Vec<u8> {
        let m = &self.0;
        let mut out = Vec::new();
        let Some((first, last)) = m.first().zip(m.last()) else {
            return out;
        };
        let span = (last.0 - first.0) as usize + 1;
        let bitmap_len = span.div_ceil(8);
        // Gap list: one varint per member, mostly one byte.
        let mut gaps = Vec::with_capacity(m.len() + 4);
        let mut prev = 0u32;
        for (i, id) in m.iter().enumerate() {
            push_varint(&mut gaps, if i == 0 { id.0 } else { id.0 - prev - 1 });
            prev = id.0;
        }
        if bitmap_len + 5 < gaps.len() {
            out.push(BITMAP);
            push_varint(&mut out, first.0);
            let start = out.len();
            out.resize(start + bitmap_len, 0);
            for id in m {
                let bit = (id.0 - first.0) as usize;
                out[start + bit / 8] |= 1 << (bit % 8);
            }
        } else {
            out.push(GAPS);
            out.extend_from_slice(&gaps);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<HostSet, &'static str> {
        let Some((&tag, mut rest)) = bytes.split_first() else {
            return Ok(HostSet::default());
        };
        let mut members = Vec::new();
        match tag {
            GAPS => {
                let mut next: u64 = 0;
                while !rest.is_empty() {
                    let gap = take_varint(&mut rest)?;
                    let id = next + u64::from(gap);
                    members.push(HostCategoryId(u32::try_from(id).map_err(|_| "host set id overflows")?));
                    next = id + 1;
                }
            }
            BITMAP => {
                let first = u64::from(take_varint(&mut rest)?);
                for (byte_index, byte) in rest.iter().enumerate() {
                    for bit in 0..8 {
                        if byte & (1 << bit) != 0 {
                            let id = first + (byte_index * 8 + bit) as u64;
                            members.push(HostCategoryId(u32::try_from(id).map_err(|_| "host set id overflows")?));
                        }
                    }
                }
            }
            _ => return Err("unknown host set encoding"),
        }
        Ok(HostSet(members))
    }
}

const GAPS: u8 = 0;
const BITMAP: u8 = 1;

fn push_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take_varint(input: &mut &[u8]) -> Result<u32, &'static str> {
    let mut v: u64 = 0;
    for shift in (0..35).step_by(7) {
        let (&b, rest) = input.split_first().ok_or("truncated host set")?;
        *input = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return u32::try_from(v).map_err(|_| "host set varint overflows");
        }
    }
    Err("host set varint too long")
}

impl fmt::Debug for HostSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|id| id.0)).finish()
    }
}

impl Serialize for HostSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.encode())
    }
}

impl<'de> Deserialize<'de> for HostSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HostSet, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HostSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an encoded host set")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<HostSet, E> {
                HostSet::decode(v).map_err(E::custom)
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<HostSet, E> {
                self.visit_bytes(v)
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(ids: &[u32]) -> HostSet {
        let set = HostSet::new(ids.iter().map(|&i| HostCategoryId(i)).collect());
        let bytes = postcard::to_allocvec(&set).unwrap();
        let back: HostSet = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, set);
        back
    }

    #[test]
    fn dense_and_sparse_sets_round_trip() {
        round_trip(&[]);
        round_trip(&[0]);
        round_trip(&[u32::MAX]);
        round_trip(&[5, 1_000_000, 4_000_000_000]);
        let dense: Vec<u32> = (300..700).filter(|i| i % 3 != 0).collect();
        let set = round_trip(&dense);
        // The bitmap form is used: ~50 bytes for ~270 members.
        assert!(set.encode().len() < 60, "{}", set.encode().len());
    }

    #[test]
    fn hostile_bytes_are_errors() {
        assert!(HostSet::decode(&[7]).is_err());
        assert!(HostSet::decode(&[GAPS, 0x80]).is_err());
        assert!(HostSet::decode(&[GAPS, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
        assert!(HostSet::decode(&[BITMAP, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff]).is_err());
    }
}
