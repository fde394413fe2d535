//! Snapshot decoding must refuse bad bytes with an error, never a panic, and a snapshot it accepts must be
//! usable: answering requests on it must not panic either.
//!
//! The first byte picks how the rest is used:
//! - `0 mod 3`: raw file bytes (header checks, checksum, postcard);
//! - `1 mod 3`: the payload, wrapped in a repaired header (right length, checksum and creation time) so the
//!   fuzzer's mutations reach postcard and [`Selector::new`]'s validation;
//! - `2 mod 3`: edits (overwrite, insert, delete, truncate) applied to the payload of a valid snapshot, then
//!   the header repaired — reaches validation quickly without a seed corpus.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_fuzz::{answer_and_check, encoded};
use mirrorvane_selector::snapshot::{self, FORMAT_VERSION, HEADER_LEN, MAGIC};
use mirrorvane_selector::{Request, Selector, Workspace};

/// A file around `payload` whose header is right, with the creation time read from the payload's first field
/// (a postcard varint) so the header and payload agree.
fn wrap(payload: &[u8]) -> Vec<u8> {
    let mut created = 0u64;
    for (i, b) in payload.iter().take(10).enumerate() {
        created |= u64::from(b & 0x7f).checked_shl(7 * i as u32).unwrap_or(0);
        if b & 0x80 == 0 {
            break;
        }
    }
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&created.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// CRC-32 (IEEE), bitwise: slow but independent of the code under test.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn edited(ops: &[u8]) -> Vec<u8> {
    let mut payload = encoded()[HEADER_LEN..].to_vec();
    for op in ops.chunks_exact(4) {
        let pos = usize::from(u16::from_le_bytes([op[1], op[2]]));
        let pos = if payload.is_empty() {
            0
        } else {
            pos % (payload.len() + 1)
        };
        match op[0] % 4 {
            0 if pos < payload.len() => payload[pos] = op[3],
            1 => payload.insert(pos, op[3]),
            2 if pos < payload.len() => {
                payload.remove(pos);
            }
            3 => payload.truncate(pos),
            _ => {}
        }
    }
    wrap(&payload)
}

fn exercise(bytes: &[u8]) {
    let decoded = snapshot::decode(bytes);
    let selector = Selector::decode(bytes);
    match (&decoded, &selector) {
        // Selector::new only adds consistency checks.
        (Ok(_), Ok(_)) | (Ok(_), Err(snapshot::SnapshotError::Inconsistent(_))) => {}
        (Err(a), Err(b)) => assert_eq!(a, b),
        (d, s) => panic!("decode {d:?} but Selector::decode {:?}", s.as_ref().err()),
    }
    if let Ok(snap) = &decoded {
        // What decodes re-encodes to something that decodes to the same value.
        assert_eq!(snapshot::decode(&snapshot::encode(snap)).as_ref(), Ok(snap));
    }
    let Ok(sel) = selector else { return };
    let snap = sel.snapshot();
    let mut ws = Workspace::new();
    let mut queries: Vec<String> = Vec::new();
    for r in snap.repositories.iter().take(4) {
        queries.push(format!("repo={}&arch={}", r.prefix, r.arch));
        queries.push(format!("repo={}&arch={}&redirect=1&protocol=http", r.prefix, r.arch));
        queries.push(format!("repo={}&arch={}&explain=1&country=DE,global", r.prefix, r.arch));
    }
    for d in snap.directories.iter().take(4) {
        queries.push(format!("path={}&netblock=0", d.name));
    }
    for f in snap.files.iter().take(4) {
        if let Some(d) = snap.directories.get(f.directory.index()) {
            queries.push(format!("path={}/{}", d.name, f.name));
        }
    }
    for (i, q) in queries.iter().enumerate() {
        for path in ["/metalink", "/mirrorlist"] {
            for peer in ["192.0.2.9", "198.51.100.33", "2001:db8::1", "203.0.113.200"] {
                let req = Request {
                    path,
                    query: q,
                    forwarded_for: None,
                    accept: (i % 2 == 0).then_some(b"application/metalink4+xml".as_slice()),
                    peer: peer.parse().unwrap(),
                };
                answer_and_check(&sel, &req, 1_700_000_000, 5, i as u64, &mut ws);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => exercise(rest),
        1 => exercise(&wrap(rest)),
        _ => exercise(&edited(rest)),
    }
});
