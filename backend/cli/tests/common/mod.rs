//! What the `mirrorvane` binary's tests share: a server process killed with the test, `mirrorvane serve` started
//! on a free port, and a database holding the synthetic network.

#![allow(dead_code)] // each test file uses its part

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mirrorvane_db::Database;
use mirrorvane_mm2::import::from_snapshot;
use mirrorvane_testkit::synthetic::{self, Scale};

/// A child process killed when the test lets go of it (also when it panics).
pub struct Server(pub Option<Child>);

impl Server {
    /// The process, no longer killed on drop.
    pub fn into_inner(mut self) -> Child {
        self.0.take().expect("a process")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `mirrorvane --database DB serve --listen 127.0.0.1:0 --snapshot SNAPSHOT EXTRA…`, its stderr to `stderr` (or
/// nowhere); returns it and its `http://…` base once it listens.
pub fn serve_with(db: &str, snapshot: &Path, extra: &[&str], stderr: Option<&Path>) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .args(["--database", db, "serve", "--listen", "127.0.0.1:0", "--snapshot"])
        .arg(snapshot)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(stderr.map_or_else(Stdio::null, |p| {
            Stdio::from(std::fs::File::create(p).expect("a log file"))
        }))
        .spawn()
        .expect("starts serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("reads");
    let base = line
        .trim()
        .strip_prefix("Listening on ")
        .unwrap_or_else(|| panic!("a listening line, not {line:?}"))
        .to_owned();
    (Server(Some(child)), base)
}

/// Opens (and migrates) `url` and imports the synthetic demo network of `seed` into it.
pub async fn with_world(url: &str, seed: u64) -> synthetic::World {
    let db = Database::open(url).await.expect("opens");
    let world = synthetic::generate(&Scale::demo(), seed);
    from_snapshot::import(&db, &world.snapshot, "Fedora")
        .await
        .expect("imports");
    db.close().await;
    world
}

/// `GET path` over a fresh connection: the status (0 when nothing answered) and the body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = addr.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

/// Polls `f` every 100 ms until it holds; panics naming `what` after `within`.
pub fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// An edge (the library the binary runs, on a runtime of its own) polling `url`; returns its address. Without an
/// admin listener it answers `/metrics` on its request port, as the binary does without `--admin-listen`.
pub fn edge(url: &str) -> String {
    use mirrorvane_edge::source::{Fetch, Intervals, Source};
    let (tx, rx) = std::sync::mpsc::channel();
    let config = mirrorvane_edge::Config {
        listen: "127.0.0.1:0".parse().expect("an address"),
        minimum: 5,
        family_preference: true,
        source: Source::parse(url).expect("a URL"),
        intervals: Intervals {
            file: Duration::from_millis(200),
            url: Duration::from_millis(200),
        },
        access_log: None,
        workers: Some(1),
        limits: mirrorvane_edge::Limits::default(),
        trust: mirrorvane_edge::Trust::default(),
        admin_listen: None,
        fetch: Fetch::default(),
        max_age: Some(Duration::from_secs(3600)),
    };
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        let geo = std::sync::Arc::new(mirrorvane_selector::ClientGeo::default());
        let served = rt.block_on(mirrorvane_edge::serve(config, geo, |addr| {
            let _ = tx.send(addr);
        }));
        eprintln!("the edge stopped: {served:?}");
    });
    format!("{}", rx.recv_timeout(Duration::from_secs(60)).expect("the edge starts"))
}

/// The repository's top directory.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the repository, read.
pub fn read(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// A unit file: its settings in order (continuation lines joined), and its environment as systemd gives it to
/// `ExecStart` (`Environment=`, then the `EnvironmentFile=`, here the skeleton in deploy/systemd).
pub struct Unit {
    settings: Vec<(String, String)>,
    env: HashMap<String, String>,
}

impl Unit {
    pub fn load(unit: &str, env_file: &str) -> Unit {
        let text = read(&format!("deploy/systemd/{unit}")).replace("\\\n", " ");
        let settings: Vec<(String, String)> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('['))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let mut env = HashMap::new();
        for (_, v) in settings.iter().filter(|(k, _)| k == "Environment") {
            let (name, value) = v.split_once('=').expect("Environment=NAME=VALUE");
            env.insert(name.to_owned(), value.to_owned());
        }
        for line in read(&format!("deploy/systemd/{env_file}")).lines() {
            if let Some((name, value)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                env.insert(name.to_owned(), value.to_owned());
            }
        }
        Unit { settings, env }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `ExecStart`'s words as systemd passes them: specifiers replaced (`%d` the unit's credentials, `%C`/`%L`/`%S`
    /// the cache/log/state roots), `$NAME` split into words, `${NAME}` one word. An undefined variable panics.
    pub fn exec_start(&self, unit: &str) -> Vec<String> {
        let line = self.get("ExecStart").expect("ExecStart");
        let expand = |word: &str| -> String {
            let mut out = word
                .replace("%d", &format!("/run/credentials/{unit}"))
                .replace("%C", "/var/cache")
                .replace("%L", "/var/log")
                .replace("%S", "/var/lib");
            while let Some(i) = out.find("${") {
                let end = out[i..].find('}').expect("${NAME}") + i;
                let name = &out[i + 2..end];
                let value = self
                    .env
                    .get(name)
                    .unwrap_or_else(|| panic!("{unit}: ${{{name}}} is set neither by the unit nor the env file"));
                out = format!("{}{value}{}", &out[..i], &out[end + 1..]);
            }
            out
        };
        let mut words = Vec::new();
        for word in line.split_whitespace() {
            match word.strip_prefix('$').filter(|w| !w.starts_with('{')) {
                Some(name) => words.extend(
                    self.env
                        .get(name)
                        .unwrap_or_else(|| panic!("{unit}: ${name} is set neither by the unit nor the env file"))
                        .split_whitespace()
                        .map(str::to_owned),
                ),
                None => words.push(expand(word)),
            }
        }
        words
    }
}
