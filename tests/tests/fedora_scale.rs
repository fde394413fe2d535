//! The real thing: a Fedora-scale cache written by MirrorManager's own generator (`shared/data/fedora-scale`).
//!
//! Checks that our hand-written protobuf structs describe the file exactly (re-encoding gives the same bytes,
//! so no field is unknown, mistyped or packed differently) and that conversion keeps every count the dataset's
//! README promises. Ignored by default (a fresh clone has no dataset); `scripts/test.sh` runs it where present.

use mirrorvane_mm2 as mm2;
use mirrorvane_selector::snapshot;
use prost::Message;

#[test]
#[ignore = "needs the Fedora-scale dataset; scripts/test.sh runs it where present"]
fn fedora_scale_cache() {
    let path = mirrorvane_testkit::fedora_scale("cache-fedora.proto.gz");
    let bytes = mm2::load::read_bytes(&path).expect("reads");
    let cache = mm2::load::decode(&bytes, &path).expect("decodes");

    // Our structs mirror the schema exactly: re-encoding reproduces the generator's bytes.
    let again = cache.encode_to_vec();
    if again != bytes {
        let at = again
            .iter()
            .zip(&bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(again.len().min(bytes.len()));
        panic!(
            "re-encoded cache differs at byte {at} (ours {} bytes, file {} bytes)",
            again.len(),
            bytes.len()
        );
    }
    drop(again);
    drop(bytes);

    let c = mm2::convert(&cache).expect("converts");
    let encoded = snapshot::encode(&c.snapshot);
    let decoded = snapshot::decode(&encoded).expect("snapshot decodes");
    assert!(decoded == c.snapshot, "snapshot changed through encode/decode");

    let s = c.stats;
    // Counts from the dataset's README.
    assert!(s.hosts <= 400 && s.hosts > 300, "hosts {}", s.hosts);
    assert_eq!(s.directories, 25_000);
    assert!(
        (3_900..4_000).contains(&s.repositories),
        "repositories {}",
        s.repositories
    );
    assert_eq!(s.file_details, 6_413);
    // 1,000 host_netblock rows; equal networks are merged, by the generator and by us.
    assert!(
        (900..=1_000).contains(&s.host_netblocks),
        "netblocks {}",
        s.host_netblocks
    );
    assert_eq!(s.categories, 8);
    assert!(s.private_hosts > 0);
    // 1.82 million up-to-date host × directory rows (minus hosts without public URLs or inactive).
    assert!(s.directory_hosts > 1_500_000, "directory hosts {}", s.directory_hosts);
    assert!(encoded.len() < 4_000_000, "snapshot is {} bytes", encoded.len());
    // The generator's own output is consistent: nothing to tolerate.
    assert!(
        c.warnings.is_empty(),
        "{} warnings, first: {:?}",
        c.warnings.len(),
        c.warnings.first()
    );
}
