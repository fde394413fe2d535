//! Reads `rsync --list-only -r` output, as MirrorManager's `RsyncDirSynchronizer` (and, for a saved
//! listing, `FileDirSynchronizer`).
//!
//! A line is `<perms> <size> <YYYY/MM/DD> <hh:mm:ss> <name>`; sizes may carry thousands separators. Times
//! are read as UTC: [`list_remote`] runs rsync with `TZ=UTC` so that holds for what it parses.
//! Directories are readable iff their permissions match `^d......r[xt]` and their parent is readable; a
//! directory named `repodata` marks its parent a repository. Symlinks are recorded as links (the listing does
//! not say where they point; their listed size is the link text's, never compared). Names keep embedded spaces
//! (MirrorManager lost such lines).

use std::io::{self, BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use super::assemble::{Builder, epoch_seconds};
use super::exclude::Excludes;
use super::listing::{ListedFile, Listing, SkipReason};

#[derive(Debug, thiserror::Error)]
pub enum RsyncError {
    #[error("cannot read the rsync listing: {0}")]
    Read(#[from] io::Error),
    #[error("cannot run rsync: {0}")]
    Spawn(#[source] io::Error),
    /// rsync exited unsuccessfully (`code` is `None` when it was killed by a signal). The listing parsed
    /// from what it did print is kept: exit codes 23/24 (partial transfer, vanished files) are common on
    /// a live primary and MirrorManager used the output anyway.
    #[error("rsync exited with {code:?}: {stderr_tail}")]
    Failed {
        code: Option<i32>,
        stderr_tail: String,
        listing: Box<Listing>,
    },
}

/// How much of rsync's standard error to keep for the error message.
const STDERR_TAIL: usize = 2048;

/// Parses a listing. `strip_prefix` (e.g. `pub/fedora/linux` for a listing of a whole rsync module; `""`
/// for none) is removed from every name; entries outside it are counted in `outside_prefix`. The entry
/// `.` is the top directory.
pub fn parse_listing(mut reader: impl BufRead, strip_prefix: &str, excludes: &Excludes) -> Result<Listing, io::Error> {
    let mut parser = ListingParser::new(strip_prefix, excludes);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(parser.finish());
        }
        parser.push_line(&buf);
    }
}

/// [`parse_listing`] a line at a time, for a listing read as it arrives (the crawler reads rsync's output
/// asynchronously and never holds it whole).
pub struct ListingParser<'e> {
    b: Builder<'e>,
    prefix: String,
    links: Vec<Link>,
    line_no: u64,
}

impl<'e> ListingParser<'e> {
    pub fn new(strip_prefix: &str, excludes: &'e Excludes) -> ListingParser<'e> {
        ListingParser {
            b: Builder::new(excludes),
            prefix: strip_prefix.trim_matches('/').to_owned(),
            links: Vec::new(),
            line_no: 0,
        }
    }

    /// One line of the listing (its newline included or not).
    pub fn push_line(&mut self, raw: &[u8]) {
        self.line_no += 1;
        let line_no = self.line_no;
        let b = &mut self.b;
        let Ok(line) = std::str::from_utf8(raw) else {
            b.skip(format!("line {line_no}"), SkipReason::NotUtf8);
            return;
        };
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            return;
        }
        let Some(entry) = parse_line(line) else {
            b.skip(
                format!("line {line_no}: {}", truncate(line, 120)),
                SkipReason::MalformedLine,
            );
            return;
        };
        let name = if entry.name == "." {
            ""
        } else {
            entry.name.trim_end_matches('/')
        };
        let Some(rel) = strip(name, &self.prefix) else {
            b.outside_prefix += 1;
            return;
        };
        match entry.kind {
            'd' => {
                let p = entry.perms.as_bytes();
                b.dir(rel, entry.mtime, p[7] == b'r' && matches!(p[9], b'x' | b't'), true);
            }
            '-' | 'l' => {
                let (dir, file) = match rel.rfind('/') {
                    Some(i) => (&rel[..i], &rel[i + 1..]),
                    None => ("", rel),
                };
                if file.is_empty() {
                    b.skip(
                        format!("line {line_no}: {}", truncate(line, 120)),
                        SkipReason::MalformedLine,
                    );
                    return;
                }
                b.file(
                    dir,
                    ListedFile {
                        name: file.to_owned(),
                        size: entry.size,
                        ctime: entry.mtime,
                        link: entry.kind == 'l',
                    },
                );
                if let Some(target) = entry.target {
                    self.links.push((dir.to_owned(), file.to_owned(), target.to_owned()));
                }
            }
            _ => b.skip(rel, SkipReason::SpecialFile),
        }
    }

    /// The listing.
    pub fn finish(self) -> Listing {
        without_directory_links(self.b.finish(), &self.links)
    }
}

/// A symlink whose target the listing showed (`name -> target`): (its directory, its name, the target).
type Link = (String, String, String);

/// Leaves out the links whose target is a listed directory: a link to a directory is not a file.
fn without_directory_links(mut listing: Listing, links: &[Link]) -> Listing {
    let to_dirs: Vec<(&str, &str)> = links
        .iter()
        .filter(|(dir, _, target)| resolve(dir, target).is_some_and(|t| listing.get(&t).is_some()))
        .map(|(dir, name, _)| (dir.as_str(), name.as_str()))
        .collect();
    for d in &mut listing.dirs {
        if let super::listing::DirFiles::Listed(files) = &mut d.files {
            files.retain(|f| !(f.link && to_dirs.contains(&(d.path.as_str(), f.name.as_str()))));
        }
    }
    listing
}

/// `target` of a link in `dir`, as a path relative to the listing's top; `None` when it leaves the top or is
/// absolute.
fn resolve(dir: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

struct Entry<'a> {
    perms: &'a str,
    kind: char,
    size: u64,
    mtime: i64,
    name: &'a str,
    /// A link's target, when rsync shows it.
    target: Option<&'a str>,
}

/// One listing line, or `None` if it is not one (MOTD text, warnings, garbage).
fn parse_line(line: &str) -> Option<Entry<'_>> {
    let (perms, rest) = field(line)?;
    let (size, rest) = field(rest)?;
    let (date, rest) = field(rest)?;
    let (time, rest) = field(rest)?;
    let name = rest.trim_start();
    if perms.len() != 10 || !perms.is_ascii() || name.is_empty() {
        return None;
    }
    let kind = perms.chars().next()?;
    if !matches!(kind, 'd' | '-' | 'l' | 'c' | 'b' | 'p' | 's') {
        return None;
    }
    let digits: String = size.chars().filter(|c| !matches!(c, ',' | '.' | '\'')).collect();
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let size = digits.parse().ok()?;
    let mut d = date.split('/');
    let mut t = time.split(':');
    let (y, mo, da) = (num(&mut d)?, num(&mut d)?, num(&mut d)?);
    let (h, mi, s) = (num(&mut t)?, num(&mut t)?, num(&mut t)?);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    let mtime = epoch_seconds(i64::from(y), mo, da, h, mi, s)?;
    let (name, target) = match name.split_once(" -> ") {
        Some((n, t)) if kind == 'l' => (n, Some(t)),
        _ => (name, None),
    };
    Some(Entry {
        perms,
        kind,
        size,
        mtime,
        name,
        target,
    })
}

fn num(it: &mut std::str::Split<'_, char>) -> Option<u32> {
    it.next()?.parse().ok()
}

/// The next whitespace-separated field and the rest of the line after it.
fn field(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

fn strip<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(name);
    }
    if name == prefix {
        return Some("");
    }
    name.strip_prefix(prefix)?.strip_prefix('/')
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Runs `rsync --list-only -r --no-motd --exclude=.snapshot --exclude=*.~tmp~ <extra_options> <url>` and
/// parses its output as it streams. `url` may be an `rsync://` URL, `host::module/path` or a local
/// directory (end it with `/` to list the directory's contents rather than the directory itself).
pub fn list_remote(
    url: &str,
    extra_options: &[String],
    strip_prefix: &str,
    excludes: &Excludes,
) -> Result<Listing, RsyncError> {
    let mut child = Command::new("rsync")
        .args([
            "--list-only",
            "-r",
            "--no-motd",
            "--exclude=.snapshot",
            "--exclude=*.~tmp~",
        ])
        .args(extra_options)
        .arg(url)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RsyncError::Spawn)?;
    // Drain stderr on its own thread so a chatty rsync cannot block on a full pipe while we read stdout.
    let stderr = child.stderr.take();
    let stderr_thread = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut s) = stderr {
            let _ = s.read_to_end(&mut text);
        }
        text
    });
    let parsed = match child.stdout.take() {
        Some(out) => parse_listing(BufReader::new(out), strip_prefix, excludes),
        None => Ok(ListingParser::new(strip_prefix, excludes).finish()),
    };
    if parsed.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(RsyncError::Spawn)?;
    let stderr = stderr_thread.join().unwrap_or_default();
    let listing = parsed?;
    if status.success() {
        return Ok(listing);
    }
    let text = String::from_utf8_lossy(&stderr);
    let tail_start = text.len().saturating_sub(STDERR_TAIL);
    let tail_start = (tail_start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    Err(RsyncError::Failed {
        code: status.code(),
        stderr_tail: text[tail_start..].trim().to_owned(),
        listing: Box::new(listing),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Skipped;
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};

    const MODULE_LISTING: &str = "\
drwxr-xr-x          4,096 2024/04/16 12:00:00 .
drwxr-xr-x          4,096 2024/04/16 12:00:00 pub
drwxr-xr-x          4,096 2024/04/16 12:00:00 pub/fedora
drwxr-xr-x          4,096 2024/04/16 12:00:00 pub/fedora/linux
-rw-r--r--            123 2024/04/16 12:00:01 pub/fedora/linux/README
drwxr-xr-x          4,096 2024/04/16 12:00:00 pub/fedora/linux/releases
drwxr-xr-x          4,096 2024/04/16 12:00:00 pub/fedora/linux/releases/40
drwxr-xr-x       4,096 2024/04/16 12:00:00 pub/fedora/linux/releases/40/Everything/x86_64/os
drwxr-xr-x          4096 2024/04/16 12:00:02 pub/fedora/linux/releases/40/Everything/x86_64/os/repodata
-rw-r--r--          5,432 2024/04/16 12:00:03 pub/fedora/linux/releases/40/Everything/x86_64/os/repodata/repomd.xml
-rw-r--r--  2,034,567,890 2024/04/16 12:00:04 pub/fedora/linux/releases/40/Everything/x86_64/os/images/boot disk.iso
lrwxrwxrwx             11 2024/04/16 12:00:00 pub/fedora/linux/latest -> releases/40
drwxr-x---          4,096 2024/04/16 12:00:00 pub/fedora/linux/private
drwxr-xr-x          4,096 2024/04/16 12:00:00 pub/fedora/linux/private/inner
drwxr-xr-x          4,096 2024/04/16 12:00:00 pub/fedora/linux/.snapshot
-rw-r--r--              1 2024/04/16 12:00:00 pub/fedora/linux/.snapshot/x
this is not a listing line
-rw-r--r--            abc 2024/04/16 12:00:00 pub/fedora/linux/badsize
-rw-r--r--              1 2024/13/16 12:00:00 pub/fedora/linux/baddate
";

    #[test]
    fn parses_a_module_listing_with_prefix() {
        let ex = Excludes::new::<&str>("pub/fedora/linux", &[]).unwrap();
        let l = parse_listing(MODULE_LISTING.as_bytes(), "pub/fedora/linux", &ex).unwrap();
        let paths: Vec<_> = l.dirs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "",
                "private",
                "private/inner",
                "releases",
                "releases/40",
                "releases/40/Everything/x86_64/os",
                "releases/40/Everything/x86_64/os/repodata",
            ]
        );
        assert_eq!(l.outside_prefix, 3);
        assert_eq!(l.dirs[0].ctime, 1_713_268_800);
        assert_eq!(
            l.dirs[0].files().unwrap()[0],
            ListedFile {
                name: "README".into(),
                size: 123,
                ctime: 1_713_268_801,
                link: false,
            }
        );
        let os = l.get("releases/40/Everything/x86_64/os").unwrap();
        assert!(os.is_repository);
        assert!(!l.get("private").unwrap().readable);
        assert!(!l.get("private/inner").unwrap().readable);
        let repomd = &l
            .get("releases/40/Everything/x86_64/os/repodata")
            .unwrap()
            .files()
            .unwrap()[0];
        assert_eq!((repomd.name.as_str(), repomd.size), ("repomd.xml", 5432));
        let reasons: Vec<_> = l.skipped.iter().map(|s| &s.reason).collect();
        assert_eq!(
            reasons,
            [
                &SkipReason::MalformedLine,
                &SkipReason::MalformedLine,
                &SkipReason::MalformedLine,
                &SkipReason::DirectoryNotListed,
            ]
        );
        // A link to a directory (`latest -> releases/40`) is not a file.
        assert!(l.dirs[0].files().unwrap().iter().all(|f| f.name != "latest"));
        assert_eq!(
            l.skipped[3].what,
            "releases/40/Everything/x86_64/os/images/boot disk.iso"
        );
    }

    #[test]
    fn link_targets() {
        assert_eq!(resolve("releases", "40").as_deref(), Some("releases/40"));
        assert_eq!(resolve("a/b", "../c/./d").as_deref(), Some("a/c/d"));
        assert_eq!(resolve("", "../x"), None);
        assert_eq!(resolve("a", "/abs"), None);
        let text = "drwxr-xr-x 4096 2024/04/16 12:00:00 .\n\
                    drwxr-xr-x 4096 2024/04/16 12:00:00 releases\n\
                    drwxr-xr-x 4096 2024/04/16 12:00:00 releases/40\n\
                    lrwxrwxrwx 2 2024/04/16 12:00:00 releases/latest -> 40\n\
                    lrwxrwxrwx 9 2024/04/16 12:00:00 releases/notes -> 40/README\n\
                    -rw-r--r-- 5 2024/04/16 12:00:00 releases/40/README\n";
        let l = parse_listing(text.as_bytes(), "", &Excludes::standard()).unwrap();
        let names: Vec<(&str, bool)> = l
            .get("releases")
            .unwrap()
            .files()
            .unwrap()
            .iter()
            .map(|f| (f.name.as_str(), f.link))
            .collect();
        assert_eq!(
            names,
            [("notes", true)],
            "the link to a file stays, the link to a directory goes"
        );
    }

    #[test]
    fn not_utf8_lines_are_skipped() {
        let mut bytes = b"drwxr-xr-x 4096 2024/04/16 12:00:00 .\n".to_vec();
        bytes.extend_from_slice(b"-rw-r--r-- 1 2024/04/16 12:00:00 caf\xe9\n");
        let l = parse_listing(&bytes[..], "", &Excludes::standard()).unwrap();
        assert_eq!(
            l.skipped,
            [Skipped {
                what: "line 2".into(),
                reason: SkipReason::NotUtf8
            }]
        );
    }

    #[test]
    fn real_rsync_output_on_a_local_tree() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        let os = r.join("40/Everything/x86_64");
        fs::create_dir_all(os.join("repodata")).unwrap();
        fs::write(os.join("repodata/repomd.xml"), vec![b'x'; 4321]).unwrap();
        fs::write(os.join("Fedora 40 notes.txt"), b"hello").unwrap();
        fs::create_dir_all(r.join("closed/sub")).unwrap();
        fs::set_permissions(r.join("closed"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::create_dir_all(r.join(".snapshot/hourly")).unwrap();
        symlink("40", r.join("latest")).unwrap();
        symlink("40/Everything/x86_64/Fedora 40 notes.txt", r.join("notes")).unwrap();
        let url = format!("{}/", r.display());
        let ex = Excludes::new::<&str>("pub/epel", &[]).unwrap();
        let l = match list_remote(&url, &["--links".to_owned()], "", &ex) {
            Ok(l) => l,
            Err(e) => panic!("rsync failed: {e}"),
        };
        let paths: Vec<_> = l.dirs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "",
                "40",
                "40/Everything",
                "40/Everything/x86_64",
                "40/Everything/x86_64/repodata",
                "closed",
                "closed/sub"
            ]
        );
        let x86 = l.get("40/Everything/x86_64").unwrap();
        assert!(x86.is_repository && x86.readable);
        assert_eq!(
            x86.files()
                .unwrap()
                .iter()
                .map(|f| (f.name.as_str(), f.size))
                .collect::<Vec<_>>(),
            [("Fedora 40 notes.txt", 5)]
        );
        let mtime = fs::metadata(os.join("Fedora 40 notes.txt")).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(x86.files().unwrap()[0].ctime, mtime.mtime());
        assert!(!l.get("closed").unwrap().readable && !l.get("closed/sub").unwrap().readable);
        assert_eq!(l.skipped, []);
        // A link to a file is a link; a link to a directory is not a file.
        let top: Vec<(&str, bool)> = l.dirs[0]
            .files()
            .unwrap()
            .iter()
            .map(|f| (f.name.as_str(), f.link))
            .collect();
        assert_eq!(top, [("notes", true)]);
    }

    #[test]
    fn rsync_failure_carries_code_and_stderr() {
        let t = tempfile::tempdir().unwrap();
        let missing = format!("{}/does-not-exist/", t.path().display());
        match list_remote(&missing, &[], "", &Excludes::standard()) {
            Err(RsyncError::Failed {
                code,
                stderr_tail,
                listing,
            }) => {
                assert_eq!(code, Some(23));
                assert!(stderr_tail.contains("does-not-exist"), "{stderr_tail}");
                assert_eq!(listing.dirs.len(), 1, "just the implied top directory");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
