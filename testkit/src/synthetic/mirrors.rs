//! Hosts, content categories and which host carries which category under which URLs.

use mirrorvane_selector::snapshot::{Category, CategoryId, Host, HostCategory, HostId, Reachability};

use super::Scale;
use super::places::{MIRROR_COUNTRIES, code};
use super::rng::Rng;

/// A category: display name, topdir, the share (‰) of hosts carrying it, and the mirror-side path under which
/// hosts usually publish it.
pub(crate) struct CategorySpec {
    pub name: &'static str,
    pub topdir: &'static str,
    pub permille: u32,
    pub url_path: &'static str,
}

/// Fedora's eight categories, with the shares of the Fedora-scale data set (e.g. 363 of 400 hosts carry
/// `Fedora Linux`). The order is the [`CategoryId`] order the tree generator relies on.
pub(crate) const CATEGORIES: &[CategorySpec] = &[
    CategorySpec {
        name: "Fedora Linux",
        topdir: "pub/fedora/linux",
        permille: 908,
        url_path: "fedora/linux",
    },
    CategorySpec {
        name: "Fedora EPEL",
        topdir: "pub/epel",
        permille: 815,
        url_path: "epel",
    },
    CategorySpec {
        name: "Fedora Archive",
        topdir: "pub/archive",
        permille: 95,
        url_path: "fedora-archive",
    },
    CategorySpec {
        name: "Fedora Secondary Arches",
        topdir: "pub/fedora-secondary",
        permille: 172,
        url_path: "fedora-secondary",
    },
    CategorySpec {
        name: "Fedora Other",
        topdir: "pub/alt",
        permille: 278,
        url_path: "fedora-alt",
    },
    CategorySpec {
        name: "Fedora Codecs",
        topdir: "pub/fedora-codecs",
        permille: 45,
        url_path: "fedora-codecs",
    },
    CategorySpec {
        name: "Fedora ELN",
        topdir: "pub/eln",
        permille: 105,
        url_path: "fedora-eln",
    },
    CategorySpec {
        name: "Fedora Ostree",
        topdir: "pub/ostree",
        permille: 62,
        url_path: "fedora-ostree",
    },
];

pub(crate) const LINUX: usize = 0;
pub(crate) const EPEL: usize = 1;
pub(crate) const ARCHIVE: usize = 2;
pub(crate) const SECONDARY: usize = 3;
pub(crate) const CODECS: usize = 5;
pub(crate) const ELN: usize = 6;

/// Scheme orders seen on real mirrors; most have https first, some still lead with http, a few list rsync.
const URL_PATTERNS: &[&[&str]] = &[
    &["https", "http", "rsync"],
    &["https", "http", "rsync"],
    &["https", "http", "rsync"],
    &["http", "https", "rsync"],
    &["https", "rsync"],
    &["https", "http"],
    &["http", "rsync"],
    &["https"],
    &["http"],
    &["rsync", "https", "http"],
];

/// Hosts, categories and host categories (sorted by (category, host), as the selector requires), plus, per
/// host category, whether it is always up to date (it then carries every directory of its category).
pub(crate) struct Mirrors {
    pub hosts: Vec<Host>,
    pub categories: Vec<Category>,
    pub host_categories: Vec<HostCategory>,
    pub always_up2date: Vec<bool>,
}

pub(crate) fn generate(scale: &Scale, seed: u64) -> Mirrors {
    let mut rng = Rng::new(seed, 1);
    let countries = &MIRROR_COUNTRIES[..scale.countries.clamp(1, MIRROR_COUNTRIES.len())];
    let weights: Vec<u32> = countries.iter().map(|c| c.1).collect();
    // Universities and ISPs: a few ASNs are shared by two or three hosts.
    let mut asn_pool: Vec<u32> = Vec::new();
    let mut hosts = Vec::with_capacity(scale.hosts);
    for i in 0..scale.hosts {
        // Every country gets one host first, the rest follow the weights.
        let (cc, _) = if i < countries.len() {
            countries[i]
        } else {
            countries[rng.weighted(&weights)]
        };
        let private = rng.chance(scale.private_permille);
        let asns = if rng.chance(scale.asn_permille) {
            let asn = if !asn_pool.is_empty() && rng.chance(120) {
                *rng.pick(&asn_pool)
            } else {
                rng.range(1_000, 399_999) as u32
            };
            asn_pool.push(asn);
            vec![asn]
        } else {
            Vec::new()
        };
        // Log-uniform-ish 10..=10000 Mbit/s, clustered at the round numbers operators enter.
        let bandwidth = match rng.below(10) {
            0 => 10,
            1 | 2 => 100,
            3..=5 => 1000,
            6 | 7 => 10_000,
            _ => rng.range(10, 10_000) as u32,
        };
        // A handful of national mirrors serve only their own country (embargo-style restrictions).
        let allowed_countries = if cc == "CN" && rng.chance(150) {
            vec![code("CN")]
        } else {
            Vec::new()
        };
        let lc = cc.to_ascii_lowercase();
        let name = match rng.below(4) {
            0 => format!("mirror{i}.{lc}.example.net"),
            1 => format!("fedora.uni{i}.example.{lc}"),
            2 => format!("ftp{i}.example.{lc}"),
            _ => format!("mirrors.isp{i}.example.com"),
        };
        hosts.push(Host {
            id: 1 + i as u32 * 3 + rng.below(3) as u32,
            name,
            country: Some(code(cc)),
            bandwidth,
            private,
            asns,
            allowed_countries,
            reachability: Reachability {
                ipv4: Some(true),
                ipv6: Some(rng.chance(600)),
            },
        });
    }

    let categories = CATEGORIES
        .iter()
        .map(|c| Category {
            name: c.name.into(),
            topdir: c.topdir.into(),
        })
        .collect();

    // Which categories each host carries; a host carries at least one (Fedora Linux when the draw gave none).
    let mut carries = vec![[false; 8]; hosts.len()];
    for row in &mut carries {
        for (c, spec) in CATEGORIES.iter().enumerate() {
            row[c] = rng.chance(spec.permille);
        }
        if !row.iter().any(|&b| b) {
            row[LINUX] = true;
        }
    }
    let mut host_categories = Vec::new();
    let mut always_up2date = Vec::new();
    for (c, spec) in CATEGORIES.iter().enumerate() {
        for (h, host) in hosts.iter().enumerate() {
            if !carries[h][c] {
                continue;
            }
            let pattern = *rng.pick(URL_PATTERNS);
            let pub_prefix = if rng.chance(300) { "pub/" } else { "" };
            let slash = if rng.chance(100) { "/" } else { "" };
            let urls = pattern
                .iter()
                .map(|scheme| match *scheme {
                    "rsync" => format!("rsync://{}/{}", host.name, spec.url_path.replace('/', "-")),
                    s => format!("{s}://{}/{pub_prefix}{}{slash}", host.name, spec.url_path),
                })
                .collect();
            host_categories.push(HostCategory {
                host: HostId(h as u32),
                category: CategoryId(c as u32),
                urls,
            });
            always_up2date.push(rng.chance(scale.always_up2date_permille));
        }
    }
    Mirrors {
        hosts,
        categories,
        host_categories,
        always_up2date,
    }
}
