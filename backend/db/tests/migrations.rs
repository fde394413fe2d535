//! Migrations on a database that already holds data: each engine's 0001 schema filled with rows, then every
//! later migration, keeping every row (SQLite rebuilds `repository` in 0002, which must not cascade into
//! `propagation_stat`).

use mirrorvane_db::testing::{Scratch, run};
use mirrorvane_db::{Database, Engine};

async fn upgrade_keeps_rows(engine: Engine) {
    let scratch = Scratch::new(engine).await;
    let db = Database::connect(&scratch.url).await.expect("connects");
    // Only the first migration, as a database created before the later ones existed.
    let dir = tempfile::tempdir().expect("tempdir");
    let flavour = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    std::fs::copy(
        format!("{}/migrations/{flavour}/0001_schema.sql", env!("CARGO_MANIFEST_DIR")),
        dir.path().join("0001_schema.sql"),
    )
    .expect("copy");
    let first = sqlx::migrate::Migrator::new(dir.path()).await.expect("migrator");
    first.run(db.pool()).await.expect("0001");
    for sql in [
        "INSERT INTO product (id, name) VALUES (1, 'Fedora')",
        "INSERT INTO category (id, name, product_id, topdir) VALUES (1, 'Fedora Linux', 1, 'pub/fedora/linux')",
        "INSERT INTO arch (id, name) VALUES (1, 'x86_64')",
        "INSERT INTO version (id, product_id, name) VALUES (1, 1, '41')",
        "INSERT INTO directory (id, name, category_id) VALUES (1, 'pub/fedora/linux/updates/41', 1)",
        "INSERT INTO repository (id, name, prefix, category_id, version_id, arch_id, directory_id, disabled) \
         VALUES (7, 'pub/fedora/linux/updates/41', 'updates-released-f41', 1, 1, 1, 1, TRUE)",
        "INSERT INTO propagation_stat (repository_id, datetime, same_day) VALUES (7, 100, 3)",
    ] {
        sqlx::query(sql)
            .execute(db.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    db.migrate().await.expect("the later migrations");
    let kept: (i64, String, Option<i64>) = sqlx::query_as("SELECT id, prefix, directory_id FROM repository")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(kept, (7, "updates-released-f41".into(), Some(1)));
    let stats: i64 = sqlx::query_scalar("SELECT same_day FROM propagation_stat WHERE repository_id = 7")
        .fetch_one(db.pool())
        .await
        .expect("propagation history kept");
    assert_eq!(stats, 3);
    // What 0002 is for: a vanished directory no longer takes its repository and history with it.
    sqlx::query("DELETE FROM directory WHERE id = 1")
        .execute(db.pool())
        .await
        .unwrap();
    let directory: Option<i64> = sqlx::query_scalar("SELECT directory_id FROM repository WHERE id = 7")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(directory, None);
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM propagation_stat")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(history, 1);
    // New tables and columns are there.
    let current: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM version WHERE NOT current")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(current, 1);
    db.close().await;
}

#[test]
fn sqlite_upgrade_keeps_rows() {
    run(upgrade_keeps_rows(Engine::Sqlite));
}

#[test]
fn postgres_upgrade_keeps_rows() {
    run(upgrade_keeps_rows(Engine::Postgres));
}
