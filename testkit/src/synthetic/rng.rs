//! The generator's randomness: the selector's SplitMix64 with a few helpers, one stream per generation stage so
//! that changing one stage (more netblocks, say) does not reshuffle the others.

use mirrorvane_selector::{Random, SeededRandom};

/// A seeded stream with the draws the generator needs.
pub(crate) struct Rng(SeededRandom);

impl Rng {
    /// The stream of `stage` for `seed`.
    pub(crate) fn new(seed: u64, stage: u64) -> Rng {
        let mut mix = SeededRandom::new(seed ^ stage.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        Rng(SeededRandom::new(mix.next_u64()))
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.0.below(hi - lo + 1)
    }

    /// True with probability `permille / 1000`.
    pub(crate) fn chance(&mut self, permille: u32) -> bool {
        self.0.below(1000) < u64::from(permille)
    }

    /// An index drawn with probability proportional to `weights` (not all zero).
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.0.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if r < u64::from(w) {
                return i;
            }
            r -= u64::from(w);
        }
        weights.len() - 1
    }

    /// One element of `items` (non-empty).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` random bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.0.next_u64() as u8).collect()
    }

    /// A raw 64-bit value.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}
