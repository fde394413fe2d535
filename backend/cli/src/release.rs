//! Release-day and end-of-life repository moves: MirrorManager's `mm2_move-devel-to-release` and
//! `mm2_move-to-archive` (reference §7).
//!
//! - [`move_devel_to_release`]: a week after a release, point the repositories of a category that still use the
//!   `development/V` tree at the matching `releases/V` directory (same prefix and arch, so `repo=fedora-V` keeps
//!   working).
//! - [`move_to_archive`]: once a release is end of life, point its repositories at the archive category's copy
//!   (`pub/fedora/linux/…` → `<archive topdir>/fedora/linux/…`), so clients are sent to archive mirrors.
//!
//! Unlike MirrorManager, which committed after every repository, one run is one transaction: an error midway
//! (a missing archive directory) leaves the database as it was, and `dry_run` rolls back after computing
//! everything. The messages are MirrorManager's, in the order it printed them.

use mirrorvane_db::{Connection, Database, DbError, Transaction, categories, repositories};

/// The category MirrorManager never archives (its directories live outside the Fedora tree).
pub const CODECS_CATEGORY: &str = "Fedora Codecs";
/// `--archive-category`'s default.
pub const DEFAULT_ARCHIVE_CATEGORY: &str = "Fedora Archive";
/// Stripped from a directory name before it is placed below the archive's top directory.
const SKIP_DIR_PREFIX: &str = "pub/";

/// One repository pointed at another directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The repository's id.
    pub repository: i64,
    /// Its prefix (unchanged by the move).
    pub prefix: Option<String>,
    /// Directory name before.
    pub from: String,
    /// Directory name after.
    pub to: String,
}

/// Where MirrorManager printed a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// A line MirrorManager's tool would have printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Where it goes.
    pub stream: Stream,
    /// The line, without newline.
    pub text: String,
}

/// What a run did (or, with `dry_run`, would have done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The repositories moved, in order.
    pub moves: Vec<Move>,
    /// Every line to print, in order (`old => new` lines included).
    pub messages: Vec<Message>,
    /// True when nothing was written.
    pub dry_run: bool,
}

impl Outcome {
    fn out(&mut self, text: String) {
        self.messages.push(Message {
            stream: Stream::Out,
            text,
        });
    }
    fn err(&mut self, text: String) {
        self.messages.push(Message {
            stream: Stream::Err,
            text,
        });
    }
}

/// Why a run changed nothing. The texts are MirrorManager's.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// `--category` names no category.
    #[error("Category '{name}' not found, exiting.\nAvailable categories:{}", list(available))]
    UnknownCategory {
        /// The name given.
        name: String,
        /// Every category, by name.
        available: Vec<String>,
    },
    /// `--archive-category` names no category.
    #[error("No category could be found by the name: {0}")]
    UnknownArchiveCategory(String),
    /// `--product` names no product.
    #[error("No such product: {0}")]
    UnknownProduct(String),
    /// The version does not exist for the product.
    #[error("Version {version} not found for product {product}")]
    UnknownVersion {
        /// The version given.
        version: String,
        /// The product it was looked up in.
        product: String,
    },
    /// `--repository` matches no repository prefix.
    #[error("No repository with prefix {0}")]
    UnknownRepository(String),
    /// The archive has no copy of a repository's directory; nothing was moved.
    #[error("Unable to find a directory in [{category}] for {directory}")]
    MissingArchiveDirectory {
        /// The archive category.
        category: String,
        /// The repository's current directory.
        directory: String,
    },
    /// The database failed; the transaction was rolled back.
    #[error(transparent)]
    Db(#[from] DbError),
}

fn list(names: &[String]) -> String {
    names.iter().map(|n| format!("\n\t{n}")).collect()
}

/// Which repositories [`move_to_archive`] moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every repository of a product's version.
    Version {
        /// Product name (`Fedora`).
        product: String,
        /// Version name (`26`).
        version: String,
    },
    /// Every repository (all arches) with this prefix (`updates-testing-f26`).
    Prefix(String),
}

/// The category named `name`, or the error listing every category.
async fn category_named(conn: &mut Connection, name: &str) -> Result<categories::CategoryRow, ReleaseError> {
    match categories::category_by_name(conn, name).await? {
        Some(c) => Ok(c),
        None => Err(ReleaseError::UnknownCategory {
            name: name.to_owned(),
            available: categories::category_names(conn).await?,
        }),
    }
}

/// `mirrorvane move-devel-to-release --version V --category C`.
///
/// For each repository of category `C` with a prefix whose directory name contains `development/V`: the target
/// is that name with `development/V` replaced by `releases/V`. A missing target is reported on stderr and
/// skipped; a target that already has a repository is skipped silently (MirrorManager: it would violate the
/// unique repository name). Otherwise the repository takes the target's name and directory and version `V`.
pub async fn move_devel_to_release(
    db: &Database,
    version: &str,
    category: &str,
    dry_run: bool,
) -> Result<Outcome, ReleaseError> {
    let mut tx = db.begin().await?;
    let category = category_named(&mut tx, category).await?;
    let Some(version_id) = repositories::version_id(&mut tx, category.product_id, version).await? else {
        return Err(ReleaseError::UnknownVersion {
            version: version.to_owned(),
            product: category.product,
        });
    };

    // MirrorManager matched `development/V` as a regular expression; a literal match is what was meant (a `.`
    // in `9.1` should not match any character).
    let old = format!("development/{version}");
    let new = format!("releases/{version}");
    let mut outcome = Outcome {
        dry_run,
        ..Outcome::default()
    };
    for r in repositories::of_category(&mut tx, category.id).await? {
        if r.prefix.as_deref().is_none_or(str::is_empty) {
            continue;
        }
        let Some(target) = replace_component(&r.directory, &old, &new) else {
            continue;
        };
        let Some(target_id) = categories::directory_id(&mut tx, &target).await? else {
            outcome.err(format!("target Directory({target}) not found, ignoring."));
            continue;
        };
        // Reads this transaction's earlier updates, like MirrorManager's session did.
        if repositories::directory_has_repository(&mut tx, target_id).await? {
            continue;
        }
        repositories::move_to_release(&mut tx, r.id, &target, version_id, target_id).await?;
        outcome.out(format!("{} => {target}", r.directory));
        outcome.moves.push(Move {
            repository: r.id,
            prefix: r.prefix,
            from: r.directory,
            to: target,
        });
    }
    finish(tx, dry_run).await?;
    Ok(outcome)
}

/// `mirrorvane move-to-archive`.
///
/// For each selected repository — skipping those already in the archive category and those of
/// [`CODECS_CATEGORY`] — the target is the archive category's top directory joined with the repository's
/// directory name less a leading `pub/`. A missing target aborts the whole run. The repository takes the target
/// directory and the archive category; prefix and arch stay, so `repo=…&arch=…` keeps resolving.
pub async fn move_to_archive(
    db: &Database,
    selection: &Selection,
    archive_category: &str,
    dry_run: bool,
) -> Result<Outcome, ReleaseError> {
    let mut tx = db.begin().await?;
    let repos = match selection {
        Selection::Version { product, version } => {
            let Some(product_row) = categories::product_by_name(&mut tx, product).await? else {
                return Err(ReleaseError::UnknownProduct(product.clone()));
            };
            let Some(version_id) = repositories::version_id(&mut tx, product_row.id, version).await? else {
                return Err(ReleaseError::UnknownVersion {
                    version: version.clone(),
                    product: product.clone(),
                });
            };
            repositories::places_of_version(&mut tx, version_id).await?
        }
        Selection::Prefix(prefix) => {
            let repos = repositories::places_of_prefix(&mut tx, prefix).await?;
            if repos.is_empty() {
                return Err(ReleaseError::UnknownRepository(prefix.clone()));
            }
            repos
        }
    };
    let Some(archive) = categories::category_by_name(&mut tx, archive_category).await? else {
        return Err(ReleaseError::UnknownArchiveCategory(archive_category.to_owned()));
    };

    let mut outcome = Outcome {
        dry_run,
        ..Outcome::default()
    };
    for r in repos {
        let (id, name, prefix) = (r.id, r.name, r.prefix);
        let shown_prefix = prefix.as_deref().unwrap_or("None");
        // Always set in our schema (repository.directory_id is NOT NULL); kept for MirrorManager's message.
        let Some(dir) = r.directory else {
            outcome.out(format!(
                "Repo {name} (prefix {shown_prefix}) has no directory, skipping."
            ));
            continue;
        };
        if r.category_id == archive.id {
            outcome.out(format!(
                "Repo {name} (prefix {shown_prefix}) is already archived, skipping."
            ));
            continue;
        }
        if r.category == CODECS_CATEGORY {
            outcome.out(format!(
                "Repo {name} (prefix {shown_prefix}) is in {CODECS_CATEGORY}, skipping."
            ));
            continue;
        }
        let subdir = dir.strip_prefix(SKIP_DIR_PREFIX).unwrap_or(&dir);
        // os.path.join: an empty top directory adds nothing.
        let target = if archive.topdir.is_empty() {
            subdir.to_owned()
        } else {
            format!("{}/{subdir}", archive.topdir.trim_end_matches('/'))
        };
        let Some(target_id) = categories::directory_id(&mut tx, &target).await? else {
            return Err(ReleaseError::MissingArchiveDirectory {
                category: archive_category.to_owned(),
                directory: dir,
            });
        };
        outcome.out(format!("{dir} => {target}"));
        repositories::move_to_category(&mut tx, id, target_id, archive.id).await?;
        outcome.moves.push(Move {
            repository: id,
            prefix,
            from: dir,
            to: target,
        });
    }
    finish(tx, dry_run).await?;
    Ok(outcome)
}

async fn finish(tx: Transaction<'_>, dry_run: bool) -> Result<(), DbError> {
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(())
}

/// `name` with the path segment(s) `old` (whole components: `development/4` matches in `…/development/4/…`,
/// not in `…/development/41/…`) replaced by `new`; `None` when `old` is not there.
fn replace_component(name: &str, old: &str, new: &str) -> Option<String> {
    let mut from = 0;
    while let Some(at) = name[from..].find(old).map(|i| i + from) {
        let end = at + old.len();
        let starts = at == 0 || name.as_bytes()[at - 1] == b'/';
        let ends = end == name.len() || name.as_bytes()[end] == b'/';
        if starts && ends {
            return Some(format!("{}{new}{}", &name[..at], &name[end..]));
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod component_tests {
    use super::replace_component;

    #[test]
    fn whole_components_only() {
        let r = |n: &str| replace_component(n, "development/4", "releases/4");
        assert_eq!(r("pub/fedora/linux/development/41/Everything/x86_64/os"), None);
        assert_eq!(
            r("pub/core/development/4/i386/os").as_deref(),
            Some("pub/core/releases/4/i386/os")
        );
        assert_eq!(r("development/4").as_deref(), Some("releases/4"));
        assert_eq!(r("pub/x-development/4/os"), None);
    }
}
