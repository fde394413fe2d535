//! What a private mirror's `report_mirror` sends to the check-in endpoint: the XML-RPC call, its base64 + bz2
//! pickle-free payload, and the JSON form (plain or gzip). Parsing and validation never panic; they stay within
//! the size limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mirrorvane_web::checkin::payload::{decode_json, decode_xmlrpc, validate};
use mirrorvane_web::checkin::{Limits, xmlrpc};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = xmlrpc::parse_call(text);
        let _ = xmlrpc::parse_response(text);
        if let Ok(value) = decode_xmlrpc(text, &limits) {
            let _ = validate(&value);
        }
    }
    for gzip in [false, true] {
        if let Ok(value) = decode_json(data, gzip, &limits) {
            let _ = validate(&value);
        }
    }
});
