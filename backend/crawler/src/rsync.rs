//! Listing a mirror's category over rsync: one `rsync --list-only -r` per category, one connection for every
//! directory and file of it — the cheapest way to crawl a mirror that offers rsync. The listing is parsed by the
//! scanner's reader, so a mirror's tree and the primary's are read by the same rules.

use std::process::Stdio;
use std::time::Duration;

use mirrorvane_scan::Excludes;
use mirrorvane_scan::listing::Listing;
use mirrorvane_scan::rsync::ListingParser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

use crate::names::{Family, Names};

/// How rsync is run.
#[derive(Debug, Clone)]
pub struct RsyncConfig {
    /// The program (`rsync`).
    pub program: String,
    /// `--timeout` (no data for this long stops it) and `--contimeout` (connecting to the daemon).
    pub timeout: Duration,
    /// Name resolution: a fixed address replaces the host name in the URL.
    pub names: Names,
}

/// Why a listing was not had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RsyncFailure {
    /// The daemon is not there or does not have the module (rsync's exit codes 5 and 10, no address of the
    /// family): try another URL.
    Unavailable(String),
    /// Anything else (a timeout, a protocol error).
    Failed(String),
}

/// Exit codes: 5 (error starting the client-server protocol, e.g. an unknown module), 10 (socket I/O: no
/// daemon), 30 (timeout in data send/receive), 35 (timeout waiting for the daemon connection).
fn failure(code: Option<i32>, stderr: &str) -> RsyncFailure {
    let tail: String = stderr
        .lines()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(" / ");
    match code {
        Some(5 | 10) => RsyncFailure::Unavailable(format!("rsync exit code {}: {tail}", code.unwrap_or(0))),
        Some(c) => RsyncFailure::Failed(format!("rsync exit code {c}: {tail}")),
        None => RsyncFailure::Failed(format!("rsync killed: {tail}")),
    }
}

/// Lists `url` (a category's top directory on the mirror) recursively over `family`.
pub async fn list(config: &RsyncConfig, url: &str, family: Family) -> Result<Listing, RsyncFailure> {
    let target = match address_url(&config.names, url, family).await {
        Ok(t) => t,
        Err(e) => return Err(RsyncFailure::Unavailable(e)),
    };
    let secs = config.timeout.as_secs().max(1).to_string();
    let mut child = tokio::process::Command::new(&config.program)
        .args(["--list-only", "-r", "--no-motd"])
        .arg(format!("--timeout={secs}"))
        .arg(format!("--contimeout={secs}"))
        .arg(match family {
            Family::V4 => "-4",
            Family::V6 => "-6",
        })
        .arg(format!("{}/", target.trim_end_matches('/')))
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| RsyncFailure::Failed(format!("cannot run {}: {e}", config.program)))?;
    // The listing is parsed line by line as it arrives: a category of 25,000 directories is megabytes of text
    // that need not be held whole (the crawler has one listing per host in flight).
    let excludes = Excludes::new::<&str>("", &[]).map_err(|e| RsyncFailure::Failed(e.to_string()))?;
    let mut parser = ListingParser::new("", &excludes);
    let (stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let mut err = Vec::new();
    let read_out = async {
        let Some(out) = stdout else { return Ok(()) };
        let mut reader = tokio::io::BufReader::with_capacity(64 << 10, out);
        let mut line = Vec::with_capacity(256);
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).await? == 0 {
                return Ok::<(), std::io::Error>(());
            }
            parser.push_line(&line);
        }
    };
    let read_err = async {
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut err).await;
        }
    };
    let (read, ()) = tokio::join!(read_out, read_err);
    let status = child
        .wait()
        .await
        .map_err(|e| RsyncFailure::Failed(format!("rsync: {e}")))?;
    let stderr = String::from_utf8_lossy(&err);
    // 24: files vanished while listing (a mirror syncing right now): the listing is still good for the rest.
    if !status.success() && status.code() != Some(24) {
        return Err(failure(status.code(), &stderr));
    }
    read.map_err(|e| RsyncFailure::Failed(format!("cannot read the listing: {e}")))?;
    Ok(parser.finish())
}

/// `url` with its host replaced by an address of `family` when the name has a fixed answer, so rsync connects
/// where the crawl was told to; otherwise as it is (rsync resolves it, restricted to the family by `-4`/`-6`).
async fn address_url(names: &Names, url: &str, family: Family) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let host = parsed.host_str().ok_or_else(|| format!("{url}: no host"))?;
    let addrs = names
        .lookup_family(host, family)
        .await
        .map_err(|e| format!("{host}: {e}"))?;
    let Some(ip) = addrs.first() else {
        return Err(format!("{host} has no {} address", family.label()));
    };
    let mut out = parsed.clone();
    if out.set_ip_host(*ip).is_err() {
        return Ok(url.to_owned());
    }
    Ok(out.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert!(matches!(
            failure(Some(10), "@ERROR: x\nrsync error: y"),
            RsyncFailure::Unavailable(_)
        ));
        assert!(matches!(
            failure(Some(5), "@ERROR: Unknown module 'x'"),
            RsyncFailure::Unavailable(_)
        ));
        assert!(matches!(failure(Some(30), "timeout"), RsyncFailure::Failed(_)));
        assert!(matches!(failure(None, ""), RsyncFailure::Failed(_)));
    }

    #[test]
    fn fixed_addresses_replace_the_host() {
        let names = Names::with_fixed(
            [(
                "m.test".to_owned(),
                vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            )]
            .into(),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            assert_eq!(
                address_url(&names, "rsync://m.test:8730/fedora/linux", Family::V6)
                    .await
                    .unwrap(),
                "rsync://[::1]:8730/fedora/linux"
            );
            assert_eq!(
                address_url(&names, "rsync://m.test/fedora", Family::V4).await.unwrap(),
                "rsync://127.0.0.1/fedora"
            );
            assert!(address_url(&names, "rsync://[::1]/x", Family::V4).await.is_err());
        });
    }
}
