//! Replays the load test's request mix in-process: the same snapshot, GeoIP/ASN data and client mix as
//! `benches/load/run.sh`, without HTTP, so the selector's share of the edge's CPU can be measured and profiled
//! (`perf record -- target/release/examples/replay …`).
//!
//!     cargo run --release -p mirrorvane-benches --example replay -- SNAPSHOT COUNTRY.mmdb ASN DATA_DIR [ENDPOINT] [SECONDS]
//!
//! Prints the tiers the answers used, their average size, and the time per request.
//!
//! `REPLAY_EVICT_BYTES=N` writes over an N-byte buffer between requests, as the kernel's network stack and the
//! load generator do to the caches of the core that serves: the selector's figure under load is its figure
//! with a cold cache, not the warm one of a tight loop. Only the time inside `Selector::handle` is counted, and
//! under callgrind's cache simulation (`benches/load/instructions.sh` with `CACHE_SIM=1`) the misses per
//! request measure how much memory one answer touches.

use std::path::Path;
use std::time::{Duration, Instant};

use mirrorvane_geo::{AsnSource, CountryDb, GeoLocator};
use mirrorvane_perf_gate::{Mix, Summary, answer, context};
use mirrorvane_selector::{SeededRandom, Selector, Workspace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [snapshot, country, asn, data, rest @ ..] = args.as_slice() else {
        return Err("usage: replay SNAPSHOT COUNTRY.mmdb ASN DATA_DIR [metalink|mirrorlist] [SECONDS]".into());
    };
    let endpoint = rest.first().map_or("metalink", String::as_str);
    let seconds: f64 = rest.get(1).map_or(Ok(5.0), |s| s.parse())?;
    let selector = Selector::decode(&std::fs::read(snapshot)?)?;
    let locate = GeoLocator::new(CountryDb::open(country)?, Some(AsnSource::open(asn)?));
    // The mix of benches/load/requests.lua, shared with the performance gate (benches/gate).
    let mix = Mix::load(Path::new(data), endpoint)?;

    let mut ws = Workspace::new();
    let mut random = SeededRandom::new(1);
    let mut ctx = context(&selector, &locate, &mut random);
    println!("{}", Summary::of(&selector, &mix, &mut ctx, &mut ws));

    let evict_bytes: usize = match std::env::var("REPLAY_EVICT_BYTES") {
        Ok(v) => v.parse().map_err(|e| format!("REPLAY_EVICT_BYTES={v}: {e}"))?,
        Err(_) => 0,
    };
    let mut evict = vec![0u8; evict_bytes];
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut n, mut inside) = (0usize, Duration::ZERO);
    // SECONDS = 0 runs the mix once: what instructions.sh counts.
    for r in mix.requests().cycle() {
        if n % mix.len() == 0 && n > 0 && Instant::now() >= deadline {
            break;
        }
        if evict_bytes > 0 {
            evict_caches(&mut evict, n);
        }
        let started = Instant::now();
        std::hint::black_box(answer(&selector, &r, &mut ctx, &mut ws));
        inside += started.elapsed();
        n += 1;
    }
    println!(
        "{endpoint}: {:.2} µs per request (locate + decide + render), {n} requests{}",
        inside.as_secs_f64() * 1e6 / n as f64,
        if evict_bytes > 0 {
            format!(", {evict_bytes} bytes evicted between requests")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Dirties every cache line of `buffer` (a different byte each round, so no write is skipped as redundant).
fn evict_caches(buffer: &mut [u8], round: usize) {
    for line in buffer.chunks_mut(64) {
        line[0] = line[0].wrapping_add(round as u8 | 1);
    }
    std::hint::black_box(buffer);
}
