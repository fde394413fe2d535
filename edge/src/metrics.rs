//! `/metrics` in the Prometheus text format: requests by endpoint and status, decision latency, the snapshot's
//! creation time and generation, reload failures and dropped log lines.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    status: u16,
}

/// All metrics of one edge process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histogram,
    created: Gauge<i64, AtomicI64>,
    generation: Gauge<i64, AtomicI64>,
    reload_failures: Counter,
    log_dropped: Counter<u64, AtomicU64>,
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
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by endpoint and HTTP status",
            requests.clone(),
        );
        // 1 µs … ~16 ms.
        let latency = Histogram::new(exponential_buckets(1e-6, 2.0, 15));
        registry.register(
            "decision_seconds",
            "Time to decide and render one answer, excluding HTTP",
            latency.clone(),
        );
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
        Metrics {
            registry,
            requests,
            latency,
            created,
            generation,
            reload_failures,
            log_dropped,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, endpoint: &'static str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { endpoint, status }).inc();
        if endpoint != "other" {
            self.latency.observe(seconds);
        }
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

    /// Counts a dropped access-log line.
    pub fn log_dropped(&self) {
        self.log_dropped.inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
