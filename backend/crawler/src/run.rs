//! A crawl run: the hosts to crawl, shared with every other crawler process through leases, crawled a few at a
//! time, each within its own timeout and all within the run's; each host's results written as it finishes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mirrorvane_db::crawl::{self, CrawlHostRow, CrawlLog, HostCrawl, HostFilter};
use mirrorvane_db::{Database, DbError};
use tokio::sync::Mutex;

use crate::host::{self, CategoryJob, Context, HostFindings, HostJob, Outcome};
use crate::http::{Http, HttpConfig};
use crate::log::{HostLog, now_seconds};
use crate::plan::{self, CategoryPlan};
use crate::rsync::RsyncConfig;
use crate::{CrawlError, Names};

/// How a run crawls.
#[derive(Debug, Clone)]
pub struct Options {
    /// Which hosts.
    pub filter: HostFilter,
    /// Only hosts whose category names are listed, by name (`--category`); also limits the categories crawled.
    pub categories: Vec<String>,
    /// `(i, n)`: only the i-th of n slices of the id-sorted host list (`--fraction i:n`).
    pub fraction: Option<(usize, usize)>,
    /// Hosts crawled at once by this process.
    pub concurrency: usize,
    /// Requests in flight to one host at most.
    pub per_host: usize,
    /// One host's crawl at most.
    pub host_timeout: Duration,
    /// The whole run at most: hosts not finished by then end as `unknown`.
    pub global_timeout: Duration,
    /// One request at most.
    pub request_timeout: Duration,
    /// Tries after a request times out.
    pub retries: u32,
    /// Pushes of a `repomd.xml` behind the newest that still count as up to date.
    pub pushes_behind: usize,
    /// Consecutive failed crawls after which a host is disabled.
    pub auto_disable: i64,
    /// How long another crawler keeps off a host this one has taken (longer than a host's crawl).
    pub lease: Duration,
    /// Names this process in leases and logs (`host:pid` by default).
    pub crawler: String,
    /// The HTTP User-Agent.
    pub user_agent: String,
    /// Extra trust anchors for HTTPS (PEM files).
    pub ca_files: Vec<std::path::PathBuf>,
    /// Name resolution.
    pub names: Names,
    /// The rsync program.
    pub rsync: String,
}

impl Options {
    /// MirrorManager's defaults where it has them (4 failures disable a host; a 6-hour run; 10-second requests).
    pub fn new(crawler: String, user_agent: String) -> Options {
        Options {
            filter: HostFilter::default(),
            categories: Vec::new(),
            fraction: None,
            concurrency: 16,
            per_host: 4,
            host_timeout: Duration::from_secs(3600),
            global_timeout: Duration::from_secs(6 * 3600),
            request_timeout: Duration::from_secs(10),
            retries: 3,
            pushes_behind: 1,
            auto_disable: 4,
            lease: Duration::from_secs(3600 + 300),
            crawler,
            user_agent,
            ca_files: Vec::new(),
            names: Names::default(),
            rsync: "rsync".into(),
        }
    }
}

/// The reason stored when a crawl disables a host (MirrorManager's text). A later success re-enables only a
/// host disabled with it: a host its admins took out stays out.
pub fn auto_disable_reason(failures: i64) -> String {
    format!("Host has been disabled (user_active) after {failures} consecutive crawl failures")
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Hosts the run considered (after filters and fraction).
    pub considered: usize,
    /// Outcomes of the hosts this process crawled.
    pub success: usize,
    pub failure: usize,
    pub timeout: usize,
    pub unknown: usize,
    /// Hosts disabled, and re-enabled, by this run.
    pub disabled: usize,
    pub reenabled: usize,
    /// Requests sent (HTTP; an rsync listing counts as one).
    pub requests: u64,
    /// Whether the global timeout ended the run.
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Report {
    /// Hosts crawled by this process.
    pub fn crawled(&self) -> usize {
        self.success + self.failure + self.timeout + self.unknown
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "crawl: {} of {} hosts crawled ({} success, {} failure, {} timeout, {} unknown); {} disabled, {} \
             re-enabled; {} requests in {:.1} s{}",
            self.crawled(),
            self.considered,
            self.success,
            self.failure,
            self.timeout,
            self.unknown,
            self.disabled,
            self.reenabled,
            self.requests,
            self.elapsed.as_secs_f64(),
            if self.timed_out {
                "; stopped by the global timeout"
            } else {
                ""
            }
        )
    }
}

/// Called as hosts finish: (hosts done, hosts considered, the host, its outcome).
pub type Progress = dyn Fn(usize, usize, &str, Outcome) + Send + Sync;

/// Runs a crawl.
pub async fn crawl(db: &Database, options: &Options, progress: &Progress) -> Result<Report, CrawlError> {
    let started = Instant::now();
    let run_started = now_seconds();
    let mut filter = options.filter.clone();
    filter.categories = options.categories.clone();
    let mut hosts = {
        let mut conn = db.acquire().await?;
        crawl::hosts(&mut conn, &filter).await?
    };
    if let Some((i, n)) = options.fraction {
        hosts = fraction(hosts, i, n);
    }
    let considered = hosts.len();
    let ctx = Arc::new(Context {
        http: Http::new(&HttpConfig {
            user_agent: options.user_agent.clone(),
            timeout: options.request_timeout,
            retries: options.retries,
            ca_files: options.ca_files.clone(),
            names: options.names.clone(),
        })?,
        rsync: RsyncConfig {
            program: options.rsync.clone(),
            timeout: options.request_timeout.max(Duration::from_secs(30)),
            names: options.names.clone(),
        },
        names: options.names.clone(),
        per_host: options.per_host.max(1),
        connect_timeout: options.request_timeout,
    });
    let candidates: Vec<i64> = hosts.iter().map(|h| h.id).collect();
    let by_id: HashMap<i64, CrawlHostRow> = hosts.into_iter().map(|h| (h.id, h)).collect();
    let shared = Shared {
        db: db.clone(),
        options,
        ctx,
        by_id,
        total: candidates.len(),
        candidates: Mutex::new(candidates),
        plans: Mutex::new(HashMap::new()),
        report: Mutex::new(Report {
            considered,
            ..Report::default()
        }),
        done: AtomicUsize::new(0),
        rsync_listings: AtomicU64::new(0),
        run_started,
        deadline: started + options.global_timeout,
        progress,
    };
    let workers = (0..options.concurrency.max(1)).map(|_| shared.worker());
    let finished = tokio::time::timeout(options.global_timeout, futures_util::future::join_all(workers)).await;
    let mut report = shared.report.lock().await.clone();
    match finished {
        Ok(results) => {
            for r in results {
                r?;
            }
        }
        Err(_) => report.timed_out = true,
    }
    report.requests = shared.ctx.http.requests() + shared.rsync_listings.load(Ordering::Relaxed);
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The i-th (1-based) of n slices of the hosts in id order.
fn fraction(mut hosts: Vec<CrawlHostRow>, i: usize, n: usize) -> Vec<CrawlHostRow> {
    hosts.sort_by_key(|h| h.id);
    let len = hosts.len();
    let (start, end) = ((i - 1) * len / n, i * len / n);
    let mut slice: Vec<CrawlHostRow> = hosts.drain(start..end).collect();
    // Back to the crawl order: the slowest last crawl first.
    slice.sort_by(|a, b| b.last_crawl_duration.cmp(&a.last_crawl_duration).then(a.id.cmp(&b.id)));
    slice
}

struct Shared<'a> {
    db: Database,
    options: &'a Options,
    ctx: Arc<Context>,
    by_id: HashMap<i64, CrawlHostRow>,
    /// Hosts this process has not taken yet (another process may have them).
    candidates: Mutex<Vec<i64>>,
    total: usize,
    /// Category plans, read once per run.
    plans: Mutex<HashMap<i64, Arc<CategoryPlan>>>,
    report: Mutex<Report>,
    done: AtomicUsize,
    rsync_listings: AtomicU64,
    run_started: i64,
    deadline: Instant,
    progress: &'a Progress,
}

impl Shared<'_> {
    /// Takes hosts until none is left (or the run's time is up).
    async fn worker(&self) -> Result<(), CrawlError> {
        loop {
            if Instant::now() >= self.deadline {
                return Ok(());
            }
            let now = now_seconds();
            let lease_until = now + self.options.lease.as_secs() as i64;
            // One claim at a time in this process: a host taken leaves the list before another worker looks.
            let claimed = {
                let mut candidates = self.candidates.lock().await;
                let claimed = crawl::claim_host(
                    &self.db,
                    &candidates,
                    &self.options.crawler,
                    now,
                    lease_until,
                    self.run_started,
                )
                .await?;
                candidates.retain(|c| Some(*c) != claimed);
                claimed
            };
            let Some(id) = claimed else { return Ok(()) };
            let result = self.crawl_one(id).await;
            crawl::release_lease(&self.db, id, &self.options.crawler).await?;
            result?;
        }
    }

    async fn crawl_one(&self, id: i64) -> Result<(), CrawlError> {
        let Some(host) = self.by_id.get(&id) else {
            return Ok(());
        };
        let started = now_seconds();
        let log = HostLog::default();
        log.info(format!(
            "crawling {} of site {} (host {}) from {}",
            host.name, host.site, host.id, self.options.crawler
        ));
        let job = self.job(host).await?;
        let requests_before = self.ctx.http.requests();
        let rsync_urls = job
            .categories
            .iter()
            .filter(|c| c.urls.iter().any(|u| u.starts_with("rsync:")))
            .count() as u64;
        let budget = self
            .options
            .host_timeout
            .min(self.deadline.saturating_duration_since(Instant::now()));
        let findings = match tokio::time::timeout(budget, host::crawl(&self.ctx, &job, &log)).await {
            Ok(f) => f,
            Err(_) if budget < self.options.host_timeout => {
                log.warn("the run's global timeout ended the crawl: nothing recorded for this host");
                HostFindings {
                    outcome: Outcome::Unknown,
                    ipv4: None,
                    ipv6: None,
                    states: Vec::new(),
                    observations: Vec::new(),
                }
            }
            Err(_) => {
                log.warn(format!(
                    "the host timeout ({} s) ended the crawl: every directory is marked not up to date",
                    self.options.host_timeout.as_secs()
                ));
                HostFindings {
                    outcome: Outcome::Timeout,
                    ipv4: None,
                    ipv6: None,
                    states: host::all_stale(&job),
                    observations: Vec::new(),
                }
            }
        };
        self.rsync_listings.fetch_add(rsync_urls, Ordering::Relaxed);
        let finished = now_seconds();
        let requests = self.ctx.http.requests().saturating_sub(requests_before) + rsync_urls;
        let (crawl, change) = self.bookkeeping(host, findings, &log, started, finished, requests);
        crawl::record(&self.db, &crawl).await?;
        let mut report = self.report.lock().await;
        match change.outcome {
            Outcome::Success => report.success += 1,
            Outcome::Failure => report.failure += 1,
            Outcome::Timeout => report.timeout += 1,
            Outcome::Unknown => report.unknown += 1,
        }
        report.disabled += usize::from(change.disabled);
        report.reenabled += usize::from(change.reenabled);
        drop(report);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        (self.progress)(done, self.total, &host.name, change.outcome);
        Ok(())
    }

    /// The host's categories with their plans and current state (the run's `--category` filter applied).
    async fn job(&self, host: &CrawlHostRow) -> Result<HostJob, CrawlError> {
        let mut conn = self.db.acquire().await?;
        let rows = crawl::host_categories(&mut conn, Some(host.id)).await?;
        let urls = crawl::urls(&mut conn, host.id).await?;
        let mut categories = Vec::new();
        for row in rows {
            if !self.options.categories.is_empty() && !self.options.categories.contains(&row.category) {
                continue;
            }
            let plan = {
                let mut plans = self.plans.lock().await;
                match plans.get(&row.category_id) {
                    Some(p) => p.clone(),
                    None => {
                        let p = Arc::new(
                            plan::load(
                                &mut conn,
                                row.category_id,
                                &row.category,
                                &row.topdir,
                                self.options.pushes_behind,
                            )
                            .await?,
                        );
                        plans.insert(row.category_id, p.clone());
                        p
                    }
                }
            };
            let up2date = crawl::directory_set(&mut conn, row.up2date_set_id).await?;
            let stale = crawl::directory_set(&mut conn, row.stale_set_id).await?;
            categories.push(CategoryJob {
                urls: urls
                    .iter()
                    .filter(|u| u.host_category_id == row.id)
                    .map(|u| u.url.clone())
                    .collect(),
                row,
                plan,
                up2date,
                stale,
            });
        }
        Ok(HostJob {
            host: host.clone(),
            categories,
        })
    }

    /// The host's new bookkeeping from the outcome (reference §5.3).
    fn bookkeeping(
        &self,
        host: &CrawlHostRow,
        findings: HostFindings,
        log: &HostLog,
        started: i64,
        finished: i64,
        requests: u64,
    ) -> (HostCrawl, Change) {
        let auto_reason = auto_disable_reason(self.options.auto_disable);
        let auto_disabled = !bool::from(host.user_active) && host.disable_reason == auto_reason;
        let mut change = Change {
            outcome: findings.outcome,
            disabled: false,
            reenabled: false,
        };
        let (failures, user_active) = match findings.outcome {
            Outcome::Success => {
                let reenable = auto_disabled.then(|| {
                    log.info("a successful crawl re-enables the host");
                    change.reenabled = true;
                    (true, String::new())
                });
                (Some(0), reenable)
            }
            Outcome::Failure | Outcome::Timeout => {
                let failures = host.crawl_failures + 1;
                let disable = (failures >= self.options.auto_disable && bool::from(host.user_active)).then(|| {
                    log.warn(&auto_reason);
                    change.disabled = true;
                    (false, auto_reason.clone())
                });
                (Some(failures), disable)
            }
            Outcome::Unknown => (None, None),
        };
        log.info(format!(
            "outcome {} after {} s, {requests} requests",
            findings.outcome.name(),
            finished - started
        ));
        let crawl = HostCrawl {
            host: host.id,
            finished_at: finished,
            duration: (findings.outcome != Outcome::Unknown).then_some(finished - started),
            crawl_failures: failures,
            user_active,
            ipv4_reachable: findings.ipv4,
            ipv6_reachable: findings.ipv6,
            states: findings.states,
            observations: findings.observations,
            log: CrawlLog {
                crawler: self.options.crawler.clone(),
                started_at: started,
                finished_at: finished,
                outcome: findings.outcome.name().to_owned(),
                requests: requests as i64,
                text: log.text(),
            },
        };
        (crawl, change)
    }
}

/// What a host's crawl changed, for the run's report.
struct Change {
    outcome: Outcome,
    disabled: bool,
    reenabled: bool,
}

impl From<DbError> for CrawlError {
    fn from(e: DbError) -> CrawlError {
        CrawlError::Db(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorvane_db::Flag;

    fn host(id: i64, duration: i64) -> CrawlHostRow {
        CrawlHostRow {
            id,
            name: format!("h{id}"),
            site: "s".into(),
            user_active: Flag(true),
            admin_active: Flag(true),
            private: Flag(false),
            crawl_failures: 0,
            disable_reason: String::new(),
            last_crawl_duration: duration,
        }
    }

    #[test]
    fn fractions_cover_every_host_once() {
        let hosts: Vec<CrawlHostRow> = (1..=10).map(|i| host(i, i % 3)).collect();
        let mut seen: Vec<i64> = Vec::new();
        for i in 1..=3 {
            let slice = fraction(hosts.clone(), i, 3);
            assert!(
                slice
                    .windows(2)
                    .all(|w| w[0].last_crawl_duration >= w[1].last_crawl_duration)
            );
            seen.extend(slice.iter().map(|h| h.id));
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=10).collect::<Vec<_>>());
        assert_eq!(fraction(hosts, 1, 1).len(), 10);
    }
}
