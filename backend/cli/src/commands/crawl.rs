//! `mirrorvane crawl`, `crawl-log`, `propagation` and `version`: MirrorManager's `mm2_crawler` and
//! `mm2_propagation` (reference §5.3–5.5) on our database, and the flag that says which versions propagation
//! follows.
//!
//! A crawl shares its hosts with every other crawler process on the same database through leases, so two
//! crawler machines may run at once (`--fraction` also splits statically). At the end it counts propagation from
//! what it saw and deletes the directory sets no host points at any more.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mirrorvane_crawler::{self as crawler, Names, Outcome};
use mirrorvane_db::crawl::{self, HostFilter, PropagationRow};
use mirrorvane_db::{repositories, sets};

use crate::db::Database;

/// The contact every crawler request names (MirrorManager's crawler sends its own User-Agent, and mirror admins
/// look it up when a crawler misbehaves).
pub const DEFAULT_USER_AGENT: &str = concat!(
    "mirrorvane-crawler/",
    env!("CARGO_PKG_VERSION"),
    " (+https://mirrors.fedoraproject.org/; mirror-admin@lists.fedoraproject.org)"
);

/// Arguments of `mirrorvane crawl`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only hosts carrying this category, and only it is crawled (repeatable).
    #[arg(long = "category", value_name = "NAME")]
    pub categories: Vec<String>,
    /// Only this host, by name (repeatable).
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Only the i-th of n equal slices of the hosts (by id), e.g. `1:2` on one crawler machine and `2:2` on the
    /// other.
    #[arg(long, value_name = "I:N", value_parser = parse_fraction)]
    pub fraction: Option<(usize, usize)>,
    /// Hosts crawled at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Requests in flight to one host at most.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub per_host: u32,
    /// Seconds one host's crawl may take; then it ends as a timeout.
    #[arg(long, value_name = "S", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub host_timeout: u64,
    /// Seconds the whole run may take; hosts not finished by then are left as they were.
    #[arg(long, value_name = "S", default_value_t = 6 * 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub global_timeout: u64,
    /// Seconds one request may take before it is retried.
    #[arg(long, value_name = "S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub request_timeout: u64,
    /// Tries after a request times out (with backoff).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Pushes of a repomd.xml behind the newest that still count as up to date (dnf accepts them through the
    /// metalink's alternates).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=16))]
    pub pushes_behind: u32,
    /// Consecutive failed crawls after which a host is disabled.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub auto_disable: u32,
    /// Seconds another crawler process keeps off a host this one took (default: the host timeout + 5 minutes).
    #[arg(long, value_name = "S")]
    pub lease: Option<u64>,
    /// Also crawl hosts that are disabled (by their admins or by the crawler).
    #[arg(long)]
    pub include_disabled: bool,
    /// Also crawl private hosts (they normally check in).
    #[arg(long)]
    pub include_private: bool,
    /// Resolve a host name to fixed addresses: `NAME=ADDR[,ADDR…]` (repeatable).
    #[arg(long = "resolve", value_name = "NAME=ADDR", value_parser = Names::parse_fixed)]
    pub resolve: Vec<(String, Vec<std::net::IpAddr>)>,
    /// Trust this PEM certificate (file of one or more) for HTTPS besides the system's roots (repeatable).
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// The User-Agent of HTTP requests.
    #[arg(long, value_name = "TEXT", default_value = DEFAULT_USER_AGENT)]
    pub user_agent: String,
    /// Names this process in leases and logs (default: the machine's host name and the process id).
    #[arg(long, value_name = "NAME")]
    pub crawler_name: Option<String>,
    /// The rsync program.
    #[arg(long, value_name = "PATH", default_value = "rsync")]
    pub rsync: String,
    /// Do not count propagation statistics after the crawl.
    #[arg(long)]
    pub no_propagation: bool,
}

impl Default for Args {
    fn default() -> Args {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            args: Args,
        }
        Wrap::parse_from(["crawl"]).args
    }
}

fn parse_fraction(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{text:?}: expected I:N with 1 ≤ I ≤ N, e.g. 1:2");
    let (i, n) = text.split_once(':').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// What `crawl` did: the run's report and the propagation rows it counted.
#[derive(Debug)]
pub struct Crawled {
    pub report: crawler::Report,
    pub propagation: Vec<PropagationRow>,
    pub sets_deleted: u64,
}

/// The crawler's options from the arguments.
pub fn options(args: &Args) -> anyhow::Result<crawler::Options> {
    let name = args.crawler_name.clone().unwrap_or_else(default_crawler_name);
    let mut o = crawler::Options::new(name, args.user_agent.clone());
    o.filter = HostFilter {
        categories: Vec::new(),
        hosts: args.hosts.clone(),
        include_disabled: args.include_disabled,
        include_private: args.include_private,
    };
    o.categories = args.categories.clone();
    o.fraction = args.fraction;
    o.concurrency = args.concurrency as usize;
    o.per_host = args.per_host as usize;
    o.host_timeout = Duration::from_secs(args.host_timeout);
    o.global_timeout = Duration::from_secs(args.global_timeout);
    o.request_timeout = Duration::from_secs(args.request_timeout);
    o.retries = args.retries;
    o.pushes_behind = args.pushes_behind as usize;
    o.auto_disable = i64::from(args.auto_disable);
    o.lease = Duration::from_secs(args.lease.unwrap_or(args.host_timeout + 300));
    if o.lease < o.host_timeout {
        bail!(
            "--lease ({} s) is shorter than --host-timeout ({} s): another crawler could take a host this one is \
             still crawling",
            o.lease.as_secs(),
            o.host_timeout.as_secs()
        );
    }
    o.ca_files = args.ca_files.clone();
    o.names = Names::with_fixed(args.resolve.iter().cloned().collect());
    o.rsync = args.rsync.clone();
    Ok(o)
}

/// `hostname:pid`, so two crawler machines (or two processes on one) tell their leases and logs apart.
fn default_crawler_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "crawler".into());
    format!("{host}:{}", std::process::id())
}

/// Runs `mirrorvane crawl`: the crawl with a progress bar, then propagation and the sets' garbage collection;
/// prints the summary line.
pub async fn run(db: &Database, args: &Args) -> anyhow::Result<Crawled> {
    let options = options(args)?;
    check_categories(db, &options.categories).await?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} hosts ({elapsed}) {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = {
        let bar = bar.clone();
        move |done: usize, total: usize, host: &str, outcome: Outcome| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("{host}: {}", outcome.name()));
            if outcome != Outcome::Success {
                bar.suspend(|| tracing::info!(host, outcome = outcome.name(), "crawled"));
            }
        }
    };
    let report = crawler::crawl(db, &options, &progress).await.context("crawl failed")?;
    bar.finish_and_clear();
    let propagation = if args.no_propagation {
        Vec::new()
    } else {
        crawler::propagation::record(db, crawler::log::now_seconds())
            .await
            .context("cannot count propagation")?
            .into_iter()
            .map(|(_, row)| row)
            .collect()
    };
    let sets_deleted = {
        let mut tx = db.begin().await?;
        let n = sets::collect_garbage(&mut tx).await?;
        tx.commit().await.map_err(mirrorvane_db::DbError::from)?;
        n
    };
    println!(
        "{report}; {} propagation rows; {} unused directory sets deleted",
        propagation.len(),
        sets_deleted
    );
    Ok(Crawled {
        report,
        propagation,
        sets_deleted,
    })
}

/// An unknown `--category` is a typo, not "crawl nothing".
async fn check_categories(db: &Database, names: &[String]) -> anyhow::Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let mut conn = db.acquire().await?;
    let known = mirrorvane_db::categories::category_names(&mut conn).await?;
    for n in names {
        if !known.contains(n) {
            bail!("no category named {n:?}");
        }
    }
    Ok(())
}

/// Arguments of `mirrorvane crawl-log`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// The host, by name or id.
    pub host: String,
    /// Every stored log (the last 20 crawls), newest first, instead of the last one.
    #[arg(long)]
    pub all: bool,
}

/// Prints a host's last crawl log (or all kept ones).
pub async fn run_log(db: &Database, args: &LogArgs) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let Some(host) = crawl::host_id(&mut conn, &args.host).await? else {
        bail!("no host named {:?}", args.host);
    };
    let logs = crawl::logs(&mut conn, host, if args.all { crawl::LOGS_KEPT } else { 1 }).await?;
    if logs.is_empty() {
        bail!("host {:?} has not been crawled yet", args.host);
    }
    for log in logs {
        print!("{}", log.text);
    }
    Ok(())
}

/// Arguments of `mirrorvane propagation`.
#[derive(Debug, Clone, clap::Args)]
pub struct PropagationArgs {
    /// Print the stored rows of the repositories (newest first, this many each) instead of counting new ones.
    #[arg(long, value_name = "N")]
    pub show: Option<i64>,
}

/// Counts propagation now from the crawls' observations (or shows the stored rows) and prints a table.
pub async fn run_propagation(db: &Database, args: &PropagationArgs) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let followed = crawl::followed_repositories(&mut conn).await?;
    if followed.is_empty() {
        bail!("no repository is followed: mark the current versions with `mirrorvane version current PRODUCT VERSION`");
    }
    let rows: Vec<(String, PropagationRow)> = match args.show {
        Some(n) => {
            let mut out = Vec::new();
            for repo in &followed {
                for row in crawl::propagation(&mut conn, repo.id, n.max(1)).await? {
                    out.push((format!("{}/{}", repo.prefix, repo.arch), row));
                }
            }
            out
        }
        None => {
            drop(conn);
            crawler::propagation::record(db, crawler::log::now_seconds())
                .await?
                .into_iter()
                .map(|(repo, row)| (format!("{}/{}", repo.prefix, repo.arch), row))
                .collect()
        }
    };
    println!(
        "{:<40} {:>20} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "repository", "counted", "same day", "1 day", "2 days", "older", "no info"
    );
    for (name, r) in &rows {
        println!(
            "{:<40} {:>20} {:>8} {:>8} {:>8} {:>8} {:>8}",
            name,
            crawler::log::time_text(r.datetime),
            r.same_day,
            r.one_day,
            r.two_day,
            r.older,
            r.no_info
        );
    }
    eprintln!(
        "propagation: {} rows for {} followed repositories",
        rows.len(),
        followed.len()
    );
    Ok(())
}

/// `mirrorvane version …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum VersionCommand {
    /// List the versions, with whether propagation follows them.
    List,
    /// Follow a version's repositories in the propagation statistics (it is a current release).
    Current(VersionArgs),
    /// Stop following a version (it reached end of life).
    NotCurrent(VersionArgs),
}

/// Which version.
#[derive(Debug, Clone, clap::Args)]
pub struct VersionArgs {
    /// The product (e.g. `Fedora`).
    pub product: String,
    /// The version (e.g. `41`).
    pub version: String,
}

/// Runs `mirrorvane version …`.
pub async fn run_version(db: &Database, cmd: &VersionCommand) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let (args, current) = match cmd {
        VersionCommand::List => {
            println!(
                "{:<24} {:<16} {:>5} {:>8} {:>12}",
                "product", "version", "test", "current", "repositories"
            );
            for v in repositories::version_list(&mut conn).await? {
                println!(
                    "{:<24} {:<16} {:>5} {:>8} {:>12}",
                    v.product,
                    v.name,
                    if v.is_test.0 { "yes" } else { "" },
                    if v.current.0 { "yes" } else { "" },
                    v.repositories
                );
            }
            return Ok(());
        }
        VersionCommand::Current(a) => (a, true),
        VersionCommand::NotCurrent(a) => (a, false),
    };
    let Some(product) = mirrorvane_db::categories::product_by_name(&mut conn, &args.product).await? else {
        bail!("No such product: {}", args.product);
    };
    let Some(id) = repositories::version_id(&mut conn, product.id, &args.version).await? else {
        bail!("Version {} not found for product {}", args.version, args.product);
    };
    repositories::set_current(&mut conn, id, current).await?;
    println!(
        "{} {}: propagation {}",
        args.product,
        args.version,
        if current {
            "follows its repositories"
        } else {
            "no longer follows it"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_parse() {
        assert_eq!(parse_fraction("1:2"), Ok((1, 2)));
        assert_eq!(parse_fraction("2:2"), Ok((2, 2)));
        for bad in ["0:2", "3:2", "1:0", "1", "a:b", ""] {
            assert!(parse_fraction(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_match_the_crawler() {
        let o = options(&Args::default()).unwrap();
        assert_eq!(o.pushes_behind, 1);
        assert_eq!(o.auto_disable, 4);
        assert!(o.lease > o.host_timeout);
        assert!(o.user_agent.contains("mirrorvane-crawler/"));
        let short = Args {
            lease: Some(10),
            ..Args::default()
        };
        assert!(options(&short).is_err());
    }
}
