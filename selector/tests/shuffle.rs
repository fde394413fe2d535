//! The bandwidth-weighted order is sampling without replacement with P ∝ bandwidth (reference §3.7, §11.4).

use mirrorvane_testkit::fixture::*;

/// Two hosts in the client's country, bandwidth 1000 and 100: the heavy one is first with probability
/// 1000/1100 ≈ 0.909. Over 10,000 seeded draws the count has standard deviation √(n·p·(1−p)) ≈ 28.7; we accept
/// ±5σ (≈ ±144), so a correct implementation fails with probability < 1e-6 and a uniform shuffle (5,000) or a
/// reversed weighting (909) fails always.
#[test]
fn heavy_host_first_about_91_percent() {
    let fx = Fixture::default()
        .host(1, Some("DE"), 1000, &["http://heavy.example/pub"])
        .host(2, Some("DE"), 100, &["http://light.example/pub"])
        .dir("pub/x", "pub", &[1, 2]);
    let sel = fx.selector();
    let geo = Geo(vec![("198.51.100.7", Some("DE"), None)]);
    let n = 10_000u64;
    let mut heavy_first = 0;
    for seed in 0..n {
        let r = call(
            &sel,
            &geo,
            &Call {
                path_and_query: "/mirrorlist?path=pub/x&ip=198.51.100.7",
                minimum: 1,
                seed,
                ..Default::default()
            },
        );
        let first = r.body.lines().nth(1).unwrap();
        if first.starts_with("http://heavy") {
            heavy_first += 1;
        }
    }
    let expected = n as f64 * 1000.0 / 1100.0;
    let sigma = (n as f64 * (1000.0 / 1100.0) * (100.0 / 1100.0)).sqrt();
    assert!(
        (heavy_first as f64 - expected).abs() < 5.0 * sigma,
        "heavy first {heavy_first} times of {n}, expected ≈ {expected:.0} ± {:.0}",
        5.0 * sigma
    );
}

/// Three hosts 600:300:100: the probability that the order is (100, 300, 600) — lightest first — is
/// (100/1000)·(300/900) = 1/30. Checks the later draws too, not just the first.
#[test]
fn full_permutation_distribution() {
    let fx = Fixture::default()
        .host(1, Some("DE"), 600, &["http://a/p"])
        .host(2, Some("DE"), 300, &["http://b/p"])
        .host(3, Some("DE"), 100, &["http://c/p"])
        .dir("pub/x", "pub", &[1, 2, 3]);
    let sel = fx.selector();
    let geo = Geo(vec![("198.51.100.7", Some("DE"), None)]);
    let n = 30_000u64;
    let mut count = std::collections::HashMap::<String, u64>::new();
    for seed in 0..n {
        let r = call(
            &sel,
            &geo,
            &Call {
                path_and_query: "/mirrorlist?path=pub/x&ip=198.51.100.7",
                minimum: 1,
                seed,
                ..Default::default()
            },
        );
        let order: String = r.body.lines().skip(1).map(|l| &l[7..8]).collect();
        *count.entry(order).or_default() += 1;
    }
    // P(abc) = .6 · 3/4 = .45; P(cba) = .1 · 1/3 = 1/30.
    for (order, p) in [
        ("abc", 0.45),
        ("acb", 0.6 * 0.25),
        ("bac", 0.3 * 6.0 / 7.0),
        ("cba", 1.0 / 30.0),
    ] {
        let got = *count.get(order).unwrap_or(&0) as f64;
        let sigma = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (got - n as f64 * p).abs() < 5.0 * sigma,
            "{order}: {got} of {n}, expected {:.0}",
            n as f64 * p
        );
    }
}

/// Same seed, same bytes; different seeds, different orders.
#[test]
fn deterministic_given_the_seed() {
    let mut fx = Fixture::default();
    let mut ids = Vec::new();
    for i in 1..=30 {
        fx = fx.host(i, Some("DE"), i * 10, &[]);
        fx.hosts.get_mut(&i).unwrap().urls = vec![format!("http://m{i}/p")];
        ids.push(i);
    }
    let sel = fx.dir("pub/x", "pub", &ids).selector();
    let geo = Geo(vec![("198.51.100.7", Some("DE"), None)]);
    let c = |seed| {
        call(
            &sel,
            &geo,
            &Call {
                path_and_query: "/mirrorlist?path=pub/x&ip=198.51.100.7",
                seed,
                ..Default::default()
            },
        )
        .body
    };
    assert_eq!(c(5), c(5));
    assert_ne!(c(5), c(6));
}
