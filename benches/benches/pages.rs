//! The web service's pages on the Fedora-scale dataset (400 hosts, 25,000 directories, ~4,000 repositories),
//! imported into SQLite outside the timed part: each page answered in-process (routing, database, rendering,
//! the whole body), as an admin signed in, so every page is reachable. `/` (a page that reads one session row and
//! renders a short template) is the same-run baseline.
//!
//! The dataset is `$MIRRORVANE_FEDORA_SCALE` or `../shared/data/fedora-scale`; without it the benchmark says
//! SKIPPED and measures nothing.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use mirrorvane_backend::commands::import_cache;
use mirrorvane_db::{Database, accounts, sites};
use tower::ServiceExt;

fn dataset() -> Option<PathBuf> {
    let dir = std::env::var_os("MIRRORVANE_FEDORA_SCALE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fedora-scale"));
    let cache = dir.join("cache-fedora.proto.gz");
    cache.exists().then_some(cache)
}

const TOKEN: &str = "bench-session-token";

/// The dataset in a new SQLite database, with an admin signed in (session token [`TOKEN`]).
async fn setup(dir: &std::path::Path, cache: PathBuf) -> (Database, i64, i64) {
    let db = Database::open(&format!("sqlite://{}", dir.join("pages.db").display()))
        .await
        .expect("database");
    let args = import_cache::Args {
        cache,
        product: "Fedora".to_owned(),
    };
    import_cache::run(&db, &args).await.expect("imports the dataset");
    let mut conn = db.acquire().await.expect("connection");
    let id = accounts::create(&mut conn, "root", "", None, 0)
        .await
        .expect("account")
        .expect("new");
    accounts::add_group(&mut conn, id, "sysadmin-main")
        .await
        .expect("group");
    let token = mirrorvane_web::accounts::digest(TOKEN);
    accounts::create_session(&mut conn, &token, id, "csrf", 0, i64::MAX)
        .await
        .expect("session");
    let hosts = sites::hosts(&mut conn).await.expect("hosts");
    let busiest = hosts.iter().max_by_key(|h| h.bandwidth_int).expect("hosts");
    (db.clone(), busiest.site_id, busiest.id)
}

fn pages(c: &mut Criterion) {
    let Some(cache) = dataset() else {
        eprintln!(
            "\n*** SKIPPED: pages benchmark: the Fedora-scale dataset is not there (set MIRRORVANE_FEDORA_SCALE) ***\n"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, site, host) = rt.block_on(setup(dir.path(), cache));
    let config = mirrorvane_web::Config {
        snapshot: dir.path().join("none.snapshot"),
        limits: mirrorvane_web::checkin::Limits::default(),
        publishing: mirrorvane_web::snapshot::Publishing::default(),
        accounts: mirrorvane_web::AccountsConfig::default(),
    };
    let router = mirrorvane_web::router(db, config).expect("templates");
    let get = |path: String| {
        let router = router.clone();
        async move {
            let request = Request::get(&path)
                .header("cookie", format!("mirrorvane_session={TOKEN}"))
                .body(Body::empty())
                .expect("request");
            let response = router.oneshot(request).await.expect("answer");
            assert_eq!(response.status(), 200, "{path}");
            response.into_body().collect().await.expect("body").to_bytes().len()
        }
    };
    let mut g = c.benchmark_group("pages");
    g.sample_size(20);
    for path in [
        "/".to_owned(),
        "/mirrors".to_owned(),
        "/mirrors/Fedora?country=US".to_owned(),
        format!("/site/{site}"),
        format!("/host/{host}"),
        "/site/mine".to_owned(),
        "/admin/all_sites".to_owned(),
        "/api/repositories".to_owned(),
    ] {
        g.bench_function(path.clone(), |b| b.iter(|| rt.block_on(get(path.clone()))));
    }
    g.finish();
}

criterion_group!(benches, pages);
criterion_main!(benches);
