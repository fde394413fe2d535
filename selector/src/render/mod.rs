//! Writing answers: the plain mirrorlist, the redirect, metalink v3 and v4, and explanations.
//! Everything that is the same for every request (file details, URL openings) was rendered at load; here it
//! is copied, so a metalink of tens of kilobytes is mostly `memcpy`.

mod explain;
mod metalink;
pub(crate) mod xml;

pub(crate) use explain::{explain, explain_error};
pub(crate) use metalink::{metalink, metalink_failure};

use crate::handle::{ContentType, Target, Workspace};
use crate::index::Selector;

/// Fills `ws.suffix` with what follows each URL: `[after a URL not ending in '/', after one that does]`, escaped
/// for XML when `escaped`, and then `end` (the rest of the line, so a line is the URL and one more copy).
///
/// MirrorManager appends `/<subpath>`, then `/` for a directory, or the file name after a `/` unless the
/// string so far already ends with one — which, without a subpath, depends on the URL itself.
pub(crate) fn suffixes(sel: &Selector, t: &Target<'_>, ws: &mut Workspace, escaped: bool, end: &str) {
    let subpath = sel.subpath(t.dir);
    for (i, s) in ws.suffix.iter_mut().enumerate() {
        let after_slash = i == 1;
        s.clear();
        let push = |s: &mut alloc::string::String, text: &str| {
            if escaped {
                xml::escape_into(s, text)
            } else {
                s.push_str(text)
            }
        };
        if !subpath.is_empty() {
            s.push('/');
            push(s, subpath);
        }
        if t.file.is_empty() && t.is_dir {
            s.push('/');
        }
        if !t.file.is_empty() {
            let ends_with_slash = if subpath.is_empty() {
                after_slash
            } else {
                subpath.ends_with('/')
            };
            if !ends_with_slash {
                s.push('/');
            }
            push(s, t.file);
        }
        s.push_str(end);
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
        }
        None => a.status = 404,
    }
}
