//! Repository prefixes (the dnf `repo=` tag, e.g. `fedora-40`, `updates-released-f40`, `epel-9`) as data.
//!
//! MirrorManager hard-codes them in `repomap.py::repo_prefix` (reference §5.2); here they are an ordered
//! rule list in TOML so another distribution can add its own without code. The built-in list
//! (`prefix_rules.toml`, whose header documents the language) reproduces MirrorManager's function for
//! Fedora Linux / Secondary Arches / Archive, Fedora EPEL, RPM Fusion, RHEL, CentOS and Fedora Codecs.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

/// The built-in rules (MirrorManager's).
pub const BUILTIN_RULES: &str = include_str!("prefix_rules.toml");

/// A compiled rule set.
#[derive(Debug, Clone)]
pub struct PrefixRules {
    flags: Vec<Flag>,
    unknown_if: Option<usize>,
    from_path: Option<Regex>,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Flag {
    name: String,
    matches: Regex,
    unless: Option<Regex>,
}

#[derive(Debug, Clone)]
struct Rule {
    categories: Option<Vec<String>>,
    when: Vec<usize>,
    when_any: Vec<usize>,
    unless: Vec<usize>,
    prefix: Option<Vec<Piece>>,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Version,
    /// The first alternative whose flag is set, else nothing.
    Choice(Vec<(usize, String)>),
}

#[derive(Debug, thiserror::Error)]
pub enum PrefixRulesError {
    #[error("line {line}, column {column}: {message}")]
    Toml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{at}: invalid regular expression: {source}")]
    BadRegex {
        at: String,
        #[source]
        source: regex::Error,
    },
    #[error("{at}: unknown flag {flag:?}")]
    UnknownFlag { at: String, flag: String },
    #[error("{at}: bad template {template:?}: {message}")]
    BadTemplate {
        at: String,
        template: String,
        message: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    #[serde(default)]
    flags: BTreeMap<String, FlagDef>,
    #[serde(default)]
    version: VersionDef,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleDef>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FlagDef {
    Matches(String),
    Full { matches: String, unless: Option<String> },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VersionDef {
    unknown_if: Option<String>,
    from_path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    categories: Option<Vec<String>>,
    #[serde(default)]
    when: Vec<String>,
    #[serde(default)]
    when_any: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
    prefix: Option<String>,
}

impl PrefixRules {
    /// MirrorManager's rules.
    pub fn builtin() -> Self {
        PrefixRules::from_toml(BUILTIN_RULES).expect("the built-in prefix rules are valid")
    }

    /// Parses and checks a rule set (see `prefix_rules.toml` for the language).
    pub fn from_toml(text: &str) -> Result<Self, PrefixRulesError> {
        let def: FileDef = toml::from_str(text).map_err(|e| {
            let start = e.span().map_or(0, |s| s.start).min(text.len());
            let before = &text[..start];
            PrefixRulesError::Toml {
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                message: e.message().to_owned(),
            }
        })?;
        let regex = |at: &str, re: &str| {
            Regex::new(re).map_err(|source| PrefixRulesError::BadRegex {
                at: at.to_owned(),
                source,
            })
        };
        let mut flags = Vec::new();
        for (name, f) in def.flags {
            let at = format!("flag {name:?}");
            let (matches, unless) = match f {
                FlagDef::Matches(m) => (regex(&at, &m)?, None),
                FlagDef::Full { matches, unless } => {
                    (regex(&at, &matches)?, unless.map(|u| regex(&at, &u)).transpose()?)
                }
            };
            flags.push(Flag { name, matches, unless });
        }
        let index = |at: &str, name: &str| {
            flags
                .iter()
                .position(|f| f.name == name)
                .ok_or_else(|| PrefixRulesError::UnknownFlag {
                    at: at.to_owned(),
                    flag: name.to_owned(),
                })
        };
        let unknown_if = def
            .version
            .unknown_if
            .map(|n| index("[version] unknown_if", &n))
            .transpose()?;
        let from_path = def
            .version
            .from_path
            .map(|re| regex("[version] from_path", &re))
            .transpose()?;
        let mut rules = Vec::new();
        for (i, r) in def.rules.into_iter().enumerate() {
            let at = format!("rule {}", i + 1);
            let names = |list: &[String]| list.iter().map(|n| index(&at, n)).collect::<Result<Vec<_>, _>>();
            rules.push(Rule {
                categories: r.categories,
                when: names(&r.when)?,
                when_any: names(&r.when_any)?,
                unless: names(&r.unless)?,
                prefix: r.prefix.map(|t| parse_template(&t, &at, &index)).transpose()?,
            });
        }
        Ok(PrefixRules {
            flags,
            unknown_if,
            from_path,
            rules,
        })
    }

    /// The prefix of the repository at `rel` (relative to the category topdir) in category `category`
    /// whose Version is named `version` (`None` if it has none), or `None` if it gets no prefix.
    pub fn prefix(&self, category: &str, rel: &str, version: Option<&str>) -> Option<String> {
        let set: Vec<bool> = self
            .flags
            .iter()
            .map(|f| f.matches.is_match(rel) && !f.unless.as_ref().is_some_and(|u| u.is_match(rel)))
            .collect();
        let mut version = match (self.unknown_if, version) {
            (Some(i), _) if set[i] => "unknown",
            (_, Some(v)) => v,
            (_, None) => "unknown",
        };
        if let Some(c) = self.from_path.as_ref().and_then(|re| re.captures(rel))
            && let Some(m) = c.get(1)
        {
            version = m.as_str();
        }
        let rule = self.rules.iter().find(|r| {
            r.categories.as_ref().is_none_or(|c| c.iter().any(|c| c == category))
                && r.when.iter().all(|&i| set[i])
                && (r.when_any.is_empty() || r.when_any.iter().any(|&i| set[i]))
                && !r.unless.iter().any(|&i| set[i])
        })?;
        let pieces = rule.prefix.as_ref()?;
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Version => out.push_str(version),
                Piece::Choice(alts) => {
                    if let Some((_, t)) = alts.iter().find(|(i, _)| set[*i]) {
                        out.push_str(t);
                    }
                }
            }
        }
        Some(out)
    }
}

fn parse_template(
    template: &str,
    at: &str,
    index: &dyn Fn(&str, &str) -> Result<usize, PrefixRulesError>,
) -> Result<Vec<Piece>, PrefixRulesError> {
    let bad = |message| PrefixRulesError::BadTemplate {
        at: at.to_owned(),
        template: template.to_owned(),
        message,
    };
    let mut pieces = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let open = rest.find('{').unwrap_or(rest.len());
        let text = &rest[..open];
        if text.contains('}') {
            return Err(bad("'}' without '{'"));
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_owned()));
        }
        if open == rest.len() {
            break;
        }
        let close = rest[open..].find('}').ok_or_else(|| bad("'{' without '}'"))? + open;
        let inner = &rest[open + 1..close];
        if inner.contains('{') {
            return Err(bad("nested '{'"));
        }
        if inner == "version" {
            pieces.push(Piece::Version);
        } else {
            let mut alts = Vec::new();
            for alt in inner.split('|') {
                let flag = alt.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
                if flag.is_empty() {
                    return Err(bad("an alternative names no flag"));
                }
                alts.push((index(at, flag)?, alt.to_owned()));
            }
            pieces.push(Piece::Choice(alts));
        }
        rest = &rest[close + 1..];
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (category, path relative to the topdir, Version name, expected prefix).
    const CASES: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        // §5.2's examples.
        (
            "Fedora Linux",
            "releases/40/Everything/x86_64/os",
            Some("40"),
            Some("fedora-40"),
        ),
        (
            "Fedora Linux",
            "updates/40/Everything/x86_64",
            Some("40"),
            Some("updates-released-f40"),
        ),
        (
            "Fedora Linux",
            "updates/testing/40/Everything/aarch64/debug/tree",
            Some("40"),
            Some("updates-testing-debug-f40"),
        ),
        (
            "Fedora Linux",
            "development/rawhide/Everything/x86_64/os",
            Some("development"),
            Some("rawhide"),
        ),
        (
            "Fedora Linux",
            "releases/20/Fedora/x86_64/os",
            Some("20"),
            Some("fedora-install-20"),
        ),
        ("Fedora Linux", "development/22/x86_64/os", Some("22"), None),
        ("Fedora EPEL", "9/Everything/x86_64", Some("9"), Some("epel-9")),
        // Fedora Linux: debug, source, modular, development/<n>, rawhide variants, atomic.
        (
            "Fedora Linux",
            "releases/40/Everything/x86_64/debug/tree",
            Some("40"),
            Some("fedora-debug-40"),
        ),
        (
            "Fedora Linux",
            "releases/40/Everything/source/tree",
            Some("40"),
            Some("fedora-source-40"),
        ),
        (
            "Fedora Linux",
            "releases/40/Everything/source/SRPMS",
            Some("40"),
            Some("fedora-source-40"),
        ),
        (
            "Fedora Linux",
            "updates/40/Everything/source/tree",
            Some("40"),
            Some("updates-released-source-f40"),
        ),
        (
            "Fedora Linux",
            "updates/testing/40/Everything/x86_64",
            Some("40"),
            Some("updates-testing-f40"),
        ),
        (
            "Fedora Linux",
            "releases/30/Modular/x86_64/os",
            Some("30"),
            Some("fedora-modular-30"),
        ),
        (
            "Fedora Linux",
            "releases/30/Modular/x86_64/debug/tree",
            Some("30"),
            Some("fedora-modular-debug-30"),
        ),
        (
            "Fedora Linux",
            "updates/30/Modular/x86_64",
            Some("30"),
            Some("updates-released-modular-f30"),
        ),
        (
            "Fedora Linux",
            "updates/testing/30/Modular/source/tree",
            Some("30"),
            Some("updates-testing-modular-source-f30"),
        ),
        (
            "Fedora Linux",
            "development/rawhide/Modular/x86_64/os",
            Some("development"),
            Some("rawhide-modular"),
        ),
        (
            "Fedora Linux",
            "development/41/Everything/x86_64/os",
            Some("development"),
            Some("fedora-41"),
        ),
        (
            "Fedora Linux",
            "development/rawhide/Everything/x86_64/debug/tree",
            None,
            Some("rawhide-debug"),
        ),
        (
            "Fedora Linux",
            "development/rawhide/Everything/source/tree",
            None,
            Some("rawhide-source"),
        ),
        ("Fedora Linux", "releases/20/Fedora/x86_64/debug", Some("20"), None),
        ("Fedora Linux", "releases/20/Fedora/source/SRPMS", Some("20"), None),
        ("Fedora Linux", "releases/40/Server/x86_64/os", Some("40"), None),
        ("Fedora Linux", "atomic/21", Some("21"), Some("atomic-21")),
        ("Fedora Linux", "updates/40/Workstation/x86_64", Some("40"), None),
        (
            "Fedora Linux",
            "releases/test/41_Beta/Everything/x86_64/os",
            Some("41_Beta"),
            None,
        ),
        (
            "Fedora Linux",
            "releases/40/Everything/x86_64/os",
            None,
            Some("fedora-unknown"),
        ),
        (
            "Fedora Secondary Arches",
            "releases/40/Everything/s390x/os",
            Some("40"),
            Some("fedora-40"),
        ),
        (
            "Fedora Archive",
            "updates/30/Everything/x86_64",
            Some("30"),
            Some("updates-released-f30"),
        ),
        // Fedora EPEL: modular, debug, source, testing, playground.
        (
            "Fedora EPEL",
            "9/Everything/x86_64/debug",
            Some("9"),
            Some("epel-debug-9"),
        ),
        (
            "Fedora EPEL",
            "9/Everything/source/tree",
            Some("9"),
            Some("epel-source-9"),
        ),
        ("Fedora EPEL", "8/Modular/x86_64", Some("8"), Some("epel-modular-8")),
        (
            "Fedora EPEL",
            "8/Modular/x86_64/debug",
            Some("8"),
            Some("epel-modular-debug-8"),
        ),
        (
            "Fedora EPEL",
            "testing/9/Everything/x86_64",
            Some("9"),
            Some("testing-epel9"),
        ),
        (
            "Fedora EPEL",
            "testing/9/Everything/x86_64/debug",
            Some("9"),
            Some("testing-debug-epel9"),
        ),
        (
            "Fedora EPEL",
            "testing/8/Modular/source/tree",
            Some("8"),
            Some("testing-modular-source-epel8"),
        ),
        (
            "Fedora EPEL",
            "playground/8/Everything/x86_64/os",
            Some("8"),
            Some("playground-epel8"),
        ),
        (
            "Fedora EPEL",
            "playground/8/Everything/source/tree",
            Some("8"),
            Some("playground-source-epel8"),
        ),
        ("Fedora EPEL", "test/9/Everything/x86_64", Some("9"), None),
        // RPM Fusion.
        (
            "RPMFUSION free EL",
            "el/releases/9/Everything/x86_64/os",
            Some("9"),
            Some("free-el-9"),
        ),
        (
            "RPMFUSION free EL",
            "el/releases/9/Everything/x86_64/debug",
            Some("9"),
            Some("free-el-debug-9"),
        ),
        ("RPMFUSION free EL", "el/releases/9/Other/x86_64/os", Some("9"), None),
        (
            "RPMFUSION free EL",
            "el/updates/9/x86_64",
            Some("9"),
            Some("free-el-updates-released-9"),
        ),
        (
            "RPMFUSION free EL",
            "el/updates/testing/9/x86_64",
            Some("9"),
            Some("free-el-updates-testing-9"),
        ),
        (
            "RPMFUSION nonfree EL",
            "el/updates/9/SRPMS",
            Some("9"),
            Some("nonfree-el-updates-released-source-9"),
        ),
        (
            "RPMFUSION free Fedora",
            "fedora/releases/40/Everything/x86_64/os",
            Some("40"),
            Some("free-fedora-40"),
        ),
        (
            "RPMFUSION free Fedora",
            "fedora/development/rawhide/Everything/x86_64/os",
            None,
            Some("free-fedora-rawhide"),
        ),
        (
            "RPMFUSION nonfree Fedora",
            "fedora/updates/testing/40/x86_64/debug",
            Some("40"),
            Some("nonfree-fedora-updates-testing-debug-40"),
        ),
        (
            "RPMFUSION nonfree Fedora",
            "fedora/development/rawhide/Everything/source/SRPMS",
            None,
            Some("nonfree-fedora-rawhide-source"),
        ),
        // RHEL.
        ("RHEL", "rhel/9/x86_64/os", Some("9"), Some("rhel-9")),
        ("RHEL", "rhel/9/x86_64/debug", Some("9"), Some("rhel-debug-9")),
        ("RHEL", "rhel/beta/9/x86_64/os", Some("9"), Some("rhel-9-beta")),
        (
            "RHEL",
            "rhel/9/x86_64/optional/source",
            Some("9"),
            Some("rhel-optional-source-9"),
        ),
        (
            "RHEL",
            "rhel/9/x86_64/optional/debug",
            Some("9"),
            Some("rhel-optional-debug-9"),
        ),
        (
            "RHEL",
            "rhel/beta/9/x86_64/HighAvailability",
            Some("9"),
            Some("rhel-9-highavailability-beta"),
        ),
        (
            "RHEL",
            "rhel/9/x86_64/ClusteredStorage",
            Some("9"),
            Some("rhel-9-clusteredstorage"),
        ),
        // CentOS: the first of the fixed list found as a component.
        ("CentOS", "7/os/x86_64", Some("7"), Some("os")),
        ("CentOS", "7/updates/x86_64", Some("7"), Some("updates")),
        ("CentOS", "7/extras/x86_64/os/", Some("7"), Some("os")),
        ("CentOS", "7/cloud/x86_64", Some("7"), None),
        // Fedora Codecs.
        (
            "Fedora Codecs",
            "openh264/40/x86_64",
            Some("40"),
            Some("fedora-cisco-openh264-40"),
        ),
        (
            "Fedora Codecs",
            "openh264/40/x86_64/debug",
            Some("40"),
            Some("fedora-cisco-openh264-debug-40"),
        ),
        // Categories without rules.
        ("Fedora Other", "releases/40/Everything/x86_64/os", Some("40"), None),
    ];

    #[test]
    fn builtin_rules_reproduce_repomap() {
        let rules = PrefixRules::builtin();
        for &(category, rel, version, want) in CASES {
            assert_eq!(
                rules.prefix(category, rel, version).as_deref(),
                want,
                "{category}: {rel}"
            );
        }
    }

    #[test]
    fn a_custom_rule_set() {
        let rules = PrefixRules::from_toml(
            r#"
            [flags]
            debug = "debug"
            source = "source|SRPMS"
            stream = { matches = "stream", unless = "stream-legacy" }
            [version]
            from_path = '/(\d+)-stream/'
            [[rule]]
            categories = ["Alma"]
            when = ["stream"]
            prefix = "alma-stream{-debug|-source}-{version}"
            [[rule]]
            categories = ["Alma"]
            prefix = "alma-{version}"
            "#,
        )
        .unwrap();
        assert_eq!(
            rules
                .prefix("Alma", "x/9-stream/BaseOS/x86_64/debug", Some("9"))
                .as_deref(),
            Some("alma-stream-debug-9")
        );
        assert_eq!(
            rules.prefix("Alma", "x/10-stream/BaseOS/x86_64/os", None).as_deref(),
            Some("alma-stream-10")
        );
        assert_eq!(
            rules.prefix("Alma", "x/stream-legacy/8/x86_64", Some("8")).as_deref(),
            Some("alma-8")
        );
        assert_eq!(
            rules.prefix("Fedora Linux", "releases/40/Everything/x86_64/os", Some("40")),
            None
        );
    }

    #[test]
    fn bad_rule_sets_are_typed_errors() {
        let err = PrefixRules::from_toml("[flags]\ndebug = \"debug\"\n\n[[rule]]\nwhen = debug\n").unwrap_err();
        assert!(matches!(err, PrefixRulesError::Toml { line: 5, .. }), "{err}");
        let err = PrefixRules::from_toml("[[rule]]\nprefixx = \"a\"\n").unwrap_err();
        assert!(matches!(err, PrefixRulesError::Toml { line: 2, .. }), "{err}");
        let err = PrefixRules::from_toml("[flags]\nx = \"(\"\n").unwrap_err();
        assert!(matches!(err, PrefixRulesError::BadRegex { .. }), "{err}");
        let err = PrefixRules::from_toml("[[rule]]\nwhen = [\"nope\"]\n").unwrap_err();
        assert!(
            matches!(&err, PrefixRulesError::UnknownFlag { at, flag } if at == "rule 1" && flag == "nope"),
            "{err}"
        );
        let err = PrefixRules::from_toml("[[rule]]\nprefix = \"a-{-debug}\"\n").unwrap_err();
        assert!(matches!(err, PrefixRulesError::UnknownFlag { .. }), "{err}");
        for t in ["a-{version", "a}", "a-{{version}}", "a-{-|-}"] {
            let text = format!("[[rule]]\nprefix = \"{t}\"\n");
            let err = PrefixRules::from_toml(&text).unwrap_err();
            assert!(matches!(err, PrefixRulesError::BadTemplate { .. }), "{t}: {err}");
        }
    }
}
