//! The tree model every source produces: one [`ListedDir`] per directory of a category, with its files.

/// A scanned category tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Sorted by path (byte order), so a parent always comes before its children; `""` (the category top
    /// directory) is always present and first.
    pub dirs: Vec<ListedDir>,
    /// Entries that could not be used, with the reason, for the caller to report.
    pub skipped: Vec<Skipped>,
    /// Entries of the source that lay outside the requested path prefix (rsync module or fullfiletimelist
    /// entries belonging to another category). Counted, not listed: they are expected, not problems.
    pub outside_prefix: u64,
}

/// One directory of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDir {
    /// Relative to the category top directory, `/`-separated, no leading or trailing `/`; `""` is the top.
    pub path: String,
    /// Seconds since the epoch. The category top directory's is 0 for fullfiletimelist sources (as
    /// MirrorManager forces it).
    pub ctime: i64,
    /// World-readable on the primary, and so are all its parents (mirrors can only copy what is readable).
    pub readable: bool,
    pub files: DirFiles,
    /// Has a `repodata/` subdirectory: a yum/dnf repository.
    pub is_repository: bool,
    /// Has a `summary` file and an `objects/` subdirectory: an ostree repository.
    pub is_ostree: bool,
}

/// The files of a directory, or why they were not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirFiles {
    /// Sorted by name, no duplicates.
    Listed(Vec<ListedFile>),
    /// The directory's ctime equals the one the caller already knows, so its files were not read (the
    /// disk walker skips per-file stats, as MirrorManager does): keep the stored file list.
    Unchanged,
}

/// A regular file, or a symlink that is not known to point at a directory, in a directory.
///
/// One rule for symlinks whatever the source: they are recorded as links, and a link's size is never compared
/// (on disk it is the target's, in an rsync listing or a fullfiletimelist the link text's; a mirror may copy the
/// link or the file). A link to a directory (`releases/latest`) is not a file: the disk walk and local
/// fullfiletimelist trees leave it out; an rsync listing cannot tell where a link points, so there it stays a
/// link, which only its presence can satisfy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListedFile {
    pub name: String,
    pub size: u64,
    /// Seconds since the epoch (ctime on disk and in fullfiletimelist, modification time in rsync
    /// listings: it is all rsync shows).
    pub ctime: i64,
    /// A symlink.
    pub link: bool,
}

/// An entry a source could not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The relative path, or for an unparsable listing line `line N: <text>` (truncated).
    pub what: String,
    pub reason: SkipReason,
}

/// Why an entry was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A listing line that does not have the expected shape.
    MalformedLine,
    /// A listing line or file name that is not UTF-8.
    NotUtf8,
    /// A device, socket or FIFO.
    SpecialFile,
    /// A symlink whose target does not exist.
    DanglingSymlink,
    /// A file whose directory is not in the listing.
    DirectoryNotListed,
    /// The entry disappeared while the tree was being read.
    Vanished,
    /// An I/O error reading the entry (e.g. a directory that cannot be listed): the text of the error.
    Io(String),
}

impl Listing {
    /// The directory at `path`, if listed.
    pub fn get(&self, path: &str) -> Option<&ListedDir> {
        self.dirs
            .binary_search_by(|d| d.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.dirs[i])
    }
}

impl ListedDir {
    /// The files, or `None` when they were not read ([`DirFiles::Unchanged`]).
    pub fn files(&self) -> Option<&[ListedFile]> {
        match &self.files {
            DirFiles::Listed(files) => Some(files),
            DirFiles::Unchanged => None,
        }
    }
}

/// The parent of a relative directory path: `None` for the top (`""`), `""` for a top-level directory.
pub fn parent_of(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    Some(path.rfind('/').map_or("", |i| &path[..i]))
}

/// The last component of a relative path.
pub fn base_name(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// `dir/name`, or `name` in the top directory.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        assert_eq!(parent_of(""), None);
        assert_eq!(parent_of("releases"), Some(""));
        assert_eq!(parent_of("releases/40/Everything"), Some("releases/40"));
        assert_eq!(base_name("releases/40"), "40");
        assert_eq!(base_name("releases"), "releases");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a/b");
    }

    #[test]
    fn byte_order_puts_parents_first() {
        let mut paths = ["a/b", "a-b", "a", "", "a.b/c", "a.b", "a/b/c"];
        paths.sort();
        for (i, p) in paths.iter().enumerate() {
            if let Some(parent) = parent_of(p) {
                assert!(paths[..i].contains(&parent), "{parent} before {p}");
            }
        }
    }
}
