//! The log of one host's crawl: timestamped lines, kept in the database with the crawl's outcome (MirrorManager
//! wrote a file per host on the crawler machine; with several crawler hosts, only the database sees them all).

use std::fmt::Write as _;
use std::sync::Mutex;

/// Lines of one host's crawl. Shared by the host's concurrent requests; what was written before a timeout is
/// kept.
#[derive(Debug, Default)]
pub struct HostLog {
    text: Mutex<String>,
}

/// At most this many lines about single directories per category; the rest is counted.
pub const DIRECTORY_LINES: usize = 50;

impl HostLog {
    /// Appends `message` at `level` (`INFO`, `WARNING`, `ERROR`), stamped with the current time.
    pub fn line(&self, level: &str, message: impl std::fmt::Display) {
        let now = time_text(now_seconds());
        if let Ok(mut text) = self.text.lock() {
            let _ = writeln!(text, "{now} - {level} - {message}");
        }
    }

    /// `line("INFO", …)`.
    pub fn info(&self, message: impl std::fmt::Display) {
        self.line("INFO", message);
    }

    /// `line("WARNING", …)`.
    pub fn warn(&self, message: impl std::fmt::Display) {
        self.line("WARNING", message);
    }

    /// The text so far.
    pub fn text(&self) -> String {
        self.text.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// Seconds since the epoch.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DD hh:mm:ss` (UTC).
pub fn time_text(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times() {
        assert_eq!(super::time_text(0), "1970-01-01 00:00:00");
        assert_eq!(super::time_text(1_795_700_403), "2026-11-26 13:40:03");
        assert_eq!(super::time_text(951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn lines() {
        let log = super::HostLog::default();
        log.info("crawling");
        log.warn("stale");
        let text = log.text();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().nth(1).unwrap().ends_with(" - WARNING - stale"), "{text}");
    }
}
