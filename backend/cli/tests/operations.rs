//! What operators are told matches what runs: `docs/operations.md` lists exactly the metrics a running edge and a
//! running backend expose (name, type, labels), every metric and alert of the example rules
//! (`deploy/prometheus/mirrorvane-alerts.yml`) is documented, the edge's systemd unit has a command line
//! `mirrorvane-edge` parses and writes only inside its own directories (as the snapshot unit does), and a binary
//! refuses a database that a newer one migrated (`docs/deployment.md`, "Upgrades").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mirrorvane_db::engine_tests;

mod common;

use common::{Unit, edge, http_get, read, serve_with, wait_for, with_world};

/// A metric family as exposed: its type and the names of its labels (a histogram's `le` aside).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Family {
    kind: String,
    labels: BTreeSet<String>,
}

impl Family {
    /// The name a query uses: counters are queried with `_total`.
    fn query_name(name: &str, kind: &str) -> String {
        if kind == "counter" {
            format!("{name}_total")
        } else {
            name.to_owned()
        }
    }
}

/// The label names of a sample's `{…}`, values skipped (they may hold commas and escaped quotes).
fn label_names(braces: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = braces;
    while let Some((name, after)) = rest.split_once("=\"") {
        names.insert(name.trim_start_matches(',').trim().to_owned());
        let mut escaped = false;
        let end = after
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map_or(after.len(), |(i, _)| i + 1);
        rest = &after[end..];
    }
    names
}

/// The families of a Prometheus/OpenMetrics text exposition, by their query name.
fn exposed(text: &str) -> BTreeMap<String, Family> {
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name type");
            kinds.insert(name.to_owned(), kind.trim().to_owned());
        }
    }
    let mut families: BTreeMap<String, Family> = kinds
        .iter()
        .map(|(name, kind)| {
            let family = Family {
                kind: kind.clone(),
                labels: BTreeSet::new(),
            };
            (Family::query_name(name, kind), family)
        })
        .collect();
    for line in text.lines().filter(|l| l.starts_with("mirrorvane_")) {
        let end = line.find(['{', ' ']).unwrap_or(line.len());
        let sample = &line[..end];
        let family = kinds
            .iter()
            .filter(|(name, kind)| match kind.as_str() {
                "counter" => sample == format!("{name}_total"),
                "histogram" => ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| sample == format!("{name}{s}")),
                _ => sample == name.as_str(),
            })
            .map(|(name, kind)| Family::query_name(name, kind))
            .next()
            .unwrap_or_else(|| panic!("sample {sample:?} of no declared family in\n{text}"));
        if let Some(braces) = line[end..]
            .strip_prefix('{')
            .and_then(|b| b.split_once('}'))
            .map(|(b, _)| b)
        {
            let mut names = label_names(braces);
            names.remove("le");
            families.get_mut(&family).expect("declared").labels.extend(names);
        }
    }
    families
}

/// The text of `## Metrics and alerts` in docs/operations.md.
fn metrics_section() -> String {
    let doc = read("docs/operations.md");
    let start = doc
        .find("\n## Metrics and alerts\n")
        .expect("docs/operations.md has \"## Metrics and alerts\"");
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// The backticked words of `cell` outside parentheses (a label column: `endpoint` (`metalink`, …), `status`).
fn backticked_outside_parentheses(cell: &str) -> BTreeSet<String> {
    let mut depth = 0usize;
    let mut outside = String::new();
    for c in cell.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    outside.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The metric tables of the section: query name → type and label names.
fn documented() -> BTreeMap<String, Family> {
    let mut out = BTreeMap::new();
    for row in metrics_section().lines().filter(|l| l.starts_with("| `mirrorvane_")) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(
            cells.len(),
            4,
            "a metric row has 4 cells (metric, type, labels, meaning): {row}"
        );
        let name = cells[0].trim_matches('`').to_owned();
        let family = Family {
            kind: cells[1].to_owned(),
            labels: backticked_outside_parentheses(cells[2]),
        };
        assert!(out.insert(name.clone(), family).is_none(), "{name} documented twice");
    }
    out
}

/// `exposed` (the families under `prefix`) and what the docs say about `prefix` agree both ways.
fn compare(what: &str, prefix: &str, exposed: &BTreeMap<String, Family>, problems: &mut Vec<String>) {
    let documented: BTreeMap<String, Family> = documented()
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .collect();
    let exposed: BTreeMap<&String, &Family> = exposed.iter().filter(|(n, _)| n.starts_with(prefix)).collect();
    for (name, family) in &exposed {
        match documented.get(*name) {
            None => problems.push(format!(
                "{what} exposes {name} ({}, labels {:?}), not in docs/operations.md",
                family.kind, family.labels
            )),
            Some(doc) if doc != *family => problems.push(format!(
                "{name}: {what} exposes a {} with labels {:?}; docs/operations.md says a {} with labels {:?}",
                family.kind, family.labels, doc.kind, doc.labels
            )),
            Some(_) => {}
        }
    }
    for name in documented.keys() {
        if !exposed.contains_key(name) {
            problems.push(format!(
                "docs/operations.md documents {name}, which the {what} does not expose"
            ));
        }
    }
}

/// A real backend (`mirrorvane serve` publishing a snapshot built from a database) and an edge polling it: every
/// metric family either exposes is in docs/operations.md with its type and labels, and every metric documented
/// there is exposed. Every `mirrorvane_*` metric and every alert of the example rules is documented.
#[test]
fn the_metrics_documented_are_the_metrics_exposed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    mirrorvane_db::testing::run(with_world(&url, 29));
    let file = dir.path().join("mirrorvane.snapshot");
    let out = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .args(["--database", &url, "snapshot", "--no-resolve", "-o"])
        .arg(&file)
        .output()
        .expect("runs mirrorvane snapshot");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_serve, base) = serve_with(&url, &file, &[], None);
    let edge = edge(&format!("{base}/snapshot"));
    // A request of each kind, so the per-request families exist.
    wait_for("the edge's first answer", Duration::from_secs(60), || {
        http_get(&edge, "/mirrorlist?repo=fedora-41&arch=x86_64").0 == 200
    });
    let _ = http_get(&edge, "/metalink?repo=fedora-41&arch=x86_64");
    let _ = http_get(&edge, "/nothing-here");

    let (status, edge_text) = http_get(&edge, "/metrics");
    assert_eq!(status, 200, "{edge_text}");
    let (status, backend_text) = http_get(&base, "/metrics");
    assert_eq!(status, 200, "{backend_text}");
    let edge_families = exposed(&edge_text);
    let backend_families = exposed(&backend_text);
    assert!(
        edge_families.contains_key("mirrorvane_edge_requests_total"),
        "{edge_text}"
    );
    assert!(
        backend_families.contains_key("mirrorvane_backend_hosts"),
        "{backend_text}"
    );

    let mut problems = Vec::new();
    compare("edge", "mirrorvane_edge_", &edge_families, &mut problems);
    compare("backend", "mirrorvane_backend_", &backend_families, &mut problems);
    let documented = documented();
    for name in documented.keys() {
        if !name.starts_with("mirrorvane_edge_") && !name.starts_with("mirrorvane_backend_") {
            problems.push(format!(
                "docs/operations.md documents {name}, which is neither the edge's nor the backend's"
            ));
        }
    }

    // The rules use only documented metrics (a histogram's through its _bucket, _sum and _count).
    let rules = read("deploy/prometheus/mirrorvane-alerts.yml");
    let mut used = BTreeSet::new();
    let mut rest = rules.as_str();
    while let Some(i) = rest.find("mirrorvane_") {
        let before = rest[..i].chars().next_back();
        let name: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            used.insert(name.clone());
        }
        rest = &rest[i + name.len()..];
    }
    assert!(used.len() >= 10, "only {used:?} found in the rules");
    for name in &used {
        let histogram_part = ["_bucket", "_sum", "_count"].iter().any(|suffix| {
            name.strip_suffix(suffix)
                .and_then(|base| documented.get(base))
                .is_some_and(|f| f.kind == "histogram")
        });
        if !documented.contains_key(name) && !histogram_part {
            problems.push(format!(
                "deploy/prometheus/mirrorvane-alerts.yml uses {name}, not in docs/operations.md"
            ));
        }
    }
    // And every alert is in the section's table, and every alert named there exists.
    let alerts: BTreeSet<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .map(|a| a.trim().to_owned())
        .collect();
    assert!(alerts.len() >= 10, "only {alerts:?} in the rules");
    let section = metrics_section();
    let named: BTreeSet<String> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.starts_with("Mirrorvane") && w.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned)
        .collect();
    for a in alerts.difference(&named) {
        problems.push(format!("alert {a} is not described in docs/operations.md"));
    }
    for a in named.difference(&alerts) {
        problems.push(format!(
            "docs/operations.md describes alert {a}, which the rules do not have"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The value after `flag` in `words`.
fn flag<'a>(words: &'a [String], flag: &str) -> &'a str {
    let i = words
        .iter()
        .position(|w| w == flag)
        .unwrap_or_else(|| panic!("no {flag} in {words:?}"));
    &words[i + 1]
}

/// The edge unit's command line, with the skeleton's environment, parses (`--help` after the arguments: clap checks
/// every one before it), and the edge writes only inside the directories systemd gives it; the snapshot unit
/// writes the snapshot inside its state directory. (`tests/cli.rs` parses the `mirrorvane` units' lines.)
#[test]
fn the_units_parse_and_write_only_their_own_directories() {
    let unit = Unit::load("mirrorvane-edge.service", "mirrorvane-edge.env");
    let words = unit.exec_start("mirrorvane-edge.service");
    assert_eq!(words[0], "/usr/bin/mirrorvane-edge");
    let cache = unit.get("CacheDirectory").expect("CacheDirectory");
    let logs = unit.get("LogsDirectory").expect("LogsDirectory");
    assert!(
        flag(&words, "--cache").starts_with(&format!("/var/cache/{cache}/")),
        "{words:?}"
    );
    assert!(
        flag(&words, "--access-log").starts_with(&format!("/var/log/{logs}/")),
        "{words:?}"
    );
    assert_eq!(unit.get("DynamicUser"), Some("yes"));
    assert!(flag(&words, "--snapshot-token-file").starts_with("/run/credentials/"));

    let snapshot = Unit::load("mirrorvane-snapshot.service", "mirrorvane.env");
    let state = snapshot.get("StateDirectory").expect("StateDirectory");
    let out = snapshot.exec_start("mirrorvane-snapshot.service");
    assert!(flag(&out, "-o").starts_with(&format!("/var/lib/{state}/")), "{out:?}");
    let serve = Unit::load("mirrorvane-serve.service", "mirrorvane.env");
    let published = serve.exec_start("mirrorvane-serve.service");
    assert_eq!(
        flag(&published, "--snapshot"),
        flag(&out, "-o"),
        "serve publishes what the snapshot unit writes"
    );

    // The edge binary is another package's: `cargo test --workspace` builds it beside `mirrorvane`.
    let binary = Path::new(env!("CARGO_BIN_EXE_mirrorvane")).with_file_name("mirrorvane-edge");
    if !binary.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is missing: CI builds the workspace",
            binary.display()
        );
        eprintln!(
            "SKIPPED parsing the edge unit's command line: no {} (cargo build -p mirrorvane-edge)",
            binary.display()
        );
        return;
    }
    let parsed = Command::new(&binary)
        .args(&words[1..])
        .arg("--help")
        .output()
        .expect("runs mirrorvane-edge");
    assert!(
        parsed.status.success(),
        "mirrorvane-edge {}: {}",
        words[1..].join(" "),
        String::from_utf8_lossy(&parsed.stderr)
    );
}

engine_tests! {
    /// A database that a newer release migrated (a migration this binary does not carry is recorded) is refused
    /// at start, naming the migration, as docs/deployment.md says under "Upgrades".
    async fn a_binary_refuses_a_database_a_newer_release_migrated(t) {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(99_990_101_i64)
        .bind("from a newer release")
        .bind(true)
        .bind(vec![0u8; 48])
        .bind(0_i64)
        .execute(t.db.pool())
        .await
        .expect("records a migration");
        let out = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
            .args(["--database", &t.url, "init"])
            .output()
            .expect("runs mirrorvane init");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(
            stderr.contains("Error: cannot migrate database ")
                && stderr.contains(": migration 99990101 was previously applied but is missing in the resolved migrations"),
            "{stderr}"
        );
    }
}
