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

/// Items per block of [`weighted_shuffle`]'s two-level prefix sums.
const BLOCK: usize = 16;

/// Weighted random permutation without replacement: repeatedly draws one of the remaining items with probability
/// proportional to its weight — MirrorManager's bandwidth shuffle. Weights of 0 count as 1.
///
/// MirrorManager rebuilt a weighted index for every draw (O(n²)). Here the weights are kept as inclusive prefix
/// sums in blocks of [`BLOCK`], plus prefix sums over the blocks. A draw counts the block prefixes `<= r` and then
/// the item prefixes `<= r` inside the block — independent comparisons the compiler vectorises, where a tree
/// descent would be a chain of dependent loads — and a removal subtracts the weight from the rest of its block
/// and from the following block prefixes. Exact: the chosen item is the first whose prefix sum exceeds `r`.
///
/// `prefix` and `out` are scratch space reused between calls; `items` is permuted in place.
pub fn weighted_shuffle<T: Copy>(
    items: &mut [T],
    weights: &[u32],
    prefix: &mut Vec<u32>,
    out: &mut Vec<T>,
    rng: &mut dyn Random,
) {
    let n = items.len().min(weights.len());
    if n < 2 {
        return;
    }
    let blocks = n.div_ceil(BLOCK);
    // Layout: `blocks` block prefixes, then blocks × BLOCK item prefixes (padding repeats the block's total, so a
    // padded slot is never `<= r` when its real neighbours are not).
    prefix.clear();
    prefix.resize(blocks + blocks * BLOCK, 0);
    let (block_prefix, item_prefix) = prefix.split_at_mut(blocks);
    // Totals fit in 32 bits: weights are clamped to 1..=MAX_WEIGHT and snapshots hold at most MAX_HOSTS hosts.
    let mut total: u32 = 0;
    for (b, (block_total, block)) in block_prefix
        .iter_mut()
        .zip(item_prefix.chunks_exact_mut(BLOCK))
        .enumerate()
    {
        let mut inside = 0u32;
        for (j, p) in block.iter_mut().enumerate() {
            if let Some(&w) = weights[..n].get(b * BLOCK + j) {
                inside += clamp_weight(w);
            }
            *p = inside;
        }
        total += inside;
        *block_total = total;
    }
    out.clear();
    let mut spare: Option<u32> = None;
    for _ in 0..n {
        let r = below32(rng, &mut spare, total);
        // Branch-free counts and masked updates over whole (fixed-size) blocks, so they vectorise.
        let b = block_prefix.iter().map(|&p| usize::from(p <= r)).sum::<usize>();
        let base = if b == 0 { 0 } else { block_prefix[b - 1] };
        let rest = r - base;
        let block: &mut [u32; BLOCK] = (&mut item_prefix[b * BLOCK..(b + 1) * BLOCK])
            .try_into()
            .unwrap_or_else(|_| unreachable!());
        let j = block.iter().map(|&p| usize::from(p <= rest)).sum::<usize>();
        let pos = b * BLOCK + j;
        out.push(items[pos]);
        let w = clamp_weight(weights[pos]);
        total -= w;
        // `w & mask` with an all-ones mask for k >= j, computed arithmetically from the lane index: this
        // vectorises as one compare and one subtract per vector, where `w * bool` was assembled lane by lane
        // (−30 % decision time for a 125-host answer).
        let (j, b) = (j as i32, b as i32);
        for (k, p) in block.iter_mut().enumerate() {
            *p -= w & (((j - 1 - k as i32) >> 31) as u32);
        }
        for (k, p) in block_prefix.iter_mut().enumerate() {
            *p -= w & (((b - 1 - k as i32) >> 31) as u32);
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
