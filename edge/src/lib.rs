//! The native Mirrorvane edge: an HTTP server (hyper + tokio) around the selector.
//!
//! It loads a snapshot (file or URL), answers `…/metalink` and `…/mirrorlist` exactly like MirrorManager's
//! mirrorlist server, serves `/healthz` and `/metrics`, writes the access log off the request path, and swaps in
//! a new snapshot — on SIGHUP, when the file changes, or when a polled URL's ETag changes — without failing a
//! request. A snapshot that does not validate is refused; the old one keeps serving.
//!
//! Invariant: the edge never talks to the database. Its only inputs are the snapshot, the GeoIP/ASN data and
//! requests.

pub mod access_log;
/// Client location: the shared `mirrorvane-geo` crate, re-exported under its old path.
pub use mirrorvane_geo as geo;
pub mod limits;
pub mod metrics;
pub mod service;
pub mod source;
pub mod state;

pub use limits::{Explain, Limits, Trust};
pub use service::{Config, serve, serve_loading};
