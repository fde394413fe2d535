//! The builder's reads: one query per table from `mirrorvane_db`, in one consistent view.

use mirrorvane_db::categories::{self, DirectoryRow};
use mirrorvane_db::countries::{self, ContinentRow, NetblockCountryRow};
use mirrorvane_db::files::{self, FileDetailRow};
use mirrorvane_db::repositories::{self, RedirectRow, ServedRepositoryRow};
use mirrorvane_db::sites::{self, AllowedCountryRow, NetblockRow, PeerAsnRow, ServingHostRow, UrlRow};
use mirrorvane_db::{Database, DbError, DirectorySet, sets};

pub(super) struct CategoryRow {
    pub id: i64,
    pub name: String,
    pub topdir: String,
}

pub(super) struct HostCategoryRow {
    pub id: i64,
    pub host: i64,
    pub category: i64,
    pub always_up2date: bool,
    pub up2date: DirectorySet,
}

pub(super) struct Rows {
    pub hosts: Vec<ServingHostRow>,
    pub peer_asns: Vec<PeerAsnRow>,
    pub allowed_countries: Vec<AllowedCountryRow>,
    pub categories: Vec<CategoryRow>,
    pub directories: Vec<DirectoryRow>,
    pub host_categories: Vec<HostCategoryRow>,
    /// Public URLs only, grouped by host category.
    pub urls: Vec<UrlRow>,
    pub repositories: Vec<ServedRepositoryRow>,
    pub redirects: Vec<RedirectRow>,
    pub file_details: Vec<FileDetailRow>,
    pub netblocks: Vec<NetblockRow>,
    pub netblock_countries: Vec<NetblockCountryRow>,
    pub continents: Vec<ContinentRow>,
}

impl Rows {
    /// Reads everything from one consistent view of the database (a read-only repeatable-read transaction on
    /// PostgreSQL; SQLite's transaction reads one WAL snapshot), so rows written meanwhile by a scan, an apply
    /// or a crawler cannot leave a host category whose host was not read.
    pub async fn read(database: &Database) -> Result<Rows, DbError> {
        let mut tx = database.begin_consistent_read().await?;
        let db = &mut *tx;
        let mut decoded = std::collections::HashMap::new();
        for set in sets::referenced(db).await? {
            decoded.insert(set.id, set.decode()?);
        }
        let host_categories = sites::host_categories(db)
            .await?
            .into_iter()
            .map(|hc| HostCategoryRow {
                id: hc.id,
                host: hc.host_id,
                category: hc.category_id,
                always_up2date: hc.always_up2date.into(),
                up2date: hc
                    .up2date_set_id
                    .and_then(|id| decoded.get(&id).cloned())
                    .unwrap_or_default(),
            })
            .collect();
        let mut rows = Rows {
            hosts: sites::serving_hosts(db).await?,
            peer_asns: sites::peer_asns(db).await?,
            allowed_countries: sites::allowed_countries(db).await?,
            categories: categories::categories(db)
                .await?
                .into_iter()
                .map(|c| CategoryRow {
                    id: c.id,
                    name: c.name,
                    topdir: c.topdir,
                })
                .collect(),
            directories: categories::directories(db).await?,
            host_categories,
            urls: sites::urls(db)
                .await?
                .into_iter()
                .filter(|u| !bool::from(u.private))
                .collect(),
            repositories: repositories::served(db).await?,
            redirects: repositories::redirects(db).await?,
            file_details: files::all(db).await?,
            netblocks: sites::netblocks(db).await?,
            netblock_countries: countries::netblock_countries(db).await?,
            continents: countries::continents(db).await?,
        };
        let _ = tx.rollback().await;
        rows.sort_text_keys_by_bytes();
        Ok(rows)
    }

    /// Text keys are put in byte order here, not by `ORDER BY` (PostgreSQL sorts by the database's collation,
    /// SQLite by bytes): equal data must give equal snapshot bytes on both engines. Stable, so file details keep
    /// their newest-first order within a file.
    fn sort_text_keys_by_bytes(&mut self) {
        self.file_details
            .sort_by(|a, b| (a.directory_id, a.filename.as_bytes()).cmp(&(b.directory_id, b.filename.as_bytes())));
        self.netblock_countries
            .sort_by(|a, b| a.netblock.as_bytes().cmp(b.netblock.as_bytes()));
        self.continents
            .sort_by(|a, b| a.country.as_bytes().cmp(b.country.as_bytes()));
    }
}
