//! The builder's reads: one query per table, in the order the builder wants, decoded into plain rows.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::directory_set::{DirectorySet, decode_row};
use crate::db::{Database, DbError, Engine, bool_at, opt_bool_at};

pub(super) struct HostRow {
    pub id: i64,
    pub name: String,
    pub country: String,
    pub bandwidth: i64,
    /// Host or site private.
    pub private: bool,
    /// Host and site, admin and user flags all set.
    pub active: bool,
    pub asn: Option<i64>,
    pub asn_clients: bool,
    pub ipv4_reachable: Option<bool>,
    pub ipv6_reachable: Option<bool>,
}

pub(super) struct PeerAsnRow {
    pub host: i64,
    pub asn: i64,
}

pub(super) struct AllowedCountryRow {
    pub host: i64,
    pub country: String,
}

pub(super) struct CategoryRow {
    pub id: i64,
    pub name: String,
    pub topdir: String,
}

pub(super) struct DirectoryRow {
    pub id: i64,
    pub name: String,
    pub category: i64,
}

pub(super) struct HostCategoryRow {
    pub id: i64,
    pub host: i64,
    pub category: i64,
    pub always_up2date: bool,
    pub up2date: DirectorySet,
}

pub(super) struct UrlRow {
    pub host_category: i64,
    pub url: String,
}

pub(super) struct RepositoryRow {
    pub prefix: String,
    pub arch: String,
    pub directory: i64,
    pub disabled: bool,
}

pub(super) struct RedirectRow {
    pub from: String,
    pub to: String,
}

pub(super) struct FileDetailRow {
    pub directory: i64,
    pub filename: String,
    pub timestamp: i64,
    pub size: i64,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
}

pub(super) struct NetblockRow {
    pub host: i64,
    pub netblock: String,
}

pub(super) struct NetblockCountryRow {
    pub netblock: String,
    pub country: String,
}

pub(super) struct ContinentRow {
    pub country: String,
    pub continent: String,
}

pub(super) struct Rows {
    pub hosts: Vec<HostRow>,
    pub peer_asns: Vec<PeerAsnRow>,
    pub allowed_countries: Vec<AllowedCountryRow>,
    pub categories: Vec<CategoryRow>,
    pub directories: Vec<DirectoryRow>,
    pub host_categories: Vec<HostCategoryRow>,
    pub urls: Vec<UrlRow>,
    pub repositories: Vec<RepositoryRow>,
    pub redirects: Vec<RedirectRow>,
    pub file_details: Vec<FileDetailRow>,
    pub netblocks: Vec<NetblockRow>,
    pub netblock_countries: Vec<NetblockCountryRow>,
    pub continents: Vec<ContinentRow>,
}

async fn all<T>(
    db: &mut sqlx::AnyConnection,
    sql: &str,
    row: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, DbError> {
    let rows = sqlx::query(sql).fetch_all(&mut *db).await?;
    Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
}

impl Rows {
    /// Reads everything from one consistent view of the database (a read-only repeatable-read transaction on
    /// PostgreSQL; SQLite's transaction reads one WAL snapshot), so rows written meanwhile by a scan, an apply
    /// or a crawler cannot leave a host category whose host was not read.
    pub async fn read(database: &Database) -> Result<Rows, DbError> {
        let mut tx = database.pool().begin().await?;
        if database.engine() == Engine::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let db = &mut *tx;
        let hosts = all(
            &mut *db,
            "SELECT h.id, h.name, h.country, h.bandwidth_int, (h.private OR s.private), \
               (h.admin_active AND h.user_active AND s.admin_active AND s.user_active), h.asn, h.asn_clients, \
               h.ipv4_reachable, h.ipv6_reachable \
             FROM host h JOIN site s ON s.id = h.site_id ORDER BY h.id",
            |r| {
                Ok(HostRow {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    country: r.try_get(2)?,
                    bandwidth: r.try_get(3)?,
                    private: bool_at(r, 4)?,
                    active: bool_at(r, 5)?,
                    asn: r.try_get(6)?,
                    asn_clients: bool_at(r, 7)?,
                    ipv4_reachable: opt_bool_at(r, 8)?,
                    ipv6_reachable: opt_bool_at(r, 9)?,
                })
            },
        )
        .await?;
        let peer_asns = all(
            &mut *db,
            "SELECT host_id, asn FROM host_peer_asn ORDER BY host_id, asn",
            |r| {
                Ok(PeerAsnRow {
                    host: r.try_get(0)?,
                    asn: r.try_get(1)?,
                })
            },
        )
        .await?;
        let allowed_countries = all(
            &mut *db,
            "SELECT host_id, country FROM host_country_allowed ORDER BY host_id, country",
            |r| {
                Ok(AllowedCountryRow {
                    host: r.try_get(0)?,
                    country: r.try_get(1)?,
                })
            },
        )
        .await?;
        let categories = all(&mut *db, "SELECT id, name, topdir FROM category ORDER BY id", |r| {
            Ok(CategoryRow {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                topdir: r.try_get(2)?,
            })
        })
        .await?;
        let directories = all(
            &mut *db,
            "SELECT id, name, category_id FROM directory ORDER BY id",
            |r| {
                Ok(DirectoryRow {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    category: r.try_get(2)?,
                })
            },
        )
        .await?;
        let raw_host_categories = all(
            &mut *db,
            "SELECT hc.id, hc.host_id, hc.category_id, hc.always_up2date, ds.id, ds.members \
             FROM host_category hc LEFT JOIN directory_set ds ON ds.id = hc.up2date_set_id ORDER BY hc.id",
            |r| {
                let set: Option<i64> = r.try_get(4)?;
                let members: Option<Vec<u8>> = r.try_get(5)?;
                Ok((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    bool_at(r, 3)?,
                    set.zip(members),
                ))
            },
        )
        .await?;
        let mut host_categories = Vec::with_capacity(raw_host_categories.len());
        for (id, host, category, always_up2date, set) in raw_host_categories {
            let up2date = match set {
                Some((set, members)) => decode_row(&members, set)?,
                None => DirectorySet::new(),
            };
            host_categories.push(HostCategoryRow {
                id,
                host,
                category,
                always_up2date,
                up2date,
            });
        }
        let urls = all(
            &mut *db,
            "SELECT host_category_id, url FROM host_category_url WHERE NOT private ORDER BY host_category_id, id",
            |r| {
                Ok(UrlRow {
                    host_category: r.try_get(0)?,
                    url: r.try_get(1)?,
                })
            },
        )
        .await?;
        let repositories = all(
            &mut *db,
            "SELECT r.prefix, a.name, r.directory_id, r.disabled FROM repository r JOIN arch a ON a.id = r.arch_id \
             WHERE r.prefix IS NOT NULL AND r.prefix <> '' ORDER BY r.directory_id, r.id",
            |r| {
                Ok(RepositoryRow {
                    prefix: r.try_get(0)?,
                    arch: r.try_get(1)?,
                    directory: r.try_get(2)?,
                    disabled: bool_at(r, 3)?,
                })
            },
        )
        .await?;
        let redirects = all(
            &mut *db,
            "SELECT from_repo, to_repo FROM repository_redirect ORDER BY id",
            |r| {
                Ok(RedirectRow {
                    from: r.try_get(0)?,
                    to: r.try_get(1)?,
                })
            },
        )
        .await?;
        let file_details = all(
            &mut *db,
            "SELECT directory_id, filename, timestamp, size, md5, sha1, sha256, sha512 FROM file_detail \
             ORDER BY directory_id, filename, timestamp DESC, id DESC",
            |r| {
                Ok(FileDetailRow {
                    directory: r.try_get(0)?,
                    filename: r.try_get(1)?,
                    timestamp: r.try_get(2)?,
                    size: r.try_get(3)?,
                    md5: r.try_get(4)?,
                    sha1: r.try_get(5)?,
                    sha256: r.try_get(6)?,
                    sha512: r.try_get(7)?,
                })
            },
        )
        .await?;
        let netblocks = all(
            &mut *db,
            "SELECT host_id, netblock FROM host_netblock ORDER BY id",
            |r| {
                Ok(NetblockRow {
                    host: r.try_get(0)?,
                    netblock: r.try_get(1)?,
                })
            },
        )
        .await?;
        let netblock_countries = all(
            &mut *db,
            "SELECT netblock, country FROM netblock_country ORDER BY netblock",
            |r| {
                Ok(NetblockCountryRow {
                    netblock: r.try_get(0)?,
                    country: r.try_get(1)?,
                })
            },
        )
        .await?;
        let continents = all(
            &mut *db,
            "SELECT country, continent FROM country_continent_redirect ORDER BY country",
            |r| {
                Ok(ContinentRow {
                    country: r.try_get(0)?,
                    continent: r.try_get(1)?,
                })
            },
        )
        .await?;
        tx.rollback().await?;
        // Text keys are put in byte order here, not by `ORDER BY` (PostgreSQL sorts by the database's
        // collation, SQLite by bytes): equal data must give equal snapshot bytes on both engines. Stable, so
        // file details keep their newest-first order within a file.
        let mut file_details = file_details;
        file_details.sort_by(|a, b| (a.directory, a.filename.as_bytes()).cmp(&(b.directory, b.filename.as_bytes())));
        let mut netblock_countries = netblock_countries;
        netblock_countries.sort_by(|a, b| a.netblock.as_bytes().cmp(b.netblock.as_bytes()));
        let mut continents = continents;
        continents.sort_by(|a, b| a.country.as_bytes().cmp(b.country.as_bytes()));
        Ok(Rows {
            hosts,
            peer_asns,
            allowed_countries,
            categories,
            directories,
            host_categories,
            urls,
            repositories,
            redirects,
            file_details,
            netblocks,
            netblock_countries,
            continents,
        })
    }
}
