//! A MirrorManager `mirrorlist_cache.proto` as `mirrorvane convert`/`import` read it: decoding and conversion
//! never panic; a conversion that succeeds gives a snapshot the selector accepts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_mm2::{convert, load};

fuzz_target!(|data: &[u8]| {
    let Ok(cache) = load::decode(data, std::path::Path::new("fuzz.proto")) else {
        return;
    };
    if let Ok(conversion) = convert::convert(&cache) {
        mirrorvane_selector::Selector::new(conversion.snapshot).expect("a converted cache is a valid snapshot");
    }
});
