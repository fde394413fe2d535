//! Reading a cache file: plain or gzip-compressed protobuf.
//!
//! Compression is recognised by the gzip magic bytes, not by the file name, because caches are copied around
//! under whatever name a deployment uses (`mirrorlist_cache.proto`, `cache.proto.gz`, a temp file).

use std::io::Read;
use std::path::{Path, PathBuf};

use prost::Message;

use super::proto::MirrorList;

/// The first two bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why a cache file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Could not read the file.
    #[error("cannot read MirrorManager cache {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Starts like gzip but does not decompress.
    #[error("MirrorManager cache {path} looks gzip-compressed but does not decompress")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a `mirrormanager.MirrorList` protobuf.
    #[error("MirrorManager cache {path} is not a mirrormanager.MirrorList protobuf")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: prost::DecodeError,
    },
}

/// Reads `path`, decompressing it first when it is gzip.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, LoadError> {
    let raw = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len().saturating_mul(8));
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| LoadError::Gzip {
            path: path.to_owned(),
            source,
        })?;
    Ok(out)
}

/// Decodes cache bytes; `path` only names the source in errors.
pub fn decode(bytes: &[u8], path: &Path) -> Result<MirrorList, LoadError> {
    MirrorList::decode(bytes).map_err(|source| LoadError::Decode {
        path: path.to_owned(),
        source,
    })
}

/// Reads and decodes a cache file.
pub fn load(path: &Path) -> Result<MirrorList, LoadError> {
    decode(&read_bytes(path)?, path)
}
