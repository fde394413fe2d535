//! An inventory file (TOML) as `mirrorvane apply` reads it: never panics; it parses with every value validated,
//! or errors that name what is wrong.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_inventory::format::{KnownNames, parse};

fuzz_target!(|text: &str| {
    let known = KnownNames {
        products: ["Fedora".to_owned()].into(),
        categories: ["Fedora Linux".to_owned()].into(),
    };
    if let Err(errors) = parse("fuzz.toml", text, &known) {
        assert!(!errors.to_string().is_empty());
    }
});
