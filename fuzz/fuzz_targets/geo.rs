//! The GeoIP and ASN readers on arbitrary files: MaxMind databases (country and ASN) and MirrorManager's
//! `global_netblocks.txt`. Opening and looking up never panic.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use mirrorvane_geo::{AsnDb, CountryDb, PrefixAsnTable};

fuzz_target!(|data: &[u8]| {
    let probes = [
        IpAddr::V4(Ipv4Addr::new(89, 160, 20, 113)),
        IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
        IpAddr::V4(Ipv4Addr::new(255, 255, 255, 255)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0x218, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ];
    if let Ok(db) = CountryDb::from_bytes(data.to_vec()) {
        for ip in probes {
            let _ = db.lookup(ip);
            let _ = db.locate(ip);
        }
    }
    if let Ok(db) = AsnDb::from_bytes(data.to_vec()) {
        for ip in probes {
            let _ = db.lookup(ip);
        }
    }
    if let Ok(table) = PrefixAsnTable::parse(data) {
        let _ = table.report();
        for ip in probes {
            let _ = table.asn(ip);
        }
    }
});
