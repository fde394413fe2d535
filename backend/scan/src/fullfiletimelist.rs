//! Reads Fedora's `fullfiletimelist-*` files (written by quick-fedora-mirror's tooling), as
//! MirrorManager's `FFTDirSynchronizer`: a whole category without touching the file system.
//!
//! Only the `[Files]` section is read (it ends at the next `[…]` header, e.g. `[Checksums SHA1]`); each
//! line is `ctime<TAB>type<TAB>size<TAB>name`. Type `f` is a file, `d` a directory, `l` a symlink — listed
//! as a file with the size the list gives (MirrorManager ignored links; listing them lets mirrors be
//! checked for them too). A directory `repodata` marks its parent a repository; a `summary` file next to an
//! `objects` directory marks an ostree repository. The category top directory's ctime is forced to 0, as
//! MirrorManager does, so the caller always re-reads its files. The list carries no permissions: every
//! directory is readable until [`fill_readable`](super::disk::fill_readable) says otherwise.

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::assemble::Builder;
use super::exclude::Excludes;
use super::listing::{ListedFile, Listing, SkipReason};

#[derive(Debug, thiserror::Error)]
pub enum FftError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file has no `[Files]` section: it is not a fullfiletimelist (or is truncated), and an empty
    /// listing would make every directory look deleted.
    #[error("no [Files] section")]
    NoFilesSection,
}

/// The first `fullfiletimelist-*` in `dir`, by name (MirrorManager took the glob's first hit). For the
/// Fedora Linux category the caller passes the topdir's parent, as the list lives in `pub/fedora`.
pub fn find(dir: &Path) -> Result<Option<PathBuf>, FftError> {
    let io_err = |source| FftError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        if let Some(name) = entry.file_name().to_str()
            && name.starts_with("fullfiletimelist-")
        {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found.into_iter().next())
}

/// Reads and parses the file at `path`; see [`parse`].
pub fn read(path: &Path, strip_prefix: &str, excludes: &Excludes) -> Result<Listing, FftError> {
    let file = fs::File::open(path).map_err(|source| FftError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(BufReader::new(file), strip_prefix, excludes).map_err(|e| match e {
        FftError::Io { source, .. } => FftError::Io {
            path: path.to_owned(),
            source,
        },
        other => other,
    })
}

/// Parses a fullfiletimelist. `strip_prefix` is removed from every name (`linux` for the Fedora Linux
/// category, whose list starts one level higher; `""` for none); entries outside it are counted in
/// `outside_prefix` (MirrorManager cut six characters blindly).
pub fn parse(mut reader: impl BufRead, strip_prefix: &str, excludes: &Excludes) -> Result<Listing, FftError> {
    let prefix = strip_prefix.trim_matches('/');
    let mut b = Builder::new(excludes);
    let mut in_files = false;
    let mut saw_files = false;
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|source| FftError::Io {
            path: PathBuf::new(),
            source,
        })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let Ok(line) = std::str::from_utf8(&buf) else {
            if in_files {
                b.skip(format!("line {line_no}"), SkipReason::NotUtf8);
            }
            continue;
        };
        let line = line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed == "[Files]" {
            in_files = true;
            saw_files = true;
            continue;
        }
        if trimmed.starts_with('[') {
            in_files = false;
            continue;
        }
        if !in_files || trimmed.is_empty() {
            continue;
        }
        let malformed = |b: &mut Builder<'_>| {
            let shown: String = line.chars().take(120).collect();
            b.skip(format!("line {line_no}: {shown}"), SkipReason::MalformedLine);
        };
        let mut cols = line.splitn(4, '\t');
        let (Some(ctime), Some(kind), Some(size), Some(name)) = (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            malformed(&mut b);
            continue;
        };
        let (Ok(ctime), Ok(size)) = (ctime.trim().parse::<i64>(), size.trim().parse::<u64>()) else {
            malformed(&mut b);
            continue;
        };
        let name = name.trim_end_matches('/');
        let rel = if prefix.is_empty() {
            Some(name)
        } else if name == prefix {
            Some("")
        } else {
            name.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'))
        };
        let Some(rel) = rel else {
            b.outside_prefix += 1;
            continue;
        };
        match kind.chars().next() {
            Some('d') => b.dir(rel, ctime, true, true),
            Some('f' | 'l') if !rel.is_empty() => {
                let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
                b.file(
                    dir,
                    ListedFile {
                        name: file.to_owned(),
                        size,
                        ctime,
                        link: kind.starts_with('l'),
                    },
                );
            }
            _ => malformed(&mut b),
        }
    }
    if !saw_files {
        return Err(FftError::NoFilesSection);
    }
    // The root ctime is forced to 0 (MirrorManager), added if the list does not name it.
    b.dir("", 0, true, true);
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Skipped;

    /// The shape of `pub/fedora/fullfiletimelist-fedora`: version 3 header, `[Files]`, then other
    /// sections that must be ignored.
    const FEDORA: &str = "[Version]\n3\n\n[Files]\n\
1713268800\td\t4096\tlinux\n\
1713268801\td\t4096\tlinux/releases\n\
1713268802\td\t4096\tlinux/releases/40\n\
1713268803\td\t4096\tlinux/releases/40/Everything\n\
1713268804\td\t4096\tlinux/releases/40/Everything/x86_64\n\
1713268805\td\t4096\tlinux/releases/40/Everything/x86_64/os\n\
1713268806\td\t4096\tlinux/releases/40/Everything/x86_64/os/repodata\n\
1713268807\tf\t5432\tlinux/releases/40/Everything/x86_64/os/repodata/repomd.xml\n\
1713268808\tf\t1510\tlinux/releases/40/Everything/x86_64/os/.treeinfo\n\
1713268809\tl\t2\tlinux/releases/latest\n\
1713268810\td\t4096\tlinux/atomic\n\
1713268810\td\t4096\tlinux/atomic/40\n\
1713268811\tf\t812\tlinux/atomic/40/summary\n\
1713268812\td\t4096\tlinux/atomic/40/objects\n\
1713268813\td\t4096\tlinux/.snapshot\n\
1713268813\tf\t1\tlinux/.snapshot/x\n\
1713268814\tf\t99\timagelist-fedora\n\
garbage line\n\
12x\tf\t1\tlinux/bad-ctime\n\
\n\
[Checksums SHA1]\n\
da39a3ee5e6b4b0d3255bfef95601890afd80709\tlinux/releases/40/Everything/x86_64/os/.treeinfo\n\
[Files]\n\
1713268815\tf\t7\tlinux/README\n";

    #[test]
    fn parses_the_files_section_only() {
        let ex = Excludes::new::<&str>("pub/fedora/linux", &[]).unwrap();
        let l = parse(FEDORA.as_bytes(), "linux/", &ex).unwrap();
        let paths: Vec<_> = l.dirs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "",
                "atomic",
                "atomic/40",
                "atomic/40/objects",
                "releases",
                "releases/40",
                "releases/40/Everything",
                "releases/40/Everything/x86_64",
                "releases/40/Everything/x86_64/os",
                "releases/40/Everything/x86_64/os/repodata",
            ]
        );
        assert_eq!(l.dirs[0].ctime, 0, "root forced to 0");
        assert_eq!(l.get("releases").unwrap().ctime, 1_713_268_801);
        assert!(l.get("releases/40/Everything/x86_64/os").unwrap().is_repository);
        assert!(l.get("atomic/40").unwrap().is_ostree);
        let root_files: Vec<_> = l.dirs[0].files().unwrap().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(root_files, ["README"], "a second [Files] section is read too");
        let latest = &l.get("releases").unwrap().files().unwrap()[0];
        assert_eq!((latest.name.as_str(), latest.size), ("latest", 2));
        assert_eq!(l.outside_prefix, 1);
        let reasons: Vec<_> = l.skipped.iter().map(|s| &s.reason).collect();
        assert_eq!(reasons, [&SkipReason::MalformedLine, &SkipReason::MalformedLine]);
    }

    #[test]
    fn without_prefix_and_without_files_section() {
        let epel = "[Version]\n3\n[Files]\n1700000000\td\t4096\t9\n1700000001\tf\t3\t9/README\n";
        let l = parse(epel.as_bytes(), "", &Excludes::standard()).unwrap();
        assert_eq!(l.dirs.len(), 2);
        assert_eq!(l.get("9").unwrap().files().unwrap()[0].size, 3);
        assert!(matches!(
            parse(&b"[Version]\n3\n"[..], "", &Excludes::standard()),
            Err(FftError::NoFilesSection)
        ));
        let junk = b"[Files]\n\xff\xfe\tf\t1\tx\n";
        let l = parse(&junk[..], "", &Excludes::standard()).unwrap();
        assert_eq!(
            l.skipped,
            [Skipped {
                what: "line 2".into(),
                reason: SkipReason::NotUtf8
            }]
        );
    }

    #[test]
    fn finds_and_reads_the_file() {
        let t = tempfile::tempdir().unwrap();
        assert!(find(t.path()).unwrap().is_none());
        fs::write(t.path().join("fullfiletimelist-fedora"), FEDORA).unwrap();
        fs::write(t.path().join("fullfiletimelist-zzz"), "").unwrap();
        let path = find(t.path()).unwrap().unwrap();
        assert!(path.ends_with("fullfiletimelist-fedora"));
        let l = read(&path, "linux", &Excludes::standard()).unwrap();
        assert!(l.get("atomic/40").unwrap().is_ostree);
        assert!(matches!(
            read(&t.path().join("missing"), "", &Excludes::standard()),
            Err(FftError::Io { .. })
        ));
    }
}
