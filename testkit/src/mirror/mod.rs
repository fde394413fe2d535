//! Real mirrors on the loopback interface, for the crawler's tests, its benchmark and the demo: a static
//! HTTP(S) server for directory trees ([`HttpMirror`], name-based virtual hosts, knobs for slow, hanging and
//! resetting mirrors), the certificates that make HTTPS real ([`TestCa`]), and rsync daemons ([`RsyncDaemon`],
//! the system's `rsync` program).
//!
//! Everything binds 127.0.0.1 and/or ::1 on ports the system picks.

mod http;
mod rsync;
mod tls;

pub use http::{HttpMirror, Knobs, MirrorConfig, Mode};
pub use rsync::RsyncDaemon;
pub use tls::TestCa;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// 127.0.0.1.
pub const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// ::1.
pub const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// Copies a directory tree (files and directories; symbolic links as links), as a mirror's sync would.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
