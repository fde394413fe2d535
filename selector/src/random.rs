//! Randomness is an input: the shells pass a [`Random`], tests pass a seeded one, and the same seed gives the
//! same bytes on every platform (integer arithmetic only — no floating point, whose `ln`/`pow` differ between
//! native and WASM builds).

use alloc::vec::Vec;

/// A source of uniformly distributed 64-bit values.
pub trait Random {
    /// The next value.
    fn next_u64(&mut self) -> u64;

    /// Uniform in `0..bound` (`bound > 0`), without modulo bias (Lemire's multiply-and-reject).
    fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0);
        let mut m = u128::from(self.next_u64()) * u128::from(bound);
        if (m as u64) < bound {
            let threshold = bound.wrapping_neg() % bound;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(bound);
            }
        }
        (m >> 64) as u64
    }
}

impl<R: Random + ?Sized> Random for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// SplitMix64: tiny, fast, statistically sound for shuffling, identical everywhere. Seed it from the operating
/// system in servers and from a constant in tests.
#[derive(Clone, Debug)]
pub struct SeededRandom(u64);

impl SeededRandom {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> SeededRandom {
        SeededRandom(seed)
    }
}

impl Random for SeededRandom {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Uniform random permutation (Fisher–Yates).
pub fn shuffle<T>(items: &mut [T], rng: &mut dyn Random) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Largest weight: MirrorManager's bandwidth clamp (10 Gbit/s in Mbit/s).
pub const MAX_WEIGHT: u32 = 10_000;

fn clamp_weight(w: u32) -> u32 {
    w.clamp(1, MAX_WEIGHT)
}

/// Uniform in `0..bound` from 32 random bits, using each 64-bit draw twice (Lemire's method).
fn below32(rng: &mut dyn Random, spare: &mut Option<u32>, bound: u32) -> u32 {
    let mut next = || match spare.take() {
        Some(x) => x,
        None => {
            let v = rng.next_u64();
            *spare = Some(v as u32);
            (v >> 32) as u32
        }
    };
    let mut m = u64::from(next()) * u64::from(bound);
    if (m as u32) < bound {
        let threshold = bound.wrapping_neg() % bound;
        while (m as u32) < threshold {
            m = u64::from(next()) * u64::from(bound);
        }
    }
    (m >> 32) as u32
}

/// Weighted random permutation without replacement: repeatedly draws one of the remaining items with probability
/// proportional to its weight — MirrorManager's bandwidth shuffle. A Fenwick tree over the weights makes each draw
/// O(log n) (MirrorManager rebuilt a weighted index per draw); the descent is branch-free over a tree padded to a
/// power of two. Weights of 0 count as 1.
///
/// `tree` and `out` are scratch space reused between calls; `items` is permuted in place.
pub fn weighted_shuffle<T: Copy>(
    items: &mut [T],
    weights: &[u32],
    tree: &mut Vec<u32>,
    out: &mut Vec<T>,
    rng: &mut dyn Random,
) {
    let n = items.len().min(weights.len());
    if n < 2 {
        return;
    }
    let size = n.next_power_of_two();
    // 1-based Fenwick tree over the weights, built in O(size).
    tree.clear();
    tree.resize(size + 1, 0);
    // Totals fit in 32 bits: weights are clamped to 1..=MAX_WEIGHT and a shuffle has at most MAX_ITEMS items.
    let mut total: u32 = 0;
    for i in 1..=size {
        if i <= n {
            let w = clamp_weight(weights[i - 1]);
            tree[i] += w;
            total += w;
        }
        let parent = i + (i & i.wrapping_neg());
        if parent <= size {
            tree[parent] += tree[i];
        }
    }
    out.clear();
    let mut spare: Option<u32> = None;
    for _ in 0..n {
        // The smallest index whose prefix sum exceeds r. tree[size] = total > r, so the top step is never taken.
        let mut r = below32(rng, &mut spare, total);
        let mut pos = 0usize;
        let mut step = size >> 1;
        while step > 0 {
            let t = tree[pos + step];
            let take = usize::from(t <= r);
            pos += step * take;
            r -= t * take as u32;
            step >>= 1;
        }
        let item = items[pos];
        out.push(item);
        let w = clamp_weight(weights[pos]);
        total -= w;
        let mut i = pos + 1;
        while i <= size {
            tree[i] -= w;
            i += i & i.wrapping_neg();
        }
    }
    items[..n].copy_from_slice(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_covers() {
        let mut r = SeededRandom::new(1);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[r.below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }

    #[test]
    fn weighted_shuffle_is_a_permutation() {
        let mut r = SeededRandom::new(7);
        let (mut tree, mut out) = (Vec::new(), Vec::new());
        for n in 0..40u32 {
            let mut items: Vec<u32> = (0..n).collect();
            let weights: Vec<u32> = items.iter().map(|i| i * 37 % 11).collect();
            weighted_shuffle(&mut items, &weights, &mut tree, &mut out, &mut r);
            let mut sorted = items.clone();
            sorted.sort();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        }
    }
}
