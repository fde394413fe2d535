//! The `mirrorvane` binary end to end on both engines: init, snapshot from the database (atomic, previous kept),
//! serve with ETag/304 as an edge polls it (through the edge's own fetch code), refusal of a bad snapshot file,
//! and clear errors for bad database URLs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use mirrorvane_db::engine_tests;
use mirrorvane_edge::source::{Fetch, Fetched, Fetcher, Source};
use mirrorvane_mm2::import::from_snapshot;
use mirrorvane_testkit::synthetic::{self, Scale};

fn mirrorvane(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs mirrorvane")
}

mod common;

use common::{Server, serve_with, with_world};

fn serve(db: &str, snapshot: &Path) -> (Server, String) {
    serve_with(db, snapshot, &[], None)
}

engine_tests! {
    /// `init`, `snapshot` (atomic, unchanged data leaves the file alone, changed data keeps the previous one), and
    /// `serve` answering the edge's own fetch with ETag/304, refusing a damaged file.
    async fn init_snapshot_serve(t) {
        let world = synthetic::generate(&Scale::demo(), 11);
        from_snapshot::import(&t.db, &world.snapshot, "Fedora")
            .await
            .expect("imports");
        let out = mirrorvane(&t.url, &["init"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("is ready"));
        // Run again on a migrated database, with the default logging: nothing to say.
        let out = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
            .args(["--database", &t.url, "init"])
            .env_remove("RUST_LOG")
            .output()
            .expect("runs mirrorvane");
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "a second init logs nothing");

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("mirrorvane.snapshot");
        let file_s = file.to_str().expect("utf-8 path");
        let out = mirrorvane(&t.url, &["snapshot", "--no-resolve", "-o", file_s]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary = String::from_utf8_lossy(&out.stdout);
        assert!(
            summary.starts_with(&format!("snapshot: {} hosts", world.snapshot.hosts.len())),
            "{summary}"
        );
        let first = std::fs::read(&file).expect("written");
        let digest = |b: &[u8]| mirrorvane_signature::content_digest(b).expect("a snapshot");
        // Same data: rewritten with this build's creation time (its age tells how fresh it is), same content
        // digest (the ETag edges poll with, so they do not reload).
        let out = mirrorvane(&t.url, &["snapshot", "--no-resolve", "-o", file_s]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("(content unchanged)"));
        let second = std::fs::read(&file).expect("still there");
        assert_eq!(digest(&second), digest(&first));
        // Changed data: a new digest, the previous file kept beside it.
        sqlx::query("UPDATE host SET bandwidth_int = bandwidth_int + 1 WHERE id = (SELECT MIN(id) FROM host)")
            .execute(t.db.pool())
            .await
            .expect("update");
        let out = mirrorvane(&t.url, &["snapshot", "--no-resolve", "-o", file_s]);
        assert!(out.status.success());
        assert!(!String::from_utf8_lossy(&out.stdout).contains("unchanged"));
        let third = std::fs::read(&file).expect("written");
        assert_ne!(digest(&third), digest(&first));
        assert_eq!(
            std::fs::read(dir.path().join("mirrorvane.snapshot.prev")).expect("previous kept"),
            second
        );

        let (_server, base) = serve(&t.url, &file);
        let source = Source::parse(&format!("{base}/snapshot")).expect("url");
        let fetcher = Fetcher::new(source, Fetch::default()).expect("client");
        let Fetched::New { bytes, etag } = fetcher.fetch(None).await.expect("fetches") else {
            panic!("a snapshot expected");
        };
        let (selector, _) = fetcher.load(bytes).await.expect("loads");
        assert_eq!(selector.snapshot().hosts.len(), world.snapshot.hosts.len());
        let etag = etag.expect("an ETag");
        let Fetched::Unchanged { created } = fetcher.fetch(Some(&etag)).await.expect("polls") else {
            panic!("304 expected for {etag}");
        };
        assert!(created.is_some(), "a 304 says how fresh the snapshot is");
        // A damaged file is not published: the edge keeps getting 304 for what it has; /healthz says degraded.
        std::fs::write(&file, b"not a snapshot").expect("overwrite");
        assert!(matches!(fetcher.fetch(Some(&etag)).await.expect("polls"), Fetched::Unchanged { .. }));
        let Fetched::New { etag: again, .. } = fetcher.fetch(None).await.expect("fetches") else {
            panic!("the previous snapshot expected");
        };
        assert_eq!(again.as_deref(), Some(etag.as_str()));
        let health = http_get(&base, "/healthz");
        assert!(health.contains("503") && health.contains("degraded") && health.contains("not a valid snapshot"), "{health}");
    }
}

#[test]
fn bad_database_urls_are_clear_errors() {
    let out = mirrorvane("mysql://root@127.0.0.1/x", &["init"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");
    let out = mirrorvane("postgres://postgres@127.0.0.1:1/none", &["init"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open database"), "{err}");
    // The cause once, not once per layer that wraps it.
    assert_eq!(err.matches("Connection refused").count(), 1, "{err}");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mirrorvane(
        &format!("sqlite://{}/missing/dir/x.db", dir.path().display()),
        &["init"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open database"));
}

fn http_get(base: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connects");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("writes");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("reads");
    // Bodies may be binary (snapshots); the headers are what tests read.
    String::from_utf8_lossy(&out).into_owned()
}

/// `dnf makecache` against the demo's metalink, in a scratch install root: dnf downloads the metadata from the
/// demo's local mirrors and checks it against the metalink's hashes. dnf is installed by CI (`.ci/run`); a
/// machine without it skips this part, loudly.
fn dnf_makecache(base: &str) {
    if Command::new("dnf").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "dnf is not installed; CI installs it (.ci/run)"
        );
        eprintln!("SKIPPED: dnf makecache against the demo (dnf is not installed)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos");
    std::fs::create_dir_all(&repos).unwrap();
    std::fs::write(
        repos.join("demo.repo"),
        format!(
            "[mirrorvane-demo]\nname=Mirrorvane demo\nmetalink={base}/metalink?repo=fedora-41&arch=x86_64\ngpgcheck=0\n"
        ),
    )
    .unwrap();
    let out = Command::new("dnf")
        .arg("makecache")
        .arg(format!("--setopt=reposdir={}", repos.display()))
        .arg(format!("--installroot={}", dir.path().join("root").display()))
        .args(["--releasever=41", "--setopt=skip_if_unavailable=False", "-y"])
        .output()
        .expect("dnf runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("Metadata cache created"),
        "{text}"
    );
}

/// The README's first command: the demo creates its database, applies the inventory, scans the tree it wrote,
/// builds and serves — and answers a dnf metalink with the scanned repomd.xml's checksums.
#[test]
fn demo_runs_the_whole_pipeline() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .args(["demo", "--listen", "127.0.0.1:0", "--web-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts the demo");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(Some(child));
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let base = loop {
        let line = lines.next().expect("the demo prints until it listens").expect("reads");
        if let Some(base) = line.strip_prefix("Listening on ") {
            break base.to_owned();
        }
        seen.push(line);
    };
    let text = seen.join("\n");
    assert!(
        text.contains("scan Fedora Linux:") && text.contains("repositories and"),
        "{text}"
    );
    let answer = http_get(&base, "/metalink?repo=fedora-41&arch=x86_64&ip=89.160.20.113");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("<file name=\"repomd.xml\">") && answer.contains("<hash type=\"sha256\">"),
        "{answer}"
    );
    assert!(
        answer.contains("/releases/41/Everything/x86_64/os/repodata/repomd.xml</url>"),
        "{answer}"
    );
    // The web UI and public pages on the demo's database.
    let web = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("Web UI and public pages on ")?
                .split_once("/ ")
                .map(|(u, _)| u.to_owned())
        })
        .expect("the demo names its web UI");
    let mirrors = http_get(&web, "/mirrors");
    assert!(
        mirrors.starts_with("HTTP/1.1 200") && mirrors.contains("Public mirrors"),
        "{mirrors}"
    );
    assert!(http_get(&web, "/login").contains("Sign in"));
    let updates = http_get(&base, "/mirrorlist?repo=updates-released-f41&arch=aarch64");
    assert!(updates.contains("/updates/41/Everything/aarch64/"), "{updates}");

    // The three local mirrors were crawled; for this machine's clients the two up-to-date ones come first, and
    // the stale one is in no answer.
    assert!(text.contains("3 of 3 hosts crawled (3 success"), "{text}");
    assert!(
        text.contains("mirror-c.demo") && text.contains(" not; answers over IPv4"),
        "{text}"
    );
    let local = http_get(&base, "/metalink?repo=fedora-41&arch=x86_64");
    let urls: Vec<&str> = local.lines().filter(|l| l.contains("<url ")).collect();
    assert!(urls.len() > 2, "{local}");
    assert!(urls[..2].iter().all(|u| u.contains("http://localhost:")), "{local}");
    assert!(!local.contains("/stale/"), "{local}");
    dnf_makecache(&base);
    // SIGTERM (what systemd and `kill` send): a clean stop that removes the demo's temporary directory.
    let dir = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("Snapshot ")?
                .split_once(' ')?
                .0
                .strip_suffix("/snapshot")
        })
        .expect("the demo names its snapshot")
        .to_owned();
    assert!(Path::new(&dir).is_dir(), "{dir}");
    let mut child = server.into_inner();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("the demo exits");
    assert!(exit.success(), "{exit:?}");
    assert!(!Path::new(&dir).exists(), "{dir} left behind");
}

engine_tests! {
    /// `serve --build-every`: builds the snapshot from the database on its period, keeps the ETag while the data
    /// does not change (the file is not rewritten), and publishes a new one when it does.
    async fn serve_rebuilds_from_the_database(t) {
        let world = synthetic::generate(&Scale::demo(), 13);
        from_snapshot::import(&t.db, &world.snapshot, "Fedora")
            .await
            .expect("imports");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("built.snapshot");
        let (_server, base) = serve_with(&t.url, &file, &["--build-every", "1"], None);
        let etag = |wait_for_other: Option<&str>| {
            for _ in 0..600 {
                let answer = http_get(&base, "/snapshot");
                let tag = answer
                    .lines()
                    .find_map(|l| l.strip_prefix("etag: ").or_else(|| l.strip_prefix("ETag: ")))
                    .map(str::to_owned);
                if let Some(tag) = tag
                    && answer.starts_with("HTTP/1.1 200")
                    && Some(tag.as_str()) != wait_for_other
                {
                    return tag;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            panic!("no (new) snapshot published");
        };
        let first = etag(None);
        // Two more build periods with the same data: same ETag.
        std::thread::sleep(std::time::Duration::from_millis(2500));
        assert_eq!(etag(None), first, "unchanged data must keep the ETag");
        sqlx::query("UPDATE host SET bandwidth_int = bandwidth_int + 1 WHERE id = (SELECT MIN(id) FROM host)")
            .execute(t.db.pool())
            .await
            .expect("update");
        let second = etag(Some(&first));
        assert_ne!(second, first);
    }
}

/// The README's path on a fresh database: export says there is nothing yet; the example inventory applies (and
/// again changes nothing); a scanned tree; a host added without a crawl is named in the snapshot's warnings
/// instead of silently missing, and one added `--always-up-to-date` is in the answers.
#[test]
fn readme_path_with_the_example_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("readme.db").display());
    let ok = |args: &[&str]| {
        let out = mirrorvane(&db, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (export, _) = ok(&["export"]);
    assert!(export.contains("holds no inventory yet"), "{export}");

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/inventory.toml");
    let (applied, _) = ok(&["apply", "-f", example]);
    assert!(
        applied.contains("applied ") && applied.contains(" changes: "),
        "{applied}"
    );
    assert_eq!(ok(&["apply", "-f", example]).0, "no changes\n");
    let (export, _) = ok(&["export"]);
    assert!(export.contains("name = \"mirror.example.edu\""), "{export}");

    let tree = dir.path().join("primary");
    mirrorvane_testkit::tree::write(&tree, 1_790_000_000).expect("tree");
    let topdir = tree.join("pub/fedora/linux");
    ok(&[
        "scan",
        "--category",
        "Fedora Linux",
        "--path",
        topdir.to_str().expect("utf-8"),
    ]);

    ok(&[
        "host",
        "add",
        "Example University",
        "mirror2.example.edu",
        "--country",
        "DE",
        "--category",
        "Fedora Linux",
        "--url",
        "https://mirror2.example.edu/fedora/linux",
        "--always-up-to-date",
    ]);
    let (disabled, _) = ok(&["host", "disable", "Example University", "internal.example.edu"]);
    assert!(disabled.contains("applied 1 change: 0 added, 1 updated"), "{disabled}");
    let snapshot = dir.path().join("snapshot");
    let (_, warnings) = ok(&["snapshot", "--no-resolve", "-o", snapshot.to_str().expect("utf-8")]);
    assert!(
        warnings.contains("(mirror.example.edu) carries no directory up to date"),
        "{warnings}"
    );
    assert!(!warnings.contains("mirror2.example.edu"), "{warnings}");

    let selector = mirrorvane_selector::Selector::decode(&std::fs::read(&snapshot).expect("snapshot")).expect("loads");
    let reply = mirrorvane_testkit::fixture::call(
        &selector,
        &mirrorvane_testkit::fixture::Geo::default(),
        &mirrorvane_testkit::fixture::Call {
            path_and_query: "/mirrorlist?repo=fedora-41&arch=x86_64",
            ..Default::default()
        },
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("https://mirror2.example.edu/fedora/linux/releases/41/Everything/x86_64/os/"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("mirror.example.edu/"), "{}", reply.body);
}

/// The shipped systemd units (deploy/systemd) call `mirrorvane` with subcommands and options it has: each
/// `ExecStart` of the `mirrorvane` binary, with its environment filled in, parses (clap stops at `--help`
/// after checking everything before it).
#[test]
fn systemd_units_call_real_commands() {
    let dir = common::repo().join("deploy/systemd");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if !name.ends_with(".service") {
            continue;
        }
        let env_file = if name == "mirrorvane-edge.service" {
            "mirrorvane-edge.env"
        } else {
            "mirrorvane.env"
        };
        let words = common::Unit::load(&name, env_file).exec_start(&name);
        if words.first().map(String::as_str) != Some("/usr/bin/mirrorvane") {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
            .args(&words[1..])
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {words:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} ExecStart lines of mirrorvane found");
}

/// Signed snapshots end to end: `keygen` (0600, never overwrites), `snapshot --sign-key`, `serve` with a bearer
/// token, and the edge's fetch code accepting it with the public key and refusing it with another.
#[test]
fn signed_snapshots_with_a_token() {
    use std::os::unix::fs::PermissionsExt;
    mirrorvane_db::testing::run(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let world = with_world(&url, 23).await;

        let key = dir.path().join("snapshot.key");
        let key_s = key.to_str().expect("utf-8");
        let out = mirrorvane(&url, &["keygen", "-o", key_s]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(public.starts_with("mirrorvane-snapshot-key "), "{public}");
        let mode = std::fs::metadata(&key).expect("the key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = mirrorvane(&url, &["keygen", "-o", key_s]);
        assert!(!again.status.success(), "an existing key was overwritten");
        assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));

        let file = dir.path().join("signed.snapshot");
        let file_s = file.to_str().expect("utf-8");
        let out = mirrorvane(&url, &["snapshot", "--no-resolve", "--sign-key", key_s, "-o", file_s]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let bytes = std::fs::read(&file).expect("written");
        let keys = [mirrorvane_signature::PublicKey::from_text(&public).expect("a key")];
        mirrorvane_signature::verify(&bytes, &keys).expect("signed with the new key");

        let token = dir.path().join("token");
        std::fs::write(&token, "s3cret-token\n").expect("token");
        let token_arg = ["--snapshot-token-file", token.to_str().expect("utf-8")];
        let (_server, base) = serve_with(&url, &file, &token_arg, None);
        assert!(
            http_get(&base, "/snapshot").starts_with("HTTP/1.1 401"),
            "no token, no snapshot"
        );

        let url_source = || Source::parse(&format!("{base}/snapshot")).expect("url");
        let fetch = |token: Option<&str>, keys: Vec<mirrorvane_signature::PublicKey>| {
            Fetcher::new(
                url_source(),
                Fetch {
                    token: token.map(str::to_owned),
                    public_keys: keys,
                    ..Fetch::default()
                },
            )
            .expect("client")
        };
        let wrong_token = fetch(Some("guess"), keys.to_vec());
        let err = wrong_token.fetch(None).await.err().expect("refused");
        assert!(format!("{err:#}").contains("401"), "{err:#}");

        let edge = fetch(Some("s3cret-token"), keys.to_vec());
        let Fetched::New { bytes, .. } = edge.fetch(None).await.expect("fetches") else {
            panic!("a snapshot expected");
        };
        let (selector, _) = edge.load(bytes.clone()).await.expect("verified and loaded");
        assert_eq!(selector.snapshot().hosts.len(), world.snapshot.hosts.len());

        let other = mirrorvane_signature::SecretKey::from_text(
            "mirrorvane-snapshot-secret-key AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        )
        .expect("a key")
        .public();
        let stranger = fetch(Some("s3cret-token"), vec![other]);
        let err = stranger.load(bytes).await.err().expect("refused");
        assert!(format!("{err:#}").contains("not one of the accepted keys"), "{err:#}");
    });
}
