//! Who made a snapshot: the backend signs each snapshot it writes with an ed25519 key
//! ([`SecretKey::sign`], `mirrorvane keygen` makes the key); edges and the WASM worker hold the public keys they
//! accept and [`verify`] a snapshot before decoding a byte of it. A CRC-32 catches damage; this catches anyone
//! on the path who rewrites mirror URLs or the `repomd.xml` hashes dnf checks.
//!
//! The signature travels in the snapshot file (the codec's trailer, `mirrorvane_selector::snapshot::signed`), so
//! a file copied by rsync or served over HTTP carries its own proof.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, Verifier as _};
use mirrorvane_selector::snapshot::{SIGNATURE_MAGIC, signed};

/// Why a snapshot's signature is not accepted, or a key not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the snapshot is not signed, and only signed snapshots are accepted")]
    Unsigned,
    #[error("the snapshot is signed by key {0}, which is not one of the accepted keys")]
    UnknownKey(String),
    #[error("the snapshot's signature does not match its content (tampered or damaged)")]
    Invalid,
    #[error("not a key: {0}")]
    BadKey(String),
    #[error("cannot generate a key: {0}")]
    Random(String),
}

/// Text form of a secret key: this prefix, then the 32-byte seed in base64.
const SECRET_PREFIX: &str = "mirrorvane-snapshot-secret-key ";
/// Text form of a public key: this prefix (optional when reading), then the 32-byte key in base64.
const PUBLIC_PREFIX: &str = "mirrorvane-snapshot-key ";

/// The backend's signing key.
pub struct SecretKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(public {})", self.public().to_text())
    }
}

/// A public key edges accept snapshots from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_text())
    }
}

impl SecretKey {
    /// A new random key.
    #[cfg(feature = "keygen")]
    pub fn generate() -> Result<SecretKey, SignatureError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SignatureError::Random(e.to_string()))?;
        Ok(SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// Reads the text form ([`SecretKey::to_text`]).
    pub fn from_text(text: &str) -> Result<SecretKey, SignatureError> {
        let b64 = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| SignatureError::BadKey(format!("a secret key starts with {SECRET_PREFIX:?}")))?;
        let seed: [u8; 32] = decode32(b64)?;
        Ok(SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// `mirrorvane-snapshot-secret-key <base64>`, one line.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}\n", STANDARD.encode(self.0.to_bytes()))
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// `snapshot` (unsigned snapshot bytes) with a signature trailer appended.
    pub fn sign(&self, snapshot: &[u8]) -> Vec<u8> {
        let signature = self.0.sign(snapshot);
        let mut out = Vec::with_capacity(snapshot.len() + mirrorvane_selector::snapshot::SIGNATURE_LEN);
        out.extend_from_slice(snapshot);
        out.extend_from_slice(&SIGNATURE_MAGIC);
        out.extend_from_slice(self.0.verifying_key().as_bytes());
        out.extend_from_slice(&signature.to_bytes());
        out
    }
}

impl PublicKey {
    /// Reads `mirrorvane-snapshot-key <base64>` or the bare base64.
    pub fn from_text(text: &str) -> Result<PublicKey, SignatureError> {
        let t = text.trim();
        let b64 = t.strip_prefix(PUBLIC_PREFIX).unwrap_or(t);
        let bytes: [u8; 32] = decode32(b64)?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|e| SignatureError::BadKey(e.to_string()))
    }

    /// `mirrorvane-snapshot-key <base64>`.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.0.as_bytes()))
    }
}

fn decode32(b64: &str) -> Result<[u8; 32], SignatureError> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|e| SignatureError::BadKey(format!("not base64: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| SignatureError::BadKey(format!("{} bytes, a key has 32", b.len())))
}

/// What a snapshot says regardless of when it was built: SHA-256 of its payload without the creation time (the
/// payload's first field). Rebuilds of unchanged data get new creation times — so their age tells how fresh the
/// backend's view is — and the same digest, so edges need not reload them. `None` when `bytes` are not a
/// snapshot.
pub fn content_digest(bytes: &[u8]) -> Option<[u8; 32]> {
    use sha2::Digest as _;
    let bytes = mirrorvane_selector::snapshot::unsigned(bytes);
    let header = mirrorvane_selector::snapshot::read_header(bytes).ok()?;
    let payload = bytes.get(mirrorvane_selector::snapshot::HEADER_LEN..)?;
    if payload.len() as u64 != header.payload_len {
        return None;
    }
    // postcard writes the u64 creation time as a LEB128 varint: at most 10 bytes, the last without the top bit.
    let varint = payload.iter().take(10).position(|b| b & 0x80 == 0)? + 1;
    Some(sha2::Sha256::digest(&payload[varint..]).into())
}

/// Checks that `bytes` carry a valid signature by one of `keys`; returns the signed snapshot bytes (without the
/// trailer), ready to decode.
pub fn verify<'a>(bytes: &'a [u8], keys: &[PublicKey]) -> Result<&'a [u8], SignatureError> {
    let parts = signed(bytes).ok_or(SignatureError::Unsigned)?;
    let key = keys
        .iter()
        .find(|k| k.0.as_bytes() == parts.public_key)
        .ok_or_else(|| SignatureError::UnknownKey(STANDARD.encode(parts.public_key)))?;
    let signature = ed25519_dalek::Signature::from_bytes(parts.signature);
    key.0
        .verify(parts.snapshot, &signature)
        .map_err(|_| SignatureError::Invalid)?;
    Ok(parts.snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorvane_selector::snapshot::{Snapshot, decode, encode};

    fn key(seed: u8) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn signs_verifies_and_refuses() {
        let snap = encode(&Snapshot {
            created: 1_790_000_000,
            ..Snapshot::default()
        });
        let (a, b) = (key(1), key(2));
        let signed = a.sign(&snap);
        assert_eq!(verify(&signed, &[b.public(), a.public()]), Ok(&snap[..]));
        // Decoders skip the trailer.
        assert_eq!(decode(&signed).unwrap().created, 1_790_000_000);
        assert_eq!(verify(&snap, &[a.public()]), Err(SignatureError::Unsigned));
        assert!(matches!(
            verify(&signed, &[b.public()]),
            Err(SignatureError::UnknownKey(_))
        ));
        // A changed byte with a recomputed CRC (what an attacker on the path would send) is refused.
        let mut forged = signed.clone();
        forged[40] ^= 1;
        let crc = {
            let header = mirrorvane_selector::snapshot::read_header(&forged).unwrap();
            let end = 32 + header.payload_len as usize;
            crc32fast_hash(&forged[32..end])
        };
        forged[28..32].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(verify(&forged, &[a.public()]), Err(SignatureError::Invalid));
        // Swapping in the attacker's own key and signature: not an accepted key.
        let resigned = b.sign(&forged[..forged.len() - mirrorvane_selector::snapshot::SIGNATURE_LEN]);
        assert!(matches!(
            verify(&resigned, &[a.public()]),
            Err(SignatureError::UnknownKey(_))
        ));
    }

    #[test]
    fn content_digest_ignores_the_creation_time() {
        let at = |created: u64, name: &str| {
            encode(&Snapshot {
                created,
                disabled_prefixes: vec![name.into()],
                ..Snapshot::default()
            })
        };
        let a = content_digest(&at(1, "x")).unwrap();
        assert_eq!(content_digest(&at(1_790_000_000, "x")), Some(a));
        assert_eq!(content_digest(&key(1).sign(&at(u64::MAX, "x"))), Some(a));
        assert_ne!(content_digest(&at(1, "y")), Some(a));
        assert_eq!(content_digest(b"not a snapshot"), None);
    }

    #[test]
    fn keys_round_trip_as_text() {
        let k = key(7);
        let again = SecretKey::from_text(&k.to_text()).unwrap();
        assert_eq!(again.public(), k.public());
        assert_eq!(PublicKey::from_text(&k.public().to_text()).unwrap(), k.public());
        let bare = k.public().to_text().replace("mirrorvane-snapshot-key ", "");
        assert_eq!(PublicKey::from_text(&bare).unwrap(), k.public());
        assert!(PublicKey::from_text("nope").is_err());
        assert!(SecretKey::from_text(&k.public().to_text()).is_err());
    }

    /// CRC-32 (IEEE), bitwise: the tests need it only to forge a header.
    fn crc32fast_hash(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
