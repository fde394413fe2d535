//! Selector benchmarks on the Fedora-scale synthetic world (400 hosts, 25,000 directories, 4,000 repositories).
//!
//! Targets (median, in-process, release): decision ≤ 3 µs, rendering ≥ 1 GB/s of output, decode + index of the
//! snapshot ≤ 100 ms. The world is generated once, outside every timed closure; each benchmark reuses one
//! `Workspace` and one random generator across iterations, as an edge worker thread does.

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mirrorvane_selector::snapshot::encode;
use mirrorvane_selector::{Context, SeededRandom, Selector, Workspace};
use mirrorvane_testkit::scenarios::{NOW, mixed, tier_scenarios, tiers};
use mirrorvane_testkit::synthetic::{Scale, World, generate};

const SEED: u64 = 20260101;

fn world() -> &'static (World, Selector, Vec<u8>) {
    static W: OnceLock<(World, Selector, Vec<u8>)> = OnceLock::new();
    W.get_or_init(|| {
        let world = generate(&Scale::fedora(), SEED);
        let bytes = encode(&world.snapshot);
        let sel = Selector::new(world.snapshot.clone()).expect("the synthetic world is valid");
        eprintln!("Fedora-scale snapshot: {} bytes", bytes.len());
        (world, sel, bytes)
    })
}

fn decision(c: &mut Criterion) {
    let (world, sel, _) = world();
    let mut group = c.benchmark_group("decision");
    for s in tier_scenarios(world, sel) {
        eprintln!(
            "{}: {} {:?}",
            s.name,
            s.ip,
            tiers(sel, &world.geo, "/metalink", &s.query, s.ip)
        );
        let req = s.request("/metalink");
        let mut ws = Workspace::new();
        let mut rng = SeededRandom::new(1);
        group.bench_function(s.name, |b| {
            b.iter(|| {
                let mut ctx = Context {
                    now: NOW,
                    minimum: 5,
                    locate: &world.geo,
                    random: &mut rng,
                };
                black_box(sel.decide(black_box(&req), &mut ctx, &mut ws).is_ok())
            });
        });
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    let (world, sel, _) = world();
    for path in ["/metalink", "/mirrorlist"] {
        let mut group = c.benchmark_group(format!("render{path}"));
        for s in tier_scenarios(world, sel) {
            let req = s.request(path);
            let mut ws = Workspace::new();
            let mut rng = SeededRandom::new(1);
            let len = {
                let mut ctx = Context {
                    now: NOW,
                    minimum: 5,
                    locate: &world.geo,
                    random: &mut rng,
                };
                sel.handle(&req, &mut ctx, &mut ws).body.len()
            };
            eprintln!("{path} {}: {len} bytes", s.name);
            group.throughput(Throughput::Bytes(len as u64));
            group.bench_function(s.name, |b| {
                b.iter(|| {
                    let mut ctx = Context {
                        now: NOW,
                        minimum: 5,
                        locate: &world.geo,
                        random: &mut rng,
                    };
                    black_box(sel.handle(black_box(&req), &mut ctx, &mut ws).body.len())
                });
            });
        }
        group.finish();
    }
}

fn mixed_load(c: &mut Criterion) {
    let (world, sel, _) = world();
    let load = mixed(world, 1024);
    let mut ws = Workspace::new();
    let mut rng = SeededRandom::new(1);
    let bytes: usize = load
        .iter()
        .map(|(path, s)| {
            let mut ctx = Context {
                now: NOW,
                minimum: 5,
                locate: &world.geo,
                random: &mut rng,
            };
            sel.handle(&s.request(path), &mut ctx, &mut ws).body.len()
        })
        .sum();
    let mut group = c.benchmark_group("mixed");
    group.throughput(Throughput::Bytes((bytes / load.len()) as u64));
    normal_mix(&mut group, "handle");
    group.finish();
}

/// The mixed load of popular requests, one after another, as benchmark `name` of `group`.
fn normal_mix(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str) {
    let (world, sel, _) = world();
    let load = mixed(world, 1024);
    let mut ws = Workspace::new();
    let mut rng = SeededRandom::new(1);
    let mut i = 0;
    group.bench_function(name, |b| {
        b.iter(|| {
            let (path, s) = &load[i % load.len()];
            i += 1;
            let mut ctx = Context {
                now: NOW,
                minimum: 5,
                locate: &world.geo,
                random: &mut rng,
            };
            black_box(sel.handle(&s.request(path), &mut ctx, &mut ws).body.len())
        });
    });
}

/// Hostile requests next to the normal mix: each is a 16 KB query (the most the edge reads in a request head,
/// `--max-head-bytes`) built to be as expensive as possible. The edge's limits (country= case-folded and capped, protocol= limited
/// to known schemes, each host once per answer) keep each within a few times a normal request.
fn worst_case(c: &mut Criterion) {
    let (world, sel, _) = world();
    const LIMIT: usize = 16 * 1024;
    let fill = |prefix: &str, item: &dyn Fn(usize) -> String, sep: &str| {
        let mut q = String::from(prefix);
        let mut i = 0;
        while q.len() < LIMIT - 64 {
            if i > 0 {
                q.push_str(sep);
            }
            q.push_str(&item(i));
            i += 1;
        }
        q
    };
    let letters = |i: usize| {
        let a = (b'A' + (i / 26 % 26) as u8) as char;
        let b = (b'A' + (i % 26) as u8) as char;
        if i.is_multiple_of(2) {
            format!("{a}{b}")
        } else {
            format!("{a}{b}").to_lowercase()
        }
    };
    let schemes = ["http", "https", "rsync", "ftp", "HTTPS", "gopher", "h", "x"];
    let ip = mixed(world, 1)[0].1.ip;
    let cases: Vec<(&str, String)> = vec![
        (
            "country_flood",
            fill("repo=fedora-43&arch=x86_64&country=", &letters, ","),
        ),
        (
            "country_global_flood",
            fill(
                "repo=fedora-43&arch=x86_64&country=",
                &|i| {
                    if i.is_multiple_of(2) {
                        "global".into()
                    } else {
                        letters(i)
                    }
                },
                ",",
            ),
        ),
        (
            "protocol_flood",
            fill(
                "repo=fedora-43&arch=x86_64&protocol=",
                &|i| schemes[i % schemes.len()].into(),
                ",",
            ),
        ),
        (
            "repeated_parameters",
            fill(
                "repo=fedora-43&arch=x86_64",
                &|i| format!("&country={}&protocol={}", letters(i), schemes[i % 3]),
                "",
            ),
        ),
        (
            "long_unknown_path",
            fill(
                "repo=fedora-43&arch=x86_64&path=",
                &|_| "pub/fedora/linux/releases".into(),
                "/",
            ),
        ),
    ];
    let mut group = c.benchmark_group("worst_case");
    normal_mix(&mut group, "normal_mix");
    let mut ws = Workspace::new();
    let mut rng = SeededRandom::new(1);
    for (name, query) in &cases {
        let scenario = mirrorvane_testkit::scenarios::Scenario {
            name,
            query: query.clone(),
            ip,
        };
        for path in ["/metalink", "/mirrorlist"] {
            let req = scenario.request(path);
            let len = {
                let mut ctx = Context {
                    now: NOW,
                    minimum: 5,
                    locate: &world.geo,
                    random: &mut rng,
                };
                sel.handle(&req, &mut ctx, &mut ws).body.len()
            };
            eprintln!(
                "worst_case {name}{path}: query {} bytes, answer {len} bytes",
                query.len()
            );
            group.bench_function(format!("{name}{path}"), |b| {
                b.iter(|| {
                    let mut ctx = Context {
                        now: NOW,
                        minimum: 5,
                        locate: &world.geo,
                        random: &mut rng,
                    };
                    black_box(sel.handle(black_box(&req), &mut ctx, &mut ws).body.len())
                });
            });
        }
    }
    group.finish();
}

fn snapshot(c: &mut Criterion) {
    let (world, _, bytes) = world();
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("decode_index", |b| {
        b.iter(|| Selector::decode(black_box(bytes)).map(|s| s.created()));
    });
    group.bench_function("encode", |b| b.iter(|| encode(black_box(&world.snapshot)).len()));
    group.bench_function("index_only", |b| {
        b.iter_batched(
            || world.snapshot.clone(),
            |snap| Selector::new(snap).map(|s| s.created()),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, decision, render, mixed_load, worst_case, snapshot);
criterion_main!(benches);
