//! Assembles a [`Listing`] from entries arriving in any order: one place for the rules every source shares
//! (exclusion of whole subtrees, repository/ostree flags, readability inherited from parents, sorting).

use std::collections::{BTreeMap, HashMap};

use super::exclude::Excludes;
use super::listing::{DirFiles, ListedDir, ListedFile, Listing, SkipReason, Skipped, base_name, parent_of};

struct Dir {
    ctime: i64,
    /// World r+x on this directory itself; parents are applied in `finish`.
    own_readable: bool,
    /// `None`: files not read (unchanged).
    files: Option<BTreeMap<String, ListedFile>>,
    has_summary: bool,
    has_repodata: bool,
    has_objects: bool,
}

pub(crate) struct Builder<'a> {
    excludes: &'a Excludes,
    dirs: BTreeMap<String, Dir>,
    files: Vec<(String, ListedFile)>,
    excluded: Vec<String>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) outside_prefix: u64,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(excludes: &'a Excludes) -> Self {
        Builder {
            excludes,
            dirs: BTreeMap::new(),
            files: Vec::new(),
            excluded: Vec::new(),
            skipped: Vec::new(),
            outside_prefix: 0,
        }
    }

    pub(crate) fn skip(&mut self, what: impl Into<String>, reason: SkipReason) {
        self.skipped.push(Skipped {
            what: what.into(),
            reason,
        });
    }

    /// Whether `path` is excluded by a pattern or lies under an excluded directory; remembers excluded
    /// directories so their subtree is dropped even when the pattern would not match deeper paths.
    pub(crate) fn excluded(&mut self, path: &str) -> bool {
        if self
            .excluded
            .iter()
            .any(|e| path == e || (path.starts_with(e.as_str()) && path[e.len()..].starts_with('/')))
        {
            return true;
        }
        if self.excludes.is_excluded(path) {
            self.excluded.push(path.to_owned());
            return true;
        }
        false
    }

    /// Records a directory. `files_read == false` marks its files as not read (unchanged). A directory
    /// recorded twice keeps the last ctime and readability.
    pub(crate) fn dir(&mut self, path: &str, ctime: i64, own_readable: bool, files_read: bool) {
        if self.excluded(path) {
            return;
        }
        let d = self.dirs.entry(path.to_owned()).or_insert(Dir {
            ctime,
            own_readable,
            files: None,
            has_summary: false,
            has_repodata: false,
            has_objects: false,
        });
        d.ctime = ctime;
        d.own_readable = own_readable;
        if files_read && d.files.is_none() {
            d.files = Some(BTreeMap::new());
        }
    }

    /// Records a file of directory `dir` (attached in `finish`, so it may arrive before its directory).
    pub(crate) fn file(&mut self, dir: &str, file: ListedFile) {
        self.files.push((dir.to_owned(), file));
    }

    /// Records that `dir` has a `summary` file without listing it (unchanged directories on disk).
    pub(crate) fn mark_summary(&mut self, dir: &str) {
        if let Some(d) = self.dirs.get_mut(dir) {
            d.has_summary = true;
        }
    }

    /// Records that `dir` has a subdirectory `name` that is not itself listed (a symlinked directory,
    /// which is not followed but still counts for `repodata`/`objects`, as in os.walk's dirnames).
    pub(crate) fn mark_subdir(&mut self, dir: &str, name: &str) {
        if let Some(d) = self.dirs.get_mut(dir) {
            match name {
                "repodata" => d.has_repodata = true,
                "objects" => d.has_objects = true,
                _ => {}
            }
        }
    }

    pub(crate) fn finish(mut self) -> Listing {
        if !self.dirs.contains_key("") {
            self.dir("", 0, true, true);
        }
        for (dir, file) in std::mem::take(&mut self.files) {
            if self.excluded(&dir) {
                continue;
            }
            let path = super::listing::join(&dir, &file.name);
            match self.dirs.get_mut(&dir) {
                Some(d) => {
                    if file.name == "summary" {
                        d.has_summary = true;
                    }
                    if let Some(files) = &mut d.files {
                        files.insert(file.name.clone(), file);
                    }
                }
                None => self.skip(path, SkipReason::DirectoryNotListed),
            }
        }
        let child_flags: Vec<(String, &'static str)> = self
            .dirs
            .keys()
            .filter_map(|p| {
                let parent = parent_of(p)?;
                match base_name(p) {
                    "repodata" => Some((parent.to_owned(), "repodata")),
                    "objects" => Some((parent.to_owned(), "objects")),
                    _ => None,
                }
            })
            .collect();
        for (parent, name) in child_flags {
            self.mark_subdir(&parent, name);
        }

        let mut readable: HashMap<&str, bool> = HashMap::new();
        let mut dirs = Vec::with_capacity(self.dirs.len());
        for (path, d) in &self.dirs {
            let parent_ok = parent_of(path).and_then(|p| readable.get(p).copied()).unwrap_or(true);
            let r = d.own_readable && parent_ok;
            readable.insert(path, r);
            dirs.push(ListedDir {
                path: path.clone(),
                ctime: d.ctime,
                readable: r,
                files: match &d.files {
                    Some(files) => DirFiles::Listed(files.values().cloned().collect()),
                    None => DirFiles::Unchanged,
                },
                is_repository: d.has_repodata,
                is_ostree: d.has_summary && d.has_objects,
            });
        }
        Listing {
            dirs,
            skipped: self.skipped,
            outside_prefix: self.outside_prefix,
        }
    }
}

/// Seconds since the epoch of a UTC civil date and time, or `None` if a field is out of range.
pub(crate) fn epoch_seconds(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(mo) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_of_known_dates() {
        assert_eq!(epoch_seconds(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(epoch_seconds(2024, 4, 16, 12, 0, 0), Some(1_713_268_800));
        assert_eq!(epoch_seconds(2000, 3, 1, 0, 0, 0), Some(951_868_800));
        assert_eq!(epoch_seconds(2024, 13, 1, 0, 0, 0), None);
    }

    #[test]
    fn builder_applies_shared_rules() {
        let ex = Excludes::standard();
        let mut b = Builder::new(&ex);
        b.file(
            "a",
            ListedFile {
                name: "x".into(),
                size: 1,
                ctime: 5,
                link: false,
            },
        );
        b.dir("a", 10, true, true);
        b.dir("a/repodata", 11, true, true);
        b.dir("b", 12, false, true);
        b.dir("b/c", 13, true, true);
        b.dir("o", 14, true, true);
        b.dir("o/objects", 15, true, true);
        b.file(
            "o",
            ListedFile {
                name: "summary".into(),
                size: 1,
                ctime: 5,
                link: false,
            },
        );
        b.dir("s/.snapshot", 1, true, true);
        b.dir("s/.snapshot/deeper", 1, true, true);
        b.file(
            "missing",
            ListedFile {
                name: "y".into(),
                size: 1,
                ctime: 5,
                link: false,
            },
        );
        let l = b.finish();
        let paths: Vec<_> = l.dirs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["", "a", "a/repodata", "b", "b/c", "o", "o/objects"]);
        assert!(l.get("a").unwrap().is_repository);
        assert!(!l.get("b/c").unwrap().readable, "inherits the parent's");
        assert!(l.get("o").unwrap().is_ostree);
        assert_eq!(l.get("a").unwrap().files().unwrap()[0].name, "x");
        assert_eq!(
            l.skipped,
            [Skipped {
                what: "missing/y".into(),
                reason: SkipReason::DirectoryNotListed
            }]
        );
    }
}
