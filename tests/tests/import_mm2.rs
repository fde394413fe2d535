//! `import-mm2`: a MirrorManager2 PostgreSQL database (schema `fixtures/mm2_schema.sql`, a small but realistic
//! scenario) imported into SQLite and PostgreSQL.
//!
//! The differential check: from the same MirrorManager database, [`reference_cache`] writes the protobuf cache
//! MirrorManager's generator would write (reference §4.2, its queries and rules re-done here with plain SQL),
//! `mm2::convert` turns it into snapshot A; the import followed by `builder::build` gives snapshot B; every probe
//! must be answered byte for byte alike. Then the report (counts, skip reasons), the refusals, and what the
//! differential scenario has to leave out (peer ASNs) on its own.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use mirrorvane_builder::{self as builder, Options};
use mirrorvane_db::testing::{Scratch, TestDb, run};
use mirrorvane_db::{Engine, Flag, engine_tests};
use mirrorvane_mm2 as mm2;
use mirrorvane_mm2::import::mm2db::{self, ImportError, Report};
use mirrorvane_mm2::proto::{
    FileDetailsCacheDirectoryType, FileDetailsCacheFilesType, FileDetailsType, IntIntMap, IntRepeatedIntMap,
    IntRepeatedStringMap, IntStringMap, MirrorList, MirrorListCacheType, StringBoolMap, StringRepeatedIntMap,
    StringStringMap,
};
use mirrorvane_selector::{ClientGeo, CountryCode, Selector};
use mirrorvane_testkit::compare::{first_difference, probes};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

const SCHEMA: &str = include_str!("fixtures/mm2_schema.sql");
const CREATED: u64 = 1_790_000_000;

fn hex(c: char, len: usize) -> String {
    std::iter::repeat_n(c, len).collect()
}

/// The scenario. Every line says what it exercises.
fn scenario() -> String {
    let (md5, sha1, sha256, sha512) = (hex('a', 32), hex('b', 40), hex('c', 64), hex('d', 128));
    let old256 = hex('e', 64);
    format!(
        "
INSERT INTO product (id, name) VALUES (1, 'Fedora'), (2, 'EPEL');
INSERT INTO directory (id, name, files, ctime) VALUES
  (1, 'pub/fedora/linux', NULL, 0),
  (2, 'pub/fedora/linux/releases/41/Everything/x86_64/os', convert_to('[{{\"name\": \"README\", \"size\": 10, \"timestamp\": 1700000000}}]', 'UTF8'), 1700000000),
  (3, 'pub/fedora/linux/releases/41/Everything/x86_64/os/repodata', NULL, 1700000000),
  (4, 'pub/fedora/linux/updates/41/Everything/x86_64', NULL, 1700000500),
  (5, 'pub/fedora/linux/updates/41/Everything/x86_64/repodata', NULL, 1700000500),
  (6, 'pub/epel', NULL, 0),
  (7, 'pub/epel/9/Everything/x86_64', NULL, 1700000600),
  (8, 'pub/epel/9/Everything/x86_64/repodata', NULL, 1700000600),
  (9, 'pub/fedora/linux/updates/testing/41/Everything/x86_64', NULL, 1700000700),
  (10, 'pub/fedora/linux/updates/testing/41/Everything/x86_64/repodata', NULL, 1700000700),
  (11, 'pub/alt/stage', NULL, 0);
-- Category 3 has no top directory: skipped, and with it directory 11 (in no other category) and host category 10.
INSERT INTO category (id, name, product_id, topdir_id) VALUES
  (1, 'Fedora Linux', 1, 1), (2, 'Fedora EPEL', 2, 6), (3, 'Fedora Alt', 1, NULL);
-- Directory 2 is also listed in EPEL: the first row (lowest category id) wins, as in the generator.
INSERT INTO category_directory (category_id, directory_id) VALUES
  (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 9), (1, 10), (2, 6), (2, 7), (2, 8), (2, 2), (3, 11);
INSERT INTO arch (id, name) VALUES (1, 'x86_64'), (2, 'source');
INSERT INTO version (id, name, product_id) VALUES (1, '41', 1), (2, '9', 2);
INSERT INTO repository (id, name, prefix, category_id, version_id, arch_id, directory_id, disabled) VALUES
  (1, 'pub/fedora/linux/releases/41/Everything/x86_64/os', 'fedora-41', 1, 1, 1, 2, FALSE),
  (2, 'pub/fedora/linux/updates/41/Everything/x86_64', 'updates-released-f41', 1, 1, 1, 4, FALSE),
  (3, 'pub/epel/9/Everything/x86_64', 'epel-9', 2, 2, 1, 7, FALSE),
  -- disabled repository
  (4, 'pub/fedora/linux/updates/testing/41/Everything/x86_64', 'updates-testing-f41', 1, 1, 1, 9, TRUE),
  -- no directory: the generator ignores it, the import skips it
  (5, 'fedora-source-41', 'fedora-source-41', 1, 1, 2, NULL, FALSE);
INSERT INTO repository_redirect (id, from_repo, to_repo) VALUES
  (1, 'fedora-latest', 'fedora-41'), (2, 'epel-nothing', NULL);
-- repomd.xml with an older alternate
INSERT INTO file_detail (id, directory_id, filename, timestamp, size, md5, sha1, sha256, sha512) VALUES
  (1, 3, 'repomd.xml', 1700000000, 3000, '{md5}', '{sha1}', '{sha256}', '{sha512}'),
  (2, 3, 'repomd.xml', 1690000000, 2900, NULL, NULL, '{old256}', NULL),
  (3, 5, 'repomd.xml', 1700001000, 4000, NULL, NULL, '{sha256}', '{sha512}'),
  (4, 8, 'repomd.xml', 1700002000, 5000, '{md5}', NULL, '{sha256}', NULL),
  (5, 10, 'repomd.xml', 1700003000, 6000, NULL, NULL, '{old256}', NULL),
  (6, 5, 'updateinfo.xml.zst', NULL, NULL, NULL, NULL, '{old256}', NULL);
INSERT INTO site (id, name, password, org_url, private, admin_active, created_at) VALUES
  (1, 'University Mirror', 'secret-1', 'https://uni.example', FALSE, TRUE, '2015-03-01 12:00:00'),
  -- private site
  (2, 'Corp Internal', 'corp-pw', NULL, TRUE, TRUE, '2016-01-01 00:00:00'),
  -- same name as site 1: renamed for our unique site names
  (4, 'University Mirror', NULL, NULL, FALSE, TRUE, '2017-01-01 00:00:00'),
  -- disabled by the admins: its hosts are inactive
  (5, 'Dropped Site', '', NULL, FALSE, FALSE, '2018-01-01 00:00:00');
INSERT INTO site_admin (id, username, site_id) VALUES (1, 'alice', 1), (2, 'bob', 2), (3, 'carol', NULL);
INSERT INTO host (id, name, site_id, country, bandwidth_int, asn, asn_clients, private, user_active, last_crawled, latitude, longitude) VALUES
  (1, 'mirror.uni.example.de', 1, 'de', 1000, 680, TRUE, FALSE, TRUE, '2026-11-25 10:00:00', 52.5, 13.4),
  (2, 'mirror.example.us', 1, 'US', 100, NULL, TRUE, FALSE, TRUE, NULL, NULL, NULL),
  -- private through its site, reached by netblocks (CIDR and bare IP) and its ASN
  (3, 'internal.corp.example.se', 2, 'SE', 10, 64500, TRUE, FALSE, TRUE, NULL, NULL, NULL),
  -- inactive host (crawler disabled it): its netblock must not count
  (4, 'inactive.example.fr', 1, 'FR', 100, NULL, TRUE, FALSE, FALSE, NULL, NULL, NULL),
  -- netblock in dotted-mask form, allowed countries, bandwidth above the clamp
  (5, 'fast.example.de', 4, 'DE', 50000, NULL, TRUE, FALSE, TRUE, NULL, NULL, NULL),
  -- always up to date, ASN clients
  (6, 'cache.example.jp', 1, 'JP', 500, 2500, TRUE, FALSE, TRUE, NULL, NULL, NULL),
  -- no site: skipped
  (7, 'nosite.example', NULL, 'CA', 100, NULL, TRUE, FALSE, TRUE, NULL, NULL, NULL),
  (8, 'mirror.dropped.example.br', 5, 'BR', 100, NULL, TRUE, FALSE, TRUE, NULL, NULL, NULL),
  -- ASN not offered (asn_clients off)
  (9, 'mirror.example.at', 1, 'AT', 200, 1853, FALSE, FALSE, TRUE, NULL, NULL, NULL);
INSERT INTO host_category (id, host_id, category_id, always_up2date) VALUES
  (1, 1, 1, FALSE), (2, 1, 2, FALSE), (3, 2, 1, FALSE), (4, 3, 1, FALSE), (5, 4, 1, FALSE), (6, 5, 1, FALSE),
  (7, 6, 1, TRUE), (8, 8, 1, FALSE), (9, 7, 1, FALSE), (10, 3, 3, FALSE), (11, 9, 1, FALSE), (12, 9, 2, FALSE);
INSERT INTO host_category_dir (host_category_id, path, up2date, directory_id) VALUES
  (1, '', TRUE, 1), (1, 'releases/41/Everything/x86_64/os', TRUE, 2),
  (1, 'releases/41/Everything/x86_64/os/repodata', TRUE, 3), (1, 'updates/41/Everything/x86_64', TRUE, 4),
  (1, 'updates/41/Everything/x86_64/repodata', TRUE, 5), (1, 'updates/testing/41/Everything/x86_64', TRUE, 9),
  (1, 'updates/testing/41/Everything/x86_64/repodata', TRUE, 10),
  -- an EPEL directory marked under the Fedora category: counts for neither
  (1, 'epel/9/Everything/x86_64', TRUE, 7),
  (2, '', TRUE, 6), (2, '9/Everything/x86_64', TRUE, 7), (2, '9/Everything/x86_64/repodata', TRUE, 8),
  -- directory 2 belongs to Fedora Linux: a mark under EPEL does not count
  (2, 'x', TRUE, 2),
  (3, 'releases/41/Everything/x86_64/os', TRUE, 2), (3, 'releases/41/Everything/x86_64/os/repodata', TRUE, 3),
  -- stale directories: kept as the stale set, not offered
  (3, 'updates/41/Everything/x86_64', FALSE, 4), (3, 'updates/41/Everything/x86_64/repodata', FALSE, 5),
  (4, 'releases/41/Everything/x86_64/os', TRUE, 2), (4, 'releases/41/Everything/x86_64/os/repodata', TRUE, 3),
  (4, 'updates/41/Everything/x86_64', TRUE, 4), (4, 'updates/41/Everything/x86_64/repodata', TRUE, 5),
  (5, 'releases/41/Everything/x86_64/os', TRUE, 2), (5, 'releases/41/Everything/x86_64/os/repodata', TRUE, 3),
  (6, 'releases/41/Everything/x86_64/os', TRUE, 2), (6, 'releases/41/Everything/x86_64/os/repodata', TRUE, 3),
  (6, 'updates/41/Everything/x86_64', TRUE, 4), (6, 'updates/41/Everything/x86_64/repodata', TRUE, 5),
  -- a row whose directory is gone (NULL directory_id): skipped. Not up to date, so MirrorManager's generator
  -- (which declares the column NOT NULL and reads only up-to-date rows) still runs.
  (6, 'old/leftover', FALSE, NULL),
  (8, 'releases/41/Everything/x86_64/os', TRUE, 2), (8, 'releases/41/Everything/x86_64/os/repodata', TRUE, 3),
  (11, 'releases/41/Everything/x86_64/os', TRUE, 2), (11, 'releases/41/Everything/x86_64/os/repodata', TRUE, 3),
  (12, '9/Everything/x86_64', TRUE, 7), (12, '9/Everything/x86_64/repodata', TRUE, 8);
INSERT INTO host_category_url (id, host_category_id, url, private) VALUES
  (1, 1, 'http://mirror.uni.example.de/fedora/linux', FALSE),
  (2, 1, 'https://mirror.uni.example.de/fedora/linux', FALSE),
  -- private URL (rsync for downstream mirrors): imported, never offered
  (3, 1, 'rsync://mirror.uni.example.de/fedora-linux', TRUE),
  (4, 2, 'https://mirror.uni.example.de/epel', FALSE),
  (5, 3, 'http://mirror.example.us/pub/fedora/linux', FALSE),
  (6, 4, 'http://internal.corp.example.se/fedora', FALSE),
  (7, 5, 'http://inactive.example.fr/fedora', FALSE),
  (8, 6, 'https://fast.example.de/fedora', FALSE),
  (9, 6, 'ftp://fast.example.de/fedora', FALSE),
  (10, 7, 'https://cache.example.jp/fedora', FALSE),
  (11, 8, 'http://mirror.dropped.example.br/fedora', FALSE),
  (12, 9, 'http://nosite.example/fedora', FALSE),
  (13, 11, 'https://mirror.example.at/fedora/linux', FALSE),
  (14, 12, 'https://mirror.example.at/epel', FALSE);
INSERT INTO host_netblock (id, host_id, netblock, name) VALUES
  (1, 3, '192.0.2.0/24', 'corp lan'), (2, 3, '198.51.100.7', NULL),
  (3, 5, '203.0.113.0/255.255.255.0', 'customers'), (4, 4, '10.0.0.0/8', 'inactive'),
  (5, 1, '2001:db8::/32', 'uni v6');
INSERT INTO host_country_allowed (id, host_id, country) VALUES (1, 5, 'DE'), (2, 5, 'at');
INSERT INTO country (id, code) VALUES (1, 'AT'), (2, 'DE'), (3, 'US');
INSERT INTO host_country (id, host_id, country_id) VALUES (1, 1, 1);
INSERT INTO country_continent_redirect (id, country, continent) VALUES (1, 'IL', 'EU');
INSERT INTO netblock_country (id, netblock, country) VALUES (1, '198.18.0.0/15', 'JP');
INSERT INTO embargoed_country (id, country_code) VALUES (1, 'KP'), (2, 'SY');
"
    )
}

/// A MirrorManager database with the schema and `data`, dropped with the value.
struct MmDb {
    url: String,
    pool: PgPool,
    _scratch: Scratch,
}

impl MmDb {
    async fn new(data: &str) -> MmDb {
        let scratch = Scratch::new(Engine::Postgres).await;
        let url = scratch.url.clone();
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .expect("connect to MM2 database");
        sqlx::raw_sql(SCHEMA).execute(&pool).await.expect("MM2 schema");
        sqlx::raw_sql(data).execute(&pool).await.expect("MM2 scenario");
        MmDb {
            url,
            pool,
            _scratch: scratch,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The reference: MirrorManager's generate-mirrorlist-cache (reference §4.2), queries and rules as specified.
// ---------------------------------------------------------------------------------------------------------

/// `parse_ip` of the generator: CIDR as is, a bare address as a host route, `a.b.c.d/255.255.255.0` with the
/// mask turned into a prefix length; anything else (DNS names) is not in this scenario.
fn parse_netblock(text: &str) -> Option<ipnet::IpNet> {
    let (addr, len) = match text.split_once('/') {
        None => {
            let ip: IpAddr = text.parse().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
        Some((addr, mask)) => {
            let ip: IpAddr = addr.parse().ok()?;
            let len = match mask.parse::<Ipv4Addr>() {
                Ok(m) => u32::from(m).leading_ones() as u8,
                Err(_) => mask.parse().ok()?,
            };
            (ip, len)
        }
    };
    Some(ipnet::IpNet::new(addr, len).ok()?.trunc())
}

async fn rows(pool: &PgPool, sql: &str) -> Vec<sqlx::postgres::PgRow> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The cache MirrorManager's generator writes for the database behind `pool`.
async fn reference_cache(pool: &PgPool) -> MirrorList {
    struct H {
        active: bool,
        private: bool,
        country: String,
    }
    let mut cache = MirrorList {
        time: Some(CREATED),
        ..MirrorList::default()
    };
    // host ⋈ site
    let mut hosts: BTreeMap<i64, H> = BTreeMap::new();
    for r in rows(
        pool,
        "SELECT h.id::bigint, s.user_active, h.user_active, h.admin_active, h.bandwidth_int::bigint, h.country, \
         h.asn_clients, h.asn::bigint, h.max_connections::bigint, s.admin_active, h.private, s.private \
         FROM host h JOIN site s ON s.id = h.site_id ORDER BY h.id",
    )
    .await
    {
        let id: i64 = r.get(0);
        let active = r.get::<bool, _>(1) && r.get::<bool, _>(2) && r.get::<bool, _>(3) && r.get::<bool, _>(9);
        let country = r.get::<String, _>(5).to_uppercase();
        cache.host_bandwidth_cache.push(IntIntMap {
            key: id,
            value: r.get::<i64, _>(4).clamp(1, 10_000),
        });
        cache.host_country_cache.push(IntStringMap {
            key: id,
            value: country.clone(),
        });
        cache.host_max_connection_cache.push(IntIntMap {
            key: id,
            value: r.get(8),
        });
        if r.get::<bool, _>(6)
            && let Some(asn) = r.get::<Option<i64>, _>(7)
        {
            match cache.host_asn_cache.iter_mut().find(|e| e.key == asn) {
                Some(e) => e.value.push(id),
                None => cache.host_asn_cache.push(IntRepeatedIntMap {
                    key: asn,
                    value: vec![id],
                }),
            }
        }
        hosts.insert(
            id,
            H {
                active,
                private: r.get::<bool, _>(10) || r.get::<bool, _>(11),
                country,
            },
        );
    }
    for r in rows(
        pool,
        "SELECT host_id::bigint, country FROM host_country_allowed ORDER BY id",
    )
    .await
    {
        let host: i64 = r.get(0);
        if !hosts.get(&host).is_some_and(|h| h.active) {
            continue;
        }
        let country = r.get::<String, _>(1).to_uppercase();
        match cache.host_country_allowed_cache.iter_mut().find(|e| e.key == host) {
            Some(e) => e.value.push(country),
            None => cache.host_country_allowed_cache.push(IntRepeatedStringMap {
                key: host,
                value: vec![country],
            }),
        }
    }
    let mut netblocks: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in rows(pool, "SELECT host_id::bigint, netblock FROM host_netblock ORDER BY id").await {
        let host: i64 = r.get(0);
        if !hosts.get(&host).is_some_and(|h| h.active) {
            continue;
        }
        if let Some(net) = parse_netblock(&r.get::<String, _>(1)) {
            netblocks.entry(net.to_string()).or_default().push(host);
        }
    }
    cache.host_netblock_cache = netblocks
        .into_iter()
        .map(|(key, value)| StringRepeatedIntMap { key, value })
        .collect();
    let mut urls_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in rows(
        pool,
        "SELECT id::bigint, host_category_id::bigint, url FROM host_category_url WHERE private = false ORDER BY id",
    )
    .await
    {
        let id: i64 = r.get(0);
        urls_of.entry(r.get(1)).or_default().push(id);
        cache.hc_url_cache.push(IntStringMap {
            key: id,
            value: r.get(2),
        });
    }

    // Directories of categories that have a top directory; the first category_directory row wins.
    let topdir: BTreeMap<i64, String> = rows(
        pool,
        "SELECT c.id::bigint, d.name FROM category c JOIN directory d ON d.id = c.topdir_id ORDER BY c.id",
    )
    .await
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let mut category_of: BTreeMap<i64, i64> = BTreeMap::new();
    for r in rows(
        pool,
        "SELECT category_id::bigint, directory_id::bigint FROM category_directory ORDER BY directory_id, category_id",
    )
    .await
    {
        category_of.entry(r.get(1)).or_insert(r.get(0));
    }
    // (id, host, category, always)
    let host_categories: Vec<(i64, i64, i64, bool)> = rows(
        pool,
        "SELECT id::bigint, host_id::bigint, category_id::bigint, always_up2date FROM host_category ORDER BY id",
    )
    .await
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    let up2date: std::collections::BTreeSet<(i64, i64)> = rows(
        pool,
        "SELECT host_category_id::bigint, directory_id::bigint FROM host_category_dir WHERE up2date = true",
    )
    .await
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let directories: Vec<(i64, String)> = rows(pool, "SELECT id::bigint, name FROM directory ORDER BY id")
        .await
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (dir, name) in &directories {
        let Some(category) = category_of.get(dir) else { continue };
        let Some(top) = topdir.get(category) else { continue };
        let subpath = if top.is_empty() {
            name.clone()
        } else if name == top {
            String::new()
        } else {
            name.strip_prefix(&format!("{top}/")).unwrap_or(name).to_owned()
        };
        let mut entry = MirrorListCacheType {
            directory: name.clone(),
            subpath: Some(subpath),
            ..Default::default()
        };
        for &(hc, host, hc_category, always) in &host_categories {
            if hc_category != *category || !(always || up2date.contains(&(hc, *dir))) {
                continue;
            }
            // A host category of a host outside host ⋈ site would take the generator's first-host fallback
            // (§4.3); the scenario's only such row (host 7) carries nothing, so it never gets here.
            let Some(h) = hosts.get(&host) else { continue };
            if !h.active {
                continue;
            }
            if let Some(ids) = urls_of.get(&hc).filter(|ids| !ids.is_empty()) {
                entry.by_host_id.push(IntRepeatedIntMap {
                    key: host,
                    value: ids.clone(),
                });
            }
            if h.private {
                continue;
            }
            entry.global.push(host);
            match entry.by_country.iter_mut().find(|e| e.key == h.country) {
                Some(e) => e.value.push(host),
                None => entry.by_country.push(StringRepeatedIntMap {
                    key: h.country.clone(),
                    value: vec![host],
                }),
            }
        }
        cache.mirror_list_cache.push(entry);
    }

    // File details, newest first.
    let mut files: BTreeMap<i64, Vec<FileDetailsCacheFilesType>> = BTreeMap::new();
    for r in rows(
        pool,
        "SELECT directory_id::bigint, filename, COALESCE(timestamp, 0), COALESCE(size, 0), sha1, md5, sha256, sha512 \
         FROM file_detail ORDER BY timestamp DESC NULLS LAST, id",
    )
    .await
    {
        let detail = FileDetailsType {
            time_stamp: r.get::<i64, _>(2) as u64,
            size: r.get::<i64, _>(3) as u64,
            sha1: r.get(4),
            md5: r.get(5),
            sha256: r.get(6),
            sha512: r.get(7),
        };
        let list = files.entry(r.get(0)).or_default();
        let filename: String = r.get(1);
        match list.iter_mut().find(|f| f.filename == filename) {
            Some(f) => f.file_details.push(detail),
            None => list.push(FileDetailsCacheFilesType {
                filename,
                file_details: vec![detail],
            }),
        }
    }
    for (dir, list) in files {
        let name = directories
            .iter()
            .find(|d| d.0 == dir)
            .map(|d| d.1.clone())
            .unwrap_or_default();
        cache.file_details_cache.push(FileDetailsCacheDirectoryType {
            directory: name,
            file_details_cache_files: list,
        });
    }

    for r in rows(
        pool,
        "SELECT r.prefix, a.name, d.name, r.disabled FROM repository r JOIN arch a ON a.id = r.arch_id \
         JOIN directory d ON d.id = r.directory_id WHERE r.version_id IS NOT NULL ORDER BY d.id, r.id",
    )
    .await
    {
        let Some(prefix) = r.get::<Option<String>, _>(0).filter(|p| !p.is_empty()) else {
            continue;
        };
        let arch: String = r.get(1);
        cache.repo_arch_to_directory_name.push(StringStringMap {
            key: format!("{prefix}+{arch}"),
            value: r.get(2),
        });
        if r.get::<bool, _>(3) {
            cache.disabled_repository_cache.push(StringBoolMap {
                key: prefix,
                value: true,
            });
        }
    }
    for r in rows(
        pool,
        "SELECT from_repo, to_repo FROM repository_redirect WHERE to_repo IS NOT NULL ORDER BY id",
    )
    .await
    {
        cache.repository_redirect_cache.push(StringStringMap {
            key: r.get(0),
            value: r.get(1),
        });
    }
    for r in rows(
        pool,
        "SELECT country, continent FROM country_continent_redirect ORDER BY id",
    )
    .await
    {
        cache.country_continent_redirect_cache.push(StringStringMap {
            key: r.get(0),
            value: r.get(1),
        });
    }
    for r in rows(pool, "SELECT netblock, country FROM netblock_country ORDER BY id").await {
        cache.netblock_country_cache.push(StringStringMap {
            key: r.get(0),
            value: r.get(1),
        });
    }
    cache
}

// ---------------------------------------------------------------------------------------------------------

fn code(s: &str) -> Option<CountryCode> {
    CountryCode::parse(s)
}

/// Where the scenario's clients are: netblock members, ASN members, and plain countries.
fn locate(ip: IpAddr) -> ClientGeo {
    let s = ip.to_string();
    let (country, asn) = match s.as_str() {
        "192.0.2.10" | "198.51.100.7" => ("SE", Some(64500)),
        "203.0.113.5" => ("DE", None),
        "10.1.2.3" => ("FR", None),
        "198.18.0.1" => ("US", None),
        "100.64.0.1" => ("DE", Some(680)),
        "100.64.0.2" => ("US", Some(2500)),
        "100.64.0.3" => ("AT", Some(1853)),
        "100.64.0.4" => ("US", None),
        "100.64.0.5" => ("BR", None),
        "100.64.0.6" => ("AT", None),
        "100.64.0.7" => ("IL", None),
        "100.64.0.8" => ("ZA", None),
        "2001:db8::1" => ("DE", None),
        _ => ("AU", None),
    };
    ClientGeo {
        country: code(country),
        continent: None,
        asn,
    }
}

fn clients() -> Vec<IpAddr> {
    [
        "192.0.2.10",
        "198.51.100.7",
        "203.0.113.5",
        "10.1.2.3",
        "198.18.0.1",
        "100.64.0.1",
        "100.64.0.2",
        "100.64.0.3",
        "100.64.0.4",
        "100.64.0.5",
        "100.64.0.6",
        "100.64.0.7",
        "100.64.0.8",
        "2001:db8::1",
        "100.64.0.9",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

engine_tests! {
    /// The import of the scenario answers every probe exactly like MirrorManager's cache of the same database.
    ///
    /// Intended differences kept out of this scenario and tested on their own: host_peer_asn rows (our builder
    /// offers them, the Rust generator ignores them; hosts get ASNs here only through host.asn), and invalid rows
    /// MirrorManager accepts silently (our builder refuses them). The generator's first-host fallback for host
    /// categories of unknown hosts (§4.3) is not reproduced: the scenario's such row carries nothing.
    async fn imported_database_answers_like_mirrormanagers_cache(t) {
        let engine = t.engine();
        let mm = MmDb::new(&scenario()).await;
        let cache = reference_cache(&mm.pool).await;
        let conversion = mm2::convert(&cache).expect("reference cache converts");
        let a = conversion.snapshot;
        assert_eq!(a.created, CREATED);
        let reference = Selector::new(a.clone()).expect("reference loads");
        let corpus = probes(&a, &clients(), 50);
        assert!(corpus.len() > 300, "{}", corpus.len());
        let report = mm2db::import(&t.db, &mm.url).await.expect("imports");
        let built = builder::build(
            &t.db,
            Options {
                created: a.created,
                resolve_names: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{engine:?}: builds: {e}"));
        let b = built.snapshot;
        assert_eq!(b.hosts.len(), a.hosts.len());
        assert_eq!(b.directories.len(), a.directories.len());
        let imported = Selector::new(b.clone()).expect("imported loads");
        let (ran, diff) = first_difference(&reference, &imported, &corpus, &locate, CREATED);
        assert!(diff.is_none(), "{}\n{report:#?}", diff.unwrap_or_default());
        assert_eq!(ran, corpus.len());
    }
}

fn has(report: &Report, line: &str) -> bool {
    report.skipped.iter().chain(&report.notes).any(|l| l == line)
}

engine_tests! {
    /// Counts, skip reasons, kept ids and flags, hashed passwords, directory sets; importing twice is refused.
    async fn report_ids_and_refusal(t) {
        let engine = t.engine();
        let mm = MmDb::new(&scenario()).await;
        let report = mm2db::import(&t.db, &mm.url).await.expect("imports");
        let counts: Vec<(&str, u64)> = [
            ("product", 2),
            ("category", 2),
            ("directory", 10),
            ("repository", 4),
            ("repository_redirect", 1),
            ("file_detail", 6),
            ("site", 4),
            ("site_admin", 2),
            ("host", 8),
            ("host_category", 10),
            ("host_category_url", 13),
            ("host_netblock", 5),
            ("host_country_allowed", 2),
            ("host_country", 1),
            ("country", 3),
            ("country_continent_redirect", 1),
            ("netblock_country", 1),
            ("embargoed_country", 2),
        ]
        .into();
        for (table, n) in counts {
            assert_eq!(report.count(table), n, "{engine:?} {table}: {report:#?}");
        }
        for line in [
            "category 3 (Fedora Alt): no top directory",
            "directory 11 (pub/alt/stage): in no category",
            "repository 5 (fedora-source-41): directory None not imported",
            "repository_redirect 2 (epel-nothing): no target",
            "site_admin 3 (carol): site None missing",
            "host 7 (nosite.example): site None missing",
            "host_category 9: host Some(7) unknown or not imported",
            "host_category 10: category Some(3) not imported",
            "host_category_url 12 (http://nosite.example/fedora): host category Some(9) not imported",
            "directory 2 (pub/fedora/linux/releases/41/Everything/x86_64/os) is in categories 1 and [2]; kept in 1",
            "site 4 (University Mirror): name already used; renamed to \"University Mirror (site 4)\"",
            "2 site passwords stored as argon2id hashes",
        ] {
            assert!(has(&report, line), "{engine:?}: missing {line:?} in {report:#?}");
        }
        assert!(
            report
                .skipped
                .iter()
                .any(|l| l.starts_with("host_category_dir ") && l.ends_with(": no directory_id"))
        );
        assert!(
            report
                .summary()
                .starts_with("imported from MirrorManager: 4 sites, 8 hosts, 2 categories"),
            "{}",
            report.summary()
        );

        let pool = t.db.pool();
        // Ids kept; flags and text as MirrorManager had them.
        let hosts = mirrorvane_db::sites::hosts(&mut t.db.acquire().await.unwrap()).await.unwrap();
        let host = &hosts[0];
        assert_eq!(host.id, 1);
        assert_eq!(host.name, "mirror.uni.example.de");
        assert_eq!(host.country, "de");
        assert_eq!(host.bandwidth_int, 1000);
        assert_eq!(host.asn, Some(680));
        let (last_crawled, latitude): (Option<i64>, Option<f64>) =
            sqlx::query_as("SELECT last_crawled, latitude FROM host WHERE id = 1")
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!((last_crawled, latitude), (Some(1_795_600_800), Some(52.5)));
        let active: Flag = sqlx::query_scalar("SELECT user_active FROM host WHERE id = 4")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(!bool::from(active));
        let private: Flag = sqlx::query_scalar("SELECT private FROM host_category_url WHERE id = 3")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(bool::from(private), "private URL kept private");
        let files: String = sqlx::query_scalar("SELECT files FROM directory WHERE id = 2")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(files.contains("README"));
        let (category, topdir): (i64, String) = sqlx::query_as(
            "SELECT category_id, topdir FROM directory d JOIN category c ON c.id = d.category_id WHERE d.id = 7",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!((category, topdir.as_str()), (2, "pub/epel"));

        // Passwords: hashed, verifiable, never stored in clear.
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM site WHERE id = 1")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(mirrorvane_db::password::matches(Some(hash.as_str()), "secret-1"));
        let none: Option<String> = sqlx::query_scalar("SELECT password_hash FROM site WHERE id = 5")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(none, None, "an empty password is no password");

        // Directory states: up to date and stale sets.
        let counts: (i64, i64) = sqlx::query_as(
            "SELECT u.count, s.count FROM host_category hc JOIN directory_set u ON u.id = hc.up2date_set_id \
             JOIN directory_set s ON s.id = hc.stale_set_id WHERE hc.id = 3",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(counts, (2, 2));

        // Identities moved past the imported ids.
        let id: i64 = sqlx::query_scalar("INSERT INTO site (name) VALUES ('new site') RETURNING id")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(id > 5, "{engine:?}: {id}");

        // A second import is refused and changes nothing.
        let again = mm2db::import(&t.db, &mm.url).await;
        assert!(matches!(again, Err(ImportError::NotEmpty(_))), "{again:?}");
        let hosts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM host")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(hosts, 8);
    }
}

/// Peer ASNs are imported and offered: an intended difference from MirrorManager's Rust generator (which
/// ignores host_peer_asn), hence kept out of the differential scenario.
#[test]
fn peer_asns_are_imported_and_honoured() {
    run(async {
        let data = format!(
            "{}\nINSERT INTO host_peer_asn (host_id, asn, name) VALUES (2, 65001, 'peer');",
            scenario()
        );
        let mm = MmDb::new(&data).await;
        let t = TestDb::new(Engine::Sqlite).await;
        let report = mm2db::import(&t.db, &mm.url).await.expect("imports");
        assert_eq!(report.count("host_peer_asn"), 1);
        let built = builder::build(
            &t.db,
            Options {
                created: CREATED,
                resolve_names: false,
            },
        )
        .await
        .expect("builds");
        let host = built.snapshot.hosts.iter().find(|h| h.id == 2).expect("host 2");
        assert_eq!(host.asns, vec![65001]);
    });
}

/// An unreachable or non-PostgreSQL source is a clear error and writes nothing; so is a database that is not
/// MirrorManager's. The command prints the summary and returns errors with their context.
#[test]
fn unusable_sources() {
    run(async {
        let t = TestDb::new(Engine::Sqlite).await;
        let err = mm2db::import(&t.db, "postgres://mm:secret@127.0.0.1:1/mirrormanager")
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ImportError::Connect { .. }), "{err:?}");
        assert!(
            text.contains("cannot connect to the MirrorManager database postgres://mm:***@127.0.0.1:1/mirrormanager"),
            "{text}"
        );
        let err = mm2db::import(&t.db, "sqlite://mm2.db").await.unwrap_err();
        assert!(matches!(err, ImportError::SourceUrl(_)), "{err:?}");

        // An empty PostgreSQL database: the first table is missing.
        let empty = Scratch::new(Engine::Postgres).await;
        let err = mm2db::import(&t.db, &empty.url).await.unwrap_err();
        assert!(
            err.to_string().contains("cannot read the MirrorManager database") && err.to_string().contains("(product)"),
            "{err}"
        );
        let products: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM product")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        assert_eq!(products, 0);
    });
}

/// Data MirrorManager accepts silently (a three-letter country, a directory outside its category's top
/// directory): an intended difference. The import carries it over and says so; the builder refuses to make a
/// snapshot from it, naming the row, where MirrorManager's generator would have written a cache anyway.
#[test]
fn invalid_rows_are_imported_noted_and_refused_by_the_builder() {
    run(async {
        let data = format!(
            "{}\nUPDATE host SET country = 'DEU' WHERE id = 2;\n\
             INSERT INTO directory (id, name) VALUES (20, 'elsewhere/41');\n\
             INSERT INTO category_directory (category_id, directory_id) VALUES (1, 20);",
            scenario()
        );
        let mm = MmDb::new(&data).await;
        // MirrorManager's generator still writes a cache.
        let cache = reference_cache(&mm.pool).await;
        assert!(cache.host_country_cache.iter().any(|e| e.key == 2 && e.value == "DEU"));
        let t = TestDb::new(Engine::Postgres).await;
        let report = mm2db::import(&t.db, &mm.url).await.expect("imports");
        for line in [
            "host 2 (mirror.example.us): country \"DEU\" is not a two-letter code; snapshots are refused until it is fixed",
            "directory 20 (elsewhere/41) is not below the top directory \"pub/fedora/linux\" of category 1; snapshots are refused until it is moved",
        ] {
            assert!(has(&report, line), "missing {line:?} in {report:#?}");
        }
        let err = builder::build(
            &t.db,
            Options {
                created: CREATED,
                resolve_names: false,
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, builder::BuildError::Inconsistent(_)), "{err}");
    });
}
