//! `mirrorvane serve`: the backend's web service ([`mirrorvane_web`]) — the snapshot for edges to poll
//! (`mirrorvane-edge --snapshot http://backend:8090/snapshot`), private mirrors' check-ins at `/xmlrpc` and
//! `/checkin/json`, crawl logs at `/crawler/<host>.log`, the web UI for mirror admins and the public pages — and,
//! with `--build-every`, a rebuild of the snapshot from the database on that period.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use tracing::{error, info};

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
    /// Sign the snapshots it builds with this secret key (`mirrorvane keygen`).
    #[arg(long, value_name = "FILE", env = "MIRRORVANE_SIGN_KEY")]
    pub sign_key: Option<PathBuf>,
    /// A file whose first line is the token `/snapshot` requires (`Authorization: Bearer TOKEN`): the snapshot
    /// lists private hosts and their netblocks.
    #[arg(long, value_name = "FILE")]
    pub snapshot_token_file: Option<PathBuf>,
    /// `/healthz` says degraded when the published snapshot is older than this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3 * 3600)]
    pub max_age: u64,
    /// Seconds a client has to send a request head (after connecting, or after the previous answer).
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0, value_parser = positive_seconds)]
    pub header_timeout: f64,
    /// Connections open at once; one more is answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Members of this account group are admins of the web UI and the API (MirrorManager's `ADMIN_GROUP`).
    #[arg(long, value_name = "GROUP", default_value = "sysadmin-main")]
    pub admin_group: String,
    /// A proxy in front (network, repeatable) whose `X-Forwarded-For` names the client: the sign-in limits then
    /// count per client address, not per proxy. Only the proxies that overwrite or append to the header.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Send the sign-in cookie over plain HTTP too (development only: without it browsers keep the cookie for
    /// HTTPS and localhost).
    #[arg(long)]
    pub insecure_cookies: bool,
}

/// Serves until the process is stopped. Prints `Listening on http://ADDR` once bound.
pub async fn run(db: Database, args: &Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let token = match &args.snapshot_token_file {
        Some(f) => {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
            let token = text.lines().next().unwrap_or_default().trim().to_owned();
            anyhow::ensure!(!token.is_empty(), "{}: the token is empty", f.display());
            Some(token)
        }
        None => None,
    };
    let build_status = mirrorvane_web::snapshot::BuildStatus::default();
    if args.build_every > 0 {
        let (db, every, status) = (db.clone(), Duration::from_secs(args.build_every), build_status.clone());
        let build = super::snapshot::Args {
            from_mm2_cache: None,
            output: args.snapshot.clone(),
            no_resolve: false,
            sign_key: args.sign_key.clone(),
        };
        tokio::spawn(async move {
            loop {
                match super::snapshot::run_from_database(&db, &build).await {
                    Ok(o) => {
                        status.succeeded();
                        info!("{}", o.summary());
                    }
                    Err(e) => {
                        error!("snapshot build failed; publishing the previous one: {e:#}");
                        status.failed(format!("{e:#}"));
                    }
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
            publishing: mirrorvane_web::snapshot::Publishing {
                token,
                max_age: Some(Duration::from_secs(args.max_age)),
                build: build_status,
            },
            accounts: mirrorvane_web::AccountsConfig {
                admin_group: args.admin_group.clone(),
                secure_cookies: !args.insecure_cookies,
                trusted_proxies: args.trusted_proxies.clone(),
                ..mirrorvane_web::AccountsConfig::default()
            },
        },
    )
    .context("compiling the web UI's templates")?;
    println!("Listening on http://{addr}");
    let limits = mirrorvane_web::ServeLimits {
        header_timeout: Duration::from_secs_f64(args.header_timeout),
        max_connections: args.max_connections as usize,
        ..mirrorvane_web::ServeLimits::default()
    };
    mirrorvane_web::serve(listener, router, limits).await.context("serving")
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!("{text:?} is not a number of seconds from 0 to 86400")),
    }
}
