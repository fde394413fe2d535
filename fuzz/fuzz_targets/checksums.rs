//! `CHECKSUM`, `SHA256SUMS`, `*-CHECKSUM` files (GNU and BSD styles) as the scanner reads them, for every
//! algorithm: never panic; every digest kept has the algorithm's length in hex.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_scan::checksums::{Algo, parse_checksums};

fuzz_target!(|data: &[u8]| {
    for algo in [Algo::Md5, Algo::Sha1, Algo::Sha256, Algo::Sha512] {
        if let Ok(parsed) = parse_checksums(algo, data) {
            mirrorvane_fuzz::check_checksums(algo, &parsed);
        }
    }
});
