//! Drills of the backend's failures against the real `mirrorvane` binary: the database stops under
//! `serve --build-every` (builds fail loudly, `/healthz` degrades, the last snapshot keeps being published and an
//! edge polling it keeps answering; all recovers when the database returns), and `snapshot` killed with SIGKILL
//! at any moment of its write leaves the published file whole.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mirrorvane_db::Database;
use mirrorvane_db::testing::run;
use mirrorvane_testkit::postgres::PrivateCluster;

mod common;

use common::{edge, http_get, serve_with, wait_for, with_world};

const ASK: &str = "/mirrorlist?repo=fedora-41&arch=x86_64";

/// The edge answers with mirrors.
fn answers(edge: &str) -> bool {
    let (status, body) = http_get(edge, ASK);
    status == 200 && body.lines().any(|l| l.starts_with("http"))
}

#[test]
fn database_outage_under_serve_build_every() {
    let pg = match PrivateCluster::start() {
        Ok(pg) => pg,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED database_outage_under_serve_build_every: {e}");
            return;
        }
        Err(e) => panic!("a private PostgreSQL server is needed: {e}"),
    };
    let url = pg.url();
    run(with_world(&url, 17));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("built.snapshot");
    let log = dir.path().join("serve.log");
    let (_serve, base) = serve_with(&url, &file, &["--build-every", "1"], Some(&log));
    wait_for("the first build", Duration::from_secs(60), || {
        http_get(&base, "/healthz").0 == 200
    });
    let edge = edge(&format!("{base}/snapshot"));
    wait_for("the edge's first answer", Duration::from_secs(30), || answers(&edge));

    pg.stop().expect("stops PostgreSQL");
    wait_for("/healthz to say the build failed", Duration::from_secs(90), || {
        let (status, body) = http_get(&base, "/healthz");
        status == 503 && body.contains("the last build failed")
    });
    let logged = std::fs::read_to_string(&log).expect("the log");
    assert!(
        logged.contains("ERROR") && logged.contains("snapshot build failed"),
        "{logged}"
    );
    // The last good snapshot is still published, and the edge keeps answering from it.
    let (status, _) = http_get(&base, "/snapshot");
    assert_eq!(status, 200);
    for _ in 0..20 {
        assert!(answers(&edge), "the edge stopped answering during the database outage");
    }

    pg.resume().expect("starts PostgreSQL again");
    wait_for("recovery", Duration::from_secs(90), || {
        http_get(&base, "/healthz").0 == 200
    });
    assert!(answers(&edge));
}

/// A snapshot of the demo network in a SQLite database, written again and again by `mirrorvane snapshot`, each
/// killed (SIGKILL) a little later into its run: `OUT` is always a whole snapshot.
#[test]
fn sigkill_during_a_snapshot_write_leaves_the_old_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    run(with_world(&url, 19));
    let out = dir.path().join("out.snapshot");
    let build = || {
        Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
            .args(["--database", &url, "snapshot", "-o"])
            .arg(&out)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts snapshot")
    };
    let whole = |p: &Path| {
        let bytes = std::fs::read(p).expect("the snapshot is there");
        mirrorvane_selector::Selector::decode(&bytes).is_ok()
    };
    // One whole run, timed.
    let started = Instant::now();
    assert!(build().wait().expect("waits").success());
    let full = started.elapsed();
    assert!(whole(&out));
    // Kills spread over the run's length.
    let mut killed_early = 0;
    for i in 0..12u32 {
        let mut child = build();
        std::thread::sleep(full * i / 12);
        let _ = child.kill();
        let status = child.wait().expect("waits");
        if !status.success() {
            killed_early += 1;
        }
        assert!(
            whole(&out),
            "a kill after {:?} left a damaged {}",
            full * i / 12,
            out.display()
        );
    }
    assert!(
        killed_early > 0,
        "no run was killed before it finished ({full:?} per run)"
    );
}

/// PostgreSQL over TLS (`sslmode` in the URL, as libpq reads it): `require` encrypts the connection to a server
/// with TLS on (the shared test server, when it has it), and against a server without TLS fails with a clear
/// error instead of falling back to plain text.
#[test]
fn postgres_sslmode() {
    let admin = mirrorvane_db::testing::postgres_admin_url();
    let sep = if admin.contains('?') { '&' } else { '?' };
    let tls_on = run(async {
        let db = Database::connect(&format!("{admin}{sep}sslmode=prefer")).await.ok()?;
        let on: Option<String> = sqlx::query_scalar("SHOW ssl").fetch_one(db.pool()).await.ok();
        db.close().await;
        on
    });
    if tls_on.as_deref() == Some("on") {
        let encrypted = run(async {
            let db = Database::connect(&format!("{admin}{sep}sslmode=require"))
                .await
                .expect("connects with sslmode=require");
            let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(db.pool())
                .await
                .expect("pg_stat_ssl");
            db.close().await;
            ssl
        });
        assert!(encrypted, "sslmode=require gave a plain-text connection");
    } else {
        eprintln!("SKIPPED the TLS half of postgres_sslmode: the server at {admin} has ssl off");
    }
    let Ok(plain) = PrivateCluster::start() else {
        eprintln!("SKIPPED the no-TLS half of postgres_sslmode: no private PostgreSQL server");
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .args(["--database", &format!("{}?sslmode=require", plain.url()), "export"])
        .output()
        .expect("runs mirrorvane");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open database") && err.to_lowercase().contains("tls"),
        "{err}"
    );
}

/// `serve` on the open internet: idle and half-sent connections are closed after `--header-timeout`, and beyond
/// `--max-connections` a client gets a clean `503` instead of a hang; others are served all along.
#[test]
fn serve_sheds_idle_connections_and_caps_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    run(with_world(&url, 29));
    let file = dir.path().join("out.snapshot");
    let out = Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .args(["--database", &url, "snapshot", "--no-resolve", "-o"])
        .arg(&file)
        .output()
        .expect("runs snapshot");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_serve, base) = serve_with(&url, &file, &["--header-timeout", "1", "--max-connections", "20"], None);
    let addr = base.trim_start_matches("http://").to_owned();
    // Half a request head each, never finished.
    let mut slow: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).expect("connects");
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .expect("writes");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = http_get(&base, "/healthz");
    assert_eq!(
        (status, body.as_str()),
        (503, "too many connections\n"),
        "the 21st connection"
    );
    // The header timeout frees the slots.
    wait_for("the slow connections to be closed", Duration::from_secs(10), || {
        http_get(&base, "/healthz").0 == 200
    });
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    }
}
