//! `rsync --list-only -r` output as the crawler and the scanner read it, line by line: never panics, and what it
//! lists is sorted with the top directory first.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_scan::Excludes;
use mirrorvane_scan::rsync::ListingParser;

thread_local! {
    // The standard excludes, compiled once (their regular expressions would dominate every run).
    static EXCLUDES: Excludes = Excludes::new::<&str>("pub/fedora/linux", &[]).expect("the standard excludes");
}

fuzz_target!(|data: &[u8]| {
    // The first line is the prefix to strip (as `--strip-prefix` gives it), the rest the listing.
    let (prefix, listing) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => (String::new(), data),
    };
    EXCLUDES.with(|excludes| {
        let mut parser = ListingParser::new(&prefix, excludes);
        for line in listing.split(|&b| b == b'\n') {
            parser.push_line(line);
        }
        mirrorvane_fuzz::check_listing(&parser.finish());
    });
});
