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

use mirrorvane_db::categories::{self, CategoryRow, NewDirectory};
use mirrorvane_db::files::{self, FileDetailRow};
use mirrorvane_db::repositories::{self, NewRepository, VersionRow};
use mirrorvane_db::{Connection, Database, DbError, scan_lock};

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
    /// With [`ScanOptions::delete_directories`]: the largest share of the category's stored directories one scan
    /// may delete (an unmounted share or a truncated fullfiletimelist looks like a mass deletion).
    pub max_delete_share: f64,
    /// Delete beyond [`ScanOptions::max_delete_share`], and scan a tree that does not look like the category's.
    pub force: bool,
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
    /// When the scan began reading the tree (Unix seconds, wall clock). A directory whose ctime is that second
    /// or later may change again within the second its ctime shows (a push landing while it is read), so it is
    /// stored as changed a second before: the next scan reads it again instead of trusting an equal ctime and
    /// keeping half a push. `None` turns the rule off (tests on fixed trees).
    pub started: Option<i64>,
}

impl ScanOptions {
    /// MirrorManager's defaults at time `now`.
    pub fn new(now: i64) -> ScanOptions {
        ScanOptions {
            delete_directories: false,
            max_delete_share: 0.1,
            force: false,
            skip_fullfiletimelist: false,
            max_stale_days: 4,
            now,
            prefix_rules: PrefixRules::builtin(),
            detect: DetectConfig::default(),
            extra_excludes: Vec::new(),
            started: None,
        }
    }
}

/// Why a category could not be scanned. Whatever the error, nothing of the category was written.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("unknown category {name:?}; known categories: {}", known.join(", "))]
    UnknownCategory { name: String, known: Vec<String> },
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
    /// The tree does not look like the category's; nothing was written.
    #[error("category {category:?}: {problem}; nothing was written (--force scans it as it is)")]
    WrongRoot { category: String, problem: String },
    /// Another scan of the category is running.
    #[error("category {category:?} is being scanned by {owner} (since {since}); try again when it is done")]
    Busy {
        category: String,
        owner: String,
        since: i64,
    },
    /// The blocking reader thread died (a bug, reported rather than hidden).
    #[error("source reader failed: {0}")]
    Reader(String),
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
    /// Repositories whose vanished directory came back.
    pub repositories_repointed: u64,
    pub versions_created: u64,
    pub file_details_added: u64,
    pub file_details_aged_out: u64,
    pub skipped: Vec<SkippedEntry>,
    /// Why `--delete-directories` deleted nothing although directories vanished: too many at once. The rest of
    /// the scan was written; the command reports it as a failure.
    pub deletion_refused: Option<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        write!(
            f,
            "scan {}: {} {} seen, {} changed, {} new, {} deleted; {} {} and {} {} created{}; {} file {} added, {} aged out; {} skipped",
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
            match self.repositories_repointed {
                0 => String::new(),
                n => format!(", {n} re-pointed at a returning directory"),
            },
            self.file_details_added,
            plural(self.file_details_added, "detail", "details"),
            self.file_details_aged_out,
            self.skipped.len(),
        )
    }
}

/// One stored directory of the category.
struct KnownDir {
    id: i64,
    ctime: i64,
    readable: bool,
    files: String,
}

/// What phase 1 read: the category and its stored directories.
struct Stored {
    category: CategoryRow,
    /// The category's top directory, without slashes at either end.
    topdir: String,
    excludes: Excludes,
    /// Stored directories by path relative to the top directory.
    known: HashMap<String, KnownDir>,
    /// Relative paths of other categories' directories below our top directory: a directory belongs to one
    /// category, so those are reported, not stolen.
    foreign: HashSet<String>,
}

impl Stored {
    /// The Directory name of `rel`.
    fn full_name(&self, rel: &str) -> String {
        full_name(&self.topdir, rel)
    }

    /// The path of Directory `name` relative to the top directory, if it is below it.
    fn relative<'a>(&self, name: &'a str) -> Option<&'a str> {
        relative(&self.topdir, name)
    }
}

/// What the blocking phase read.
struct Read {
    listing: Listing,
    source: &'static str,
    /// File details found on disk, keyed by relative directory path.
    details: Vec<(String, ChecksumDetail)>,
    skipped: Vec<SkippedEntry>,
}

/// How long a scan's lock lives without renewal, and how often it is renewed.
const LOCK_LEASE: i64 = 300;
const LOCK_RENEW: std::time::Duration = std::time::Duration::from_secs(60);

/// Scans `category` (by name) from `source` and stores the result; see the module documentation. Holds the
/// category's scan lock throughout, so a second scan of it fails with [`ScanError::Busy`] instead of interleaving.
pub async fn scan_category(
    db: &Database,
    category: &str,
    source: &Source,
    options: &ScanOptions,
) -> Result<Summary, ScanError> {
    let owner = lock_owner();
    let now = wall_clock();
    if let Err(holder) = scan_lock::take(db, category, &owner, now, now + LOCK_LEASE).await? {
        return Err(ScanError::Busy {
            category: category.to_owned(),
            owner: holder.owner,
            since: holder.taken_at,
        });
    }
    let renewal = {
        let (db, category, owner) = (db.clone(), category.to_owned(), owner.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(LOCK_RENEW).await;
                match scan_lock::renew(&db, &category, &owner, wall_clock() + LOCK_LEASE).await {
                    Ok(true) => {}
                    Ok(false) => tracing::error!("scan of {category}: the lock was lost"),
                    Err(e) => tracing::warn!("scan of {category}: cannot renew the lock: {e}"),
                }
            }
        })
    };
    let result = scan_locked(db, category, source, options).await;
    renewal.abort();
    if let Err(e) = scan_lock::release(db, category, &owner).await {
        tracing::warn!("scan of {category}: cannot release the lock (it expires by itself): {e}");
    }
    result
}

/// `host:pid:n`: unique per scan, and says where the holder runs.
fn lock_owner() -> String {
    static SCANS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    let n = SCANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{host}:{}:{n}", std::process::id())
}

fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn scan_locked(
    db: &Database,
    category: &str,
    source: &Source,
    options: &ScanOptions,
) -> Result<Summary, ScanError> {
    let stored = read_stored(db, category, options).await?;
    let read = read_source_off_thread(source, &stored, options).await?;
    if !options.force {
        check_root(category, source, &stored, &read.listing)?;
    }
    let mut summary = Summary {
        category: category.to_owned(),
        source: read.source,
        directories_seen: read.listing.dirs.len() as u64,
        skipped: read.skipped.clone(),
        ..Summary::default()
    };
    let mut tx = db.begin().await?;
    let ids = write_directories(&mut tx, &stored, &read.listing, options.started, &mut summary).await?;
    write_file_details(&mut tx, &stored, &ids, read.details, &mut summary).await?;
    write_repositories(&mut tx, &stored, &ids, &read.listing, options, &mut summary).await?;
    if options.delete_directories {
        delete_vanished(&mut tx, source, &stored, &read.listing, options, &mut summary).await?;
    }
    age_file_details(&mut tx, stored.category.id, options, &mut summary).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(summary)
}

/// Phase 1: the category, its exclude patterns and stored directories.
async fn read_stored(db: &Database, category: &str, options: &ScanOptions) -> Result<Stored, ScanError> {
    let mut conn = db.acquire().await?;
    let Some(row) = categories::category_by_name(&mut conn, category).await? else {
        return Err(ScanError::UnknownCategory {
            name: category.to_owned(),
            known: categories::category_names(&mut conn).await?,
        });
    };
    let topdir = row.topdir.trim_matches('/').to_owned();
    let patterns: Vec<String> = row
        .exclude_patterns()
        .map(str::to_owned)
        .chain(options.extra_excludes.iter().cloned())
        .collect();
    let excludes = Excludes::new(&topdir, &patterns).map_err(|source| ScanError::Excludes {
        category: category.to_owned(),
        source,
    })?;
    let mut known = HashMap::new();
    for d in categories::scanned_directories(&mut conn, row.id).await? {
        if let Some(rel) = relative(&topdir, &d.name) {
            known.insert(
                rel.to_owned(),
                KnownDir {
                    id: d.id,
                    ctime: d.ctime,
                    readable: d.readable.into(),
                    files: d.files,
                },
            );
        }
    }
    let foreign = categories::foreign_directory_names(&mut conn, row.id, &topdir)
        .await?
        .iter()
        .filter_map(|name| relative(&topdir, name).map(str::to_owned))
        .collect();
    Ok(Stored {
        category: row,
        topdir,
        excludes,
        known,
        foreign,
    })
}

/// Phase 2: the source, off the async threads (a Fedora tree walk takes minutes).
async fn read_source_off_thread(source: &Source, stored: &Stored, options: &ScanOptions) -> Result<Read, ScanError> {
    let known: HashMap<String, (i64, bool)> = stored
        .known
        .iter()
        .map(|(k, v)| (k.clone(), (v.ctime, v.readable)))
        .collect();
    let has_repomd: HashSet<String> = stored
        .known
        .iter()
        .filter(|(_, v)| v.files.contains("\"repomd.xml\"") || v.files.contains("\"summary\""))
        .map(|(k, _)| k.clone())
        .collect();
    let source = source.clone();
    let skip_fft = options.skip_fullfiletimelist;
    let category = stored.category.name.clone();
    let excludes = stored.excludes.clone();
    tokio::task::spawn_blocking(move || read_source(&source, &category, skip_fft, &excludes, &known, &has_repomd))
        .await
        .map_err(|e| ScanError::Reader(e.to_string()))?
}

/// Creates new directories (in bulk) and updates changed ones; returns every directory id of the category by
/// relative path.
async fn write_directories(
    conn: &mut Connection,
    stored: &Stored,
    listing: &Listing,
    started: Option<i64>,
    summary: &mut Summary,
) -> Result<HashMap<String, i64>, ScanError> {
    // See `ScanOptions::started`.
    let settled = |ctime: i64| match started {
        Some(s) if ctime >= s => s - 1,
        _ => ctime,
    };
    let mut new = Vec::new();
    for d in &listing.dirs {
        if stored.foreign.contains(&d.path) {
            summary.skipped.push(SkippedEntry {
                what: d.path.clone(),
                reason: "the directory belongs to another category".into(),
            });
            continue;
        }
        match stored.known.get(&d.path) {
            None => new.push(NewDirectory {
                name: stored.full_name(&d.path),
                category_id: stored.category.id,
                ctime: settled(d.ctime),
                readable: d.readable,
                files: d.files().map(files_json).unwrap_or_else(|| "[]".into()),
            }),
            Some(k) => {
                let changed = k.ctime != d.ctime;
                if changed || k.readable != d.readable {
                    let files = if changed { d.files().map(files_json) } else { None };
                    categories::update_scanned_directory(&mut *conn, k.id, settled(d.ctime), d.readable, files).await?;
                }
                if changed {
                    summary.directories_changed += 1;
                }
            }
        }
    }
    summary.directories_new += categories::insert_directories(&mut *conn, new).await?;
    Ok(categories::directories_of(&mut *conn, stored.category.id)
        .await?
        .into_iter()
        .filter_map(|d| Some((stored.relative(&d.name)?.to_owned(), d.id)))
        .collect())
}

/// Inserts the file details read from the tree that have no identical stored row.
async fn write_file_details(
    conn: &mut Connection,
    stored: &Stored,
    ids: &HashMap<String, i64>,
    details: Vec<(String, ChecksumDetail)>,
    summary: &mut Summary,
) -> Result<(), ScanError> {
    let mut existing: HashSet<FileDetailRow> = files::of_category(&mut *conn, stored.category.id)
        .await?
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for (dir, d) in details {
        let Some(&directory_id) = ids.get(&dir) else { continue };
        let row = FileDetailRow {
            directory_id,
            filename: d.filename,
            timestamp: d.ctime,
            size: i64::try_from(d.size).unwrap_or(i64::MAX),
            md5: d.md5,
            sha1: d.sha1,
            sha256: d.sha256,
            sha512: d.sha512,
        };
        if existing.insert(row.clone()) {
            rows.push((None, row));
        }
    }
    summary.file_details_added += files::insert(&mut *conn, rows).await?;
    Ok(())
}

/// Creates the repositories of repository and ostree directories that have none (MirrorManager's `sync_repos`,
/// after all directories exist), and the versions they need.
async fn write_repositories(
    conn: &mut Connection,
    stored: &Stored,
    ids: &HashMap<String, i64>,
    listing: &Listing,
    options: &ScanOptions,
    summary: &mut Summary,
) -> Result<(), ScanError> {
    let product = stored.category.product_id;
    let mut arches = repositories::arches(&mut *conn).await?;
    arches.sort_by(|a, b| a.name.cmp(&b.name));
    let arch_names: Vec<&str> = arches.iter().map(|a| a.name.as_str()).collect();
    let mut versions = repositories::versions_of_product(&mut *conn, product).await?;
    let mut with_repo: HashSet<i64> = HashSet::new();
    let mut by_prefix: HashSet<(String, i64)> = HashSet::new();
    // Repositories whose directory vanished, by the directory name they recorded.
    let mut waiting: HashMap<String, i64> = HashMap::new();
    for r in repositories::keys(&mut *conn).await? {
        match r.directory_id {
            Some(d) => {
                with_repo.insert(d);
            }
            None => {
                waiting.insert(r.name, r.id);
            }
        }
        if let Some(prefix) = r.prefix {
            by_prefix.insert((prefix, r.arch_id));
        }
    }
    for d in &listing.dirs {
        let Some(kind) = RepoKind::of(d) else { continue };
        let Some(&dir_id) = ids.get(&d.path) else { continue };
        if with_repo.contains(&dir_id) {
            continue;
        }
        let name = stored.full_name(&d.path);
        if let Some(id) = waiting.remove(&name) {
            // The directory came back: its repository (prefix, flags, propagation history) with it.
            repositories::repoint(&mut *conn, id, dir_id, &name).await?;
            with_repo.insert(dir_id);
            summary.repositories_repointed += 1;
            continue;
        }
        let version_names: Vec<&str> = versions.iter().map(|v| v.name.as_str()).collect();
        let guess = match guess_repo(
            &options.detect,
            kind,
            &stored.topdir,
            &d.path,
            &arch_names,
            &version_names,
        ) {
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
        let Some(arch_id) = arches.iter().find(|a| a.name == guess.arch).map(|a| a.id) else {
            summary.skipped.push(SkippedEntry {
                what: d.path.clone(),
                reason: format!("no repository: arch {:?} is not in the database", guess.arch),
            });
            continue;
        };
        let version_name = guess.version.name().to_owned();
        let prefix = options
            .prefix_rules
            .prefix(&stored.category.name, &d.path, Some(&version_name));
        if let Some(p) = &prefix
            && by_prefix.contains(&(p.clone(), arch_id))
        {
            // MirrorManager reuses the existing (prefix, arch) repository without repointing it.
            continue;
        }
        let version_id = match versions.iter().find(|v| v.name == version_name) {
            Some(v) => v.id,
            None => {
                let is_test = matches!(guess.version, VersionGuess::New { is_test: true, .. });
                let id = repositories::insert_version(&mut *conn, product, &version_name, is_test).await?;
                versions.push(VersionRow {
                    id,
                    name: version_name.clone(),
                });
                summary.versions_created += 1;
                id
            }
        };
        repositories::insert(
            &mut *conn,
            &NewRepository {
                name: stored.full_name(&d.path),
                prefix: prefix.clone(),
                category_id: stored.category.id,
                version_id,
                arch_id,
                directory_id: dir_id,
            },
        )
        .await?;
        with_repo.insert(dir_id);
        if let Some(p) = prefix {
            by_prefix.insert((p, arch_id));
        }
        summary.repositories_created += 1;
    }
    Ok(())
}

/// Refuses a tree that is probably not the category's top directory: one that contains the category's top
/// directory (or its last components) again — a `--path` one level too high stores doubled paths whose mirror
/// URLs all 404 — or one that shares no directory with those stored for the category.
fn check_root(category: &str, source: &Source, stored: &Stored, listing: &Listing) -> Result<(), ScanError> {
    let wrong = |problem: String| {
        Err(ScanError::WrongRoot {
            category: category.to_owned(),
            problem,
        })
    };
    let root = match source {
        Source::Disk { path } | Source::FullFileTimeList { path } => path.display().to_string(),
        Source::Rsync { url, .. } => url.clone(),
        Source::File { listing, .. } => listing.display().to_string(),
    };
    let components: Vec<&str> = stored.topdir.split('/').filter(|c| !c.is_empty()).collect();
    for start in 0..components.len() {
        let suffix = components[start..].join("/");
        let nested = listing.get(&suffix).is_some()
            && listing
                .dirs
                .iter()
                .any(|d| is_within(&d.path, &suffix) && d.path != suffix)
            && !stored.known.contains_key(&suffix);
        if nested {
            let meant = match source {
                Source::Rsync { .. } | Source::File { .. } => {
                    format!("the listing's names probably need --strip-prefix {suffix}/")
                }
                _ => format!(
                    "the category's top directory is probably {}/{suffix}",
                    root.trim_end_matches('/')
                ),
            };
            return wrong(format!(
                "{root} contains {suffix}/ again, so it looks like it lies above the category's top directory                  {:?}: {meant}",
                stored.topdir
            ));
        }
    }
    let stored_below_top = stored.known.keys().filter(|k| !k.is_empty()).count();
    let shared = listing
        .dirs
        .iter()
        .filter(|d| !d.path.is_empty() && stored.known.contains_key(&d.path))
        .count();
    let seen = listing.dirs.iter().filter(|d| !d.path.is_empty()).count();
    // A handful of stored directories may all have moved; ten or more, or an empty tree, is a wrong root.
    if stored_below_top > 0 && shared == 0 && (seen == 0 || stored_below_top >= 10) {
        return wrong(format!(
            "none of the {stored_below_top} directories stored for the category is in {root} ({seen} found there): \
             is it the right tree, and mounted?"
        ));
    }
    Ok(())
}

/// Deletes stored directories that are no longer in a complete listing, children first. Their file details go
/// with them; their repositories stay, pointing nowhere, until the directory comes back (a later scan points
/// them at it) or `move-devel-to-release` points them elsewhere.
async fn delete_vanished(
    conn: &mut Connection,
    source: &Source,
    stored: &Stored,
    listing: &Listing,
    options: &ScanOptions,
    summary: &mut Summary,
) -> Result<(), ScanError> {
    if !source.complete() {
        summary.skipped.push(SkippedEntry {
            what: "--delete-directories".into(),
            reason: "not applied to rsync listings (a partial listing would delete directories)".into(),
        });
        return Ok(());
    }
    // A directory that could not be read is absent from the listing but not gone.
    let unreadable: Vec<&str> = listing
        .skipped
        .iter()
        .filter(|s| matches!(s.reason, SkipReason::Io(_)))
        .map(|s| s.what.as_str())
        .collect();
    let mut gone: Vec<(&String, i64)> = stored
        .known
        .iter()
        .filter(|(rel, _)| listing.get(rel).is_none())
        .filter(|(rel, _)| !unreadable.iter().any(|u| is_within(rel, u)))
        .map(|(rel, k)| (rel, k.id))
        .collect();
    // The guard: nothing from an empty listing, and no more than the allowed share, unless forced.
    let stored_count = stored.known.len();
    let seen_below_top = listing.dirs.iter().filter(|d| !d.path.is_empty()).count();
    let share = gone.len() as f64 / stored_count.max(1) as f64;
    if !gone.is_empty() && !options.force && (seen_below_top == 0 || share > options.max_delete_share) {
        let why = if seen_below_top == 0 {
            "the tree is empty (an unmounted share?)".to_owned()
        } else {
            format!(
                "that is {:.1} % of its {stored_count} directories, more than the allowed {:.1} %",
                share * 100.0,
                options.max_delete_share * 100.0
            )
        };
        summary.deletion_refused = Some(format!(
            "refused to delete {} vanished {}: {why}; if they are really gone, run again with --force",
            gone.len(),
            if gone.len() == 1 { "directory" } else { "directories" },
        ));
        return Ok(());
    }
    gone.sort_by_key(|(rel, _)| std::cmp::Reverse(rel.matches('/').count() + usize::from(!rel.is_empty())));
    for (_, id) in gone {
        summary.directories_deleted += categories::delete_directory(&mut *conn, id).await?;
    }
    Ok(())
}

/// MirrorManager's `Directory.age_file_details`, over the whole category.
async fn age_file_details(
    conn: &mut Connection,
    category: i64,
    options: &ScanOptions,
    summary: &mut Summary,
) -> Result<(), ScanError> {
    let mut groups: BTreeMap<(i64, String), Vec<(i64, i64)>> = BTreeMap::new();
    for v in files::versions_of_category(&mut *conn, category).await? {
        groups
            .entry((v.directory_id, v.filename))
            .or_default()
            .push((v.id, v.timestamp));
    }
    let expired = expired_file_details(
        groups.values().map(Vec::as_slice),
        options.now,
        AgePolicy::new(options.max_stale_days),
    );
    summary.file_details_aged_out += files::delete(&mut *conn, &expired).await?;
    Ok(())
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
                    let unchanged = |d: &crate::ListedDir| known.get(&d.path).is_some_and(|k| k.0 == d.ctime);
                    for d in &mut listing.dirs {
                        if let Some(&(ctime, readable)) = known.get(&d.path)
                            && ctime == d.ctime
                        {
                            d.readable = readable;
                        }
                    }
                    disk::fill_readable(path, &mut listing, &|d| !unchanged(d));
                    disk::drop_directory_links(path, &mut listing);
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
                    l.skipped.push(crate::Skipped {
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

/// The stored `files` JSON of a changed directory: the short list, sorted by name; links say so (the crawler
/// checks only their presence).
fn files_json(files: &[ListedFile]) -> String {
    let list: Vec<serde_json::Value> = short_filelist(files)
        .into_iter()
        .map(|f| {
            if f.link {
                serde_json::json!({"name": f.name, "size": f.size, "timestamp": f.ctime, "link": true})
            } else {
                serde_json::json!({"name": f.name, "size": f.size, "timestamp": f.ctime})
            }
        })
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
pub fn relative<'a>(topdir: &str, name: &'a str) -> Option<&'a str> {
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
