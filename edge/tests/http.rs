//! End to end: the real `mirrorvane-edge` binary, real GeoIP test databases, real HTTP on 127.0.0.1.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

mod common;

use common::*;
use mirrorvane_selector::snapshot::encode;

#[test]
fn answers_like_mirrormanager_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    std::fs::write(&snap, encode(&snapshot(1))).unwrap();
    let log = dir.path().join("access.log");
    let edge = start(
        snap.to_str().unwrap(),
        &["--access-log", log.to_str().unwrap(), "--minimum", "1"],
    );
    let a = &edge.addr;

    let r = get(a, "/", &[]).unwrap();
    assert_eq!((r.status, r.body.as_str()), (404, "We don't serve their kind here!"));
    let r = get(a, "/mirrorlist", &[]).unwrap();
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "# either path=, or repo= and arch= must be specified")
    );

    // GeoIP test database: 89.160.20.113 is in Sweden.
    let r = get(
        a,
        "/mirrorlist?repo=fedora-41&arch=x86_64&ip=89.160.20.113&countme=1",
        &[],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.headers.contains("content-type: text/plain"));
    assert!(
        r.body
            .starts_with("# repo = fedora-41 arch = x86_64 country = SE country = GB "),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("\nhttps://m1.example/g1/fedora/linux/releases/41/Everything/x86_64/os/\n")
    );

    // X-Forwarded-For: the last element is the client (81.2.69.160 is in the United Kingdom).
    let r = get(
        a,
        "/fedora/metalink?repo=fedora-41&arch=x86_64",
        &[("X-Forwarded-For", "89.160.20.113, 81.2.69.160")],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.headers.contains("content-type: application/metalink+xml"));
    assert!(r.body.contains("<hash type=\"sha256\">aa55</hash>"));
    assert!(r.body.contains("location=\"GB\" preference=\"100\">https://m2.example/g1/fedora/linux/releases/41/Everything/x86_64/os/repodata/repomd.xml</url>"), "{}", r.body);

    // ASN from global_netblocks.txt: 134.108.0.0/16 is AS553, served privately by host 3.
    let r = get(a, "/mirrorlist?repo=fedora-41&arch=x86_64&ip=134.108.34.134", &[]).unwrap();
    assert!(
        r.body.starts_with("# repo = fedora-41 arch = x86_64 Using ASN 553 "),
        "{}",
        r.body
    );
    assert!(r.body.lines().nth(1).unwrap().starts_with("https://m3.example/"));

    // Redirect, metalink v4, explain.
    let r = get(
        a,
        "/mirrorlist?repo=fedora-41&arch=x86_64&ip=89.160.20.113&country=SE&redirect=1",
        &[],
    )
    .unwrap();
    assert_eq!(r.status, 302);
    assert!(
        r.headers
            .contains("location: https://m1.example/g1/fedora/linux/releases/41/everything/x86_64/os/")
    );
    let r = get(
        a,
        "/metalink?repo=fedora-41&arch=x86_64&ip=89.160.20.113",
        &[("Accept", "application/metalink4+xml")],
    )
    .unwrap();
    assert!(r.headers.contains("content-type: application/metalink4+xml"));
    assert!(r.body.contains("<hash type=\"sha-256\">aa55</hash>"));
    let r = get(
        a,
        "/metalink?repo=fedora-41&arch=x86_64&ip=89.160.20.113&explain=1",
        &[],
    )
    .unwrap();
    assert!(r.headers.contains("content-type: application/json"));
    assert!(r.body.contains("\"tier\": \"geoip\""), "{}", r.body);

    // Errors.
    let r = get(a, "/mirrorlist?repo=nope&arch=x86_64", &[]).unwrap();
    assert_eq!(r.status, 404);
    assert!(r.body.contains("# repo=fedora-41&arch=x86_64\n"));
    let r = get(a, "/mirrorlist?repo=fedora-41&arch=x86_64&ip=10.11.12.331", &[]).unwrap();
    assert_eq!(
        (r.status, r.body.as_str()),
        (500, "Cannot parse client IP address. Aborting.")
    );

    // Health and metrics.
    let r = get(a, "/healthz", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .starts_with(&format!("ok generation=1 created={} age=", created(1))),
        "{}",
        r.body
    );
    let r = get(a, "/metrics", &[]).unwrap();
    for m in [
        "mirrorvane_edge_requests_total{endpoint=\"mirrorlist\",status=\"200\"}",
        "mirrorvane_edge_requests_total{endpoint=\"other\",status=\"404\"}",
        "mirrorvane_edge_decision_seconds_bucket",
        &format!("mirrorvane_edge_snapshot_created_seconds {}", created(1)),
        "mirrorvane_edge_snapshot_generation 1",
        "mirrorvane_edge_snapshot_reload_failures_total 0",
    ] {
        assert!(r.body.contains(m), "metrics lack {m}:\n{}", r.body);
    }

    // The access log, written off the request path, in MirrorManager's format.
    wait_for("access log", || {
        std::fs::read_to_string(&log)
            .map(|l| l.lines().count() >= 5)
            .unwrap_or(false)
    });
    let lines = std::fs::read_to_string(&log).unwrap();
    let first = lines.lines().next().unwrap();
    let date = first.split("DATE: ").nth(1).unwrap().split(';').next().unwrap();
    assert_eq!(date.len(), 10);
    assert_eq!(
        first,
        format!("IP: 89.160.20.113; DATE: {date}; COUNTRY: SE; REPO: fedora-41; ARCH: x86_64")
    );
    assert!(lines.contains("IP: 81.2.69.160; DATE: "));
}

#[test]
fn reloads_and_refuses_corrupt_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    std::fs::write(&snap, encode(&snapshot(1))).unwrap();
    let edge = start(snap.to_str().unwrap(), &[]);
    let a = edge.addr.clone();
    let generation = || get(&a, "/healthz", &[]).unwrap().body;

    write_atomically(&snap, &encode(&snapshot(2)));
    wait_for("file change reload", || generation().starts_with("ok generation=2 "));
    assert!(
        get(&a, "/mirrorlist?repo=fedora-41&arch=x86_64", &[])
            .unwrap()
            .body
            .contains("/g2/")
    );

    // Corrupt: refused, counted, the old snapshot keeps serving.
    let mut bad = encode(&snapshot(3));
    let n = bad.len();
    bad[n - 3] ^= 0xff;
    write_atomically(&snap, &bad);
    let failures = || {
        let m = get(&a, "/metrics", &[]).unwrap().body;
        m.lines()
            .find(|l| l.starts_with("mirrorvane_edge_snapshot_reload_failures_total "))
            .map(std::borrow::ToOwned::to_owned)
    };
    wait_for("reload failure counted", || {
        failures().as_deref() == Some("mirrorvane_edge_snapshot_reload_failures_total 1")
    });
    // /healthz says so until a reload succeeds (200 all the same: the old snapshot still serves).
    let health = generation();
    assert!(
        health.starts_with("degraded: the last reload failed: ") && health.contains(" generation=2 "),
        "{health}"
    );
    let r = get(&a, "/mirrorlist?repo=fedora-41&arch=x86_64", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.contains("/g2/"));

    // SIGHUP reloads even when the file looks unchanged.
    write_atomically(&snap, &encode(&snapshot(4)));
    wait_for("reload after fixing the file", || {
        generation().starts_with("ok generation=3 ")
    });
    // Rewritten in place with the same size and modification time: the poll cannot see it, SIGHUP can.
    let before = std::fs::metadata(&snap).unwrap();
    let g5 = encode(&snapshot(5));
    assert_eq!(g5.len() as u64, before.len());
    std::fs::write(&snap, &g5).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&snap)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(generation().starts_with("ok generation=3 "), "{}", generation());
    let pid = edge.child.id().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    wait_for("SIGHUP reload", || generation().starts_with("ok generation=4 "));
    assert!(
        get(&a, "/mirrorlist?repo=fedora-41&arch=x86_64", &[])
            .unwrap()
            .body
            .contains("/g5/")
    );
}

/// Requests flow from several threads while the snapshot is replaced again and again (and a corrupt one is
/// slipped in): not one request fails, and every answer comes from one of the snapshots.
#[test]
fn swaps_snapshots_under_load_without_a_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    std::fs::write(&snap, encode(&snapshot(0))).unwrap();
    // More worker threads than cores: every one of them must pick up each new snapshot.
    let edge = start(snap.to_str().unwrap(), &["--workers", "3"]);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (a, stop, ok, failed) = (edge.addr.clone(), stop.clone(), ok.clone(), failed.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match get(&a, "/metalink?repo=fedora-41&arch=x86_64&ip=89.160.20.113", &[]) {
                        Ok(r) if r.status == 200 && r.body.ends_with("</metalink>\n") && r.body.contains("/g") => {
                            ok.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for g in 1..=12u32 {
        std::thread::sleep(Duration::from_millis(150));
        if g == 6 {
            write_atomically(&snap, b"MIRRVANE but not really a snapshot");
            std::thread::sleep(Duration::from_millis(150));
        }
        write_atomically(&snap, &encode(&snapshot(g)));
    }
    let a = edge.addr.clone();
    wait_for("last generation", || {
        get(&a, "/mirrorlist?repo=fedora-41&arch=x86_64", &[])
            .unwrap()
            .body
            .contains("/g12/")
    });
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(failed, 0, "{failed} failed of {}", ok + failed);
    assert!(ok > 100, "only {ok} requests made");
    let m = get(&a, "/metrics", &[]).unwrap().body;
    assert!(m.contains("mirrorvane_edge_snapshot_reload_failures_total 1"), "{m}");
}

/// A snapshot URL is polled with If-None-Match; an unchanged snapshot costs a 304.
#[test]
fn polls_a_url_with_etag() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/snapshot", listener.local_addr().unwrap());
    let current = Arc::new(std::sync::Mutex::new((1u32, 0usize, 0usize))); // (generation, 200s, 304s)
    let state = current.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let head = read_head(&s);
            let mut st = state.lock().unwrap();
            let etag = format!("\"g{}\"", st.0);
            if head.contains(&format!("if-none-match: {etag}")) {
                st.2 += 1;
                let _ = s.write_all(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            } else {
                st.1 += 1;
                let body = encode(&snapshot(st.0));
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                let _ = s.write_all(&body);
            }
        }
    });
    let edge = start(&url, &[]);
    let a = edge.addr.clone();
    wait_for("a 304", || current.lock().unwrap().2 >= 2);
    assert_eq!(current.lock().unwrap().1, 1, "unchanged snapshot fetched again");
    current.lock().unwrap().0 = 2;
    wait_for("URL reload", || {
        get(&a, "/healthz", &[]).unwrap().body.starts_with("ok generation=2 ")
    });
    assert!(
        get(&a, "/mirrorlist?repo=fedora-41&arch=x86_64", &[])
            .unwrap()
            .body
            .contains("/g2/")
    );
}

#[test]
fn refuses_to_start_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad");
    std::fs::write(&bad, b"this is not a snapshot, only forty-odd bytes").unwrap();
    let run = |snap: &str, geoip: &Path| {
        Command::new(env!("CARGO_BIN_EXE_mirrorvane-edge"))
            .args([
                "--snapshot",
                snap,
                "--listen",
                "127.0.0.1:0",
                "--geoip",
                geoip.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let out = run(bad.to_str().unwrap(), &testdata("GeoIP2-Country-Test.mmdb"));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a Mirrorvane snapshot"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let good = dir.path().join("good");
    std::fs::write(&good, encode(&snapshot(1))).unwrap();
    let out = run(good.to_str().unwrap(), &bad);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GeoIP"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        dir.path().join("missing").to_str().unwrap(),
        &testdata("GeoIP2-Country-Test.mmdb"),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    let out = Command::new(env!("CARGO_BIN_EXE_mirrorvane-edge"))
        .args(["--snapshot", good.to_str().unwrap(), "--workers", "0", "--geoip"])
        .arg(testdata("GeoIP2-Country-Test.mmdb"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--workers"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
