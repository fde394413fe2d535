//! Country and continent codes, and the built-in ISO 3166 country → continent table.
//!
//! MirrorManager ships `country_continent.csv` (MaxMind's legacy GeoIP continent codes) and lets the database
//! override single rows. We carry the same table in the binary so no deployment needs the CSV; the snapshot
//! carries the overrides.

use core::fmt;

use serde::{Deserialize, Serialize};

/// Defines a two-letter code type: ASCII letters, digits or `-`, stored upper-case.
macro_rules! two_letter_code {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub [u8; 2]);

        impl $name {
            /// Parses two ASCII letters, digits or `-`, case-insensitively. Anything else is `None`.
            pub fn parse(s: &str) -> Option<$name> {
                Self::from_bytes(s.as_bytes())
            }

            /// Like [`Self::parse`], on bytes.
            pub fn from_bytes(b: &[u8]) -> Option<$name> {
                match b {
                    [a, b] if valid(*a) && valid(*b) => Some($name([a.to_ascii_uppercase(), b.to_ascii_uppercase()])),
                    _ => None,
                }
            }

            /// The code as text.
            pub fn as_str(&self) -> &str {
                // Constructors only admit ASCII.
                core::str::from_utf8(&self.0).unwrap_or("??")
            }

            /// Appends the code to `out`: what `out.push_str(self.as_str())` does, without the UTF-8 check (every
            /// header line lists the client's continent's countries, a few dozen codes).
            pub fn push_to(&self, out: &mut alloc::string::String) {
                // Constructors only admit ASCII, so each byte is one char.
                out.push(char::from(self.0[0]));
                out.push(char::from(self.0[1]));
            }

            /// True for bytes a code may hold (after upper-casing).
            pub fn is_valid(&self) -> bool {
                valid(self.0[0]) && valid(self.0[1]) && !self.0[0].is_ascii_lowercase() && !self.0[1].is_ascii_lowercase()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

two_letter_code!(
    /// An ISO 3166 country code such as `DE` (plus MaxMind's `A1`, `A2`, `O1`, `AP`, `EU`, and whatever an
    /// operator typed, validated to two code characters).
    CountryCode
);

two_letter_code!(
    /// A continent code: `AF AN AS EU NA OC SA`, `--` for "none".
    ContinentCode
);

fn valid(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// A set of country codes, iterated in code order: a bitmap over the 37 × 37 possible codes (`-`, digits,
/// letters).
#[derive(Clone, Default)]
pub struct CodeSet([u64; 22]);

const fn slot(b: u8) -> usize {
    match b {
        b'-' => 0,
        b'0'..=b'9' => 1 + (b - b'0') as usize,
        _ => {
            let letter = b.wrapping_sub(b'A') as usize;
            11 + if letter < 25 { letter } else { 25 }
        }
    }
}

fn unslot(i: usize) -> u8 {
    match i {
        0 => b'-',
        1..=10 => b'0' + (i - 1) as u8,
        _ => b'A' + (i - 11) as u8,
    }
}

impl CodeSet {
    /// Empties the set.
    pub fn clear(&mut self) {
        self.0 = [0; 22];
    }

    /// Adds a (valid) code.
    pub fn insert(&mut self, c: CountryCode) {
        self.insert_slot(Self::slot_of(c));
    }

    /// Where `c` lives in the bitmap (for [`CodeSet::insert_slot`]).
    pub const fn slot_of(c: CountryCode) -> u16 {
        (slot(c.0[0]) * 37 + slot(c.0[1])) as u16
    }

    /// The code in `slot` (from [`CodeSet::slot_of`]).
    pub fn code_of_slot(slot: u16) -> CountryCode {
        let i = usize::from(slot).min(37 * 37 - 1);
        CountryCode([unslot(i / 37), unslot(i % 37)])
    }

    /// Adds the code in `slot` (from [`CodeSet::slot_of`]).
    pub fn insert_slot(&mut self, slot: u16) {
        let i = usize::from(slot).min(37 * 37 - 1);
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// Calls `f` for every code, in code order.
    pub fn for_each(&self, mut f: impl FnMut(CountryCode)) {
        for (w, &word) in self.0.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                f(Self::code_of_slot(i as u16));
            }
        }
    }
}

/// The continent of `country` in the built-in table (MirrorManager's `country_continent.csv`), if listed.
pub fn builtin_continent(country: CountryCode) -> Option<ContinentCode> {
    // Every request looks its country up: an index by code-set slot instead of a binary search over byte
    // slices. A code with characters outside the slots' alphabet shares a slot with a valid one; the check
    // turns it away.
    let slot = CodeSet::slot_of(country);
    let continent = CONTINENT_BY_SLOT[usize::from(slot)];
    (continent != [0, 0] && CodeSet::code_of_slot(slot) == country).then_some(ContinentCode(continent))
}

/// [`BUILTIN`] indexed by [`CodeSet::slot_of`] of the country; `[0, 0]` where no country is listed.
static CONTINENT_BY_SLOT: [[u8; 2]; 37 * 37] = {
    let mut table = [[0u8; 2]; 37 * 37];
    let mut i = 0;
    while i < BUILTIN.len() {
        let (country, continent) = BUILTIN[i];
        table[CodeSet::slot_of(CountryCode(*country)) as usize] = *continent;
        i += 1;
    }
    table
};

/// Every country of the built-in table, sorted, with its continent.
pub fn builtin_table() -> impl Iterator<Item = (CountryCode, ContinentCode)> {
    BUILTIN.iter().map(|(c, k)| (CountryCode(**c), ContinentCode(**k)))
}

// MaxMind's legacy GeoIP country → continent assignment, as in MirrorManager's country_continent.csv.
// Sorted by country code (`builtin_table` lists it in that order; a test checks it).
const BUILTIN: &[(&[u8; 2], &[u8; 2])] = &[
    (b"A1", b"--"),
    (b"A2", b"--"),
    (b"AD", b"EU"),
    (b"AE", b"AS"),
    (b"AF", b"AS"),
    (b"AG", b"NA"),
    (b"AI", b"NA"),
    (b"AL", b"EU"),
    (b"AM", b"AS"),
    (b"AN", b"NA"),
    (b"AO", b"AF"),
    (b"AP", b"AS"),
    (b"AQ", b"AN"),
    (b"AR", b"SA"),
    (b"AS", b"OC"),
    (b"AT", b"EU"),
    (b"AU", b"OC"),
    (b"AW", b"NA"),
    (b"AX", b"EU"),
    (b"AZ", b"AS"),
    (b"BA", b"EU"),
    (b"BB", b"NA"),
    (b"BD", b"AS"),
    (b"BE", b"EU"),
    (b"BF", b"AF"),
    (b"BG", b"EU"),
    (b"BH", b"AS"),
    (b"BI", b"AF"),
    (b"BJ", b"AF"),
    (b"BL", b"NA"),
    (b"BM", b"NA"),
    (b"BN", b"AS"),
    (b"BO", b"SA"),
    (b"BQ", b"NA"),
    (b"BR", b"SA"),
    (b"BS", b"NA"),
    (b"BT", b"AS"),
    (b"BV", b"AN"),
    (b"BW", b"AF"),
    (b"BY", b"EU"),
    (b"BZ", b"NA"),
    (b"CA", b"NA"),
    (b"CC", b"AS"),
    (b"CD", b"AF"),
    (b"CF", b"AF"),
    (b"CG", b"AF"),
    (b"CH", b"EU"),
    (b"CI", b"AF"),
    (b"CK", b"OC"),
    (b"CL", b"SA"),
    (b"CM", b"AF"),
    (b"CN", b"AS"),
    (b"CO", b"SA"),
    (b"CR", b"NA"),
    (b"CU", b"NA"),
    (b"CV", b"AF"),
    (b"CW", b"NA"),
    (b"CX", b"AS"),
    (b"CY", b"AS"),
    (b"CZ", b"EU"),
    (b"DE", b"EU"),
    (b"DJ", b"AF"),
    (b"DK", b"EU"),
    (b"DM", b"NA"),
    (b"DO", b"NA"),
    (b"DZ", b"AF"),
    (b"EC", b"SA"),
    (b"EE", b"EU"),
    (b"EG", b"AF"),
    (b"EH", b"AF"),
    (b"ER", b"AF"),
    (b"ES", b"EU"),
    (b"ET", b"AF"),
    (b"EU", b"EU"),
    (b"FI", b"EU"),
    (b"FJ", b"OC"),
    (b"FK", b"SA"),
    (b"FM", b"OC"),
    (b"FO", b"EU"),
    (b"FR", b"EU"),
    (b"GA", b"AF"),
    (b"GB", b"EU"),
    (b"GD", b"NA"),
    (b"GE", b"AS"),
    (b"GF", b"SA"),
    (b"GG", b"EU"),
    (b"GH", b"AF"),
    (b"GI", b"EU"),
    (b"GL", b"NA"),
    (b"GM", b"AF"),
    (b"GN", b"AF"),
    (b"GP", b"NA"),
    (b"GQ", b"AF"),
    (b"GR", b"EU"),
    (b"GS", b"AN"),
    (b"GT", b"NA"),
    (b"GU", b"OC"),
    (b"GW", b"AF"),
    (b"GY", b"SA"),
    (b"HK", b"AS"),
    (b"HM", b"AN"),
    (b"HN", b"NA"),
    (b"HR", b"EU"),
    (b"HT", b"NA"),
    (b"HU", b"EU"),
    (b"ID", b"AS"),
    (b"IE", b"EU"),
    (b"IL", b"AS"),
    (b"IM", b"EU"),
    (b"IN", b"AS"),
    (b"IO", b"AS"),
    (b"IQ", b"AS"),
    (b"IR", b"AS"),
    (b"IS", b"EU"),
    (b"IT", b"EU"),
    (b"JE", b"EU"),
    (b"JM", b"NA"),
    (b"JO", b"AS"),
    (b"JP", b"AS"),
    (b"KE", b"AF"),
    (b"KG", b"AS"),
    (b"KH", b"AS"),
    (b"KI", b"OC"),
    (b"KM", b"AF"),
    (b"KN", b"NA"),
    (b"KP", b"AS"),
    (b"KR", b"AS"),
    (b"KW", b"AS"),
    (b"KY", b"NA"),
    (b"KZ", b"AS"),
    (b"LA", b"AS"),
    (b"LB", b"AS"),
    (b"LC", b"NA"),
    (b"LI", b"EU"),
    (b"LK", b"AS"),
    (b"LR", b"AF"),
    (b"LS", b"AF"),
    (b"LT", b"EU"),
    (b"LU", b"EU"),
    (b"LV", b"EU"),
    (b"LY", b"AF"),
    (b"MA", b"AF"),
    (b"MC", b"EU"),
    (b"MD", b"EU"),
    (b"ME", b"EU"),
    (b"MF", b"NA"),
    (b"MG", b"AF"),
    (b"MH", b"OC"),
    (b"MK", b"EU"),
    (b"ML", b"AF"),
    (b"MM", b"AS"),
    (b"MN", b"AS"),
    (b"MO", b"AS"),
    (b"MP", b"OC"),
    (b"MQ", b"NA"),
    (b"MR", b"AF"),
    (b"MS", b"NA"),
    (b"MT", b"EU"),
    (b"MU", b"AF"),
    (b"MV", b"AS"),
    (b"MW", b"AF"),
    (b"MX", b"NA"),
    (b"MY", b"AS"),
    (b"MZ", b"AF"),
    (b"NA", b"AF"),
    (b"NC", b"OC"),
    (b"NE", b"AF"),
    (b"NF", b"OC"),
    (b"NG", b"AF"),
    (b"NI", b"NA"),
    (b"NL", b"EU"),
    (b"NO", b"EU"),
    (b"NP", b"AS"),
    (b"NR", b"OC"),
    (b"NU", b"OC"),
    (b"NZ", b"OC"),
    (b"O1", b"--"),
    (b"OM", b"AS"),
    (b"PA", b"NA"),
    (b"PE", b"SA"),
    (b"PF", b"OC"),
    (b"PG", b"OC"),
    (b"PH", b"AS"),
    (b"PK", b"AS"),
    (b"PL", b"EU"),
    (b"PM", b"NA"),
    (b"PN", b"OC"),
    (b"PR", b"NA"),
    (b"PS", b"AS"),
    (b"PT", b"EU"),
    (b"PW", b"OC"),
    (b"PY", b"SA"),
    (b"QA", b"AS"),
    (b"RE", b"AF"),
    (b"RO", b"EU"),
    (b"RS", b"EU"),
    (b"RU", b"EU"),
    (b"RW", b"AF"),
    (b"SA", b"AS"),
    (b"SB", b"OC"),
    (b"SC", b"AF"),
    (b"SD", b"AF"),
    (b"SE", b"EU"),
    (b"SG", b"AS"),
    (b"SH", b"AF"),
    (b"SI", b"EU"),
    (b"SJ", b"EU"),
    (b"SK", b"EU"),
    (b"SL", b"AF"),
    (b"SM", b"EU"),
    (b"SN", b"AF"),
    (b"SO", b"AF"),
    (b"SR", b"SA"),
    (b"SS", b"AF"),
    (b"ST", b"AF"),
    (b"SV", b"NA"),
    (b"SX", b"NA"),
    (b"SY", b"AS"),
    (b"SZ", b"AF"),
    (b"TC", b"NA"),
    (b"TD", b"AF"),
    (b"TF", b"AN"),
    (b"TG", b"AF"),
    (b"TH", b"AS"),
    (b"TJ", b"AS"),
    (b"TK", b"OC"),
    (b"TL", b"AS"),
    (b"TM", b"AS"),
    (b"TN", b"AF"),
    (b"TO", b"OC"),
    (b"TR", b"AS"),
    (b"TT", b"NA"),
    (b"TV", b"OC"),
    (b"TW", b"AS"),
    (b"TZ", b"AF"),
    (b"UA", b"EU"),
    (b"UG", b"AF"),
    (b"UM", b"OC"),
    (b"US", b"NA"),
    (b"UY", b"SA"),
    (b"UZ", b"AS"),
    (b"VA", b"EU"),
    (b"VC", b"NA"),
    (b"VE", b"SA"),
    (b"VG", b"NA"),
    (b"VI", b"NA"),
    (b"VN", b"AS"),
    (b"VU", b"OC"),
    (b"WF", b"OC"),
    (b"WS", b"OC"),
    (b"XK", b"EU"),
    (b"YE", b"AS"),
    (b"YT", b"AF"),
    (b"ZA", b"AF"),
    (b"ZM", b"AF"),
    (b"ZW", b"AF"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(BUILTIN.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(BUILTIN.len() > 240);
    }

    #[test]
    fn lookups() {
        let country = |s: &str| CountryCode::parse(s).unwrap();
        assert_eq!(builtin_continent(country("de")), ContinentCode::parse("EU"));
        assert_eq!(builtin_continent(country("US")), ContinentCode::parse("NA"));
        assert_eq!(builtin_continent(country("A1")), ContinentCode::parse("--"));
        assert_eq!(builtin_continent(country("ZZ")), None);
        // Outside the alphabet (the field is public): no continent, not the one of a code sharing its slot.
        assert_eq!(builtin_continent(CountryCode(*b"D~")), None);
        assert_eq!(builtin_continent(CountryCode(*b"de")), None);
        for (country, continent) in builtin_table() {
            assert_eq!(builtin_continent(country), Some(continent));
        }
        assert_eq!(CountryCode::parse("N/A"), None);
        assert_eq!(CountryCode::parse("d"), None);
        assert_eq!(ContinentCode::parse("EUR"), None);
    }

    #[test]
    fn push_to_writes_as_str() {
        let mut out = alloc::string::String::new();
        for (country, continent) in builtin_table() {
            out.clear();
            country.push_to(&mut out);
            assert_eq!(out, country.as_str());
            out.clear();
            continent.push_to(&mut out);
            assert_eq!(out, continent.as_str());
        }
    }

    #[test]
    fn code_set_iterates_in_code_order() {
        let mut set = CodeSet::default();
        for c in ["ZW", "A1", "DE", "--", "AT", "DE", "9Z"] {
            set.insert(CountryCode::parse(c).unwrap());
        }
        let mut out = alloc::vec::Vec::new();
        set.for_each(|c| out.push(c));
        let mut expected: alloc::vec::Vec<CountryCode> = ["--", "9Z", "A1", "AT", "DE", "ZW"]
            .iter()
            .map(|c| CountryCode::parse(c).unwrap())
            .collect();
        expected.sort();
        assert_eq!(out, expected);
    }

    #[test]
    fn agrees_with_mirrormanager_csv_rows() {
        // A sample of rows of MirrorManager's country_continent.csv, including its MaxMind-legacy choices.
        for row in [
            "CY,AS", "TR,AS", "RU,EU", "AM,AS", "GE,AS", "MX,NA", "PR,NA", "EG,AF", "NZ,OC", "O1,--",
        ] {
            let (c, k) = row.split_once(',').unwrap();
            assert_eq!(
                builtin_continent(CountryCode::parse(c).unwrap()),
                ContinentCode::parse(k),
                "{row}"
            );
        }
    }
}
