//! [`Nearby`]: per host set, its public members that have a country, ordered by continent and then country.
//!
//! Three of four requests are answered from the client's country and the rest of its continent. With the members
//! in that order, both tiers are slices of one list found by binary search over its (continent, country) runs,
//! instead of a scan over every carrier of the directory (~400 for a popular repository) per request. The runs
//! also give the header's `country = XX` list in code order.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use once_cell::race::OnceBox;

use crate::codes::{CodeSet, ContinentCode, CountryCode};
use crate::index::facts::{self, HcFacts};
use crate::snapshot::{HostCategoryId, HostSetId};

/// Per host set, its ordered members and their runs, built on the set's first request.
#[derive(Default)]
pub(crate) struct Nearby {
    /// The (continent, country) [`key`]s of the snapshot's public host categories with a country, sorted.
    keys: Vec<u32>,
    /// Per host category: the position of its key in `keys`, or `u32::MAX` when it is never near anyone.
    bucket: Vec<u32>,
    /// Per host set.
    sets: Vec<OnceBox<Order>>,
}

/// One set's members in (continent, country) order, and its runs.
struct Order {
    members: Box<[HostCategoryId]>,
    runs: Box<[Run]>,
}

/// Members of one set in one (continent, country).
#[derive(Clone, Copy, Debug)]
struct Run {
    /// [`key`] of the run's continent and country.
    key: u32,
    /// End of the run in the set's members (relative to the set's first).
    end: u32,
}

/// The sort key: continent first (as a big-endian number, so in code order; [`facts::NO_CONTINENT`] first), then the
/// country's code-set slot (code order).
fn key(continent: ContinentCode, country_slot: u16) -> u32 {
    (u32::from(u16::from_be_bytes(continent.0)) << 16) | u32::from(country_slot)
}

/// What a set holds near a client.
pub(crate) struct Around<'a> {
    /// Members in the client's country.
    pub country: &'a [HostCategoryId],
    /// Members elsewhere on its continent: before and after the country's run.
    pub continent: [&'a [HostCategoryId]; 2],
    /// The runs of the continent, the client's country's included.
    continent_runs: &'a [Run],
    /// The [`key`] of the client's country's run.
    country_key: Option<u32>,
}

impl Around<'_> {
    /// The countries of [`Around::continent`], in code order.
    pub(crate) fn continent_countries(&self) -> impl Iterator<Item = CountryCode> + '_ {
        self.continent_runs
            .iter()
            .filter(|r| Some(r.key) != self.country_key)
            .map(|r| CodeSet::code_of_slot(r.key as u16))
    }
}

impl Nearby {
    /// Prepares ordering the sets of a snapshot with `sets` host sets and host categories with `facts`.
    ///
    /// Sets are ordered on their first request, not here: a Fedora-scale snapshot has ~2 million (set, member)
    /// pairs, and ordering them all made loading it a quarter slower and its memory 20 % larger, while requests
    /// come for a few hundred sets.
    pub(crate) fn new(facts: &[HcFacts], sets: usize) -> Nearby {
        let usable = |f: &HcFacts| f.flags & facts::PUBLIC != 0 && f.country != facts::NO_COUNTRY;
        let mut keys: Vec<u32> = facts
            .iter()
            .filter(|f| usable(f))
            .map(|f| key(f.continent, f.country))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let bucket = facts
            .iter()
            .map(|f| match usable(f) {
                true => keys
                    .binary_search(&key(f.continent, f.country))
                    .map_or(u32::MAX, |i| i as u32),
                false => u32::MAX,
            })
            .collect();
        Nearby {
            keys,
            bucket,
            sets: (0..sets).map(|_| OnceBox::new()).collect(),
        }
    }

    /// Orders `members` (a set's, ascending) by a counting sort: a member's (continent, country) is one of at
    /// most a few hundred keys, so this costs the set's size plus the number of keys, and each run stays in id
    /// order.
    fn order(&self, members: &[HostCategoryId]) -> Order {
        let of = |m: &HostCategoryId| self.bucket.get(m.index()).copied().filter(|&b| b != u32::MAX);
        // Per key: the set's members in it, then where the next one goes.
        let mut next = alloc::vec![0u32; self.keys.len()];
        let mut total = 0;
        for b in members.iter().filter_map(of) {
            next[b as usize] += 1;
            total += 1;
        }
        let mut runs = Vec::new();
        let mut end = 0;
        for (b, slot) in next.iter_mut().enumerate() {
            if *slot > 0 {
                let start = end;
                end += *slot;
                runs.push(Run { key: self.keys[b], end });
                *slot = start;
            }
        }
        let mut ordered = alloc::vec![HostCategoryId(0); total];
        for &m in members {
            if let Some(b) = of(&m) {
                ordered[next[b as usize] as usize] = m;
                next[b as usize] += 1;
            }
        }
        Order {
            members: ordered.into_boxed_slice(),
            runs: runs.into_boxed_slice(),
        }
    }

    /// The members of `set` (whose members are `members`) in `country` (with its continent as the hosts' facts
    /// have it) and elsewhere on `continent`. Without a continent, the continent part is empty.
    pub(crate) fn around(
        &self,
        set: HostSetId,
        members: &[HostCategoryId],
        country: Option<(CountryCode, Option<ContinentCode>)>,
        continent: Option<ContinentCode>,
    ) -> Around<'_> {
        let Some(order) = self.sets.get(set.index()) else {
            return Around {
                country: &[],
                continent: [&[], &[]],
                continent_runs: &[],
                country_key: None,
            };
        };
        // Two threads may both order a new set; one result is kept, and they are equal.
        let order = order.get_or_init(|| Box::new(self.order(members)));
        let (runs, members) = (&order.runs[..], &order.members[..]);
        // Members from the start of run i to the end of run j - 1.
        let span = |i: usize, j: usize| -> Range<usize> {
            let start = if i == 0 { 0 } else { runs[i - 1].end as usize };
            let end = if j == 0 { 0 } else { runs[j - 1].end as usize };
            start..end.max(start)
        };
        let country_key = country.map(|(c, k)| key(k.unwrap_or(facts::NO_CONTINENT), CodeSet::slot_of(c)));
        let country_runs = country_key.map_or(0..0, |k| {
            let i = runs.partition_point(|r| r.key < k);
            i..i + usize::from(runs.get(i).is_some_and(|r| r.key == k))
        });
        let continent_runs = continent.map_or(0..0, |k| {
            let (lo, hi) = (key(k, 0), key(k, u16::MAX));
            runs.partition_point(|r| r.key < lo)..runs.partition_point(|r| r.key <= hi)
        });
        let in_country = span(country_runs.start, country_runs.end);
        let whole = span(continent_runs.start, continent_runs.end);
        // The country's run splits the continent's when it lies inside it (it always does when the client's
        // continent is its country's).
        let (before, after) = if !in_country.is_empty() && whole.contains(&in_country.start) {
            (whole.start..in_country.start, in_country.end..whole.end)
        } else {
            (whole.clone(), whole.end..whole.end)
        };
        Around {
            country: &members[in_country],
            continent: [&members[before], &members[after]],
            continent_runs: &runs[continent_runs],
            country_key,
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::random::{Random, SeededRandom};
    use crate::snapshot::{HostId, HostSet};

    fn code(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    fn continent(s: &str) -> ContinentCode {
        ContinentCode::parse(s).unwrap()
    }

    /// The scan [`Nearby`] replaces: members in the country, members elsewhere on the continent, and the
    /// latter's countries.
    fn scan(
        members: &[HostCategoryId],
        facts: &[HcFacts],
        country: Option<CountryCode>,
        continent: Option<ContinentCode>,
    ) -> (Vec<HostCategoryId>, Vec<HostCategoryId>, Vec<CountryCode>) {
        let (mut geo, mut cont, mut countries) = (vec![], vec![], CodeSet::default());
        let cc = country.map_or(facts::NO_COUNTRY, CodeSet::slot_of);
        for &m in members {
            let f = &facts[m.index()];
            if f.flags & facts::PUBLIC == 0 || f.country == facts::NO_COUNTRY {
                continue;
            }
            if f.country == cc {
                geo.push(m);
            } else if continent.is_some_and(|k| k == f.continent) {
                cont.push(m);
                countries.insert_slot(f.country);
            }
        }
        let mut listed = vec![];
        countries.for_each(|c| listed.push(c));
        (geo, cont, listed)
    }

    #[test]
    fn slices_equal_the_scan() {
        // Countries on two continents, one without a continent (its hosts' facts say NO_CONTINENT), hosts without a
        // country, private hosts.
        let places = [
            ("DE", "EU"),
            ("FR", "EU"),
            ("AT", "EU"),
            ("US", "NA"),
            ("CA", "NA"),
            ("XK", ""),
        ];
        let mut rng = SeededRandom::new(5);
        let facts: Vec<HcFacts> = (0..300)
            .map(|i| {
                let p = rng.below(places.len() as u64 + 1) as usize;
                let (country, continent) = match places.get(p) {
                    Some(&(c, "")) => (CodeSet::slot_of(code(c)), facts::NO_CONTINENT),
                    Some(&(c, k)) => (CodeSet::slot_of(code(c)), continent(k)),
                    None => (facts::NO_COUNTRY, facts::NO_CONTINENT),
                };
                HcFacts {
                    host: HostId(i),
                    inverse_weight: 1.0,
                    url_count: 1,
                    first_preferred: [0; 2],
                    country,
                    continent,
                    flags: if rng.below(5) == 0 { 0 } else { facts::PUBLIC },
                }
            })
            .collect();
        let sets: Vec<HostSet> = (0..40)
            .map(|_| {
                let keep = 1 + rng.below(4);
                HostSet::new((0..300).filter(|_| rng.below(keep) == 0).map(HostCategoryId).collect())
            })
            .chain([HostSet::default()])
            .collect();
        let nearby = Nearby::new(&facts, sets.len());
        let continent_of = |c: CountryCode| {
            places
                .iter()
                .find(|p| code(p.0) == c)
                .and_then(|p| ContinentCode::parse(p.1))
        };
        let mut clients: Vec<(Option<CountryCode>, Option<ContinentCode>)> =
            vec![(None, None), (None, Some(continent("EU")))];
        for (c, k) in places {
            clients.push((Some(code(c)), ContinentCode::parse(k)));
            // The geo database's continent for a country without one in the table; a foreign one.
            clients.push((Some(code(c)), Some(continent("NA"))));
        }
        clients.push((Some(code("JP")), Some(continent("AS"))));
        let mut nonempty = 0;
        for (i, set) in sets.iter().enumerate() {
            for &(country, continent) in &clients {
                let around = nearby.around(
                    HostSetId(i as u32),
                    set.members(),
                    country.map(|c| (c, continent_of(c))),
                    continent,
                );
                let (geo, cont, countries) = scan(set.members(), &facts, country, continent);
                let mut got_geo = around.country.to_vec();
                let mut got_cont = [around.continent[0], around.continent[1]].concat();
                got_geo.sort();
                got_cont.sort();
                assert_eq!(
                    (got_geo, got_cont),
                    (geo.clone(), cont.clone()),
                    "set {i}, {country:?} {continent:?}"
                );
                assert_eq!(around.continent_countries().collect::<Vec<_>>(), countries);
                nonempty += usize::from(!geo.is_empty() && !cont.is_empty());
            }
        }
        assert!(nonempty > 100, "{nonempty}");
        // A set id beyond the snapshot's finds nothing instead of panicking.
        let de = Some((code("DE"), Some(continent("EU"))));
        let around = nearby.around(HostSetId(1000), sets[0].members(), de, Some(continent("EU")));
        assert!(around.country.is_empty() && around.continent.iter().all(|c| c.is_empty()));
    }
}
