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

/// Weighted random permutation without replacement: repeatedly draws one of the remaining items with probability
/// proportional to its weight — MirrorManager's bandwidth shuffle. A Fenwick tree makes each draw O(log n)
/// instead of rebuilding a weighted index per draw. Weights of 0 count as 1.
///
/// `weights` is scratch space reused between calls; `items` is permuted in place.
pub fn weighted_shuffle<T: Copy>(
    items: &mut [T],
    weight: impl Fn(T) -> u32,
    tree: &mut Vec<u64>,
    out: &mut Vec<T>,
    rng: &mut dyn Random,
) {
    let n = items.len();
    if n < 2 {
        return;
    }
    // 1-based Fenwick tree over the weights.
    tree.clear();
    tree.resize(n + 1, 0);
    let mut total: u64 = 0;
    for (i, &item) in items.iter().enumerate() {
        let w = u64::from(weight(item).max(1));
        total += w;
        tree[i + 1] += w;
        let parent = (i + 1) + ((i + 1) & (i + 1).wrapping_neg());
        if parent <= n {
            tree[parent] += tree[i + 1];
        }
    }
    let top = 1usize << (usize::BITS - 1 - n.leading_zeros());
    out.clear();
    for _ in 0..n {
        // Find the smallest index whose prefix sum exceeds r.
        let mut r = rng.below(total);
        let mut pos = 0usize;
        let mut step = top;
        while step > 0 {
            let next = pos + step;
            if next <= n && tree[next] <= r {
                pos = next;
                r -= tree[next];
            }
            step >>= 1;
        }
        // pos is 0-based index of the chosen item.
        let item = items[pos];
        out.push(item);
        let w = u64::from(weight(item).max(1));
        total -= w;
        let mut i = pos + 1;
        while i <= n {
            tree[i] -= w;
            i += i & i.wrapping_neg();
        }
    }
    items.copy_from_slice(out);
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
            weighted_shuffle(&mut items, |i| i * 37 % 11, &mut tree, &mut out, &mut r);
            let mut sorted = items.clone();
            sorted.sort();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        }
    }
}
