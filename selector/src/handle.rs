//! A request in, an answer out: endpoint routing, query validation, directory resolution, client address,
//! the decision, and the choice of output — with MirrorManager's error texts and status codes (reference §3.12).

use alloc::string::String;
use core::fmt::Write;
use core::net::IpAddr;

use crate::client::{self, Locate};
use crate::decide::{Decision, Inputs};
use crate::index::Selector;
use crate::query::Query;
use crate::random::Random;
use crate::render;
use crate::snapshot::DirectoryId;
use crate::time;
use crate::urls::Preferred;

/// One HTTP request, as much of it as the selector reads.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// URL path (`/metalink`, `/mirrorlist`, or any path ending in them).
    pub path: &'a str,
    /// Raw query string without `?` (empty if none).
    pub query: &'a str,
    /// Value of the last `X-Forwarded-For` header, raw.
    pub forwarded_for: Option<&'a [u8]>,
    /// Value of the `Accept` header, raw (metalink v4 is chosen from it).
    pub accept: Option<&'a [u8]>,
    /// The connecting peer.
    pub peer: IpAddr,
}

/// Everything else a request needs that is not in the snapshot.
pub struct Context<'a> {
    /// Now, in Unix seconds (metalink `pubdate`, access-log date).
    pub now: u64,
    /// Fewer content-carrying hosts than this (netblock to continent) adds the global list. MirrorManager: 5.
    pub minimum: usize,
    /// Locates client addresses.
    pub locate: &'a dyn Locate,
    /// Shuffling randomness.
    pub random: &'a mut dyn Random,
}

/// The endpoint a request was routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Kind {
    /// A path ending in `/metalink`.
    Metalink,
    /// A path ending in `/mirrorlist`.
    Mirrorlist,
    /// Anything else (answered 404).
    #[default]
    Other,
}

impl Kind {
    /// Label for metrics.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Metalink => "metalink",
            Kind::Mirrorlist => "mirrorlist",
            Kind::Other => "other",
        }
    }
}

/// Content type of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ContentType {
    /// `text/plain`
    #[default]
    Text,
    /// `application/metalink+xml` (metalink 3.0)
    Metalink,
    /// `application/metalink4+xml` (RFC 5854)
    Metalink4,
    /// `application/json` (explanations)
    Json,
}

impl ContentType {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Text => "text/plain",
            ContentType::Metalink => "application/metalink+xml",
            ContentType::Metalink4 => "application/metalink4+xml",
            ContentType::Json => "application/json",
        }
    }
}

/// What to send back. Buffers are reused between requests through [`Workspace`].
#[derive(Debug, Default)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: ContentType,
    /// Body.
    pub body: String,
    /// `Location` header for redirects; empty otherwise. Always a valid header value: a redirect whose URL is
    /// not one is answered 404 instead, so shells copy this as it is.
    pub location: String,
    /// The access-log line (with its newline) when the request had `repo=` and `arch=`; empty otherwise.
    pub log_line: String,
    /// The endpoint.
    pub kind: Kind,
}

/// Per-thread (or per-isolate) reusable state: the answer and the decision's scratch buffers.
#[derive(Default)]
pub struct Workspace {
    /// The last answer.
    pub answer: Answer,
    /// The last decision.
    pub decision: Decision,
    path: String,
    pub(crate) suffix: [String; 2],
}

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Workspace {
        Workspace::default()
    }
}

/// The metalink flavour a client gets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flavour {
    V3,
    V4,
}

/// Metalink v4 when the `Accept` header prefers `application/metalink4+xml` (q > 0) over
/// `application/metalink+xml`; v3 otherwise — what every dnf and yum sends for.
fn accepts_v4(accept: Option<&[u8]>) -> bool {
    let Some(accept) = accept.and_then(|a| core::str::from_utf8(a).ok()) else {
        return false;
    };
    let (mut q3, mut q4) = (None::<u32>, None::<u32>);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let mut q = 1000;
        for p in parts {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = parse_q(v.trim());
            }
        }
        if media.eq_ignore_ascii_case("application/metalink4+xml") {
            q4 = Some(q);
        } else if media.eq_ignore_ascii_case("application/metalink+xml") {
            q3 = Some(q);
        }
    }
    matches!((q4, q3), (Some(a), None) if a > 0) || matches!((q4, q3), (Some(a), Some(b)) if a > 0 && a >= b)
}

/// An RFC 9110 qvalue in thousandths; malformed → 0.
fn parse_q(v: &str) -> u32 {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let int = match int {
        "0" => 0,
        "1" => 1000,
        _ => return 0,
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut f = 0;
    for (i, b) in frac.bytes().enumerate() {
        f += u32::from(b - b'0') * [100, 10, 1][i];
    }
    (int + f).min(1000)
}

/// Resolved target of a request.
pub(crate) struct Target<'a> {
    pub dir: DirectoryId,
    pub file: &'a str,
    pub is_dir: bool,
}

impl Selector {
    /// Answers one request. The answer stays in `ws.answer` until the next call.
    pub fn handle<'w>(&self, req: &Request<'_>, ctx: &mut Context<'_>, ws: &'w mut Workspace) -> &'w Answer {
        self.run(req, ctx, ws, true);
        &ws.answer
    }

    /// Everything [`Selector::handle`] does except writing the body: routing, resolution and the decision.
    /// `Ok` when the request reached a decision (in `ws.decision`), `Err` when it was answered before (an
    /// error, `repo disabled`, …; the answer is in `ws.answer`). For benchmarks and tools.
    pub fn decide<'w>(
        &self,
        req: &Request<'_>,
        ctx: &mut Context<'_>,
        ws: &'w mut Workspace,
    ) -> Result<&'w Decision, &'w Answer> {
        if self.run(req, ctx, ws, false) {
            Ok(&ws.decision)
        } else {
            Err(&ws.answer)
        }
    }

    /// Route → resolve → decide → log → render. Returns whether a decision was made.
    fn run(&self, req: &Request<'_>, ctx: &mut Context<'_>, ws: &mut Workspace, render: bool) -> bool {
        let Some(kind) = route(req.path, &mut ws.answer) else {
            return false;
        };
        let q = Query::parse(req.query);
        let out = Output {
            kind,
            flavour: if kind == Kind::Metalink && accepts_v4(req.accept) {
                Flavour::V4
            } else {
                Flavour::V3
            },
            explain: q.explain.is_some(),
        };
        if !((q.repo.is_some() && q.arch.is_some()) || q.path.is_some()) {
            out.fail(
                ctx.now,
                &mut ws.answer,
                200,
                "# either path=, or repo= and arch= must be specified",
            );
            return false;
        }
        let mut path = core::mem::take(&mut ws.path);
        if let Some(raw) = q.path {
            normalise_path(raw, &mut path);
        }
        let decided = self
            .resolve(&q, &path, &out, ctx.now, ws)
            .is_some_and(|resolved| self.decide_log_render(req, &q, &out, &resolved, ctx, ws, render));
        ws.path = path;
        decided
    }

    /// The directory (and file) a request names: by `path=` (already normalised into `path`), or by `repo=` and
    /// `arch=` through redirects and the repository table (a metalink's file is the repository's
    /// `repodata/repomd.xml`). Starts the decision's header line. `None` when the request was answered here.
    fn resolve<'a>(
        &self,
        q: &Query<'a>,
        path: &'a str,
        out: &Output,
        now: u64,
        ws: &mut Workspace,
    ) -> Option<Resolved<'a>> {
        let a = &mut ws.answer;
        let header = &mut ws.decision.header;
        header.clear();
        if q.path.is_some() {
            push_all(header, &["# path = ", path, " "]);
            if let Some(dir) = self.directory(path) {
                return Some(Resolved::directory(dir, q.arch.unwrap_or("")));
            }
            let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
            let Some(dir) = self.directory(dir) else {
                out.fail(now, a, 404, "error: invalid path");
                return None;
            };
            return Some(Resolved {
                target: Target {
                    dir,
                    file,
                    is_dir: false,
                },
                log_arch: q.arch.unwrap_or(""),
            });
        }
        let sent = q.repo.unwrap_or("");
        let log_arch = if sent.contains("source") {
            "source"
        } else {
            q.arch.unwrap_or("")
        };
        let repo = self.redirect(sent).unwrap_or(sent);
        push_all(header, &["# repo = ", repo, " arch = ", log_arch, " "]);
        if self.is_disabled(repo) {
            out.fail(now, a, 200, "repo disabled");
            return None;
        }
        let Some(r) = self.repository(repo, log_arch) else {
            let mut msg = String::with_capacity(header.len() + 80 + self.available.len());
            msg.push_str(header);
            msg.push_str("error: invalid repo or arch\n# following repositories are available:\n");
            msg.push_str(&self.available);
            out.fail(now, a, 404, &msg);
            return None;
        };
        if out.kind != Kind::Metalink {
            return Some(Resolved::directory(self.snap.repositories[r].directory, log_arch));
        }
        match self.repodata[r] {
            Some(dir) => Some(Resolved {
                target: Target {
                    dir,
                    file: "repomd.xml",
                    is_dir: false,
                },
                log_arch,
            }),
            None => {
                // MirrorManager answers this in plain text even for metalinks.
                a.status = 500;
                a.body.push_str("mirrorlist cache index out of range, you broke it!");
                None
            }
        }
    }

    /// The decision for the resolved target, the access-log line, the protocol trims, and (when `render`) the
    /// body. False only when the client address cannot be parsed (answered here).
    #[allow(clippy::too_many_arguments)]
    fn decide_log_render(
        &self,
        req: &Request<'_>,
        q: &Query<'_>,
        out: &Output,
        resolved: &Resolved<'_>,
        ctx: &mut Context<'_>,
        ws: &mut Workspace,
        render: bool,
    ) -> bool {
        let Some(ip) = client::client_address(q.ip, req.forwarded_for, req.peer) else {
            out.fail(
                ctx.now,
                &mut ws.answer,
                500,
                "Cannot parse client IP address. Aborting.",
            );
            return false;
        };
        let located = client::locating_address(ip);
        let inputs = Inputs {
            dir: resolved.target.dir,
            ip: located,
            geo: ctx.locate.locate(located),
            country: q.country,
            netblocks: q.netblock.is_none_or(|n| n == "1"),
            protocol: q.protocol,
            minimum: ctx.minimum,
        };
        self.select(&inputs, ctx.random, &mut ws.decision);
        if let (Some(repo), Some(_), false) = (q.repo, q.arch, out.explain) {
            write_log_line(
                &mut ws.answer.log_line,
                ip,
                ctx.now,
                &ws.decision,
                repo,
                resolved.log_arch,
            );
        }
        self.trim(q, out, &mut ws.decision);
        if render {
            let t = &resolved.target;
            if out.explain {
                render::explain(self, t, &inputs, ip, ws, out.kind, q.redirect.is_some());
            } else if out.kind == Kind::Metalink {
                render::metalink(self, t, out.flavour, ctx.now, ws);
            } else if q.redirect.is_some() {
                render::redirect(self, t, ws);
            } else {
                render::mirrorlist(self, t, ws);
            }
        }
        true
    }

    /// The protocol trims after the decision: `protocol=` (noted in the header), and for plain mirrorlists the
    /// one URL per host they list (a web URL for `redirect=`); `time=` adds the snapshot's creation time.
    fn trim(&self, q: &Query<'_>, out: &Output, d: &mut Decision) {
        let mut protocols_trimmed = false;
        if let Some(p) = q.protocol {
            d.trim_requested(self, p);
            d.header.push_str("protocol = ");
            d.header.push_str(p);
            protocols_trimmed = true;
        }
        if q.time.is_some() {
            let _ = write!(d.header, "\n# database creation time: {}", self.snap.created);
        }
        if out.kind == Kind::Mirrorlist {
            if q.redirect.is_some() {
                d.trim_to(self, Preferred::Web);
            } else if !protocols_trimmed {
                d.trim_to(self, Preferred::Any);
            }
        }
    }
}

/// Resets the answer and picks the endpoint from the path; anything but `…/metalink` and `…/mirrorlist` is
/// answered 404 here (`None`).
fn route(path: &str, a: &mut Answer) -> Option<Kind> {
    a.status = 200;
    a.content_type = ContentType::Text;
    a.body.clear();
    a.location.clear();
    a.log_line.clear();
    a.kind = if path.ends_with("/metalink") {
        Kind::Metalink
    } else if path.ends_with("/mirrorlist") {
        Kind::Mirrorlist
    } else {
        Kind::Other
    };
    if a.kind == Kind::Other {
        a.status = 404;
        a.body.push_str("We don't serve their kind here!");
        return None;
    }
    Some(a.kind)
}

/// `raw` with `/` trimmed at both ends and runs of `/` collapsed, into `out`.
fn normalise_path(raw: &str, out: &mut String) {
    out.clear();
    for part in raw.split('/').filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part);
    }
}

/// MirrorManager's access-log line: `IP: …; DATE: …; COUNTRY: …; REPO: …; ARCH: …`.
fn write_log_line(out: &mut String, ip: IpAddr, now: u64, d: &Decision, repo: &str, arch: &str) {
    let cc = d.country.as_ref().map_or("N/A", |c| c.as_str());
    out.push_str("IP: ");
    write_ip(out, ip);
    out.push_str("; DATE: ");
    time::write_date(out, now);
    push_all(out, &["; COUNTRY: ", cc, "; REPO: ", repo, "; ARCH: ", arch, "\n"]);
}

/// A resolved request: the target and the arch its access-log line records.
struct Resolved<'a> {
    target: Target<'a>,
    log_arch: &'a str,
}

impl<'a> Resolved<'a> {
    fn directory(dir: DirectoryId, log_arch: &'a str) -> Resolved<'a> {
        Resolved {
            target: Target {
                dir,
                file: "",
                is_dir: true,
            },
            log_arch,
        }
    }
}

/// How errors and answers are written for this request.
struct Output {
    kind: Kind,
    flavour: Flavour,
    explain: bool,
}

impl Output {
    fn fail(&self, now: u64, a: &mut Answer, status: u16, message: &str) {
        a.status = status;
        if self.explain {
            a.content_type = ContentType::Json;
            render::explain_error(a, status, message);
        } else if self.kind == Kind::Metalink {
            render::metalink_failure(a, self.flavour, now, message);
        } else {
            a.body.push_str(message);
        }
    }
}

/// Appends `parts` (what `write!` would, without the formatting machinery, on every request).
fn push_all(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
}

/// Appends `ip` as `Display` writes it; IPv4, almost every client, without the formatting machinery.
fn write_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let mut digits = itoa::Buffer::new();
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(digits.format(octet));
            }
        }
        IpAddr::V6(_) => {
            let _ = write!(out, "{ip}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_ip_matches_display() {
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.7",
            "10.200.3.45",
            "2001:db8::1",
            "::ffff:192.0.2.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = String::from("x");
            write_ip(&mut out, ip);
            assert_eq!(out, alloc::format!("x{ip}"));
        }
    }
}
