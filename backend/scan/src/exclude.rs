//! Directory exclusion: MirrorManager's `STD_EXCLUDES` plus per-category regular expressions.

use regex::Regex;

/// MirrorManager's standard excludes: NetApp snapshots and rsync temporary directories.
pub const STD_EXCLUDES: [&str; 2] = [r".*\.snapshot", r".*/\.~tmp~"];

/// A compiled exclude list. Patterns are matched like Python's `re.match` — anchored at the start only —
/// against the full directory name `<topdir>/<relative path>` (the Directory name MirrorManager matched
/// for rsync and fullfiletimelist sources). An excluded directory excludes its whole subtree.
#[derive(Debug, Clone)]
pub struct Excludes {
    topdir: String,
    patterns: Vec<Regex>,
}

#[derive(Debug, thiserror::Error)]
#[error("exclude pattern {pattern:?} is not a valid regular expression: {source}")]
pub struct ExcludeError {
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

impl Excludes {
    /// [`STD_EXCLUDES`] plus `extra`, for the category whose top directory is `topdir` (e.g.
    /// `pub/fedora/linux`; may be empty).
    pub fn new<S: AsRef<str>>(topdir: &str, extra: &[S]) -> Result<Self, ExcludeError> {
        let patterns = STD_EXCLUDES
            .iter()
            .copied()
            .chain(extra.iter().map(AsRef::as_ref))
            .map(|p| {
                Regex::new(&format!("^(?:{p})")).map_err(|source| ExcludeError {
                    pattern: p.to_owned(),
                    source,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Excludes {
            topdir: topdir.trim_matches('/').to_owned(),
            patterns,
        })
    }

    /// The standard excludes only, with no topdir.
    pub fn standard() -> Self {
        Excludes::new::<&str>("", &[]).expect("the standard excludes compile")
    }

    /// Whether the directory at relative path `rel` matches a pattern (ancestors are not consulted).
    pub fn is_excluded(&self, rel: &str) -> bool {
        let full = match (self.topdir.is_empty(), rel.is_empty()) {
            (true, _) => rel.to_owned(),
            (false, true) => self.topdir.clone(),
            (false, false) => format!("{}/{rel}", self.topdir),
        };
        self.patterns.iter().any(|p| p.is_match(&full))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_patterns_match_like_re_match() {
        let ex = Excludes::new::<&str>("pub/epel", &[]).unwrap();
        assert!(ex.is_excluded(".snapshot"));
        assert!(ex.is_excluded("9/.snapshot/hourly.0"));
        assert!(ex.is_excluded("9/Everything/.~tmp~"));
        assert!(!ex.is_excluded("9/Everything/x86_64"));
        assert!(!ex.is_excluded(""));
    }

    #[test]
    fn extra_patterns_are_anchored_at_the_start() {
        let ex = Excludes::new("pub/fedora/linux", &["pub/fedora/linux/development/3"]).unwrap();
        assert!(ex.is_excluded("development/30/Everything"));
        assert!(!ex.is_excluded("releases/development/30"));
        // Anchored at the start only: a pattern may match a prefix, as re.match does.
        let ex = Excludes::new("", &["updates/testing"]).unwrap();
        assert!(ex.is_excluded("updates/testing/40"));
        assert!(!ex.is_excluded("x/updates/testing"));
    }

    #[test]
    fn bad_pattern_is_a_typed_error() {
        let err = Excludes::new("", &["("]).unwrap_err();
        assert_eq!(err.pattern, "(");
    }
}
