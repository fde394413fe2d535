//! Writing answers: the plain mirrorlist, the redirect, metalink v3 and v4, and explanations.
//! Everything that is the same for every request (file details, URL openings) was rendered at load; here it
//! is copied, so a metalink of tens of kilobytes is mostly `memcpy`.

mod explain;
mod metalink;
pub(crate) mod xml;

pub(crate) use explain::{explain, explain_error};
pub(crate) use metalink::{FileBlocks, metalink, metalink_failure};

use alloc::string::String;

use crate::handle::{ContentType, Target, Workspace};
use crate::index::Selector;

/// Fills `ws.suffix` with what follows each URL: `[after a URL not ending in '/', after one that does]`, escaped
/// for XML when `escaped`, and then `end` (the rest of the line, so a line is the URL and one more copy).
///
/// MirrorManager appends `/<subpath>`, then `/` for a directory, or the file name after a `/` unless the
/// string so far already ends with one — which, without a subpath, depends on the URL itself.
pub(crate) fn suffixes(sel: &Selector, t: &Target<'_>, ws: &mut Workspace, escaped: bool, end: &str) {
    write_suffixes(sel.subpath(t.dir), t.file, t.is_dir, escaped, end, &mut ws.suffix);
}

fn write_suffixes(subpath: &str, file: &str, is_dir: bool, escaped: bool, end: &str, out: &mut [String; 2]) {
    let push = |s: &mut String, text: &str| {
        if escaped {
            xml::escape_into(s, text);
        } else {
            s.push_str(text);
        }
    };
    let [plain, after_slash] = out;
    plain.clear();
    if !subpath.is_empty() {
        plain.push('/');
        push(plain, subpath);
    }
    if file.is_empty() && is_dir {
        plain.push('/');
    }
    if !file.is_empty() {
        if !subpath.ends_with('/') {
            plain.push('/');
        }
        push(plain, file);
    }
    plain.push_str(end);
    // Only without a subpath does the URL's own final `/` stand in for the one before the file name; then
    // `plain` is that `/` and what follows.
    after_slash.clear();
    if subpath.is_empty() && !file.is_empty() {
        after_slash.push_str(&plain[1..]);
    } else {
        after_slash.push_str(plain);
    }
}

/// The plain-text list: the header line, then one URL per line.
pub(crate) fn mirrorlist(sel: &Selector, t: &Target<'_>, ws: &mut Workspace) {
    suffixes(sel, t, ws, false, "\n");
    let (a, d) = (&mut ws.answer, &ws.decision);
    a.content_type = ContentType::Text;
    a.body.reserve(d.header.len() + 1 + d.entries.len() * 96);
    a.body.push_str(&d.header);
    a.body.push('\n');
    for e in &d.entries {
        for url in sel.printed_urls(e.hc, e.urls) {
            a.body.push_str(url.text());
            a.body.push_str(&ws.suffix[usize::from(url.ends_with_slash())]);
        }
    }
}

/// `302` to the first `http`/`https` URL, `404` when there is none.
pub(crate) fn redirect(sel: &Selector, t: &Target<'_>, ws: &mut Workspace) {
    suffixes(sel, t, ws, false, "");
    let (a, d) = (&mut ws.answer, &ws.decision);
    a.content_type = ContentType::Text;
    let first = d
        .entries
        .iter()
        .find_map(|e| sel.printed_urls(e.hc, e.urls).find(|u| u.text().starts_with("http")));
    match first {
        Some(url) => {
            a.status = 302;
            a.location.push_str(url.text());
            a.location.push_str(&ws.suffix[usize::from(url.ends_with_slash())]);
            // A URL that is not a valid header value (a control character in the data) cannot be a redirect
            // target: no shell may send it, and some (JS hosts' `new Response`) would throw.
            if !is_header_value(&a.location) {
                a.location.clear();
                a.status = 404;
            }
        }
        None => a.status = 404,
    }
}

/// Whether `s` may be an HTTP field value as it is: visible bytes, space and tab (RFC 9110 §5.5; bytes of 0x80
/// and above are obs-text, which HTTP libraries accept), no other control character.
fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    #[test]
    fn header_values() {
        assert!(super::is_header_value("https://m.example/a b\tc/é"));
        assert!(!super::is_header_value("https://m.example/a\nb"));
        assert!(!super::is_header_value("https://m.example/a\rb"));
        assert!(!super::is_header_value("https://m.example/\u{7f}"));
    }

    /// MirrorManager's rule, one suffix at a time: `/<subpath>`, then `/` for a directory, or the file name after
    /// a `/` unless the string so far (the URL, when there is no subpath) already ends with one.
    fn reference(subpath: &str, file: &str, is_dir: bool, url_ends_with_slash: bool) -> String {
        let mut s = String::new();
        if !subpath.is_empty() {
            s.push('/');
            s.push_str(subpath);
        }
        if file.is_empty() && is_dir {
            s.push('/');
        }
        if !file.is_empty() {
            let slash = if subpath.is_empty() {
                url_ends_with_slash
            } else {
                subpath.ends_with('/')
            };
            if !slash {
                s.push('/');
            }
            s.push_str(file);
        }
        s
    }

    #[test]
    fn suffixes_follow_mirrormanager() {
        let mut out = [String::new(), String::new()];
        for subpath in ["", "41/Everything/x86_64/os", "odd/"] {
            for file in ["", "repomd.xml"] {
                for is_dir in [false, true] {
                    super::write_suffixes(subpath, file, is_dir, false, "\n", &mut out);
                    for (i, got) in out.iter().enumerate() {
                        let want = reference(subpath, file, is_dir, i == 1) + "\n";
                        assert_eq!(
                            *got,
                            want,
                            "subpath {subpath:?} file {file:?} dir {is_dir} after slash {}",
                            i == 1
                        );
                    }
                }
            }
        }
        super::write_suffixes("a&b", "c<d", false, true, "</url>", &mut out);
        assert_eq!(
            out,
            ["/a&amp;b/c&lt;d</url>", "/a&amp;b/c&lt;d</url>"].map(String::from)
        );
        super::write_suffixes("", "c&d", false, true, "", &mut out);
        assert_eq!(out, ["/c&amp;d", "c&amp;d"].map(String::from));
    }
}
