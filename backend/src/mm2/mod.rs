//! MirrorManager 2 interoperability: its protobuf mirrorlist cache and the conversion into a snapshot.
//!
//! ```text
//! cache file (.proto, maybe gzip) ──load──▶ proto::MirrorList ──convert──▶ Snapshot + warnings
//! ```

pub mod convert;
pub mod load;
pub mod netblock;
pub mod proto;
pub mod warning;

pub use convert::{Conversion, ConvertError, Stats, convert, validate};
pub use load::{LoadError, load};
pub use proto::MirrorList;
pub use warning::Warning;
