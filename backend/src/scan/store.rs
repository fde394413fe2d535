//! The database side of `mirrorvane scan` (MirrorManager's UMDL `sync_directories`, `sync_repos` and
//! `age_file_details`, reference §5.1): read a category's tree with the database-free core, compare it with
//! the stored directories and write the difference.
//!
//! A scan of one category runs in three phases, so that a failure leaves the database as it was:
//! 1. read the stored state (directories with ctimes, arches, versions, repositories, file details);
//! 2. read the source (and, for disk and fullfiletimelist sources, checksum files and repository index
//!    files) on a blocking thread — every source-level failure surfaces here, before anything is written;
//! 3. write everything in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use sqlx::Row;

use super::age::{AgePolicy, expired_file_details};
use super::checksums::{self, ChecksumDetail};
use super::detect::{DetectConfig, NoRepo, RepoKind, VersionGuess, guess_repo};
use super::disk::{self, DiskError};
use super::filelist::short_filelist;
use super::fullfiletimelist::{self, FftError};
use super::listing::{ListedFile, Listing, SkipReason, base_name, join};
use super::prefix::PrefixRules;
use super::repomd::{RepoFile, repo_file_detail};
use super::rsync::{self, RsyncError};
use super::{ExcludeError, Excludes};
use crate::db::{self, Database, DbError, bulk};

/// Where a category's tree is read from (MirrorManager's `UMDL_MASTER_DIRECTORIES` types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Walk the tree at `path` (the category top directory) on disk.
    Disk { path: PathBuf },
    /// MirrorManager's `directory` type: the category's `fullfiletimelist-*` if there is one (readable bits
    /// and checksum files still come from the disk at `path`), else the disk walk. With
    /// [`ScanOptions::skip_fullfiletimelist`] this is [`Source::Disk`].
    FullFileTimeList { path: PathBuf },
    /// `rsync --list-only -r <options> <url>`; `strip_prefix` is removed from the listed names (e.g. the
    /// module-relative topdir when `url` names a whole module; `""` when `url` is the category top).
    Rsync {
        url: String,
        options: Vec<String>,
        strip_prefix: String,
    },
    /// A saved `rsync --list-only -r` listing (MirrorManager's `file` type).
    File { listing: PathBuf, strip_prefix: String },
}

impl Source {
    /// Whether the tree is on a local file system, so checksum and repository index files can be read
    /// (MirrorManager's `make_repo_file_details` is false for rsync and file sources).
    fn local_root(&self) -> Option<&Path> {
        match self {
            Source::Disk { path } | Source::FullFileTimeList { path } => Some(path),
            Source::Rsync { .. } | Source::File { .. } => None,
        }
    }

    /// Whether an absent directory means a deleted one (not for rsync listings, as in MirrorManager: a
    /// partial rsync run would otherwise delete half a category).
    fn complete(&self) -> bool {
        self.local_root().is_some()
    }
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Delete stored directories of the category that are no longer in the tree (disk and
    /// fullfiletimelist sources only).
    pub delete_directories: bool,
    /// Read the disk even where a fullfiletimelist exists.
    pub skip_fullfiletimelist: bool,
    /// File details are aged with [`AgePolicy::new`] of this (MirrorManager's `MAX_STALE_DAYS`).
    pub max_stale_days: i64,
    /// The current time (Unix seconds) for ageing: passed in so runs and tests are reproducible.
    pub now: i64,
    pub prefix_rules: PrefixRules,
    pub detect: DetectConfig,
    /// Exclude patterns besides the category's own and the standard ones (a config file's `excludes`).
    pub extra_excludes: Vec<String>,
}

impl ScanOptions {
    /// MirrorManager's defaults at time `now`.
    pub fn new(now: i64) -> ScanOptions {
        ScanOptions {
            delete_directories: false,
            skip_fullfiletimelist: false,
            max_stale_days: 4,
            now,
            prefix_rules: PrefixRules::builtin(),
            detect: DetectConfig::default(),
            extra_excludes: Vec::new(),
        }
    }
}

/// Why a category could not be scanned. Whatever the error, nothing of the category was written.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("unknown category {name:?}; known categories: {}", known.join(", "))]
    UnknownCategory { name: String, known: Vec<String> },
    #[error("category {0:?} has no product")]
    NoProduct(String),
    #[error("category {category:?}: bad exclude pattern: {source}")]
    Excludes {
        category: String,
        #[source]
        source: ExcludeError,
    },
    #[error(transparent)]
    Disk(#[from] DiskError),
    #[error("fullfiletimelist: {0}")]
    Fft(#[from] FftError),
    #[error(transparent)]
    Rsync(#[from] RsyncError),
    #[error("cannot read the listing {}: {source}", path.display())]
    Listing {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    /// The blocking reader thread died (a bug, reported rather than hidden).
    #[error("source reader failed: {0}")]
    Reader(String),
}

impl From<sqlx::Error> for ScanError {
    fn from(e: sqlx::Error) -> ScanError {
        ScanError::Db(DbError::Sql(e))
    }
}

/// Something a scan passed over, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// A path relative to the category top directory, or a listing line.
    pub what: String,
    pub reason: String,
}

/// What a scan of one category did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub category: String,
    /// Which reader produced the listing: `disk`, `fullfiletimelist`, `rsync` or `file`.
    pub source: &'static str,
    pub directories_seen: u64,
    /// Stored directories whose ctime changed (their file list was rewritten).
    pub directories_changed: u64,
    pub directories_new: u64,
    pub directories_deleted: u64,
    pub repositories_created: u64,
    pub versions_created: u64,
    pub file_details_added: u64,
    pub file_details_aged_out: u64,
    pub skipped: Vec<SkippedEntry>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        write!(
            f,
            "scan {}: {} {} seen, {} changed, {} new, {} deleted; {} {} and {} {} created; {} file {} added, {} aged out; {} skipped",
            self.category,
            self.directories_seen,
            plural(self.directories_seen, "directory", "directories"),
            self.directories_changed,
            self.directories_new,
            self.directories_deleted,
            self.repositories_created,
            plural(self.repositories_created, "repository", "repositories"),
            self.versions_created,
            plural(self.versions_created, "version", "versions"),
            self.file_details_added,
            plural(self.file_details_added, "detail", "details"),
            self.file_details_aged_out,
            self.skipped.len(),
        )
    }
}

/// Rows per multi-row INSERT (see where it is used).
const INSERT_CHUNK: usize = 100;

/// One stored directory of the category.
struct KnownDir {
    id: i64,
    ctime: i64,
    readable: bool,
    files: String,
}

/// A stored or new file detail, for the "identical row exists" test.
#[derive(Clone, PartialEq, Eq, Hash)]
struct DetailKey {
    dir: String,
    filename: String,
    timestamp: i64,
    size: i64,
    md5: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
    sha512: Option<String>,
}

/// What the blocking phase read.
struct Read {
    listing: Listing,
    source: &'static str,
    /// File details found on disk, keyed by relative directory path.
    details: Vec<(String, ChecksumDetail)>,
    skipped: Vec<SkippedEntry>,
}

/// Scans `category` (by name) from `source` and stores the result; see the module documentation.
pub async fn scan_category(
    db: &Database,
    category: &str,
    source: &Source,
    options: &ScanOptions,
) -> Result<Summary, ScanError> {
    let pool = db.pool();
    // Phase 1: stored state.
    let Some(cat) = sqlx::query(
        "SELECT c.id, c.topdir, c.excludes, p.id FROM category c LEFT JOIN product p ON p.id = c.product_id \
         WHERE c.name = $1",
    )
    .bind(category)
    .fetch_optional(pool)
    .await?
    else {
        let known = sqlx::query("SELECT name FROM category ORDER BY name")
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        return Err(ScanError::UnknownCategory {
            name: category.to_owned(),
            known,
        });
    };
    let category_id: i64 = cat.try_get(0)?;
    let topdir: String = cat.try_get::<String, _>(1)?.trim_matches('/').to_owned();
    let excludes_text: String = cat.try_get(2)?;
    let Some(product_id) = cat.try_get::<Option<i64>, _>(3)? else {
        return Err(ScanError::NoProduct(category.to_owned()));
    };
    let patterns: Vec<String> = excludes_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .chain(options.extra_excludes.iter().cloned())
        .collect();
    let excludes = Excludes::new(&topdir, &patterns).map_err(|source| ScanError::Excludes {
        category: category.to_owned(),
        source,
    })?;

    let mut known: HashMap<String, KnownDir> = HashMap::new();
    for r in sqlx::query("SELECT id, name, ctime, readable, files FROM directory WHERE category_id = $1")
        .bind(category_id)
        .fetch_all(pool)
        .await?
    {
        let name: String = r.try_get(1)?;
        let Some(rel) = relative(&topdir, &name) else { continue };
        known.insert(
            rel.to_owned(),
            KnownDir {
                id: r.try_get(0)?,
                ctime: r.try_get(2)?,
                readable: db::bool_at(&r, 3)?,
                files: r.try_get(4)?,
            },
        );
    }
    // Names of other categories' directories below our topdir: a directory belongs to one category, so
    // those are reported, not stolen.
    let mut foreign: HashSet<String> = HashSet::new();
    for r in sqlx::query("SELECT name FROM directory WHERE category_id <> $1 AND (name = $2 OR name LIKE $3)")
        .bind(category_id)
        .bind(&topdir)
        .bind(if topdir.is_empty() {
            "%".to_owned()
        } else {
            format!("{topdir}/%")
        })
        .fetch_all(pool)
        .await?
    {
        let name: String = r.try_get(0)?;
        if let Some(rel) = relative(&topdir, &name) {
            foreign.insert(rel.to_owned());
        }
    }

    // Phase 2: the source, off the async threads (a Fedora tree walk takes minutes).
    let stored: HashMap<String, (i64, bool)> = known.iter().map(|(k, v)| (k.clone(), (v.ctime, v.readable))).collect();
    let stored_has_repomd: HashSet<String> = known
        .iter()
        .filter(|(_, v)| v.files.contains("\"repomd.xml\"") || v.files.contains("\"summary\""))
        .map(|(k, _)| k.clone())
        .collect();
    let read = {
        let source = source.clone();
        let skip_fft = options.skip_fullfiletimelist;
        let category = category.to_owned();
        tokio::task::spawn_blocking(move || {
            read_source(&source, &category, skip_fft, &excludes, &stored, &stored_has_repomd)
        })
        .await
        .map_err(|e| ScanError::Reader(e.to_string()))??
    };

    // Phase 3: write.
    let arches: Vec<(i64, String)> = sqlx::query("SELECT id, name FROM arch ORDER BY name")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let mut versions: Vec<(i64, String)> =
        sqlx::query("SELECT id, name FROM version WHERE product_id = $1 ORDER BY id")
            .bind(product_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;

    let mut summary = Summary {
        category: category.to_owned(),
        source: read.source,
        directories_seen: read.listing.dirs.len() as u64,
        skipped: read.skipped,
        ..Summary::default()
    };
    let full_name = |rel: &str| full_name(&topdir, rel);

    let mut tx = pool.begin().await?;

    // Directories: new ones in bulk, changed ones one by one (a handful per run).
    let mut new_rows = Vec::new();
    for d in &read.listing.dirs {
        if foreign.contains(&d.path) {
            summary.skipped.push(SkippedEntry {
                what: d.path.clone(),
                reason: "the directory belongs to another category".into(),
            });
            continue;
        }
        match known.get(&d.path) {
            None => {
                let files = d.files().map(files_json).unwrap_or_else(|| "[]".into());
                new_rows.push(vec![
                    bulk::Value::from(full_name(&d.path)),
                    category_id.into(),
                    d.ctime.into(),
                    d.readable.into(),
                    files.into(),
                ]);
            }
            Some(k) => {
                let changed = k.ctime != d.ctime;
                let files = if changed { d.files().map(files_json) } else { None };
                if changed || k.readable != d.readable {
                    sqlx::query(
                        "UPDATE directory SET ctime = $1, readable = $2, files = COALESCE($3, files) WHERE id = $4",
                    )
                    .bind(d.ctime)
                    .bind(d.readable)
                    .bind(files)
                    .bind(k.id)
                    .execute(&mut *tx)
                    .await?;
                }
                if changed {
                    summary.directories_changed += 1;
                }
            }
        }
    }
    // Several small statements: SQLite (through sqlx) binds a statement's parameters in time that grows
    // faster than linearly, so one 30 000-parameter statement takes seconds where 100-row ones take
    // milliseconds; PostgreSQL does not mind either way.
    let mut rows = new_rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        summary.directories_new += bulk::insert(
            &mut tx,
            "directory",
            &["name", "category_id", "ctime", "readable", "files"],
            chunk,
        )
        .await?;
    }
    let mut ids: HashMap<String, i64> = HashMap::new();
    for r in sqlx::query("SELECT id, name FROM directory WHERE category_id = $1")
        .bind(category_id)
        .fetch_all(&mut *tx)
        .await?
    {
        let name: String = r.try_get(1)?;
        if let Some(rel) = relative(&topdir, &name) {
            ids.insert(rel.to_owned(), r.try_get(0)?);
        }
    }

    // File details: insert those with no identical row.
    let mut existing: HashSet<DetailKey> = HashSet::new();
    for r in sqlx::query(
        "SELECT d.name, f.filename, f.timestamp, f.size, f.md5, f.sha1, f.sha256, f.sha512 FROM file_detail f \
         JOIN directory d ON d.id = f.directory_id WHERE d.category_id = $1",
    )
    .bind(category_id)
    .fetch_all(&mut *tx)
    .await?
    {
        let name: String = r.try_get(0)?;
        let Some(rel) = relative(&topdir, &name) else { continue };
        existing.insert(DetailKey {
            dir: rel.to_owned(),
            filename: r.try_get(1)?,
            timestamp: r.try_get(2)?,
            size: r.try_get(3)?,
            md5: r.try_get(4)?,
            sha1: r.try_get(5)?,
            sha256: r.try_get(6)?,
            sha512: r.try_get(7)?,
        });
    }
    let mut detail_rows = Vec::new();
    for (dir, d) in read.details {
        let Some(&dir_id) = ids.get(&dir) else { continue };
        let key = DetailKey {
            dir,
            filename: d.filename,
            timestamp: d.ctime,
            size: i64::try_from(d.size).unwrap_or(i64::MAX),
            md5: d.md5,
            sha1: d.sha1,
            sha256: d.sha256,
            sha512: d.sha512,
        };
        if existing.insert(key.clone()) {
            detail_rows.push(vec![
                dir_id.into(),
                key.filename.into(),
                key.timestamp.into(),
                key.size.into(),
                key.md5.into(),
                key.sha1.into(),
                key.sha256.into(),
                key.sha512.into(),
            ]);
        }
    }
    for chunk in detail_rows.chunks(INSERT_CHUNK) {
        summary.file_details_added += bulk::insert(
            &mut tx,
            "file_detail",
            &[
                "directory_id",
                "filename",
                "timestamp",
                "size",
                "md5",
                "sha1",
                "sha256",
                "sha512",
            ],
            chunk.to_vec(),
        )
        .await?;
    }

    // Repositories, after all directories exist (MirrorManager's sync_repos).
    let mut with_repo: HashSet<i64> = HashSet::new();
    let mut by_prefix: HashSet<(String, i64)> = HashSet::new();
    for r in sqlx::query("SELECT directory_id, prefix, arch_id FROM repository")
        .fetch_all(&mut *tx)
        .await?
    {
        with_repo.insert(r.try_get(0)?);
        if let Some(prefix) = r.try_get::<Option<String>, _>(1)? {
            by_prefix.insert((prefix, r.try_get(2)?));
        }
    }
    let arch_names: Vec<&str> = arches.iter().map(|(_, n)| n.as_str()).collect();
    for d in &read.listing.dirs {
        let Some(kind) = RepoKind::of(d) else { continue };
        let Some(&dir_id) = ids.get(&d.path) else { continue };
        if with_repo.contains(&dir_id) {
            continue;
        }
        let version_names: Vec<&str> = versions.iter().map(|(_, n)| n.as_str()).collect();
        let guess = match guess_repo(&options.detect, kind, &topdir, &d.path, &arch_names, &version_names) {
            Ok(g) => g,
            // Edition trees and pub/alt are skipped by design, not problems worth a line each.
            Err(NoRepo::SkipRepoDir(_) | NoRepo::SkipPathForVersion(_)) => continue,
            Err(e) => {
                summary.skipped.push(SkippedEntry {
                    what: d.path.clone(),
                    reason: format!("no repository: {e}"),
                });
                continue;
            }
        };
        let Some(arch_id) = arches.iter().find(|(_, n)| *n == guess.arch).map(|(id, _)| *id) else {
            summary.skipped.push(SkippedEntry {
                what: d.path.clone(),
                reason: format!("no repository: arch {:?} is not in the database", guess.arch),
            });
            continue;
        };
        let version_name = guess.version.name().to_owned();
        let prefix = options.prefix_rules.prefix(category, &d.path, Some(&version_name));
        if let Some(p) = &prefix
            && by_prefix.contains(&(p.clone(), arch_id))
        {
            // MirrorManager reuses the existing (prefix, arch) repository without repointing it.
            continue;
        }
        let version_id = match versions.iter().find(|(_, n)| *n == version_name) {
            Some((id, _)) => *id,
            None => {
                let is_test = matches!(guess.version, VersionGuess::New { is_test: true, .. });
                let id: i64 =
                    sqlx::query("INSERT INTO version (product_id, name, is_test) VALUES ($1, $2, $3) RETURNING id")
                        .bind(product_id)
                        .bind(&version_name)
                        .bind(is_test)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                versions.push((id, version_name.clone()));
                summary.versions_created += 1;
                id
            }
        };
        sqlx::query(
            "INSERT INTO repository (name, prefix, category_id, version_id, arch_id, directory_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(full_name(&d.path))
        .bind(&prefix)
        .bind(category_id)
        .bind(version_id)
        .bind(arch_id)
        .bind(dir_id)
        .execute(&mut *tx)
        .await?;
        with_repo.insert(dir_id);
        if let Some(p) = prefix {
            by_prefix.insert((p, arch_id));
        }
        summary.repositories_created += 1;
    }

    // Vanished directories, children first (deleting cascades to their file details and repositories).
    if options.delete_directories {
        if source.complete() {
            // A directory that could not be read is absent from the listing but not gone.
            let unreadable: Vec<&str> = read
                .listing
                .skipped
                .iter()
                .filter(|s| matches!(s.reason, SkipReason::Io(_)))
                .map(|s| s.what.as_str())
                .collect();
            let mut gone: Vec<(&String, i64)> = known
                .iter()
                .filter(|(rel, _)| read.listing.get(rel).is_none())
                .filter(|(rel, _)| !unreadable.iter().any(|u| is_within(rel, u)))
                .map(|(rel, k)| (rel, k.id))
                .collect();
            gone.sort_by_key(|(rel, _)| std::cmp::Reverse(rel.matches('/').count() + usize::from(!rel.is_empty())));
            for (_, id) in gone {
                sqlx::query("DELETE FROM directory WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                summary.directories_deleted += 1;
            }
        } else {
            summary.skipped.push(SkippedEntry {
                what: "--delete-directories".into(),
                reason: "not applied to rsync listings (a partial listing would delete directories)".into(),
            });
        }
    }

    // Ageing (MirrorManager's Directory.age_file_details), over the whole category.
    let mut groups: BTreeMap<(i64, String), Vec<(i64, i64)>> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT f.id, f.directory_id, f.filename, f.timestamp FROM file_detail f \
         JOIN directory d ON d.id = f.directory_id WHERE d.category_id = $1",
    )
    .bind(category_id)
    .fetch_all(&mut *tx)
    .await?
    {
        groups
            .entry((r.try_get(1)?, r.try_get(2)?))
            .or_default()
            .push((r.try_get(0)?, r.try_get(3)?));
    }
    let expired = expired_file_details(
        groups.values().map(Vec::as_slice),
        options.now,
        AgePolicy::new(options.max_stale_days),
    );
    for chunk in expired.chunks(500) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        // Ids are our own integers, so inlining them is safe and saves one bind per row.
        summary.file_details_aged_out += sqlx::query(&format!("DELETE FROM file_detail WHERE id IN ({list})"))
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }

    tx.commit().await?;
    Ok(summary)
}

/// Reads the listing and, for local trees, the file details (checksum files of every directory; repomd.xml
/// and ostree summary files). Blocking.
fn read_source(
    source: &Source,
    category: &str,
    skip_fft: bool,
    excludes: &Excludes,
    known: &HashMap<String, (i64, bool)>,
    stored_has_repomd: &HashSet<String>,
) -> Result<Read, ScanError> {
    let known_ctime = |rel: &str| known.get(rel).map(|k| k.0);
    let (listing, kind) = match source {
        Source::Disk { path } => (disk::scan_disk(path, excludes, &known_ctime)?, "disk"),
        Source::FullFileTimeList { path } if skip_fft => (disk::scan_disk(path, excludes, &known_ctime)?, "disk"),
        Source::FullFileTimeList { path } => {
            // Fedora Linux's list lives one level up, in pub/fedora, and names entries `linux/…`.
            let (dir, strip) = match (category, path.parent(), path.file_name().and_then(|n| n.to_str())) {
                ("Fedora Linux", Some(parent), Some(name)) => (parent.to_owned(), name.to_owned()),
                _ => (path.clone(), String::new()),
            };
            match fullfiletimelist::find(&dir)? {
                Some(fft) => {
                    let mut listing = fullfiletimelist::read(&fft, &strip, excludes)?;
                    // The list has no permissions: unchanged directories keep the stored flag, changed ones
                    // are stat()ed (as MirrorManager did).
                    let unchanged = |d: &super::ListedDir| known.get(&d.path).is_some_and(|k| k.0 == d.ctime);
                    for d in &mut listing.dirs {
                        if let Some(&(ctime, readable)) = known.get(&d.path)
                            && ctime == d.ctime
                        {
                            d.readable = readable;
                        }
                    }
                    disk::fill_readable(path, &mut listing, &|d| !unchanged(d));
                    (listing, "fullfiletimelist")
                }
                None => (disk::scan_disk(path, excludes, &known_ctime)?, "disk"),
            }
        }
        Source::Rsync {
            url,
            options,
            strip_prefix,
        } => {
            match rsync::list_remote(url, options, strip_prefix, excludes) {
                Ok(l) => (l, "rsync"),
                // Files vanished during the listing: common on a live primary, and the listing is still
                // complete for what exists (MirrorManager used it too). Any other failure, including 23
                // (partial transfer — also what an unreadable top directory gives), stops the scan.
                Err(RsyncError::Failed {
                    code: Some(c @ 24),
                    stderr_tail,
                    listing,
                }) => {
                    let mut l = *listing;
                    l.skipped.push(super::Skipped {
                        what: format!("rsync exit code {c}"),
                        reason: SkipReason::Io(stderr_tail),
                    });
                    (l, "rsync")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Source::File { listing, strip_prefix } => {
            let file = std::fs::File::open(listing).map_err(|source| ScanError::Listing {
                path: listing.clone(),
                source,
            })?;
            let parsed =
                rsync::parse_listing(std::io::BufReader::new(file), strip_prefix, excludes).map_err(|source| {
                    ScanError::Listing {
                        path: listing.clone(),
                        source,
                    }
                })?;
            (parsed, "file")
        }
    };
    let mut skipped: Vec<SkippedEntry> = listing
        .skipped
        .iter()
        .map(|s| SkippedEntry {
            what: s.what.clone(),
            reason: reason_text(&s.reason),
        })
        .collect();
    let mut details = Vec::new();
    if let Some(root) = source.local_root() {
        for d in &listing.dirs {
            let dir = root.join(&d.path);
            match checksums::load_dir(&dir) {
                Ok(c) => {
                    for (file, e) in c.unreadable {
                        skipped.push(SkippedEntry {
                            what: join(&d.path, &file),
                            reason: format!("unreadable checksum file: {e}"),
                        });
                    }
                    details.extend(c.details.into_iter().map(|x| (d.path.clone(), x)));
                }
                Err(e) => skipped.push(SkippedEntry {
                    what: d.path.clone(),
                    reason: format!("cannot read checksum files: {e}"),
                }),
            }
            // Only the names are needed here; unchanged directories keep their stored list.
            let has = |name: &str| match d.files() {
                Some(files) => files.iter().any(|f| f.name == name),
                None => stored_has_repomd.contains(&d.path) && dir.join(name).is_file(),
            };
            let index = if base_name(&d.path) == "repodata" && has("repomd.xml") {
                Some(("repomd.xml", RepoFile::Repomd))
            } else if d.is_ostree && has("summary") {
                Some(("summary", RepoFile::OstreeSummary))
            } else {
                None
            };
            if let Some((name, kind)) = index {
                match repo_file_detail(&dir.join(name), kind) {
                    Ok(r) => details.push((
                        d.path.clone(),
                        ChecksumDetail {
                            filename: name.to_owned(),
                            size: r.hashes.size,
                            ctime: r.timestamp,
                            md5: Some(r.hashes.md5),
                            sha1: Some(r.hashes.sha1),
                            sha256: Some(r.hashes.sha256),
                            sha512: Some(r.hashes.sha512),
                        },
                    )),
                    Err(e) => skipped.push(SkippedEntry {
                        what: join(&d.path, name),
                        reason: e.to_string(),
                    }),
                }
            }
        }
    }
    Ok(Read {
        listing,
        source: kind,
        details,
        skipped,
    })
}

/// The stored `files` JSON of a changed directory: the short list, sorted by name.
fn files_json(files: &[ListedFile]) -> String {
    let list: Vec<serde_json::Value> = short_filelist(files)
        .into_iter()
        .map(|f| serde_json::json!({"name": f.name, "size": f.size, "timestamp": f.ctime}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// The Directory name of `rel`: `topdir/rel`, `topdir` for the top, `rel` when the topdir is empty.
pub fn full_name(topdir: &str, rel: &str) -> String {
    match (topdir.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_owned(),
        (false, true) => topdir.to_owned(),
        (false, false) => format!("{topdir}/{rel}"),
    }
}

/// The path of Directory `name` relative to `topdir`, if it is below it.
fn relative<'a>(topdir: &str, name: &'a str) -> Option<&'a str> {
    if topdir.is_empty() {
        return Some(name);
    }
    if name == topdir {
        return Some("");
    }
    name.strip_prefix(topdir)?.strip_prefix('/')
}

/// Whether `rel` is `dir` or below it.
fn is_within(rel: &str, dir: &str) -> bool {
    dir.is_empty() || rel == dir || rel.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

fn reason_text(r: &SkipReason) -> String {
    match r {
        SkipReason::MalformedLine => "malformed line".into(),
        SkipReason::NotUtf8 => "name is not UTF-8".into(),
        SkipReason::Symlink => "symlink (not recorded)".into(),
        SkipReason::SpecialFile => "device, socket or FIFO".into(),
        SkipReason::DanglingSymlink => "dangling symlink".into(),
        SkipReason::DirectoryNotListed => "its directory is not listed".into(),
        SkipReason::Vanished => "vanished while reading".into(),
        SkipReason::Io(e) => e.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(full_name("pub/fedora/linux", ""), "pub/fedora/linux");
        assert_eq!(full_name("pub/fedora/linux", "releases"), "pub/fedora/linux/releases");
        assert_eq!(full_name("", "releases"), "releases");
        assert_eq!(relative("pub/fedora/linux", "pub/fedora/linux"), Some(""));
        assert_eq!(relative("pub/fedora/linux", "pub/fedora/linux/a/b"), Some("a/b"));
        assert_eq!(relative("pub/fedora/linux", "pub/fedora/linuxx"), None);
        assert_eq!(relative("", "a"), Some("a"));
        assert!(is_within("a/b", "a") && is_within("a", "a") && !is_within("ab", "a") && is_within("x", ""));
    }

    #[test]
    fn summary_line() {
        let s = Summary {
            category: "Fedora Linux".into(),
            directories_seen: 25000,
            directories_changed: 120,
            directories_new: 3,
            repositories_created: 2,
            versions_created: 1,
            file_details_added: 14,
            file_details_aged_out: 3,
            ..Summary::default()
        };
        assert_eq!(
            s.to_string(),
            "scan Fedora Linux: 25000 directories seen, 120 changed, 3 new, 0 deleted; 2 repositories and 1 version \
             created; 14 file details added, 3 aged out; 0 skipped"
        );
    }
}
