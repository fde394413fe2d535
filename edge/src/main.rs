//! `mirrorvane-edge`: serve metalinks and mirrorlists from a snapshot.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use mirrorvane_edge::source::{Intervals, Source};
use mirrorvane_edge::{Config, geo, serve_loading};
use mirrorvane_selector::Locate;

/// Answers dnf/yum `…/metalink` and `…/mirrorlist` requests from a Mirrorvane snapshot.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Snapshot file, or http:// or https:// URL to poll (with ETag).
    #[arg(long)]
    snapshot: String,
    /// GeoIP2/GeoLite2 Country or City database, or an ip-location-db country mmdb.
    #[arg(long)]
    geoip: PathBuf,
    /// Client ASNs: a GeoLite2-ASN-style mmdb or MirrorManager's global_netblocks.txt.
    #[arg(long)]
    asn: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Fewer content-carrying hosts than this near the client adds the global list.
    #[arg(long, default_value_t = 5)]
    minimum: usize,
    /// Do not put hosts known not to answer over the client's address family (IPv4/IPv6) last in their tier:
    /// MirrorManager's order, byte for byte.
    #[arg(long)]
    no_family_preference: bool,
    /// Access log (MirrorManager's format, input of the statistics).
    #[arg(long)]
    access_log: Option<PathBuf>,
    /// Seconds between checks of a snapshot file for changes.
    #[arg(long, default_value_t = 2.0)]
    watch_interval: f64,
    /// Seconds between polls of a snapshot URL.
    #[arg(long, default_value_t = 30.0)]
    poll_interval: f64,
    /// Threads serving connections (default: one per available core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,
    /// Seconds a client has to send a request's head, after connecting or after the previous answer on a
    /// kept-alive connection (slow senders and idle connections are closed).
    #[arg(long, default_value_t = 20.0)]
    header_timeout: f64,
    /// Connections one worker thread holds at once; more are answered 503 and closed.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Largest request head (request line and headers) in bytes; larger ones are answered 431.
    #[arg(long, default_value_t = 16384, value_parser = clap::value_parser!(u32).range(8192..=1_048_576))]
    max_head_bytes: u32,
    /// Also speak HTTP/2 without TLS (h2c) on the request port.
    #[arg(long)]
    h2c: bool,
    /// Believe X-Forwarded-For only from peers in this network (repeatable). Without it the header is believed
    /// from everyone, as MirrorManager does — right only behind a proxy that always sets it.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Who gets `explain=1` answered: off, local (this machine and trusted proxies' networks) or public.
    #[arg(long, default_value = "local", value_name = "WHO")]
    explain: mirrorvane_edge::Explain,
    /// Serve /metrics and /healthz on this address too, and /metrics only there (otherwise /metrics answers
    /// only this machine and trusted networks).
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
    /// Accept only snapshots signed by this key (`mirrorvane keygen` prints it): the key itself or a file
    /// holding it. Repeatable (for a key change).
    #[arg(long = "public-key", value_name = "KEY|FILE")]
    public_keys: Vec<String>,
    /// A file whose first line is the bearer token of the snapshot URL (`mirrorvane serve
    /// --snapshot-token-file`).
    #[arg(long, value_name = "FILE")]
    snapshot_token_file: Option<PathBuf>,
    /// Keep the last snapshot fetched from the URL in this file, and start from it when the URL cannot be
    /// reached.
    #[arg(long, value_name = "FILE")]
    cache: Option<PathBuf>,
    /// /healthz says degraded (and the age metric keeps rising) when the backend has not confirmed the snapshot
    /// for this many seconds.
    #[arg(long, default_value_t = 3.0 * 3600.0)]
    max_age: f64,
    /// Seconds a snapshot fetch may take in all (connecting: at most 10).
    #[arg(long, default_value_t = 300.0)]
    fetch_timeout: f64,
    /// Largest snapshot accepted from a URL, in bytes (checked before downloading when announced).
    #[arg(long, default_value_t = 1 << 30)]
    max_snapshot_bytes: u64,
    /// Seconds to keep trying the snapshot URL at start when it cannot be fetched and no cached copy (--cache)
    /// serves — the backend may be starting too; then the edge gives up, saying why. 0 gives up at once. A
    /// refused snapshot (signature, format) is not retried.
    #[arg(long, default_value_t = 60.0)]
    startup_wait: f64,
}

/// `--public-key`: a key, or a file holding one.
fn public_key(value: &str) -> anyhow::Result<mirrorvane_signature::PublicKey> {
    if let Ok(k) = mirrorvane_signature::PublicKey::from_text(value) {
        return Ok(k);
    }
    let text = std::fs::read_to_string(value)
        .with_context(|| format!("--public-key {value:?} is neither a key nor a readable file"))?;
    mirrorvane_signature::PublicKey::from_text(&text).with_context(|| format!("{value}: not a public key"))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let secs = |s: f64, what: &str| {
        anyhow::ensure!(
            s.is_finite() && s > 0.0,
            "--{what} must be a positive number of seconds"
        );
        Ok(Duration::from_secs_f64(s))
    };
    let config = Config {
        listen: args.listen,
        minimum: args.minimum,
        family_preference: !args.no_family_preference,
        source: Source::parse(&args.snapshot)?,
        intervals: Intervals {
            file: secs(args.watch_interval, "watch-interval")?,
            url: secs(args.poll_interval, "poll-interval")?,
        },
        access_log: args.access_log,
        limits: mirrorvane_edge::Limits {
            header_timeout: secs(args.header_timeout, "header-timeout")?,
            max_connections: args.max_connections as usize,
            max_head_bytes: args.max_head_bytes as usize,
            h2c: args.h2c,
        },
        trust: mirrorvane_edge::Trust {
            proxies: (!args.trusted_proxies.is_empty()).then(|| args.trusted_proxies.clone()),
            explain: args.explain,
            metrics_on_public_port: args.admin_listen.is_none(),
        },
        admin_listen: args.admin_listen,
        fetch: mirrorvane_edge::source::Fetch {
            public_keys: args
                .public_keys
                .iter()
                .map(|k| public_key(k))
                .collect::<anyhow::Result<_>>()?,
            token: args
                .snapshot_token_file
                .as_ref()
                .map(|f| {
                    std::fs::read_to_string(f)
                        .with_context(|| format!("cannot read {}", f.display()))
                        .map(|t| t.lines().next().unwrap_or_default().trim().to_owned())
                })
                .transpose()?,
            cache: args.cache.clone(),
            max_bytes: args.max_snapshot_bytes,
            connect_timeout: Duration::from_secs(10).min(secs(args.fetch_timeout, "fetch-timeout")?),
            timeout: secs(args.fetch_timeout, "fetch-timeout")?,
            startup_wait: Duration::try_from_secs_f64(args.startup_wait)
                .ok()
                .context("--startup-wait must be a number of seconds, 0 or more")?,
        },
        max_age: Some(secs(args.max_age, "max-age")?),
        workers: Some(match args.workers {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }),
    };
    let (geoip, asn) = (args.geoip, args.asn);
    let load_locator = move || -> anyhow::Result<Arc<dyn Locate + Send + Sync>> {
        let country = geo::CountryDb::open(&geoip).context("loading the GeoIP country database")?;
        let asn = asn
            .as_deref()
            .map(geo::AsnSource::open)
            .transpose()
            .context("loading the ASN data")?;
        Ok(Arc::new(geo::GeoLocator::new(country, asn)))
    };
    // This thread loads the data and then only watches for new snapshots; the workers serve.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(serve_loading(config, load_locator, |addr| {
        println!("Listening on http://{addr}");
    }))
}
