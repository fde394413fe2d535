//! `mirrorvane report`: a private mirror checks in (MirrorManager's `report_mirror`, reference §5.6) — walks
//! the local tree of each category, builds `report_mirror`'s payload and sends it to a `mirrorvane serve` (or a
//! MirrorManager) over XML-RPC, or as JSON.
//!
//! It reads `report_mirror.conf` (`--config`), so a mirror moves over with its existing file; every setting
//! can also be given on the command line, which wins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mirrorvane_web::checkin::payload::encode_xmlrpc;
use mirrorvane_web::checkin::xmlrpc::{self, Answer};
use serde_json::{Map, Value, json};

/// Arguments of `mirrorvane report`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// A `report_mirror.conf` ([global] server, [site] name/password, [host] name/user_active, one section per
    /// category with enabled and path).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The check-in URL: `https://mirrors.example.org/xmlrpc` (or `…/checkin/json` with --json).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The site's name.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// The site's check-in password (prefer --password-file or the environment: command lines are visible).
    #[arg(
        long,
        env = "MIRRORVANE_CHECKIN_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,
    /// A file holding the site's check-in password (first line).
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    pub password_file: Option<PathBuf>,
    /// The host's name within the site.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// A category and its local top directory: `"Fedora Linux=/srv/mirror/fedora/linux"` (repeatable).
    #[arg(long = "category", value_name = "NAME=PATH")]
    pub categories: Vec<String>,
    /// Directories whose path (with a trailing `/`) contains one of this file's lines are not reported.
    #[arg(long, value_name = "FILE")]
    pub exclude_from: Option<PathBuf>,
    /// Set the host's user flag (`yes` to have it in answers, `no` to take it out).
    #[arg(long, value_name = "yes|no")]
    pub user_active: Option<String>,
    /// Send JSON to a `/checkin/json` endpoint instead of XML-RPC.
    #[arg(long)]
    pub json: bool,
    /// Also write the payload (JSON) to this file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Build the payload, do not send it.
    #[arg(long, short = 'n')]
    pub no_send: bool,
    /// Trust this PEM certificate for HTTPS besides the system's roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

/// What to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Settings {
    server: Option<String>,
    site: Option<String>,
    password: Option<String>,
    host: Option<String>,
    user_active: Option<String>,
    /// (category name, local directory)
    categories: Vec<(String, PathBuf)>,
}

/// The settings of a `report_mirror.conf`.
fn read_config(path: &Path) -> anyhow::Result<Settings> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let ini = ini::Ini::load_from_str(&text).with_context(|| format!("bad config file {}", path.display()))?;
    let enabled = |section: &str| {
        ini.section(Some(section))
            .and_then(|s| s.get("enabled"))
            .is_none_or(|v| v.trim() == "1")
    };
    let get = |section: &str, key: &str| {
        ini.section(Some(section))
            .and_then(|s| s.get(key))
            .map(|v| v.trim().to_owned())
    };
    if !enabled("global") {
        bail!("{}: [global] is not enabled", path.display());
    }
    let mut s = Settings {
        server: get("global", "server"),
        site: get("site", "name"),
        password: get("site", "password"),
        host: get("host", "name"),
        user_active: get("host", "user_active"),
        categories: Vec::new(),
    };
    for (name, props) in ini.iter() {
        let Some(name) = name else { continue };
        if ["global", "site", "host", "stats"].contains(&name) || props.get("enabled").map(str::trim) != Some("1") {
            continue;
        }
        let Some(dir) = props.get("path") else {
            bail!("{}: [{name}] is enabled but has no path", path.display());
        };
        s.categories.push((name.to_owned(), PathBuf::from(dir.trim())));
    }
    Ok(s)
}

fn settings(args: &Args) -> anyhow::Result<Settings> {
    let mut s = match &args.config {
        Some(path) => read_config(path)?,
        None => Settings::default(),
    };
    s.server = args.server.clone().or(s.server);
    s.site = args.site.clone().or(s.site);
    s.host = args.host.clone().or(s.host);
    s.user_active = args.user_active.clone().or(s.user_active);
    if let Some(file) = &args.password_file {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        s.password = Some(text.lines().next().unwrap_or_default().to_owned());
    } else if let Some(p) = &args.password {
        s.password = Some(p.clone());
    }
    if !args.categories.is_empty() {
        s.categories = args
            .categories
            .iter()
            .map(|c| {
                let (name, dir) = c
                    .split_once('=')
                    .with_context(|| format!("--category {c:?}: expected NAME=PATH"))?;
                Ok((name.to_owned(), PathBuf::from(dir)))
            })
            .collect::<anyhow::Result<_>>()?;
    }
    Ok(s)
}

/// The directories below `top` (relative, `""` for `top` itself), not following links, without those an
/// exclude pattern matches (report_mirror's rule: a substring of the path with a trailing `/`).
pub fn walk(top: &Path, excludes: &[String]) -> anyhow::Result<Vec<String>> {
    let meta = std::fs::metadata(top).with_context(|| format!("cannot read {}", top.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", top.display());
    }
    let mut out = vec![String::new()];
    let mut pending = vec![String::new()];
    while let Some(rel) = pending.pop() {
        let dir = if rel.is_empty() { top.to_owned() } else { top.join(&rel) };
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("skipping {}: {e}", dir.display());
                continue;
            }
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let probe = format!("{child}/");
            if excludes.iter().any(|x| probe.contains(x.as_str())) {
                continue;
            }
            out.push(child.clone());
            pending.push(child);
        }
    }
    out.sort();
    Ok(out)
}

/// `report_mirror`'s payload.
fn payload(s: &Settings, excludes: &[String]) -> anyhow::Result<Value> {
    let need = |v: &Option<String>, what: &str| v.clone().with_context(|| format!("no {what} given"));
    let mut host = Map::new();
    host.insert("enabled".into(), json!("1"));
    host.insert(
        "name".into(),
        json!(need(&s.host, "host name (--host or [host] name)")?),
    );
    if let Some(active) = &s.user_active {
        host.insert("user_active".into(), json!(active));
    }
    let mut p = Map::new();
    p.insert("version".into(), json!(0));
    p.insert(
        "global".into(),
        json!({"enabled": "1", "server": s.server.clone().unwrap_or_default()}),
    );
    p.insert(
        "site".into(),
        json!({
            "enabled": "1",
            "name": need(&s.site, "site name (--site or [site] name)")?,
            "password": need(&s.password, "password (--password-file or [site] password)")?,
        }),
    );
    p.insert("host".into(), Value::Object(host));
    p.insert("stats".into(), json!({}));
    if s.categories.is_empty() {
        bail!("no category to report (--category NAME=PATH or an enabled category section)");
    }
    for (name, dir) in &s.categories {
        let tree: BTreeMap<String, Value> = walk(dir, excludes)?.into_iter().map(|d| (d, json!({}))).collect();
        p.insert(name.to_lowercase(), json!({"enabled": "1", "dirtree": tree}));
    }
    Ok(Value::Object(p))
}

/// Runs `mirrorvane report`: builds, writes and sends the check-in; prints the server's reply. Fails when the
/// server refuses it.
pub async fn run(args: &Args) -> anyhow::Result<String> {
    let s = settings(args)?;
    let excludes: Vec<String> = match &args.exclude_from {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("cannot read {}", f.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    let payload = payload(&s, &excludes)?;
    let json = serde_json::to_vec(&payload)?;
    let dirs: usize = s
        .categories
        .iter()
        .filter_map(|(n, _)| payload[n.to_lowercase()]["dirtree"].as_object().map(Map::len))
        .sum();
    if let Some(out) = &args.output {
        std::fs::write(out, &json).with_context(|| format!("cannot write {}", out.display()))?;
    }
    if args.no_send {
        let line = format!(
            "report: {dirs} directories in {} categories; not sent",
            s.categories.len()
        );
        println!("{line}");
        return Ok(line);
    }
    let server = s
        .server
        .clone()
        .context("no server given (--server or [global] server)")?;
    let mut client = reqwest::Client::builder().user_agent(concat!("mirrorvane-report/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &args.ca_file {
        let bytes = std::fs::read(pem).with_context(|| format!("cannot read {}", pem.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&bytes).context("bad --ca-file")? {
            client = client.add_root_certificate(cert);
        }
    }
    let client = client.build()?;
    let request = if args.json {
        client
            .post(&server)
            .header("Content-Type", "application/json")
            .body(json)
    } else {
        let call = format!(
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>checkin</methodName>\n<params>\n<param>\n\
             <value><string>{}</string></value>\n</param>\n</params>\n</methodCall>\n",
            encode_xmlrpc(&json)
        );
        client.post(&server).header("Content-Type", "text/xml").body(call)
    };
    let response = request.send().await.with_context(|| format!("cannot reach {server}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .with_context(|| format!("reading the answer of {server}"))?;
    let reply = if args.json {
        if !status.is_success() {
            bail!("{server} answered {status}: {}", body.trim_end());
        }
        body
    } else {
        match xmlrpc::parse_response(&body) {
            Ok(Answer::Value(v)) if status.is_success() => v,
            Ok(Answer::Fault(code, message)) => bail!("{server} refused the check-in (fault {code}): {message}"),
            _ => bail!("{server} answered {status}: {}", body.trim_end()),
        }
    };
    println!("{}", reply.trim_end());
    if reply.trim_end().ends_with("error checking in") {
        bail!("the check-in was refused");
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_mirror_conf() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("report_mirror.conf");
        std::fs::write(
            &conf,
            "[global]\nenabled=1\nserver=https://mm.example/xmlrpc\n\n[site]\nenabled=1\nname=Example\n\
             password=secret\n\n[host]\nenabled=1\nname=private.example.org\nuser_active=yes\n\n[stats]\n\
             enabled=0\n\n[Fedora Linux]\nenabled=1\npath=/srv/fedora/linux\n\n[Fedora EPEL]\nenabled=0\n\
             path=/srv/epel\n",
        )
        .unwrap();
        let s = read_config(&conf).unwrap();
        assert_eq!(s.server.as_deref(), Some("https://mm.example/xmlrpc"));
        assert_eq!(s.password.as_deref(), Some("secret"));
        assert_eq!(
            s.categories,
            [("Fedora Linux".to_owned(), PathBuf::from("/srv/fedora/linux"))]
        );
    }

    #[test]
    fn walks_with_excludes() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["releases/41/os", "releases/41/iso", "updates/41", ".snapshot/x"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("releases/41/os/file"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("releases/41"), dir.path().join("releases/latest")).unwrap();
        let got = walk(dir.path(), &[".snapshot".into(), "/iso/".into()]).unwrap();
        assert_eq!(
            got,
            ["", "releases", "releases/41", "releases/41/os", "updates", "updates/41"]
        );
        assert!(walk(&dir.path().join("nope"), &[]).is_err());
    }
}
