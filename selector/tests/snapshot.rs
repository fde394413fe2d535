//! Snapshot files: a round trip keeps everything; every kind of damage is a typed error, never a panic.

use mirrorvane_selector::random::Random;
use mirrorvane_selector::snapshot::{self, HEADER_LEN, HostCategoryId, HostSetId, SnapshotError};
use mirrorvane_selector::{SeededRandom, Selector};
use mirrorvane_testkit::fixture::*;

fn sample() -> mirrorvane_selector::Snapshot {
    let mut fx = Fixture {
        created: 1_790_000_000,
        ..Default::default()
    }
    .host(1, Some("DE"), 1000, &["http://a.example/pub", "rsync://a.example/pub"])
    .host(2, Some("US"), 10, &["https://b.example/pub"])
    .with(2, |h| {
        h.asns = vec![553, 64500];
        h.allowed = vec!["US", "CA"];
    })
    .dir("pub/x", "pub", &[1, 2])
    .dir("pub/x/repodata", "pub", &[2]);
    fx.repos.push(("x-1", "x86_64", "pub/x"));
    fx.files.push((
        "pub/x/repodata",
        "repomd.xml",
        vec![detail(5, 6, "abcdef12"), detail(4, 5, "NOT-HEX")],
    ));
    fx.netblocks.push(("10.0.0.0/8", vec![1]));
    fx.netblock_countries.push(("2001:db8::/32", "SE"));
    fx.continent_overrides.push(("TR", "EU"));
    fx.disabled.push("old-1");
    fx.redirects.push(("x-rawhide", "x-1"));
    fx.snapshot()
}

#[test]
fn round_trip() {
    let s = sample();
    let bytes = snapshot::encode(&s);
    assert_eq!(snapshot::decode(&bytes).unwrap(), s);
    assert_eq!(snapshot::read_header(&bytes).unwrap().created, 1_790_000_000);
    Selector::decode(&bytes).unwrap();
}

#[test]
fn rejections() {
    let bytes = snapshot::encode(&sample());
    let err = |b: &[u8]| snapshot::decode(b).unwrap_err();
    assert!(matches!(err(&bytes[..10]), SnapshotError::TooShort { len: 10 }));
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(err(&bad), SnapshotError::BadMagic);
    let mut bad = bytes.clone();
    bad[8] = 99;
    assert_eq!(err(&bad), SnapshotError::UnsupportedVersion { found: 99 });
    assert!(matches!(
        err(&bytes[..bytes.len() - 1]),
        SnapshotError::LengthMismatch { .. }
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(err(&longer), SnapshotError::LengthMismatch { .. }));
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x55;
    assert!(matches!(err(&bad), SnapshotError::ChecksumMismatch { .. }));
    // Valid header and checksum around a payload that is not a snapshot.
    let mut forged = bytes[..HEADER_LEN].to_vec();
    forged.extend_from_slice(&[0xff; 40]);
    fix_header(&mut forged);
    assert!(matches!(err(&forged), SnapshotError::Malformed(_)));
    // Decodes, but points nowhere: refused by the selector.
    let mut s = sample();
    s.directories[0].hosts = HostSetId(77);
    assert!(matches!(
        Selector::new(s).err().unwrap(),
        SnapshotError::Inconsistent(_)
    ));
    let mut s = sample();
    s.host_sets[0] = snapshot::HostSet::new(vec![HostCategoryId(999)]);
    assert!(matches!(
        Selector::new(s).err().unwrap(),
        SnapshotError::Inconsistent(_)
    ));
    let mut s = sample();
    s.directories[1].name = "pub/x".into();
    assert!(Selector::new(s).err().unwrap().to_string().contains("appears twice"));
}

fn fix_header(b: &mut [u8]) {
    let payload_len = (b.len() - HEADER_LEN) as u64;
    let crc = crc32(&b[HEADER_LEN..]);
    b[20..28].copy_from_slice(&payload_len.to_le_bytes());
    b[28..32].copy_from_slice(&crc.to_le_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
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

/// Random damage to valid bytes, with a repaired header so it reaches postcard and validation: never a panic.
#[test]
fn mutated_payloads_never_panic() {
    let bytes = snapshot::encode(&sample());
    let mut rng = SeededRandom::new(99);
    for _ in 0..20_000 {
        let mut b = bytes.clone();
        for _ in 0..=rng.below(4) {
            let i = HEADER_LEN + rng.below((b.len() - HEADER_LEN) as u64) as usize;
            b[i] = rng.next_u64() as u8;
        }
        if rng.below(4) == 0 {
            let cut = HEADER_LEN + rng.below((b.len() - HEADER_LEN) as u64) as usize;
            b.truncate(cut);
        }
        fix_header(&mut b);
        let _ = Selector::decode(&b);
    }
}
