//! One edit by one person (a form of the web UI, a call of the JSON API): the inventory's load–diff–apply path
//! with the [`policy`](super::policy) check between diff and apply, all in one transaction.
//!
//! The edit is a function over the loaded [`Inventory`]; whatever it changes becomes [`Change`]s exactly as an
//! inventory file would, so the UI and `mirrorvane apply` cannot disagree about what a change means, and the
//! permission check sees the changes themselves rather than the request that asked for them.

use mirrorvane_db::Database;

use super::diff::{Change, Prune, diff_with};
use super::model::Inventory;
use super::policy::{self, Actor, Refusal};
use super::store::{self, StoreError, password_matches};

/// Why an edit was not made. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The input is not acceptable (the message says why, for the form).
    #[error("{0}")]
    Invalid(String),
    /// The person may not make one of the changes.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<mirrorvane_db::DbError> for EditError {
    fn from(e: mirrorvane_db::DbError) -> Self {
        EditError::Store(e.into())
    }
}

/// Loads the inventory, lets `edit` change a copy, and stores the difference if `actor` may make every part of
/// it; returns the changes made (none when the edit changed nothing). A site's password in the copy is `None`
/// (left alone) unless `edit` sets a new one.
pub async fn edit<F>(db: &Database, actor: &Actor, edit: F) -> Result<Vec<Change>, EditError>
where
    F: FnOnce(&mut Inventory) -> Result<(), String>,
{
    let mut tx = db.begin().await?;
    let current = store::load_from(&mut tx).await?;
    let mut desired = current.clone();
    for site in &mut desired.sites {
        site.password = None;
    }
    edit(&mut desired).map_err(EditError::Invalid)?;
    let changes = diff_with(&current, &desired, Prune::Yes, &password_matches);
    if changes.is_empty() {
        return Ok(changes);
    }
    policy::check(actor, &current, &changes)?;
    store::apply_in(&mut tx, &changes, &actor.name).await?;
    tx.commit().await.map_err(mirrorvane_db::DbError::from)?;
    Ok(changes)
}
