//! The inventory as plain data, keyed by natural keys (names), never by database ids.
//!
//! Order is kept as written (or as stored), so an export reads like the file it came from; equality is
//! order-sensitive, which is what round-trip tests want. Diffs compare by key and ignore order.
//!
//! Site names are not unique in MirrorManager's database; an inventory requires them to be, because a file can
//! only name a site by its name. Hosts are keyed by (site, host name), as in MirrorManager's unique index.

use std::collections::BTreeMap;

/// Everything `mirrorvane apply` can upsert and `mirrorvane export` writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Inventory {
    pub products: Vec<Product>,
    pub categories: Vec<Category>,
    pub arches: Vec<Arch>,
    pub sites: Vec<Site>,
    /// Overrides of the built-in country → continent table (MirrorManager's `CountryContinentRedirect`).
    pub country_continent: BTreeMap<String, String>,
    /// Networks forced to a country (MirrorManager's `NetblockCountry`), `netblock` unique.
    pub netblock_country: Vec<NetblockCountry>,
    /// Two-letter codes of embargoed countries.
    pub embargoed: Vec<String>,
    /// Versions of products, with how the public pages show them and whether propagation follows them.
    pub versions: Vec<Version>,
    /// Repository aliases: `repo=from` answers as `repo=to` (MirrorManager's `RepositoryRedirect`).
    pub repository_redirects: BTreeMap<String, String>,
    /// Repositories (`prefix/arch`) answered as if they did not exist.
    pub disabled_repositories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    /// Name of a [`Product`].
    pub product: String,
    pub name: String,
    pub display_name: Option<String>,
    pub codename: Option<String>,
    /// Higher first on the public pages. Default 0.
    pub sortorder: i64,
    /// Offered on the public mirror list. Default true.
    pub display: bool,
    /// Propagation statistics follow its repositories. Default false.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Product {
    pub name: String,
    /// Default true.
    pub publiclist: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Category {
    pub name: String,
    /// Name of a [`Product`].
    pub product: String,
    /// Directory below the primary's root, without leading slash; may be empty (MirrorManager allows it).
    pub topdir: String,
    /// Default true.
    pub publiclist: bool,
    /// Only MirrorManager admins may attach hosts. Default false.
    pub admin_only: bool,
    /// Exclusion patterns for the scanner, passed through unchecked. Default empty.
    pub excludes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Arch {
    pub name: String,
    /// Default true.
    pub publiclist: bool,
    /// Default true (MirrorManager's `primary_arch` default).
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    pub name: String,
    pub org_url: Option<String>,
    /// Default false.
    pub private: bool,
    /// Default true.
    pub admin_active: bool,
    /// Default true.
    pub user_active: bool,
    /// User names of the site's admins.
    pub admins: Vec<String>,
    /// As written in the file (the database hashes it). `None` means "leave the stored one alone".
    /// Never serialised: loaded from the database it is the hash.
    #[serde(skip)]
    pub password: Option<String>,
    pub hosts: Vec<Host>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Host {
    pub name: String,
    /// Two uppercase letters.
    pub country: String,
    /// Mbit/s, ≥ 1. Default 100.
    pub bandwidth: u32,
    /// ≥ 1. Default 1.
    pub max_connections: u32,
    /// Default false.
    pub private: bool,
    /// Default true.
    pub admin_active: bool,
    /// Default true.
    pub user_active: bool,
    pub asn: Option<u32>,
    /// Serve every client of `asn`. Default true.
    pub asn_clients: bool,
    pub comment: Option<String>,
    pub robot_email: Option<String>,
    pub netblocks: Vec<Netblock>,
    pub peer_asns: Vec<u32>,
    /// If not empty, only clients from these countries get this host.
    pub allowed_countries: Vec<String>,
    /// Addresses allowed to rsync from the primary (MirrorManager's host ACL IPs); globally unique.
    pub acl_ips: Vec<String>,
    pub categories: Vec<HostCategory>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Netblock {
    /// MirrorManager requires a label; a netblock written as a bare string is labelled with itself.
    pub name: String,
    /// Canonical CIDR (`192.0.2.0/24`, `2001:db8::/32`) or a DNS name (kept as written, lowercased).
    pub netblock: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostCategory {
    /// Name of a [`Category`].
    pub category: String,
    /// Default false.
    pub always_up_to_date: bool,
    pub urls: Vec<Url>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Url {
    /// Without trailing `/`; unique across the inventory.
    pub url: String,
    /// Hidden from mirrorlists (e.g. rsync for downstream mirrors). Default false.
    pub private: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NetblockCountry {
    /// Canonical CIDR.
    pub netblock: String,
    pub country: String,
}

impl Product {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            publiclist: true,
        }
    }
}

impl Category {
    pub fn new(name: impl Into<String>, product: impl Into<String>, topdir: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            product: product.into(),
            topdir: topdir.into(),
            publiclist: true,
            admin_only: false,
            excludes: Vec::new(),
        }
    }
}

impl Arch {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            publiclist: true,
            primary: true,
        }
    }
}

impl Site {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            org_url: None,
            private: false,
            admin_active: true,
            user_active: true,
            admins: Vec::new(),
            password: None,
            hosts: Vec::new(),
        }
    }
}

impl Host {
    /// A host with MirrorManager's defaults.
    pub fn new(name: impl Into<String>, country: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            country: country.into(),
            bandwidth: 100,
            max_connections: 1,
            private: false,
            admin_active: true,
            user_active: true,
            asn: None,
            asn_clients: true,
            comment: None,
            robot_email: None,
            netblocks: Vec::new(),
            peer_asns: Vec::new(),
            allowed_countries: Vec::new(),
            acl_ips: Vec::new(),
            categories: Vec::new(),
        }
    }
}

impl HostCategory {
    pub fn new(category: impl Into<String>) -> Self {
        Self {
            category: category.into(),
            always_up_to_date: false,
            urls: Vec::new(),
        }
    }
}
