//! Randomness is an input: the shells pass a [`Random`], tests pass a seeded one, and the same seed gives the
//! same bytes on every platform (integers and IEEE `+ − × ÷` only — no `ln` or `pow`, whose last bits differ
//! between native and WASM builds).

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
        (**self).fill(out);
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
/// E is `−log2 U` (the common factor `ln 2` does not change the order) from 52 random bits of one draw per
/// item, by IEEE arithmetic alone (see `neg_log2`); the clocks are compared as `f64` bit patterns. No platform
/// `ln`, whose last bits differ between native and WASM builds, so the same seed gives the same order
/// everywhere. The logarithm's error (below 10⁻¹⁰ relative) is far below anything a sample of answers could show.
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
    // Two passes: the logarithms lane-parallel, then the products with weights gathered from wherever the
    // caller keeps them.
    for key in keys.iter_mut() {
        *key = neg_log2(*key).to_bits();
    }
    for (i, (key, inverse)) in keys.iter_mut().zip(inverse_weights).enumerate() {
        let clock = f64::from_bits(*key) * f64::from(inverse);
        // A positive finite f64's bit pattern orders like its value; the low mantissa bits (below 2⁻³² of the
        // value) make room for the index.
        *key = (clock.to_bits() & !INDEX_MASK) | i as u64;
    }
    keys.sort_unstable();
}

/// `−log2 U` for `U = (r >> 12 | 1) / 2⁵²` — 52 random bits, odd, so never 0 or 1 — as an `f64`.
///
/// Only IEEE `+ − × ÷` and bit operations, which round the same on every platform (no `ln` from a math
/// library), and no table or branch: the loop over a request's keys runs several lanes per instruction. U is
/// split into 2^e · m with m in [√½, √2); `log2 m = 2/ln 2 · atanh t` with `t = (m − 1)/(m + 1)`, |t| < 0.172,
/// whose odd series to t¹¹ is within 10⁻¹⁰ of the result, relative (the last term dropped, t¹³/13, is below
/// t¹²/13 of the sum) — finer than the 2⁻³² that a key keeps.
fn neg_log2(r: u64) -> f64 {
    const ONE: u64 = 0x3ff0_0000_0000_0000;
    const FRACTION: u64 = (1 << 52) - 1;
    // The fraction bits of √2: m at or above them is halved (exponent one up).
    const SQRT2_FRACTION: u64 = 0x6_a09e_667f_3bcd;
    // 2^52 as an f64: OR-ing an integer below 2^52 into its fraction and subtracting it converts exactly.
    const TWO_52: u64 = 0x4330_0000_0000_0000;
    // 1 + U: exact, and so is subtracting 1 (Sterbenz); U's own exponent then holds its leading zeros.
    let u = (f64::from_bits(ONE | (r >> 12) | 1) - 1.0).to_bits();
    let fraction = u & FRACTION;
    let halve = (fraction + ((1 << 52) - SQRT2_FRACTION)) >> 52;
    let m = f64::from_bits(fraction | ((1023 - halve) << 52));
    // −log2 U = (1023 − biased exponent − halve) − log2 m, the integer part in 0..=52.
    let whole = f64::from_bits(TWO_52 | (1023 - (u >> 52) - halve)) - f64::from_bits(TWO_52);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series =
        t * (1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0 + t2 * (1.0 / 11.0))))));
    whole - series * (2.0 / core::f64::consts::LN_2)
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
        const TWO_52: f64 = 4_503_599_627_370_496.0;
        let mut worst = 0f64;
        let steps = (0..=u64::MAX).step_by(0x1_0000_0000_0000 / 3 + 12_345);
        let edges = [0, 1, 1 << 12, 0xfff, u64::MAX - (1 << 12), u64::MAX];
        // Around U = √½ and √⅛ (m = √2), where the range reduction switches.
        let near = |u: f64| ((u * TWO_52) as u64) << 12;
        let around = [near(0.5f64.sqrt()), near(0.125f64.sqrt())]
            .into_iter()
            .flat_map(|c| (0..64u64).map(move |i| (c + (i << 12)).wrapping_sub(32 << 12)));
        // Every exponent U can have: a power of two and 1.5 times one.
        let exponents = (12..64).flat_map(|k| [1u64 << k, (1u64 << k) + (1u64 << (k - 1))]);
        for r in steps.chain(edges).chain(around).chain(exponents) {
            let u = ((r >> 12) | 1) as f64 / TWO_52;
            let exact = -u.log2();
            let got = neg_log2(r);
            worst = worst.max(((exact - got) / exact).abs());
            assert!(got > 0.0, "r = {r:#x}");
        }
        assert!(worst < 1e-10, "worst relative error {worst:e}");
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
