-- Scan safety: one scan per category at a time, and at most one row per version of a file.

-- Held by a running scan (`mirrorvane scan`); renewed while it runs, so a scanner that died frees it when
-- expires_at passes.
CREATE TABLE scan_lock (
    category    TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    taken_at    BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Two interleaved scans (before the lock) or a MirrorManager import could store one version of a file twice:
-- keep the oldest row of each, then let the index refuse more.
DELETE FROM file_detail WHERE id NOT IN (
    SELECT MIN(id) FROM file_detail
    GROUP BY directory_id, filename, timestamp, size, COALESCE(md5, ''), COALESCE(sha1, ''), COALESCE(sha256, ''),
             COALESCE(sha512, '')
);
CREATE UNIQUE INDEX file_detail_version ON file_detail (
    directory_id, filename, timestamp, size, COALESCE(md5, ''), COALESCE(sha1, ''), COALESCE(sha256, ''),
    COALESCE(sha512, '')
);
