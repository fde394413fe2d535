//! [`UrlTable`]: every host category URL, with the pieces the answers copy, packed for the request path.
//!
//! Under load an answer starts with caches that the kernel's network stack has just gone through, so it pays
//! mostly for the cache lines it touches. Hence the texts sit in one string and the metalink pieces in another,
//! in host category order, and a URL is a 20-byte record of offsets: a mirrorlist line reads a record (and the
//! next one's start) and the URL's own bytes, not four string headers and four heap blocks scattered over the
//! heap.

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

/// Where one URL's pieces start; each ends where the next begins (the next URL's for the last piece).
#[derive(Clone, Copy, Debug, Default)]
struct Record {
    /// Start of the URL as configured, in `text`.
    text: u32,
    /// Start of `    <url protocol="https" type="https" location="DE" preference="` (metalink v3), in `xml`.
    v3_open: u32,
    /// Start of what follows the preference in a metalink `<url>`: the end of the opening tag (with
    /// `mm0:private="True"` for a private host) and the URL escaped for XML, in `xml`.
    xml_tail: u32,
    /// Start of `    <url location="de" priority="` (metalink v4), in `xml`.
    v4_open: u32,
    /// [`HTTPS`], [`HTTP`], [`FTP`] or 0.
    scheme: u8,
    /// Whether the URL ends with `/` (decides the `/` before a file name when there is no subpath).
    ends_with_slash: bool,
}

const _: () = assert!(core::mem::size_of::<Record>() == 20);

/// All URLs, numbered in the order they were pushed.
#[derive(Debug)]
pub(crate) struct UrlTable {
    text: String,
    xml: String,
    /// One per URL, then one that only marks where the last URL's pieces end.
    records: Vec<Record>,
}

impl Default for UrlTable {
    fn default() -> Self {
        UrlTable {
            text: String::new(),
            xml: String::new(),
            records: alloc::vec![Record::default()],
        }
    }
}

/// One URL of a [`UrlTable`].
#[derive(Clone, Copy)]
pub(crate) struct Url<'a> {
    /// Its record and the next, where its pieces end.
    records: &'a [Record; 2],
    text: &'a str,
    xml: &'a str,
}

impl UrlTable {
    /// Number of URLs.
    pub fn len(&self) -> usize {
        self.records.len() - 1
    }

    /// Appends the URLs of one host category (at most 64) of a host in `country` (`private` marks them in
    /// metalinks); they are numbered from the current [`UrlTable::len`]. Fails, leaving the table unusable, when
    /// its text would outgrow the 32-bit offsets (4 GiB).
    pub fn push_group<'u>(
        &mut self,
        urls: impl IntoIterator<Item = &'u str>,
        country: Option<CountryCode>,
        private: bool,
    ) -> Result<(), TooLarge> {
        urls.into_iter().try_for_each(|url| self.push(url, country, private))
    }

    fn push(&mut self, url: &str, country: Option<CountryCode>, private: bool) -> Result<(), TooLarge> {
        // MirrorManager: protocol = text before the first ':'; location = host country, upper-case, or empty.
        let scheme_text = url.split(':').next().unwrap_or("");
        let location = country.as_ref().map_or("", |c| c.as_str());
        let last = self.records.len() - 1;
        let r = &mut self.records[last];
        r.scheme = scheme(url);
        r.ends_with_slash = url.ends_with('/');
        let offset = |s: &String| u32::try_from(s.len()).map_err(|_| TooLarge);
        r.text = offset(&self.text)?;
        self.text.push_str(url);

        let xml_out = &mut self.xml;
        r.v3_open = offset(xml_out)?;
        xml_out.push_str("    <url protocol=\"");
        xml::escape_into(xml_out, scheme_text);
        xml_out.push_str("\" type=\"");
        xml::escape_into(xml_out, scheme_text);
        xml_out.push_str("\" location=\"");
        xml_out.push_str(location);
        xml_out.push_str("\" preference=\"");
        r.xml_tail = offset(xml_out)?;
        xml_out.push_str(if private { "\" mm0:private=\"True\">" } else { "\">" });
        xml::escape_into(xml_out, url);
        r.v4_open = offset(xml_out)?;
        xml_out.push_str("    <url");
        if let Some(c) = country {
            xml_out.push_str(" location=\"");
            xml_out.push(c.0[0].to_ascii_lowercase() as char);
            xml_out.push(c.0[1].to_ascii_lowercase() as char);
            xml_out.push('"');
        }
        xml_out.push_str(" priority=\"");
        let end = Record {
            text: offset(&self.text)?,
            v3_open: offset(&self.xml)?,
            ..Record::default()
        };
        self.records.push(end);
        Ok(())
    }

    /// URL `i` (< [`UrlTable::len`]).
    pub fn get(&self, i: usize) -> Url<'_> {
        Url {
            records: (&self.records[i..i + 2]).try_into().expect("a slice of two"),
            text: &self.text,
            xml: &self.xml,
        }
    }
}

impl<'a> Url<'a> {
    fn record(&self) -> &'a Record {
        &self.records[0]
    }

    /// The URL as configured.
    pub fn text(&self) -> &'a str {
        &self.text[self.records[0].text as usize..self.records[1].text as usize]
    }

    /// Metalink v3 `<url …` up to the preference value.
    pub fn v3_open(&self) -> &'a str {
        let r = self.record();
        &self.xml[r.v3_open as usize..r.xml_tail as usize]
    }

    /// Metalink `<url>` from after the preference or priority value to the end of the escaped URL.
    pub fn xml_tail(&self) -> &'a str {
        let r = self.record();
        &self.xml[r.xml_tail as usize..r.v4_open as usize]
    }

    /// Metalink v4 `<url …` up to the priority value.
    pub fn v4_open(&self) -> &'a str {
        &self.xml[self.records[0].v4_open as usize..self.records[1].v3_open as usize]
    }

    /// Whether the URL ends with `/`.
    pub fn ends_with_slash(&self) -> bool {
        self.record().ends_with_slash
    }

    /// [`HTTPS`], [`HTTP`], [`FTP`] or 0.
    pub fn scheme(&self) -> u8 {
        self.record().scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Code;

    #[test]
    fn pieces_come_back_as_pushed() {
        let mut t = UrlTable::default();
        t.push_group(["https://a.example/pub/"], Some(Code(*b"DE")), false)
            .unwrap();
        t.push_group(["ftp://b.example/x&y"], None, true).unwrap();
        t.push_group(["rsync://c.example/", ""], Some(Code(*b"US")), false)
            .unwrap();
        assert_eq!(t.len(), 4);
        let a = t.get(0);
        assert_eq!(a.text(), "https://a.example/pub/");
        assert_eq!(
            a.v3_open(),
            "    <url protocol=\"https\" type=\"https\" location=\"DE\" preference=\""
        );
        assert_eq!(a.xml_tail(), "\">https://a.example/pub/");
        assert_eq!(a.v4_open(), "    <url location=\"de\" priority=\"");
        assert!(a.ends_with_slash());
        assert_eq!(a.scheme(), HTTPS);
        let b = t.get(1);
        assert_eq!(b.text(), "ftp://b.example/x&y");
        assert_eq!(
            b.v3_open(),
            "    <url protocol=\"ftp\" type=\"ftp\" location=\"\" preference=\""
        );
        assert_eq!(b.xml_tail(), "\" mm0:private=\"True\">ftp://b.example/x&amp;y");
        assert_eq!(b.v4_open(), "    <url priority=\"");
        assert!(!b.ends_with_slash());
        assert_eq!(b.scheme(), FTP);
        assert_eq!(t.get(2).scheme(), 0);
        assert_eq!(t.get(2).v4_open(), "    <url location=\"us\" priority=\"");
        assert_eq!(t.get(3).text(), "");
        assert_eq!(t.get(3).scheme(), 0);
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
