//! Per-host directory state, shared.
//!
//! MirrorManager keeps one `host_category_dir` row per host × directory: about two million rows at Fedora scale,
//! rewritten by every crawl. Most host categories are in one of a few states (everything up to date, everything
//! but the newest push, …), and directory ids come from one sequence, so a state is a handful of id *ranges*.
//! A [`DirectorySet`] stores those ranges as varints; the `directory_set` table keeps each distinct set once,
//! keyed by its digest, and host categories point at it (MirrorCache shares folder states between mirrors the
//! same way).

use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};
use sqlx::AnyConnection;

use super::DbError;

/// A set of directory ids as sorted, disjoint, inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectorySet {
    runs: Vec<(u64, u64)>,
}

/// A stored set that does not decode (written by something else, or damaged).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DirectorySetError {
    /// The bytes end inside a number.
    #[error("directory set is truncated")]
    Truncated,
    /// A number does not fit in 64 bits, or ranges overflow.
    #[error("directory set holds an out-of-range id")]
    Overflow,
}

impl DirectorySet {
    /// The empty set.
    pub fn new() -> DirectorySet {
        DirectorySet::default()
    }

    /// Number of ids.
    pub fn len(&self) -> u64 {
        self.runs
            .iter()
            .fold(0u64, |n, &(a, b)| n.saturating_add((b - a).saturating_add(1)))
    }

    /// True when no id is in the set.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// True when `id` is in the set.
    pub fn contains(&self, id: i64) -> bool {
        let Ok(id) = u64::try_from(id) else { return false };
        match self.runs.binary_search_by(|&(a, _)| a.cmp(&id)) {
            Ok(_) => true,
            Err(0) => false,
            Err(i) => self.runs[i - 1].1 >= id,
        }
    }

    /// The ids, ascending.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.runs.iter().flat_map(|&(a, b)| (a..=b).map(|id| id as i64))
    }

    /// The ids up to `max`, ascending: a stored set may name directories deleted since (or, damaged, absurd
    /// ranges); readers bound it by the ids that exist.
    pub fn iter_up_to(&self, max: i64) -> impl Iterator<Item = i64> + '_ {
        let max = u64::try_from(max).ok();
        self.runs
            .iter()
            .take_while(move |&&(a, _)| max.is_some_and(|m| a <= m))
            .flat_map(move |&(a, b)| (a..=b.min(max.unwrap_or(0))).map(|id| id as i64))
    }

    /// Number of ranges (what the encoding's size follows).
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The stored form: for each range, the gap since the previous range's end and the range's length − 1, as
    /// LEB128 varints.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.runs.len() * 3);
        let mut next = 0u64;
        for &(a, b) in &self.runs {
            put_varint(&mut out, a - next);
            put_varint(&mut out, b - a);
            next = b + 1;
        }
        out
    }

    /// Reads [`DirectorySet::encode`]'s form.
    pub fn decode(mut bytes: &[u8]) -> Result<DirectorySet, DirectorySetError> {
        let mut runs = Vec::new();
        let mut next = 0u64;
        while !bytes.is_empty() {
            let a = next
                .checked_add(get_varint(&mut bytes)?)
                .ok_or(DirectorySetError::Overflow)?;
            let b = a
                .checked_add(get_varint(&mut bytes)?)
                .ok_or(DirectorySetError::Overflow)?;
            next = b.checked_add(1).ok_or(DirectorySetError::Overflow)?;
            runs.push((a, b));
        }
        Ok(DirectorySet { runs })
    }

    /// Content address of the set: hex SHA-256 of the encoding.
    pub fn digest(&self) -> String {
        let hash = Sha256::digest(self.encode());
        let mut hex = String::with_capacity(64);
        for b in hash {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

impl FromIterator<i64> for DirectorySet {
    /// Any order, duplicates allowed; negative ids (never issued) are dropped.
    fn from_iter<I: IntoIterator<Item = i64>>(ids: I) -> DirectorySet {
        let mut ids: Vec<u64> = ids.into_iter().filter_map(|id| u64::try_from(id).ok()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for id in ids {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == id => *end = id,
                _ => runs.push((id, id)),
            }
        }
        DirectorySet { runs }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &mut &[u8]) -> Result<u64, DirectorySetError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first().ok_or(DirectorySetError::Truncated)?;
        *bytes = rest;
        let bits = u64::from(b & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(DirectorySetError::Overflow);
        }
        v |= bits << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DirectorySetError::Overflow)
}

/// A stored set.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SetRow {
    pub id: i64,
    pub members: Vec<u8>,
}

impl SetRow {
    /// The set; a damaged row is an error naming it.
    pub fn decode(&self) -> Result<DirectorySet, DbError> {
        DirectorySet::decode(&self.members)
            .map_err(|e| DbError::Inconsistent(format!("directory_set {}: {e}", self.id)))
    }
}

/// The PostgreSQL advisory lock that keeps [`collect_garbage`] from deleting a set a transaction has just
/// interned and is about to point at: interning holds it shared until its transaction ends, collecting holds it
/// exclusively. (SQLite runs one writing transaction at a time, so there is nothing to race.)
const SETS_LOCK: i64 = 0x6d76_5f73_6574; // "mv_set"

fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

/// Stores `set` once and returns its row id; `None` for the empty set (stored as NULL by the referrer). Call it
/// in the transaction that then points at the set.
pub async fn intern(conn: &mut AnyConnection, set: &DirectorySet) -> Result<Option<i64>, DbError> {
    if set.is_empty() {
        return Ok(None);
    }
    if is_postgres(conn) {
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
            .bind(SETS_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let digest = set.digest();
    sqlx::query(
        "INSERT INTO directory_set (digest, members, count) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING",
    )
    .bind(&digest)
    .bind(set.encode())
    .bind(set.len() as i64)
    .execute(&mut *conn)
    .await?;
    let id = sqlx::query_scalar("SELECT id FROM directory_set WHERE digest = $1")
        .bind(&digest)
        .fetch_one(conn)
        .await?;
    Ok(Some(id))
}

/// [`intern`] for many sets that repeat (imports): each distinct set is stored and looked up once.
#[derive(Debug, Default)]
pub struct Interner {
    ids: std::collections::HashMap<String, Option<i64>>,
}

impl Interner {
    /// The row id of `set`, storing it on first sight.
    pub async fn intern(&mut self, conn: &mut AnyConnection, set: &DirectorySet) -> Result<Option<i64>, DbError> {
        let digest = set.digest();
        if let Some(&id) = self.ids.get(&digest) {
            return Ok(id);
        }
        let id = intern(conn, set).await?;
        self.ids.insert(digest, id);
        Ok(id)
    }

    /// Distinct non-empty sets stored or found.
    pub fn stored(&self) -> usize {
        self.ids.values().filter(|id| id.is_some()).count()
    }
}

/// Every set some host category points at (the builder decodes them once each).
pub async fn referenced(conn: &mut AnyConnection) -> Result<Vec<SetRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, members FROM directory_set WHERE id IN \
         (SELECT up2date_set_id FROM host_category UNION SELECT stale_set_id FROM host_category) ORDER BY id",
    )
    .fetch_all(conn)
    .await?)
}

/// Deletes the sets no host category points at any more. Run it in a transaction of its own: it waits for the
/// transactions that are interning sets, and they wait for it.
pub async fn collect_garbage(conn: &mut AnyConnection) -> Result<u64, DbError> {
    if is_postgres(conn) {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SETS_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let done = sqlx::query(
        "DELETE FROM directory_set WHERE id NOT IN \
         (SELECT up2date_set_id FROM host_category WHERE up2date_set_id IS NOT NULL \
          UNION SELECT stale_set_id FROM host_category WHERE stale_set_id IS NOT NULL)",
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let ids = [5i64, 1, 2, 3, 9, 10, 11, 12, 300, 301, 100_000, 3];
        let set: DirectorySet = ids.into_iter().collect();
        assert_eq!(set.runs(), 5);
        assert_eq!(set.len(), 11);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![1, 2, 3, 5, 9, 10, 11, 12, 300, 301, 100_000]
        );
        for id in [1, 3, 5, 12, 300, 301, 100_000] {
            assert!(set.contains(id), "{id}");
        }
        for id in [0, 4, 6, 13, 299, 302, 99_999, 100_001, -1] {
            assert!(!set.contains(id), "{id}");
        }
        assert_eq!(set.iter_up_to(10).collect::<Vec<_>>(), vec![1, 2, 3, 5, 9, 10]);
        assert_eq!(set.iter_up_to(-1).count(), 0);
        // A damaged set with an absurd range is read only as far as real ids go.
        let damaged = DirectorySet::decode(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f]).unwrap();
        assert_eq!(damaged.iter_up_to(3).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        let bytes = set.encode();
        assert_eq!(DirectorySet::decode(&bytes).unwrap(), set);
        // A fully up-to-date host category over 25,000 consecutive ids costs a few bytes.
        let full: DirectorySet = (1..=25_000).collect();
        assert!(full.encode().len() <= 4, "{:?}", full.encode());
        assert_ne!(full.digest(), set.digest());
        assert_eq!(full.digest().len(), 64);
    }

    #[test]
    fn damaged_bytes_are_errors() {
        assert_eq!(DirectorySet::decode(&[0x80]), Err(DirectorySetError::Truncated));
        assert_eq!(DirectorySet::decode(&[1]), Err(DirectorySetError::Truncated));
        assert_eq!(DirectorySet::decode(&[0xff; 11]), Err(DirectorySetError::Overflow));
        let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x05];
        assert_eq!(DirectorySet::decode(&huge), Err(DirectorySetError::Overflow));
        assert_eq!(DirectorySet::decode(&[]), Ok(DirectorySet::new()));
    }
}
