//! What a crawl compares a mirror with: per category, the primary's readable directories and what each must
//! hold — the files of its short list (name and size, or just the name for a symlink), or, for a `repodata`
//! directory, a `repomd.xml` of one of the accepted pushes.
//!
//! A `repodata` directory is judged by its `repomd.xml` alone: an accepted older `repomd.xml` names older
//! hash-named files, which is right for it, so comparing those with the newest push's would refuse a mirror dnf
//! can use.

use mirrorvane_db::categories::{self, ScannedDirectoryRow};
use mirrorvane_db::files::{self, FileDetailRow};
use mirrorvane_db::{Connection, DbError};
use mirrorvane_scan::store::relative;
use serde::Deserialize;

/// One category of the primary tree, as the crawler checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryPlan {
    /// The category's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its top directory (`pub/fedora/linux`), without slashes at the ends.
    pub topdir: String,
    /// Its readable directories, by path.
    pub dirs: Vec<PlannedDir>,
}

/// A directory and what a mirror must hold in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDir {
    /// The directory's id.
    pub id: i64,
    /// Its path below the category's top directory (`""` for the top).
    pub path: String,
    /// What to check.
    pub check: Check,
}

/// What a directory must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Nothing: a directory without files is up to date wherever it exists.
    Nothing,
    /// These files (the scanner's short list).
    Files(Vec<ExpectedFile>),
    /// A `repomd.xml` of one of the accepted pushes.
    Repomd(RepomdVersions),
}

/// A file a directory must hold.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExpectedFile {
    pub name: String,
    pub size: u64,
    /// A symlink on the primary: only its presence counts (a mirror may copy it as a link or as the file).
    #[serde(default)]
    pub link: bool,
}

/// The pushes of a `repomd.xml` the database knows, newest first, and how many of them a mirror may serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepomdVersions {
    /// Newest first; one per distinct content.
    pub versions: Vec<RepomdVersion>,
    /// The first `accepted` versions are up to date: the newest and the pushes before it that dnf still
    /// accepts through the metalink's alternates.
    pub accepted: usize,
}

/// One push of a `repomd.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepomdVersion {
    /// The repomd's own timestamp.
    pub timestamp: i64,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: Option<String>,
}

impl RepomdVersions {
    /// From a directory's `repomd.xml` details (any order); `behind` older pushes are accepted besides the
    /// newest. `None` when there is no detail.
    pub fn from_details<'a>(details: impl IntoIterator<Item = &'a FileDetailRow>, behind: usize) -> Option<Self> {
        let mut versions: Vec<RepomdVersion> = details
            .into_iter()
            .map(|d| RepomdVersion {
                timestamp: d.timestamp,
                size: u64::try_from(d.size).unwrap_or(0),
                sha256: d.sha256.as_ref().map(|s| s.to_ascii_lowercase()),
            })
            .collect();
        // Newest first; the same content recorded twice (a re-scan of an unchanged file) counts once.
        versions.sort_by_key(|v| std::cmp::Reverse(v.timestamp));
        let mut seen = std::collections::HashSet::new();
        versions.retain(|v| seen.insert((v.sha256.clone(), v.size)));
        if versions.is_empty() {
            return None;
        }
        let accepted = (1 + behind).min(versions.len());
        Some(RepomdVersions { versions, accepted })
    }

    /// The version whose SHA-256 is `sha256`, and whether it is accepted.
    pub fn by_sha256(&self, sha256: &str) -> Option<(&RepomdVersion, bool)> {
        let i = self
            .versions
            .iter()
            .position(|v| v.sha256.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(sha256)))?;
        Some((&self.versions[i], i < self.accepted))
    }

    /// Without the content (an rsync listing shows sizes only): the newest version of this size, and whether
    /// it is accepted. Two pushes of one size cannot be told apart this way; the newest is assumed.
    pub fn by_size(&self, size: u64) -> Option<(&RepomdVersion, bool)> {
        let i = self.versions.iter().position(|v| v.size == size)?;
        Some((&self.versions[i], i < self.accepted))
    }
}

/// Reads a category's plan: its readable directories with their short lists, and the `repomd.xml` versions of
/// its `repodata` directories.
pub async fn load(
    conn: &mut Connection,
    category: i64,
    name: &str,
    topdir: &str,
    behind: usize,
) -> Result<CategoryPlan, DbError> {
    let topdir = topdir.trim_matches('/').to_owned();
    let directories = categories::scanned_directories(conn, category).await?;
    let mut repomd: std::collections::HashMap<i64, Vec<FileDetailRow>> = std::collections::HashMap::new();
    for d in files::of_category(conn, category).await? {
        if d.filename == "repomd.xml" {
            repomd.entry(d.directory_id).or_default().push(d);
        }
    }
    let mut dirs: Vec<PlannedDir> = directories
        .into_iter()
        .filter(|d| bool::from(d.readable))
        .filter_map(|d| planned(d, &topdir, &mut repomd, behind))
        .collect();
    dirs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(CategoryPlan {
        id: category,
        name: name.to_owned(),
        topdir,
        dirs,
    })
}

fn planned(
    d: ScannedDirectoryRow,
    topdir: &str,
    repomd: &mut std::collections::HashMap<i64, Vec<FileDetailRow>>,
    behind: usize,
) -> Option<PlannedDir> {
    let path = relative(topdir, &d.name)?.to_owned();
    let is_repodata = path == "repodata" || path.ends_with("/repodata");
    let versions = repomd
        .remove(&d.id)
        .and_then(|details| RepomdVersions::from_details(&details, behind));
    let check = match versions {
        Some(v) if is_repodata => Check::Repomd(v),
        _ => {
            // A list the scanner wrote; anything else (damaged, an old pickle) checks nothing rather than
            // failing every mirror.
            let files: Vec<ExpectedFile> = serde_json::from_str(&d.files).unwrap_or_default();
            if files.is_empty() {
                Check::Nothing
            } else {
                Check::Files(files)
            }
        }
    };
    Some(PlannedDir { id: d.id, path, check })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(ts: i64, size: i64, sha: &str) -> FileDetailRow {
        FileDetailRow {
            directory_id: 1,
            filename: "repomd.xml".into(),
            timestamp: ts,
            size,
            md5: None,
            sha1: None,
            sha256: Some(sha.into()),
            sha512: None,
        }
    }

    #[test]
    fn newest_and_the_pushes_behind_are_accepted() {
        let details = [
            detail(100, 10, "AA"),
            detail(300, 30, "cc"),
            detail(200, 20, "bb"),
            detail(300, 30, "cc"),
        ];
        let v = RepomdVersions::from_details(&details, 1).unwrap();
        assert_eq!(
            v.versions.iter().map(|v| v.timestamp).collect::<Vec<_>>(),
            [300, 200, 100]
        );
        assert_eq!(v.accepted, 2);
        assert_eq!(v.by_sha256("CC").map(|(v, ok)| (v.timestamp, ok)), Some((300, true)));
        assert_eq!(v.by_sha256("bb").map(|(v, ok)| (v.timestamp, ok)), Some((200, true)));
        assert_eq!(v.by_sha256("aa").map(|(v, ok)| (v.timestamp, ok)), Some((100, false)));
        assert_eq!(v.by_sha256("dd"), None);
        assert_eq!(v.by_size(20).map(|(v, ok)| (v.timestamp, ok)), Some((200, true)));
        assert_eq!(v.by_size(10).map(|(_, ok)| ok), Some(false));
        let strict = RepomdVersions::from_details(&details, 0).unwrap();
        assert_eq!(strict.by_sha256("bb").map(|(_, ok)| ok), Some(false));
        assert_eq!(RepomdVersions::from_details(&[], 1), None);
    }

    #[test]
    fn paths_below_the_top() {
        assert_eq!(relative("pub/fedora/linux", "pub/fedora/linux"), Some(""));
        assert_eq!(
            relative("pub/fedora/linux", "pub/fedora/linux/releases"),
            Some("releases")
        );
        assert_eq!(relative("pub/fedora/linux", "pub/fedora/linuxx"), None);
        assert_eq!(relative("", "a/b"), Some("a/b"));
    }
}
