//! Site check-in passwords, stored as argon2id PHC strings (MirrorManager kept them in plain text). One hashing
//! path for every way a password enters the database: inventory files, `site` commands, the MirrorManager import.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashing failed (the hasher's message).
#[derive(Debug, thiserror::Error)]
#[error("cannot hash password: {0}")]
pub struct HashError(String);

/// Hashes `password` to an argon2id PHC string with a random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `given` is the password behind the stored PHC string. An absent or unreadable stored value matches
/// nothing. Verification compares in constant time.
pub fn matches(stored: Option<&str>, given: &str) -> bool {
    let Some(stored) = stored else { return false };
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default().verify_password(given.as_bytes(), &hash).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash("s3cret").unwrap();
        let b = super::hash("s3cret").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(super::matches(Some(&a), "s3cret"));
        assert!(!super::matches(Some(&a), "s3cret "));
        assert!(!super::matches(None, "s3cret"));
        assert!(!super::matches(Some("plain text"), "plain text"));
    }
}
