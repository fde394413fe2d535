//! `mirrorvane scan` of a primary tree from disk into SQLite: a first scan (every directory new) and an
//! unchanged rescan (every ctime equal, no file list read), over a Fedora-like tree of about 2,300 directories
//! with real repodata. Writing the tree and opening databases happen outside the timed part.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mirrorvane_db::Database;
use mirrorvane_scan::store::{ScanOptions, Source, scan_category};
use mirrorvane_testkit::tree;

const NOW: u64 = 1_790_000_000;

/// The tree's product and categories, as `mirrorvane apply` would store them.
async fn fresh_database(dir: &std::path::Path, n: usize) -> Database {
    let url = format!("sqlite://{}", dir.join(format!("scan-{n}.db")).display());
    let db = Database::open(&url).await.expect("database");
    for (i, (name, product, topdir)) in tree::CATEGORIES.iter().enumerate() {
        for sql in [
            format!("INSERT INTO product (id, name) VALUES ({}, '{product}')", i + 1),
            format!(
                "INSERT INTO category (name, product_id, topdir) VALUES ('{name}', {}, '{topdir}')",
                i + 1
            ),
        ] {
            sqlx::query(&sql).execute(db.pool()).await.expect("seed");
        }
    }
    for arch in ["x86_64", "aarch64", "source"] {
        sqlx::query("INSERT INTO arch (name) VALUES ($1)")
            .bind(arch)
            .execute(db.pool())
            .await
            .expect("arch");
    }
    db
}

async fn scan_all(db: &Database, root: &std::path::Path) -> u64 {
    let mut seen = 0;
    for (name, _, topdir) in tree::CATEGORIES {
        let source = Source::Disk {
            path: root.join(topdir),
        };
        seen += scan_category(db, name, &source, &ScanOptions::new(NOW as i64))
            .await
            .expect("scans")
            .directories_seen;
    }
    seen
}

fn scan(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("primary");
    tree::write_scaled(&root, NOW - 3600, 100).expect("tree");
    let mut n = 0;
    let seen = runtime.block_on(async {
        let db = fresh_database(dir.path(), n).await;
        scan_all(&db, &root).await
    });
    eprintln!("scan benchmark tree: {seen} directories");

    let mut group = c.benchmark_group("scan");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("first_scan_sqlite", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                total += runtime.block_on(async {
                    let db = fresh_database(dir.path(), n).await;
                    let start = Instant::now();
                    scan_all(&db, &root).await;
                    let took = start.elapsed();
                    db.close().await;
                    took
                });
            }
            total
        });
    });
    let db = runtime.block_on(async {
        n += 1;
        let db = fresh_database(dir.path(), n).await;
        scan_all(&db, &root).await;
        db
    });
    group.bench_function("unchanged_rescan_sqlite", |b| {
        b.iter(|| runtime.block_on(scan_all(&db, &root)));
    });
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
