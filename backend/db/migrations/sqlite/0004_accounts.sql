-- Accounts for the web UI and the API: who may change what, and a record of every change.
--
-- * account: a person. Local accounts have a password (argon2id PHC string); accounts that sign in through
--   OpenID Connect have the provider's subject instead. `name` is what site_admin.username names.
-- * account_group: group memberships (the admin group is named in configuration, as MirrorManager's
--   ADMIN_GROUP; an OIDC login refreshes these from the provider's groups claim).
-- * login_session: a signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so a
--   copy of the database does not sign anyone in. `csrf` is the token every form of that session carries.
-- * api_token: a bearer token for the JSON API's writes, stored as its SHA-256.
-- * audit_log: every change made through the UI, the API or `apply`: who, when, what, old value -> new value. `site`
--   names the site a change belongs to (NULL for network-wide data), so a site's admins can read their part.

CREATE TABLE account (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL DEFAULT '',
    password_hash  TEXT,
    oidc_subject   TEXT UNIQUE,
    disabled       INTEGER NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL
);

CREATE TABLE account_group (
    account_id  BIGINT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    group_name  TEXT NOT NULL,
    PRIMARY KEY (account_id, group_name)
);

CREATE TABLE login_session (
    token_sha256  TEXT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    csrf          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX login_session_account ON login_session (account_id);

CREATE TABLE api_token (
    token_sha256  TEXT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    label         TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    site    TEXT,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX audit_log_site ON audit_log (site, id);
