//! Errors of an inventory file: where (file, line, column, natural-key path) and what ([`Problem`]).

use std::fmt;

/// One thing wrong with an inventory file. Displays as `inventory.toml:12:9: site "S" / host "x": …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}{problem}", context_prefix(.context))]
pub struct InventoryError {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Natural-key path of the entity concerned (`site "S" / host "x"`), empty at top level.
    pub context: String,
    pub problem: Problem,
}

fn context_prefix(context: &str) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!("{context}: ")
    }
}

/// Every error of a file, in file order. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryErrors(pub Vec<InventoryError>);

impl fmt::Display for InventoryErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InventoryErrors {}

/// What is wrong, independent of where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// TOML syntax, an unknown key, a missing key or a value of the wrong type (as the TOML parser words it).
    #[error("{0}")]
    Toml(String),
    #[error("country {0:?} is not a two-letter ISO 3166 code")]
    Country(String),
    #[error("continent {0:?} is not one of AF, AN, AS, EU, NA, OC, SA")]
    Continent(String),
    #[error("URL {url:?} does not parse: {reason}")]
    UrlSyntax { url: String, reason: String },
    #[error("Unsupported URL {url:?}: scheme must be http, https or rsync")]
    UrlScheme { url: String },
    #[error(transparent)]
    Netblock(mirrorvane_db::netblock::NetblockError),
    #[error("repository {0:?} is not prefix/arch (like fedora-41/x86_64)")]
    RepositoryRef(String),
    #[error("netblock {0:?} is not an IP network")]
    NotIpNetwork(String),
    #[error("{field} must be an integer from {min} to {max}, not {value}")]
    OutOfRange {
        field: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("host name {0:?} must not contain whitespace")]
    HostName(String),
    #[error("{what} {name:?} is listed twice (first at line {first_line})")]
    Duplicate {
        what: &'static str,
        name: String,
        first_line: usize,
    },
    #[error("unknown {what} {name:?}: not in this inventory nor in the database")]
    Unknown { what: &'static str, name: String },
}

/// Byte offset → 1-based (line, column in characters). Offsets past the end point just after the last char.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).locate(text, offset)
}

/// Start offsets of every line, so locating many spans in a big file is not quadratic.
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    pub fn new(text: &str) -> Self {
        Self(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// See [`line_column`]; `text` must be the text the index was built from.
    pub fn locate(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        // Index of the last line start ≤ offset; the first start is 0, so there always is one.
        let line = self.0.partition_point(|&start| start <= offset).max(1);
        let start = self.0[line - 1];
        (line, text[start..offset].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_in_characters() {
        let text = "ab\nçd\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 5), (2, 2)); // after the two-byte ç
        assert_eq!(line_column(text, 4), (2, 1)); // inside ç: rounds down
        assert_eq!(line_column(text, 99), (3, 1));
    }

    #[test]
    fn display_with_and_without_context() {
        let e = InventoryError {
            file: "inventory.toml".into(),
            line: 12,
            column: 9,
            context: "site \"S\" / host \"x\"".into(),
            problem: Problem::Country("USA".into()),
        };
        assert_eq!(
            e.to_string(),
            "inventory.toml:12:9: site \"S\" / host \"x\": country \"USA\" is not a two-letter ISO 3166 code"
        );
        let top = InventoryError {
            context: String::new(),
            ..e
        };
        assert_eq!(
            top.to_string(),
            "inventory.toml:12:9: country \"USA\" is not a two-letter ISO 3166 code"
        );
    }
}
