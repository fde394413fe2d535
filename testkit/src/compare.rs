//! Do two snapshots answer alike? The differential tests' probe: a converted MirrorManager cache against the
//! snapshot built from the same data through our database, and a snapshot against itself after a round trip.
//!
//! A corpus of [`Probe`]s covers what a snapshot can answer: every tier (through the clients the caller
//! supplies), metalink and mirrorlist, path mode, protocol filters, explicit countries, redirects, disabled and
//! unknown repositories. Each probe carries its own seed, so both selectors shuffle with the same randomness and
//! equal data gives equal bytes.

use std::net::IpAddr;

use mirrorvane_selector::snapshot::Snapshot;
use mirrorvane_selector::{Context, Locate, Request, SeededRandom, Selector, Workspace};

/// One request of a corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// URL path.
    pub path: String,
    /// Query string.
    pub query: String,
    /// Client address.
    pub client: IpAddr,
    /// Shuffle seed.
    pub seed: u64,
}

/// A corpus over `snapshot`: about `per_kind` repositories (spread evenly) and as many directories, each asked
/// by every client in `clients`, plus the error and alias cases.
pub fn probes(snapshot: &Snapshot, clients: &[IpAddr], per_kind: usize) -> Vec<Probe> {
    let mut queries: Vec<(&str, String)> = Vec::new();
    let step = |n: usize| (n / per_kind.max(1)).max(1);
    for r in snapshot.repositories.iter().step_by(step(snapshot.repositories.len())) {
        let q = format!("repo={}&arch={}", r.prefix, r.arch);
        queries.push(("/metalink", q.clone()));
        queries.push(("/mirrorlist", q.clone()));
        queries.push(("/mirrorlist", format!("{q}&protocol=https")));
        queries.push(("/metalink", format!("{q}&country=DE,us&countme=1")));
    }
    for d in snapshot.directories.iter().step_by(step(snapshot.directories.len())) {
        queries.push(("/mirrorlist", format!("path={}", d.name)));
    }
    for redirect in snapshot.repository_redirects.iter().take(per_kind) {
        let arch = snapshot
            .repositories
            .iter()
            .find(|r| r.prefix == redirect.to)
            .map_or("x86_64", |r| &r.arch);
        queries.push(("/metalink", format!("repo={}&arch={arch}", redirect.from)));
    }
    for prefix in snapshot.disabled_prefixes.iter().take(per_kind) {
        queries.push(("/mirrorlist", format!("repo={prefix}&arch=x86_64")));
    }
    queries.push(("/metalink", "repo=no-such-repo&arch=x86_64".into()));
    queries.push(("/mirrorlist", "repo=fedora-41".into()));
    queries.push(("/metalink", "path=no/such/dir".into()));
    queries.push(("/elsewhere", "repo=fedora-41&arch=x86_64".into()));

    let mut out = Vec::with_capacity(queries.len() * clients.len().max(1));
    let mut seed = 0x5eed_u64;
    for (path, query) in &queries {
        for &client in clients {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            out.push(Probe {
                path: (*path).to_owned(),
                query: query.clone(),
                client,
                seed,
            });
        }
    }
    out
}

/// The first probe whose answers differ (status, content type, location or body), described; `None` when all
/// agree. Returns how many probes were run alongside.
pub fn first_difference(
    a: &Selector,
    b: &Selector,
    probes: &[Probe],
    locate: &dyn Locate,
    now: u64,
) -> (usize, Option<String>) {
    let (mut wa, mut wb) = (Workspace::new(), Workspace::new());
    for (i, p) in probes.iter().enumerate() {
        let req = Request {
            path: &p.path,
            query: &p.query,
            forwarded_for: None,
            accept: None,
            peer: p.client,
        };
        let mut ra = SeededRandom::new(p.seed);
        let mut rb = SeededRandom::new(p.seed);
        let x = a.handle(
            &req,
            &mut Context {
                now,
                minimum: 5,
                locate,
                random: &mut ra,
            },
            &mut wa,
        );
        let y = b.handle(
            &req,
            &mut Context {
                now,
                minimum: 5,
                locate,
                random: &mut rb,
            },
            &mut wb,
        );
        if (x.status, x.content_type, &x.location, &x.body) != (y.status, y.content_type, &y.location, &y.body) {
            return (
                i + 1,
                Some(format!(
                    "probe {i}: {}?{} from {}: status {} vs {}\n--- first\n{}\n--- second\n{}",
                    p.path, p.query, p.client, x.status, y.status, x.body, y.body
                )),
            );
        }
    }
    (probes.len(), None)
}
