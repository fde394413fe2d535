//! The snapshot file: a fixed header, then the postcard-encoded [`Snapshot`].
//!
//! ```text
//! offset  size  field
//!      0     8  magic "MIRRVANE"
//!      8     4  format version, little endian
//!     12     8  creation time (Unix seconds), little endian — readable without decoding the payload
//!     20     8  payload length in bytes, little endian
//!     28     4  CRC-32 (IEEE) of the payload, little endian
//!     32     …  payload
//! ```
//! A signed snapshot is followed by a trailer ([`Signed`]): `MVSIGN01`, the signer's ed25519 public key (32
//! bytes) and its signature (64 bytes) of everything before the trailer. The selector only finds the trailer;
//! the shells verify it (`mirrorvane-signature`) before decoding.
//!
//! Decoding checks, in order: length of the header, magic, version, payload length against the bytes present
//! (truncation and trailing garbage; a signature trailer is not garbage), checksum, then postcard. Postcard
//! bounds every allocation by the input length, so a hostile file costs at most its own size.

use alloc::vec::Vec;

use super::Snapshot;

/// First eight bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"MIRRVANE";
/// The layout this build reads and writes. Bumped with every change of [`Snapshot`]'s shape.
pub const FORMAT_VERSION: u32 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 32;

/// First eight bytes of a signature trailer.
pub const SIGNATURE_MAGIC: [u8; 8] = *b"MVSIGN01";
/// Size of a signature trailer: magic, public key, signature.
pub const SIGNATURE_LEN: usize = 8 + 32 + 64;

/// A snapshot's bytes split from its signature trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// Header and payload: what was signed.
    pub snapshot: &'a [u8],
    /// The signer's ed25519 public key.
    pub public_key: &'a [u8; 32],
    /// The ed25519 signature of `snapshot`.
    pub signature: &'a [u8; 64],
}

/// The signature trailer of `bytes`, if it ends in one right after the payload its header declares.
pub fn signed(bytes: &[u8]) -> Option<Signed<'_>> {
    let header = read_header(bytes).ok()?;
    let end = HEADER_LEN.checked_add(usize::try_from(header.payload_len).ok()?)?;
    if bytes.len() != end.checked_add(SIGNATURE_LEN)? || bytes[end..end + 8] != SIGNATURE_MAGIC {
        return None;
    }
    Some(Signed {
        snapshot: &bytes[..end],
        public_key: bytes[end + 8..end + 40].try_into().ok()?,
        signature: bytes[end + 40..].try_into().ok()?,
    })
}

/// The bytes without a signature trailer (as they are when unsigned).
pub fn unsigned(bytes: &[u8]) -> &[u8] {
    signed(bytes).map_or(bytes, |s| s.snapshot)
}

/// Why bytes are not a snapshot this build can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Fewer bytes than the header.
    #[error("snapshot truncated: {len} bytes, the header alone is {HEADER_LEN}")]
    TooShort {
        /// Bytes present.
        len: usize,
    },
    /// Not a Mirrorvane snapshot at all.
    #[error("not a Mirrorvane snapshot (wrong magic bytes)")]
    BadMagic,
    /// Written by another format version.
    #[error("snapshot format version {found}, this build reads version {FORMAT_VERSION}")]
    UnsupportedVersion {
        /// Version in the header.
        found: u32,
    },
    /// Payload shorter or longer than the header says.
    #[error("snapshot payload is {actual} bytes, the header says {declared} (truncated or padded file)")]
    LengthMismatch {
        /// From the header.
        declared: u64,
        /// Present.
        actual: u64,
    },
    /// Payload damaged.
    #[error("snapshot checksum mismatch: header {declared:#010x}, payload {actual:#010x}")]
    ChecksumMismatch {
        /// From the header.
        declared: u32,
        /// Computed.
        actual: u32,
    },
    /// Checksum fine but the payload does not decode (a writer bug or a different build).
    #[error("snapshot payload does not decode: {0}")]
    Malformed(postcard::Error),
    /// Decodes, but the header and the payload disagree on the creation time.
    #[error("snapshot header says created {header}, payload says {payload}")]
    TimeMismatch {
        /// From the header.
        header: u64,
        /// From the payload.
        payload: u64,
    },
    /// Decodes, but refers to something that is not there or breaks an invariant.
    #[error("inconsistent snapshot: {0}")]
    Inconsistent(alloc::string::String),
}

/// The fixed header of a snapshot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Format version.
    pub version: u32,
    /// Creation time, Unix seconds.
    pub created: u64,
    /// Payload bytes.
    pub payload_len: u64,
    /// CRC-32 of the payload.
    pub checksum: u32,
}

/// Reads and checks the header only (magic and version), e.g. to show a file's age cheaply.
pub fn read_header(bytes: &[u8]) -> Result<Header, SnapshotError> {
    if bytes.len() < HEADER_LEN {
        return Err(SnapshotError::TooShort { len: bytes.len() });
    }
    if bytes[..8] != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let u32_at = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
    let header = Header {
        version: u32_at(8),
        created: u64_at(12),
        payload_len: u64_at(20),
        checksum: u32_at(28),
    };
    if header.version != FORMAT_VERSION {
        return Err(SnapshotError::UnsupportedVersion { found: header.version });
    }
    Ok(header)
}

/// Serializes `snapshot` with its header.
pub fn encode(snapshot: &Snapshot) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 1024);
    out.resize(HEADER_LEN, 0);
    // Serializing into a Vec cannot fail: every type of the snapshot is plain data.
    let out = postcard::to_extend(snapshot, out).unwrap_or_default();
    let payload = &out[HEADER_LEN..];
    let checksum = crc32fast::hash(payload);
    let payload_len = payload.len() as u64;
    let mut out = out;
    out[..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12..20].copy_from_slice(&snapshot.created.to_le_bytes());
    out[20..28].copy_from_slice(&payload_len.to_le_bytes());
    out[28..32].copy_from_slice(&checksum.to_le_bytes());
    out
}

/// Checks the header and decodes the payload. Does not check references; [`crate::Selector::new`] does.
pub fn decode(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let bytes = unsigned(bytes);
    let header = read_header(bytes)?;
    let payload = &bytes[HEADER_LEN..];
    if header.payload_len != payload.len() as u64 {
        return Err(SnapshotError::LengthMismatch {
            declared: header.payload_len,
            actual: payload.len() as u64,
        });
    }
    let actual = crc32fast::hash(payload);
    if actual != header.checksum {
        return Err(SnapshotError::ChecksumMismatch {
            declared: header.checksum,
            actual,
        });
    }
    let (snapshot, rest): (Snapshot, &[u8]) = postcard::take_from_bytes(payload).map_err(SnapshotError::Malformed)?;
    if !rest.is_empty() {
        return Err(SnapshotError::Malformed(postcard::Error::DeserializeBadEncoding));
    }
    if snapshot.created != header.created {
        return Err(SnapshotError::TimeMismatch {
            header: header.created,
            payload: snapshot.created,
        });
    }
    Ok(snapshot)
}
