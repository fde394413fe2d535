//! MirrorManager 2 interoperability, for deployments moving over:
//!
//! ```text
//! cache file (.proto, maybe gzip) ──load──▶ proto::MirrorList ──convert──▶ Snapshot + warnings
//! converted Snapshot ──────────────────────import::from_snapshot──▶ an empty Mirrorvane database
//! MirrorManager2 PostgreSQL database ──────import::mm2db─────────▶ an empty Mirrorvane database
//! ```
//!
//! The cache path lets edges serve what MirrorManager already generates before the backend is adopted; the
//! imports move the data over when it is.

pub mod convert;
pub mod import;
pub mod load;
pub mod proto;
pub mod warning;

pub use convert::{Conversion, ConvertError, convert, validate};
pub use load::{LoadError, load};
pub use mirrorvane_selector::snapshot::Stats;
pub use proto::MirrorList;
pub use warning::Warning;
