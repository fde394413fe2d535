//! Arch and version of a repository directory (MirrorManager's `RepoMaker.make_repo` guessing).

use regex::Regex;

use super::listing::{ListedDir, base_name};

/// The knobs MirrorManager hard-coded or configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectConfig {
    /// A repository whose relative path contains one of these substrings is not made (`SKIP_REPO_DIRS`):
    /// Fedora's edition trees duplicate `Everything`.
    pub skip_repo_dirs: Vec<String>,
    /// A yum repository whose full Directory name starts with one of these is not made
    /// (`SKIP_PATHS_FOR_VERSION`).
    pub skip_paths_for_version: Vec<String>,
    /// The arch of every ostree repository (`OSTREE_ARCH`): ostree repos do not say theirs.
    pub ostree_arch: String,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            skip_repo_dirs: ["Cloud", "Workstation", "Server"].map(String::from).to_vec(),
            skip_paths_for_version: vec!["pub/alt".to_owned()],
            ostree_arch: "x86_64".to_owned(),
        }
    }
}

/// What kind of repository a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// Has `repodata/`: index file `repodata/repomd.xml`.
    Yum,
    /// Has `summary` and `objects/`: index file `summary`.
    Ostree,
}

impl RepoKind {
    /// The kind of `dir`, yum first (a directory with both is a yum repository, as in MirrorManager).
    pub fn of(dir: &ListedDir) -> Option<RepoKind> {
        if dir.is_repository {
            Some(RepoKind::Yum)
        } else if dir.is_ostree {
            Some(RepoKind::Ostree)
        } else {
            None
        }
    }
}

/// The version of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionGuess {
    /// One of the product's existing versions, by name.
    Existing(String),
    /// A version to create for the product.
    New { name: String, is_test: bool },
}

impl VersionGuess {
    pub fn name(&self) -> &str {
        match self {
            VersionGuess::Existing(name) | VersionGuess::New { name, .. } => name,
        }
    }
}

/// The arch and version of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoGuess {
    /// An arch name; `source` for `SRPMS` trees. The caller looks it up (none found → no repository).
    pub arch: String,
    pub version: VersionGuess,
}

/// Why no repository is made for a directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoRepo {
    #[error("the path contains {0:?} (skipped repository directories)")]
    SkipRepoDir(String),
    #[error("the directory is under {0:?} (skipped paths)")]
    SkipPathForVersion(String),
    #[error("no known arch in the path")]
    NoArch,
    #[error("no version in the path")]
    NoVersion,
}

/// Guesses arch and version of the repository at `rel` (relative to the category topdir `topdir`).
///
/// `arches`: the known arch names, any order (searched by name, as MirrorManager's table order).
/// `versions`: the names of the category product's versions in MirrorManager's order (by id).
pub fn guess_repo(
    config: &DetectConfig,
    kind: RepoKind,
    topdir: &str,
    rel: &str,
    arches: &[&str],
    versions: &[&str],
) -> Result<RepoGuess, NoRepo> {
    if let Some(skip) = config.skip_repo_dirs.iter().find(|s| rel.contains(s.as_str())) {
        return Err(NoRepo::SkipRepoDir(skip.clone()));
    }
    match kind {
        RepoKind::Yum => {
            let full = super::listing::join(topdir.trim_matches('/'), rel);
            if let Some(skip) = config
                .skip_paths_for_version
                .iter()
                .find(|s| full.starts_with(s.as_str()))
            {
                return Err(NoRepo::SkipPathForVersion(skip.clone()));
            }
            let version = guess_version(rel, versions);
            let arch = guess_arch(rel, arches).ok_or(NoRepo::NoArch)?;
            Ok(RepoGuess {
                arch,
                version: version.ok_or(NoRepo::NoVersion)?,
            })
        }
        RepoKind::Ostree => {
            // `atomic/rawhide`, `atomic/21`: the last component names the version.
            let last = base_name(rel.trim_end_matches('/'));
            let version = if versions.contains(&last) {
                Some(VersionGuess::Existing(last.to_owned()))
            } else {
                new_version_from_path(&format!("{}/", rel.trim_end_matches('/')))
            };
            Ok(RepoGuess {
                arch: config.ostree_arch.clone(),
                version: version.ok_or(NoRepo::NoVersion)?,
            })
        }
    }
}

/// `source` if the path contains `SRPMS`, else the first arch by name that is a whole path component.
pub fn guess_arch(rel: &str, arches: &[&str]) -> Option<String> {
    if rel.contains("SRPMS") {
        return Some("source".to_owned());
    }
    let mut sorted = arches.to_vec();
    sorted.sort_unstable();
    sorted.into_iter().find(|a| is_component(rel, a)).map(str::to_owned)
}

/// The first existing version that is a whole path component, else one derived from the path.
pub fn guess_version(rel: &str, versions: &[&str]) -> Option<VersionGuess> {
    versions
        .iter()
        .find(|v| is_component(rel, v))
        .map(|v| VersionGuess::Existing((*v).to_owned()))
        .or_else(|| new_version_from_path(rel))
}

/// Whether `name` occurs in `path` as a whole component: `(^|/)name(/|$)`. MirrorManager built that
/// regex with the name unescaped, so a version `9.newkey` also matched `9xnewkey`; we compare literally
/// on purpose.
fn is_component(path: &str, name: &str) -> bool {
    !name.is_empty() && path.split('/').any(|c| c == name)
}

/// MirrorManager's `_get_version_from_path` + `is_test`: Debian `dists/<name>/`, else the first
/// `/<digits and dots>[-_<word>]/` component, else `development` for rawhide.
///
/// Deliberate difference: the numeric component may also start the path (`9/Everything/x86_64`, EPEL's
/// layout). MirrorManager's current regex required a leading `/` there (its older one had `/?`), so a new
/// EPEL major version was never created from the path.
pub fn new_version_from_path(rel: &str) -> Option<VersionGuess> {
    static_regexes(|dists, numeric| {
        let name = if let Some(c) = dists.captures(rel) {
            c[1].to_owned()
        } else if let Some(c) = numeric.captures(rel) {
            c[1].to_owned()
        } else if rel.contains("rawhide") {
            "development".to_owned()
        } else {
            return None;
        };
        let is_test = rel.contains("/test/") || rel.contains("/stage/");
        Some(VersionGuess::New { name, is_test })
    })
}

fn static_regexes<T>(f: impl FnOnce(&Regex, &Regex) -> T) -> T {
    use std::sync::OnceLock;
    static RES: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (a, b) = RES.get_or_init(|| {
        (
            Regex::new(r"dists/(\w+)/").expect("valid"),
            Regex::new(r"(?:^|/)(([.\d]+)([-_]\w+)?)/").expect("valid"),
        )
    });
    f(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARCHES: &[&str] = &["x86_64", "aarch64", "ppc64le", "s390x", "i386", "source", "armhfp"];

    fn yum(rel: &str, versions: &[&str]) -> Result<RepoGuess, NoRepo> {
        guess_repo(
            &DetectConfig::default(),
            RepoKind::Yum,
            "pub/fedora/linux",
            rel,
            ARCHES,
            versions,
        )
    }

    fn existing(arch: &str, v: &str) -> Result<RepoGuess, NoRepo> {
        Ok(RepoGuess {
            arch: arch.into(),
            version: VersionGuess::Existing(v.into()),
        })
    }

    fn new(arch: &str, v: &str, is_test: bool) -> Result<RepoGuess, NoRepo> {
        Ok(RepoGuess {
            arch: arch.into(),
            version: VersionGuess::New {
                name: v.into(),
                is_test,
            },
        })
    }

    #[test]
    fn yum_repositories() {
        let versions = &["40", "39", "development"];
        assert_eq!(
            yum("releases/40/Everything/x86_64/os", versions),
            existing("x86_64", "40")
        );
        assert_eq!(
            yum("updates/39/Everything/aarch64", versions),
            existing("aarch64", "39")
        );
        assert_eq!(
            yum("releases/40/Everything/source/tree", versions),
            existing("source", "40")
        );
        assert_eq!(
            yum("releases/40/Everything/source/SRPMS", versions),
            existing("source", "40")
        );
        assert_eq!(
            yum("updates/41/Everything/x86_64", versions),
            new("x86_64", "41", false)
        );
        assert_eq!(
            yum("releases/test/41_Beta/Everything/x86_64/os", versions),
            new("x86_64", "41_Beta", true)
        );
        assert_eq!(
            yum("development/rawhide/Everything/x86_64/os", &[]),
            new("x86_64", "development", false)
        );
        assert_eq!(
            yum("development/rawhide/Everything/x86_64/os", versions),
            existing("x86_64", "development")
        );
        assert_eq!(
            yum("debian/dists/bookworm/main/binary-x86_64", &[]),
            Err(NoRepo::NoArch)
        );
        assert_eq!(
            yum("debian/dists/bookworm/main/x86_64", &[]),
            new("x86_64", "bookworm", false)
        );
        assert_eq!(yum("releases/40/Everything/mips/os", versions), Err(NoRepo::NoArch));
        assert_eq!(yum("extras/Everything/x86_64/os", &[]), Err(NoRepo::NoVersion));
        // Arches are tried by name, and only whole components count (x86_64 in "x86_64-extra" does not).
        assert_eq!(yum("40/x86_64-extra/aarch64", versions), existing("aarch64", "40"));
    }

    #[test]
    fn version_names_are_literal_and_epel_top_level_versions_are_found() {
        // MirrorManager's unescaped regex let "9.newkey" match "9xnewkey".
        assert_eq!(guess_version("9xnewkey/x86_64", &["9.newkey"]), None);
        assert_eq!(
            guess_version("9.newkey/x86_64", &["9.newkey"]),
            Some(VersionGuess::Existing("9.newkey".into()))
        );
        let epel = guess_repo(
            &DetectConfig::default(),
            RepoKind::Yum,
            "pub/epel",
            "10/Everything/x86_64",
            ARCHES,
            &["9", "8"],
        );
        assert_eq!(epel, new("x86_64", "10", false));
        let epel = guess_repo(
            &DetectConfig::default(),
            RepoKind::Yum,
            "pub/epel",
            "9/Everything/x86_64",
            ARCHES,
            &["8", "9"],
        );
        assert_eq!(epel, existing("x86_64", "9"));
    }

    #[test]
    fn skipped_directories() {
        assert_eq!(
            yum("releases/40/Server/x86_64/os", &["40"]),
            Err(NoRepo::SkipRepoDir("Server".into()))
        );
        assert_eq!(
            yum("releases/40/Workstation/x86_64/os", &["40"]),
            Err(NoRepo::SkipRepoDir("Workstation".into()))
        );
        let alt = guess_repo(
            &DetectConfig::default(),
            RepoKind::Yum,
            "pub/alt",
            "releases/40/x86_64",
            ARCHES,
            &["40"],
        );
        assert_eq!(alt, Err(NoRepo::SkipPathForVersion("pub/alt".into())));
        // Ostree repos are not subject to SKIP_PATHS_FOR_VERSION, only to SKIP_REPO_DIRS.
        let ostree = guess_repo(
            &DetectConfig::default(),
            RepoKind::Ostree,
            "pub/alt",
            "atomic/40",
            ARCHES,
            &[],
        );
        assert_eq!(ostree, new("x86_64", "40", false));
    }

    #[test]
    fn ostree_repositories() {
        let cfg = DetectConfig::default();
        let g = |rel, versions: &[&str]| guess_repo(&cfg, RepoKind::Ostree, "pub/fedora/linux", rel, ARCHES, versions);
        assert_eq!(g("atomic/21", &["21"]), existing("x86_64", "21"));
        assert_eq!(g("atomic/rawhide", &["21"]), new("x86_64", "development", false));
        assert_eq!(g("atomic/22/", &["21"]), new("x86_64", "22", false));
        assert_eq!(g("ostree/repo", &[]), Err(NoRepo::NoVersion));
    }

    #[test]
    fn kind_of_a_listed_dir() {
        let mut d = ListedDir {
            path: "x".into(),
            ctime: 0,
            readable: true,
            files: crate::DirFiles::Unchanged,
            is_repository: true,
            is_ostree: true,
        };
        assert_eq!(RepoKind::of(&d), Some(RepoKind::Yum));
        d.is_repository = false;
        assert_eq!(RepoKind::of(&d), Some(RepoKind::Ostree));
        d.is_ostree = false;
        assert_eq!(RepoKind::of(&d), None);
    }
}
