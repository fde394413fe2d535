//! What every request reads: the current snapshot (swapped whole on reload) and the fixed parts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use mirrorvane_selector::{Locate, Selector};

use crate::access_log::AccessLog;
use crate::limits::Trust;
use crate::metrics::Metrics;

/// A loaded snapshot and its load generation (1 for the first, +1 per successful reload).
pub struct Loaded {
    /// The indexed snapshot.
    pub selector: Selector,
    /// Which load this is.
    pub generation: u64,
}

/// Shared by all connections.
pub struct State {
    current: ArcSwap<Loaded>,
    generation: AtomicU64,
    /// Client locator (GeoIP, ASN).
    pub locate: Arc<dyn Locate + Send + Sync>,
    /// `--minimum`.
    pub minimum: usize,
    /// Applied to every snapshot installed (`--no-family-preference` turns it off).
    pub family_preference: bool,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Access log, if configured.
    pub access_log: Option<AccessLog>,
    /// Whom to believe.
    pub trust: Trust,
}

impl State {
    /// State serving `selector` as generation 1.
    pub fn new(
        mut selector: Selector,
        locate: Arc<dyn Locate + Send + Sync>,
        minimum: usize,
        family_preference: bool,
        access_log: Option<AccessLog>,
        trust: Trust,
    ) -> State {
        selector.set_family_preference(family_preference);
        let metrics = Metrics::new();
        metrics.snapshot_loaded(selector.created(), 1);
        State {
            current: ArcSwap::from_pointee(Loaded {
                selector,
                generation: 1,
            }),
            generation: AtomicU64::new(1),
            locate,
            minimum,
            family_preference,
            metrics,
            access_log,
            trust,
        }
    }

    /// The snapshot to answer the next request from. Requests in flight keep the one they started with.
    pub fn current(&self) -> arc_swap::Guard<Arc<Loaded>> {
        self.current.load()
    }

    /// Installs a new snapshot; returns its generation.
    pub fn install(&self, mut selector: Selector) -> u64 {
        selector.set_family_preference(self.family_preference);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.metrics.snapshot_loaded(selector.created(), generation);
        self.current.store(Arc::new(Loaded { selector, generation }));
        generation
    }
}
