//! What the edge's end-to-end tests share: a small snapshot, the real binary started on 127.0.0.1, a raw HTTP
//! client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mirrorvane_selector::snapshot::{Digest, FileDetail, Snapshot};
use mirrorvane_testkit::fixture::{Fixture, detail};

pub fn testdata(name: &str) -> PathBuf {
    mirrorvane_testkit::geo_testdata(name)
}

pub const OS: &str = "pub/fedora/linux/releases/41/Everything/x86_64/os";
pub const REPODATA: &str = "pub/fedora/linux/releases/41/Everything/x86_64/os/repodata";

/// The creation time of [`snapshot`]`(generation)`: recent, so the edge does not call it stale.
pub fn created(generation: u32) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Whole thousands keep it the same across the snapshots of one test.
    now / 1000 * 1000 + u64::from(generation)
}

/// A small world. `generation` changes the URLs so tests can tell snapshots apart.
pub fn snapshot(generation: u32) -> Snapshot {
    let url = |h: u32| format!("https://m{h}.example/g{generation}/fedora/linux");
    let mut f = Fixture {
        created: created(generation),
        ..Fixture::default()
    }
    .host(1, Some("SE"), 100, &[&url(1)])
    .host(2, Some("GB"), 100, &[&url(2)])
    .host(3, Some("DE"), 100, &[&url(3)])
    .with(3, |h| {
        h.private = true;
        h.asns = vec![553];
    })
    .dir(OS, "pub/fedora/linux", &[1, 2, 3])
    .dir(REPODATA, "pub/fedora/linux", &[1, 2, 3]);
    f.repos.push(("fedora-41", "x86_64", OS));
    f.files.push((
        REPODATA,
        "repomd.xml",
        vec![FileDetail {
            sha256: Some(Digest::from_text("aa55")),
            ..detail(1_790_000_000, 1234, "")
        }],
    ));
    f.snapshot()
}

pub fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

pub struct Edge {
    pub child: Child,
    pub addr: String,
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(snapshot: &str, extra: &[&str]) -> Edge {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mirrorvane-edge"))
        .args([
            "--snapshot",
            snapshot,
            "--listen",
            "127.0.0.1:0",
            "--watch-interval",
            "0.1",
            "--poll-interval",
            "0.2",
        ])
        .args(["--geoip", testdata("GeoIP2-Country-Test.mmdb").to_str().unwrap()])
        .args(["--asn", testdata("global_netblocks-test.txt").to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mirrorvane-edge");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("Listening on http://")
        .unwrap_or_else(|| panic!("unexpected: {line:?}"))
        .to_owned();
    Edge { child, addr }
}

pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

pub fn get(addr: &str, target: &str, headers: &[(&str, &str)]) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    // Bodies are small enough here to come without chunking; strip chunk framing if any.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body,
    })
}

pub fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// Reads a request head from `s` (a fake snapshot source's side), lower-cased.
pub fn read_head(s: &std::net::TcpStream) -> String {
    use std::io::BufRead;
    let mut head = String::new();
    let mut r = std::io::BufReader::new(s);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            return head;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}
