//! Writing snapshot files so that a reader never sees half a file and the previous one survives.
//!
//! Edges may (re)load `OUT` at any moment: we write a temporary file beside it (its name unique to this process
//! and write, so two writers never share one), fsync, keep the current `OUT` as `OUT.prev` (a hard link, so
//! `OUT` never disappears), rename the new file over `OUT`, and fsync the directory. A writer killed at any point
//! leaves `OUT` whole: the old file or the new one.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its file name (`snap.bin` → `snap.bin.tmp`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Atomically replaces `path` with `bytes`, keeping an existing file as `path.prev`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = with_suffix(path, &format!(".tmp.{}.{n}", std::process::id()));
    let result = write_then_swap(path, &tmp, bytes);
    if result.is_err() {
        // Best effort: a stale temp file is harmless but untidy.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_swap(path: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    if path.exists() {
        let prev = with_suffix(path, ".prev");
        match fs::remove_file(&prev) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // A hard link keeps `path` in place until the rename; filesystems without links get a copy.
        if fs::hard_link(path, &prev).is_err() {
            fs::copy(path, &prev)?;
        }
    }
    fs::rename(tmp, path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Directory fsync makes the rename durable; not every platform can open a directory, so failure is ignored.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_previous_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap.bin");
        write_atomically(&out, b"one").unwrap();
        assert!(!with_suffix(&out, ".prev").exists());
        write_atomically(&out, b"two").unwrap();
        write_atomically(&out, b"three").unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"three");
        assert_eq!(fs::read(with_suffix(&out, ".prev")).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "only the file and its .prev"
        );
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomically(&dir.path().join("no/such/dir/snap.bin"), b"x").is_err());
    }
}
