//! What applying an inventory file would change in the stored one.
//!
//! The file is authoritative for what it lists: listed products, categories, arches, sites and hosts are
//! upserted; the sub-lists of a listed site or host (admins; netblocks, peer ASNs, allowed countries,
//! categories and their URLs) are made to match the file exactly. Sites and hosts the file does not list are
//! left alone unless [`Prune::Yes`]; so are country→continent overrides, netblock countries and embargoed
//! countries. Products, categories and arches are never removed: a partial file must not be able to drop
//! content that other tools (the scanner) depend on.
//!
//! Changes come in an order a database can apply one by one: every removal first (so a URL can move between
//! hosts under its global uniqueness), then additions and updates, parents before children. An added site,
//! host or host category is followed by one `Add` per child row; a removed one is a single `Remove` (the
//! database cascades).

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use super::model::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    /// Leave unlisted sites, hosts and country data alone.
    No,
    /// Remove them: the file is the whole truth about mirrors.
    Yes,
}

/// Natural key of one stored row: the database's (`mirrorvane_db::Key`).
pub use mirrorvane_db::Key;

/// The data of an added row (its key is in [`Change::Add`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    Product(Product),
    Category(Category),
    Arch(Arch),
    /// `admins` and `hosts` are empty: they follow as their own changes.
    Site(Site),
    /// `netblocks`, `peer_asns`, `allowed_countries` and `categories` are empty: they follow.
    Host(Host),
    /// `urls` is empty: they follow.
    HostCategory(HostCategory),
    HostCategoryUrl(Url),
    HostNetblock(Netblock),
    /// A site admin, peer ASN, allowed country or embargoed country: the key is all there is.
    Member,
    /// A version (the key names product and name).
    Version(Version),
    /// The redirect's target.
    RepositoryRedirect(String),
    /// The continent.
    CountryContinent(String),
    /// The country.
    NetblockCountry(String),
}

/// A field's value before or after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Int(u64),
    Text(String),
    List(Vec<String>),
    /// An optional field that is unset.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Add {
        key: Key,
        entity: Entity,
    },
    /// `field` is the model's field name (`bandwidth`, `private`, `product`, `password`, `name`, …).
    Update {
        key: Key,
        field: &'static str,
        from: Value,
        to: Value,
    },
    Remove {
        key: Key,
    },
}

impl Change {
    /// The row the change is about.
    pub fn key(&self) -> &Key {
        match self {
            Change::Add { key, .. } | Change::Update { key, .. } | Change::Remove { key } => key,
        }
    }
}

/// [`diff_with`] where a stored password matches a given one when they are equal.
pub fn diff(current: &Inventory, desired: &Inventory, prune: Prune) -> Vec<Change> {
    diff_with(current, desired, prune, &|stored, given| stored == Some(given))
}

/// The changes that turn `current` into what applying `desired` means. A site's password is only compared
/// when the file gives one, through `password_matches(stored, given)`: the database may store a hash.
/// `current` may hold duplicate site names (MirrorManager allows them); the first one is compared.
pub fn diff_with(
    current: &Inventory,
    desired: &Inventory,
    prune: Prune,
    password_matches: &dyn Fn(Option<&str>, &str) -> bool,
) -> Vec<Change> {
    let mut d = Differ {
        removes: Vec::new(),
        upserts: Vec::new(),
        prune,
        password_matches,
    };
    d.inventory(current, desired);
    d.removes.extend(d.upserts);
    d.removes
}

struct Differ<'a> {
    removes: Vec<Change>,
    upserts: Vec<Change>,
    prune: Prune,
    password_matches: &'a dyn Fn(Option<&str>, &str) -> bool,
}

/// First element per key: lookups by natural key.
fn by_key<T>(items: &[T], key: impl Fn(&T) -> &str) -> HashMap<&str, &T> {
    let mut map = HashMap::new();
    for item in items {
        map.entry(key(item)).or_insert(item);
    }
    map
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        // Sort orders are never negative in practice; a negative one shows as its text.
        u64::try_from(v).map_or_else(|_| Value::Text(v.to_string()), Value::Int)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v.into())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::List(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::None, Into::into)
    }
}

impl Differ<'_> {
    fn add(&mut self, key: Key, entity: Entity) {
        self.upserts.push(Change::Add { key, entity });
    }

    fn remove(&mut self, key: Key) {
        self.removes.push(Change::Remove { key });
    }

    fn field<T: PartialEq + Clone + Into<Value>>(&mut self, key: &Key, field: &'static str, from: &T, to: &T) {
        if from != to {
            self.upserts.push(Change::Update {
                key: key.clone(),
                field,
                from: from.clone().into(),
                to: to.clone().into(),
            });
        }
    }

    fn inventory(&mut self, cur: &Inventory, want: &Inventory) {
        let products = by_key(&cur.products, |p| &p.name);
        for p in &want.products {
            let key = Key::Product(p.name.clone());
            match products.get(p.name.as_str()) {
                None => self.add(key, Entity::Product(p.clone())),
                Some(c) => self.field(&key, "publiclist", &c.publiclist, &p.publiclist),
            }
        }
        let categories = by_key(&cur.categories, |c| &c.name);
        for w in &want.categories {
            let key = Key::Category(w.name.clone());
            match categories.get(w.name.as_str()) {
                None => self.add(key, Entity::Category(w.clone())),
                Some(c) => {
                    self.field(&key, "product", &c.product, &w.product);
                    self.field(&key, "topdir", &c.topdir, &w.topdir);
                    self.field(&key, "publiclist", &c.publiclist, &w.publiclist);
                    self.field(&key, "admin_only", &c.admin_only, &w.admin_only);
                    self.field(&key, "excludes", &c.excludes, &w.excludes);
                }
            }
        }
        let arches = by_key(&cur.arches, |a| &a.name);
        for w in &want.arches {
            let key = Key::Arch(w.name.clone());
            match arches.get(w.name.as_str()) {
                None => self.add(key, Entity::Arch(w.clone())),
                Some(c) => {
                    self.field(&key, "publiclist", &c.publiclist, &w.publiclist);
                    self.field(&key, "primary", &c.primary, &w.primary);
                }
            }
        }

        let sites = by_key(&cur.sites, |s| &s.name);
        let wanted: BTreeSet<&str> = want.sites.iter().map(|s| s.name.as_str()).collect();
        if self.prune == Prune::Yes {
            for s in &cur.sites {
                if !wanted.contains(s.name.as_str()) {
                    self.remove(Key::Site(s.name.clone()));
                }
            }
        }
        for w in &want.sites {
            match sites.get(w.name.as_str()) {
                None => self.add_site(w),
                Some(c) => self.site(c, w),
            }
        }

        for (country, continent) in &want.country_continent {
            let key = Key::CountryContinent(country.clone());
            match cur.country_continent.get(country) {
                None => self.add(key, Entity::CountryContinent(continent.clone())),
                Some(c) => self.field(&key, "continent", c, continent),
            }
        }
        if self.prune == Prune::Yes {
            for country in cur.country_continent.keys() {
                if !want.country_continent.contains_key(country) {
                    self.remove(Key::CountryContinent(country.clone()));
                }
            }
        }

        let current = by_key(&cur.netblock_country, |n| &n.netblock);
        for w in &want.netblock_country {
            let key = Key::NetblockCountry(w.netblock.clone());
            match current.get(w.netblock.as_str()) {
                None => self.add(key, Entity::NetblockCountry(w.country.clone())),
                Some(c) => self.field(&key, "country", &c.country, &w.country),
            }
        }
        if self.prune == Prune::Yes {
            let wanted = by_key(&want.netblock_country, |n| &n.netblock);
            for c in &cur.netblock_country {
                if !wanted.contains_key(c.netblock.as_str()) {
                    self.remove(Key::NetblockCountry(c.netblock.clone()));
                }
            }
        }

        let current: BTreeSet<&String> = cur.embargoed.iter().collect();
        for w in &want.embargoed {
            if !current.contains(w) {
                self.add(Key::Embargoed(w.clone()), Entity::Member);
            }
        }
        if self.prune == Prune::Yes {
            let wanted: BTreeSet<&String> = want.embargoed.iter().collect();
            for c in &cur.embargoed {
                if !wanted.contains(c) {
                    self.remove(Key::Embargoed(c.clone()));
                }
            }
        }
        // Versions are upserted, never removed: the scanner makes them and repositories point at them.
        let versions: HashMap<(&str, &str), &Version> = cur
            .versions
            .iter()
            .map(|v| ((v.product.as_str(), v.name.as_str()), v))
            .collect();
        for w in &want.versions {
            let key = Key::Version {
                product: w.product.clone(),
                name: w.name.clone(),
            };
            match versions.get(&(w.product.as_str(), w.name.as_str())) {
                None => self.add(key, Entity::Version(w.clone())),
                Some(c) => {
                    self.field(&key, "display_name", &c.display_name, &w.display_name);
                    self.field(&key, "codename", &c.codename, &w.codename);
                    self.field(&key, "sortorder", &c.sortorder, &w.sortorder);
                    self.field(&key, "display", &c.display, &w.display);
                    self.field(&key, "current", &c.current, &w.current);
                }
            }
        }
        for (from, to) in &want.repository_redirects {
            let key = Key::RepositoryRedirect(from.clone());
            match cur.repository_redirects.get(from) {
                None => self.add(key, Entity::RepositoryRedirect(to.clone())),
                Some(c) => self.field(&key, "to", c, to),
            }
        }
        if self.prune == Prune::Yes {
            for from in cur.repository_redirects.keys() {
                if !want.repository_redirects.contains_key(from) {
                    self.remove(Key::RepositoryRedirect(from.clone()));
                }
            }
        }
        let disabled = |r: &String| {
            let (prefix, arch) = r.rsplit_once('/').unwrap_or((r.as_str(), ""));
            Key::DisabledRepository {
                prefix: prefix.to_owned(),
                arch: arch.to_owned(),
            }
        };
        let current: BTreeSet<&String> = cur.disabled_repositories.iter().collect();
        for w in &want.disabled_repositories {
            if !current.contains(w) {
                self.add(disabled(w), Entity::Member);
            }
        }
        if self.prune == Prune::Yes {
            let wanted: BTreeSet<&String> = want.disabled_repositories.iter().collect();
            for c in &cur.disabled_repositories {
                if !wanted.contains(c) {
                    self.remove(disabled(c));
                }
            }
        }
    }

    fn add_site(&mut self, w: &Site) {
        let row = Site {
            admins: Vec::new(),
            hosts: Vec::new(),
            ..w.clone()
        };
        self.add(Key::Site(w.name.clone()), Entity::Site(row));
        for user in &w.admins {
            self.add(
                Key::SiteAdmin {
                    site: w.name.clone(),
                    user: user.clone(),
                },
                Entity::Member,
            );
        }
        for h in &w.hosts {
            self.add_host(&w.name, h);
        }
    }

    fn site(&mut self, c: &Site, w: &Site) {
        let key = Key::Site(w.name.clone());
        self.field(&key, "org_url", &c.org_url, &w.org_url);
        self.field(&key, "private", &c.private, &w.private);
        self.field(&key, "admin_active", &c.admin_active, &w.admin_active);
        self.field(&key, "user_active", &c.user_active, &w.user_active);
        if let Some(given) = &w.password
            && !(self.password_matches)(c.password.as_deref(), given)
        {
            self.field(&key, "password", &c.password, &w.password);
        }
        let admin = |user: &String| Key::SiteAdmin {
            site: w.name.clone(),
            user: user.clone(),
        };
        self.members(&c.admins, &w.admins, admin);

        let hosts = by_key(&c.hosts, |h| &h.name);
        if self.prune == Prune::Yes {
            let wanted = by_key(&w.hosts, |h| &h.name);
            for h in &c.hosts {
                if !wanted.contains_key(h.name.as_str()) {
                    self.remove(Key::Host {
                        site: w.name.clone(),
                        host: h.name.clone(),
                    });
                }
            }
        }
        for h in &w.hosts {
            match hosts.get(h.name.as_str()) {
                None => self.add_host(&w.name, h),
                Some(ch) => self.host(&w.name, ch, h),
            }
        }
    }

    /// Set-like sub-lists: add what is missing, remove what is extra.
    fn members<T: Ord>(&mut self, current: &[T], wanted: &[T], key: impl Fn(&T) -> Key) {
        let cur: BTreeSet<&T> = current.iter().collect();
        let want: BTreeSet<&T> = wanted.iter().collect();
        for c in current {
            if !want.contains(c) {
                self.remove(key(c));
            }
        }
        for w in wanted {
            if !cur.contains(w) {
                self.add(key(w), Entity::Member);
            }
        }
    }

    fn add_host(&mut self, site: &str, w: &Host) {
        let row = Host {
            netblocks: Vec::new(),
            peer_asns: Vec::new(),
            allowed_countries: Vec::new(),
            acl_ips: Vec::new(),
            categories: Vec::new(),
            ..w.clone()
        };
        self.add(
            Key::Host {
                site: site.to_owned(),
                host: w.name.clone(),
            },
            Entity::Host(row),
        );
        self.host_children(site, &Host::new(w.name.clone(), ""), w);
    }

    fn host(&mut self, site: &str, c: &Host, w: &Host) {
        let key = Key::Host {
            site: site.to_owned(),
            host: w.name.clone(),
        };
        self.field(&key, "country", &c.country, &w.country);
        self.field(&key, "bandwidth", &c.bandwidth, &w.bandwidth);
        self.field(&key, "max_connections", &c.max_connections, &w.max_connections);
        self.field(&key, "private", &c.private, &w.private);
        self.field(&key, "admin_active", &c.admin_active, &w.admin_active);
        self.field(&key, "user_active", &c.user_active, &w.user_active);
        self.field(&key, "asn", &c.asn, &w.asn);
        self.field(&key, "asn_clients", &c.asn_clients, &w.asn_clients);
        self.field(&key, "comment", &c.comment, &w.comment);
        self.field(&key, "robot_email", &c.robot_email, &w.robot_email);
        self.host_children(site, c, w);
    }

    fn host_children(&mut self, site: &str, c: &Host, w: &Host) {
        let (s, h) = (site.to_owned(), w.name.clone());
        let netblock = |netblock: &str| Key::HostNetblock {
            site: s.clone(),
            host: h.clone(),
            netblock: netblock.into(),
        };
        let current = by_key(&c.netblocks, |n| &n.netblock);
        let wanted = by_key(&w.netblocks, |n| &n.netblock);
        for n in &c.netblocks {
            if !wanted.contains_key(n.netblock.as_str()) {
                self.remove(netblock(&n.netblock));
            }
        }
        for n in &w.netblocks {
            match current.get(n.netblock.as_str()) {
                None => self.add(netblock(&n.netblock), Entity::HostNetblock(n.clone())),
                Some(cn) => self.field(&netblock(&n.netblock), "name", &cn.name, &n.name),
            }
        }
        let asn = |asn: &u32| Key::HostPeerAsn {
            site: s.clone(),
            host: h.clone(),
            asn: *asn,
        };
        self.members(&c.peer_asns, &w.peer_asns, asn);
        let country = |c: &String| Key::HostAllowedCountry {
            site: s.clone(),
            host: h.clone(),
            country: c.clone(),
        };
        self.members(&c.allowed_countries, &w.allowed_countries, country);
        let acl = |ip: &String| Key::HostAclIp {
            site: s.clone(),
            host: h.clone(),
            ip: ip.clone(),
        };
        self.members(&c.acl_ips, &w.acl_ips, acl);

        let category = |name: &str| Key::HostCategory {
            site: s.clone(),
            host: h.clone(),
            category: name.to_owned(),
        };
        let current = by_key(&c.categories, |hc| &hc.category);
        let wanted = by_key(&w.categories, |hc| &hc.category);
        for hc in &c.categories {
            if !wanted.contains_key(hc.category.as_str()) {
                self.remove(category(&hc.category));
            }
        }
        let empty = HostCategory::new("");
        for hc in &w.categories {
            let key = category(&hc.category);
            let ch = match current.get(hc.category.as_str()) {
                None => {
                    let row = HostCategory {
                        urls: Vec::new(),
                        ..hc.clone()
                    };
                    self.add(key.clone(), Entity::HostCategory(row));
                    &empty
                }
                Some(ch) => {
                    self.field(&key, "always_up_to_date", &ch.always_up_to_date, &hc.always_up_to_date);
                    ch
                }
            };
            self.urls(&key, ch, hc);
        }
    }

    fn urls(&mut self, category: &Key, c: &HostCategory, w: &HostCategory) {
        let Key::HostCategory { site, host, category } = category else {
            return;
        };
        let key = |url: &str| Key::HostCategoryUrl {
            site: site.clone(),
            host: host.clone(),
            category: category.clone(),
            url: url.to_owned(),
        };
        let current = by_key(&c.urls, |u| &u.url);
        let wanted = by_key(&w.urls, |u| &u.url);
        for u in &c.urls {
            if !wanted.contains_key(u.url.as_str()) {
                self.remove(key(&u.url));
            }
        }
        for u in &w.urls {
            match current.get(u.url.as_str()) {
                None => self.add(key(&u.url), Entity::HostCategoryUrl(u.clone())),
                Some(cu) => self.field(&key(&u.url), "private", &cu.private, &u.private),
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(t) => write!(f, "{t:?}"),
            Value::List(l) => write!(f, "{l:?}"),
            Value::None => f.write_str("(none)"),
        }
    }
}

/// One line of a dry run: `+ key`, `~ key: field from → to`, `- key`. Passwords are never shown.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Add { key, entity } => {
                write!(f, "+ {key}")?;
                match entity {
                    Entity::CountryContinent(continent) => write!(f, " = {continent:?}"),
                    Entity::RepositoryRedirect(to) => write!(f, " = {to:?}"),
                    Entity::NetblockCountry(country) => write!(f, " = {country:?}"),
                    Entity::HostNetblock(n) if n.name != n.netblock => write!(f, " (name {:?})", n.name),
                    Entity::HostCategoryUrl(u) if u.private => f.write_str(" (private)"),
                    Entity::Host(h) => write!(f, " (country {}, bandwidth {})", h.country, h.bandwidth),
                    _ => Ok(()),
                }
            }
            Change::Update {
                key, field: "password", ..
            } => write!(f, "~ {key}: password changed"),
            Change::Update { key, field, from, to } => write!(f, "~ {key}: {field} {from} → {to}"),
            Change::Remove { key } => write!(f, "- {key}"),
        }
    }
}
