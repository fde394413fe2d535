//! A category's `fullfiletimelist` as the scanner reads it: never panics; a listing comes out sorted with the top
//! directory first, or a clear error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_scan::Excludes;
use mirrorvane_scan::fullfiletimelist;

thread_local! {
    // The standard excludes, compiled once (their regular expressions would dominate every run).
    static EXCLUDES: Excludes = Excludes::new::<&str>("pub/fedora/linux", &[]).expect("the standard excludes");
}

fuzz_target!(|data: &[u8]| {
    EXCLUDES.with(|excludes| {
        if let Ok(listing) = fullfiletimelist::parse(data, "linux/", excludes) {
            mirrorvane_fuzz::check_listing(&listing);
        }
    });
});
