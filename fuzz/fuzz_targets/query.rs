//! Arbitrary requests against a small fixed snapshot: the query parser, routing, client-address parsing,
//! `Accept` negotiation, every decision tier and every renderer must never panic and must answer 200, 302,
//! 404 or 500.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mirrorvane_fuzz::{answer_and_check, selector};
use mirrorvane_selector::query::Query;
use mirrorvane_selector::{Request, Workspace};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    path: &'a str,
    query: &'a str,
    forwarded_for: Option<&'a [u8]>,
    accept: Option<&'a [u8]>,
    peer: Peer,
    now: u64,
    minimum: u8,
    seed: u64,
}

#[derive(Arbitrary, Debug)]
enum Peer {
    V4([u8; 4]),
    V6([u8; 16]),
}

fuzz_target!(|input: Input<'_>| {
    let _ = Query::parse(input.query);
    let peer = match input.peer {
        Peer::V4(o) => IpAddr::V4(Ipv4Addr::from(o)),
        Peer::V6(o) => IpAddr::V6(Ipv6Addr::from(o)),
    };
    let req = Request {
        path: input.path,
        query: input.query,
        forwarded_for: input.forwarded_for,
        accept: input.accept,
        peer,
    };
    let mut ws = Workspace::new();
    answer_and_check(
        selector(),
        &req,
        input.now,
        usize::from(input.minimum),
        input.seed,
        &mut ws,
    );
    // Reusing the workspace must not change the answer's validity.
    answer_and_check(
        selector(),
        &req,
        input.now,
        usize::from(input.minimum),
        input.seed ^ 1,
        &mut ws,
    );
});
