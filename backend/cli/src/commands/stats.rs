//! `mirrorvane stats ingest LOG…`: usage statistics from edges' access logs (reference §3.13), per day by
//! country, repository and arch — MirrorManager's `mm2_mirrorlist-statistics`, for many edges at once.
//!
//! A line is `IP: <ip>; DATE: <YYYY-MM-DD>; COUNTRY: <cc or N/A>; REPO: <repo>; ARCH: <arch>`, as the native edge
//! writes it and the WASM worker logs it; it is found anywhere in a line, so a worker's log export (one JSON
//! record per line, the message inside) or a syslog prefix reads as well. Files may be gzip-compressed.
//!
//! Each file is identified by the SHA-256 of its first line (or `--source`): ingesting a file again, grown,
//! rotated or compressed, replaces its earlier counts of a day instead of adding to them (unless the earlier
//! copy counted more: logs only grow), so ingesting is idempotent per file and day, and the files of many edges
//! add up. Clients from embargoed countries are counted in `N/`, as
//! MirrorManager does.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mirrorvane_db::{Database, countries, stats};
use sha2::{Digest, Sha256};

/// `mirrorvane stats …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StatsCommand {
    /// Count access-log files into the statistics (idempotent per file and day).
    Ingest(IngestArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct IngestArgs {
    /// Access-log files (plain or gzip-compressed).
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// Name the file instead of identifying it by its first line (one file per invocation).
    #[arg(long)]
    pub source: Option<String>,
    /// Forget statistics older than this many days (MirrorManager's ACCESS_STATS_KEEP_DAYS); 0 keeps everything.
    #[arg(long, default_value_t = 30)]
    pub keep_days: u32,
}

/// Longest repository or arch name counted as itself; longer ones (garbage in a query string) count as `(other)`.
const LONGEST_NAME: usize = 100;
/// Distinct names per kind per day per file; beyond, `(other)`: a flood of made-up names must not fill the database.
const MOST_NAMES: usize = 10_000;
const OTHER: &str = "(other)";

/// One request of a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub day: &'a str,
    pub country: &'a str,
    pub repo: &'a str,
    pub arch: &'a str,
}

/// The request a line records, if it holds an access-log record.
pub fn parse_line(line: &str) -> Option<Request<'_>> {
    let start = line.find("IP: ")?;
    let record = &line[start..];
    // Inside a JSON string the record ends at its closing quote (or at an escaped line break).
    let end = record.find(['"', '\\', '\r', '\n']).unwrap_or(record.len());
    let mut fields = record[..end].split("; ");
    let mut value = |key: &str| fields.next()?.strip_prefix(key);
    let _ip = value("IP: ")?;
    let day = value("DATE: ")?;
    let country = value("COUNTRY: ")?;
    let repo = value("REPO: ")?;
    let arch = value("ARCH: ")?.trim_end();
    let valid_day = day.len() == 10
        && day.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let valid_country = country == "N/A" || (country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()));
    (valid_day && valid_country).then_some(Request {
        day,
        country,
        repo,
        arch,
    })
}

/// Counts of one file: day → kind → name → requests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub days: BTreeMap<String, BTreeMap<&'static str, BTreeMap<String, i64>>>,
    pub lines: u64,
    pub skipped: u64,
}

impl Counts {
    fn add(&mut self, r: &Request<'_>, embargoed: &HashSet<String>) {
        let day = self.days.entry(r.day.to_owned()).or_default();
        let country = if embargoed.contains(r.country) { "N/" } else { r.country };
        for (kind, name) in [("countries", country), ("repositories", r.repo), ("archs", r.arch)] {
            let names = day.entry(kind).or_default();
            let known = names.contains_key(name);
            let name = if name.len() > LONGEST_NAME
                || name.chars().any(char::is_control)
                || (!known && names.len() >= MOST_NAMES)
            {
                OTHER
            } else {
                name
            };
            *names.entry(name.to_owned()).or_default() += 1;
        }
    }
}

/// Reads one log (gzip or plain): its identity (SHA-256 of the first line, hex) and its counts.
pub fn count(path: &Path, embargoed: &HashSet<String>) -> anyhow::Result<(String, Counts)> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let input: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let mut lines = BufReader::new(input);
    let mut counts = Counts::default();
    let mut identity = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = lines
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        if identity.is_none() {
            identity = Some(hex::encode(Sha256::digest(&buf)));
        }
        counts.lines += 1;
        match std::str::from_utf8(&buf).ok().and_then(parse_line) {
            Some(r) => counts.add(&r, embargoed),
            None => counts.skipped += 1,
        }
    }
    Ok((identity.unwrap_or_default(), counts))
}

/// Runs `mirrorvane stats …`.
pub async fn run(db: &Database, cmd: &StatsCommand) -> anyhow::Result<()> {
    let StatsCommand::Ingest(args) = cmd;
    anyhow::ensure!(
        args.source.is_none() || args.logs.len() == 1,
        "--source names one file; give one file with it"
    );
    let embargoed: HashSet<String> = {
        let mut conn = db.acquire().await?;
        countries::embargoed(&mut conn).await?.into_iter().collect()
    };
    let (mut requests, mut skipped, mut touched) = (0u64, 0u64, std::collections::BTreeSet::new());
    for (i, path) in args.logs.iter().enumerate() {
        let (identity, counts) = {
            let (path, embargoed) = (path.clone(), embargoed.clone());
            tokio::task::spawn_blocking(move || count(&path, &embargoed)).await??
        };
        if counts.lines == 0 {
            eprintln!("[{}/{}] {}: empty", i + 1, args.logs.len(), path.display());
            continue;
        }
        let source = args.source.clone().unwrap_or(identity);
        let mut tx = db.begin().await?;
        for (day, kinds) in &counts.days {
            let rows: Vec<(&str, &str, i64)> = kinds
                .iter()
                .flat_map(|(kind, names)| names.iter().map(move |(name, n)| (*kind, name.as_str(), *n)))
                .collect();
            if stats::replace_source_day(&mut tx, &source, day, &rows).await? {
                stats::rebuild_day(&mut tx, day).await?;
                touched.insert(day.clone());
            }
        }
        tx.commit().await.map_err(mirrorvane_db::DbError::from)?;
        let file_requests = counts.lines - counts.skipped;
        eprintln!(
            "[{}/{}] {}: {file_requests} requests on {} day(s), {} line(s) skipped",
            i + 1,
            args.logs.len(),
            path.display(),
            counts.days.len(),
            counts.skipped
        );
        requests += file_requests;
        skipped += counts.skipped;
    }
    let mut expired = 0;
    if args.keep_days > 0 {
        let now = mirrorvane_crawler::log::now_seconds();
        let cutoff = mirrorvane_web::ui::day_text(now / 86_400 - i64::from(args.keep_days));
        expired = stats::expire_before(&mut *db.acquire().await?, &cutoff).await?;
    }
    println!(
        "ingested {} file(s): {requests} requests on {} day(s), {skipped} line(s) skipped, {expired} expired row(s) removed",
        args.logs.len(),
        touched.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_native_worker_and_prefixed() {
        let native = "IP: 192.0.2.1; DATE: 2026-12-07; COUNTRY: DE; REPO: fedora-41; ARCH: x86_64\n";
        let want = Request {
            day: "2026-12-07",
            country: "DE",
            repo: "fedora-41",
            arch: "x86_64",
        };
        assert_eq!(parse_line(native), Some(want.clone()));
        let worker = r#"{"Logs":[{"Level":"log","Message":["IP: 192.0.2.1; DATE: 2026-12-07; COUNTRY: DE; REPO: fedora-41; ARCH: x86_64"],"TimestampMs":1}]}"#;
        assert_eq!(parse_line(worker), Some(want.clone()));
        let syslog = "Dec  7 12:00:00 edge1 mirrorvane-edge[42]: IP: 2001:db8::1; DATE: 2026-12-07; COUNTRY: DE; REPO: fedora-41; ARCH: x86_64";
        assert_eq!(parse_line(syslog), Some(want));
        let na = parse_line("IP: 10.0.0.1; DATE: 2026-12-07; COUNTRY: N/A; REPO: epel-9; ARCH: source").unwrap();
        assert_eq!((na.country, na.repo, na.arch), ("N/A", "epel-9", "source"));
        for bad in [
            "",
            "GET /metalink?repo=fedora-41&arch=x86_64",
            "IP: 1.2.3.4; DATE: 2026-13; COUNTRY: DE; REPO: r; ARCH: a",
            "IP: 1.2.3.4; DATE: 2026-12-07; COUNTRY: Germany; REPO: r; ARCH: a",
            "IP: 1.2.3.4; DATE: 2026-12-07; COUNTRY: DE; REPO: r",
        ] {
            assert_eq!(parse_line(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floods_of_names_are_capped() {
        let mut c = Counts::default();
        let none = HashSet::new();
        let long = "x".repeat(LONGEST_NAME + 1);
        c.add(
            &Request {
                day: "2026-12-07",
                country: "DE",
                repo: &long,
                arch: "a",
            },
            &none,
        );
        for i in 0..MOST_NAMES + 5 {
            let repo = format!("r{i}");
            c.add(
                &Request {
                    day: "2026-12-07",
                    country: "DE",
                    repo: &repo,
                    arch: "a",
                },
                &none,
            );
        }
        let repos = &c.days["2026-12-07"]["repositories"];
        let total = (1 + MOST_NAMES + 5) as i64;
        assert_eq!(repos.len(), MOST_NAMES, "(other) included");
        assert_eq!(repos.values().sum::<i64>(), total, "every request counted");
        assert_eq!(
            repos[OTHER],
            total - (MOST_NAMES as i64 - 1),
            "the long name and the names beyond the cap"
        );
    }
}
