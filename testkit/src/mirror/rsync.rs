//! An rsync daemon (`rsync --daemon --no-detach`) serving read-only modules, as a public mirror runs one.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running daemon; killed when dropped.
pub struct RsyncDaemon {
    child: Child,
    port: u16,
    address: IpAddr,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for RsyncDaemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsyncDaemon({})", SocketAddr::new(self.address, self.port))
    }
}

impl RsyncDaemon {
    /// Starts a daemon on `address` serving each `(module, directory)`; waits until it accepts connections.
    pub fn start(address: IpAddr, modules: &[(&str, &Path)]) -> std::io::Result<RsyncDaemon> {
        let dir = tempfile::tempdir()?;
        // The daemon switches to `uid`/`gid` (as root it would become nobody, who cannot read a test's
        // private temporary directories): stay who we are.
        let me = std::fs::metadata("/proc/self")?;
        let mut config = format!(
            "use chroot = no\nuid = {}\ngid = {}\nread only = yes\nlist = yes\npid file = {}\n",
            me.uid(),
            me.gid(),
            dir.path().join("rsyncd.pid").display()
        );
        for (name, path) in modules {
            config.push_str(&format!("[{name}]\n    path = {}\n", path.display()));
        }
        let conf = dir.path().join("rsyncd.conf");
        std::fs::write(&conf, config)?;
        let mut last = None;
        // The port is picked by binding and released before rsync binds it: another process may take it in
        // between, so try a few.
        for _ in 0..5 {
            let port = TcpListener::bind((address, 0))?.local_addr()?.port();
            let mut child = Command::new("rsync")
                .arg("--daemon")
                .arg("--no-detach")
                .arg(format!("--config={}", conf.display()))
                .arg(format!("--address={address}"))
                .arg(format!("--port={port}"))
                .arg(format!("--log-file={}", dir.path().join("rsyncd.log").display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| std::io::Error::new(e.kind(), format!("cannot run rsync --daemon: {e}")))?;
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(status) = child.try_wait()? {
                    last = Some(format!("rsync --daemon exited with {status}"));
                    break;
                }
                if TcpStream::connect_timeout(&SocketAddr::new(address, port), Duration::from_millis(200)).is_ok() {
                    return Ok(RsyncDaemon {
                        child,
                        port,
                        address,
                        _dir: dir,
                    });
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = Some("rsync --daemon did not listen within 10 s".into());
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(std::io::Error::other(last.unwrap_or_default()))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for RsyncDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
