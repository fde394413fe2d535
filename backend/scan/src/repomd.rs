//! `repomd.xml` and ostree `summary`: the FileDetail rows (size, hashes, timestamp) metalinks publish
//! for a repository's index file (MirrorManager's `make_file_details`).
//!
//! The timestamp of a repomd.xml is the greatest `<timestamp>` among its `<data>` entries. MirrorManager
//! took "the parsed RepoMD timestamp if the parser provides one, else that maximum"; the parsers it used
//! (yum's and rpmmd's `RepoMD`) derive that attribute from the same data timestamps, so the rule is one.
//! `<revision>` is not used: it is free text set by the compose tool and may differ from the data times.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use quick_xml::Reader;
use quick_xml::events::Event;

use super::checksums::{FileHashes, hash_reader};

#[derive(Debug, thiserror::Error)]
pub enum RepomdError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("malformed repomd.xml at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("the root element is <{0}>, not <repomd>")]
    NotRepomd(String),
    #[error("<timestamp> {0:?} of a <data> entry is not a number")]
    BadTimestamp(String),
    #[error("no <data> entry has a <timestamp>")]
    NoTimestamp,
}

/// One `<data>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepomdData {
    /// The `type` attribute (`primary`, `filelists`, `other`, `primary_db`, `updateinfo`, …).
    pub kind: String,
    pub timestamp: Option<i64>,
    /// `<location href>`, e.g. `repodata/…-primary.xml.zst`.
    pub location: Option<String>,
}

/// What this crate reads from a repomd.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repomd {
    pub revision: Option<String>,
    pub data: Vec<RepomdData>,
}

impl Repomd {
    /// The repository's timestamp: the greatest data timestamp.
    pub fn timestamp(&self) -> Result<i64, RepomdError> {
        self.data
            .iter()
            .filter_map(|d| d.timestamp)
            .max()
            .ok_or(RepomdError::NoTimestamp)
    }
}

/// Parses a repomd.xml document. Namespaces are ignored (local names are compared): Fedora's root is
/// `<repomd xmlns="http://linux.duke.edu/metadata/repo" …>`.
pub fn parse_repomd(xml: &[u8]) -> Result<Repomd, RepomdError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut out = Repomd {
        revision: None,
        data: Vec::new(),
    };
    let mut text = String::new();
    let mut saw_root = false;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| RepomdError::Malformed {
            position,
            message: e.to_string(),
        })?;
        match event {
            Event::Start(e) => {
                saw_root = true;
                let name = open_tag(&e, &stack, &mut out)?;
                text.clear();
                stack.push(name);
            }
            Event::Empty(e) => {
                saw_root = true;
                open_tag(&e, &stack, &mut out)?;
            }
            Event::Text(t) => text.push_str(t.as_ref()),
            Event::CData(t) => text.push_str(t.as_ref()),
            Event::End(e) => {
                let name = e.local_name().as_ref().to_owned();
                let value = text.trim();
                match (stack.len(), name.as_str()) {
                    (2, "revision") => out.revision = Some(value.to_owned()),
                    (3, "timestamp") if stack[1] == "data" => {
                        let ts = parse_timestamp(value)?;
                        if let Some(d) = out.data.last_mut() {
                            d.timestamp = Some(ts);
                        }
                    }
                    _ => {}
                }
                text.clear();
                stack.pop();
            }
            Event::Eof => {
                if !stack.is_empty() || !saw_root {
                    return Err(RepomdError::Malformed {
                        position,
                        message: "unexpected end of document".into(),
                    });
                }
                return Ok(out);
            }
            _ => {}
        }
        buf.clear();
    }
}

/// Handles an opening (or self-closing) tag at the depth `stack` gives; returns its local name.
fn open_tag(e: &quick_xml::events::BytesStart<'_>, stack: &[String], out: &mut Repomd) -> Result<String, RepomdError> {
    let name = e.local_name().as_ref().to_owned();
    if stack.is_empty() && name != "repomd" {
        return Err(RepomdError::NotRepomd(name));
    }
    if stack.len() == 1 && name == "data" {
        out.data.push(RepomdData {
            kind: attribute(e, "type").unwrap_or_default(),
            timestamp: None,
            location: None,
        });
    } else if stack.len() == 2
        && stack[1] == "data"
        && name == "location"
        && let Some(d) = out.data.last_mut()
    {
        d.location = attribute(e, "href");
    }
    Ok(name)
}

fn attribute(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    let a = e.try_get_attribute(key).ok()??;
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// Integer seconds; older createrepo wrote fractional ones (`1713268800.25`), which are truncated as
/// Python's `int(float)` would.
fn parse_timestamp(s: &str) -> Result<i64, RepomdError> {
    let bad = || RepomdError::BadTimestamp(s.chars().take(40).collect());
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    let (int, frac) = s.split_once('.').ok_or_else(bad)?;
    if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    int.parse::<i64>().map_err(|_| bad())
}

/// Which repository index file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoFile {
    /// `repodata/repomd.xml` of a yum/dnf repository: timestamp from its content.
    Repomd,
    /// `summary` of an ostree repository: timestamp is the file's mtime (MirrorManager: no timestamp
    /// inside yet).
    OstreeSummary,
}

/// A FileDetail row for a repository index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFileDetail {
    pub hashes: FileHashes,
    pub timestamp: i64,
}

/// Reads the file at `path` once: its size, four digests and timestamp.
pub fn repo_file_detail(path: &Path, kind: RepoFile) -> Result<RepoFileDetail, RepomdError> {
    let io_err = |source| RepomdError::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = fs::read(path).map_err(io_err)?;
    let hashes = hash_reader(&bytes[..]).map_err(io_err)?;
    let timestamp = match kind {
        RepoFile::Repomd => parse_repomd(&bytes)?.timestamp()?,
        RepoFile::OstreeSummary => fs::metadata(path).map_err(io_err)?.mtime(),
    };
    Ok(RepoFileDetail { hashes, timestamp })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like Fedora 40 Everything x86_64's repomd.xml (hashes shortened where irrelevant).
    pub(crate) const FEDORA_REPOMD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1713268800</revision>
  <tags>
    <distro cpeid="cpe:/o:fedoraproject:fedora:40">Fedora 40</distro>
  </tags>
  <data type="primary">
    <checksum type="sha256">0e4b5d7a1e3c0f1b2a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b</checksum>
    <open-checksum type="sha256">a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90</open-checksum>
    <location href="repodata/0e4b5d7a-primary.xml.zst"/>
    <timestamp>1713203560</timestamp>
    <size>11370187</size>
    <open-size>81235510</open-size>
  </data>
  <data type="filelists">
    <checksum type="sha256">1f2e3d4c5b6a79880f1e2d3c4b5a69788f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c</checksum>
    <open-checksum type="sha256">b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1</open-checksum>
    <location href="repodata/1f2e3d4c-filelists.xml.zst"/>
    <timestamp>1713203561</timestamp>
    <size>48372911</size>
    <open-size>620314987</open-size>
  </data>
  <data type="other">
    <checksum type="sha256">2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70819</checksum>
    <open-checksum type="sha256">c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2</open-checksum>
    <location href="repodata/2a3b4c5d-other.xml.zst"/>
    <timestamp>1713203562</timestamp>
    <size>4123001</size>
    <open-size>35001233</open-size>
  </data>
  <data type="group">
    <checksum type="sha256">3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a</checksum>
    <location href="repodata/3b4c5d6e-comps-Everything.x86_64.xml"/>
    <timestamp>1713268799</timestamp>
    <size>1830212</size>
  </data>
  <data type="group_zck">
    <checksum type="sha256">4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b</checksum>
    <open-checksum type="sha256">3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a</open-checksum>
    <header-checksum type="sha256">5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c</header-checksum>
    <location href="repodata/4c5d6e7f-comps-Everything.x86_64.xml.zck"/>
    <timestamp>1713268798</timestamp>
    <size>372001</size>
    <open-size>1830212</open-size>
    <header-size>1024</header-size>
  </data>
</repomd>
"#;

    #[test]
    fn reads_a_fedora_repomd() {
        let r = parse_repomd(FEDORA_REPOMD.as_bytes()).unwrap();
        assert_eq!(r.revision.as_deref(), Some("1713268800"));
        let kinds: Vec<_> = r.data.iter().map(|d| d.kind.as_str()).collect();
        assert_eq!(kinds, ["primary", "filelists", "other", "group", "group_zck"]);
        assert_eq!(r.data[0].location.as_deref(), Some("repodata/0e4b5d7a-primary.xml.zst"));
        assert_eq!(r.data[0].timestamp, Some(1_713_203_560));
        // The greatest data timestamp, not the revision.
        assert_eq!(r.timestamp().unwrap(), 1_713_268_799);
    }

    #[test]
    fn bad_documents_are_typed_errors() {
        type Check = fn(&RepomdError) -> bool;
        let cases: [(&str, Check); 6] = [
            ("<repomd><data type=\"primary\"><timestamp>1</timestamp></data>", |e| {
                matches!(e, RepomdError::Malformed { .. })
            }),
            ("<repomd><data></repomd>", |e| {
                matches!(e, RepomdError::Malformed { .. })
            }),
            ("", |e| matches!(e, RepomdError::Malformed { .. })),
            (
                "<html><body/></html>",
                |e| matches!(e, RepomdError::NotRepomd(n) if n == "html"),
            ),
            (
                "<repomd><data type=\"x\"><timestamp>soon</timestamp></data></repomd>",
                |e| matches!(e, RepomdError::BadTimestamp(_)),
            ),
            ("\u{0}\u{1}garbage<<<", |e| {
                matches!(e, RepomdError::Malformed { .. } | RepomdError::NotRepomd(_))
            }),
        ];
        for (xml, want) in cases {
            let err = parse_repomd(xml.as_bytes()).unwrap_err();
            assert!(want(&err), "{xml:?} gave {err:?}");
        }
        let empty = parse_repomd(b"<repomd><revision>5</revision></repomd>").unwrap();
        assert!(matches!(empty.timestamp(), Err(RepomdError::NoTimestamp)));
        let frac = parse_repomd(b"<repomd><data type=\"p\"><timestamp>1713203560.75</timestamp></data></repomd>");
        assert_eq!(frac.unwrap().timestamp().unwrap(), 1_713_203_560);
    }

    #[test]
    fn file_details_for_repomd_and_summary() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("repomd.xml");
        fs::write(&p, FEDORA_REPOMD).unwrap();
        let d = repo_file_detail(&p, RepoFile::Repomd).unwrap();
        assert_eq!(d.timestamp, 1_713_268_799);
        assert_eq!(d.hashes.size, FEDORA_REPOMD.len() as u64);
        assert_eq!(d.hashes.sha256.len(), 64);
        let s = t.path().join("summary");
        fs::write(&s, b"ostree summary").unwrap();
        let d = repo_file_detail(&s, RepoFile::OstreeSummary).unwrap();
        assert_eq!(d.timestamp, fs::metadata(&s).unwrap().mtime());
        assert!(matches!(
            repo_file_detail(&t.path().join("nope"), RepoFile::Repomd),
            Err(RepomdError::Io { .. })
        ));
    }
}
