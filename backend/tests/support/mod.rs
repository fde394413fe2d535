//! Fresh databases for tests, on both engines: a SQLite file in a temporary directory, and a PostgreSQL database
//! of its own (created on the server at `MIRRORVANE_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`,
//! and dropped afterwards), so tests run in parallel without seeing each other.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use mirrorvane_backend::db::{Database, Engine};
use sqlx::Connection;

/// The server the PostgreSQL tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("MIRRORVANE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database that exists for one test.
pub struct TestDb {
    pub db: Database,
    pub url: String,
    engine: Engine,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// An empty, migrated database on `engine`.
    pub async fn new(engine: Engine) -> TestDb {
        let (url, name, dir) = Self::fresh_url(engine).await;
        let db = Database::open(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e:#}"));
        TestDb {
            db,
            url,
            engine,
            name,
            _dir: dir,
        }
    }

    /// A URL for an empty database that does not exist yet (SQLite) or has no tables (PostgreSQL).
    pub async fn fresh_url(engine: Engine) -> (String, String, Option<tempfile::TempDir>) {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("mirrorvane.db").display());
                (url, String::new(), Some(dir))
            }
            Engine::Postgres => {
                let name = format!(
                    "mv_test_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed by the tests: {e}"));
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("drop");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                (format!("{base}/{name}"), name, None)
            }
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Closes the pool and drops a PostgreSQL database.
    pub async fn finish(self) {
        self.db.close().await;
        if self.engine == Engine::Postgres {
            drop_database(&self.name).await;
        }
    }
}

pub async fn drop_database(name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

/// Both engines, for `for engine in ENGINES`.
pub const ENGINES: [Engine; 2] = [Engine::Sqlite, Engine::Postgres];

/// Runs an async test body on the test binary's one runtime (pools outlive a single `run`, so they must stay
/// on the runtime that opened them).
pub fn run<F: std::future::Future<Output = ()>>(f: F) {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime")
        })
        .block_on(f)
}
