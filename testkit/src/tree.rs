//! A small Fedora-like primary mirror tree written to disk: the input of the demo's scan, of scan benchmarks
//! and of tests that need a real tree.
//!
//! Real repositories in miniature: each has `repodata/` with gzip'ed metadata files and a `repomd.xml` that
//! lists them with their true sizes, SHA-256 checksums and timestamps, exactly as createrepo writes it; install
//! trees have ISO images with a `*-CHECKSUM` file; package directories hold `.rpm` files (so the scanner's short
//! file list applies).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The categories the tree has: (name, product, top directory).
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    ("Fedora Linux", "Fedora", "pub/fedora/linux"),
    ("Fedora EPEL", "Fedora EPEL", "pub/epel"),
];

/// Repository directories below each top directory (relative), with the arches they exist for.
const FEDORA: &[&str] = &[
    "releases/40/Everything/{arch}/os",
    "releases/41/Everything/{arch}/os",
    "releases/41/Everything/{arch}/debug/tree",
    "releases/41/Everything/source/tree",
    "updates/40/Everything/{arch}",
    "updates/41/Everything/{arch}",
    "updates/testing/41/Everything/{arch}",
    "development/rawhide/Everything/{arch}/os",
];
const EPEL: &[&str] = &[
    "9/Everything/{arch}",
    "10/Everything/{arch}",
    "testing/9/Everything/{arch}",
];
const ARCHES: &[&str] = &["x86_64", "aarch64"];

/// Writes the tree under `root` (which gets `pub/…`); `timestamp` is the repodata's build time. Returns the
/// number of repositories. Writing it again over an existing tree with a later timestamp is a push: every
/// repository gets new metadata and a new `repomd.xml` (renamed into place), packages stay as they were.
pub fn write(root: &Path, timestamp: u64) -> std::io::Result<usize> {
    write_scaled(root, timestamp, 0)
}

/// [`write`], with `extra_package_dirs` more package directories per repository (`Packages/x0`, `x1`, …), for
/// trees of thousands of directories.
pub fn write_scaled(root: &Path, timestamp: u64, extra_package_dirs: usize) -> std::io::Result<usize> {
    let mut repositories = 0;
    for (topdir, dirs) in [("pub/fedora/linux", FEDORA), ("pub/epel", EPEL)] {
        for pattern in dirs {
            let arches: &[&str] = if pattern.contains("{arch}") {
                ARCHES
            } else {
                &["source"]
            };
            for arch in arches {
                let rel = pattern.replace("{arch}", arch);
                let dir = root.join(topdir).join(&rel);
                write_repository(&dir, &rel, timestamp)?;
                for i in 0..extra_package_dirs {
                    let packages = dir.join(format!("Packages/x{i}"));
                    std::fs::create_dir_all(&packages)?;
                    std::fs::write(packages.join(format!("x{i}-1.0-1.noarch.rpm")), b"not really an rpm\n")?;
                }
                repositories += 1;
                if rel.ends_with("/os") && rel.starts_with("releases/41") {
                    write_iso_dir(&root.join(topdir).join(rel.replace("/os", "/iso")), arch, timestamp)?;
                }
            }
        }
    }
    Ok(repositories)
}

fn write_repository(dir: &Path, rel: &str, timestamp: u64) -> std::io::Result<()> {
    let packages = dir.join("Packages/m");
    std::fs::create_dir_all(&packages)?;
    for name in [
        "mirrorvane-1.0-1.noarch.rpm",
        "mirrorvane-1.1-1.noarch.rpm",
        "mirrorvane-1.2-1.noarch.rpm",
    ] {
        let path = packages.join(name);
        let content = format!("not really an rpm: {rel}/{name}\n");
        // Packages do not change between pushes: an unchanged file is left alone (as rsync leaves it).
        if std::fs::read(&path).ok().as_deref() != Some(content.as_bytes()) {
            std::fs::write(path, content)?;
        }
    }
    let repodata = dir.join("repodata");
    std::fs::create_dir_all(&repodata)?;
    let mut data = String::new();
    let mut written = Vec::new();
    // Empty but valid metadata (dnf reads it: a repository of no packages), different at every push (the
    // comment), so each push has its own hash-named files as createrepo's would.
    for (kind, file, root, namespace) in [
        (
            "primary",
            "primary.xml",
            "metadata",
            "http://linux.duke.edu/metadata/common",
        ),
        (
            "filelists",
            "filelists.xml",
            "filelists",
            "http://linux.duke.edu/metadata/filelists",
        ),
        (
            "other",
            "other.xml",
            "otherdata",
            "http://linux.duke.edu/metadata/other",
        ),
    ] {
        let content = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- {rel} {kind} {timestamp} -->\n\
             <{root} xmlns=\"{namespace}\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"0\">\n</{root}>\n"
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(content.as_bytes())?;
        let compressed = gz.finish()?;
        let sha = hex(&Sha256::digest(&compressed));
        let open_sha = hex(&Sha256::digest(content.as_bytes()));
        let name = format!("{sha}-{file}.gz");
        std::fs::write(repodata.join(&name), &compressed)?;
        written.push(name.clone());
        let _ = write!(
            data,
            "  <data type=\"{kind}\">\n    <checksum type=\"sha256\">{sha}</checksum>\n    \
             <open-checksum type=\"sha256\">{open_sha}</open-checksum>\n    <location href=\"repodata/{name}\"/>\n    \
             <timestamp>{timestamp}</timestamp>\n    <size>{}</size>\n    <open-size>{}</open-size>\n  </data>\n",
            compressed.len(),
            content.len()
        );
    }
    let repomd = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" \
         xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n  <revision>{timestamp}</revision>\n{data}</repomd>\n"
    );
    // Written aside and renamed into place, as createrepo does: the directory's ctime moves with a push.
    std::fs::write(repodata.join("repomd.xml.new"), repomd)?;
    std::fs::rename(repodata.join("repomd.xml.new"), repodata.join("repomd.xml"))?;
    // The previous push's metadata files go.
    for entry in std::fs::read_dir(&repodata)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name != "repomd.xml" && !written.contains(&name) {
            std::fs::remove_file(repodata.join(&name))?;
        }
    }
    Ok(())
}

fn write_iso_dir(dir: &Path, arch: &str, timestamp: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name = format!("Fedora-Everything-netinst-{arch}-41-1.4.iso");
    let content = format!("demo image {arch} {timestamp}\n");
    std::fs::write(dir.join(&name), &content)?;
    let sum = hex(&Sha256::digest(content.as_bytes()));
    std::fs::write(
        dir.join(format!("Fedora-Everything-41-1.4-{arch}-CHECKSUM")),
        format!("SHA256 ({name}) = {sum}\n"),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
