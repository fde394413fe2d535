//! Which old FileDetail rows to delete (MirrorManager's `Directory._age_file_details`).
//!
//! A file (one directory, one name) may have several FileDetail rows: the current one and older ones
//! that metalinks offer as alternates while mirrors catch up. For each file, rows sorted newest first:
//! the newest is always kept; the second newest is kept while the newest is younger than the
//! propagation window (mirrors may not have it yet); any older row is deleted once it is older than the
//! stale limit. Comparisons are strict, as in MirrorManager.

/// Ages in days. MirrorManager's config: `max_stale_days` (3 in code, §5.1 documents 4 with propagation
/// one day less) and `max_propogation_days` (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgePolicy {
    pub max_stale_days: i64,
    pub max_propagation_days: i64,
}

impl AgePolicy {
    /// `max_stale_days` with the propagation window one day shorter (reference §5.1).
    pub fn new(max_stale_days: i64) -> Self {
        AgePolicy {
            max_stale_days,
            max_propagation_days: max_stale_days.saturating_sub(1),
        }
    }
}

impl Default for AgePolicy {
    /// §5.1's default `MAX_STALE_DAYS` of 4.
    fn default() -> Self {
        AgePolicy::new(4)
    }
}

const DAY: i64 = 86_400;

/// The ids to delete. Each group is one file's rows as `(id, timestamp)` in any order; ties in timestamp
/// are ordered by id, the higher id (inserted later) counting as newer.
pub fn expired_file_details<'a>(
    groups: impl IntoIterator<Item = &'a [(i64, i64)]>,
    now: i64,
    policy: AgePolicy,
) -> Vec<i64> {
    // Saturating: a library caller's absurd policy must not overflow into an arbitrary cut-off.
    let stale = now.saturating_sub(DAY.saturating_mul(policy.max_stale_days));
    let propagation = now.saturating_sub(DAY.saturating_mul(policy.max_propagation_days));
    let mut out = Vec::new();
    for group in groups {
        if group.len() < 2 {
            continue;
        }
        let mut rows = group.to_vec();
        rows.sort_by_key(|&(id, ts)| std::cmp::Reverse((ts, id)));
        let start = if rows[0].1 < propagation { 1 } else { 2 };
        out.extend(rows.iter().skip(start).filter(|r| r.1 < stale).map(|r| r.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000;

    fn days_ago(d: i64) -> i64 {
        NOW - d * DAY
    }

    #[test]
    fn ages_each_file_separately() {
        let policy = AgePolicy::new(4);
        // Newest is fresh: the second newest stays whatever its age; older stale rows go.
        let fresh: &[(i64, i64)] = &[(1, days_ago(10)), (2, days_ago(1)), (3, days_ago(9)), (4, days_ago(2))];
        // Newest is past propagation (3 days): the second newest goes too when stale.
        let settled: &[(i64, i64)] = &[(5, days_ago(4)), (6, days_ago(5)), (7, days_ago(3) - 1)];
        // Older rows not yet stale stay.
        let young: &[(i64, i64)] = &[(8, days_ago(4) + 10), (9, days_ago(3) - 1)];
        let single: &[(i64, i64)] = &[(10, days_ago(100))];
        let mut ids = expired_file_details([fresh, settled, young, single], NOW, policy);
        ids.sort();
        assert_eq!(ids, [1, 3, 6]);
        // Row 5 is exactly 4 days old: not strictly older than the limit.
        assert_eq!(AgePolicy::default(), policy);
    }

    #[test]
    fn equal_timestamps_prefer_the_later_id() {
        let g: &[(i64, i64)] = &[(1, days_ago(20)), (2, days_ago(20)), (3, days_ago(20))];
        assert_eq!(expired_file_details([g], NOW, AgePolicy::new(4)), [2, 1]);
    }
}
