//! `mirrorvane serve`: the backend's web service ([`mirrorvane_web`]) — the snapshot for edges to poll
//! (`mirrorvane-edge --snapshot http://backend:8090/snapshot`), private mirrors' check-ins at `/xmlrpc` and
//! `/checkin/json`, crawl logs at `/crawler/<host>.log` — and, with `--build-every`, a rebuild of the snapshot
//! from the database on that period.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use tracing::{info, warn};

use crate::db::Database;

/// Arguments of `mirrorvane serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The snapshot file to publish.
    #[arg(long, value_name = "PATH", default_value = "mirrorvane.snapshot")]
    pub snapshot: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Rebuild the snapshot from the database this often (seconds); 0 = only publish what is on disk.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub build_every: u64,
}

/// Serves until the process is stopped. Prints `Listening on http://ADDR` once bound.
pub async fn run(db: Database, args: &Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    if args.build_every > 0 {
        let (db, every, output) = (db.clone(), Duration::from_secs(args.build_every), args.snapshot.clone());
        tokio::spawn(async move {
            loop {
                let build = super::snapshot::Args {
                    from_mm2_cache: None,
                    output: output.clone(),
                    no_resolve: false,
                };
                match super::snapshot::run_from_database(&db, &build).await {
                    Ok(o) => info!("{}", o.summary()),
                    Err(e) => warn!("snapshot build failed; publishing the previous one: {e:#}"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }
    let router = mirrorvane_web::router(
        db,
        mirrorvane_web::Config {
            snapshot: args.snapshot.clone(),
            limits: mirrorvane_web::checkin::Limits::default(),
        },
    );
    println!("Listening on http://{addr}");
    axum::serve(listener, router).await.context("serving")
}
