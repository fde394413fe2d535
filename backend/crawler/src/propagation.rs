//! Propagation statistics (reference §5.5): per repository of the current versions, how many mirrors serve
//! today's `repomd.xml`, one a day, two days older, an older one, or could not be read — counted from what the
//! crawls saw (their `repomd.xml` observations), so they cost no request of their own. One row per repository
//! per run, kept for the propagation page.

use mirrorvane_db::crawl::{self, FollowedRepositoryRow, PropagationRow};
use mirrorvane_db::{Database, DbError, files};

const DAY: i64 = 86_400;

/// Observations older than this are not counted (a host crawled by neither crawler host in the window is
/// "no information"). Two crawler hosts each crawl every 12 hours.
pub const WINDOW: i64 = DAY;

/// Which age class a mirror's `repomd.xml` falls in, against the repository's newest push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    SameDay,
    OneDay,
    TwoDay,
    Older,
    NoInfo,
}

/// MirrorManager's classes: a known push within a day of the newest is the same day's, within two days one
/// day's, within three two days'; older pushes and unknown content are older.
pub fn classify(newest: i64, matched: Option<Option<i64>>) -> Age {
    match matched {
        None => Age::NoInfo,
        Some(None) => Age::Older,
        Some(Some(ts)) => match newest - ts {
            d if d > 3 * DAY => Age::Older,
            d if d > 2 * DAY => Age::TwoDay,
            d if d > DAY => Age::OneDay,
            _ => Age::SameDay,
        },
    }
}

/// Counts and stores a propagation row per followed repository at `now`; returns them.
pub async fn record(db: &Database, now: i64) -> Result<Vec<(FollowedRepositoryRow, PropagationRow)>, DbError> {
    let mut conn = db.acquire().await?;
    let mut out = Vec::new();
    for repo in crawl::followed_repositories(&mut conn).await? {
        let newest = files::of_directory(&mut conn, repo.repodata_id)
            .await?
            .into_iter()
            .filter(|d| d.filename == "repomd.xml")
            .map(|d| d.timestamp)
            .max();
        let Some(newest) = newest else { continue };
        let observations = crawl::observations(&mut conn, repo.repodata_id, now - WINDOW).await?;
        let mut row = PropagationRow {
            repository_id: repo.id,
            datetime: now,
            ..PropagationRow::default()
        };
        for host in crawl::serving_hosts_of_category(&mut conn, repo.category_id).await? {
            let seen = observations
                .iter()
                .find(|o| o.host_id == host)
                .map(|o| o.matched_timestamp);
            match classify(newest, seen) {
                Age::SameDay => row.same_day += 1,
                Age::OneDay => row.one_day += 1,
                Age::TwoDay => row.two_day += 1,
                Age::Older => row.older += 1,
                Age::NoInfo => row.no_info += 1,
            }
        }
        crawl::insert_propagation(&mut conn, &row).await?;
        out.push((repo, row));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let now = 10 * DAY;
        assert_eq!(classify(now, None), Age::NoInfo);
        assert_eq!(classify(now, Some(None)), Age::Older);
        assert_eq!(classify(now, Some(Some(now))), Age::SameDay);
        assert_eq!(classify(now, Some(Some(now - DAY))), Age::SameDay);
        assert_eq!(classify(now, Some(Some(now - DAY - 1))), Age::OneDay);
        assert_eq!(classify(now, Some(Some(now - 2 * DAY - 1))), Age::TwoDay);
        assert_eq!(classify(now, Some(Some(now - 3 * DAY - 1))), Age::Older);
    }
}
