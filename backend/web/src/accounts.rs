//! Signing in: local accounts (argon2id), session cookies, CSRF tokens, login rate limits, API tokens.
//!
//! A session cookie carries 32 random bytes; the database keeps only their SHA-256, with the session's CSRF
//! token, which every form of the session must send back. Cookies are `HttpOnly`, `SameSite=Lax` and (unless
//! configured otherwise for plain-HTTP development) `Secure`. OpenID Connect sign-in (Fedora's accounts) would
//! end in [`Accounts::start_session`] the same way, after mapping the provider's subject and groups to an
//! account; only the local path is built.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use base64::Engine as _;
use mirrorvane_db::{Database, DbError, accounts, password};
use mirrorvane_inventory::policy::Actor;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "mirrorvane_session";
/// The cookie the login form's CSRF token is doubled in (there is no session yet to hold it).
pub const LOGIN_COOKIE: &str = "mirrorvane_login";

/// How accounts behave.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// Members of this group are admins (MirrorManager's `ADMIN_GROUP`).
    pub admin_group: String,
    /// Mark cookies `Secure` (browsers then send them only over HTTPS, and to `localhost`).
    pub secure_cookies: bool,
    /// How long a sign-in lasts, in seconds.
    pub session_seconds: i64,
    /// Proxies in front of the service whose `X-Forwarded-For` names the client (the sign-in limits count per
    /// client address: behind a proxy every client would otherwise share the proxy's). Empty: the TCP peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            admin_group: "sysadmin-main".to_owned(),
            secure_cookies: true,
            session_seconds: 8 * 3600,
            trusted_proxies: Vec::new(),
        }
    }
}

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub account: i64,
    pub actor: Actor,
    /// The session's CSRF token; empty for API tokens (a bearer header is not sent by a browser on its own).
    pub csrf: String,
    /// The session cookie's hash (to end it at sign-out); empty for API tokens.
    session: String,
}

/// Failed logins allowed per window, per account name and per client address.
const FAILURES_PER_NAME: usize = 5;
const FAILURES_PER_ADDRESS: usize = 20;
const WINDOW_SECONDS: i64 = 15 * 60;

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum Login {
    /// Signed in; the value is the `Set-Cookie` header.
    Ok(String),
    Wrong,
    /// Too many failures lately; try again after this many seconds.
    Limited(i64),
}

/// Accounts and sessions of one web service.
pub struct Accounts {
    config: AccountsConfig,
    /// Recent failed logins per `name:…` and `ip:…`.
    failures: Mutex<HashMap<String, Vec<i64>>>,
    /// Verified against when a name has no password, so a missing account takes as long as a wrong password.
    dummy_hash: String,
}

impl Accounts {
    /// The address a request came from: the last element of `X-Forwarded-For` when the peer is a trusted proxy
    /// (as the edge reads it: [`mirrorvane_selector::client::client_address`]), else the peer. A trusted proxy's
    /// request without a usable header counts as the proxy's.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&[u8]>) -> IpAddr {
        let peer = peer.to_canonical();
        match forwarded_for {
            Some(xff) if self.config.trusted_proxies.iter().any(|n| n.contains(&peer)) => {
                mirrorvane_selector::client::client_address(None, Some(xff), peer).unwrap_or(peer)
            }
            _ => peer,
        }
    }

    pub fn new(config: AccountsConfig) -> Accounts {
        Accounts {
            config,
            failures: Mutex::new(HashMap::new()),
            dummy_hash: password::hash("no such account").unwrap_or_default(),
        }
    }

    pub fn config(&self) -> &AccountsConfig {
        &self.config
    }

    /// Who the request is from: a live session cookie, or an `Authorization: Bearer` API token.
    pub async fn signed_in(&self, db: &Database, headers: &HeaderMap, now: i64) -> Result<Option<SignedIn>, DbError> {
        let mut conn = db.acquire().await?;
        if let Some(token) = bearer(headers) {
            let Some(account) = accounts::token_account(&mut conn, &digest(token)).await? else {
                return Ok(None);
            };
            let admin = self.is_admin(&mut conn, account.id).await?;
            return Ok(Some(SignedIn {
                account: account.id,
                actor: Actor {
                    name: account.name,
                    admin,
                },
                csrf: String::new(),
                session: String::new(),
            }));
        }
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let session_hash = digest(token);
        let Some(session) = accounts::session(&mut conn, &session_hash, now).await? else {
            return Ok(None);
        };
        let admin = self.is_admin(&mut conn, session.account_id).await?;
        Ok(Some(SignedIn {
            account: session.account_id,
            actor: Actor {
                name: session.name,
                admin,
            },
            csrf: session.csrf,
            session: session_hash,
        }))
    }

    async fn is_admin(&self, conn: &mut mirrorvane_db::Connection, account: i64) -> Result<bool, DbError> {
        Ok(accounts::groups(conn, account)
            .await?
            .contains(&self.config.admin_group))
    }

    /// Checks a name and password (rate-limited per name and per client address) and starts a session.
    pub async fn login(
        &self,
        db: &Database,
        name: &str,
        given: &str,
        client: IpAddr,
        now: i64,
    ) -> Result<Login, DbError> {
        let keys = [format!("name:{name}"), format!("ip:{client}")];
        if let Some(wait) = self.limited(&keys, now) {
            return Ok(Login::Limited(wait));
        }
        let account = accounts::by_name(&mut *db.acquire().await?, name).await?;
        let stored = match &account {
            Some(a) if !bool::from(a.disabled) => a.password_hash.clone(),
            _ => None,
        };
        let stored = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let given = given.to_owned();
        // argon2 takes tens of milliseconds of CPU: not on the async workers.
        let matches = tokio::task::spawn_blocking(move || password::matches(Some(&stored), &given))
            .await
            .unwrap_or(false);
        let account = account.filter(|a| matches && !bool::from(a.disabled) && a.password_hash.is_some());
        let Some(account) = account else {
            self.fail(&keys, now);
            return Ok(Login::Wrong);
        };
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&keys[0]);
        Ok(Login::Ok(self.start_session(db, account.id, now).await?))
    }

    /// Starts a session for an account that has proved who it is; returns the `Set-Cookie` value.
    pub async fn start_session(&self, db: &Database, account: i64, now: i64) -> Result<String, DbError> {
        let token = random_token();
        let mut conn = db.acquire().await?;
        let expires = now + self.config.session_seconds;
        accounts::create_session(&mut conn, &digest(&token), account, &random_token(), now, expires).await?;
        Ok(self.cookie(SESSION_COOKIE, &token, self.config.session_seconds))
    }

    /// Ends the session `who` signed in with; returns the `Set-Cookie` value that clears the cookie.
    pub async fn logout(&self, db: &Database, who: &SignedIn) -> Result<String, DbError> {
        if !who.session.is_empty() {
            accounts::delete_session(&mut *db.acquire().await?, &who.session).await?;
        }
        Ok(self.cookie(SESSION_COOKIE, "", 0))
    }

    /// A `Set-Cookie` value with this service's attributes.
    pub fn cookie(&self, name: &str, value: &str, max_age: i64) -> String {
        let secure = if self.config.secure_cookies { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
    }

    fn limited(&self, keys: &[String], now: i64) -> Option<i64> {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let limits = [FAILURES_PER_NAME, FAILURES_PER_ADDRESS];
        keys.iter().zip(limits).find_map(|(key, limit)| {
            let times = failures.get_mut(key)?;
            times.retain(|t| now - t < WINDOW_SECONDS);
            (times.len() >= limit).then(|| times[0] + WINDOW_SECONDS - now)
        })
    }

    fn fail(&self, keys: &[String], now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bounded: a flood of names must not grow the map without end.
        if failures.len() > 100_000 {
            failures.retain(|_, times| times.last().is_some_and(|t| now - t < WINDOW_SECONDS));
        }
        for key in keys {
            failures.entry(key.clone()).or_default().push(now);
        }
    }
}

/// Whether a form's CSRF token is the session's (compared in constant time).
pub fn csrf_ok(who: &SignedIn, given: Option<&str>) -> bool {
    // API tokens carry no CSRF token, and need none: browsers do not send bearer headers on their own.
    if who.session.is_empty() {
        return true;
    }
    given.is_some_and(|g| same(g.as_bytes(), who.csrf.as_bytes()))
}

/// Constant-time equality of two byte strings of the same length.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS's generator failing is not something a web request can recover from or work around.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 in hex: how tokens are stored.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name && !v.is_empty()).then_some(v))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}
