//! What the `mirrorvane` binary's tests share: a server process killed with the test, `mirrorvane serve` started
//! on a free port, and a database holding the synthetic network.

#![allow(dead_code)] // each test file uses its part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

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
