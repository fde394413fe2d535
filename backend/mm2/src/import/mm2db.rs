//! A MirrorManager2 PostgreSQL database → an empty Mirrorvane database, ids kept.
//!
//! Reads the tables of reference §2 that MirrorManager's generator (§4.2) and admin UI use, in one read-only
//! repeatable-read transaction on the source, and writes them in one transaction on the target; then moves the
//! target's identity sequences past the imported ids. Where our schema departs from MirrorManager's (see the
//! header of `migrations/*/0001_schema.sql`) rows are mapped:
//!
//! - `category.topdir_id` → `category.topdir`, the directory's name; a category without one cannot serve
//!   anything (the generator skips it) and is skipped.
//! - `category_directory` → `directory.category_id`: the lowest category id of a directory wins (the generator
//!   used the first row it read); directories in several categories are reported, directories in none skipped.
//! - `host_category_dir` → per host category the [`DirectorySet`] of directories up to date and the set of those
//!   carried stale, each distinct set stored once ([`Interner`]).
//! - `site.password` (plain text in MirrorManager) → `site.password_hash`, an argon2id PHC string.
//! - `host_country.country_id` → the country code.
//!
//! Anything that cannot be carried over is skipped and named in [`Report::skipped`]; the import itself stops
//! only when the source cannot be read or the target already holds an inventory.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use mirrorvane_db::files::{self, FileDetailRow};
use mirrorvane_db::import;
use mirrorvane_db::sets::Interner;
use mirrorvane_db::{Connection, Database, DbError, DirectorySet, password, redact, sites};
use sqlx::postgres::{PgPoolOptions, PgRow};

/// What an import wrote and what it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows written per target table (directory sets included).
    pub imported: BTreeMap<&'static str, u64>,
    /// Source rows not carried over, one line each, with the reason.
    pub skipped: Vec<String>,
    /// Rows carried over with a change worth knowing (a directory in several categories, a renamed site).
    pub notes: Vec<String>,
}

impl Report {
    /// Rows written into `table`.
    pub fn count(&self, table: &str) -> u64 {
        self.imported.get(table).copied().unwrap_or(0)
    }

    /// One line: the main counts.
    pub fn summary(&self) -> String {
        format!(
            "imported from MirrorManager: {} sites, {} hosts, {} categories, {} directories, {} host categories \
             ({} directory sets), {} URLs, {} repositories, {} file details; {} rows skipped, {} notes",
            self.count("site"),
            self.count("host"),
            self.count("category"),
            self.count("directory"),
            self.count("host_category"),
            self.count("directory_set"),
            self.count("host_category_url"),
            self.count("repository"),
            self.count("file_detail"),
            self.skipped.len(),
            self.notes.len(),
        )
    }
}

/// Why an import did not happen; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source URL is not a PostgreSQL URL.
    #[error("MirrorManager database URL {0:?} is not a postgres:// URL")]
    SourceUrl(String),
    /// The source cannot be reached.
    #[error("cannot connect to the MirrorManager database {url}")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// A source query failed (a table or column missing: not a MirrorManager2 database, or another version).
    #[error("cannot read the MirrorManager database {url} ({what})")]
    Read {
        /// The URL, password removed.
        url: String,
        /// What was being read.
        what: &'static str,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The target already has an inventory.
    #[error("database {0} already holds an inventory; import only into an empty database")]
    NotEmpty(String),
    /// Hashing a site password failed.
    #[error("cannot hash the password of site {site}: {message}")]
    Password {
        /// Site id.
        site: i64,
        /// The hasher's message.
        message: String,
    },
    /// Writing failed (rolled back).
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Reads the MirrorManager2 database at `source` and writes it into the empty database `db`.
pub async fn import(db: &Database, source: &str) -> Result<Report, ImportError> {
    if !(source.starts_with("postgres://") || source.starts_with("postgresql://")) {
        return Err(ImportError::SourceUrl(redact(source)));
    }
    let shown = redact(source);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(15))
        .connect(source)
        .await
        .map_err(|source| ImportError::Connect {
            url: shown.clone(),
            source,
        })?;
    let src = read(&pool, &shown).await;
    pool.close().await;
    write(db, src?).await
}

/// MirrorManager's rows, decoded. Its columns are INTEGER, BIGINT, TIMESTAMP and nullable booleans depending on
/// the table and the migration history; every query casts to the types decoded here, and names its columns as
/// the fields they fill.
#[derive(Default)]
struct Source {
    products: Vec<SrcProduct>,
    categories: Vec<SrcCategory>,
    arches: Vec<SrcArch>,
    versions: Vec<SrcVersion>,
    directories: Vec<SrcDirectory>,
    /// Ordered by directory, then category.
    category_directories: Vec<SrcCategoryDirectory>,
    file_details: Vec<SrcFileDetail>,
    repositories: Vec<SrcRepository>,
    redirects: Vec<SrcRedirect>,
    sites: Vec<SrcSite>,
    site_admins: Vec<SrcSiteAdmin>,
    hosts: Vec<SrcHost>,
    host_categories: Vec<SrcHostCategory>,
    host_category_dirs: Vec<SrcHostCategoryDir>,
    urls: Vec<SrcUrl>,
    netblocks: Vec<SrcNamedValue<String>>,
    peer_asns: Vec<SrcNamedValue<i64>>,
    allowed: Vec<SrcHostCountry>,
    host_countries: Vec<SrcHostCountry>,
    countries: Vec<String>,
    continents: Vec<SrcPair>,
    netblock_countries: Vec<SrcPair>,
    embargoed: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct SrcProduct {
    id: i64,
    name: String,
    publiclist: bool,
}

#[derive(sqlx::FromRow)]
struct SrcCategory {
    id: i64,
    name: String,
    product_id: Option<i64>,
    topdir_id: Option<i64>,
    publiclist: bool,
    admin_only: bool,
}

#[derive(sqlx::FromRow)]
struct SrcArch {
    id: i64,
    name: String,
    publiclist: bool,
    primary_arch: bool,
}

#[derive(sqlx::FromRow)]
struct SrcVersion {
    id: i64,
    product_id: Option<i64>,
    name: String,
    codename: Option<String>,
    is_test: bool,
    display: bool,
    display_name: Option<String>,
    sortorder: i64,
}

#[derive(sqlx::FromRow)]
struct SrcDirectory {
    id: i64,
    name: String,
    ctime: i64,
    readable: bool,
    files: Option<Vec<u8>>,
}

#[derive(sqlx::FromRow)]
struct SrcCategoryDirectory {
    category_id: i64,
    directory_id: i64,
}

#[derive(sqlx::FromRow)]
struct SrcFileDetail {
    id: i64,
    directory_id: Option<i64>,
    filename: String,
    timestamp: i64,
    size: i64,
    md5: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
    sha512: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SrcRepository {
    id: i64,
    name: Option<String>,
    prefix: Option<String>,
    category_id: Option<i64>,
    version_id: Option<i64>,
    arch_id: Option<i64>,
    directory_id: Option<i64>,
    disabled: bool,
}

#[derive(sqlx::FromRow)]
struct SrcRedirect {
    id: i64,
    from_repo: String,
    to_repo: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SrcSite {
    id: i64,
    name: Option<String>,
    password: Option<String>,
    org_url: Option<String>,
    private: bool,
    admin_active: bool,
    user_active: bool,
    created_at: Option<i64>,
    created_by: Option<String>,
    all_sites_can_pull_from_me: bool,
    downstream_comments: Option<String>,
    email_on_drop: bool,
    email_on_add: bool,
}

#[derive(sqlx::FromRow)]
struct SrcSiteAdmin {
    id: i64,
    site_id: Option<i64>,
    username: String,
}

#[derive(sqlx::FromRow)]
struct SrcHost {
    id: i64,
    site_id: Option<i64>,
    name: String,
    robot_email: Option<String>,
    comment: Option<String>,
    admin_active: bool,
    user_active: bool,
    country: Option<String>,
    bandwidth_int: Option<i64>,
    max_connections: Option<i64>,
    private: bool,
    asn: Option<i64>,
    asn_clients: bool,
    last_crawled: Option<i64>,
    last_crawl_duration: Option<i64>,
    crawl_failures: Option<i64>,
    disable_reason: Option<String>,
    last_checked_in: Option<i64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct SrcHostCategory {
    id: i64,
    host_id: Option<i64>,
    category_id: Option<i64>,
    always_up2date: bool,
}

#[derive(sqlx::FromRow)]
struct SrcHostCategoryDir {
    id: i64,
    host_category_id: Option<i64>,
    directory_id: Option<i64>,
    up2date: bool,
}

#[derive(sqlx::FromRow)]
struct SrcUrl {
    id: i64,
    host_category_id: Option<i64>,
    url: String,
    private: bool,
}

/// A host netblock or peer ASN.
#[derive(sqlx::FromRow)]
struct SrcNamedValue<T> {
    id: i64,
    host_id: Option<i64>,
    value: Option<T>,
    name: Option<String>,
}

/// A country a host is restricted to, or serves.
#[derive(sqlx::FromRow)]
struct SrcHostCountry {
    id: i64,
    host_id: Option<i64>,
    country: Option<String>,
}

/// A key → value lookup row (continent overrides, netblock countries).
#[derive(sqlx::FromRow)]
struct SrcPair {
    key: String,
    value: String,
}

const SQL_PRODUCTS: &str = "SELECT id::bigint AS id, name, COALESCE(publiclist, TRUE) AS publiclist FROM product \
     ORDER BY id";
const SQL_CATEGORIES: &str = "SELECT id::bigint AS id, name, product_id::bigint AS product_id, \
     topdir_id::bigint AS topdir_id, COALESCE(publiclist, TRUE) AS publiclist, \
     COALESCE(admin_only, FALSE) AS admin_only FROM category ORDER BY id";
const SQL_ARCHES: &str = "SELECT id::bigint AS id, name, COALESCE(publiclist, TRUE) AS publiclist, \
     COALESCE(primary_arch, TRUE) AS primary_arch FROM arch ORDER BY id";
const SQL_VERSIONS: &str = "SELECT id::bigint AS id, product_id::bigint AS product_id, name, codename, \
     COALESCE(is_test, FALSE) AS is_test, COALESCE(display, TRUE) AS display, display_name, \
     COALESCE(sortorder, 0)::bigint AS sortorder FROM version ORDER BY id";
const SQL_DIRECTORIES: &str = "SELECT id::bigint AS id, name, COALESCE(ctime, 0)::bigint AS ctime, \
     COALESCE(readable, TRUE) AS readable, files FROM directory ORDER BY id";
const SQL_CATEGORY_DIRECTORIES: &str = "SELECT category_id::bigint AS category_id, \
     directory_id::bigint AS directory_id FROM category_directory \
     WHERE category_id IS NOT NULL AND directory_id IS NOT NULL ORDER BY directory_id, category_id";
const SQL_FILE_DETAILS: &str = "SELECT id::bigint AS id, directory_id::bigint AS directory_id, filename, \
     COALESCE(timestamp, 0)::bigint AS timestamp, COALESCE(size, 0)::bigint AS size, md5, sha1, sha256, sha512 \
     FROM file_detail ORDER BY id";
const SQL_REPOSITORIES: &str = "SELECT id::bigint AS id, name, prefix, category_id::bigint AS category_id, \
     version_id::bigint AS version_id, arch_id::bigint AS arch_id, directory_id::bigint AS directory_id, \
     COALESCE(disabled, FALSE) AS disabled FROM repository ORDER BY id";
const SQL_REDIRECTS: &str = "SELECT id::bigint AS id, from_repo, to_repo FROM repository_redirect ORDER BY id";
const SQL_SITES: &str = "SELECT id::bigint AS id, name, password, org_url, COALESCE(private, FALSE) AS private, \
     COALESCE(admin_active, TRUE) AS admin_active, COALESCE(user_active, TRUE) AS user_active, \
     EXTRACT(EPOCH FROM created_at)::bigint AS created_at, created_by, \
     COALESCE(all_sites_can_pull_from_me, FALSE) AS all_sites_can_pull_from_me, downstream_comments, \
     COALESCE(email_on_drop, FALSE) AS email_on_drop, COALESCE(email_on_add, FALSE) AS email_on_add \
     FROM site ORDER BY id";
const SQL_SITE_ADMINS: &str = "SELECT id::bigint AS id, site_id::bigint AS site_id, username FROM site_admin \
     ORDER BY id";
const SQL_HOSTS: &str = "SELECT id::bigint AS id, site_id::bigint AS site_id, name, robot_email, comment, \
     COALESCE(admin_active, TRUE) AS admin_active, COALESCE(user_active, TRUE) AS user_active, country, \
     bandwidth_int::bigint AS bandwidth_int, max_connections::bigint AS max_connections, \
     COALESCE(private, FALSE) AS private, asn::bigint AS asn, COALESCE(asn_clients, TRUE) AS asn_clients, \
     EXTRACT(EPOCH FROM last_crawled)::bigint AS last_crawled, \
     last_crawl_duration::bigint AS last_crawl_duration, crawl_failures::bigint AS crawl_failures, \
     disable_reason, EXTRACT(EPOCH FROM last_checked_in)::bigint AS last_checked_in, \
     latitude::float8 AS latitude, longitude::float8 AS longitude FROM host ORDER BY id";
const SQL_HOST_CATEGORIES: &str = "SELECT id::bigint AS id, host_id::bigint AS host_id, \
     category_id::bigint AS category_id, COALESCE(always_up2date, FALSE) AS always_up2date FROM host_category \
     ORDER BY id";
const SQL_HOST_CATEGORY_DIRS: &str = "SELECT id::bigint AS id, host_category_id::bigint AS host_category_id, \
     directory_id::bigint AS directory_id, COALESCE(up2date, TRUE) AS up2date FROM host_category_dir ORDER BY id";
const SQL_URLS: &str = "SELECT id::bigint AS id, host_category_id::bigint AS host_category_id, url, \
     COALESCE(private, FALSE) AS private FROM host_category_url ORDER BY id";
const SQL_NETBLOCKS: &str = "SELECT id::bigint AS id, host_id::bigint AS host_id, netblock AS value, name \
     FROM host_netblock ORDER BY id";
const SQL_PEER_ASNS: &str = "SELECT id::bigint AS id, host_id::bigint AS host_id, asn::bigint AS value, name \
     FROM host_peer_asn ORDER BY id";
const SQL_ALLOWED: &str = "SELECT id::bigint AS id, host_id::bigint AS host_id, country FROM host_country_allowed \
     ORDER BY id";
const SQL_HOST_COUNTRIES: &str = "SELECT hc.id::bigint AS id, hc.host_id::bigint AS host_id, c.code AS country \
     FROM host_country hc LEFT JOIN country c ON c.id = hc.country_id ORDER BY hc.id";
const SQL_COUNTRIES: &str = "SELECT code FROM country WHERE code IS NOT NULL ORDER BY code";
const SQL_CONTINENTS: &str = "SELECT country AS key, continent AS value FROM country_continent_redirect \
     WHERE country IS NOT NULL AND continent IS NOT NULL ORDER BY id";
const SQL_NETBLOCK_COUNTRIES: &str = "SELECT netblock AS key, country AS value FROM netblock_country \
     WHERE netblock IS NOT NULL AND country IS NOT NULL ORDER BY id";
const SQL_EMBARGOED: &str = "SELECT country_code FROM embargoed_country WHERE country_code IS NOT NULL ORDER BY id";

fn read_error(url: &str, what: &'static str) -> impl Fn(sqlx::Error) -> ImportError {
    let url = url.to_owned();
    move |source| ImportError::Read {
        url: url.clone(),
        what,
        source,
    }
}

/// The rows of one MirrorManager query.
async fn fetch<T>(
    conn: &mut sqlx::PgConnection,
    url: &str,
    what: &'static str,
    sql: &str,
) -> Result<Vec<T>, ImportError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(read_error(url, what))
}

/// The values of a one-column MirrorManager query.
async fn fetch_scalar<T>(
    conn: &mut sqlx::PgConnection,
    url: &str,
    what: &'static str,
    sql: &str,
) -> Result<Vec<T>, ImportError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar::<_, T>(sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(read_error(url, what))
}

async fn read(pool: &sqlx::PgPool, url: &str) -> Result<Source, ImportError> {
    let mut tx = pool.begin().await.map_err(|source| ImportError::Connect {
        url: url.to_owned(),
        source,
    })?;
    // One consistent view even while MirrorManager's crawler writes.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(read_error(url, "transaction"))?;
    let c = &mut *tx;
    let s = Source {
        products: fetch(c, url, "product", SQL_PRODUCTS).await?,
        categories: fetch(c, url, "category", SQL_CATEGORIES).await?,
        arches: fetch(c, url, "arch", SQL_ARCHES).await?,
        versions: fetch(c, url, "version", SQL_VERSIONS).await?,
        directories: fetch(c, url, "directory", SQL_DIRECTORIES).await?,
        category_directories: fetch(c, url, "category_directory", SQL_CATEGORY_DIRECTORIES).await?,
        file_details: fetch(c, url, "file_detail", SQL_FILE_DETAILS).await?,
        repositories: fetch(c, url, "repository", SQL_REPOSITORIES).await?,
        redirects: fetch(c, url, "repository_redirect", SQL_REDIRECTS).await?,
        sites: fetch(c, url, "site", SQL_SITES).await?,
        site_admins: fetch(c, url, "site_admin", SQL_SITE_ADMINS).await?,
        hosts: fetch(c, url, "host", SQL_HOSTS).await?,
        host_categories: fetch(c, url, "host_category", SQL_HOST_CATEGORIES).await?,
        host_category_dirs: fetch(c, url, "host_category_dir", SQL_HOST_CATEGORY_DIRS).await?,
        urls: fetch(c, url, "host_category_url", SQL_URLS).await?,
        netblocks: fetch(c, url, "host_netblock", SQL_NETBLOCKS).await?,
        peer_asns: fetch(c, url, "host_peer_asn", SQL_PEER_ASNS).await?,
        allowed: fetch(c, url, "host_country_allowed", SQL_ALLOWED).await?,
        host_countries: fetch(c, url, "host_country", SQL_HOST_COUNTRIES).await?,
        countries: fetch_scalar(c, url, "country", SQL_COUNTRIES).await?,
        continents: fetch(c, url, "country_continent_redirect", SQL_CONTINENTS).await?,
        netblock_countries: fetch(c, url, "netblock_country", SQL_NETBLOCK_COUNTRIES).await?,
        embargoed: fetch_scalar(c, url, "embargoed_country", SQL_EMBARGOED).await?,
    };
    // Read-only: nothing to commit.
    let _ = tx.rollback().await;
    Ok(s)
}

/// A directory's file list as our `directory.files` JSON text: MirrorManager stores JSON bytes (or, in old
/// rows, a Python pickle, which is not read).
fn files_json(bytes: Option<&[u8]>) -> Option<String> {
    let bytes = bytes.filter(|b| !b.is_empty())?;
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.is_array().then(|| value.to_string())
}

/// What has been written so far, for the steps that follow: which parents exist.
#[derive(Default)]
struct Imported {
    products: HashSet<i64>,
    categories: HashSet<i64>,
    /// Top directory name per imported category.
    topdirs: HashMap<i64, String>,
    arches: HashSet<i64>,
    versions: HashSet<i64>,
    /// Category per imported directory.
    category_of: HashMap<i64, i64>,
    /// Name per imported directory.
    directory_names: HashMap<i64, String>,
    sites: HashSet<i64>,
    hosts: HashSet<i64>,
    /// Category per imported host category.
    hc_category: HashMap<i64, i64>,
}

impl Report {
    fn skip(&mut self, line: String) {
        self.skipped.push(line);
    }

    fn wrote(&mut self, table: &'static str, n: u64) {
        self.imported.insert(table, n);
    }
}

async fn write(db: &Database, s: Source) -> Result<Report, ImportError> {
    // Hashing is deliberately slow; done before the transaction so it is not held open meanwhile.
    let mut hashes: HashMap<i64, String> = HashMap::new();
    for site in &s.sites {
        if let Some(p) = site.password.as_deref().filter(|p| !p.is_empty()) {
            let hash = password::hash(p).map_err(|e| ImportError::Password {
                site: site.id,
                message: e.to_string(),
            })?;
            hashes.insert(site.id, hash);
        }
    }
    let mut report = Report::default();
    let mut done = Imported::default();
    let mut tx = db.begin().await?;
    if sites::count_inventory(&mut tx).await? > 0 {
        return Err(ImportError::NotEmpty(db.url().to_owned()));
    }
    let conn = &mut *tx;
    write_products_and_categories(conn, &s, &mut done, &mut report).await?;
    write_arches_and_versions(conn, &s, &mut done, &mut report).await?;
    write_directories(conn, &s, &mut done, &mut report).await?;
    write_file_details(conn, &s, &done, &mut report).await?;
    write_repositories(conn, &s, &done, &mut report).await?;
    write_redirects(conn, &s, &mut report).await?;
    write_sites(conn, &s, hashes, &mut done, &mut report).await?;
    write_hosts(conn, &s, &mut done, &mut report).await?;
    write_host_categories(conn, &s, &mut done, &mut report).await?;
    write_urls(conn, &s, &done, &mut report).await?;
    write_host_lists(conn, &s, &done, &mut report).await?;
    write_lookups(conn, &s, &mut report).await?;
    db.resync_identities(&mut tx).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(report)
}

async fn write_products_and_categories(
    conn: &mut Connection,
    s: &Source,
    done: &mut Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    done.products = s.products.iter().map(|p| p.id).collect();
    let n = import::insert(
        conn,
        s.products.iter().map(|p| import::Product {
            id: p.id,
            name: p.name.clone(),
            publiclist: p.publiclist,
        }),
    )
    .await?;
    report.wrote("product", n);

    let directory_name: HashMap<i64, &str> = s.directories.iter().map(|d| (d.id, d.name.as_str())).collect();
    let mut rows = Vec::new();
    for c in &s.categories {
        let Some(product) = c.product_id.filter(|p| done.products.contains(p)) else {
            report.skip(format!("category {} ({}): no product", c.id, c.name));
            continue;
        };
        let Some(topdir) = c.topdir_id.and_then(|t| directory_name.get(&t)) else {
            report.skip(format!("category {} ({}): no top directory", c.id, c.name));
            continue;
        };
        done.categories.insert(c.id);
        done.topdirs.insert(c.id, (*topdir).to_owned());
        rows.push(import::Category {
            id: c.id,
            name: c.name.clone(),
            product_id: product,
            topdir: (*topdir).to_owned(),
            publiclist: c.publiclist,
            admin_only: c.admin_only,
        });
    }
    report.wrote("category", import::insert(conn, rows).await?);
    Ok(())
}

async fn write_arches_and_versions(
    conn: &mut Connection,
    s: &Source,
    done: &mut Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    done.arches = s.arches.iter().map(|a| a.id).collect();
    let n = import::insert(
        conn,
        s.arches.iter().map(|a| import::Arch {
            id: a.id,
            name: a.name.clone(),
            publiclist: a.publiclist,
            primary_arch: a.primary_arch,
        }),
    )
    .await?;
    report.wrote("arch", n);
    let mut rows = Vec::new();
    for v in &s.versions {
        let Some(product) = v.product_id.filter(|p| done.products.contains(p)) else {
            report.skip(format!("version {} ({}): no product", v.id, v.name));
            continue;
        };
        done.versions.insert(v.id);
        rows.push(import::Version {
            id: v.id,
            product_id: product,
            name: v.name.clone(),
            codename: v.codename.clone(),
            is_test: v.is_test,
            display: v.display,
            display_name: v.display_name.clone(),
            sortorder: v.sortorder,
        });
    }
    report.wrote("version", import::insert(conn, rows).await?);
    Ok(())
}

/// A directory's category is its first membership row (lowest category id) among imported categories.
async fn write_directories(
    conn: &mut Connection,
    s: &Source,
    done: &mut Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut also_in: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for m in &s.category_directories {
        if !done.categories.contains(&m.category_id) {
            continue;
        }
        match done.category_of.get(&m.directory_id) {
            None => {
                done.category_of.insert(m.directory_id, m.category_id);
            }
            Some(&first) if first != m.category_id => also_in.entry(m.directory_id).or_default().push(m.category_id),
            Some(_) => {}
        }
    }
    let mut rows = Vec::new();
    let mut unreadable_files = 0usize;
    for d in &s.directories {
        let Some(&category) = done.category_of.get(&d.id) else {
            report.skip(format!("directory {} ({}): in no category", d.id, d.name));
            continue;
        };
        if let Some(others) = also_in.get(&d.id) {
            report.notes.push(format!(
                "directory {} ({}) is in categories {category} and {others:?}; kept in {category}",
                d.id, d.name
            ));
        }
        let files = files_json(d.files.as_deref()).unwrap_or_else(|| {
            if d.files.as_ref().is_some_and(|f| !f.is_empty()) {
                unreadable_files += 1;
            }
            "[]".to_owned()
        });
        // Imported as is, but the snapshot builder refuses it (MirrorManager's generator made up a Subpath).
        let topdir = &done.topdirs[&category];
        let below = topdir.is_empty()
            || d.name == *topdir
            || d.name
                .strip_prefix(topdir.as_str())
                .is_some_and(|rest| rest.starts_with('/'));
        if !below {
            report.notes.push(format!(
                "directory {} ({}) is not below the top directory {topdir:?} of category {category}; \
                 snapshots are refused until it is moved",
                d.id, d.name
            ));
        }
        done.directory_names.insert(d.id, d.name.clone());
        rows.push(import::Directory {
            id: d.id,
            name: d.name.clone(),
            category_id: category,
            ctime: d.ctime,
            readable: d.readable,
            files,
        });
    }
    if unreadable_files > 0 {
        report.notes.push(format!(
            "{unreadable_files} directories have a file list that is not JSON (old pickles); stored empty until the next scan"
        ));
    }
    report.wrote("directory", import::insert(conn, rows).await?);
    Ok(())
}

async fn write_file_details(
    conn: &mut Connection,
    s: &Source,
    done: &Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut rows = Vec::new();
    for f in &s.file_details {
        let Some(directory_id) = f.directory_id.filter(|d| done.directory_names.contains_key(d)) else {
            report.skip(format!(
                "file_detail {} ({}): directory {:?} not imported",
                f.id, f.filename, f.directory_id
            ));
            continue;
        };
        rows.push((
            Some(f.id),
            FileDetailRow {
                directory_id,
                filename: f.filename.clone(),
                timestamp: f.timestamp,
                size: f.size,
                md5: f.md5.clone(),
                sha1: f.sha1.clone(),
                sha256: f.sha256.clone(),
                sha512: f.sha512.clone(),
            },
        ));
    }
    report.wrote("file_detail", files::insert(conn, rows).await?);
    Ok(())
}

async fn write_repositories(
    conn: &mut Connection,
    s: &Source,
    done: &Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut rows = Vec::new();
    let mut prefixes: HashSet<(String, i64)> = HashSet::new();
    for r in &s.repositories {
        let label = format!("repository {} ({})", r.id, r.prefix.as_deref().unwrap_or("no prefix"));
        let Some(directory) = r.directory_id.filter(|d| done.directory_names.contains_key(d)) else {
            report.skip(format!("{label}: directory {:?} not imported", r.directory_id));
            continue;
        };
        let Some(version) = r.version_id.filter(|v| done.versions.contains(v)) else {
            report.skip(format!("{label}: no version"));
            continue;
        };
        let Some(arch) = r.arch_id.filter(|a| done.arches.contains(a)) else {
            report.skip(format!("{label}: no arch"));
            continue;
        };
        // MirrorManager sets the category with the directory; fall back to the directory's when it is missing.
        let category = match r.category_id.filter(|c| done.categories.contains(c)) {
            Some(c) => c,
            None => done.category_of[&directory],
        };
        if let Some(prefix) = &r.prefix
            && !prefixes.insert((prefix.clone(), arch))
        {
            report.skip(format!("{label}: prefix and arch already used by another repository"));
            continue;
        }
        rows.push(import::Repository {
            id: r.id,
            name: r
                .name
                .clone()
                .unwrap_or_else(|| done.directory_names[&directory].clone()),
            prefix: r.prefix.clone(),
            category_id: category,
            version_id: version,
            arch_id: arch,
            directory_id: directory,
            disabled: r.disabled,
        });
    }
    report.wrote("repository", import::insert(conn, rows).await?);
    Ok(())
}

async fn write_redirects(conn: &mut Connection, s: &Source, report: &mut Report) -> Result<(), ImportError> {
    let mut rows = Vec::new();
    let mut froms = HashSet::new();
    for r in &s.redirects {
        let Some(to) = &r.to_repo else {
            report.skip(format!("repository_redirect {} ({}): no target", r.id, r.from_repo));
            continue;
        };
        if !froms.insert(r.from_repo.as_str()) {
            report.skip(format!("repository_redirect {} ({}): duplicate", r.id, r.from_repo));
            continue;
        }
        rows.push(import::Redirect {
            id: r.id,
            from_repo: r.from_repo.clone(),
            to_repo: to.clone(),
        });
    }
    report.wrote("repository_redirect", import::insert(conn, rows).await?);
    Ok(())
}

/// Sites (names made unique: MirrorManager only indexes them) with hashed passwords, and their admins.
async fn write_sites(
    conn: &mut Connection,
    s: &Source,
    mut hashes: HashMap<i64, String>,
    done: &mut Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut names: HashSet<String> = HashSet::new();
    let mut rows = Vec::new();
    let passwords = hashes.len();
    for site in &s.sites {
        let given = site.name.clone().unwrap_or_default();
        let mut name = given.clone();
        if !names.insert(name.clone()) {
            name = format!("{given} (site {})", site.id);
            names.insert(name.clone());
            report.notes.push(format!(
                "site {} ({given}): name already used; renamed to {name:?}",
                site.id
            ));
        }
        done.sites.insert(site.id);
        rows.push(import::Site {
            id: site.id,
            name,
            password_hash: hashes.remove(&site.id),
            org_url: site.org_url.clone().unwrap_or_default(),
            private: site.private,
            admin_active: site.admin_active,
            user_active: site.user_active,
            created_at: site.created_at.unwrap_or(0),
            created_by: site.created_by.clone().unwrap_or_default(),
            all_sites_can_pull_from_me: site.all_sites_can_pull_from_me,
            downstream_comments: site.downstream_comments.clone().unwrap_or_default(),
            email_on_drop: site.email_on_drop,
            email_on_add: site.email_on_add,
        });
    }
    report.wrote("site", import::insert(&mut *conn, rows).await?);
    if passwords > 0 {
        report
            .notes
            .push(format!("{passwords} site passwords stored as argon2id hashes"));
    }
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for a in &s.site_admins {
        let Some(site) = a.site_id.filter(|x| done.sites.contains(x)) else {
            report.skip(format!(
                "site_admin {} ({}): site {:?} missing",
                a.id, a.username, a.site_id
            ));
            continue;
        };
        if seen.insert((site, a.username.as_str())) {
            rows.push(import::SiteAdmin {
                id: a.id,
                site_id: site,
                username: a.username.clone(),
            });
        }
    }
    report.wrote("site_admin", import::insert(conn, rows).await?);
    Ok(())
}

async fn write_hosts(
    conn: &mut Connection,
    s: &Source,
    done: &mut Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut rows = Vec::new();
    for h in &s.hosts {
        let Some(site) = h.site_id.filter(|x| done.sites.contains(x)) else {
            report.skip(format!("host {} ({}): site {:?} missing", h.id, h.name, h.site_id));
            continue;
        };
        let Some(country) = h.country.clone().filter(|c| !c.trim().is_empty()) else {
            report.skip(format!("host {} ({}): no country", h.id, h.name));
            continue;
        };
        let code = country.trim();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            report.notes.push(format!(
                "host {} ({}): country {country:?} is not a two-letter code; snapshots are refused until it is fixed",
                h.id, h.name
            ));
        }
        done.hosts.insert(h.id);
        rows.push(import::Host {
            id: h.id,
            site_id: site,
            name: h.name.clone(),
            robot_email: h.robot_email.clone().unwrap_or_default(),
            comment: h.comment.clone().unwrap_or_default(),
            admin_active: h.admin_active,
            user_active: h.user_active,
            country,
            // MirrorManager's model default; its generator would fail on NULL.
            bandwidth_int: h.bandwidth_int.unwrap_or(100),
            max_connections: h.max_connections.unwrap_or(1),
            private: h.private,
            asn: h.asn,
            asn_clients: h.asn_clients,
            last_crawled: h.last_crawled,
            last_crawl_duration: h.last_crawl_duration.unwrap_or(0),
            crawl_failures: h.crawl_failures.unwrap_or(0),
            disable_reason: h.disable_reason.clone().unwrap_or_default(),
            last_checked_in: h.last_checked_in,
            latitude: h.latitude,
            longitude: h.longitude,
            ipv4_reachable: None,
            ipv6_reachable: None,
        });
    }
    report.wrote("host", import::insert(conn, rows).await?);
    Ok(())
}

/// Host categories with their directory states: `host_category_dir` rows become, per host category, the set of
/// directories up to date and the set carried stale, each stored once.
async fn write_host_categories(
    conn: &mut Connection,
    s: &Source,
    done: &mut Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut pairs = HashSet::new();
    for hc in &s.host_categories {
        let label = format!("host_category {}", hc.id);
        let Some(host) = hc.host_id.filter(|h| done.hosts.contains(h)) else {
            report.skip(format!("{label}: host {:?} unknown or not imported", hc.host_id));
            continue;
        };
        let Some(category) = hc.category_id.filter(|c| done.categories.contains(c)) else {
            report.skip(format!("{label}: category {:?} not imported", hc.category_id));
            continue;
        };
        if !pairs.insert((host, category)) {
            report.skip(format!("{label}: host {host} already has category {category}"));
            continue;
        }
        done.hc_category.insert(hc.id, category);
    }
    let mut up2date: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut stale: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut foreign_dirs = 0usize;
    for d in &s.host_category_dirs {
        let Some(hc) = d.host_category_id.filter(|h| done.hc_category.contains_key(h)) else {
            continue;
        };
        let Some(directory) = d.directory_id else {
            report.skip(format!("host_category_dir {}: no directory_id", d.id));
            continue;
        };
        if !done.directory_names.contains_key(&directory) {
            foreign_dirs += 1;
            continue;
        }
        (if d.up2date { &mut up2date } else { &mut stale })
            .entry(hc)
            .or_default()
            .push(directory);
    }
    if foreign_dirs > 0 {
        report.skip(format!(
            "{foreign_dirs} host_category_dir rows name directories that were not imported"
        ));
    }
    let mut sets = Interner::default();
    let mut rows = Vec::new();
    for hc in &s.host_categories {
        let (Some(&category), Some(host)) = (done.hc_category.get(&hc.id), hc.host_id) else {
            continue;
        };
        let fresh: DirectorySet = up2date.remove(&hc.id).unwrap_or_default().into_iter().collect();
        let old: DirectorySet = stale.remove(&hc.id).unwrap_or_default().into_iter().collect();
        rows.push(import::HostCategory {
            id: hc.id,
            host_id: host,
            category_id: category,
            always_up2date: hc.always_up2date,
            up2date_set_id: sets.intern(conn, &fresh).await?,
            stale_set_id: sets.intern(conn, &old).await?,
        });
    }
    report.wrote("directory_set", sets.stored() as u64);
    report.wrote("host_category", import::insert(conn, rows).await?);
    Ok(())
}

async fn write_urls(
    conn: &mut Connection,
    s: &Source,
    done: &Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for u in &s.urls {
        let Some(hc) = u.host_category_id.filter(|h| done.hc_category.contains_key(h)) else {
            report.skip(format!(
                "host_category_url {} ({}): host category {:?} not imported",
                u.id, u.url, u.host_category_id
            ));
            continue;
        };
        if !seen.insert(u.url.as_str()) {
            report.skip(format!("host_category_url {} ({}): duplicate URL", u.id, u.url));
            continue;
        }
        rows.push(import::Url {
            id: u.id,
            host_category_id: hc,
            url: u.url.clone(),
            private: u.private,
        });
    }
    report.wrote("host_category_url", import::insert(conn, rows).await?);
    Ok(())
}

/// The host of a per-host row, if it was imported; else the row is reported skipped.
fn imported_host(done: &Imported, report: &mut Report, table: &str, id: i64, host: Option<i64>) -> Option<i64> {
    let kept = host.filter(|h| done.hosts.contains(h));
    if kept.is_none() {
        report.skip(format!("{table} {id}: host {host:?} unknown or not imported"));
    }
    kept
}

/// Per-host lists: skipped with their host; duplicates (MirrorManager has no unique constraint) kept once.
async fn write_host_lists(
    conn: &mut Connection,
    s: &Source,
    done: &Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for n in &s.netblocks {
        let Some(host) = imported_host(done, report, "host_netblock", n.id, n.host_id) else {
            continue;
        };
        let Some(netblock) = n.value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
            report.skip(format!("host_netblock {}: empty netblock", n.id));
            continue;
        };
        if seen.insert((host, netblock.to_owned())) {
            rows.push(import::Netblock {
                id: n.id,
                host_id: host,
                netblock: netblock.to_owned(),
                name: n.name.clone().unwrap_or_default(),
            });
        }
    }
    report.wrote("host_netblock", import::insert(&mut *conn, rows).await?);

    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for p in &s.peer_asns {
        let Some(host) = imported_host(done, report, "host_peer_asn", p.id, p.host_id) else {
            continue;
        };
        let Some(asn) = p.value else {
            report.skip(format!("host_peer_asn {}: no ASN", p.id));
            continue;
        };
        if seen.insert((host, asn)) {
            rows.push(import::PeerAsn {
                id: p.id,
                host_id: host,
                asn,
                name: p.name.clone().unwrap_or_default(),
            });
        }
    }
    report.wrote("host_peer_asn", import::insert(&mut *conn, rows).await?);

    let allowed = host_countries(done, report, "host_country_allowed", &s.allowed);
    let n = import::insert(
        &mut *conn,
        allowed
            .into_iter()
            .map(|(id, host_id, country)| import::AllowedCountry { id, host_id, country }),
    )
    .await?;
    report.wrote("host_country_allowed", n);
    let served = host_countries(done, report, "host_country", &s.host_countries);
    let n = import::insert(
        conn,
        served
            .into_iter()
            .map(|(id, host_id, country)| import::HostCountry { id, host_id, country }),
    )
    .await?;
    report.wrote("host_country", n);
    Ok(())
}

/// (id, host, country) of the rows of a host country table that can be carried over.
fn host_countries(
    done: &Imported,
    report: &mut Report,
    table: &str,
    list: &[SrcHostCountry],
) -> Vec<(i64, i64, String)> {
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for c in list {
        let Some(host) = imported_host(done, report, table, c.id, c.host_id) else {
            continue;
        };
        let Some(country) = c.country.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
            report.skip(format!("{table} {}: no country", c.id));
            continue;
        };
        if seen.insert((host, country.to_owned())) {
            rows.push((c.id, host, country.to_owned()));
        }
    }
    rows
}

/// Lookup tables keyed by their text.
async fn write_lookups(conn: &mut Connection, s: &Source, report: &mut Report) -> Result<(), ImportError> {
    let countries: BTreeSet<&str> = s.countries.iter().map(String::as_str).collect();
    let n = import::insert(
        &mut *conn,
        countries.iter().map(|c| import::Country { code: (*c).to_owned() }),
    )
    .await?;
    report.wrote("country", n);
    let continents = unique_pairs(report, "country_continent_redirect", &s.continents);
    let n = import::insert(
        &mut *conn,
        continents
            .into_iter()
            .map(|(country, continent)| import::Continent { country, continent }),
    )
    .await?;
    report.wrote("country_continent_redirect", n);
    let networks = unique_pairs(report, "netblock_country", &s.netblock_countries);
    let n = import::insert(
        &mut *conn,
        networks
            .into_iter()
            .map(|(netblock, country)| import::NetblockCountry { netblock, country }),
    )
    .await?;
    report.wrote("netblock_country", n);
    let embargoed: BTreeSet<&str> = s.embargoed.iter().map(String::as_str).collect();
    let n = import::insert(
        conn,
        embargoed.iter().map(|c| import::Embargoed {
            country_code: (*c).to_owned(),
        }),
    )
    .await?;
    report.wrote("embargoed_country", n);
    Ok(())
}

/// The first row per key; later duplicates are reported.
fn unique_pairs(report: &mut Report, table: &str, list: &[SrcPair]) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for p in list {
        if seen.insert(p.key.as_str()) {
            rows.push((p.key.clone(), p.value.clone()));
        } else {
            report.skip(format!("{table} {}: duplicate", p.key));
        }
    }
    rows
}
