//! The demo's three real mirrors on this machine: `mirror-a.demo` (up to date, IPv4 and IPv6),
//! `mirror-b.demo` (up to date, IPv4 only) and `mirror-c.demo` (two pushes behind) — HTTP servers on the
//! loopback interface serving copies of the demo's own tree, crawled like any public mirror. The crawl finds
//! the stale one, so metalinks leave it out; the up-to-date ones answer the demo's clients first (their
//! netblocks are the loopback's), so `dnf makecache` against the demo downloads real metadata from them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use anyhow::Context as _;
use mirrorvane_testkit::mirror::{HttpMirror, MirrorConfig, copy_tree};

use crate::inventory::{Host, HostCategory, Netblock, Site, Url};

/// The names of the three hosts: up to date dual-stack, up to date IPv4-only, stale.
pub const NAMES: [&str; 3] = ["mirror-a.demo", "mirror-b.demo", "mirror-c.demo"];

/// The running servers (they stop when dropped) and the URL each host publishes.
pub struct LocalMirrors {
    _servers: Vec<HttpMirror>,
    /// (host, its category top URL per demo top directory, `"pub/fedora/linux"` → URL).
    pub hosts: Vec<(&'static str, String)>,
    /// Whether ::1 could be bound (the dual-stack mirror is IPv4 only otherwise).
    pub ipv6: bool,
}

/// Starts the mirrors' servers on `dir`: `dir/fresh` and `dir/stale` hold their trees ([`sync`] fills them).
pub async fn start(dir: &Path) -> anyhow::Result<LocalMirrors> {
    let fresh = dir.join("fresh");
    let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    // Both families where the machine has ::1; some containers do not.
    let ipv6 = std::net::TcpListener::bind((v6, 0)).is_ok();
    let dual = HttpMirror::start(MirrorConfig {
        addresses: if ipv6 { vec![v4, v6] } else { vec![v4] },
        default_root: Some(dir.to_owned()),
        ..MirrorConfig::default()
    })
    .await
    .context("starting the demo's local mirror")?;
    let v4_only = HttpMirror::start(MirrorConfig {
        addresses: vec![v4],
        default_root: Some(fresh),
        ..MirrorConfig::default()
    })
    .await
    .context("starting the demo's IPv4-only mirror")?;
    // `localhost` has both addresses: the crawler finds out which answer.
    let hosts = vec![
        (NAMES[0], format!("http://localhost:{}/fresh", dual.port())),
        (NAMES[1], format!("http://localhost:{}", v4_only.port())),
        (NAMES[2], format!("http://localhost:{}/stale", dual.port())),
    ];
    Ok(LocalMirrors {
        _servers: vec![dual, v4_only],
        hosts,
        ipv6,
    })
}

/// A mirror's sync: `dir/name` becomes a copy of the primary tree.
pub fn sync(dir: &Path, name: &str, primary: &Path) -> anyhow::Result<()> {
    let to = dir.join(name);
    if to.exists() {
        std::fs::remove_dir_all(&to).with_context(|| format!("removing {}", to.display()))?;
    }
    copy_tree(primary, &to).with_context(|| format!("copying the tree to {}", to.display()))
}

/// The site of the local mirrors, carrying every demo category, for the loopback's clients first.
pub fn site(mirrors: &LocalMirrors, categories: &[(&str, &str, &str)]) -> Site {
    let mut site = Site::new("Mirrorvane demo (this machine)");
    site.org_url = Some("http://localhost/".into());
    for (name, base) in &mirrors.hosts {
        let mut host = Host::new(*name, "SE");
        host.bandwidth = 1000;
        host.netblocks = ["127.0.0.0/8", "::1/128"]
            .into_iter()
            .map(|n| Netblock {
                name: format!("loopback {n}"),
                netblock: n.to_owned(),
            })
            .collect();
        host.categories = categories
            .iter()
            .map(|(category, _, topdir)| {
                let mut hc = HostCategory::new(*category);
                hc.urls = vec![Url {
                    url: format!("{base}/{topdir}"),
                    private: false,
                }];
                hc
            })
            .collect();
        site.hosts.push(host);
    }
    site
}
