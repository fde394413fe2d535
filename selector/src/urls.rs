//! [`UrlTable`]: every host category URL, with the pieces the answers copy, packed for the request path.
//!
//! Under load an answer starts with caches that the kernel's network stack has just gone through, so it pays
//! mostly for the cache lines it touches. Hence the texts sit in one string, in host category order, behind
//! 12-byte records of offsets, and a metalink copies the same text as a mirrorlist: what a metalink `<url>` adds
//! before the value depends only on the protocol and the country (a few hundred shared openings that stay in
//! cache), the `">` after it is stored in front of each URL (one copy for both), and the rare URL that XML
//! escaping changes has its escaped copy in a second string.

use alloc::string::String;
use alloc::vec::Vec;

use crate::codes::CountryCode;
use crate::render::xml;

/// `https:` URL.
pub const HTTPS: u8 = 1;
/// `http:` URL.
pub const HTTP: u8 = 2;
/// `ftp:` URL.
pub const FTP: u8 = 4;

/// The URLs' text does not fit 32-bit offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// The protocols a mirrorlist keeps one URL of per host when the client did not choose (MirrorManager's
/// `trim_to_preferred_protocols`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Preferred {
    /// `https`, `http` or `ftp`: a plain mirrorlist.
    Any,
    /// `https` or `http`: a redirect.
    Web,
}

impl Preferred {
    /// The scheme bits it accepts.
    pub(crate) fn schemes(self) -> u8 {
        match self {
            Preferred::Any => HTTPS | HTTP | FTP,
            Preferred::Web => HTTPS | HTTP,
        }
    }
}

/// In [`first_preferred`]'s answer: no URL has the protocol.
pub(crate) const NONE: u8 = u8::MAX;

/// [`HTTPS`], [`HTTP`], [`FTP`] or 0 for `url` (MirrorManager: the protocol is the text before the first ':').
pub(crate) fn scheme(url: &str) -> u8 {
    match url.split(':').next().unwrap_or("") {
        "https" => HTTPS,
        "http" => HTTP,
        "ftp" => FTP,
        _ => 0,
    }
}

/// Indexed by `Preferred as usize`: the position among `urls` of the first with that protocol, or [`NONE`] —
/// what the usual protocol trim keeps, found at load.
pub(crate) fn first_preferred<'u>(urls: impl IntoIterator<Item = &'u str> + Clone) -> [u8; 2] {
    [Preferred::Any, Preferred::Web].map(|p| {
        urls.clone()
            .into_iter()
            .position(|u| scheme(u) & p.schemes() != 0)
            .and_then(|i| u8::try_from(i).ok())
            .unwrap_or(NONE)
    })
}

/// Where one URL's pieces start; each ends where the next record's begins.
#[derive(Clone, Copy, Debug, Default)]
struct Record {
    /// Start of the [`TAG_END`] in front of the URL in `text`.
    text: u32,
    /// Start of the URL escaped for XML, in `escaped`; empty unless [`ESCAPED`].
    escaped: u32,
    /// Its metalink openings, in `openings`.
    opening: u16,
    /// [`HTTPS`], [`HTTP`], [`FTP`] or 0.
    scheme: u8,
    /// [`ENDS_WITH_SLASH`], [`PRIVATE`] and [`ESCAPED`].
    flags: u8,
}

const _: () = assert!(core::mem::size_of::<Record>() == 12);

/// Whether the URL ends with `/` (decides the `/` before a file name when there is no subpath).
const ENDS_WITH_SLASH: u8 = 1;
/// A private host's URL: metalinks mark it `mm0:private="True"`.
const PRIVATE: u8 = 2;
/// A URL that XML escaping changes.
const ESCAPED: u8 = 4;

/// What ends a public host's metalink `<url …` tag after the value. Each URL's text is stored after one, so that
/// a metalink copies the tag end and the URL at once.
const TAG_END: &str = "\">";
/// The same for a private host.
const PRIVATE_TAG_END: &str = "\" mm0:private=\"True\">";

/// What opens a metalink `<url>` up to the preference or priority value. It depends only on the protocol and
/// the host's country, so a few hundred serve every URL (and stay in cache between requests).
#[derive(Debug)]
struct Opening {
    /// `    <url protocol="https" type="https" location="DE" preference="` (metalink v3).
    v3: String,
    /// `    <url location="de" priority="` (metalink v4).
    v4: String,
}

/// All URLs, numbered in the order they were pushed.
#[derive(Debug)]
pub(crate) struct UrlTable {
    /// Each URL after a [`TAG_END`].
    text: String,
    /// The escaped copies of the URLs that XML escaping changes.
    escaped: String,
    /// One per URL, then one that only marks where the last URL's pieces end.
    records: Vec<Record>,
    openings: Vec<Opening>,
    /// Which opening a country and protocol text have, sorted by both, while the table is built.
    opening_ids: Vec<(Option<CountryCode>, String, u16)>,
}

impl Default for UrlTable {
    fn default() -> Self {
        UrlTable {
            text: String::new(),
            escaped: String::new(),
            records: alloc::vec![Record::default()],
            openings: Vec::new(),
            opening_ids: Vec::new(),
        }
    }
}

/// One URL of a [`UrlTable`].
#[derive(Clone, Copy)]
pub(crate) struct Url<'a> {
    /// Its record and the next, where its pieces end.
    records: &'a [Record; 2],
    table: &'a UrlTable,
}

impl UrlTable {
    /// Number of URLs.
    pub fn len(&self) -> usize {
        self.records.len() - 1
    }

    /// Appends the URLs of one host category (at most 64) of a host in `country` (`private` marks them in
    /// metalinks); they are numbered from the current [`UrlTable::len`]. Fails, leaving the table unusable, when
    /// its text would outgrow the 32-bit offsets (4 GiB) or its openings 16-bit numbers.
    pub fn push_group<'u>(
        &mut self,
        urls: impl IntoIterator<Item = &'u str>,
        country: Option<CountryCode>,
        private: bool,
    ) -> Result<(), TooLarge> {
        urls.into_iter().try_for_each(|url| self.push(url, country, private))
    }

    fn push(&mut self, url: &str, country: Option<CountryCode>, private: bool) -> Result<(), TooLarge> {
        // MirrorManager: protocol = text before the first ':'.
        let scheme_text = url.split(':').next().unwrap_or("");
        let opening = self.opening(scheme_text, country)?;
        let last = self.records.len() - 1;
        let r = &mut self.records[last];
        r.opening = opening;
        r.scheme = scheme(url);
        r.flags = if url.ends_with('/') { ENDS_WITH_SLASH } else { 0 } | if private { PRIVATE } else { 0 };
        let offset = |s: &String| u32::try_from(s.len()).map_err(|_| TooLarge);
        r.escaped = offset(&self.escaped)?;
        if xml::needs_escape(url) {
            r.flags |= ESCAPED;
            xml::escape_into(&mut self.escaped, url);
        }
        r.text = offset(&self.text)?;
        self.text.push_str(TAG_END);
        self.text.push_str(url);
        let end = Record {
            text: offset(&self.text)?,
            escaped: offset(&self.escaped)?,
            ..Record::default()
        };
        self.records.push(end);
        Ok(())
    }

    /// The number of the openings for `scheme_text` and `country`, rendered on first use.
    fn opening(&mut self, scheme_text: &str, country: Option<CountryCode>) -> Result<u16, TooLarge> {
        let at = match self
            .opening_ids
            .binary_search_by(|(c, s, _)| (*c, s.as_str()).cmp(&(country, scheme_text)))
        {
            Ok(i) => return Ok(self.opening_ids[i].2),
            Err(at) => at,
        };
        let id = u16::try_from(self.openings.len()).map_err(|_| TooLarge)?;
        // MirrorManager: location = host country, upper-case, or empty.
        let mut v3 = String::from("    <url protocol=\"");
        xml::escape_into(&mut v3, scheme_text);
        v3.push_str("\" type=\"");
        xml::escape_into(&mut v3, scheme_text);
        v3.push_str("\" location=\"");
        v3.push_str(country.as_ref().map_or("", |c| c.as_str()));
        v3.push_str("\" preference=\"");
        let mut v4 = String::from("    <url");
        if let Some(c) = country {
            v4.push_str(" location=\"");
            v4.push(c.0[0].to_ascii_lowercase() as char);
            v4.push(c.0[1].to_ascii_lowercase() as char);
            v4.push('"');
        }
        v4.push_str(" priority=\"");
        self.opening_ids.insert(at, (country, String::from(scheme_text), id));
        self.openings.push(Opening { v3, v4 });
        Ok(id)
    }

    /// URL `i` (< [`UrlTable::len`]).
    pub fn get(&self, i: usize) -> Url<'_> {
        Url {
            records: (&self.records[i..i + 2]).try_into().expect("a slice of two"),
            table: self,
        }
    }
}

impl<'a> Url<'a> {
    fn record(&self) -> &'a Record {
        &self.records[0]
    }

    /// The URL as configured.
    pub fn text(&self) -> &'a str {
        &self.table.text[self.records[0].text as usize + TAG_END.len()..self.records[1].text as usize]
    }

    /// The URL escaped for XML.
    fn xml_text(&self) -> &'a str {
        let [r, next] = self.records;
        if r.flags & ESCAPED == 0 {
            self.text()
        } else {
            &self.table.escaped[r.escaped as usize..next.escaped as usize]
        }
    }

    /// Appends what follows the value in a metalink `<url …` tag: the end of the tag and the URL escaped for XML —
    /// for the usual URL (public, unchanged by escaping) one copy of the bytes in front of and in its text.
    pub fn push_tag_end_and_url(&self, out: &mut String) {
        let [r, next] = self.records;
        if r.flags & (PRIVATE | ESCAPED) == 0 {
            out.push_str(&self.table.text[r.text as usize..next.text as usize]);
        } else {
            out.push_str(self.xml_close());
            out.push_str(self.xml_text());
        }
    }

    /// Metalink v3 `<url …` up to the preference value.
    pub fn v3_open(&self) -> &'a str {
        &self.table.openings[usize::from(self.record().opening)].v3
    }

    /// Metalink v4 `<url …` up to the priority value.
    pub fn v4_open(&self) -> &'a str {
        &self.table.openings[usize::from(self.record().opening)].v4
    }

    /// What closes a metalink `<url …` tag after the value (with `mm0:private="True"` for a private host).
    fn xml_close(&self) -> &'static str {
        if self.record().flags & PRIVATE != 0 {
            PRIVATE_TAG_END
        } else {
            TAG_END
        }
    }

    /// Whether the URL ends with `/`.
    pub fn ends_with_slash(&self) -> bool {
        self.record().flags & ENDS_WITH_SLASH != 0
    }

    /// [`HTTPS`], [`HTTP`], [`FTP`] or 0.
    pub fn scheme(&self) -> u8 {
        self.record().scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::CountryCode;

    #[test]
    fn pieces_come_back_as_pushed() {
        let mut t = UrlTable::default();
        t.push_group(["https://a.example/pub/"], Some(CountryCode(*b"DE")), false)
            .unwrap();
        t.push_group(["ftp://b.example/x&y"], None, true).unwrap();
        t.push_group(["rsync://c.example/", ""], Some(CountryCode(*b"US")), false)
            .unwrap();
        assert_eq!(t.len(), 4);
        let a = t.get(0);
        assert_eq!(a.text(), "https://a.example/pub/");
        assert_eq!(
            a.v3_open(),
            "    <url protocol=\"https\" type=\"https\" location=\"DE\" preference=\""
        );
        assert_eq!(a.xml_close(), "\">");
        assert_eq!(a.xml_text(), "https://a.example/pub/");
        assert_eq!(a.v4_open(), "    <url location=\"de\" priority=\"");
        assert!(a.ends_with_slash());
        assert_eq!(a.scheme(), HTTPS);
        let b = t.get(1);
        assert_eq!(b.text(), "ftp://b.example/x&y");
        assert_eq!(
            b.v3_open(),
            "    <url protocol=\"ftp\" type=\"ftp\" location=\"\" preference=\""
        );
        assert_eq!(b.xml_close(), "\" mm0:private=\"True\">");
        assert_eq!(b.xml_text(), "ftp://b.example/x&amp;y");
        assert_eq!(b.v4_open(), "    <url priority=\"");
        assert!(!b.ends_with_slash());
        assert_eq!(b.scheme(), FTP);
        assert_eq!(t.get(2).scheme(), 0);
        assert_eq!(t.get(2).v4_open(), "    <url location=\"us\" priority=\"");
        assert_eq!(t.get(2).xml_text(), "rsync://c.example/");
        assert_eq!(t.get(3).text(), "");
        assert_eq!(t.get(3).xml_text(), "");
        let tag_end_and_url = |i| {
            let mut out = String::new();
            t.get(i).push_tag_end_and_url(&mut out);
            out
        };
        assert_eq!(tag_end_and_url(0), "\">https://a.example/pub/");
        assert_eq!(tag_end_and_url(1), "\" mm0:private=\"True\">ftp://b.example/x&amp;y");
        assert_eq!(tag_end_and_url(2), "\">rsync://c.example/");
        assert_eq!(tag_end_and_url(3), "\">");
        assert_eq!(t.get(3).scheme(), 0);
    }

    #[test]
    fn too_many_openings_is_an_error_not_a_wrap() {
        let mut t = UrlTable::default();
        for i in 0..=u16::MAX {
            t.push_group([alloc::format!("p{i}://h/").as_str()], None, false)
                .unwrap();
        }
        // Among 65,536 openings a known one is found, not added again.
        t.push_group(["p7://other/"], None, false).unwrap();
        assert_eq!(t.openings.len(), 65_536);
        assert_eq!(
            t.get(t.len() - 1).v3_open(),
            "    <url protocol=\"p7\" type=\"p7\" location=\"\" preference=\""
        );
        assert_eq!(t.push_group(["q://h/"], None, false), Err(TooLarge));
    }

    #[test]
    fn first_preferred_by_protocol() {
        let urls = ["rsync://a/", "ftp://a/", "http://a/", "https://a/"];
        assert_eq!(first_preferred(urls), [1, 2]);
        assert_eq!(first_preferred(["https://c/", "ftp://c/"]), [0, 0]);
        assert_eq!(first_preferred(["rsync://b/", "ftp://b/"]), [1, NONE]);
        assert_eq!(first_preferred([]), [NONE, NONE]);
        assert_eq!(scheme("HTTPS://upper/"), 0, "protocols are matched as written");
    }
}
