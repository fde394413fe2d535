-- Crawlers, check-in and propagation: see ../postgres/0002_crawl.sql for what each change is for. SQLite cannot
-- alter a column's constraint, so repository is rebuilt; propagation_stat's rows are moved aside meanwhile, since
-- dropping the old table would delete them by cascade.

ALTER TABLE version ADD COLUMN current INTEGER NOT NULL DEFAULT FALSE;

CREATE TEMPORARY TABLE propagation_stat_saved AS SELECT * FROM propagation_stat;
DELETE FROM propagation_stat;

CREATE TABLE repository_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    prefix        TEXT,
    category_id   BIGINT NOT NULL REFERENCES category(id),
    version_id    BIGINT NOT NULL REFERENCES version(id),
    arch_id       BIGINT NOT NULL REFERENCES arch(id),
    directory_id  BIGINT REFERENCES directory(id) ON DELETE SET NULL,
    disabled      INTEGER NOT NULL DEFAULT FALSE,
    UNIQUE (prefix, arch_id)
);
INSERT INTO repository_new (id, name, prefix, category_id, version_id, arch_id, directory_id, disabled)
    SELECT id, name, prefix, category_id, version_id, arch_id, directory_id, disabled FROM repository;
DROP TABLE repository;
ALTER TABLE repository_new RENAME TO repository;
CREATE INDEX repository_directory ON repository (directory_id);

INSERT INTO propagation_stat SELECT * FROM propagation_stat_saved;
DROP TABLE propagation_stat_saved;

CREATE TABLE crawl_lease (
    host_id     BIGINT PRIMARY KEY REFERENCES host(id) ON DELETE CASCADE,
    owner       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE crawl_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id      BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    crawler      TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT NOT NULL,
    outcome      TEXT NOT NULL,
    requests     BIGINT NOT NULL DEFAULT 0,
    text         TEXT NOT NULL
);
CREATE INDEX crawl_log_host ON crawl_log (host_id, id);

CREATE TABLE repomd_observation (
    host_id            BIGINT NOT NULL REFERENCES host(id) ON DELETE CASCADE,
    directory_id       BIGINT NOT NULL REFERENCES directory(id) ON DELETE CASCADE,
    observed_at        BIGINT NOT NULL,
    matched_timestamp  BIGINT,
    PRIMARY KEY (host_id, directory_id)
);
