//! Checksum files on the primary (`*-CHECKSUM`, `SHA256SUM`, `*.md5sum`, …) and file hashing: the
//! hashes metalinks carry (MirrorManager's `FileDetailFromChecksumsLoader` and `make_file_details`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

/// A hash algorithm of checksum files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Algo {
    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Md5 => 32,
            Algo::Sha1 => 40,
            Algo::Sha256 => 64,
            Algo::Sha512 => 128,
        }
    }

    /// The algorithm name in BSD-style lines (`SHA256 (file) = …`).
    pub fn bsd_name(self) -> &'static str {
        match self {
            Algo::Md5 => "MD5",
            Algo::Sha1 => "SHA1",
            Algo::Sha256 => "SHA256",
            Algo::Sha512 => "SHA512",
        }
    }
}

/// The algorithm of a checksum file, from its name, or `None` if it is not one. MirrorManager's patterns
/// matched with `re.match` (anchored at the start only, so `SHA256SUMS` or `x-CHECKSUM.asc` count):
/// md5 `.*\.md5sum|MD5SUM|md5sum.txt`, sha1 `.*\.sha1sum|SHA1SUM|sha1sum.txt`, sha256
/// `.*-CHECKSUM|sha256sum.txt`, sha512 `.*\.sha512sum|SHA512SUM|sha512sum.txt` (the `.` of `*.txt` is
/// any character there; we take it literally). Checked in that order.
pub fn checksum_file_algo(name: &str) -> Option<Algo> {
    let table: [(Algo, &str, &[&str]); 4] = [
        (Algo::Md5, ".md5sum", &["MD5SUM", "md5sum.txt"]),
        (Algo::Sha1, ".sha1sum", &["SHA1SUM", "sha1sum.txt"]),
        (Algo::Sha256, "-CHECKSUM", &["sha256sum.txt"]),
        (Algo::Sha512, ".sha512sum", &["SHA512SUM", "sha512sum.txt"]),
    ];
    table.into_iter().find_map(|(algo, contained, starts)| {
        // `.*X` anchored at the start matches wherever X occurs after the first character or at it.
        (name.contains(contained) || starts.iter().any(|s| name.starts_with(s))).then_some(algo)
    })
}

/// Hashes read from one checksum file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedChecksums {
    /// File name → lowercase hex digest. A name listed twice keeps the last digest.
    pub hashes: BTreeMap<String, String>,
    /// Non-empty lines that are not a checksum of this algorithm (PGP armour, comments, other algorithms,
    /// wrong lengths, non-hex, not UTF-8).
    pub skipped_lines: usize,
}

/// Parses a checksum file of `algo`. Lines are `<hash> [*]<file>` (GNU, exactly two fields) or
/// `ALGO (file) = <hash>` (BSD, exactly four fields, ALGO matching `algo`); the digest must have the
/// algorithm's length and be hex (MirrorManager checked the length of GNU lines only, and no hex), and
/// the file name must stay inside the directory (no `..`, not absolute).
/// Only an I/O error reading is an error.
pub fn parse_checksums(algo: Algo, mut reader: impl BufRead) -> io::Result<ParsedChecksums> {
    let mut out = ParsedChecksums::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(out);
        }
        let Ok(line) = std::str::from_utf8(&buf) else {
            out.skipped_lines += 1;
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(algo, line) {
            Some((file, hash)) => {
                out.hashes.insert(file.to_owned(), hash);
            }
            None => out.skipped_lines += 1,
        }
    }
}

fn parse_line(algo: Algo, line: &str) -> Option<(&str, String)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (file, hash) = match fields[..] {
        [hash, file] => (file.trim_start_matches('*'), hash),
        [name, file, "=", hash] if name == algo.bsd_name() => (file.strip_prefix('(')?.strip_suffix(')')?, hash),
        _ => return None,
    };
    let valid = hash.len() == algo.hex_len() && hash.bytes().all(|c| c.is_ascii_hexdigit());
    // A name leaving the directory would make us stat (and record) a file elsewhere.
    let confined = !file.is_empty() && !file.starts_with('/') && !file.split('/').any(|c| c == "..");
    (valid && confined).then(|| (file, hash.to_ascii_lowercase()))
}

/// The hashes of a file known from checksum files, with the file's size and ctime on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumDetail {
    pub filename: String,
    pub size: u64,
    pub ctime: i64,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
}

/// What [`load_dir`] found in one directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirChecksums {
    /// One per file named by a checksum file that exists in the directory, sorted by name. Names with a
    /// `/` (e.g. `pxeboot/vmlinuz`) are looked up below the directory, as on disk MirrorManager did.
    pub details: Vec<ChecksumDetail>,
    /// Lines of checksum files that were not understood, summed over the directory.
    pub skipped_lines: usize,
    /// Checksum files that could not be read, with the error.
    pub unreadable: Vec<(String, String)>,
    /// Files named by checksum files that do not exist (or cannot be stat()ed).
    pub missing: Vec<String>,
}

/// Reads every checksum file of directory `dir` and returns the hashes of the files they name that exist.
/// Files of one algorithm are read in name order; a later file wins for a name listed twice.
pub fn load_dir(dir: &Path) -> io::Result<DirChecksums> {
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut out = DirChecksums::default();
    let mut by_algo: BTreeMap<Algo, BTreeMap<String, String>> = BTreeMap::new();
    for name in &names {
        let Some(algo) = checksum_file_algo(name) else {
            continue;
        };
        let parsed = fs::File::open(dir.join(name)).and_then(|f| parse_checksums(algo, BufReader::new(f)));
        match parsed {
            Ok(p) => {
                out.skipped_lines += p.skipped_lines;
                by_algo.entry(algo).or_default().extend(p.hashes);
            }
            Err(e) => out.unreadable.push((name.clone(), e.to_string())),
        }
    }
    let mut files: Vec<&String> = by_algo.values().flat_map(|m| m.keys()).collect();
    files.sort();
    files.dedup();
    let get = |algo, f: &str| by_algo.get(&algo).and_then(|m| m.get(f)).cloned();
    for f in files {
        match fs::metadata(dir.join(f)) {
            Ok(m) if m.is_file() => out.details.push(ChecksumDetail {
                filename: f.clone(),
                size: m.len(),
                ctime: m.ctime(),
                md5: get(Algo::Md5, f),
                sha1: get(Algo::Sha1, f),
                sha256: get(Algo::Sha256, f),
                sha512: get(Algo::Sha512, f),
            }),
            _ => out.missing.push(f.clone()),
        }
    }
    Ok(out)
}

/// A file's size and its four digests (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHashes {
    pub size: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub sha512: String,
}

/// Hashes a stream in one pass feeding all four digests.
pub fn hash_reader(mut reader: impl Read) -> io::Result<FileHashes> {
    let (mut md5, mut sha1, mut sha256, mut sha512) = (Md5::new(), Sha1::new(), Sha256::new(), Sha512::new());
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        md5.update(chunk);
        sha1.update(chunk);
        sha256.update(chunk);
        sha512.update(chunk);
        size += n as u64;
    }
    Ok(FileHashes {
        size,
        md5: hex::encode(md5.finalize()),
        sha1: hex::encode(sha1.finalize()),
        sha256: hex::encode(sha256.finalize()),
        sha512: hex::encode(sha512.finalize()),
    })
}

/// Hashes the file at `path`; see [`hash_reader`].
pub fn hash_file(path: &Path) -> Result<FileHashes, HashError> {
    let err = |source| HashError {
        path: path.to_owned(),
        source,
    };
    hash_reader(fs::File::open(path).map_err(err)?).map_err(err)
}

#[derive(Debug, thiserror::Error)]
#[error("cannot hash {}: {source}", path.display())]
pub struct HashError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC_MD5: &str = "900150983cd24fb0d6963f7d28e17f72";
    const ABC_SHA1: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const ABC_SHA512: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    #[test]
    fn recognises_checksum_file_names() {
        let cases = [
            ("Fedora-Workstation-40-1.14-x86_64-CHECKSUM", Some(Algo::Sha256)),
            ("Fedora-Server-40-1.14-x86_64-CHECKSUM.asc", Some(Algo::Sha256)),
            ("sha256sum.txt", Some(Algo::Sha256)),
            ("SHA1SUM", Some(Algo::Sha1)),
            ("SHA1SUMS", Some(Algo::Sha1)),
            ("image.iso.sha1sum", Some(Algo::Sha1)),
            ("MD5SUM", Some(Algo::Md5)),
            ("x.md5sum", Some(Algo::Md5)),
            ("SHA512SUM", Some(Algo::Sha512)),
            ("boot.iso.sha512sum", Some(Algo::Sha512)),
            ("CHECKSUM", None),
            ("SHA256SUM", None),
            ("repomd.xml", None),
        ];
        for (name, want) in cases {
            assert_eq!(checksum_file_algo(name), want, "{name}");
        }
    }

    #[test]
    fn parses_gnu_and_bsd_lines_and_skips_junk() {
        let text = format!(
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n\
             # Fedora-Workstation-Live-x86_64-40-1.14.iso: 2623733760 bytes\n\
             SHA256 (Fedora-Workstation-Live-x86_64-40-1.14.iso) = {}\n\
             {} *Fedora-Cloud-Base-40.qcow2\n\
             {} ../../etc/passwd\n\
             {} /etc/shadow\n\
             {}  plain.img\n\
             MD5 (wrong-algo.iso) = {ABC_MD5}\n\
             {} too-short.img\n\
             {}zz not-hex.img\n\
             -----BEGIN PGP SIGNATURE-----\n",
            ABC_SHA256.to_uppercase(),
            ABC_SHA256,
            ABC_SHA256,
            ABC_SHA256,
            ABC_SHA256,
            &ABC_SHA256[..60],
            &ABC_SHA256[..62],
        );
        let p = parse_checksums(Algo::Sha256, text.as_bytes()).unwrap();
        assert_eq!(
            p.hashes.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "Fedora-Cloud-Base-40.qcow2",
                "Fedora-Workstation-Live-x86_64-40-1.14.iso",
                "plain.img"
            ]
        );
        assert!(p.hashes.values().all(|h| h == ABC_SHA256), "lowercased");
        assert_eq!(p.skipped_lines, 9);
        let garbage = [0xffu8, 0xfe, b'\n', b'\n'];
        assert_eq!(parse_checksums(Algo::Md5, &garbage[..]).unwrap().skipped_lines, 1);
    }

    #[test]
    fn loads_a_directory() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        fs::write(d.join("boot.iso"), b"abc").unwrap();
        fs::write(
            d.join("Fedora-40-x86_64-CHECKSUM"),
            format!("SHA256 (boot.iso) = {ABC_SHA256}\nSHA256 (gone.iso) = {ABC_SHA256}\n"),
        )
        .unwrap();
        fs::write(d.join("SHA1SUM"), format!("{ABC_SHA1}  boot.iso\njunk\n")).unwrap();
        fs::write(d.join("boot.iso.md5sum"), format!("{ABC_MD5} *boot.iso\n")).unwrap();
        fs::create_dir(d.join("sha512sum.txt")).unwrap();
        let c = load_dir(d).unwrap();
        assert_eq!(c.details.len(), 1);
        let b = &c.details[0];
        assert_eq!((b.filename.as_str(), b.size), ("boot.iso", 3));
        assert_eq!(b.md5.as_deref(), Some(ABC_MD5));
        assert_eq!(b.sha1.as_deref(), Some(ABC_SHA1));
        assert_eq!(b.sha256.as_deref(), Some(ABC_SHA256));
        assert_eq!(b.sha512, None);
        assert_eq!(c.missing, ["gone.iso"]);
        assert_eq!(c.skipped_lines, 1);
        assert_eq!(c.unreadable.len(), 1, "a directory named like a checksum file");
    }

    #[test]
    fn hashes_in_one_pass() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("abc");
        fs::write(&p, b"abc").unwrap();
        let h = hash_file(&p).unwrap();
        assert_eq!(
            h,
            FileHashes {
                size: 3,
                md5: ABC_MD5.into(),
                sha1: ABC_SHA1.into(),
                sha256: ABC_SHA256.into(),
                sha512: ABC_SHA512.into()
            }
        );
        // Larger than one buffer.
        let big = vec![7u8; 200_000];
        let h = hash_reader(&big[..]).unwrap();
        assert_eq!(h.size, 200_000);
        assert_eq!(h.sha256, hex::encode(Sha256::digest(&big)));
        assert!(hash_file(&t.path().join("missing")).is_err());
    }
}
