//! Whole rows with the ids another system gave them, for the importers (a MirrorManager database, a converted
//! cache): one struct per table, every column spelled out, written by [`insert`] in as few statements as the
//! engines allow. After an import, [`crate::Database::resync_identities`] moves the identity sequences past the
//! ids written.

use crate::bulk::{self, Value};
use crate::{Connection, DbError};

/// A table's row as the importers write it.
pub trait Record {
    /// The table.
    const TABLE: &'static str;
    /// Its columns, in [`Record::values`] order.
    const COLUMNS: &'static [&'static str];
    /// The values.
    fn values(self) -> Vec<Value>;
}

/// Inserts `rows` into their table; returns how many.
pub async fn insert<R: Record>(conn: &mut Connection, rows: impl IntoIterator<Item = R>) -> Result<u64, DbError> {
    bulk::insert(conn, R::TABLE, R::COLUMNS, rows.into_iter().map(Record::values)).await
}

macro_rules! record {
    ($(#[$doc:meta])* $name:ident => $table:literal { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl Record for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn values(self) -> Vec<Value> {
                vec![$(Value::from(self.$field)),*]
            }
        }
    };
}

record!(
    /// A `product` row.
    Product => "product" { id: i64, name: String, publiclist: bool }
);
record!(
    /// A `category` row.
    Category => "category" {
        id: i64,
        name: String,
        product_id: i64,
        topdir: String,
        publiclist: bool,
        admin_only: bool,
    }
);
record!(
    /// An `arch` row.
    Arch => "arch" { id: i64, name: String, publiclist: bool, primary_arch: bool }
);
record!(
    /// A `version` row.
    Version => "version" {
        id: i64,
        product_id: i64,
        name: String,
        codename: Option<String>,
        is_test: bool,
        display: bool,
        display_name: Option<String>,
        sortorder: i64,
    }
);
record!(
    /// A `directory` row.
    Directory => "directory" {
        id: i64,
        name: String,
        category_id: i64,
        ctime: i64,
        readable: bool,
        /// JSON array of `{"name","size","timestamp"}`.
        files: String,
    }
);
record!(
    /// A `repository` row.
    Repository => "repository" {
        id: i64,
        name: String,
        prefix: Option<String>,
        category_id: i64,
        version_id: i64,
        arch_id: i64,
        directory_id: i64,
        disabled: bool,
    }
);
record!(
    /// A `repository_redirect` row.
    Redirect => "repository_redirect" { id: i64, from_repo: String, to_repo: String }
);
record!(
    /// A `site` row.
    Site => "site" {
        id: i64,
        name: String,
        password_hash: Option<String>,
        org_url: String,
        private: bool,
        admin_active: bool,
        user_active: bool,
        created_at: i64,
        created_by: String,
        all_sites_can_pull_from_me: bool,
        downstream_comments: String,
        email_on_drop: bool,
        email_on_add: bool,
    }
);
record!(
    /// A `site_admin` row.
    SiteAdmin => "site_admin" { id: i64, site_id: i64, username: String }
);
record!(
    /// A `host` row.
    Host => "host" {
        id: i64,
        site_id: i64,
        name: String,
        robot_email: String,
        comment: String,
        admin_active: bool,
        user_active: bool,
        country: String,
        bandwidth_int: i64,
        max_connections: i64,
        private: bool,
        asn: Option<i64>,
        asn_clients: bool,
        last_crawled: Option<i64>,
        last_crawl_duration: i64,
        crawl_failures: i64,
        disable_reason: String,
        last_checked_in: Option<i64>,
        latitude: Option<f64>,
        longitude: Option<f64>,
        ipv4_reachable: Option<bool>,
        ipv6_reachable: Option<bool>,
    }
);
record!(
    /// A `host_category` row.
    HostCategory => "host_category" {
        id: i64,
        host_id: i64,
        category_id: i64,
        always_up2date: bool,
        up2date_set_id: Option<i64>,
        stale_set_id: Option<i64>,
    }
);
record!(
    /// A `host_category_url` row.
    Url => "host_category_url" { id: i64, host_category_id: i64, url: String, private: bool }
);
record!(
    /// A `host_netblock` row.
    Netblock => "host_netblock" { id: i64, host_id: i64, netblock: String, name: String }
);
record!(
    /// A `host_peer_asn` row.
    PeerAsn => "host_peer_asn" { id: i64, host_id: i64, asn: i64, name: String }
);
record!(
    /// A `host_country_allowed` row.
    AllowedCountry => "host_country_allowed" { id: i64, host_id: i64, country: String }
);
record!(
    /// A `host_country` row.
    HostCountry => "host_country" { id: i64, host_id: i64, country: String }
);
record!(
    /// A `country` row.
    Country => "country" { code: String }
);
record!(
    /// A `country_continent_redirect` row.
    Continent => "country_continent_redirect" { country: String, continent: String }
);
record!(
    /// A `netblock_country` row.
    NetblockCountry => "netblock_country" { netblock: String, country: String }
);
record!(
    /// An `embargoed_country` row.
    Embargoed => "embargoed_country" { country_code: String }
);

impl Default for Host {
    /// The schema's defaults, for the fields a source does not have.
    fn default() -> Host {
        Host {
            id: 0,
            site_id: 0,
            name: String::new(),
            robot_email: String::new(),
            comment: String::new(),
            admin_active: true,
            user_active: true,
            country: String::new(),
            bandwidth_int: 100,
            max_connections: 1,
            private: false,
            asn: None,
            asn_clients: true,
            last_crawled: None,
            last_crawl_duration: 0,
            crawl_failures: 0,
            disable_reason: String::new(),
            last_checked_in: None,
            latitude: None,
            longitude: None,
            ipv4_reachable: None,
            ipv6_reachable: None,
        }
    }
}

impl Default for Site {
    /// The schema's defaults.
    fn default() -> Site {
        Site {
            id: 0,
            name: String::new(),
            password_hash: None,
            org_url: String::new(),
            private: false,
            admin_active: true,
            user_active: true,
            created_at: 0,
            created_by: String::new(),
            all_sites_can_pull_from_me: false,
            downstream_comments: String::new(),
            email_on_drop: false,
            email_on_add: false,
        }
    }
}
