//! Fresh databases for tests, on both engines (feature `testing`): a SQLite file in a temporary directory, and a
//! PostgreSQL database of its own, created on the server at `MIRRORVANE_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and dropped when the [`TestDb`] is, so tests run in parallel without
//! seeing each other and leave nothing behind even when they fail.
//!
//! [`engine_tests!`](crate::engine_tests) writes one test per engine, named for it, from one body:
//!
//! ```ignore
//! mirrorvane_db::engine_tests! {
//!     /// Applying twice changes nothing the second time.
//!     async fn apply_is_idempotent(t) {
//!         let db = &t.db;
//!         // …
//!     }
//! }
//! ```
//!
//! gives `apply_is_idempotent::sqlite` and `apply_is_idempotent::postgres`.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use crate::{Database, Engine};

/// The server the PostgreSQL tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("MIRRORVANE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A migrated database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// The open database.
    pub db: Database,
    /// Its URL (for the `mirrorvane` binary).
    pub url: String,
    scratch: Scratch,
}

/// An empty database that no process has opened yet: a SQLite path in a temporary directory, or a PostgreSQL
/// database without tables. Dropped with the value.
#[derive(Debug)]
pub struct Scratch {
    /// Its URL.
    pub url: String,
    engine: Engine,
    /// The PostgreSQL database's name (empty for SQLite).
    name: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Scratch {
    /// A new empty database on `engine`.
    pub async fn new(engine: Engine) -> Scratch {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("mirrorvane-test-")
                    .tempdir()
                    .expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("mirrorvane.db").display());
                Scratch {
                    url,
                    engine,
                    name: String::new(),
                    _dir: Some(dir),
                }
            }
            Engine::Postgres => {
                let name = format!(
                    "mv_test_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("the tests need PostgreSQL at {admin} (set MIRRORVANE_TEST_POSTGRES to use another): {e}")
                });
                for sql in [
                    format!("DROP DATABASE IF EXISTS {name}"),
                    format!("CREATE DATABASE {name}"),
                ] {
                    sqlx::query(&sql)
                        .execute(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                Scratch {
                    url: format!("{base}/{name}"),
                    engine,
                    name,
                    _dir: None,
                }
            }
        }
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.engine != Engine::Postgres {
            return;
        }
        // Drop may run inside the tests' runtime, which cannot block on itself: a thread of its own with a
        // runtime of its own does the asynchronous work.
        let name = std::mem::take(&mut self.name);
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

impl TestDb {
    /// An empty, migrated database on `engine`.
    pub async fn new(engine: Engine) -> TestDb {
        let scratch = Scratch::new(engine).await;
        let url = scratch.url.clone();
        let db = Database::open(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e:#}"));
        TestDb { db, url, scratch }
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.scratch.engine
    }
}

/// Runs an async test body on the test binary's one runtime: pools outlive a single call, so they must stay on
/// the runtime that opened them.
pub fn run<T>(f: impl Future<Output = T>) -> T {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
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

/// Runs `case` on a fresh [`TestDb`] of `engine` (what [`engine_tests!`](crate::engine_tests) expands to).
pub fn run_case<F, Fut>(engine: Engine, case: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    run(async move {
        let t = TestDb::new(engine).await;
        case(t).await;
    });
}

/// One test per engine from one async body: `async fn name(t) { … }` becomes the module `name` with the tests
/// `sqlite` and `postgres`, each given a fresh [`TestDb`] as `t`. Doc comments document the module; an
/// `#[ignore = "why"]` after them marks both tests.
#[macro_export]
macro_rules! engine_tests {
    ($($(#[doc = $doc:expr])* $(#[ignore = $why:literal])? async fn $name:ident($t:ident) $body:block)*) => {
        $(
            $(#[doc = $doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn case($t: $crate::testing::TestDb) $body

                #[test]
                $(#[ignore = $why])?
                fn sqlite() {
                    $crate::testing::run_case($crate::Engine::Sqlite, case);
                }

                #[test]
                $(#[ignore = $why])?
                fn postgres() {
                    $crate::testing::run_case($crate::Engine::Postgres, case);
                }
            }
        )*
    };
}
