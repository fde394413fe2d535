//! XML escaping for the few strings that go into metalinks unescaped in MirrorManager (URLs, file names).
//! MirrorManager writes them verbatim, which breaks the document for a URL with `&`; we escape.

use alloc::string::String;
use core::fmt;

/// One of the bytes [`escape_into`] replaces. Bytes, not chars: the five are ASCII, and no byte of a multi-byte
/// UTF-8 character is.
fn special(b: u8) -> bool {
    matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')
}

/// Whether [`escape_into`] would change `s`.
pub fn needs_escape(s: &str) -> bool {
    s.bytes().any(special)
}

/// Appends `s` to `out` with `& < > " '` escaped.
pub fn escape_into(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.bytes().position(special) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&apos;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// Displays a string escaped.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        escape_into(&mut s, self.0);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        let mut s = alloc::string::String::new();
        super::escape_into(&mut s, "https://m/a?b=1&c=<\"'>");
        assert_eq!(s, "https://m/a?b=1&amp;c=&lt;&quot;&apos;&gt;");
        assert!(super::needs_escape("a'b") && !super::needs_escape("https://m/ü/é"));
        s.clear();
        super::escape_into(&mut s, "ü&é");
        assert_eq!(s, "ü&amp;é");
    }
}
