//! The crawl of one host: which address families it answers on, then each category by the cheapest method that
//! works — an rsync listing of the whole category, else HTTP(S) requests per directory — and the new state of
//! every directory it carries.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use mirrorvane_db::DirectorySet;
use mirrorvane_db::crawl::{CrawlHostCategoryRow, CrawlHostRow};
use mirrorvane_scan::listing::Listing;

use crate::http::{Fetched, Http};
use crate::judge::{self, Observation, Verdict};
use crate::log::{DIRECTORY_LINES, HostLog};
use crate::names::{Family, Names};
use crate::plan::{CategoryPlan, Check, PlannedDir};
use crate::rsync::{self, RsyncConfig, RsyncFailure};

/// What every host crawl of a run shares.
pub struct Context {
    pub http: Http,
    pub rsync: RsyncConfig,
    pub names: Names,
    /// Requests in flight to one host at most.
    pub per_host: usize,
    /// How long a TCP connection may take to say whether a family answers.
    pub connect_timeout: Duration,
}

/// A host to crawl, with its categories.
pub struct HostJob {
    pub host: CrawlHostRow,
    pub categories: Vec<CategoryJob>,
}

/// One of the host's categories.
pub struct CategoryJob {
    pub row: CrawlHostCategoryRow,
    /// Its URLs, private ones included.
    pub urls: Vec<String>,
    /// The primary's side.
    pub plan: Arc<CategoryPlan>,
    /// The directory state before this crawl.
    pub up2date: DirectorySet,
    pub stale: DirectorySet,
}

/// How a host's crawl ended (MirrorManager's crawl results, reference §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// At least one category could be checked (or is always up to date).
    Success,
    /// No category could be reached.
    Failure,
    /// The host took longer than the host timeout.
    Timeout,
    /// Nothing can be said: no category, or the run's global timeout.
    Unknown,
}

impl Outcome {
    /// As stored in the crawl log.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Timeout => "timeout",
            Outcome::Unknown => "unknown",
        }
    }
}

/// What a host's crawl found.
pub struct HostFindings {
    pub outcome: Outcome,
    pub ipv4: Option<bool>,
    pub ipv6: Option<bool>,
    /// New directory state per crawled host category: (host category, up to date, stale).
    pub states: Vec<(i64, DirectorySet, DirectorySet)>,
    /// repomd.xml seen: (directory, the push it matched).
    pub observations: Vec<(i64, Observation)>,
}

/// Crawls `job`, writing what it does to `log`.
pub async fn crawl(ctx: &Context, job: &HostJob, log: &HostLog) -> HostFindings {
    let mut found = HostFindings {
        outcome: Outcome::Unknown,
        ipv4: None,
        ipv6: None,
        states: Vec::new(),
        observations: Vec::new(),
    };
    if job.categories.is_empty() {
        log.warn("the host has no category: nothing to crawl");
        return found;
    }
    let all_urls: Vec<&str> = job
        .categories
        .iter()
        .flat_map(|c| c.urls.iter().map(String::as_str))
        .collect();
    let (v4, v6) = tokio::join!(
        answers_on(ctx, &all_urls, Family::V4, log),
        answers_on(ctx, &all_urls, Family::V6, log)
    );
    found.ipv4 = Some(v4);
    found.ipv6 = Some(v6);
    let family = match (v4, v6) {
        (true, _) => Some(Family::V4),
        (false, true) => Some(Family::V6),
        (false, false) => None,
    };
    let mut accessible = 0;
    for cat in &job.categories {
        let name = &cat.row.category;
        if bool::from(cat.row.always_up2date) {
            log.info(format!("category {name}: always up to date, not crawled"));
            accessible += 1;
            continue;
        }
        let Some(family) = family else {
            log.warn(format!("category {name}: the host answers on no address family"));
            continue;
        };
        match crawl_category(ctx, cat, family, log).await {
            Some((verdicts, observations)) => {
                accessible += 1;
                found.states.push(new_state(cat, &verdicts));
                found.observations.extend(observations);
            }
            None => log.warn(format!(
                "category {name}: no URL could be used; the category is not accessible"
            )),
        }
    }
    found.outcome = if accessible > 0 {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    found
}

/// Whether the host answers over `family`: a TCP connection to one of its URLs' servers succeeds.
async fn answers_on(ctx: &Context, urls: &[&str], family: Family, log: &HostLog) -> bool {
    let mut servers: Vec<(String, u16)> = Vec::new();
    for url in urls {
        let Ok(u) = url::Url::parse(url) else { continue };
        let (Some(host), Some(port)) = (u.host_str(), u.port_or_known_default().or(rsync_port(&u))) else {
            continue;
        };
        if !servers.iter().any(|(h, p)| h == host && *p == port) {
            servers.push((host.to_owned(), port));
        }
    }
    for (host, port) in &servers {
        let addrs = match ctx.names.lookup_family(host, family).await {
            Ok(a) => a,
            Err(e) => {
                log.info(format!("{host}: {} lookup failed: {e}", family.label()));
                continue;
            }
        };
        for ip in addrs {
            let connect = tokio::net::TcpStream::connect((ip, *port));
            if let Ok(Ok(_)) = tokio::time::timeout(ctx.connect_timeout, connect).await {
                log.info(format!("answers over {} ({ip} port {port})", family.label()));
                return true;
            }
        }
    }
    log.info(format!("does not answer over {}", family.label()));
    false
}

fn rsync_port(u: &url::Url) -> Option<u16> {
    (u.scheme() == "rsync").then_some(873)
}

type CategoryResult = (Vec<(i64, Verdict)>, Vec<(i64, Observation)>);

/// The category by the first method that works: rsync URLs, then https, then http.
async fn crawl_category(ctx: &Context, cat: &CategoryJob, family: Family, log: &HostLog) -> Option<CategoryResult> {
    let name = &cat.row.category;
    let mut urls: Vec<&str> = cat.urls.iter().map(String::as_str).collect();
    urls.sort_by_key(|u| match u.split_once(':').map(|(s, _)| s) {
        Some("rsync") => 0,
        Some("https") => 1,
        Some("http") => 2,
        _ => 3,
    });
    let web = urls
        .iter()
        .copied()
        .find(|u| u.starts_with("https:") || u.starts_with("http:"));
    for url in urls {
        let result = if url.starts_with("rsync:") {
            match rsync::list(&ctx.rsync, url, family).await {
                Ok(listing) => {
                    log.info(format!(
                        "category {name}: rsync listing of {url} over {}: {} directories",
                        family.label(),
                        listing.dirs.len()
                    ));
                    Some(by_listing(ctx, cat, &listing, web, family, log).await)
                }
                Err(RsyncFailure::Unavailable(why) | RsyncFailure::Failed(why)) => {
                    log.warn(format!("category {name}: {url}: {why}"));
                    None
                }
            }
        } else if url.starts_with("http:") || url.starts_with("https:") {
            match ctx.http.head(family, &format!("{}/", url.trim_end_matches('/'))).await {
                crate::http::Head::Found(_) | crate::http::Head::Forbidden => {
                    log.info(format!("category {name}: checking over {url} ({})", family.label()));
                    Some(by_http(ctx, cat, url, family).await)
                }
                other => {
                    log.warn(format!("category {name}: {url}: the top directory answers {other:?}"));
                    None
                }
            }
        } else {
            log.info(format!("category {name}: {url}: scheme not crawled"));
            None
        };
        if let Some(mut r) = result {
            judge::repositories_follow_repodata(&cat.plan.dirs, &mut r.0);
            summarise(name, &cat.plan, &r.0, log);
            return Some(r);
        }
    }
    None
}

/// The category from its rsync listing; `repomd.xml` files are fetched over `web` when there is such a URL (an
/// rsync listing shows only sizes), and judged by size otherwise.
async fn by_listing(
    ctx: &Context,
    cat: &CategoryJob,
    listing: &Listing,
    web: Option<&str>,
    family: Family,
    log: &HostLog,
) -> CategoryResult {
    let mut verdicts = Vec::with_capacity(cat.plan.dirs.len());
    let mut observations = Vec::new();
    let mut repodata = Vec::new();
    for d in &cat.plan.dirs {
        let listed = listing.get(&d.path);
        match &d.check {
            Check::Nothing if listed.is_some() => verdicts.push((d.id, Verdict::UpToDate)),
            Check::Nothing => verdicts.push((d.id, Verdict::Stale("directory missing".into()))),
            Check::Files(files) => verdicts.push((d.id, judge::files_in_listing(files, listed))),
            Check::Repomd(_) if listed.is_none() => verdicts.push((d.id, Verdict::Stale("directory missing".into()))),
            Check::Repomd(versions) => match web {
                Some(_) => repodata.push((d, versions)),
                None => {
                    let (v, o) = judge::repomd_by_size(versions, listed);
                    verdicts.push((d.id, v));
                    observations.extend(o.map(|o| (d.id, o)));
                }
            },
        }
    }
    if let Some(web) = web {
        let fetched: Vec<_> = stream::iter(repodata.iter().map(|&(d, versions)| async move {
            let url = file_url(web, &d.path, "repomd.xml");
            let got = ctx.http.fetch_sha256(family, &url).await;
            match (&got, judge::repomd_by_size(versions, listing.get(&d.path))) {
                // The web side cannot be read: the listing's size is what is left.
                (Fetched::Failed(why), by_size) => {
                    log.info(format!("{url}: {why}; judged by its listed size"));
                    (d.id, by_size)
                }
                _ => (d.id, judge::repomd_fetched(versions, &got)),
            }
        }))
        .buffer_unordered(ctx.per_host)
        .collect()
        .await;
        for (id, (v, o)) in fetched {
            verdicts.push((id, v));
            observations.extend(o.map(|o| (id, o)));
        }
    }
    (verdicts, observations)
}

/// The category over HTTP(S): `HEAD` of every file of the short lists, `GET` of each `repomd.xml`, at most
/// `per_host` directories at once (one request each at a time), so memory does not grow with the tree.
async fn by_http(ctx: &Context, cat: &CategoryJob, url: &str, family: Family) -> CategoryResult {
    let results: Vec<_> = stream::iter(cat.plan.dirs.iter().map(|d| async move {
        match &d.check {
            Check::Nothing => (d.id, Verdict::UpToDate, None),
            Check::Files(files) => {
                let mut answers = Vec::with_capacity(files.len());
                for f in files {
                    let answer = ctx.http.head(family, &file_url(url, &d.path, &f.name)).await;
                    let certain = matches!(answer, crate::http::Head::Missing | crate::http::Head::Forbidden);
                    answers.push(answer);
                    if certain {
                        break;
                    }
                }
                (d.id, judge::files_by_head(files, &answers), None)
            }
            Check::Repomd(versions) => {
                let got = ctx
                    .http
                    .fetch_sha256(family, &file_url(url, &d.path, "repomd.xml"))
                    .await;
                let (v, o) = judge::repomd_fetched(versions, &got);
                (d.id, v, o)
            }
        }
    }))
    .buffer_unordered(ctx.per_host)
    .collect()
    .await;
    let mut verdicts = Vec::with_capacity(results.len());
    let mut observations = Vec::new();
    for (id, v, o) in results {
        verdicts.push((id, v));
        observations.extend(o.map(|o| (id, o)));
    }
    (verdicts, observations)
}

/// `base/dir/name`, each path segment percent-encoded where a URL needs it.
fn file_url(base: &str, dir: &str, name: &str) -> String {
    let mut out = base.trim_end_matches('/').to_owned();
    for segment in dir.split('/').filter(|s| !s.is_empty()).chain([name]) {
        out.push('/');
        out.extend(url::form_urlencoded::byte_serialize(segment.as_bytes()).map(|s| s.replace('+', "%20")));
    }
    out
}

/// Logs the category's counts and (some of) its stale and unknown directories.
fn summarise(name: &str, plan: &CategoryPlan, verdicts: &[(i64, Verdict)], log: &HostLog) {
    let path: HashMap<i64, &PlannedDir> = plan.dirs.iter().map(|d| (d.id, d)).collect();
    let (mut fresh, mut stale, mut unknown) = (0usize, 0usize, 0usize);
    let mut lines = 0;
    for (id, v) in verdicts {
        let what = path.get(id).map_or("?", |d| d.path.as_str());
        let detail = match v {
            Verdict::UpToDate => {
                fresh += 1;
                continue;
            }
            Verdict::Stale(why) => {
                stale += 1;
                format!("not up to date: {what}: {why}")
            }
            Verdict::Unknown(why) => {
                unknown += 1;
                format!("unknown: {what}: {why}")
            }
        };
        lines += 1;
        if lines <= DIRECTORY_LINES {
            log.warn(format!("category {name}: {detail}"));
        }
    }
    if lines > DIRECTORY_LINES {
        log.warn(format!("category {name}: … and {} more", lines - DIRECTORY_LINES));
    }
    log.info(format!(
        "category {name}: {fresh} directories up to date, {stale} not up to date, {unknown} unknown"
    ));
}

/// The host category's state after a crawl: directories found up to date; those found stale; a directory whose
/// state could not be told keeps the state it had. Directories the plan no longer has (gone, unreadable) drop out.
fn new_state(cat: &CategoryJob, verdicts: &[(i64, Verdict)]) -> (i64, DirectorySet, DirectorySet) {
    let mut up = Vec::new();
    let mut stale = Vec::new();
    for (id, v) in verdicts {
        match v {
            Verdict::UpToDate => up.push(*id),
            Verdict::Stale(_) => stale.push(*id),
            Verdict::Unknown(_) if cat.up2date.contains(*id) => up.push(*id),
            Verdict::Unknown(_) if cat.stale.contains(*id) => stale.push(*id),
            Verdict::Unknown(_) => {}
        }
    }
    (cat.row.id, up.into_iter().collect(), stale.into_iter().collect())
}

/// The state of every host category after a timeout: nothing up to date, everything it carried stale.
pub fn all_stale(job: &HostJob) -> Vec<(i64, DirectorySet, DirectorySet)> {
    job.categories
        .iter()
        .filter(|c| !bool::from(c.row.always_up2date))
        .map(|c| {
            let carried: DirectorySet = c.up2date.iter().chain(c.stale.iter()).collect();
            (c.row.id, DirectorySet::new(), carried)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_urls() {
        assert_eq!(
            super::file_url("https://m.example/fedora/", "releases/41", "repomd.xml"),
            "https://m.example/fedora/releases/41/repomd.xml"
        );
        assert_eq!(
            super::file_url("http://m/x", "", "a b+c.iso"),
            "http://m/x/a%20b%2Bc.iso"
        );
    }
}
