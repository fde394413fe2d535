//! Randomness is an input: the shells pass a [`Random`], tests pass a seeded one, and the same seed gives the
//! same bytes on every platform (integer arithmetic only — no floating point, whose `ln`/`pow` differ between
//! native and WASM builds).

use alloc::vec::Vec;

/// A source of uniformly distributed 64-bit values.
pub trait Random {
    /// The next value.
    fn next_u64(&mut self) -> u64;

    /// Fills `out` with the next values (one call for many, where a `dyn Random` is called per value).
    fn fill(&mut self, out: &mut [u64]) {
        for v in out {
            *v = self.next_u64();
        }
    }

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

    fn fill(&mut self, out: &mut [u64]) {
        (**self).fill(out)
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
        splitmix_mix(self.0)
    }
}

fn splitmix_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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

/// `1 / w` for weight `w` (clamped to `1..=MAX_WEIGHT`; 0 counts as 1), what [`weighted_order`] takes: clocks
/// are multiplied by it rather than divided by the weight. An `f32` (relative error below 6·10⁻⁸, a weight
/// that much off) keeps the per-host facts small; the product is exact IEEE arithmetic everywhere.
pub fn inverse_weight(w: u32) -> f32 {
    1.0 / w.clamp(1, MAX_WEIGHT) as f32
}

/// Weighted random permutation without replacement: the order in which items come out when one of the remaining
/// is drawn at a time with probability proportional to its weight — MirrorManager's bandwidth shuffle. Weights of
/// 0 count as 1.
///
/// MirrorManager rebuilt a weighted index for every draw (O(n²)). Here each item gets an exponential "clock"
/// `E / w` (E exponentially distributed) and the items are sorted by it: the item with the smallest clock is
/// the first draw with probability `w / Σw`, and by memorylessness the rest follow the same rule (Efraimidis and
/// Spirakis, 2006). That is n random numbers and one sort, O(n log n), instead of n dependent draws.
///
/// E is `−log2 U` (the common factor `ln 2` does not change the order), computed in fixed point from 32 random
/// bits (the high half of one draw per item) with a table built at compile time; the clocks are compared as IEEE
/// `f64` bit patterns. No platform `ln`, whose last bits differ between native and WASM builds, so the same seed
/// gives the same order everywhere. The error against the exact distribution (the logarithm's error below 3·10⁻⁸
/// in log2 units, a 32-bit U) is far below anything a sample of answers could show.
///
/// `keys` and `out` are scratch space reused between calls; `items` is permuted in place.
pub fn weighted_shuffle<T: Copy>(
    items: &mut [T],
    weights: &[u32],
    keys: &mut Vec<u64>,
    out: &mut Vec<T>,
    rng: &mut dyn Random,
) {
    let n = items.len().min(weights.len());
    if !(2..=MAX_WEIGHTED_ITEMS).contains(&n) {
        return;
    }
    weighted_order(weights[..n].iter().map(|&w| inverse_weight(w)), keys, rng);
    out.clear();
    out.extend(keys.iter().map(|&k| items[order_index(k)]));
    items[..n].copy_from_slice(out);
}

/// Low bits of a key from [`weighted_order`] that hold the item's index.
const INDEX_BITS: u32 = 20;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;

/// Most items [`weighted_order`] orders in one call; more (never, with [`crate::index::MAX_HOSTS`] hosts) are
/// left in their order by [`weighted_shuffle`].
pub const MAX_WEIGHTED_ITEMS: usize = 1 << INDEX_BITS;

/// The index of the item a key from [`weighted_order`] stands for.
pub fn order_index(key: u64) -> usize {
    (key & INDEX_MASK) as usize
}

/// Fills `keys` with one key per item, sorted into the order of [`weighted_shuffle`], from the items'
/// [`inverse_weight`]s; [`order_index`] gives the position of each key's item. More than [`MAX_WEIGHTED_ITEMS`]
/// items leave `keys` empty.
pub fn weighted_order(inverse_weights: impl ExactSizeIterator<Item = f32>, keys: &mut Vec<u64>, rng: &mut dyn Random) {
    keys.clear();
    let n = inverse_weights.len();
    if n > MAX_WEIGHTED_ITEMS {
        return;
    }
    keys.resize(n, 0);
    rng.fill(keys);
    for (i, (key, inverse)) in keys.iter_mut().zip(inverse_weights).enumerate() {
        // At most 2^36, so exact through i64, whose conversion is one instruction (u64 needs several on x86-64).
        let clock = neg_log2((*key >> 32) as u32) as i64 as f64 * f64::from(inverse);
        // A positive finite f64's bit pattern orders like its value; the low mantissa bits (below 2⁻³² of the
        // value) make room for the index.
        *key = (clock.to_bits() & !INDEX_MASK) | i as u64;
    }
    keys.sort_unstable();
}

/// Steps of [`LOG2_MANTISSA`] over [1, 2].
const LOG2_STEPS: usize = 256;

/// `log2(1 + i/256)` in units of 2⁻³¹, for i in 0..=257 (one step past 2, for the last quadratic); computed at
/// compile time by the digit-by-digit method (square, and emit a 1 bit whenever the square reaches 2), integers
/// only. Kept small on purpose: 1 KiB is 17 cache lines, and a request that orders a hundred hosts touches most
/// of them — with a cold cache (as under load) a 4 KiB table cost ~40 misses per request.
static LOG2_MANTISSA: [u32; LOG2_STEPS + 2] = log2_table();

const fn log2_table() -> [u32; LOG2_STEPS + 2] {
    let mut table = [0u32; LOG2_STEPS + 2];
    let mut i = 0;
    while i < LOG2_STEPS {
        // 1 + i/256 in Q62.
        table[i] = log2_q62((1 << 62) + ((i as u128) << 54));
        i += 1;
    }
    // log2(2) = 1 and log2(2 + 1/256) = 1 + log2(1 + 1/512).
    table[LOG2_STEPS] = 1 << 31;
    table[LOG2_STEPS + 1] = (1 << 31) + log2_q62((1 << 62) + (1 << 53));
    table
}

/// `log2(m)` in units of 2⁻³¹ (rounded down), for m in [1, 2) in Q62 (its square stays below 2^126).
const fn log2_q62(mut m: u128) -> u32 {
    let mut bits: u32 = 0;
    let mut b = 0;
    while b < 31 {
        m = (m * m) >> 62;
        bits <<= 1;
        if m >= 2 << 62 {
            m >>= 1;
            bits |= 1;
        }
        b += 1;
    }
    bits
}

/// `−log2(U)` in units of 2⁻³¹ for `U = (x | 1) / 2³²` — the midpoints of 2³¹ equal steps of (0, 1), so never
/// 0 or 1. Quadratic (Newton forward) interpolation through three neighbouring entries of a 256-step table, in
/// integers: absolute error below 3·10⁻⁸ (1.2·10⁻⁸ measured; in log2 units).
fn neg_log2(x: u32) -> u64 {
    let u = x | 1;
    let lz = u.leading_zeros();
    // The mantissa's fraction bits, with the leading 1 shifted out: 8 index the table, 24 interpolate.
    let f = (u << lz) << 1;
    let i = (f >> 24) as usize;
    let t = i64::from(f & 0xff_ffff);
    let [y0, y1, y2] = [LOG2_MANTISSA[i], LOG2_MANTISSA[i + 1], LOG2_MANTISSA[i + 2]].map(i64::from);
    // p(t) = y0 + t·Δ + t(t − 1)/2·Δ², t in [0, 1) as 24 fraction bits; Δ² < 0 and t(t − 1) ≤ 0, so the
    // second term is positive and below 2^14.
    let first = ((y1 - y0) * t) >> 24;
    let second = (((t * (t - (1 << 24))) >> 24) * (y2 - 2 * y1 + y0)) >> 25;
    let fraction_log = (y0 + first + second) as u64;
    // log2(u) = 31 − lz + fraction_log, so −log2(u / 2³²) = 1 + lz − fraction_log.
    (u64::from(1 + lz) << 31) - fraction_log
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
        let (mut keys, mut out) = (Vec::new(), Vec::new());
        for n in (0..80u32).chain([200, 1000]) {
            let mut items: Vec<u32> = (0..n).collect();
            let weights: Vec<u32> = items.iter().map(|i| i * 37 % 11).collect();
            weighted_shuffle(&mut items, &weights, &mut keys, &mut out, &mut r);
            let mut sorted = items.clone();
            sorted.sort();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn neg_log2_is_close_to_the_logarithm() {
        let mut worst = 0f64;
        for x in (0..=u32::MAX).step_by(65_521).chain([0, 1, 2, u32::MAX - 1, u32::MAX]) {
            let u = f64::from(x | 1) / 4_294_967_296.0;
            let exact = -u.log2();
            let got = neg_log2(x) as f64 / 2_147_483_648.0;
            worst = worst.max((exact - got).abs());
            assert!(got > 0.0, "x = {x}");
        }
        assert!(worst < 3e-8, "worst error {worst:e}");
    }

    #[test]
    fn log2_table_matches_the_logarithm() {
        for (i, &t) in LOG2_MANTISSA.iter().enumerate() {
            let exact = (1.0 + i as f64 / 256.0).log2() * 2_147_483_648.0;
            assert!((f64::from(t) - exact).abs() <= 2.0, "entry {i}: {t} vs {exact}");
        }
    }

    #[test]
    fn fill_continues_the_sequence() {
        let (mut a, mut b) = (SeededRandom::new(3), SeededRandom::new(3));
        let mut bulk = [0u64; 5];
        a.fill(&mut bulk);
        let one_by_one: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(bulk.to_vec(), one_by_one);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
