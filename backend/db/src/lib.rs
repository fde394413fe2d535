//! Mirrorvane's database: one schema on two engines.
//!
//! SQLite is the embedded default (`sqlite://mirrorvane.db`), PostgreSQL the production engine (several backend
//! and crawler hosts share one database). Both are reached through sqlx's `Any` driver with the same SQL: `$N`
//! placeholders (SQLite accepts them), `BIGINT` seconds for times, `BOOLEAN` flags, `RETURNING id`. Each engine
//! has its own migrations (`backend/db/migrations/{sqlite,postgres}`) because identity columns and a few types are
//! spelled differently; they create the same tables and columns.

pub mod accounts;
pub mod audit;
pub mod bulk;
pub mod categories;
pub mod checkin;
pub mod countries;
pub mod crawl;
pub mod files;
mod flag;
pub mod import;
pub mod natural;
pub mod netblock;
pub mod password;
pub mod public;
pub mod repositories;
pub mod scan_lock;
pub mod sets;
pub mod sites;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;

pub use flag::{Flag, opt as opt_flag};
pub use natural::Key;
pub use sets::{DirectorySet, DirectorySetError};
/// A connection, for the queries of this crate's modules (a transaction derefs to one).
pub use sqlx::AnyConnection as Connection;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};

/// The environment variable naming the database when `--database` is not given.
pub const DATABASE_URL_ENV: &str = "MIRRORVANE_DATABASE_URL";
/// The database used when neither `--database` nor the environment names one.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://mirrorvane.db";

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database engine a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `sqlite://path`, `sqlite::memory:`.
    Sqlite,
    /// `postgres://…`, `postgresql://…`.
    Postgres,
}

impl Engine {
    /// The engine of `url`, from its scheme.
    pub fn of(url: &str) -> Result<Engine, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(redact(url)))
        }
    }
}

/// What can go wrong opening or using the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is neither `sqlite:` nor `postgres(ql)://`.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// Connecting failed.
    #[error("cannot open database {url}")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed; the database is left at the last migration that succeeded.
    #[error("cannot migrate database {url}")]
    Migrate {
        /// The URL, password removed.
        url: String,
        /// Why.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// Stored data breaks a rule the schema cannot express.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
    /// A write this layer does not offer (a caller's bug, reported rather than run).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// A transaction on the database.
pub type Transaction<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// An open database with its schema migrated.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    engine: Engine,
    url: String,
}

impl Database {
    /// Opens `url` and brings its schema up to date (creating a SQLite file if it does not exist).
    pub async fn open(url: &str) -> Result<Database, DbError> {
        let db = Database::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Opens `url` without migrating; [`Database::migrate`] does that.
    pub async fn connect(url: &str) -> Result<Database, DbError> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of(url)?;
        let shown = redact(url);
        let connect_url = match engine {
            // Create the file on first use; the embedded default must work on a fresh machine.
            Engine::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&connect_url)
            .map_err(|source| DbError::Connect {
                url: shown.clone(),
                source,
            })?
            .log_statements(tracing::log::LevelFilter::Trace);
        // One direct connection first: a pool retries until its acquire timeout and then reports only that it
        // timed out; this says at once why (refused, unknown database, bad password, unwritable file).
        let probe = <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options)
            .await
            .map_err(|source| DbError::Connect {
                url: shown.clone(),
                source,
            })?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = AnyPoolOptions::new()
            // SQLite writes are serialised anyway; one connection also keeps `sqlite::memory:` a single database.
            .max_connections(if engine == Engine::Sqlite { 1 } else { 8 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| DbError::Connect {
                url: shown.clone(),
                source,
            })?;
        Ok(Database {
            pool,
            engine,
            url: shown,
        })
    }

    /// Applies the migrations that have not run yet. Safe to call from several processes at once (sqlx takes
    /// an advisory lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|source| DbError::Migrate {
            url: self.url.clone(),
            source,
        })
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A connection from the pool.
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, DbError> {
        Ok(self.pool.acquire().await?)
    }

    /// A transaction: everything written through it lands together at [`Transaction::commit`] or not at all.
    pub async fn begin(&self) -> Result<Transaction<'static>, DbError> {
        Ok(self.pool.begin().await?)
    }

    /// A read-only transaction that sees one consistent view of the database, whatever commits meanwhile
    /// (repeatable read on PostgreSQL; a SQLite transaction reads one snapshot of its write-ahead log).
    pub async fn begin_consistent_read(&self) -> Result<Transaction<'static>, DbError> {
        let mut tx = self.pool.begin().await?;
        if self.engine == Engine::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// The engine behind this database.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The URL, with any password removed (for messages).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes every connection (SQLite then checkpoints its write-ahead log).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// After rows were inserted with explicit ids (imports), moves PostgreSQL's identity sequences past them so
    /// later inserts do not collide. SQLite's AUTOINCREMENT follows by itself. Run it on the importing
    /// transaction, so the rows and their sequences commit together.
    pub async fn resync_identities(&self, conn: &mut Connection) -> Result<(), DbError> {
        if self.engine != Engine::Postgres {
            return Ok(());
        }
        for table in IDENTITY_TABLES {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(COALESCE(MAX(id), 0), 1), \
                 MAX(id) IS NOT NULL) FROM {table}"
            );
            sqlx::query(&sql).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Tables with an identity `id` column.
const IDENTITY_TABLES: &[&str] = &[
    "product",
    "category",
    "arch",
    "version",
    "directory",
    "file_detail",
    "repository",
    "repository_redirect",
    "site",
    "site_admin",
    "host",
    "directory_set",
    "host_category",
    "host_category_url",
    "host_netblock",
    "host_peer_asn",
    "host_country_allowed",
    "host_country",
    "host_acl_ip",
    "access_stat_category",
];

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_and_redaction() {
        assert_eq!(Engine::of("sqlite://x.db").unwrap(), Engine::Sqlite);
        assert_eq!(Engine::of("sqlite::memory:").unwrap(), Engine::Sqlite);
        assert_eq!(Engine::of("postgres://u@h/db").unwrap(), Engine::Postgres);
        assert_eq!(Engine::of("postgresql://u@h/db").unwrap(), Engine::Postgres);
        let err = Engine::of("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(err.contains("mysql://u:***@h/db") && !err.contains("secret"), "{err}");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
