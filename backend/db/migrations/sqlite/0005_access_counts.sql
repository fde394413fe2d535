-- Usage statistics from the edges' access logs (`mirrorvane stats ingest`).
--
-- access_count holds each log file's own counts per day, keyed by the file's identity (a digest of its first
-- lines, so a rotated or grown copy of the same file replaces its earlier counts instead of adding to them).
-- access_stat (MirrorManager's table, per day and kind) is the sum over files, rebuilt for the days an ingest
-- touched; the statistics pages read it.

CREATE TABLE access_count (
    source    TEXT NOT NULL,
    day       TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    requests  BIGINT NOT NULL,
    PRIMARY KEY (source, day, kind, name)
);
CREATE INDEX access_count_day ON access_count (day);
