-- Mirrorvane's database, SQLite flavour. The PostgreSQL flavour (../postgres/0001_schema.sql) has the same tables,
-- columns and constraints; only types and identity syntax differ (flags are INTEGER 0/1 here: sqlx's Any driver
-- cannot decode SQLite's BOOLEAN). Times are Unix seconds (BIGINT) everywhere, so
-- both engines read them the same way.
--
-- Departures from MirrorManager2's schema (reference §2), on purpose:
-- * host_category_dir (one row per host × directory, millions at Fedora scale) is replaced by directory_set:
--   a host category points at the set of directories it carries up to date (and the set it carries stale),
--   stored once, run-length encoded, and shared by every host category with the same state.
-- * category.topdir is the directory name, not a foreign key (a category exists before its first scan).
-- * A directory belongs to one category (MirrorManager's generator used only the first category_directory row).
-- * host_country_allowed is unique per (host, country), not per country across the table (a MirrorManager quirk).
-- * Site passwords are stored hashed.
-- * Unused tables are gone: site_to_site, location, host_location, host_stats, file_group,
--   file_detail_file_group, directory_exclusive_host (ignored by the Rust generator), and the internet2,
--   push_ssh_*, last_crawls and pickled config columns.

CREATE TABLE product (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    publiclist  INTEGER NOT NULL DEFAULT TRUE
);

CREATE TABLE category (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    product_id  BIGINT NOT NULL REFERENCES product(id),
    topdir      TEXT NOT NULL,
    publiclist  INTEGER NOT NULL DEFAULT TRUE,
    admin_only  INTEGER NOT NULL DEFAULT FALSE,
    -- Regular expressions (one per line) of paths the scanner skips, besides the standard ones.
    excludes    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE arch (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    publiclist    INTEGER NOT NULL DEFAULT TRUE,
    primary_arch  INTEGER NOT NULL DEFAULT TRUE
);

CREATE TABLE version (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id    BIGINT NOT NULL REFERENCES product(id),
    name          TEXT NOT NULL,
    codename      TEXT,
    is_test       INTEGER NOT NULL DEFAULT FALSE,
    display       INTEGER NOT NULL DEFAULT TRUE,
    display_name  TEXT,
    sortorder     BIGINT NOT NULL DEFAULT 0,
    UNIQUE (product_id, name)
);

CREATE TABLE directory (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    category_id  BIGINT NOT NULL REFERENCES category(id),
    ctime        BIGINT NOT NULL DEFAULT 0,
    readable     INTEGER NOT NULL DEFAULT TRUE,
    -- JSON array of {"name","size","timestamp"} sorted by name (the short list of reference §5.1).
    files        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX directory_category ON directory (category_id);

CREATE TABLE file_detail (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    directory_id  BIGINT NOT NULL REFERENCES directory(id) ON DELETE CASCADE,
    filename      TEXT NOT NULL,
    timestamp     BIGINT NOT NULL DEFAULT 0,
    size          BIGINT NOT NULL DEFAULT 0,
    md5           TEXT,
    sha1          TEXT,
    sha256        TEXT,
    sha512        TEXT
);
CREATE INDEX file_detail_file ON file_detail (directory_id, filename);

CREATE TABLE repository (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    prefix        TEXT,
    category_id   BIGINT NOT NULL REFERENCES category(id),
    version_id    BIGINT NOT NULL REFERENCES version(id),
    arch_id       BIGINT NOT NULL REFERENCES arch(id),
    directory_id  BIGINT NOT NULL REFERENCES directory(id) ON DELETE CASCADE,
    disabled      INTEGER NOT NULL DEFAULT FALSE,
    UNIQUE (prefix, arch_id)
);
CREATE INDEX repository_directory ON repository (directory_id);

CREATE TABLE repository_redirect (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    from_repo  TEXT NOT NULL UNIQUE,
    to_repo    TEXT NOT NULL
);

CREATE TABLE site (
    id                          INTEGER PRIMARY KEY AUTOINCREMENT,
    name                        TEXT NOT NULL UNIQUE,
    -- PHC string (argon2id); NULL = no check-in password set.
    password_hash               TEXT,
    org_url                     TEXT NOT NULL DEFAULT '',
    private                     INTEGER NOT NULL DEFAULT FALSE,
    admin_active                INTEGER NOT NULL DEFAULT TRUE,
    user_active                 INTEGER NOT NULL DEFAULT TRUE,
    created_at                  BIGINT NOT NULL DEFAULT 0,
    created_by                  TEXT NOT NULL DEFAULT '',
    all_sites_can_pull_from_me  INTEGER NOT NULL DEFAULT FALSE,
    downstream_comments         TEXT NOT NULL DEFAULT '',
    email_on_drop               INTEGER NOT NULL DEFAULT FALSE,
    email_on_add                INTEGER NOT NULL DEFAULT FALSE
);

CREATE TABLE site_admin (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id   BIGINT NOT NULL REFERENCES site(id) ON DELETE CASCADE,
    username  TEXT NOT NULL,
    UNIQUE (site_id, username)
);

CREATE TABLE host (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id              BIGINT NOT NULL REFERENCES site(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    robot_email          TEXT NOT NULL DEFAULT '',
    comment              TEXT NOT NULL DEFAULT '',
    admin_active         INTEGER NOT NULL DEFAULT TRUE,
    user_active          INTEGER NOT NULL DEFAULT TRUE,
    country              TEXT NOT NULL,
    bandwidth_int        BIGINT NOT NULL DEFAULT 100,
    max_connections      BIGINT NOT NULL DEFAULT 1,
    private              INTEGER NOT NULL DEFAULT FALSE,
    asn                  BIGINT,
    asn_clients          INTEGER NOT NULL DEFAULT TRUE,
    last_crawled         BIGINT,
    last_crawl_duration  BIGINT NOT NULL DEFAULT 0,
    crawl_failures       BIGINT NOT NULL DEFAULT 0,
    disable_reason       TEXT NOT NULL DEFAULT '',
    last_checked_in      BIGINT,
    latitude             REAL,
    longitude            REAL,
    -- Reachability per address family as the crawlers last measured it; NULL = not measured.
    ipv4_reachable       INTEGER,
    ipv6_reachable       INTEGER,
    UNIQUE (site_id, name)
);

-- A set of directory ids, run-length encoded (see backend/src/db/directory_set.rs), stored once per distinct
-- content: thousands of host categories share a handful of states.
CREATE TABLE directory_set (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    digest   TEXT NOT NULL UNIQUE,
    members  BLOB NOT NULL,
    count    BIGINT NOT NULL
);

CREATE TABLE host_category (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id          BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    category_id      BIGINT NOT NULL REFERENCES category(id),
    always_up2date   INTEGER NOT NULL DEFAULT FALSE,
    -- Directories carried up to date / carried but stale; NULL = none known.
    up2date_set_id   BIGINT REFERENCES directory_set(id),
    stale_set_id     BIGINT REFERENCES directory_set(id),
    checked_at       BIGINT,
    UNIQUE (host_id, category_id)
);

CREATE TABLE host_category_url (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    host_category_id  BIGINT NOT NULL REFERENCES host_category(id) ON DELETE CASCADE,
    url               TEXT NOT NULL UNIQUE,
    private           INTEGER NOT NULL DEFAULT FALSE
);
CREATE INDEX host_category_url_hc ON host_category_url (host_category_id);

CREATE TABLE host_netblock (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id   BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    netblock  TEXT NOT NULL,
    name      TEXT NOT NULL DEFAULT '',
    UNIQUE (host_id, netblock)
);

CREATE TABLE host_peer_asn (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id  BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    asn      BIGINT NOT NULL,
    name     TEXT NOT NULL DEFAULT '',
    UNIQUE (host_id, asn)
);

CREATE TABLE host_country_allowed (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id  BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    country  TEXT NOT NULL,
    UNIQUE (host_id, country)
);

-- Extra countries a host serves, for the public mirror list only (not the mirrorlist).
CREATE TABLE host_country (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id  BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    country  TEXT NOT NULL,
    UNIQUE (host_id, country)
);

-- IPs allowed to rsync from the primary mirror (MirrorManager's MASTER_RSYNC_ACL).
CREATE TABLE host_acl_ip (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id  BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    ip       TEXT NOT NULL UNIQUE
);

CREATE TABLE country (
    code  TEXT PRIMARY KEY
);

CREATE TABLE country_continent_redirect (
    country    TEXT PRIMARY KEY,
    continent  TEXT NOT NULL
);

CREATE TABLE netblock_country (
    netblock  TEXT PRIMARY KEY,
    country   TEXT NOT NULL
);

CREATE TABLE embargoed_country (
    country_code  TEXT PRIMARY KEY
);

CREATE TABLE access_stat_category (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    name  TEXT NOT NULL UNIQUE
);

CREATE TABLE access_stat (
    category_id  BIGINT NOT NULL REFERENCES access_stat_category(id),
    date         TEXT NOT NULL,
    name         TEXT NOT NULL,
    percent      REAL NOT NULL DEFAULT 0,
    requests     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (category_id, date, name)
);

CREATE TABLE propagation_stat (
    repository_id  BIGINT NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
    datetime       BIGINT NOT NULL,
    same_day       BIGINT NOT NULL DEFAULT 0,
    one_day        BIGINT NOT NULL DEFAULT 0,
    two_day        BIGINT NOT NULL DEFAULT 0,
    older          BIGINT NOT NULL DEFAULT 0,
    no_info        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (repository_id, datetime)
);
