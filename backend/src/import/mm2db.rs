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
//!   carried stale, stored once each through [`intern`].
//! - `site.password` (plain text in MirrorManager) → `site.password_hash`, an argon2id PHC string.
//! - `host_country.country_id` → the country code.
//!
//! Anything that cannot be carried over is skipped and named in [`Report::skipped`]; the import itself stops
//! only when the source cannot be read or the target already holds an inventory.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use sqlx::Row;
use sqlx::postgres::{PgPoolOptions, PgRow};

use crate::db::bulk::{Value, insert};
use crate::db::directory_set::{DirectorySet, intern};
use crate::db::{Database, DbError, redact};

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

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> ImportError {
        ImportError::Db(DbError::Sql(e))
    }
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

/// Source rows, decoded.
#[derive(Default)]
struct Source {
    products: Vec<(i64, String, bool)>,
    /// id, name, product, topdir directory id, publiclist, admin_only.
    categories: Vec<CategoryRow>,
    arches: Vec<(i64, String, bool, bool)>,
    /// id, product, name, codename, is_test, display, display_name, sortorder.
    versions: Vec<VersionRow>,
    /// id, name, ctime, readable, files.
    directories: Vec<DirectoryRow>,
    /// (category, directory), ordered by directory then category.
    category_directories: Vec<(i64, i64)>,
    /// id, directory, filename, timestamp, size, md5, sha1, sha256, sha512.
    file_details: Vec<FileDetailRow>,
    /// id, name, prefix, category, version, arch, directory, disabled.
    repositories: Vec<RepositoryRow>,
    redirects: Vec<(i64, String, Option<String>)>,
    sites: Vec<SiteRow>,
    site_admins: Vec<(i64, Option<i64>, String)>,
    hosts: Vec<HostRow>,
    /// id, host, category, always_up2date.
    host_categories: Vec<(i64, Option<i64>, Option<i64>, bool)>,
    /// id, host category, directory, up2date.
    host_category_dirs: Vec<(i64, Option<i64>, Option<i64>, bool)>,
    /// id, host category, url, private.
    urls: Vec<(i64, Option<i64>, String, bool)>,
    /// id, host, netblock, name.
    netblocks: Vec<NamedHostValue<String>>,
    /// id, host, asn, name.
    peer_asns: Vec<NamedHostValue<i64>>,
    /// id, host, country.
    allowed: Vec<(i64, Option<i64>, Option<String>)>,
    /// id, host, country code.
    host_countries: Vec<(i64, Option<i64>, Option<String>)>,
    countries: Vec<String>,
    continents: Vec<(String, String)>,
    netblock_countries: Vec<(String, String)>,
    embargoed: Vec<String>,
}

type CategoryRow = (i64, String, Option<i64>, Option<i64>, bool, bool);
type VersionRow = (
    i64,
    Option<i64>,
    String,
    Option<String>,
    bool,
    bool,
    Option<String>,
    i64,
);
type DirectoryRow = (i64, String, i64, bool, Option<Vec<u8>>);
/// id, host, value, name.
type NamedHostValue<T> = (i64, Option<i64>, Option<T>, Option<String>);
type FileDetailRow = (
    i64,
    Option<i64>,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

struct RepositoryRow {
    id: i64,
    name: Option<String>,
    prefix: Option<String>,
    category: Option<i64>,
    version: Option<i64>,
    arch: Option<i64>,
    directory: Option<i64>,
    disabled: bool,
}

struct SiteRow {
    id: i64,
    name: String,
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

struct HostRow {
    id: i64,
    site: Option<i64>,
    name: String,
    robot_email: Option<String>,
    comment: Option<String>,
    admin_active: bool,
    user_active: bool,
    country: Option<String>,
    bandwidth: Option<i64>,
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

// MirrorManager's columns are INTEGER, BIGINT, TIMESTAMP and nullable booleans depending on the table and
// the migration history; every query casts to the types decoded here so one decoding fits all of them.
const SQL_PRODUCTS: &str = "SELECT id::bigint, name, COALESCE(publiclist, TRUE) FROM product ORDER BY id";
const SQL_CATEGORIES: &str = "SELECT id::bigint, name, product_id::bigint, topdir_id::bigint, \
     COALESCE(publiclist, TRUE), COALESCE(admin_only, FALSE) FROM category ORDER BY id";
const SQL_ARCHES: &str = "SELECT id::bigint, name, COALESCE(publiclist, TRUE), COALESCE(primary_arch, TRUE) \
     FROM arch ORDER BY id";
const SQL_VERSIONS: &str = "SELECT id::bigint, product_id::bigint, name, codename, COALESCE(is_test, FALSE), \
     COALESCE(display, TRUE), display_name, COALESCE(sortorder, 0)::bigint FROM version ORDER BY id";
const SQL_DIRECTORIES: &str = "SELECT id::bigint, name, COALESCE(ctime, 0)::bigint, COALESCE(readable, TRUE), \
     files FROM directory ORDER BY id";
const SQL_CATEGORY_DIRECTORIES: &str = "SELECT category_id::bigint, directory_id::bigint FROM category_directory \
     WHERE category_id IS NOT NULL AND directory_id IS NOT NULL ORDER BY directory_id, category_id";
const SQL_FILE_DETAILS: &str = "SELECT id::bigint, directory_id::bigint, filename, COALESCE(timestamp, 0)::bigint, \
     COALESCE(size, 0)::bigint, md5, sha1, sha256, sha512 FROM file_detail ORDER BY id";
const SQL_REPOSITORIES: &str = "SELECT id::bigint, name, prefix, category_id::bigint, version_id::bigint, \
     arch_id::bigint, directory_id::bigint, COALESCE(disabled, FALSE) FROM repository ORDER BY id";
const SQL_REDIRECTS: &str = "SELECT id::bigint, from_repo, to_repo FROM repository_redirect ORDER BY id";
const SQL_SITES: &str = "SELECT id::bigint, name, password, org_url, COALESCE(private, FALSE), \
     COALESCE(admin_active, TRUE), COALESCE(user_active, TRUE), EXTRACT(EPOCH FROM created_at)::bigint, \
     created_by, COALESCE(all_sites_can_pull_from_me, FALSE), downstream_comments, \
     COALESCE(email_on_drop, FALSE), COALESCE(email_on_add, FALSE) FROM site ORDER BY id";
const SQL_SITE_ADMINS: &str = "SELECT id::bigint, site_id::bigint, username FROM site_admin ORDER BY id";
const SQL_HOSTS: &str = "SELECT id::bigint, site_id::bigint, name, robot_email, comment, \
     COALESCE(admin_active, TRUE), COALESCE(user_active, TRUE), country, bandwidth_int::bigint, \
     max_connections::bigint, COALESCE(private, FALSE), asn::bigint, COALESCE(asn_clients, TRUE), \
     EXTRACT(EPOCH FROM last_crawled)::bigint, last_crawl_duration::bigint, crawl_failures::bigint, \
     disable_reason, EXTRACT(EPOCH FROM last_checked_in)::bigint, latitude::float8, longitude::float8 \
     FROM host ORDER BY id";
const SQL_HOST_CATEGORIES: &str = "SELECT id::bigint, host_id::bigint, category_id::bigint, \
     COALESCE(always_up2date, FALSE) FROM host_category ORDER BY id";
const SQL_HOST_CATEGORY_DIRS: &str = "SELECT id::bigint, host_category_id::bigint, directory_id::bigint, \
     COALESCE(up2date, TRUE) FROM host_category_dir ORDER BY id";
const SQL_URLS: &str = "SELECT id::bigint, host_category_id::bigint, url, COALESCE(private, FALSE) \
     FROM host_category_url ORDER BY id";
const SQL_NETBLOCKS: &str = "SELECT id::bigint, host_id::bigint, netblock, name FROM host_netblock ORDER BY id";
const SQL_PEER_ASNS: &str = "SELECT id::bigint, host_id::bigint, asn::bigint, name FROM host_peer_asn ORDER BY id";
const SQL_ALLOWED: &str = "SELECT id::bigint, host_id::bigint, country FROM host_country_allowed ORDER BY id";
const SQL_HOST_COUNTRIES: &str = "SELECT hc.id::bigint, hc.host_id::bigint, c.code FROM host_country hc \
     LEFT JOIN country c ON c.id = hc.country_id ORDER BY hc.id";
const SQL_COUNTRIES: &str = "SELECT code FROM country WHERE code IS NOT NULL ORDER BY code";
const SQL_CONTINENTS: &str = "SELECT country, continent FROM country_continent_redirect \
     WHERE country IS NOT NULL AND continent IS NOT NULL ORDER BY id";
const SQL_NETBLOCK_COUNTRIES: &str = "SELECT netblock, country FROM netblock_country \
     WHERE netblock IS NOT NULL AND country IS NOT NULL ORDER BY id";
const SQL_EMBARGOED: &str = "SELECT country_code FROM embargoed_country WHERE country_code IS NOT NULL ORDER BY id";

async fn fetch<T>(
    conn: &mut sqlx::PgConnection,
    url: &str,
    what: &'static str,
    sql: &str,
    decode: impl Fn(&PgRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, ImportError> {
    let rows = sqlx::query(sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(read_error(url, what))?;
    rows.iter()
        .map(decode)
        .collect::<Result<_, _>>()
        .map_err(read_error(url, what))
}

fn read_error(url: &str, what: &'static str) -> impl Fn(sqlx::Error) -> ImportError {
    let url = url.to_owned();
    move |source| ImportError::Read {
        url: url.clone(),
        what,
        source,
    }
}

/// [`fetch`] for rows read as tuples, column by column in order.
async fn fetch_as<T>(
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

/// [`fetch`] for one-column rows.
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
        .map_err(|source| ImportError::Read {
            url: url.to_owned(),
            what: "transaction",
            source,
        })?;
    let c = &mut *tx;
    let mut s = Source {
        products: fetch_as(c, url, "product", SQL_PRODUCTS).await?,
        ..Source::default()
    };
    s.categories = fetch_as(c, url, "category", SQL_CATEGORIES).await?;
    s.arches = fetch_as(c, url, "arch", SQL_ARCHES).await?;
    s.versions = fetch_as(c, url, "version", SQL_VERSIONS).await?;
    s.directories = fetch_as(c, url, "directory", SQL_DIRECTORIES).await?;
    s.category_directories = fetch_as(c, url, "category_directory", SQL_CATEGORY_DIRECTORIES).await?;
    s.file_details = fetch_as(c, url, "file_detail", SQL_FILE_DETAILS).await?;
    s.repositories = fetch(c, url, "repository", SQL_REPOSITORIES, |r| {
        Ok(RepositoryRow {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            prefix: r.try_get(2)?,
            category: r.try_get(3)?,
            version: r.try_get(4)?,
            arch: r.try_get(5)?,
            directory: r.try_get(6)?,
            disabled: r.try_get(7)?,
        })
    })
    .await?;
    s.redirects = fetch_as(c, url, "repository_redirect", SQL_REDIRECTS).await?;
    s.sites = fetch(c, url, "site", SQL_SITES, |r| {
        Ok(SiteRow {
            id: r.try_get(0)?,
            name: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
            password: r.try_get(2)?,
            org_url: r.try_get(3)?,
            private: r.try_get(4)?,
            admin_active: r.try_get(5)?,
            user_active: r.try_get(6)?,
            created_at: r.try_get(7)?,
            created_by: r.try_get(8)?,
            all_sites_can_pull_from_me: r.try_get(9)?,
            downstream_comments: r.try_get(10)?,
            email_on_drop: r.try_get(11)?,
            email_on_add: r.try_get(12)?,
        })
    })
    .await?;
    s.site_admins = fetch_as(c, url, "site_admin", SQL_SITE_ADMINS).await?;
    s.hosts = fetch(c, url, "host", SQL_HOSTS, |r| {
        Ok(HostRow {
            id: r.try_get(0)?,
            site: r.try_get(1)?,
            name: r.try_get(2)?,
            robot_email: r.try_get(3)?,
            comment: r.try_get(4)?,
            admin_active: r.try_get(5)?,
            user_active: r.try_get(6)?,
            country: r.try_get(7)?,
            bandwidth: r.try_get(8)?,
            max_connections: r.try_get(9)?,
            private: r.try_get(10)?,
            asn: r.try_get(11)?,
            asn_clients: r.try_get(12)?,
            last_crawled: r.try_get(13)?,
            last_crawl_duration: r.try_get(14)?,
            crawl_failures: r.try_get(15)?,
            disable_reason: r.try_get(16)?,
            last_checked_in: r.try_get(17)?,
            latitude: r.try_get(18)?,
            longitude: r.try_get(19)?,
        })
    })
    .await?;
    s.host_categories = fetch_as(c, url, "host_category", SQL_HOST_CATEGORIES).await?;
    s.host_category_dirs = fetch_as(c, url, "host_category_dir", SQL_HOST_CATEGORY_DIRS).await?;
    s.urls = fetch_as(c, url, "host_category_url", SQL_URLS).await?;
    s.netblocks = fetch_as(c, url, "host_netblock", SQL_NETBLOCKS).await?;
    s.peer_asns = fetch_as(c, url, "host_peer_asn", SQL_PEER_ASNS).await?;
    s.allowed = fetch_as(c, url, "host_country_allowed", SQL_ALLOWED).await?;
    s.host_countries = fetch_as(c, url, "host_country", SQL_HOST_COUNTRIES).await?;
    s.countries = fetch_scalar(c, url, "country", SQL_COUNTRIES).await?;
    s.continents = fetch_as(c, url, "country_continent_redirect", SQL_CONTINENTS).await?;
    s.netblock_countries = fetch_as(c, url, "netblock_country", SQL_NETBLOCK_COUNTRIES).await?;
    s.embargoed = fetch_scalar(c, url, "embargoed_country", SQL_EMBARGOED).await?;
    // Read-only: nothing to commit.
    let _ = tx.rollback().await;
    Ok(s)
}

/// An argon2id PHC string for a MirrorManager plain-text check-in password.
fn hash_password(site: i64, password: &str) -> Result<String, ImportError> {
    // One hashing path for every way a password enters the database.
    crate::inventory::store::hash_password(password).map_err(|e| ImportError::Password {
        site,
        message: e.to_string(),
    })
}

/// A directory's file list as our `directory.files` JSON text: MirrorManager stores JSON bytes (or, in old
/// rows, a Python pickle, which is not read).
fn files_json(bytes: Option<&[u8]>) -> Option<String> {
    let bytes = bytes.filter(|b| !b.is_empty())?;
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.is_array().then(|| value.to_string())
}

async fn write(db: &Database, s: Source) -> Result<Report, ImportError> {
    let mut report = Report::default();
    let skip = |report: &mut Report, line: String| report.skipped.push(line);
    // Hashing is deliberately slow; done before the transaction so it is not held open meanwhile.
    let mut hashes: HashMap<i64, String> = HashMap::new();
    for site in &s.sites {
        if let Some(p) = site.password.as_deref().filter(|p| !p.is_empty()) {
            hashes.insert(site.id, hash_password(site.id, p)?);
        }
    }
    let mut tx = db.pool().begin().await?;
    let existing: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM host) + (SELECT COUNT(*) FROM directory) + (SELECT COUNT(*) FROM category) \
         + (SELECT COUNT(*) FROM product) + (SELECT COUNT(*) FROM site)",
    )
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    if existing > 0 {
        return Err(ImportError::NotEmpty(db.url().to_owned()));
    }
    let conn = &mut *tx;

    // Content side.
    let products: HashSet<i64> = s.products.iter().map(|p| p.0).collect();
    let n = insert(
        conn,
        "product",
        &["id", "name", "publiclist"],
        s.products
            .iter()
            .map(|(id, name, public)| vec![(*id).into(), name.clone().into(), (*public).into()]),
    )
    .await?;
    report.imported.insert("product", n);

    let directory_name: HashMap<i64, &str> = s.directories.iter().map(|d| (d.0, d.1.as_str())).collect();
    let mut topdirs: HashMap<i64, &str> = HashMap::new();
    let mut categories: HashSet<i64> = HashSet::new();
    let mut category_rows = Vec::new();
    for (id, name, product, topdir, public, admin_only) in &s.categories {
        let Some(product) = product.filter(|p| products.contains(p)) else {
            skip(&mut report, format!("category {id} ({name}): no product"));
            continue;
        };
        let Some(topdir) = topdir.and_then(|t| directory_name.get(&t)) else {
            skip(&mut report, format!("category {id} ({name}): no top directory"));
            continue;
        };
        categories.insert(*id);
        topdirs.insert(*id, *topdir);
        category_rows.push(vec![
            (*id).into(),
            name.clone().into(),
            product.into(),
            (*topdir).into(),
            (*public).into(),
            (*admin_only).into(),
        ]);
    }
    let n = insert(
        conn,
        "category",
        &["id", "name", "product_id", "topdir", "publiclist", "admin_only"],
        category_rows,
    )
    .await?;
    report.imported.insert("category", n);

    let arches: HashSet<i64> = s.arches.iter().map(|a| a.0).collect();
    let n = insert(
        conn,
        "arch",
        &["id", "name", "publiclist", "primary_arch"],
        s.arches
            .iter()
            .map(|(id, name, p, primary)| vec![(*id).into(), name.clone().into(), (*p).into(), (*primary).into()]),
    )
    .await?;
    report.imported.insert("arch", n);

    let mut versions: HashSet<i64> = HashSet::new();
    let mut version_rows = Vec::new();
    for (id, product, name, codename, is_test, display, display_name, sortorder) in &s.versions {
        let Some(product) = product.filter(|p| products.contains(p)) else {
            skip(&mut report, format!("version {id} ({name}): no product"));
            continue;
        };
        versions.insert(*id);
        version_rows.push(vec![
            (*id).into(),
            product.into(),
            name.clone().into(),
            codename.clone().into(),
            (*is_test).into(),
            (*display).into(),
            display_name.clone().into(),
            (*sortorder).into(),
        ]);
    }
    let n = insert(
        conn,
        "version",
        &[
            "id",
            "product_id",
            "name",
            "codename",
            "is_test",
            "display",
            "display_name",
            "sortorder",
        ],
        version_rows,
    )
    .await?;
    report.imported.insert("version", n);

    // A directory's category: the first membership row (lowest category id) among imported categories.
    let mut category_of: HashMap<i64, i64> = HashMap::new();
    let mut also_in: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for &(category, directory) in &s.category_directories {
        if !categories.contains(&category) {
            continue;
        }
        match category_of.get(&directory) {
            None => {
                category_of.insert(directory, category);
            }
            Some(&first) if first != category => also_in.entry(directory).or_default().push(category),
            Some(_) => {}
        }
    }
    let mut directories: HashSet<i64> = HashSet::new();
    let mut directory_rows = Vec::new();
    let mut unreadable_files = 0usize;
    for (id, name, ctime, readable, files) in &s.directories {
        let Some(&category) = category_of.get(id) else {
            skip(&mut report, format!("directory {id} ({name}): in no category"));
            continue;
        };
        if let Some(others) = also_in.get(id) {
            report.notes.push(format!(
                "directory {id} ({name}) is in categories {category} and {others:?}; kept in {category}"
            ));
        }
        let files = files_json(files.as_deref()).unwrap_or_else(|| {
            if files.as_ref().is_some_and(|f| !f.is_empty()) {
                unreadable_files += 1;
            }
            "[]".to_owned()
        });
        // Imported as is, but the snapshot builder refuses it (MirrorManager's generator made up a Subpath).
        let topdir = topdirs[&category];
        let below =
            topdir.is_empty() || name == topdir || name.strip_prefix(topdir).is_some_and(|rest| rest.starts_with('/'));
        if !below {
            report.notes.push(format!(
                "directory {id} ({name}) is not below the top directory {topdir:?} of category {category}; \
                 snapshots are refused until it is moved"
            ));
        }
        directories.insert(*id);
        directory_rows.push(vec![
            (*id).into(),
            name.clone().into(),
            category.into(),
            (*ctime).into(),
            (*readable).into(),
            files.into(),
        ]);
    }
    if unreadable_files > 0 {
        report.notes.push(format!(
            "{unreadable_files} directories have a file list that is not JSON (old pickles); stored empty until the next scan"
        ));
    }
    let n = insert(
        conn,
        "directory",
        &["id", "name", "category_id", "ctime", "readable", "files"],
        directory_rows,
    )
    .await?;
    report.imported.insert("directory", n);

    let mut detail_rows = Vec::new();
    for (id, directory, filename, timestamp, size, md5, sha1, sha256, sha512) in &s.file_details {
        if !directory.is_some_and(|d| directories.contains(&d)) {
            skip(
                &mut report,
                format!("file_detail {id} ({filename}): directory {directory:?} not imported"),
            );
            continue;
        }
        detail_rows.push(vec![
            (*id).into(),
            (*directory).into(),
            filename.clone().into(),
            (*timestamp).into(),
            (*size).into(),
            md5.clone().into(),
            sha1.clone().into(),
            sha256.clone().into(),
            sha512.clone().into(),
        ]);
    }
    let n = insert(
        conn,
        "file_detail",
        &[
            "id",
            "directory_id",
            "filename",
            "timestamp",
            "size",
            "md5",
            "sha1",
            "sha256",
            "sha512",
        ],
        detail_rows,
    )
    .await?;
    report.imported.insert("file_detail", n);

    let mut repo_rows = Vec::new();
    let mut prefixes: HashSet<(String, i64)> = HashSet::new();
    for r in &s.repositories {
        let label = format!("repository {} ({})", r.id, r.prefix.as_deref().unwrap_or("no prefix"));
        let Some(directory) = r.directory.filter(|d| directories.contains(d)) else {
            skip(
                &mut report,
                format!("{label}: directory {:?} not imported", r.directory),
            );
            continue;
        };
        let Some(version) = r.version.filter(|v| versions.contains(v)) else {
            skip(&mut report, format!("{label}: no version"));
            continue;
        };
        let Some(arch) = r.arch.filter(|a| arches.contains(a)) else {
            skip(&mut report, format!("{label}: no arch"));
            continue;
        };
        // MirrorManager sets the category with the directory; fall back to the directory's when it is missing.
        let category = match r.category.filter(|c| categories.contains(c)) {
            Some(c) => c,
            None => category_of[&directory],
        };
        if let Some(prefix) = &r.prefix
            && !prefixes.insert((prefix.clone(), arch))
        {
            skip(
                &mut report,
                format!("{label}: prefix and arch already used by another repository"),
            );
            continue;
        }
        let name = r.name.clone().unwrap_or_else(|| directory_name[&directory].to_owned());
        repo_rows.push(vec![
            r.id.into(),
            name.into(),
            r.prefix.clone().into(),
            category.into(),
            version.into(),
            arch.into(),
            directory.into(),
            r.disabled.into(),
        ]);
    }
    let n = insert(
        conn,
        "repository",
        &[
            "id",
            "name",
            "prefix",
            "category_id",
            "version_id",
            "arch_id",
            "directory_id",
            "disabled",
        ],
        repo_rows,
    )
    .await?;
    report.imported.insert("repository", n);

    let mut redirect_rows = Vec::new();
    let mut froms = HashSet::new();
    for (id, from, to) in &s.redirects {
        let Some(to) = to else {
            skip(&mut report, format!("repository_redirect {id} ({from}): no target"));
            continue;
        };
        if !froms.insert(from.as_str()) {
            skip(&mut report, format!("repository_redirect {id} ({from}): duplicate"));
            continue;
        }
        redirect_rows.push(vec![(*id).into(), from.clone().into(), to.clone().into()]);
    }
    let n = insert(
        conn,
        "repository_redirect",
        &["id", "from_repo", "to_repo"],
        redirect_rows,
    )
    .await?;
    report.imported.insert("repository_redirect", n);

    // Mirror side.
    let mut site_names: HashSet<String> = HashSet::new();
    let mut site_rows = Vec::new();
    let passwords = hashes.len();
    for site in &s.sites {
        // Site names are unique for us (MirrorManager only indexes them).
        let mut name = site.name.clone();
        if !site_names.insert(name.clone()) {
            name = format!("{} (site {})", site.name, site.id);
            site_names.insert(name.clone());
            report.notes.push(format!(
                "site {} ({}): name already used; renamed to {name:?}",
                site.id, site.name
            ));
        }
        let hash = hashes.remove(&site.id);
        site_rows.push(vec![
            site.id.into(),
            name.into(),
            hash.into(),
            site.org_url.clone().unwrap_or_default().into(),
            site.private.into(),
            site.admin_active.into(),
            site.user_active.into(),
            site.created_at.unwrap_or(0).into(),
            site.created_by.clone().unwrap_or_default().into(),
            site.all_sites_can_pull_from_me.into(),
            site.downstream_comments.clone().unwrap_or_default().into(),
            site.email_on_drop.into(),
            site.email_on_add.into(),
        ]);
    }
    let sites: HashSet<i64> = s.sites.iter().map(|x| x.id).collect();
    let n = insert(
        conn,
        "site",
        &[
            "id",
            "name",
            "password_hash",
            "org_url",
            "private",
            "admin_active",
            "user_active",
            "created_at",
            "created_by",
            "all_sites_can_pull_from_me",
            "downstream_comments",
            "email_on_drop",
            "email_on_add",
        ],
        site_rows,
    )
    .await?;
    report.imported.insert("site", n);
    if passwords > 0 {
        report
            .notes
            .push(format!("{passwords} site passwords stored as argon2id hashes"));
    }

    let mut admin_rows = Vec::new();
    let mut admins = HashSet::new();
    for (id, site, username) in &s.site_admins {
        let Some(site) = site.filter(|x| sites.contains(x)) else {
            skip(
                &mut report,
                format!("site_admin {id} ({username}): site {site:?} missing"),
            );
            continue;
        };
        if admins.insert((site, username.as_str())) {
            admin_rows.push(vec![(*id).into(), site.into(), username.clone().into()]);
        }
    }
    let n = insert(conn, "site_admin", &["id", "site_id", "username"], admin_rows).await?;
    report.imported.insert("site_admin", n);

    let mut hosts: HashSet<i64> = HashSet::new();
    let mut host_rows = Vec::new();
    for h in &s.hosts {
        let Some(site) = h.site.filter(|x| sites.contains(x)) else {
            skip(
                &mut report,
                format!("host {} ({}): site {:?} missing", h.id, h.name, h.site),
            );
            continue;
        };
        let Some(country) = h.country.clone().filter(|c| !c.trim().is_empty()) else {
            skip(&mut report, format!("host {} ({}): no country", h.id, h.name));
            continue;
        };
        let code = country.trim();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            report.notes.push(format!(
                "host {} ({}): country {country:?} is not a two-letter code; snapshots are refused until it is fixed",
                h.id, h.name
            ));
        }
        hosts.insert(h.id);
        host_rows.push(vec![
            h.id.into(),
            site.into(),
            h.name.clone().into(),
            h.robot_email.clone().unwrap_or_default().into(),
            h.comment.clone().unwrap_or_default().into(),
            h.admin_active.into(),
            h.user_active.into(),
            country.into(),
            // MirrorManager's model default; its generator would fail on NULL.
            h.bandwidth.unwrap_or(100).into(),
            h.max_connections.unwrap_or(1).into(),
            h.private.into(),
            h.asn.into(),
            h.asn_clients.into(),
            h.last_crawled.into(),
            h.last_crawl_duration.unwrap_or(0).into(),
            h.crawl_failures.unwrap_or(0).into(),
            h.disable_reason.clone().unwrap_or_default().into(),
            h.last_checked_in.into(),
            h.latitude.map_or(Value::NullFloat, Value::Float),
            h.longitude.map_or(Value::NullFloat, Value::Float),
        ]);
    }
    let n = insert(
        conn,
        "host",
        &[
            "id",
            "site_id",
            "name",
            "robot_email",
            "comment",
            "admin_active",
            "user_active",
            "country",
            "bandwidth_int",
            "max_connections",
            "private",
            "asn",
            "asn_clients",
            "last_crawled",
            "last_crawl_duration",
            "crawl_failures",
            "disable_reason",
            "last_checked_in",
            "latitude",
            "longitude",
        ],
        host_rows,
    )
    .await?;
    report.imported.insert("host", n);

    // Host categories with their directory states.
    let mut hc_category: HashMap<i64, i64> = HashMap::new();
    let mut hc_pairs = HashSet::new();
    for &(id, host, category, _) in &s.host_categories {
        let label = format!("host_category {id}");
        let Some(host) = host.filter(|h| hosts.contains(h)) else {
            skip(&mut report, format!("{label}: host {host:?} unknown or not imported"));
            continue;
        };
        let Some(category) = category.filter(|c| categories.contains(c)) else {
            skip(&mut report, format!("{label}: category {category:?} not imported"));
            continue;
        };
        if !hc_pairs.insert((host, category)) {
            skip(
                &mut report,
                format!("{label}: host {host} already has category {category}"),
            );
            continue;
        }
        hc_category.insert(id, category);
    }
    let mut up2date: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut stale: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut foreign_dirs = 0usize;
    for &(id, hc, directory, fresh) in &s.host_category_dirs {
        let Some(hc) = hc.filter(|h| hc_category.contains_key(h)) else {
            continue;
        };
        let Some(directory) = directory else {
            skip(&mut report, format!("host_category_dir {id}: no directory_id"));
            continue;
        };
        if !directories.contains(&directory) {
            foreign_dirs += 1;
            continue;
        }
        (if fresh { &mut up2date } else { &mut stale })
            .entry(hc)
            .or_default()
            .push(directory);
    }
    if foreign_dirs > 0 {
        skip(
            &mut report,
            format!("{foreign_dirs} host_category_dir rows name directories that were not imported"),
        );
    }
    let mut set_ids: HashMap<String, Option<i64>> = HashMap::new();
    let mut hc_rows = Vec::new();
    for &(id, host, _, always) in &s.host_categories {
        let Some(&category) = hc_category.get(&id) else {
            continue;
        };
        let mut ids = [None, None];
        for (slot, sets) in [&mut up2date, &mut stale].into_iter().enumerate() {
            let set: DirectorySet = sets.remove(&id).unwrap_or_default().into_iter().collect();
            let digest = set.digest();
            ids[slot] = match set_ids.get(&digest) {
                Some(&known) => known,
                None => {
                    let stored = intern(&mut *conn, &set).await?;
                    set_ids.insert(digest, stored);
                    stored
                }
            };
        }
        hc_rows.push(vec![
            id.into(),
            host.into(),
            category.into(),
            always.into(),
            ids[0].into(),
            ids[1].into(),
        ]);
    }
    report
        .imported
        .insert("directory_set", set_ids.values().filter(|v| v.is_some()).count() as u64);
    let n = insert(
        conn,
        "host_category",
        &[
            "id",
            "host_id",
            "category_id",
            "always_up2date",
            "up2date_set_id",
            "stale_set_id",
        ],
        hc_rows,
    )
    .await?;
    report.imported.insert("host_category", n);

    let mut url_rows = Vec::new();
    let mut seen_urls = HashSet::new();
    for (id, hc, url, private) in &s.urls {
        if !hc.is_some_and(|h| hc_category.contains_key(&h)) {
            skip(
                &mut report,
                format!("host_category_url {id} ({url}): host category {hc:?} not imported"),
            );
            continue;
        }
        if !seen_urls.insert(url.as_str()) {
            skip(&mut report, format!("host_category_url {id} ({url}): duplicate URL"));
            continue;
        }
        url_rows.push(vec![(*id).into(), (*hc).into(), url.clone().into(), (*private).into()]);
    }
    let n = insert(
        conn,
        "host_category_url",
        &["id", "host_category_id", "url", "private"],
        url_rows,
    )
    .await?;
    report.imported.insert("host_category_url", n);

    // Per-host lists: skipped with their host; duplicates (MirrorManager has no unique constraint) kept once.
    let host_of = |report: &mut Report, table: &str, id: i64, host: Option<i64>| -> Option<i64> {
        let kept = host.filter(|h| hosts.contains(h));
        if kept.is_none() {
            report
                .skipped
                .push(format!("{table} {id}: host {host:?} unknown or not imported"));
        }
        kept
    };
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (id, host, netblock, name) in &s.netblocks {
        let Some(host) = host_of(&mut report, "host_netblock", *id, *host) else {
            continue;
        };
        let Some(netblock) = netblock.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            skip(&mut report, format!("host_netblock {id}: empty netblock"));
            continue;
        };
        if seen.insert((host, netblock.to_owned())) {
            rows.push(vec![
                (*id).into(),
                host.into(),
                netblock.into(),
                name.clone().unwrap_or_default().into(),
            ]);
        }
    }
    let n = insert(conn, "host_netblock", &["id", "host_id", "netblock", "name"], rows).await?;
    report.imported.insert("host_netblock", n);

    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (id, host, asn, name) in &s.peer_asns {
        let Some(host) = host_of(&mut report, "host_peer_asn", *id, *host) else {
            continue;
        };
        let Some(asn) = asn else {
            skip(&mut report, format!("host_peer_asn {id}: no ASN"));
            continue;
        };
        if seen.insert((host, *asn)) {
            rows.push(vec![
                (*id).into(),
                host.into(),
                (*asn).into(),
                name.clone().unwrap_or_default().into(),
            ]);
        }
    }
    let n = insert(conn, "host_peer_asn", &["id", "host_id", "asn", "name"], rows).await?;
    report.imported.insert("host_peer_asn", n);

    for (table, list) in [
        ("host_country_allowed", &s.allowed),
        ("host_country", &s.host_countries),
    ] {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for (id, host, country) in list {
            let Some(host) = host_of(&mut report, table, *id, *host) else {
                continue;
            };
            let Some(country) = country.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
                skip(&mut report, format!("{table} {id}: no country"));
                continue;
            };
            if seen.insert((host, country.to_owned())) {
                rows.push(vec![(*id).into(), host.into(), country.into()]);
            }
        }
        let n = insert(conn, table, &["id", "host_id", "country"], rows).await?;
        report.imported.insert(table, n);
    }

    // Lookup tables keyed by their text.
    let countries: BTreeSet<&str> = s.countries.iter().map(String::as_str).collect();
    let n = insert(conn, "country", &["code"], countries.iter().map(|c| vec![(*c).into()])).await?;
    report.imported.insert("country", n);
    for (table, columns, list) in [
        ("country_continent_redirect", ["country", "continent"], &s.continents),
        ("netblock_country", ["netblock", "country"], &s.netblock_countries),
    ] {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for (key, value) in list {
            if seen.insert(key.as_str()) {
                rows.push(vec![key.clone().into(), value.clone().into()]);
            } else {
                skip(&mut report, format!("{table} {key}: duplicate"));
            }
        }
        let n = insert(conn, table, &columns, rows).await?;
        report.imported.insert(table, n);
    }
    let embargoed: BTreeSet<&str> = s.embargoed.iter().map(String::as_str).collect();
    let n = insert(
        conn,
        "embargoed_country",
        &["country_code"],
        embargoed.iter().map(|c| vec![(*c).into()]),
    )
    .await?;
    report.imported.insert("embargoed_country", n);

    db.resync_identities(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
}
