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

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mirrorvane_geo::{AsnSource, CountryDb, GeoLocator};
use mirrorvane_selector::{Context, Random, Request, SeededRandom, Selector, Workspace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [snapshot, country, asn, data, rest @ ..] = args.as_slice() else {
        return Err("usage: replay SNAPSHOT COUNTRY.mmdb ASN DATA_DIR [metalink|mirrorlist] [SECONDS]".into());
    };
    let endpoint = rest.first().map_or("metalink", String::as_str);
    let seconds: f64 = rest.get(1).map_or(Ok(5.0), |s| s.parse())?;
    let selector = Selector::decode(&std::fs::read(snapshot)?)?;
    let locate = GeoLocator::new(CountryDb::open(country)?, Some(AsnSource::open(asn)?));

    // The mix of benches/load/requests.lua: popular repositories; the dataset's special clients plus 2,000
    // addresses spread over the unicast IPv4 space.
    let mut repos = Vec::new();
    for line in std::fs::read_to_string(format!("{data}/repos.txt"))?.lines() {
        if let [prefix, arch, "1"] = line.split_whitespace().collect::<Vec<_>>()[..] {
            repos.push(format!("repo={prefix}&arch={arch}&countme=1"));
        }
    }
    let mut rng = SeededRandom::new(42);
    let mut clients: Vec<IpAddr> = std::fs::read_to_string(format!("{data}/special_clients.txt"))?
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    for _ in 0..2000 {
        let v = rng.next_u64();
        let a = 1 + (v % 223) as u8;
        let [_, _, _, _, b, c, d, _] = v.to_be_bytes();
        clients.push(IpAddr::from([a, b, c, d.max(1)]));
    }
    let path = format!("/{endpoint}");
    let mix: Vec<(String, IpAddr)> = (0..4096)
        .map(|_| {
            let repo = &repos[rng.below(repos.len() as u64) as usize];
            (repo.clone(), clients[rng.below(clients.len() as u64) as usize])
        })
        .collect();
    fn request<'a>(path: &'a str, (query, ip): &'a (String, IpAddr)) -> Request<'a> {
        Request {
            path,
            query,
            forwarded_for: None,
            accept: None,
            peer: *ip,
        }
    }

    let mut ws = Workspace::new();
    let mut random = SeededRandom::new(1);
    // One context for every request: an hour after the snapshot was made, MirrorManager's default minimum.
    let mut ctx = Context {
        now: selector.created() + 3600,
        minimum: 5,
        locate: &locate,
        random: &mut random,
    };
    let mut tiers: BTreeMap<String, usize> = BTreeMap::new();
    let mut bytes = 0;
    for r in &mix {
        let key = match selector.decide(&request(&path, r), &mut ctx, &mut ws) {
            Ok(d) => {
                let mut t: Vec<&str> = d.entries.iter().map(|e| e.tier.name()).collect();
                t.dedup();
                format!(
                    "{} ({} hosts)",
                    t.join("+"),
                    if d.entries.len() > 150 { ">150" } else { "≤150" }
                )
            }
            Err(a) => format!("answered early: {}", a.status),
        };
        *tiers.entry(key).or_default() += 1;
        bytes += selector.handle(&request(&path, r), &mut ctx, &mut ws).body.len();
    }
    for (k, n) in &tiers {
        println!("{:5.1} %  {k}", *n as f64 * 100.0 / mix.len() as f64);
    }
    println!("average answer {} bytes", bytes / mix.len());

    let evict_bytes: usize = match std::env::var("REPLAY_EVICT_BYTES") {
        Ok(v) => v.parse().map_err(|e| format!("REPLAY_EVICT_BYTES={v}: {e}"))?,
        Err(_) => 0,
    };
    let mut evict = vec![0u8; evict_bytes];
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut n, mut inside) = (0usize, Duration::ZERO);
    // SECONDS = 0 runs the mix once: what instructions.sh counts.
    for r in mix.iter().cycle() {
        if n % mix.len() == 0 && n > 0 && Instant::now() >= deadline {
            break;
        }
        if evict_bytes > 0 {
            evict_caches(&mut evict, n);
        }
        let started = Instant::now();
        std::hint::black_box(answer(&selector, &request(&path, r), &mut ctx, &mut ws));
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

/// One timed request; its own function so that instructions.sh can count inside it alone.
#[inline(never)]
fn answer(selector: &Selector, request: &Request<'_>, ctx: &mut Context<'_>, ws: &mut Workspace) -> usize {
    selector.handle(request, ctx, ws).body.len()
}

/// Dirties every cache line of `buffer` (a different byte each round, so no write is skipped as redundant).
fn evict_caches(buffer: &mut [u8], round: usize) {
    for line in buffer.chunks_mut(64) {
        line[0] = line[0].wrapping_add(round as u8 | 1);
    }
    std::hint::black_box(buffer);
}
