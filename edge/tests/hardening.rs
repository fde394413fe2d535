//! Drills against the real `mirrorvane-edge` binary on 127.0.0.1, as an attacker and an operator would run
//! them: slow senders and idle connections do not stop other clients; the connection cap refuses cleanly;
//! oversized heads, h2c and `explain` are refused where they should be; `X-Forwarded-For` is believed only from
//! trusted proxies; `/metrics` moves to the admin listener.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

mod common;

use common::*;
use mirrorvane_selector::snapshot::encode;

/// A snapshot file in a temporary directory.
fn snapshot_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap");
    std::fs::write(&path, encode(&snapshot(1))).unwrap();
    let p = path.to_str().unwrap().to_owned();
    (dir, p)
}

const ASK: &str = "/mirrorlist?repo=fedora-41&arch=x86_64";

/// Whether the server closed `s` (read returns 0 or an error) within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_and_idle_clients_do_not_stop_others() {
    let (_dir, snap) = snapshot_file();
    let edge = start(&snap, &["--header-timeout", "1", "--workers", "1"]);
    // Slowloris: many connections that send a request head a byte at a time and never finish it.
    let mut slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(&edge.addr).unwrap();
            s.write_all(b"GET /mirrorlist?repo=fedora-41&arch=x86_64 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    // And idle ones that send nothing.
    let mut idle: Vec<TcpStream> = (0..100).map(|_| TcpStream::connect(&edge.addr).unwrap()).collect();
    // Everyone else is served at once.
    let started = Instant::now();
    for _ in 0..20 {
        let r = get(&edge.addr, ASK, &[]).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // The slow and the idle ones are closed after the header timeout.
    for s in slow.iter_mut().take(5) {
        let _ = s.write_all(b"a");
        assert!(closed_within(s, Duration::from_secs(5)), "a slow sender was kept");
    }
    for s in idle.iter_mut().take(5) {
        assert!(closed_within(s, Duration::from_secs(5)), "an idle connection was kept");
    }
}

#[test]
fn the_connection_cap_refuses_cleanly() {
    let (_dir, snap) = snapshot_file();
    let edge = start(
        &snap,
        &["--max-connections", "20", "--workers", "1", "--header-timeout", "30"],
    );
    let held: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(&edge.addr).unwrap()).collect();
    // The edge accepts in order: wait until it has taken the 20.
    std::thread::sleep(Duration::from_millis(300));
    let r = get(&edge.addr, ASK, &[]).unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("too many connections"), "{}", r.body);
    assert!(r.headers.contains("retry-after"), "{}", r.headers);
    // Room again once connections go.
    drop(held);
    wait_for("a connection slot", || {
        get(&edge.addr, ASK, &[]).is_ok_and(|r| r.status == 200)
    });
    let metrics = get(&edge.addr, "/metrics", &[]).unwrap();
    assert!(
        metrics
            .body
            .lines()
            .any(|l| l.starts_with("mirrorvane_edge_connections_refused_total ") && !l.ends_with(" 0")),
        "{}",
        metrics.body
    );
}

#[test]
fn oversized_heads_and_h2c_are_refused() {
    let (_dir, snap) = snapshot_file();
    let edge = start(&snap, &[]);
    let big = "x".repeat(20_000);
    let r = get(&edge.addr, ASK, &[("X-Big", &big)]).unwrap();
    assert_eq!(r.status, 431, "{}", r.headers);
    // The HTTP/2 connection preface is not HTTP/2 here unless --h2c.
    let h2 = |addr: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    };
    let answer = h2(&edge.addr);
    // An HTTP/2 server's first frame is SETTINGS (type 4): bytes 3..5 of the frame header are 0x04 0x00.
    assert!(!(answer.len() >= 9 && answer[3] == 4), "spoke HTTP/2: {answer:?}");
    let with_h2c = start(&snap, &["--h2c"]);
    let answer = h2(&with_h2c.addr);
    assert!(answer.len() >= 9 && answer[3] == 4, "no HTTP/2 with --h2c: {answer:?}");
}

#[test]
fn trust_settings() {
    let (_dir, snap) = snapshot_file();
    let sweden = [("X-Forwarded-For", "89.160.20.113")];
    // MirrorManager's behaviour by default: X-Forwarded-For is believed (the MaxMind test address is Swedish).
    let open = start(&snap, &[]);
    let r = get(&open.addr, ASK, &sweden).unwrap();
    assert!(r.body.contains("country = SE"), "{}", r.body);
    // explain: this machine may, a client it believes to be elsewhere may not.
    assert_eq!(get(&open.addr, &format!("{ASK}&explain=1"), &[]).unwrap().status, 200);
    let far = get(&open.addr, &format!("{ASK}&explain=1"), &sweden).unwrap();
    assert_eq!(far.status, 403, "{}", far.body);
    assert_eq!(get(&open.addr, "/metrics", &[]).unwrap().status, 200);
    assert_eq!(get(&open.addr, "/metrics", &sweden).unwrap().status, 404);

    // Trusted proxies: the header of anyone else is ignored (this client is not in 10.0.0.0/8).
    let proxied = start(&snap, &["--trusted-proxy", "10.0.0.0/8", "--explain", "public"]);
    let r = get(&proxied.addr, ASK, &sweden).unwrap();
    assert!(!r.body.contains("country = SE"), "{}", r.body);
    assert_eq!(
        get(&proxied.addr, &format!("{ASK}&explain=1"), &sweden).unwrap().status,
        200
    );
    let believed = start(&snap, &["--trusted-proxy", "127.0.0.1/32"]);
    let r = get(&believed.addr, ASK, &sweden).unwrap();
    assert!(r.body.contains("country = SE"), "{}", r.body);
    let off = start(&snap, &["--explain", "off"]);
    assert_eq!(get(&off.addr, &format!("{ASK}&explain=1"), &[]).unwrap().status, 403);

    // An admin listener takes /metrics off the request port.
    let admin = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let with_admin = start(&snap, &["--admin-listen", &admin.to_string()]);
    assert_eq!(get(&with_admin.addr, "/metrics", &[]).unwrap().status, 404);
    assert_eq!(get(&with_admin.addr, "/healthz", &[]).unwrap().status, 200);
    wait_for("the admin listener", || {
        get(&admin.to_string(), "/metrics", &[]).is_ok_and(|r| r.status == 200 && r.body.contains("mirrorvane_edge"))
    });
    assert_eq!(get(&admin.to_string(), ASK, &[]).unwrap().status, 404);
}

/// logrotate without copytruncate: the log is renamed while requests flow, SIGUSR1 makes the edge open a new
/// file, and every answered request's line is in one of the two files.
#[test]
fn rotated_access_log_loses_no_line() {
    let (dir, snap) = snapshot_file();
    let log = std::path::Path::new(&snap).with_file_name("access.log");
    let edge = start(&snap, &["--access-log", log.to_str().unwrap(), "--workers", "2"]);
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (a, answered, stop) = (edge.addr.clone(), answered.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if get(&a, ASK, &[]).is_ok_and(|r| r.status == 200) {
                        answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let rotated = dir.path().join("access.log.1");
    std::thread::sleep(Duration::from_millis(300));
    std::fs::rename(&log, &rotated).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let pid = edge.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-USR1", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let answered = answered.load(std::sync::atomic::Ordering::Relaxed);
    let lines = |p: &std::path::Path| std::fs::read_to_string(p).map_or(0, |t| t.lines().count());
    wait_for("every line in the old or the new file", || {
        lines(&rotated) + lines(&log) == answered
    });
    assert!(
        lines(&rotated) > 0 && lines(&log) > 0,
        "{} + {}",
        lines(&rotated),
        lines(&log)
    );
    let m = get(&edge.addr, "/metrics", &[]).unwrap().body;
    assert!(m.contains("mirrorvane_edge_access_log_write_errors_total 0"), "{m}");
    assert!(m.contains("mirrorvane_edge_access_log_dropped_lines_total 0"), "{m}");
}
