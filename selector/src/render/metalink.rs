//! Metalink 3.0 with MirrorManager's `mm0` extensions (byte-exact, reference §3.11), and Metalink 4
//! (RFC 5854) for clients whose `Accept` asks for it.

use alloc::string::String;
use core::fmt::Write;

use super::{suffixes, xml};
use crate::handle::{Answer, ContentType, Flavour, Target, Workspace};
use crate::index::Selector;
use crate::snapshot::{FileDetail, FileEntry};
use crate::time;
use crate::urls::Url;

fn header(out: &mut alloc::string::String, flavour: Flavour, now: u64) {
    match flavour {
        Flavour::V3 => {
            out.push_str(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<metalink version=\"3.0\" xmlns=\"http://www.metalinker.org/\" type=\"dynamic\" pubdate=\"",
            );
            time::write_rfc1123(out, now);
            out.push_str("\" generator=\"mirrormanager\" xmlns:mm0=\"http://fedorahosted.org/mirrormanager\">\n");
        }
        Flavour::V4 => {
            out.push_str(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\" xmlns:mm0=\"http://fedorahosted.org/mirrormanager\">\n  <generator>mirrorvane</generator>\n  <published>",
            );
            time::write_rfc3339(out, now);
            out.push_str("</published>\n");
        }
    }
}

/// MirrorManager's failure document: the header, the message in a comment, and the closing tag.
pub(crate) fn metalink_failure(a: &mut Answer, flavour: Flavour, now: u64, message: &str) {
    a.content_type = if flavour == Flavour::V4 {
        ContentType::Metalink4
    } else {
        ContentType::Metalink
    };
    header(&mut a.body, flavour, now);
    a.body.push_str("<!-- ");
    a.body.push_str(message);
    a.body.push_str("\n-->\n</metalink>\n");
}

/// The metalink for the decided hosts, or a 404 failure document when the file has no details.
pub(crate) fn metalink(sel: &Selector, t: &Target<'_>, flavour: Flavour, now: u64, ws: &mut Workspace) {
    let Some(file) = (!t.file.is_empty()).then(|| sel.file(t.dir, t.file)).flatten() else {
        let mut msg = alloc::string::String::new();
        let _ = write!(
            msg,
            "{}/{} not found or has not metalink",
            sel.snapshot().directories[t.dir.index()].name,
            t.file
        );
        ws.answer.status = 404;
        metalink_failure(&mut ws.answer, flavour, now, &msg);
        return;
    };
    suffixes(sel, t, ws, true, "</url>\n");
    let (a, d) = (&mut ws.answer, &ws.decision);
    let blocks = &sel.file_blocks[file];
    let out = &mut a.body;
    out.reserve(1024 + blocks.v3.len() + d.entries.len() * 256);
    header(out, flavour, now);
    match flavour {
        Flavour::V3 => {
            a.content_type = ContentType::Metalink;
            out.push_str(" <files>\n");
            out.push_str(&blocks.v3);
            // MirrorManager: preference 100 for the first host, one less per host, at least 1.
            write_urls(
                sel,
                d,
                &ws.suffix,
                out,
                |url| url.v3_open(),
                |rank| 100u32.saturating_sub(rank).max(1),
            );
            out.push_str("   </resources>\n  </file>\n </files>\n</metalink>\n");
        }
        Flavour::V4 => {
            a.content_type = ContentType::Metalink4;
            out.push_str(&blocks.v4);
            // RFC 5854: priority 1 is the most preferred, up to 999999.
            write_urls(
                sel,
                d,
                &ws.suffix,
                out,
                |url| url.v4_open(),
                |rank| (rank + 1).min(999_999),
            );
            out.push_str("  </file>\n</metalink>\n");
        }
    }
}

/// One `<url>` per printed URL; every URL of a host shares the value `rank_value(host rank)`. `suffix` ends with
/// the closing tag, so a line is usually four copies: opening, value, end of the opening tag with the URL, suffix.
fn write_urls(
    sel: &Selector,
    d: &crate::Decision,
    suffix: &[alloc::string::String; 2],
    out: &mut alloc::string::String,
    open: impl for<'u> Fn(&Url<'u>) -> &'u str,
    rank_value: impl Fn(u32) -> u32,
) {
    let mut itoa = itoa::Buffer::new();
    for (rank, e) in (0u32..).zip(d.entries.iter().filter(|e| e.urls != 0)) {
        let value = itoa.format(rank_value(rank));
        for url in sel.printed_urls(e.hc, e.urls) {
            out.push_str(open(&url));
            out.push_str(value);
            url.push_tag_end_and_url(out);
            out.push_str(&suffix[usize::from(url.ends_with_slash())]);
        }
    }
}

/// A file's `<file>` opening with its details and alternates, per metalink flavour: the same for every answer
/// about the file, so rendered once when the snapshot loads.
pub(crate) struct FileBlocks {
    pub v3: String,
    pub v4: String,
}

impl FileBlocks {
    pub(crate) fn render(f: &FileEntry) -> FileBlocks {
        FileBlocks {
            v3: file_block_v3(&f.name, &f.details),
            v4: file_block_v4(&f.name, &f.details),
        }
    }
}

fn details_v3(out: &mut String, d: &FileDetail, indent: &str) {
    if d.timestamp != 0 {
        let _ = writeln!(out, "{indent} <mm0:timestamp>{}</mm0:timestamp>", d.timestamp);
    }
    if d.size != 0 {
        let _ = writeln!(out, "{indent} <size>{}</size>", d.size);
    }
    let _ = writeln!(out, "{indent} <verification>");
    for (name, digest) in [
        ("md5", &d.md5),
        ("sha1", &d.sha1),
        ("sha256", &d.sha256),
        ("sha512", &d.sha512),
    ] {
        // Empty digests are omitted, as MirrorManager omits empty hash strings.
        if let Some(digest) = digest.as_ref().filter(|d| !d.is_empty()) {
            let _ = write!(out, "{indent}  <hash type=\"{name}\">");
            digest.write_to(out);
            out.push_str("</hash>\n");
        }
    }
    let _ = writeln!(out, "{indent} </verification>");
}

fn file_block_v3(name: &str, details: &[FileDetail]) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("  <file name=\"");
    xml::escape_into(&mut out, name);
    out.push_str("\">\n");
    if let Some((first, rest)) = details.split_first() {
        details_v3(&mut out, first, "  ");
        if !rest.is_empty() {
            out.push_str("   <mm0:alternates>\n");
            for d in rest {
                out.push_str("    <mm0:alternate>\n");
                details_v3(&mut out, d, "     ");
                out.push_str("    </mm0:alternate>\n");
            }
            out.push_str("   </mm0:alternates>\n");
        }
    }
    out.push_str("   <resources maxconnections=\"1\">\n");
    out
}

fn hashes_v4(out: &mut String, d: &FileDetail, indent: &str) {
    // RFC 5854 uses the IANA hash names.
    for (name, digest) in [
        ("md5", &d.md5),
        ("sha-1", &d.sha1),
        ("sha-256", &d.sha256),
        ("sha-512", &d.sha512),
    ] {
        if let Some(digest) = digest.as_ref().filter(|d| !d.is_empty()) {
            let _ = writeln!(
                out,
                "{indent}<hash type=\"{name}\">{}</hash>",
                xml::Escaped(&digest.to_text())
            );
        }
    }
}

fn file_block_v4(name: &str, details: &[FileDetail]) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("  <file name=\"");
    xml::escape_into(&mut out, name);
    out.push_str("\">\n");
    if let Some((first, rest)) = details.split_first() {
        if first.size != 0 {
            let _ = writeln!(out, "    <size>{}</size>", first.size);
        }
        hashes_v4(&mut out, first, "    ");
        if first.timestamp != 0 {
            let _ = writeln!(out, "    <mm0:timestamp>{}</mm0:timestamp>", first.timestamp);
        }
        if !rest.is_empty() {
            out.push_str("    <mm0:alternates>\n");
            for d in rest {
                out.push_str("      <mm0:alternate>\n");
                if d.timestamp != 0 {
                    let _ = writeln!(out, "        <mm0:timestamp>{}</mm0:timestamp>", d.timestamp);
                }
                if d.size != 0 {
                    let _ = writeln!(out, "        <mm0:size>{}</mm0:size>", d.size);
                }
                hashes_v4(&mut out, d, "        ");
                out.push_str("      </mm0:alternate>\n");
            }
            out.push_str("    </mm0:alternates>\n");
        }
    }
    out
}
