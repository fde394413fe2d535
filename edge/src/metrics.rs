//! `/metrics` in the Prometheus text format: requests by endpoint and status, decision latency, the snapshot's
//! creation time and generation, reload failures and dropped log lines.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use thread_local::ThreadLocal;

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    status: u16,
}

/// Decision-latency buckets with an upper bound; one more takes the rest.
const LATENCY_BUCKETS: usize = 15;

/// Upper bound of bucket `i`: 1 µs … ~16 ms, doubling.
fn latency_bound(i: usize) -> f64 {
    1e-6 * f64::from(1u32 << i)
}

/// One worker thread's counts. Only that thread writes them, so the request path takes no lock another core
/// holds and touches no cache line another core writes; a scrape reads them all.
#[derive(Debug, Default)]
struct Shard {
    /// Requests per (endpoint, status): a handful of pairs.
    requests: Mutex<Vec<(RequestLabels, u64)>>,
    /// Decisions per latency bucket (the last: above every bound).
    buckets: [AtomicU64; LATENCY_BUCKETS + 1],
    /// Sum of the decisions' seconds, as `f64` bits.
    seconds: AtomicU64,
}

/// Requests by endpoint and status and the decision-latency histogram, counted per thread and summed at scrape.
/// (A shared `Family` and `Histogram` took a read lock and a mutex per request that every worker contends for.)
#[derive(Debug, Default)]
struct RequestStats(ThreadLocal<Shard>);

impl RequestStats {
    fn record(&self, endpoint: &'static str, status: u16, seconds: Option<f64>) {
        let shard = self.0.get_or_default();
        {
            let mut requests = shard.requests.lock().unwrap_or_else(PoisonError::into_inner);
            match requests
                .iter_mut()
                .find(|(l, _)| l.endpoint == endpoint && l.status == status)
            {
                Some((_, n)) => *n += 1,
                None => requests.push((RequestLabels { endpoint, status }, 1)),
            }
        }
        if let Some(s) = seconds {
            let bucket = (0..LATENCY_BUCKETS)
                .find(|&i| s <= latency_bound(i))
                .unwrap_or(LATENCY_BUCKETS);
            shard.buckets[bucket].fetch_add(1, Relaxed);
            // Only this thread writes the sum: no lost update between the load and the store.
            let sum = f64::from_bits(shard.seconds.load(Relaxed)) + s;
            shard.seconds.store(sum.to_bits(), Relaxed);
        }
    }
}

impl Collector for RequestStats {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let mut requests: Vec<(RequestLabels, u64)> = Vec::new();
        let mut buckets = [0u64; LATENCY_BUCKETS + 1];
        let mut seconds = 0.0;
        for shard in self.0.iter() {
            for (labels, n) in shard.requests.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                match requests.iter_mut().find(|(l, _)| l == labels) {
                    Some((_, total)) => *total += n,
                    None => requests.push((labels.clone(), *n)),
                }
            }
            for (total, b) in buckets.iter_mut().zip(&shard.buckets) {
                *total += b.load(Relaxed);
            }
            seconds += f64::from_bits(shard.seconds.load(Relaxed));
        }
        requests.sort();
        if !requests.is_empty() {
            let mut family = encoder.encode_descriptor(
                "requests",
                // `Registry::register` ends a help text with a full stop; so do the collector's.
                "Requests answered, by endpoint and HTTP status.",
                None,
                MetricType::Counter,
            )?;
            for (labels, n) in &requests {
                family
                    .encode_family(labels)?
                    .encode_counter::<NoLabelSet, _, u64>(n, None)?;
            }
        }
        let bounds: Vec<(f64, u64)> = (0..LATENCY_BUCKETS)
            .map(latency_bound)
            .chain([f64::INFINITY])
            .zip(buckets)
            .collect();
        encoder
            .encode_descriptor(
                "decision_seconds",
                "Time to decide and render one answer, excluding HTTP.",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(seconds, buckets.iter().sum(), &bounds, None)
    }
}

/// All metrics of one edge process.
pub struct Metrics {
    registry: Registry,
    requests: Arc<RequestStats>,
    created: Gauge<i64, AtomicI64>,
    generation: Gauge<i64, AtomicI64>,
    reload_failures: Counter,
    log_dropped: Counter<u64, AtomicU64>,
    log_errors: Counter,
    connections_refused: Counter<u64, AtomicU64>,
    age: Gauge<i64, AtomicI64>,
}

type AtomicI64 = std::sync::atomic::AtomicI64;

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mirrorvane_edge");
        let requests = Arc::new(RequestStats::default());
        registry.register_collector(Box::new(requests.clone()));
        let created = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "snapshot_created_seconds",
            "Creation time of the snapshot being served (Unix seconds)",
            created.clone(),
        );
        let generation = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "snapshot_generation",
            "Snapshot loads since start (1 = the first)",
            generation.clone(),
        );
        let reload_failures = Counter::default();
        registry.register(
            "snapshot_reload_failures",
            "Snapshots refused (unreadable, corrupt or inconsistent); the previous one kept serving",
            reload_failures.clone(),
        );
        let log_dropped = Counter::default();
        registry.register(
            "access_log_dropped_lines",
            "Access-log lines dropped because the writer fell behind",
            log_dropped.clone(),
        );
        let log_errors = Counter::default();
        registry.register(
            "access_log_write_errors",
            "Access-log writes and reopens that failed (disk full, file gone); the lines are lost",
            log_errors.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "connections_refused",
            "Connections answered 503 and closed because a worker held its maximum",
            connections_refused.clone(),
        );
        let age = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "snapshot_age_seconds",
            "Seconds since the newest build the backend confirmed for the content being served",
            age.clone(),
        );
        Metrics {
            registry,
            requests,
            created,
            generation,
            reload_failures,
            log_dropped,
            log_errors,
            connections_refused,
            age,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, endpoint: &'static str, status: u16, seconds: f64) {
        self.requests
            .record(endpoint, status, (endpoint != "other").then_some(seconds));
    }

    /// Records a successful (re)load.
    pub fn snapshot_loaded(&self, created: u64, generation: u64) {
        self.created.set(created as i64);
        self.generation.set(generation as i64);
    }

    /// Counts a refused snapshot.
    pub fn reload_failed(&self) {
        self.reload_failures.inc();
    }

    /// The counter the access-log writer counts its errors in.
    pub fn log_write_errors(&self) -> Counter {
        self.log_errors.clone()
    }

    /// Counts a dropped access-log line.
    pub fn log_dropped(&self) {
        self.log_dropped.inc();
    }

    /// The snapshot's age, set before each scrape.
    pub fn set_age(&self, seconds: u64) {
        self.age.set(i64::try_from(seconds).unwrap_or(i64::MAX));
    }

    /// Counts a connection refused over the cap.
    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    #[test]
    fn counts_from_every_thread_are_summed_at_scrape() {
        let metrics = Metrics::new();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    metrics.request("metalink", 200, 3e-6);
                    metrics.request("mirrorlist", 200, 0.5);
                    metrics.request("other", 404, 1.0);
                });
            }
        });
        metrics.request("metalink", 200, 1e-6);
        let text = metrics.encode();
        for line in [
            "mirrorvane_edge_requests_total{endpoint=\"metalink\",status=\"200\"} 4",
            "mirrorvane_edge_requests_total{endpoint=\"mirrorlist\",status=\"200\"} 3",
            "mirrorvane_edge_requests_total{endpoint=\"other\",status=\"404\"} 3",
            // "other" requests are not decisions.
            "mirrorvane_edge_decision_seconds_count 7",
            "mirrorvane_edge_decision_seconds_bucket{le=\"0.000001\"} 1",
            "mirrorvane_edge_decision_seconds_bucket{le=\"0.000004\"} 4",
            "mirrorvane_edge_decision_seconds_bucket{le=\"0.016384\"} 4",
            "mirrorvane_edge_decision_seconds_bucket{le=\"+Inf\"} 7",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("mirrorvane_edge_decision_seconds_sum "))
            .and_then(|v| v.parse().ok())
            .expect("a sum");
        assert!((sum - 1.500_01).abs() < 1e-9, "sum {sum}");
    }
}
