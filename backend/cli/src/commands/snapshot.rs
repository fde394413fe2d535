//! `mirrorvane snapshot -o OUT`: build a snapshot from the database, or, with `--from-mm2-cache PATH`, convert a
//! MirrorManager cache instead (for deployments that keep MirrorManager's backend for now).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use mirrorvane_selector::snapshot;
use tracing::info;

use crate::mm2::{self, Stats, Warning};
use crate::write::write_atomically;

/// How many warnings are printed before the rest is only counted.
pub const SHOWN_WARNINGS: usize = 20;

/// Arguments of `mirrorvane snapshot`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Convert this MirrorManager mirrorlist cache (`mirrorlist_cache.proto`; gzip is detected and unpacked)
    /// instead of building from the database.
    #[arg(long = "from-mm2-cache", value_name = "PATH")]
    pub from_mm2_cache: Option<PathBuf>,
    /// Do not resolve netblocks given as DNS names (they are skipped).
    #[arg(long)]
    pub no_resolve: bool,
    /// Snapshot file to write. Written atomically; an existing file is kept as `OUT.prev`.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: PathBuf,
    /// Sign the snapshot with this secret key (`mirrorvane keygen`); edges given its public key accept only
    /// snapshots it signed.
    #[arg(long, value_name = "FILE", env = "MIRRORVANE_SIGN_KEY")]
    pub sign_key: Option<PathBuf>,
}

/// The secret key named by `--sign-key`, read.
fn sign_key(args: &Args) -> anyhow::Result<Option<mirrorvane_signature::SecretKey>> {
    let Some(path) = &args.sign_key else { return Ok(None) };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the signing key {}", path.display()))?;
    Ok(Some(
        mirrorvane_signature::SecretKey::from_text(&text)
            .with_context(|| format!("{} is not a signing key", path.display()))?,
    ))
}

/// The bytes to write: signed when there is a key.
fn finished(encoded: Vec<u8>, key: Option<&mirrorvane_signature::SecretKey>) -> Vec<u8> {
    match key {
        Some(k) => k.sign(&encoded),
        None => encoded,
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Counts of the snapshot.
    pub stats: Stats,
    /// Everything the conversion tolerated.
    pub warnings: Vec<Warning>,
    /// Size of the snapshot file.
    pub bytes: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl Outcome {
    /// The one-line summary printed at the end.
    pub fn summary(&self) -> String {
        let s = &self.stats;
        format!(
            "snapshot: {} hosts ({} private), {} categories, {} host categories, {} host sets, {} directories, \
             {} repositories, {} files ({} details), {} netblocks, {} warnings, {} bytes, {} ms",
            s.hosts,
            s.private_hosts,
            s.categories,
            s.host_categories,
            s.host_sets,
            s.directories,
            s.repositories,
            s.files,
            s.file_details,
            s.host_netblocks,
            self.warnings.len(),
            self.bytes,
            self.elapsed.as_millis(),
        )
    }
}

/// Builds from the database, encodes and writes; progress goes to stderr.
pub async fn run_from_database(db: &crate::db::Database, args: &Args) -> anyhow::Result<DatabaseOutcome> {
    let start = Instant::now();
    let progress = Progress::new();
    progress.0.set_message("reading database and building");
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let options = crate::builder::Options {
        created,
        resolve_names: !args.no_resolve,
    };
    let built = crate::builder::build(db, options)
        .await
        .with_context(|| format!("cannot build a snapshot from {}", db.url()))?;
    info!(ms = built.reading.as_millis() as u64, "read database");
    let key = sign_key(args)?;
    let encoded = progress.stage("encoding snapshot", || {
        finished(snapshot::encode(&built.snapshot), key.as_ref())
    });
    // Written every time, with this build's creation time: the file's age says how fresh the backend's view
    // is. Unchanged content keeps its content digest (the ETag `serve` publishes), so edges do not reload it.
    let unchanged = std::fs::read(&args.output)
        .ok()
        .and_then(|old| mirrorvane_signature::content_digest(&old))
        == mirrorvane_signature::content_digest(&encoded);
    progress
        .stage("writing snapshot", || write_atomically(&args.output, &encoded))
        .with_context(|| format!("cannot write snapshot {}", args.output.display()))?;
    progress.finish();
    Ok(DatabaseOutcome {
        unchanged,
        outcome: Outcome {
            stats: built.stats,
            warnings: Vec::new(),
            bytes: encoded.len(),
            elapsed: start.elapsed(),
        },
        warnings: built.warnings,
    })
}

/// What a build from the database produced.
#[derive(Debug, Clone)]
pub struct DatabaseOutcome {
    /// Counts, size and time (its `warnings` are the converter's and stay empty here).
    pub outcome: Outcome,
    /// What the builder tolerated.
    pub warnings: Vec<crate::builder::BuildWarning>,
    /// The file already held this content (it was rewritten with the new creation time).
    pub unchanged: bool,
}

impl DatabaseOutcome {
    /// The summary line, saying when the file was left as it was.
    pub fn summary(&self) -> String {
        let line = self.outcome.summary();
        if self.unchanged {
            format!("{line} (content unchanged)")
        } else {
            line
        }
    }
}

/// Reads, converts, encodes and writes; progress goes to stderr.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let progress = Progress::new();
    let path = args
        .from_mm2_cache
        .as_deref()
        .context("no MirrorManager cache given (--from-mm2-cache)")?;
    let bytes = progress.stage("reading cache", || mm2::load::read_bytes(path))?;
    info!(path = %path.display(), bytes = bytes.len(), "read MirrorManager cache");
    let cache = progress.stage("decoding protobuf", || mm2::load::decode(&bytes, path))?;
    drop(bytes);
    let conversion = progress
        .stage("converting", || mm2::convert(&cache))
        .with_context(|| format!("cannot convert MirrorManager cache {}", path.display()))?;
    // Freeing the decoded cache (millions of small vectors) takes a noticeable fraction of a second; let it
    // overlap encoding and writing.
    let freeing = std::thread::spawn(move || drop(cache));
    let key = sign_key(args)?;
    let encoded = progress.stage("encoding snapshot", || {
        finished(snapshot::encode(&conversion.snapshot), key.as_ref())
    });
    progress
        .stage("writing snapshot", || write_atomically(&args.output, &encoded))
        .with_context(|| format!("cannot write snapshot {}", args.output.display()))?;
    let _ = freeing.join();
    progress.finish();
    Ok(Outcome {
        stats: conversion.stats,
        warnings: conversion.warnings,
        bytes: encoded.len(),
        elapsed: start.elapsed(),
    })
}

/// The first [`SHOWN_WARNINGS`] warnings, one per line, then how many were left out.
pub fn warning_lines(warnings: &[Warning]) -> Vec<String> {
    let mut lines: Vec<String> = warnings
        .iter()
        .take(SHOWN_WARNINGS)
        .map(|w| format!("warning: {w}"))
        .collect();
    if warnings.len() > SHOWN_WARNINGS {
        lines.push(format!("warning: … and {} more", warnings.len() - SHOWN_WARNINGS));
    }
    lines
}

/// A spinner naming the current stage (hidden when stderr is not a terminal), plus one log line per stage.
struct Progress(ProgressBar);

impl Progress {
    fn new() -> Progress {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress(bar)
    }

    fn stage<T>(&self, name: &'static str, f: impl FnOnce() -> T) -> T {
        self.0.set_message(name);
        let t = Instant::now();
        let out = f();
        let ms = t.elapsed().as_millis() as u64;
        self.0.suspend(|| info!(stage = name, ms, "done"));
        out
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_warning_lists_are_cut() {
        let few: Vec<Warning> = (0..3).map(|host| Warning::MissingBandwidth { host }).collect();
        assert_eq!(warning_lines(&few).len(), 3);
        let many: Vec<Warning> = (0..25).map(|host| Warning::MissingBandwidth { host }).collect();
        let lines = warning_lines(&many);
        assert_eq!(lines.len(), SHOWN_WARNINGS + 1);
        assert_eq!(
            lines[0],
            "warning: host 0: no bandwidth in HostBandwidthCache; weight 1 assumed"
        );
        assert_eq!(lines[SHOWN_WARNINGS], "warning: … and 5 more");
    }
}
