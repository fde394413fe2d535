//! Drills of the snapshot source against the real `mirrorvane-edge` binary: a backend on 127.0.0.1 that hangs,
//! resets, announces or streams too much, answers 503, or serves a tampered or unsigned snapshot never replaces
//! the last good snapshot; `/healthz` says degraded meanwhile and the age metric rises; an edge restarted while
//! the backend is down serves its cached copy; everything recovers when the backend does.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod common;

use common::*;
use mirrorvane_selector::snapshot::{SIGNATURE_LEN, encode};
use mirrorvane_signature::SecretKey;

/// What the fake backend does with the next request.
#[derive(Clone)]
enum Mode {
    /// `200` with these bytes (ETag = their hash), `304` when the edge has them.
    Serve(Arc<[u8]>),
    /// Reads the request and never answers.
    Hang,
    /// Closes the connection at once.
    Reset,
    /// Announces more than the edge accepts.
    Announce(u64),
    /// Streams a chunked body without end.
    Endless,
    /// An error status.
    Status(u16),
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn etag(bytes: &[u8]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

/// Starts the fake backend; returns its URL and the switch.
fn backend() -> (String, Arc<Mutex<Mode>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/snapshot", listener.local_addr().unwrap());
    let mode = Arc::new(Mutex::new(Mode::Status(503)));
    let shared = mode.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(s) = stream else { continue };
            let mode = shared.lock().unwrap().clone();
            std::thread::spawn(move || answer(s, &mode));
        }
    });
    (url, mode)
}

fn answer(mut s: TcpStream, mode: &Mode) {
    if let Mode::Reset = mode {
        return;
    }
    let head = read_head(&s);
    let _ = match mode {
        Mode::Reset => Ok(()),
        Mode::Hang => {
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        }
        Mode::Serve(bytes) => {
            let tag = etag(bytes);
            // The backend's view is as fresh as its last build: now.
            if head.contains(&format!("if-none-match: {tag}")) {
                write!(
                    s,
                    "HTTP/1.1 304 Not Modified\r\nETag: {tag}\r\nX-Snapshot-Created: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    now()
                )
            } else {
                write!(
                    s,
                    "HTTP/1.1 200 OK\r\nETag: {tag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                )
                .and_then(|()| s.write_all(bytes))
            }
        }
        Mode::Announce(n) => write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\nMIRRVANE"
        ),
        Mode::Endless => (|| {
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")?;
            let chunk = vec![b'x'; 64 * 1024];
            loop {
                write!(s, "{:x}\r\n", chunk.len())?;
                s.write_all(&chunk)?;
                s.write_all(b"\r\n")?;
            }
        })(),
        Mode::Status(code) => write!(
            s,
            "HTTP/1.1 {code} Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsorry"
        ),
    };
}

/// A fixed signing key (the tests need no randomness).
fn key() -> SecretKey {
    SecretKey::from_text("mirrorvane-snapshot-secret-key BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=").unwrap()
}

/// `snapshot(generation)`, created now, signed.
fn signed(generation: u32) -> Vec<u8> {
    let mut s = snapshot(generation);
    s.created = now();
    key().sign(&encode(&s))
}

fn metric(addr: &str, name: &str) -> Option<u64> {
    let m = get(addr, "/metrics", &[]).ok()?.body;
    m.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

fn healthz(addr: &str) -> String {
    get(addr, "/healthz", &[]).unwrap().body
}

fn serves(addr: &str, generation: u32) -> bool {
    get(addr, "/mirrorlist?repo=fedora-41&arch=x86_64", &[])
        .is_ok_and(|r| r.status == 200 && r.body.contains(&format!("/g{generation}/")))
}

#[test]
fn a_failing_source_never_replaces_the_last_good_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (url, mode) = backend();
    let good: Arc<[u8]> = Arc::from(signed(1));
    *mode.lock().unwrap() = Mode::Serve(good.clone());
    let public = key().public().to_text();
    let args = [
        "--public-key",
        public.as_str(),
        "--cache",
        cache.to_str().unwrap(),
        "--fetch-timeout",
        "1",
        "--max-age",
        "4",
        "--max-snapshot-bytes",
        "1000000",
    ];
    let edge = start(&url, &args);
    let a = edge.addr.clone();
    wait_for("the first snapshot", || healthz(&a).starts_with("ok generation=1 "));
    assert!(serves(&a, 1));
    assert_eq!(
        std::fs::read(&cache).unwrap(),
        *good,
        "the cache holds the served snapshot"
    );

    // A tampered snapshot: other content (with its own valid CRC) under the good one's signature.
    let mut tampered = encode(&snapshot(2));
    tampered.extend_from_slice(&good[good.len() - SIGNATURE_LEN..]);
    // One made with another key, and one not signed at all.
    let stranger = SecretKey::from_text("mirrorvane-snapshot-secret-key AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
        .unwrap()
        .sign(&encode(&snapshot(2)));
    let unsigned = encode(&snapshot(2));

    let failures: [(&str, Mode, &str); 8] = [
        ("hung", Mode::Hang, "timed out"),
        ("reset", Mode::Reset, "fetching snapshot"),
        (
            "oversized (announced)",
            Mode::Announce(10 << 30),
            "bytes announced, more than the limit",
        ),
        (
            "oversized (streamed)",
            Mode::Endless,
            "more than the limit of 1000000 bytes",
        ),
        ("5xx", Mode::Status(503), "HTTP 503"),
        ("tampered", Mode::Serve(Arc::from(tampered)), "signature"),
        ("signed by a stranger", Mode::Serve(Arc::from(stranger)), "key"),
        ("unsigned", Mode::Serve(Arc::from(unsigned)), "not signed"),
    ];
    let counter = "mirrorvane_edge_snapshot_reload_failures_total";
    for (what, bad, why) in failures {
        let before = metric(&a, counter).unwrap();
        *mode.lock().unwrap() = bad;
        wait_for(&format!("a {what} source counted as a failure"), || {
            metric(&a, counter).unwrap() > before
        });
        let h = healthz(&a);
        assert!(
            h.starts_with("degraded: the last reload failed: ") && h.contains(why) && h.contains(" generation=1 "),
            "{what}: {h}"
        );
        assert!(serves(&a, 1), "{what}: the last good snapshot stopped serving");
        // Back to good: the edge has it (304), the failure is cleared.
        *mode.lock().unwrap() = Mode::Serve(good.clone());
        wait_for(&format!("recovery after a {what} source"), || {
            healthz(&a).starts_with("ok generation=1 ")
        });
    }
    assert_eq!(
        std::fs::read(&cache).unwrap(),
        *good,
        "a refused snapshot reached the cache"
    );

    // A backend that stays down: the age rises and passes --max-age.
    *mode.lock().unwrap() = Mode::Status(503);
    let age = || metric(&a, "mirrorvane_edge_snapshot_age_seconds").unwrap();
    let first = age();
    wait_for("the age metric to rise", || age() > first);
    wait_for("degraded for age", || healthz(&a).contains("old (more than 4 s)"));
    assert!(serves(&a, 1));

    // The edge restarts while the backend is down: it serves its cached snapshot, degraded.
    *mode.lock().unwrap() = Mode::Reset;
    drop(edge);
    let edge = start(&url, &args);
    let a = edge.addr.clone();
    assert!(serves(&a, 1), "the restarted edge does not serve the cached snapshot");
    let h = healthz(&a);
    assert!(
        h.starts_with("degraded: ") && h.contains("the last reload failed"),
        "{h}"
    );

    // The backend returns with a new build: installed, healthy.
    *mode.lock().unwrap() = Mode::Serve(Arc::from(signed(2)));
    wait_for("the new snapshot", || healthz(&a).starts_with("ok generation=2 "));
    assert!(serves(&a, 2));
}

/// Without a cache, an edge whose source stays down does not start: after `--startup-wait` it says why instead
/// of serving nothing.
#[test]
fn no_cache_and_no_source_is_a_clear_start_failure() {
    let (url, mode) = backend();
    *mode.lock().unwrap() = Mode::Status(503);
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mirrorvane-edge"))
        .args(["--snapshot", &url, "--listen", "127.0.0.1:0", "--fetch-timeout", "1"])
        .args(["--startup-wait", "1"])
        .args(["--geoip", testdata("GeoIP2-Country-Test.mmdb").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 503"), "{err}");
    assert!(err.contains("trying again"), "it gave up without trying again: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it kept trying past --startup-wait"
    );
}

/// A new edge (its cache file not written yet, as the systemd unit runs it) started before its backend — one
/// machine booting, a quick start's commands — keeps trying until the backend answers, then serves.
#[test]
fn an_edge_waits_for_a_backend_that_is_starting() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (url, mode) = backend();
    *mode.lock().unwrap() = Mode::Reset;
    let switch = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        *mode.lock().unwrap() = Mode::Serve(Arc::from(signed(1)));
    });
    let public = key().public().to_text();
    let args = [
        "--public-key",
        public.as_str(),
        "--fetch-timeout",
        "1",
        "--cache",
        cache.to_str().unwrap(),
    ];
    let edge = start(&url, &args);
    switch.join().unwrap();
    let a = edge.addr.clone();
    assert!(healthz(&a).starts_with("ok generation=1 "), "{}", healthz(&a));
    assert!(serves(&a, 1));
    assert!(cache.exists(), "the fetched snapshot was not cached");
}

/// A snapshot the edge refuses (here: unsigned, while a key is required) is not retried at start: no wait mends
/// it, so the edge says why at once.
#[test]
fn a_refused_first_snapshot_is_not_retried() {
    let (url, mode) = backend();
    let unsigned = encode(&snapshot(1));
    *mode.lock().unwrap() = Mode::Serve(Arc::from(unsigned));
    let public = key().public().to_text();
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mirrorvane-edge"))
        .args([
            "--snapshot",
            &url,
            "--listen",
            "127.0.0.1:0",
            "--public-key",
            public.as_str(),
        ])
        .args(["--geoip", testdata("GeoIP2-Country-Test.mmdb").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("trying again"), "a refused snapshot was retried: {err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");
}

/// A snapshot file is checked like a URL: with a public key, a tampered file is refused at start.
#[test]
fn a_tampered_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap");
    let good = signed(1);
    let mut tampered = encode(&snapshot(2));
    tampered.extend_from_slice(&good[good.len() - SIGNATURE_LEN..]);
    std::fs::write(&path, &tampered).unwrap();
    let public = key().public().to_text();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mirrorvane-edge"))
        .args(["--snapshot", path.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(["--public-key", &public])
        .args(["--geoip", testdata("GeoIP2-Country-Test.mmdb").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("signature"), "{err}");
}
