//! `repodata/repomd.xml` as the scanner reads it (its timestamp, revision and checksums go to metalinks): never
//! panics, on any bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_scan::repomd::parse_repomd;

fuzz_target!(|data: &[u8]| {
    if let Ok(repomd) = parse_repomd(data) {
        let _ = repomd.timestamp();
    }
});
