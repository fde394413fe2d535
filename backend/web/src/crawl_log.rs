//! `GET /crawler/<host>.log`: the logs of a host's last crawls (MirrorManager published one file per host from
//! its one crawler machine; these come from the database, whichever crawler host wrote them), oldest first like
//! a log file.

use mirrorvane_db::{Database, DbError, crawl};

/// The text served for `file` (`<host name or id>.log`); `None` when there is no such host or log.
pub async fn text(db: &Database, file: &str) -> Result<Option<String>, DbError> {
    let Some(host) = file.strip_suffix(".log") else {
        return Ok(None);
    };
    let mut conn = db.acquire().await?;
    let Some(id) = crawl::host_id(&mut conn, host).await? else {
        return Ok(None);
    };
    let logs = crawl::logs(&mut conn, id, crawl::LOGS_KEPT).await?;
    if logs.is_empty() {
        return Ok(None);
    }
    Ok(Some(logs.iter().rev().map(|l| l.text.as_str()).collect()))
}
