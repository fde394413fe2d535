//! Where mirrors and clients are: countries weighted roughly like Fedora's public mirror list (many in the US
//! and Germany, a long tail of one or two per country), and countries with clients but no mirror.

use mirrorvane_selector::CountryCode;

/// Countries that host mirrors, heaviest first, with a relative weight. `Scale::countries` takes a prefix.
pub(crate) const MIRROR_COUNTRIES: &[(&str, u32)] = &[
    ("US", 80),
    ("DE", 45),
    ("FR", 16),
    ("CN", 15),
    ("GB", 12),
    ("NL", 12),
    ("JP", 11),
    ("CZ", 10),
    ("CA", 10),
    ("SE", 8),
    ("RU", 8),
    ("BR", 8),
    ("AU", 8),
    ("IT", 6),
    ("ES", 6),
    ("AT", 6),
    ("CH", 6),
    ("PL", 6),
    ("TW", 5),
    ("IN", 5),
    ("KR", 4),
    ("FI", 4),
    ("DK", 4),
    ("SG", 4),
    ("NO", 3),
    ("BE", 3),
    ("HK", 3),
    ("ID", 3),
    ("UA", 3),
    ("RO", 3),
    ("BG", 3),
    ("NZ", 3),
    ("ZA", 2),
    ("TH", 2),
    ("VN", 2),
    ("HU", 2),
    ("GR", 2),
    ("PT", 2),
    ("IL", 2),
    ("TR", 2),
    ("IE", 2),
    ("SK", 2),
    ("AR", 2),
    ("CL", 2),
    ("MX", 2),
    ("IR", 2),
    ("KZ", 1),
    ("LT", 1),
    ("LV", 1),
    ("EE", 1),
    ("SI", 1),
    ("HR", 1),
    ("RS", 1),
    ("IS", 1),
    ("LU", 1),
    ("MD", 1),
    ("GE", 1),
    ("PH", 1),
    ("MY", 1),
    ("BD", 1),
    ("KE", 1),
    ("EC", 1),
    ("CR", 1),
    ("CO", 1),
    ("PK", 1),
    ("NP", 1),
    ("EG", 1),
    ("MA", 1),
];

/// Countries with clients but (in every scale) no mirror; several in Africa, where the nearest hosts are few.
pub(crate) const CLIENT_ONLY_COUNTRIES: &[&str] = &[
    "TD", "NE", "ML", "BF", "SN", "CM", "UG", "TZ", "ZM", "MW", "MZ", "AO", "BO", "PY", "UY", "VE", "PE", "MN", "KG",
    "UZ", "LA", "KH", "MM", "LK", "JO", "SA", "AE", "QA", "CY", "MT", "AL", "MK", "BA", "FJ", "PG", "CU", "DO", "GT",
    "HN", "NI",
];

/// A code from the tables above (all valid).
pub(crate) fn code(s: &str) -> CountryCode {
    CountryCode::parse(s).expect("the country tables hold two-letter codes")
}
