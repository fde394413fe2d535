//! `mirrorvane scan`: MirrorManager's `update-master-directory-list` (reference §5.1) on our database.
//!
//! Sources come from the command line (one source for every `--category` named) or from a TOML file with
//! one `[[category]]` table per category (MirrorManager's `UMDL_MASTER_DIRECTORIES`):
//!
//! ```toml
//! [[category]]
//! name = "Fedora Linux"
//! type = "directory"            # fullfiletimelist, else disk; or "rsync", "file"
//! path = "/srv/pub/fedora/linux"
//! excludes = [".*/iso/old"]     # optional, besides the category's own
//!
//! [[category]]
//! name = "Fedora EPEL"
//! type = "rsync"
//! url = "rsync://dl.example.org/epel/"
//! options = ["--no-human-readable"]
//! ```
//!
//! Categories are scanned one after another; one that fails is reported and the others still run (as
//! MirrorManager logs and continues); the command fails at the end if any did.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use crate::db::Database;
use crate::scan::prefix::PrefixRules;
use crate::scan::store::{ScanOptions, Source, Summary, scan_category};

/// Arguments of `mirrorvane scan`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Category to scan (repeatable). `^NAME` excludes a category of the config file.
    #[arg(long = "category", value_name = "NAME", allow_hyphen_values = true)]
    pub categories: Vec<String>,
    /// Config file with one `[[category]]` table per category and its source.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["path", "rsync", "listing"])]
    pub config: Option<PathBuf>,
    /// The category's top directory on disk (its fullfiletimelist is used when present).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["rsync", "listing"])]
    pub path: Option<PathBuf>,
    /// An rsync URL listing the category's top directory.
    #[arg(long, value_name = "URL", conflicts_with = "listing")]
    pub rsync: Option<String>,
    /// Extra rsync option (repeatable), e.g. `--rsync-option=--timeout=600`.
    #[arg(long = "rsync-option", value_name = "OPT", allow_hyphen_values = true)]
    pub rsync_options: Vec<String>,
    /// A saved `rsync --list-only -r` listing of the category.
    #[arg(long, value_name = "FILE")]
    pub listing: Option<PathBuf>,
    /// Leading path removed from rsync listing names (when the URL or listing covers more than the category).
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub strip_prefix: String,
    /// Delete stored directories that vanished from the tree (not for rsync sources).
    #[arg(long)]
    pub delete_directories: bool,
    /// With --delete-directories: the largest share of a category's directories one scan may delete; a larger
    /// loss (or any from an empty tree) is refused — the rest of the scan is written — until --force.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0, value_parser = percent)]
    pub max_delete_percent: f64,
    /// Delete beyond --max-delete-percent, and scan a tree that does not look like the category's (its top
    /// directory contains the category's path again, or it shares no directory with the stored ones).
    #[arg(long)]
    pub force: bool,
    /// Walk the disk even where a fullfiletimelist exists.
    #[arg(long)]
    pub skip_fullfiletimelist: bool,
    /// Old file details (metalink alternates) are removed after this many days (1 to 3650: 0 or less would
    /// drop every alternate at once).
    #[arg(long, value_name = "DAYS", default_value_t = 4, value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub max_stale_days: i64,
    /// Repository prefix rules (TOML) replacing the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub prefix_rules: Option<PathBuf>,
}

/// The config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    category: Vec<CategoryConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryConfig {
    name: String,
    #[serde(rename = "type")]
    kind: SourceKind,
    path: Option<PathBuf>,
    url: Option<String>,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    strip_prefix: String,
    #[serde(default)]
    excludes: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SourceKind {
    Directory,
    Rsync,
    File,
}

/// One category to scan.
#[derive(Debug)]
struct Job {
    name: String,
    source: Source,
    excludes: Vec<String>,
}

/// Scans every selected category; prints progress to stderr and one summary line per category to stdout.
pub async fn run(db: &Database, args: &Args) -> anyhow::Result<Vec<Summary>> {
    let jobs = jobs(args)?;
    let jobs_count = jobs.len();
    let prefix_rules = match &args.prefix_rules {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            PrefixRules::from_toml(&text).with_context(|| format!("bad prefix rules in {}", path.display()))?
        }
        None => PrefixRules::builtin(),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut options = ScanOptions::new(now);
    options.started = Some(now);
    options.delete_directories = args.delete_directories;
    options.max_delete_share = args.max_delete_percent / 100.0;
    options.force = args.force;
    options.skip_fullfiletimelist = args.skip_fullfiletimelist;
    options.max_stale_days = args.max_stale_days;
    options.prefix_rules = prefix_rules;

    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(Duration::from_millis(100));
    let mut summaries = Vec::new();
    let mut failed = Vec::new();
    for job in jobs {
        spinner.set_message(format!("scanning {}", job.name));
        options.extra_excludes = job.excludes.clone();
        match scan_category(db, &job.name, &job.source, &options).await {
            Ok(summary) => {
                spinner.suspend(|| {
                    println!("{summary}");
                    for s in summary.skipped.iter().take(super::snapshot::SHOWN_WARNINGS) {
                        eprintln!("skipped: {}: {}: {}", summary.category, s.what, s.reason);
                    }
                    if summary.skipped.len() > super::snapshot::SHOWN_WARNINGS {
                        eprintln!(
                            "skipped: … and {} more",
                            summary.skipped.len() - super::snapshot::SHOWN_WARNINGS
                        );
                    }
                });
                if let Some(refused) = &summary.deletion_refused {
                    spinner.suspend(|| eprintln!("error: scan {}: {refused}", job.name));
                    failed.push(format!("{}: {refused}", job.name));
                }
                summaries.push(summary);
            }
            Err(e) => {
                spinner.suspend(|| eprintln!("error: scan {}: {e}", job.name));
                failed.push(format!("{}: {e}", job.name));
            }
        }
    }
    spinner.finish_and_clear();
    if !failed.is_empty() {
        bail!(
            "{} of {} categories failed: {}",
            failed.len(),
            jobs_count,
            failed.join("; ")
        );
    }
    Ok(summaries)
}

fn percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}

/// The categories to scan and their sources, from the config file or the command line.
fn jobs(args: &Args) -> anyhow::Result<Vec<Job>> {
    let (include, exclude): (Vec<&str>, Vec<&str>) = {
        let mut inc = Vec::new();
        let mut exc = Vec::new();
        for c in &args.categories {
            match c.strip_prefix('^') {
                Some(name) => exc.push(name),
                None => inc.push(c.as_str()),
            }
        }
        (inc, exc)
    };
    let selected = |name: &str| (include.is_empty() || include.contains(&name)) && !exclude.contains(&name);
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let config: Config = toml::from_str(&text).with_context(|| format!("bad scan config {}", path.display()))?;
        let mut out = Vec::new();
        for c in config.category {
            if !selected(&c.name) {
                continue;
            }
            let missing = |what: &str| anyhow::anyhow!("{}: category {:?} needs `{what}`", path.display(), c.name);
            let source = match c.kind {
                SourceKind::Directory => Source::FullFileTimeList {
                    path: c.path.clone().ok_or_else(|| missing("path"))?,
                },
                SourceKind::Rsync => Source::Rsync {
                    url: c.url.clone().ok_or_else(|| missing("url"))?,
                    options: c.options.clone(),
                    strip_prefix: c.strip_prefix.clone(),
                },
                SourceKind::File => Source::File {
                    listing: c.path.clone().ok_or_else(|| missing("path"))?,
                    strip_prefix: c.strip_prefix.clone(),
                },
            };
            out.push(Job {
                name: c.name,
                source,
                excludes: c.excludes,
            });
        }
        if let Some(name) = include.iter().find(|n| !out.iter().any(|j| j.name == **n)) {
            bail!("category {name:?} is not in {}", path.display());
        }
        return Ok(out);
    }
    let source = if let Some(path) = &args.path {
        Source::FullFileTimeList { path: path.clone() }
    } else if let Some(url) = &args.rsync {
        Source::Rsync {
            url: url.clone(),
            options: args.rsync_options.clone(),
            strip_prefix: args.strip_prefix.clone(),
        }
    } else if let Some(listing) = &args.listing {
        Source::File {
            listing: listing.clone(),
            strip_prefix: args.strip_prefix.clone(),
        }
    } else {
        bail!("give a source (--path, --rsync or --listing) or --config");
    };
    if include.is_empty() {
        bail!("name the category to scan with --category");
    }
    Ok(include
        .iter()
        .filter(|n| selected(n))
        .map(|name| Job {
            name: (*name).to_owned(),
            source: source.clone(),
            excludes: Vec::new(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_selects_categories() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("scan.toml");
        std::fs::write(
            &cfg,
            "[[category]]\nname = \"Fedora Linux\"\ntype = \"directory\"\npath = \"/srv/linux\"\n\
             [[category]]\nname = \"Fedora EPEL\"\ntype = \"rsync\"\nurl = \"rsync://h/epel/\"\nexcludes = [\"x\"]\n",
        )
        .unwrap();
        let args = Args {
            config: Some(cfg.clone()),
            categories: vec!["^Fedora Linux".into()],
            ..Args::default()
        };
        let got = jobs(&args).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "Fedora EPEL");
        assert_eq!(got[0].excludes, ["x"]);
        let args = Args {
            config: Some(cfg),
            categories: vec!["Nope".into()],
            ..Args::default()
        };
        assert!(jobs(&args).is_err());
        let args = Args {
            categories: vec!["Fedora Linux".into()],
            ..Args::default()
        };
        assert!(jobs(&args).unwrap_err().to_string().contains("give a source"));
    }
}
