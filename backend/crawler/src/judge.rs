//! Whether a mirror's directory is up to date, from what a crawl saw of it: an rsync listing, `HEAD` answers, a
//! fetched `repomd.xml`. Pure functions; the crawl of a host decides what to ask and collects the verdicts.

use mirrorvane_scan::listing::ListedDir;

use crate::http::{Fetched, Head};
use crate::plan::{ExpectedFile, PlannedDir, RepomdVersions};

/// The state of one directory on one mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It holds what the primary holds (or, for `repodata`, an accepted push).
    UpToDate,
    /// It lacks something or holds something else; why.
    Stale(String),
    /// It could not be told (an error other than "missing"): the directory keeps the state it had.
    Unknown(String),
}

/// What a `repomd.xml` seen on a mirror was, for the propagation statistics: the timestamp of the known push it
/// matched, `None` for content matching no push the database knows.
pub type Observation = Option<i64>;

/// A directory's files against the mirror's listing of that directory (`None`: not in the listing).
pub fn files_in_listing(expected: &[ExpectedFile], listed: Option<&ListedDir>) -> Verdict {
    let Some(dir) = listed else {
        return Verdict::Stale("directory missing".into());
    };
    let files = dir.files().unwrap_or_default();
    for e in expected {
        match files.binary_search_by(|f| f.name.as_str().cmp(&e.name)) {
            Err(_) => return Verdict::Stale(format!("{} missing", e.name)),
            // A link on either side: its listed size is the link text's, so only presence counts.
            Ok(i) if !e.link && !files[i].link && files[i].size != e.size => {
                return Verdict::Stale(format!("{}: size {} instead of {}", e.name, files[i].size, e.size));
            }
            Ok(_) => {}
        }
    }
    Verdict::UpToDate
}

/// A directory's files against `HEAD` answers for them, in the same order.
pub fn files_by_head(expected: &[ExpectedFile], answers: &[Head]) -> Verdict {
    let mut unknown = None;
    for (e, answer) in expected.iter().zip(answers) {
        match answer {
            Head::Found(Some(size)) if !e.link && *size != e.size => {
                return Verdict::Stale(format!("{}: size {size} instead of {}", e.name, e.size));
            }
            // No Content-Length (some servers leave it out): presence is what can be told.
            Head::Found(_) => {}
            Head::Missing => return Verdict::Stale(format!("{} missing", e.name)),
            // The primary's directories checked are readable: a mirror refusing the file does not serve it.
            Head::Forbidden => return Verdict::Stale(format!("{}: forbidden", e.name)),
            Head::Failed(why) => unknown = unknown.or_else(|| Some(format!("{}: {why}", e.name))),
        }
    }
    match unknown {
        Some(why) => Verdict::Unknown(why),
        None => Verdict::UpToDate,
    }
}

/// A `repodata` directory by the `repomd.xml` fetched from the mirror.
pub fn repomd_fetched(versions: &RepomdVersions, fetched: &Fetched) -> (Verdict, Option<Observation>) {
    match fetched {
        Fetched::Found { sha256, .. } => match versions.by_sha256(sha256) {
            Some((_, true)) => (Verdict::UpToDate, Some(matched(versions, sha256))),
            Some((v, false)) => (
                Verdict::Stale(format!("repomd.xml of an older push ({})", v.timestamp)),
                Some(Some(v.timestamp)),
            ),
            None => (Verdict::Stale("repomd.xml matches no known push".into()), Some(None)),
        },
        Fetched::Missing => (Verdict::Stale("repomd.xml missing".into()), None),
        Fetched::Forbidden => (Verdict::Stale("repomd.xml: forbidden".into()), None),
        Fetched::Failed(why) => (Verdict::Unknown(format!("repomd.xml: {why}")), None),
    }
}

fn matched(versions: &RepomdVersions, sha256: &str) -> Observation {
    versions.by_sha256(sha256).map(|(v, _)| v.timestamp)
}

/// A `repodata` directory by its listed `repomd.xml` alone (no HTTP URL to fetch it from): by size.
pub fn repomd_by_size(versions: &RepomdVersions, listed: Option<&ListedDir>) -> (Verdict, Option<Observation>) {
    let Some(dir) = listed else {
        return (Verdict::Stale("directory missing".into()), None);
    };
    let files = dir.files().unwrap_or_default();
    let Some(file) = files.iter().find(|f| f.name == "repomd.xml") else {
        return (Verdict::Stale("repomd.xml missing".into()), None);
    };
    if file.link {
        // A link's listed size says nothing of the content.
        return (Verdict::UpToDate, None);
    }
    match versions.by_size(file.size) {
        Some((v, true)) => (Verdict::UpToDate, Some(Some(v.timestamp))),
        Some((v, false)) => (
            Verdict::Stale(format!("repomd.xml of an older push ({})", v.timestamp)),
            Some(Some(v.timestamp)),
        ),
        None => (
            Verdict::Stale(format!("repomd.xml of size {} matches no known push", file.size)),
            Some(None),
        ),
    }
}

/// A repository's directory is only as fresh as its `repodata`: where `X/repodata` was found stale, an up-to-date
/// verdict of `X` becomes stale too. A repository directory often holds no file of its own (`updates/41/…/x86_64`
/// has only `Packages/` and `repodata/`), so by its files alone it would be "up to date" wherever it exists, and a
/// mirrorlist (which lists repository directories) would send clients to a mirror whose metadata is pushes behind
/// — the metalink, which lists `repodata` directories, never did. Departs from MirrorManager on purpose
/// (ARCHITECTURE.md).
pub fn repositories_follow_repodata(dirs: &[PlannedDir], verdicts: &mut [(i64, Verdict)]) {
    use std::collections::{HashMap, HashSet};
    let path: HashMap<i64, &str> = dirs.iter().map(|d| (d.id, d.path.as_str())).collect();
    let stale_repos: HashSet<&str> = verdicts
        .iter()
        .filter(|(_, v)| matches!(v, Verdict::Stale(_)))
        .filter_map(|(id, _)| path.get(id)?.strip_suffix("repodata"))
        .filter_map(|parent| match parent {
            "" => Some(""),
            p => p.strip_suffix('/'),
        })
        .collect();
    if stale_repos.is_empty() {
        return;
    }
    for (id, v) in verdicts.iter_mut() {
        if *v == Verdict::UpToDate && path.get(id).is_some_and(|p| stale_repos.contains(p)) {
            *v = Verdict::Stale("its repodata is not up to date".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use mirrorvane_scan::listing::{DirFiles, ListedFile};

    use super::*;
    use crate::plan::RepomdVersion;

    fn file(name: &str, size: u64) -> ExpectedFile {
        ExpectedFile {
            name: name.into(),
            size,
            link: false,
        }
    }

    fn listed(files: &[(&str, u64, bool)]) -> ListedDir {
        let mut files: Vec<ListedFile> = files
            .iter()
            .map(|&(name, size, link)| ListedFile {
                name: name.into(),
                size,
                ctime: 0,
                link,
            })
            .collect();
        files.sort();
        ListedDir {
            path: "a".into(),
            ctime: 0,
            readable: true,
            files: DirFiles::Listed(files),
            is_repository: false,
            is_ostree: false,
        }
    }

    #[test]
    fn listings() {
        let expected = [
            file("a.iso", 10),
            ExpectedFile {
                link: true,
                ..file("latest", 99)
            },
        ];
        assert_eq!(
            files_in_listing(&expected, None),
            Verdict::Stale("directory missing".into())
        );
        let good = listed(&[("a.iso", 10, false), ("latest", 7, true), ("extra", 1, false)]);
        assert_eq!(files_in_listing(&expected, Some(&good)), Verdict::UpToDate);
        // The primary's link may be a plain file on the mirror.
        let copied = listed(&[("a.iso", 10, false), ("latest", 5, false)]);
        assert_eq!(files_in_listing(&expected, Some(&copied)), Verdict::UpToDate);
        let short = listed(&[("a.iso", 9, false), ("latest", 7, true)]);
        assert!(matches!(files_in_listing(&expected, Some(&short)), Verdict::Stale(w) if w.contains("size 9")));
        let missing = listed(&[("latest", 7, true)]);
        assert!(
            matches!(files_in_listing(&expected, Some(&missing)), Verdict::Stale(w) if w.contains("a.iso missing"))
        );
    }

    #[test]
    fn heads() {
        let expected = [file("a", 3), file("b", 4)];
        assert_eq!(
            files_by_head(&expected, &[Head::Found(Some(3)), Head::Found(None)]),
            Verdict::UpToDate
        );
        assert!(matches!(
            files_by_head(&expected, &[Head::Found(Some(3)), Head::Missing]),
            Verdict::Stale(_)
        ));
        assert!(matches!(
            files_by_head(&expected, &[Head::Found(Some(2)), Head::Found(Some(4))]),
            Verdict::Stale(_)
        ));
        assert!(matches!(
            files_by_head(&expected, &[Head::Failed("x".into()), Head::Found(Some(4))]),
            Verdict::Unknown(_)
        ));
        // A certain answer wins over an unknown one.
        assert!(matches!(
            files_by_head(&expected, &[Head::Failed("x".into()), Head::Forbidden]),
            Verdict::Stale(_)
        ));
    }

    #[test]
    fn repomds() {
        let v = |ts, size, sha: &str| RepomdVersion {
            timestamp: ts,
            size,
            sha256: Some(sha.into()),
        };
        let versions = RepomdVersions {
            versions: vec![v(300, 30, "cc"), v(200, 20, "bb"), v(100, 10, "aa")],
            accepted: 2,
        };
        let got = |sha: &str| Fetched::Found {
            sha256: sha.into(),
            size: 1,
        };
        assert_eq!(
            repomd_fetched(&versions, &got("cc")),
            (Verdict::UpToDate, Some(Some(300)))
        );
        assert_eq!(
            repomd_fetched(&versions, &got("bb")),
            (Verdict::UpToDate, Some(Some(200)))
        );
        assert!(matches!(
            repomd_fetched(&versions, &got("aa")),
            (Verdict::Stale(_), Some(Some(100)))
        ));
        assert!(matches!(
            repomd_fetched(&versions, &got("zz")),
            (Verdict::Stale(_), Some(None))
        ));
        assert!(matches!(
            repomd_fetched(&versions, &Fetched::Missing),
            (Verdict::Stale(_), None)
        ));
        assert!(matches!(
            repomd_fetched(&versions, &Fetched::Failed("t".into())),
            (Verdict::Unknown(_), None)
        ));
        let dir = listed(&[("repomd.xml", 20, false)]);
        assert_eq!(
            repomd_by_size(&versions, Some(&dir)),
            (Verdict::UpToDate, Some(Some(200)))
        );
        let old = listed(&[("repomd.xml", 10, false)]);
        assert!(matches!(
            repomd_by_size(&versions, Some(&old)),
            (Verdict::Stale(_), Some(Some(100)))
        ));
        assert!(matches!(
            repomd_by_size(&versions, Some(&listed(&[]))),
            (Verdict::Stale(_), None)
        ));
    }

    #[test]
    fn a_repository_directory_is_stale_when_its_repodata_is() {
        let dirs: Vec<PlannedDir> = [
            "",
            "repodata",
            "41/x86_64",
            "41/x86_64/repodata",
            "41/x86_64/Packages",
            "42",
        ]
        .iter()
        .zip(1..)
        .map(|(p, id)| PlannedDir {
            id,
            path: (*p).into(),
            check: crate::plan::Check::Nothing,
        })
        .collect();
        let stale = || Verdict::Stale("another push".into());
        let mut verdicts = vec![
            (1, Verdict::UpToDate),
            (2, stale()),
            (3, Verdict::UpToDate),
            (4, stale()),
            (5, Verdict::UpToDate),
            (6, Verdict::UpToDate),
        ];
        repositories_follow_repodata(&dirs, &mut verdicts);
        let stale_ids: Vec<i64> = verdicts
            .iter()
            .filter(|(_, v)| matches!(v, Verdict::Stale(_)))
            .map(|(id, _)| *id)
            .collect();
        // The top and 41/x86_64 follow their repodata; Packages and 42 keep their own verdicts.
        assert_eq!(stale_ids, [1, 2, 3, 4]);

        // Fresh repodata leaves its repository alone; an unknown one does not make it stale either.
        let mut verdicts = vec![(3, Verdict::UpToDate), (4, Verdict::Unknown("timeout".into()))];
        repositories_follow_repodata(&dirs, &mut verdicts);
        assert_eq!(verdicts[0].1, Verdict::UpToDate);
    }
}
