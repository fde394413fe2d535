//! Walks a category tree on a local (or NFS-mounted) file system, as MirrorManager's `DiskDirSynchronizer`.
//!
//! Symlinked directories are not followed (os.walk's default), so the walk never leaves the tree; they
//! still count as subdirectories for the `repodata`/`objects` flags, as they did in os.walk's `dirnames`.
//! Symlinked files are listed with their target's size and ctime; dangling ones are skipped with a reason.
//! Per-category excludes apply here too (MirrorManager's disk walker applied only the standard ones).

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::assemble::Builder;
use super::exclude::Excludes;
use super::listing::{ListedFile, Listing, SkipReason, join, parent_of};

/// The tree root cannot be read: nothing can be said about the category.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the tree root {}: {source}", path.display())]
pub struct DiskError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Other read and execute bits both set: what a mirror needs to list and enter the directory.
/// (MirrorManager's disk walker accepted either bit; its rsync parser required both. We use one rule.)
pub fn world_readable(mode: u32) -> bool {
    mode & 0o005 == 0o005
}

/// Walks `root`. `known_ctime(rel)` returns the ctime the caller has stored for a directory; when it
/// equals the directory's current ctime the directory's files are not stat()ed and it is reported as
/// [`DirFiles::Unchanged`](super::DirFiles::Unchanged). Pass `&|_| None` to read everything.
pub fn scan_disk(
    root: &Path,
    excludes: &Excludes,
    known_ctime: &dyn Fn(&str) -> Option<i64>,
) -> Result<Listing, DiskError> {
    let root_err = |source| DiskError {
        path: root.to_owned(),
        source,
    };
    let meta = fs::metadata(root).map_err(root_err)?;
    if !meta.is_dir() {
        return Err(root_err(io::Error::new(
            io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    // Fail early on an unlistable root rather than report an empty category.
    fs::read_dir(root).map_err(root_err)?;

    let mut b = Builder::new(excludes);
    let mut stack = vec![(String::new(), meta)];
    while let Some((rel, meta)) = stack.pop() {
        if b.excluded(&rel) {
            continue;
        }
        let dir_path = root.join(&rel);
        let entries = match read_sorted(&dir_path) {
            Ok((entries, not_utf8)) => {
                for name in not_utf8 {
                    b.skip(join(&rel, &name), SkipReason::NotUtf8);
                }
                entries
            }
            Err(e) => {
                b.skip(rel.as_str(), io_reason(&e));
                continue;
            }
        };
        let ctime = meta.ctime();
        let unchanged = known_ctime(&rel) == Some(ctime);
        b.dir(&rel, ctime, world_readable(meta.permissions().mode()), !unchanged);
        for (name, ftype) in entries {
            let child = join(&rel, &name);
            let child_path = dir_path.join(&name);
            if ftype.is_dir() {
                match fs::symlink_metadata(&child_path) {
                    Ok(m) => stack.push((child, m)),
                    Err(e) => b.skip(child, io_reason(&e)),
                }
            } else if ftype.is_symlink() {
                match fs::metadata(&child_path) {
                    Ok(m) if m.is_dir() => b.mark_subdir(&rel, &name),
                    Ok(m) if m.is_file() => add_file(&mut b, &rel, name, unchanged, &m, true),
                    Ok(_) => b.skip(child, SkipReason::SpecialFile),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => b.skip(child, SkipReason::DanglingSymlink),
                    Err(e) => b.skip(child, io_reason(&e)),
                }
            } else if ftype.is_file() {
                if unchanged {
                    // Names are known without a stat; only the summary flag needs them.
                    if name == "summary" {
                        b.mark_summary(&rel);
                    }
                    continue;
                }
                match fs::metadata(&child_path) {
                    Ok(m) => add_file(&mut b, &rel, name, false, &m, false),
                    Err(e) => b.skip(child, io_reason(&e)),
                }
            } else {
                b.skip(child, SkipReason::SpecialFile);
            }
        }
    }
    Ok(b.finish())
}

fn add_file(b: &mut Builder<'_>, dir: &str, name: String, unchanged: bool, m: &fs::Metadata, link: bool) {
    if unchanged {
        if name == "summary" {
            b.mark_summary(dir);
        }
        return;
    }
    b.file(
        dir,
        ListedFile {
            name,
            size: m.len(),
            ctime: m.ctime(),
            link,
        },
    );
}

/// Entries of a directory sorted by name, and the (lossily shown) names that are not UTF-8: those cannot
/// become Directory names or file list entries.
type Entries = (Vec<(String, fs::FileType)>, Vec<String>);

fn read_sorted(dir: &Path) -> io::Result<Entries> {
    let mut out = Vec::new();
    let mut not_utf8 = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        match entry.file_name().into_string() {
            Ok(name) => out.push((name, entry.file_type()?)),
            Err(raw) => not_utf8.push(raw.to_string_lossy().into_owned()),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((out, not_utf8))
}

fn io_reason(e: &io::Error) -> SkipReason {
    if e.kind() == io::ErrorKind::NotFound {
        SkipReason::Vanished
    } else {
        SkipReason::Io(e.to_string())
    }
}

/// Sets `readable` from the file system under `root` for the directories `only` selects, then
/// re-applies parent inheritance to all. For fullfiletimelist listings, which carry no permissions
/// (MirrorManager stat()ed changed directories only). A directory that cannot be stat()ed keeps its
/// value and is reported in `skipped`.
pub fn fill_readable(root: &Path, listing: &mut Listing, only: &dyn Fn(&super::ListedDir) -> bool) {
    let mut own = Vec::with_capacity(listing.dirs.len());
    for d in &listing.dirs {
        if only(d) {
            match fs::metadata(root.join(&d.path)) {
                Ok(m) => own.push(world_readable(m.permissions().mode())),
                Err(e) => {
                    listing.skipped.push(super::Skipped {
                        what: d.path.clone(),
                        reason: io_reason(&e),
                    });
                    own.push(d.readable);
                }
            }
        } else {
            own.push(d.readable);
        }
    }
    for (i, own) in own.into_iter().enumerate() {
        let (before, rest) = listing.dirs.split_at_mut(i);
        let d = &mut rest[0];
        let parent_ok = parent_of(&d.path)
            .and_then(|p| before.binary_search_by(|x| x.path.as_str().cmp(p)).ok())
            .is_none_or(|j| before[j].readable);
        d.readable = own && parent_ok;
    }
}

/// Drops the links to directories from `listing`'s file lists (a list without link targets, such as a
/// fullfiletimelist, records `releases/latest` as a file): a link to a directory is not a file. Looks at the tree
/// on disk at `root`.
pub fn drop_directory_links(root: &Path, listing: &mut Listing) {
    for d in &mut listing.dirs {
        if let super::DirFiles::Listed(files) = &mut d.files {
            files.retain(|f| !(f.link && root.join(&d.path).join(&f.name).is_dir()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DirFiles;
    use std::os::unix::fs::symlink;

    fn write(path: &Path, bytes: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A small Fedora-like tree: a repository, an ostree repo, an unreadable branch, excluded dirs and
    /// symlinks (to a file, to a directory, dangling).
    fn fedora_tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        let os = r.join("releases/40/Everything/x86_64/os");
        write(&os.join("repodata/repomd.xml"), b"<repomd/>");
        write(&os.join("Packages/b/bash-5.2.26-3.fc40.x86_64.rpm"), &[0; 1234]);
        write(&os.join(".treeinfo"), b"[general]\n");
        write(&r.join("atomic/40/summary"), b"ostree");
        fs::create_dir_all(r.join("atomic/40/objects/00")).unwrap();
        write(&r.join("private/secret/file"), b"x");
        chmod(&r.join("private"), 0o750);
        write(&r.join(".snapshot/hourly.0/old"), b"x");
        write(&r.join("releases/.~tmp~/partial"), b"x");
        symlink("releases/40/Everything/x86_64/os/.treeinfo", r.join("treeinfo-link")).unwrap();
        symlink("releases", r.join("linked-dir")).unwrap();
        symlink("nowhere", r.join("dangling")).unwrap();
        fs::create_dir_all(r.join("symrepo")).unwrap();
        symlink(
            "../releases/40/Everything/x86_64/os/repodata",
            r.join("symrepo/repodata"),
        )
        .unwrap();
        t
    }

    #[test]
    fn walks_a_tree() {
        let t = fedora_tree();
        let l = scan_disk(t.path(), &Excludes::standard(), &|_| None).unwrap();
        let paths: Vec<_> = l.dirs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "",
                "atomic",
                "atomic/40",
                "atomic/40/objects",
                "atomic/40/objects/00",
                "private",
                "private/secret",
                "releases",
                "releases/40",
                "releases/40/Everything",
                "releases/40/Everything/x86_64",
                "releases/40/Everything/x86_64/os",
                "releases/40/Everything/x86_64/os/Packages",
                "releases/40/Everything/x86_64/os/Packages/b",
                "releases/40/Everything/x86_64/os/repodata",
                "symrepo",
            ]
        );
        let os = l.get("releases/40/Everything/x86_64/os").unwrap();
        assert!(os.is_repository && !os.is_ostree && os.readable);
        assert_eq!(os.files().unwrap()[0].name, ".treeinfo");
        let rpm = &l
            .get("releases/40/Everything/x86_64/os/Packages/b")
            .unwrap()
            .files()
            .unwrap()[0];
        assert_eq!((rpm.name.as_str(), rpm.size), ("bash-5.2.26-3.fc40.x86_64.rpm", 1234));
        assert!(rpm.ctime > 1_700_000_000);
        assert!(l.get("atomic/40").unwrap().is_ostree);
        assert!(!l.get("private").unwrap().readable);
        assert!(
            !l.get("private/secret").unwrap().readable,
            "children of unreadable dirs"
        );
        assert!(
            l.get("symrepo").unwrap().is_repository,
            "symlinked repodata counts, not followed"
        );
        // The symlinked file carries its target's size; the dangling one is reported.
        let top = l.get("").unwrap().files().unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!((top[0].name.as_str(), top[0].size), ("treeinfo-link", 10));
        assert_eq!(
            l.skipped,
            [crate::Skipped {
                what: "dangling".into(),
                reason: SkipReason::DanglingSymlink
            }]
        );
    }

    #[test]
    fn unchanged_directories_are_not_listed() {
        let t = fedora_tree();
        let first = scan_disk(t.path(), &Excludes::standard(), &|_| None).unwrap();
        let known = |rel: &str| first.get(rel).map(|d| d.ctime);
        let again = scan_disk(t.path(), &Excludes::standard(), &known).unwrap();
        assert_eq!(again.dirs.len(), first.dirs.len());
        assert!(again.dirs.iter().all(|d| d.files == DirFiles::Unchanged));
        assert!(again.get("atomic/40").unwrap().is_ostree, "flags still known");
        assert!(again.get("releases/40/Everything/x86_64/os").unwrap().is_repository);
        // A directory whose ctime differs from the known one is re-read.
        let stale = |rel: &str| {
            if rel.is_empty() {
                Some(1)
            } else {
                first.get(rel).map(|d| d.ctime)
            }
        };
        let third = scan_disk(t.path(), &Excludes::standard(), &stale).unwrap();
        assert!(matches!(third.dirs[0].files, DirFiles::Listed(_)));
        assert_eq!(third.dirs[1].files, DirFiles::Unchanged);
    }

    #[test]
    fn category_excludes_drop_subtrees() {
        let t = fedora_tree();
        let ex = Excludes::new("pub/fedora/linux", &["pub/fedora/linux/atomic"]).unwrap();
        let l = scan_disk(t.path(), &ex, &|_| None).unwrap();
        assert!(l.dirs.iter().all(|d| !d.path.starts_with("atomic")));
    }

    #[test]
    fn names_that_are_not_utf8_are_reported() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join(OsStr::from_bytes(b"caf\xe9.txt")), b"x").unwrap();
        fs::write(t.path().join("ok.txt"), b"x").unwrap();
        let l = scan_disk(t.path(), &Excludes::standard(), &|_| None).unwrap();
        assert_eq!(l.dirs[0].files().unwrap().len(), 1);
        assert_eq!(l.skipped.len(), 1);
        assert_eq!(l.skipped[0].reason, SkipReason::NotUtf8);
    }

    #[test]
    fn missing_root_is_a_typed_error() {
        let t = tempfile::tempdir().unwrap();
        let err = scan_disk(&t.path().join("nope"), &Excludes::standard(), &|_| None).unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
        write(&t.path().join("file"), b"x");
        assert!(scan_disk(&t.path().join("file"), &Excludes::standard(), &|_| None).is_err());
    }

    #[test]
    fn fill_readable_stats_selected_dirs() {
        let t = fedora_tree();
        let mut l = scan_disk(t.path(), &Excludes::standard(), &|_| None).unwrap();
        for d in &mut l.dirs {
            d.readable = true;
        }
        fill_readable(t.path(), &mut l, &|d| d.path == "private");
        assert!(!l.get("private").unwrap().readable);
        assert!(!l.get("private/secret").unwrap().readable);
        assert!(l.get("releases").unwrap().readable);
    }
}
