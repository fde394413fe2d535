//! What every request reads: the current snapshot (swapped whole on reload), how fresh it is, and the fixed
//! parts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Its content digest (`mirrorvane_signature::content_digest`): a rebuild with the same digest only
    /// refreshes [`State::fresh`].
    pub digest: Option<[u8; 32]>,
}

/// The fixed parts of a [`State`].
pub struct Settings {
    /// Client locator (GeoIP, ASN).
    pub locate: Arc<dyn Locate + Send + Sync>,
    /// `--minimum`.
    pub minimum: usize,
    /// Applied to every snapshot installed (`--no-family-preference` turns it off).
    pub family_preference: bool,
    /// Access log, if configured.
    pub access_log: Option<AccessLog>,
    /// The process's metrics (made first: the access log counts its errors there).
    pub metrics: Metrics,
    /// Whom to believe.
    pub trust: Trust,
    /// `/healthz` says degraded when the snapshot is older than this.
    pub max_age: Option<Duration>,
}

/// Shared by all connections.
pub struct State {
    current: ArcSwap<Loaded>,
    generation: AtomicU64,
    /// The newest creation time the backend confirmed for the content being served (a rebuild of the same
    /// content, a `304` with `X-Snapshot-Created`).
    fresh: AtomicU64,
    /// Why the last reload failed; `None` once one succeeds.
    last_error: Mutex<Option<String>>,
    /// Client locator (GeoIP, ASN).
    pub locate: Arc<dyn Locate + Send + Sync>,
    /// `--minimum`.
    pub minimum: usize,
    /// Applied to every snapshot installed.
    pub family_preference: bool,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Access log, if configured.
    pub access_log: Option<AccessLog>,
    /// Whom to believe.
    pub trust: Trust,
    /// See [`Settings::max_age`].
    pub max_age: Option<Duration>,
}

impl State {
    /// State serving `selector` as generation 1.
    pub fn new(mut selector: Selector, digest: Option<[u8; 32]>, settings: Settings) -> State {
        selector.set_family_preference(settings.family_preference);
        let metrics = settings.metrics;
        let created = selector.created();
        metrics.snapshot_loaded(created, 1);
        State {
            current: ArcSwap::from_pointee(Loaded {
                selector,
                generation: 1,
                digest,
            }),
            generation: AtomicU64::new(1),
            fresh: AtomicU64::new(created),
            last_error: Mutex::new(None),
            locate: settings.locate,
            minimum: settings.minimum,
            family_preference: settings.family_preference,
            metrics,
            access_log: settings.access_log,
            trust: settings.trust,
            max_age: settings.max_age,
        }
    }

    /// The snapshot to answer the next request from. Requests in flight keep the one they started with.
    pub fn current(&self) -> arc_swap::Guard<Arc<Loaded>> {
        self.current.load()
    }

    /// Installs a new snapshot; returns its generation.
    pub fn install(&self, mut selector: Selector, digest: Option<[u8; 32]>) -> u64 {
        selector.set_family_preference(self.family_preference);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let created = selector.created();
        self.metrics.snapshot_loaded(created, generation);
        self.current.store(Arc::new(Loaded {
            selector,
            generation,
            digest,
        }));
        self.fresh.store(created, Ordering::Relaxed);
        self.reloaded();
        generation
    }

    /// The backend confirmed the content being served as of `created`.
    pub fn confirm(&self, created: u64) {
        self.fresh.fetch_max(created, Ordering::Relaxed);
        self.reloaded();
    }

    /// Newest confirmed creation time of the content being served.
    pub fn fresh(&self) -> u64 {
        self.fresh.load(Ordering::Relaxed)
    }

    /// A reload (or a check that found nothing new) succeeded.
    pub fn reloaded(&self) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = None;
        }
    }

    /// A reload failed: counted, and kept for `/healthz` until one succeeds.
    pub fn reload_failed(&self, why: String) {
        self.metrics.reload_failed();
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(why);
        }
    }

    /// Why the snapshot is not trustworthy right now, if it is not: too old, or the last reload failed.
    pub fn degraded(&self, now: u64) -> Option<String> {
        let age = now.saturating_sub(self.fresh());
        let mut problems = Vec::new();
        if let Some(max) = self.max_age
            && age > max.as_secs()
        {
            problems.push(format!("the snapshot is {age} s old (more than {} s)", max.as_secs()));
        }
        if let Some(e) = self.last_error.lock().ok().and_then(|e| e.clone()) {
            problems.push(format!("the last reload failed: {e}"));
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}
