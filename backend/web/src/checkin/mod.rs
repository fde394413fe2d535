//! Check-in of private mirrors (`report_mirror`, reference §5.6): a private host reports the directories it
//! carries; they become its up-to-date state, as MirrorManager records them.
//!
//! Differences from MirrorManager, on purpose: the password is checked against an argon2id hash (in constant
//! time, and as long for an unknown site as for a wrong password); a payload that is not JSON is refused, never
//! unpickled; sizes are bounded before and after decompression; and a section naming a category the host does
//! not carry refuses the whole check-in with a message (MirrorManager skipped it silently, so a typo in
//! `report_mirror.conf` looked like success). Nothing is written unless everything is accepted.

pub mod payload;
pub mod xmlrpc;

use std::collections::HashMap;
use std::sync::OnceLock;

use mirrorvane_db::checkin::{self as store, Checkin};
use mirrorvane_db::crawl::CrawlHostCategoryRow;
use mirrorvane_db::{Database, DbError, DirectorySet, categories, crawl, password};

pub use payload::{Limits, Payload, PayloadError};

/// What a check-in got: accepted or refused, and the text `report_mirror` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub accepted: bool,
    pub text: String,
}

impl Reply {
    fn refused(message: impl Into<String>) -> Reply {
        let mut text = message.into();
        text.push_str("error checking in");
        Reply { accepted: false, text }
    }
}

/// MirrorManager's reply to a wrong site name or password (the same for both: no probing for site names).
pub const BAD_CREDENTIALS: &str = "Config file site name or password incorrect.\n";

/// Checks `payload` in at time `now`: authenticates, then replaces the state of each reported category.
pub async fn check_in(db: &Database, payload: &Payload, now: i64) -> Result<Reply, DbError> {
    let mut conn = db.acquire().await?;
    let site = store::site(&mut conn, &payload.site).await?;
    let stored = site.as_ref().and_then(|s| s.password.clone());
    let given = payload.password.clone();
    // Hashing is deliberately slow: off the request threads. An unknown site costs the same as a known one.
    let verified = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => password::matches(Some(&hash), &given),
        None => {
            let _ = password::matches(Some(decoy()), &given);
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(site) = site.filter(|_| verified) else {
        return Ok(Reply::refused(BAD_CREDENTIALS));
    };
    let Some(host) = store::host(&mut conn, site.id, &payload.host).await? else {
        return Ok(Reply::refused("Config file host name for site not found.\n"));
    };
    if !bool::from(host.private) {
        return Ok(Reply::refused(
            "Only private mirrors are allowed to use report_mirror.\n",
        ));
    }
    let carried = crawl::host_categories(&mut conn, Some(host.id)).await?;
    let mut states = Vec::new();
    let mut text = String::new();
    for (section, paths) in &payload.categories {
        let Some(hc) = carried.iter().find(|c| c.category.eq_ignore_ascii_case(section)) else {
            return Ok(Reply::refused(format!(
                "Category {section} is not a category of host {}; add it to the host first (a check-in does \
                 not add categories).\n",
                payload.host
            )));
        };
        let directories: HashMap<String, i64> = categories::directories_of(&mut conn, hc.category_id)
            .await?
            .into_iter()
            .map(|d| (d.name, d.id))
            .collect();
        let before_up = crawl::directory_set(&mut conn, hc.up2date_set_id).await?;
        let before_stale = crawl::directory_set(&mut conn, hc.stale_set_id).await?;
        let (reported, counts) = new_state(hc, &directories, paths, &before_up, &before_stale);
        text.push_str(&format!(
            "Category {} directories updated: {}  added: {}  deleted {}\n",
            hc.category, counts.updated, counts.added, counts.deleted
        ));
        states.push((hc.id, reported, DirectorySet::new()));
    }
    drop(conn);
    store::record(
        db,
        &Checkin {
            host: host.id,
            at: now,
            user_active: payload.user_active,
            states,
        },
    )
    .await?;
    text.push_str("checked in successful");
    Ok(Reply { accepted: true, text })
}

/// A hash that no password matches, verified when the site is unknown so that the answer takes as long.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| password::hash("\u{0}mirrorvane decoy\u{0}").unwrap_or_default())
}

/// MirrorManager's counts of a category's check-in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Reported directories the host already had a state for.
    pub updated: usize,
    /// Reported directories it had none for.
    pub added: usize,
    /// Directories it had a state for and did not report.
    pub deleted: usize,
}

/// The reported directories that exist on the primary (paths relative to the category's top directory), as the
/// host category's new up-to-date set; the counts against its state before.
pub fn new_state(
    hc: &CrawlHostCategoryRow,
    directories: &HashMap<String, i64>,
    paths: &[String],
    before_up: &DirectorySet,
    before_stale: &DirectorySet,
) -> (DirectorySet, Counts) {
    let known = |id: i64| before_up.contains(id) || before_stale.contains(id);
    let mut ids: Vec<i64> = paths
        .iter()
        .filter_map(|p| {
            let name = match (hc.topdir.is_empty(), p.is_empty()) {
                (true, _) => p.clone(),
                (false, true) => hc.topdir.clone(),
                (false, false) => format!("{}/{p}", hc.topdir),
            };
            directories.get(&name).copied()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let reported: DirectorySet = ids.iter().copied().collect();
    let updated = ids.iter().filter(|&&id| known(id)).count();
    let deleted = before_up
        .iter()
        .chain(before_stale.iter())
        .filter(|&id| !reported.contains(id))
        .count();
    (
        reported,
        Counts {
            updated,
            added: ids.len() - updated,
            deleted,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorvane_db::Flag;

    #[test]
    fn state_and_counts() {
        let hc = CrawlHostCategoryRow {
            id: 1,
            host_id: 1,
            category_id: 1,
            category: "Fedora Linux".into(),
            topdir: "pub/fedora/linux".into(),
            always_up2date: Flag(false),
            up2date_set_id: None,
            stale_set_id: None,
        };
        let dirs: HashMap<String, i64> = [
            ("pub/fedora/linux", 1),
            ("pub/fedora/linux/releases", 2),
            ("pub/fedora/linux/releases/41", 3),
            ("pub/fedora/linux/updates", 4),
        ]
        .into_iter()
        .map(|(n, i)| (n.to_owned(), i))
        .collect();
        let before_up: DirectorySet = [2, 4].into_iter().collect();
        let before_stale: DirectorySet = [3].into_iter().collect();
        let paths: Vec<String> = ["", "releases", "releases/41", "not/on/the/primary"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let (set, counts) = new_state(&hc, &dirs, &paths, &before_up, &before_stale);
        assert_eq!(set.iter().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            counts,
            Counts {
                updated: 2,
                added: 1,
                deleted: 1
            }
        );
    }
}
