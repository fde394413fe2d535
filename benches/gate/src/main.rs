//! `perf-gate SNAPSHOT DATA_DIR ENDPOINT`: what `check.sh` runs under callgrind. Loads the snapshot, the
//! synthetic country database and the dataset's `global_netblocks.txt`, makes the load test's mix of 4,096
//! requests for ENDPOINT (`metalink` or `mirrorlist`), answers it once to warm up (printing the tiers the answers
//! used), then once more through `mirrorvane_perf_gate::answer`: only that second pass is counted.

use std::path::Path;

use mirrorvane_perf_gate::{Mix, Summary, answer, context, gate_locator};
use mirrorvane_selector::{SeededRandom, Selector, Workspace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [snapshot, data, endpoint] = args.as_slice() else {
        return Err("usage: perf-gate SNAPSHOT DATA_DIR metalink|mirrorlist".into());
    };
    if endpoint != "metalink" && endpoint != "mirrorlist" {
        return Err(format!("endpoint {endpoint}: metalink or mirrorlist").into());
    }
    let bytes = std::fs::read(snapshot).map_err(|e| format!("{snapshot}: {e}"))?;
    let selector = Selector::decode(&bytes)?;
    let data = Path::new(data);
    let locate = gate_locator(data)?;
    let mix = Mix::load(data, endpoint)?;

    let mut ws = Workspace::new();
    let mut random = SeededRandom::new(1);
    let mut ctx = context(&selector, &locate, &mut random);
    println!("{}", Summary::of(&selector, &mix, &mut ctx, &mut ws));
    let mut total = 0;
    for r in mix.requests() {
        total += answer(&selector, &r, &mut ctx, &mut ws);
    }
    println!(
        "counted: {} {endpoint} requests, {} answer bytes",
        mix.len(),
        std::hint::black_box(total)
    );
    Ok(())
}
