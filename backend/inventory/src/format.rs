//! Reading the TOML inventory format into an [`Inventory`], with every validation error of the file at once.
//!
//! Two stages: serde reads the shape (syntax, unknown keys, types — the first such error stops it, as TOML
//! parsing cannot resume), then [`Reader`] checks every value and reference with its span, collecting all errors.
//! The format, by example:
//!
//! ```toml
//! embargoed = ["CU", "IR", "KP", "SY"]          # top-level keys come before any [table]
//! [[product]]
//! name = "Fedora"
//! [[category]]
//! name = "Fedora Linux"
//! product = "Fedora"
//! topdir = "pub/fedora/linux"
//! [[site]]
//! name = "Example University"
//! org_url = "https://example.edu"
//! admins = ["alice"]
//! [[site.host]]
//! name = "mirror.example.edu"
//! country = "US"
//! bandwidth = 1000
//! asn = 64500
//! netblocks = ["192.0.2.0/24", { name = "v6", netblock = "2001:db8::/32" }]
//! [[site.host.category]]
//! name = "Fedora Linux"
//! urls = ["https://mirror.example.edu/fedora/linux"]
//! private_urls = ["rsync://mirror.example.edu/fedora-linux"]
//! [country_continent]
//! TW = "AS"
//! [[netblock_country]]
//! netblock = "198.51.100.0/24"
//! country = "TW"
//! [[version]]                                     # versions: how the public pages show them
//! product = "Fedora"
//! name = "41"
//! sortorder = 41
//! current = true                                  # propagation follows its repositories
//! [repository_redirects]
//! "fedora-rawhide" = "rawhide"
//! ```
//! Also at the top: `disabled_repositories = ["fedora-39/x86_64"]` (`prefix/arch`); per host: `acl_ips`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

use super::error::{InventoryError, InventoryErrors, LineIndex, Problem, line_column};
use super::model::*;
use super::validate;

/// Names the database already has, so a file may reference products and categories it does not define.
#[derive(Debug, Clone, Default)]
pub struct KnownNames {
    pub products: BTreeSet<String>,
    pub categories: BTreeSet<String>,
}

impl KnownNames {
    /// The products and categories of a stored inventory (what `apply` loads before reading the file).
    pub fn of(stored: &Inventory) -> Self {
        Self {
            products: stored.products.iter().map(|p| p.name.clone()).collect(),
            categories: stored.categories.iter().map(|c| c.name.clone()).collect(),
        }
    }
}

/// Reads an inventory. `file` is only used in messages. References must resolve within the file or `known`.
pub fn parse(file: &str, text: &str, known: &KnownNames) -> Result<Inventory, InventoryErrors> {
    let raw: RawInventory = toml::from_str(text).map_err(|e| {
        let (line, column) = line_column(text, e.span().map_or(0, |s| s.start));
        InventoryErrors(vec![InventoryError {
            file: file.to_owned(),
            line,
            column,
            context: String::new(),
            problem: Problem::Toml(e.message().trim_end().to_owned()),
        }])
    })?;
    let mut reader = Reader {
        file,
        text,
        lines: LineIndex::new(text),
        errors: Vec::new(),
        urls: HashMap::new(),
    };
    let inventory = reader.inventory(raw, known);
    if reader.errors.is_empty() {
        Ok(inventory)
    } else {
        reader.errors.sort_by_key(|e| (e.line, e.column));
        Err(InventoryErrors(reader.errors))
    }
}

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    product: Vec<RawProduct>,
    #[serde(default)]
    category: Vec<RawCategory>,
    #[serde(default)]
    arch: Vec<RawArch>,
    #[serde(default)]
    site: Vec<RawSite>,
    #[serde(default)]
    country_continent: BTreeMap<S<String>, S<String>>,
    #[serde(default)]
    netblock_country: Vec<RawNetblockCountry>,
    #[serde(default)]
    embargoed: Vec<S<String>>,
    #[serde(default)]
    version: Vec<RawVersion>,
    #[serde(default)]
    repository_redirects: BTreeMap<S<String>, S<String>>,
    #[serde(default)]
    disabled_repositories: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    product: S<String>,
    name: S<String>,
    display_name: Option<String>,
    codename: Option<String>,
    sortorder: Option<S<i64>>,
    display: Option<bool>,
    current: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    name: S<String>,
    publiclist: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: S<String>,
    product: S<String>,
    topdir: String,
    publiclist: Option<bool>,
    admin_only: Option<bool>,
    #[serde(default)]
    excludes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArch {
    name: S<String>,
    publiclist: Option<bool>,
    primary: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: S<String>,
    org_url: Option<String>,
    private: Option<bool>,
    admin_active: Option<bool>,
    user_active: Option<bool>,
    #[serde(default)]
    admins: Vec<S<String>>,
    password: Option<String>,
    #[serde(default)]
    host: Vec<RawHost>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: S<String>,
    country: S<String>,
    bandwidth: Option<S<i64>>,
    max_connections: Option<S<i64>>,
    private: Option<bool>,
    admin_active: Option<bool>,
    user_active: Option<bool>,
    asn: Option<S<i64>>,
    asn_clients: Option<bool>,
    comment: Option<String>,
    robot_email: Option<String>,
    #[serde(default)]
    netblocks: Vec<S<RawNetblock>>,
    #[serde(default)]
    peer_asns: Vec<S<i64>>,
    #[serde(default)]
    allowed_countries: Vec<S<String>>,
    #[serde(default)]
    acl_ips: Vec<S<String>>,
    #[serde(default)]
    category: Vec<RawHostCategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHostCategory {
    name: S<String>,
    #[serde(default)]
    urls: Vec<S<String>>,
    #[serde(default)]
    private_urls: Vec<S<String>>,
    always_up_to_date: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetblockCountry {
    netblock: S<String>,
    country: S<String>,
}

/// `"192.0.2.0/24"` or `{ name = "v6", netblock = "2001:db8::/32" }`. Hand-written because serde's untagged
/// enums buffer the value and lose toml's spans.
struct RawNetblock {
    name: Option<String>,
    netblock: String,
}

impl<'de> Deserialize<'de> for RawNetblock {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NetblockVisitor;
        impl<'de> Visitor<'de> for NetblockVisitor {
            type Value = RawNetblock;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a netblock string or a table { name, netblock }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNetblock, E> {
                Ok(RawNetblock {
                    name: None,
                    netblock: v.to_owned(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNetblock, A::Error> {
                let (mut name, mut netblock) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" => name = Some(map.next_value::<String>()?),
                        "netblock" => netblock = Some(map.next_value::<String>()?),
                        other => return Err(de::Error::unknown_field(other, &["name", "netblock"])),
                    }
                }
                let netblock = netblock.ok_or_else(|| de::Error::missing_field("netblock"))?;
                Ok(RawNetblock { name, netblock })
            }
        }
        deserializer.deserialize_any(NetblockVisitor)
    }
}

/// Converts the raw shape, recording every problem with its position.
struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    lines: LineIndex,
    errors: Vec<InventoryError>,
    /// Every URL seen → line, for global uniqueness.
    urls: HashMap<String, usize>,
}

/// First line of each key seen in one scope; reports the second occurrence.
#[derive(Default)]
struct Seen(HashMap<String, usize>);

impl Reader<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        self.lines.locate(self.text, span.start).0
    }

    fn error(&mut self, span: Range<usize>, context: &str, problem: Problem) {
        let (line, column) = self.lines.locate(self.text, span.start);
        self.errors.push(InventoryError {
            file: self.file.to_owned(),
            line,
            column,
            context: context.to_owned(),
            problem,
        });
    }

    /// Runs a check on a spanned value; on failure records it and returns `None`.
    fn check<T, R>(&mut self, value: &S<T>, context: &str, f: impl FnOnce(&T) -> Result<R, Problem>) -> Option<R> {
        match f(value.get_ref()) {
            Ok(r) => Some(r),
            Err(p) => {
                self.error(value.span(), context, p);
                None
            }
        }
    }

    /// Records `key` in `seen`; false (and an error at `span`) if it was there already.
    fn first(&mut self, seen: &mut Seen, what: &'static str, key: &str, span: Range<usize>, context: &str) -> bool {
        let line = self.line(&span);
        if let Some(&first_line) = seen.0.get(key) {
            self.error(
                span,
                context,
                Problem::Duplicate {
                    what,
                    name: key.to_owned(),
                    first_line,
                },
            );
            false
        } else {
            seen.0.insert(key.to_owned(), line);
            true
        }
    }

    fn inventory(&mut self, raw: RawInventory, known: &KnownNames) -> Inventory {
        let mut inv = Inventory::default();

        let mut seen = Seen::default();
        for p in raw.product {
            let Some(name) = self.check(&p.name, "", |n| validate::name("product name", n)) else {
                continue;
            };
            if self.first(&mut seen, "product", &name, p.name.span(), "") {
                inv.products.push(Product {
                    name,
                    publiclist: p.publiclist.unwrap_or(true),
                });
            }
        }
        let products: BTreeSet<&str> = inv.products.iter().map(|p| p.name.as_str()).collect();

        let mut seen = Seen::default();
        let mut categories = Vec::new();
        for c in raw.category {
            let Some(name) = self.check(&c.name, "", |n| validate::name("category name", n)) else {
                continue;
            };
            let context = format!("category {name:?}");
            let product = self.check(&c.product, &context, |n| validate::name("product", n));
            if let Some(product) = &product
                && !products.contains(product.as_str())
                && !known.products.contains(product)
            {
                self.error(
                    c.product.span(),
                    &context,
                    Problem::Unknown {
                        what: "product",
                        name: product.clone(),
                    },
                );
            }
            // Kept even with a bad product (the error is recorded), so hosts naming it get no second error.
            if self.first(&mut seen, "category", &name, c.name.span(), "") {
                categories.push(Category {
                    name,
                    product: product.unwrap_or_default(),
                    topdir: c.topdir.trim_matches('/').to_owned(),
                    publiclist: c.publiclist.unwrap_or(true),
                    admin_only: c.admin_only.unwrap_or(false),
                    excludes: c.excludes,
                });
            }
        }
        inv.categories = categories;
        let category_names: BTreeSet<String> = inv.categories.iter().map(|c| c.name.clone()).collect();

        let mut seen = Seen::default();
        for a in raw.arch {
            let Some(name) = self.check(&a.name, "", |n| validate::name("arch name", n)) else {
                continue;
            };
            if self.first(&mut seen, "arch", &name, a.name.span(), "") {
                inv.arches.push(Arch {
                    name,
                    publiclist: a.publiclist.unwrap_or(true),
                    primary: a.primary.unwrap_or(true),
                });
            }
        }

        let mut seen = Seen::default();
        for s in raw.site {
            let Some(name) = self.check(&s.name, "", |n| validate::name("site name", n)) else {
                continue;
            };
            let is_first = self.first(&mut seen, "site", &name, s.name.span(), "");
            let site = self.site(name, s, &category_names, known);
            if is_first {
                inv.sites.push(site);
            }
        }

        // In file order, so the second spelling of a country ("ru" after "RU") is the one reported.
        let mut overrides: Vec<_> = raw.country_continent.into_iter().collect();
        overrides.sort_by_key(|(country, _)| country.span().start);
        let mut seen = Seen::default();
        for (country, continent) in overrides {
            let c = self.check(&country, "country_continent", |c| validate::country(c));
            let context = format!("country_continent {}", country.get_ref());
            let k = self.check(&continent, &context, |c| validate::continent(c));
            if let Some(c) = c
                && self.first(&mut seen, "country", &c, country.span(), "country_continent")
                && let Some(k) = k
            {
                inv.country_continent.insert(c, k);
            }
        }

        let mut seen = Seen::default();
        for nc in raw.netblock_country {
            let netblock = self.check(&nc.netblock, "netblock_country", |n| validate::ip_network(n));
            let country = self.check(&nc.country, "netblock_country", |c| validate::country(c));
            if let Some(netblock) = netblock
                && self.first(&mut seen, "netblock", &netblock, nc.netblock.span(), "netblock_country")
                && let Some(country) = country
            {
                inv.netblock_country.push(NetblockCountry { netblock, country });
            }
        }

        let mut seen = Seen::default();
        for e in raw.embargoed {
            if let Some(c) = self.check(&e, "embargoed", |c| validate::country(c))
                && self.first(&mut seen, "country", &c, e.span(), "embargoed")
            {
                inv.embargoed.push(c);
            }
        }

        let products: BTreeSet<String> = inv.products.iter().map(|p| p.name.clone()).collect();
        let mut seen = Seen::default();
        for v in raw.version {
            let context = format!("version {}", v.name.get_ref());
            let product = self.check(&v.product, &context, |n| validate::name("product", n));
            let name = self.check(&v.name, &context, |n| validate::name("version", n));
            let sortorder = match &v.sortorder {
                Some(o) => self.check(o, &context, |o| {
                    validate::in_range("sortorder", *o, 0, i64::from(i32::MAX))
                }),
                None => Some(0),
            };
            let (Some(product), Some(name), Some(sortorder)) = (product, name, sortorder) else {
                continue;
            };
            if !products.contains(&product) && !known.products.contains(&product) {
                let unknown = Problem::Unknown {
                    what: "product",
                    name: product.clone(),
                };
                self.error(v.product.span(), &context, unknown);
                continue;
            }
            if self.first(&mut seen, "version", &format!("{product} {name}"), v.name.span(), "") {
                inv.versions.push(Version {
                    product,
                    name,
                    display_name: v.display_name.filter(|d| !d.trim().is_empty()),
                    codename: v.codename.filter(|c| !c.trim().is_empty()),
                    sortorder: i64::from(sortorder),
                    display: v.display.unwrap_or(true),
                    current: v.current.unwrap_or(false),
                });
            }
        }

        for (from, to) in raw.repository_redirects {
            let f = self.check(&from, "repository_redirects", |n| validate::name("repository", n));
            let t = self.check(&to, "repository_redirects", |n| validate::name("repository", n));
            if let (Some(f), Some(t)) = (f, t) {
                inv.repository_redirects.insert(f, t);
            }
        }

        let mut seen = Seen::default();
        for d in raw.disabled_repositories {
            if let Some(r) = self.check(&d, "disabled_repositories", |r| validate::repository_ref(r))
                && self.first(&mut seen, "repository", &r, d.span(), "disabled_repositories")
            {
                inv.disabled_repositories.push(r);
            }
        }
        inv
    }

    fn site(&mut self, name: String, s: RawSite, categories: &BTreeSet<String>, known: &KnownNames) -> Site {
        let context = format!("site {name:?}");
        let mut site = Site::new(name);
        site.org_url = s
            .org_url
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        site.private = s.private.unwrap_or(false);
        site.admin_active = s.admin_active.unwrap_or(true);
        site.user_active = s.user_active.unwrap_or(true);
        site.password = s.password;
        let mut seen = Seen::default();
        for a in s.admins {
            if let Some(admin) = self.check(&a, &context, |n| validate::name("admin user name", n))
                && self.first(&mut seen, "admin", &admin, a.span(), &context)
            {
                site.admins.push(admin);
            }
        }
        let mut seen = Seen::default();
        for h in s.host {
            let Some(host_name) = self.check(&h.name, &context, |n| validate::host_name(n)) else {
                continue;
            };
            let is_first = self.first(&mut seen, "host", &host_name, h.name.span(), &context);
            let host = self.host(&context, host_name, h, categories, known);
            if is_first {
                site.hosts.push(host);
            }
        }
        site
    }

    fn host(
        &mut self,
        site_context: &str,
        name: String,
        h: RawHost,
        categories: &BTreeSet<String>,
        known: &KnownNames,
    ) -> Host {
        let context = format!("{site_context} / host {name:?}");
        let ctx = context.as_str();
        let mut host = Host::new(name, "");
        // Values that fail a check are left at a placeholder: with any error recorded, no inventory is returned.
        host.country = self
            .check(&h.country, ctx, |c| validate::country(c))
            .unwrap_or_default();
        if let Some(b) = &h.bandwidth {
            host.bandwidth = self.check(b, ctx, |v| validate::positive("bandwidth", *v)).unwrap_or(0);
        }
        if let Some(m) = &h.max_connections {
            host.max_connections = self
                .check(m, ctx, |v| validate::positive("max_connections", *v))
                .unwrap_or(0);
        }
        host.private = h.private.unwrap_or(false);
        host.admin_active = h.admin_active.unwrap_or(true);
        host.user_active = h.user_active.unwrap_or(true);
        host.asn = h
            .asn
            .as_ref()
            .and_then(|a| self.check(a, ctx, |v| validate::asn("asn", *v)));
        host.asn_clients = h.asn_clients.unwrap_or(true);
        host.comment = h.comment;
        host.robot_email = h.robot_email;

        let mut seen = Seen::default();
        for n in &h.netblocks {
            let raw = n.get_ref();
            let Some(netblock) = self.check(n, ctx, |r| validate::host_netblock(&r.netblock)) else {
                continue;
            };
            let label = match &raw.name {
                Some(label) => self.check(n, ctx, |_| validate::name("netblock name", label)),
                None => Some(netblock.clone()),
            };
            if self.first(&mut seen, "netblock", &netblock, n.span(), ctx)
                && let Some(name) = label
            {
                host.netblocks.push(Netblock { name, netblock });
            }
        }
        let mut seen = Seen::default();
        for a in &h.peer_asns {
            if let Some(asn) = self.check(a, ctx, |v| validate::asn("peer ASN", *v))
                && self.first(&mut seen, "peer ASN", &asn.to_string(), a.span(), ctx)
            {
                host.peer_asns.push(asn);
            }
        }
        let mut seen = Seen::default();
        for c in &h.allowed_countries {
            if let Some(country) = self.check(c, ctx, |v| validate::country(v))
                && self.first(&mut seen, "allowed country", &country, c.span(), ctx)
            {
                host.allowed_countries.push(country);
            }
        }
        let mut seen = Seen::default();
        for a in &h.acl_ips {
            if let Some(ip) = self.check(a, ctx, |v| validate::acl_ip(v))
                && self.first(&mut seen, "ACL IP", &ip, a.span(), ctx)
            {
                host.acl_ips.push(ip);
            }
        }
        let mut seen = Seen::default();
        for hc in h.category {
            let Some(category) = self.check(&hc.name, ctx, |n| validate::name("category", n)) else {
                continue;
            };
            if !categories.contains(&category) && !known.categories.contains(&category) {
                self.error(
                    hc.name.span(),
                    ctx,
                    Problem::Unknown {
                        what: "category",
                        name: category.clone(),
                    },
                );
            }
            let is_first = self.first(&mut seen, "category", &category, hc.name.span(), ctx);
            let hc_context = format!("{context} / category {category:?}");
            let mut out = HostCategory::new(category);
            out.always_up_to_date = hc.always_up_to_date.unwrap_or(false);
            let urls = hc
                .urls
                .iter()
                .map(|u| (u, false))
                .chain(hc.private_urls.iter().map(|u| (u, true)));
            for (u, private) in urls {
                let Some(url) = self.check(u, &hc_context, |v| validate::mirror_url(v)) else {
                    continue;
                };
                let line = self.line(&u.span());
                if let Some(&first_line) = self.urls.get(&url) {
                    self.error(
                        u.span(),
                        &hc_context,
                        Problem::Duplicate {
                            what: "URL",
                            name: url,
                            first_line,
                        },
                    );
                } else {
                    self.urls.insert(url.clone(), line);
                    out.urls.push(Url { url, private });
                }
            }
            if is_first {
                host.categories.push(out);
            }
        }
        host
    }
}
