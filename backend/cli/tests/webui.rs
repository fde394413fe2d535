//! The web UI and the public pages over HTTP, against the real service on 127.0.0.1 and a real database: who may
//! change what (every mutating route as the wrong person and without a CSRF token), admin-only fields, the audit
//! log, sign-in limits, the public mirror list, `/rsyncFilter` and MirrorManager's JSON API.

use std::collections::HashMap;

use mirrorvane_db::categories::{self, NewDirectory};
use mirrorvane_db::repositories::{self, NewRepository};
use mirrorvane_db::{Database, DirectorySet, accounts, audit, crawl, engine_tests, password};
use mirrorvane_inventory::diff::{Prune, diff};
use mirrorvane_inventory::{KnownNames, parse, store, to_toml};

const INVENTORY: &str = r#"
[[product]]
name = "Fedora"

[[product]]
name = "Hidden"
publiclist = false

[[category]]
name = "Fedora Linux"
product = "Fedora"
topdir = "pub/fedora/linux"

[[category]]
name = "Secret"
product = "Fedora"
topdir = "pub/secret"
admin_only = true

[[category]]
name = "Hidden Stuff"
product = "Hidden"
topdir = "pub/hidden"

[[arch]]
name = "x86_64"

[[arch]]
name = "aarch64"

[[site]]
name = "Alice Site"
admins = ["alice"]
org_url = "https://alice.example"

[[site.host]]
name = "a.example.org"
country = "DE"
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://a.example.org/fedora/linux"]

[[site]]
name = "Bob Site"
admins = ["bob"]

[[site.host]]
name = "b.example.org"
country = "FR"
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://b.example.org/fedora/linux"]
"#;

/// The service on a free port of 127.0.0.1, serving `db` until the test's runtime ends.
async fn start(db: &Database) -> String {
    start_behind(db, Vec::new()).await
}

/// [`start`], believing `X-Forwarded-For` from `proxies`.
async fn start_behind(db: &Database, proxies: Vec<ipnet::IpNet>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = mirrorvane_web::Config {
        snapshot: std::env::temp_dir().join("mirrorvane-webui-none.snapshot"),
        limits: mirrorvane_web::checkin::Limits::default(),
        publishing: mirrorvane_web::snapshot::Publishing::default(),
        accounts: mirrorvane_web::AccountsConfig {
            secure_cookies: false,
            trusted_proxies: proxies,
            ..mirrorvane_web::AccountsConfig::default()
        },
    };
    let router = mirrorvane_web::router(db.clone(), config).expect("templates compile");
    tokio::spawn(mirrorvane_web::serve(
        listener,
        router,
        mirrorvane_web::ServeLimits::default(),
    ));
    format!("http://{addr}")
}

/// The fixture: the inventory above, and accounts root (admin), alice and bob (site admins), each with the
/// password `<name>-password`.
async fn world(db: &Database) {
    let current = store::load(db).await.unwrap();
    let wanted = parse("fixture.toml", INVENTORY, &KnownNames::default()).expect("fixture parses");
    store::apply(db, &diff(&current, &wanted, Prune::No), "fixture")
        .await
        .unwrap();
    let mut conn = db.acquire().await.unwrap();
    for name in ["root", "alice", "bob"] {
        let hash = password::hash(&format!("{name}-password")).unwrap();
        let id = accounts::create(&mut conn, name, "", Some(&hash), 0)
            .await
            .unwrap()
            .unwrap();
        if name == "root" {
            accounts::add_group(&mut conn, id, "sysadmin-main").await.unwrap();
        }
    }
}

/// A signed-in browser: its session cookie and the CSRF token of its pages.
struct Session {
    cookie: String,
    csrf: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name="csrf" value="…"` of a page (the first form's).
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// The value a response sets cookie `name` to.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|v| v.split(';').next().unwrap().to_owned())
        })
}

/// Signs in through the form, as a browser does; the status of the sign-in POST and the session if it worked.
async fn try_login(base: &str, name: &str, password: &str) -> (u16, Option<Session>) {
    try_login_from(base, name, password, None).await
}

/// [`try_login`] with an `X-Forwarded-For` header.
async fn try_login_from(base: &str, name: &str, password: &str, forwarded_for: Option<&str>) -> (u16, Option<Session>) {
    let c = client();
    let page = c.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = set_cookie(&page, "mirrorvane_login").expect("a login cookie");
    let token = csrf_of(&page.text().await.unwrap());
    let mut post = c.post(format!("{base}/login"));
    if let Some(xff) = forwarded_for {
        post = post.header("x-forwarded-for", xff);
    }
    let r = post
        .header("cookie", format!("mirrorvane_login={login_cookie}"))
        .form(&[
            ("csrf", token.as_str()),
            ("name", name),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let Some(cookie) = set_cookie(&r, "mirrorvane_session").filter(|c| !c.is_empty()) else {
        return (status, None);
    };
    let home = get(
        base,
        Some(&Session {
            cookie: cookie.clone(),
            csrf: String::new(),
        }),
        "/",
    )
    .await
    .1;
    (
        status,
        Some(Session {
            cookie,
            csrf: csrf_of(&home),
        }),
    )
}

async fn login(base: &str, name: &str) -> Session {
    let (status, session) = try_login(base, name, &format!("{name}-password")).await;
    assert_eq!(status, 303, "{name} signs in");
    session.expect("a session")
}

async fn get(base: &str, who: Option<&Session>, path: &str) -> (u16, String) {
    let mut req = client().get(format!("{base}{path}"));
    if let Some(s) = who {
        req = req.header("cookie", format!("mirrorvane_session={}", s.cookie));
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), unescape(&r.text().await.unwrap()))
}

/// The page's text with the escapes minijinja writes for `/`, `"` and `'` undone, for reading assertions.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
}

/// POSTs a form as `who`, with the session's CSRF token when `csrf`.
async fn post(base: &str, who: &Session, path: &str, fields: &[(&str, &str)], csrf: bool) -> (u16, String) {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    if csrf {
        form.push(("csrf", &who.csrf));
    }
    let r = client()
        .post(format!("{base}{path}"))
        .header("cookie", format!("mirrorvane_session={}", who.cookie))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), unescape(&r.text().await.unwrap()))
}

/// Everything an edit could change: the exported inventory (with password hashes) and the accounts.
async fn state(db: &Database) -> String {
    let inv = store::load(db).await.unwrap();
    let passwords: Vec<_> = inv.sites.iter().map(|s| s.password.clone()).collect();
    let mut conn = db.acquire().await.unwrap();
    let accounts = accounts::all(&mut conn).await.unwrap();
    format!("{}\n{passwords:?}\n{accounts:?}", to_toml(&inv))
}

async fn audit_rows(db: &Database) -> Vec<audit::AuditRow> {
    audit::recent(&mut db.acquire().await.unwrap(), None, 10_000)
        .await
        .unwrap()
}

async fn ids(db: &Database) -> (i64, i64) {
    let mut conn = db.acquire().await.unwrap();
    let site = mirrorvane_db::sites::site_id(&mut conn, "Alice Site")
        .await
        .unwrap()
        .unwrap();
    let host = mirrorvane_db::sites::host_place_by_name(&mut conn, "Alice Site", "a.example.org")
        .await
        .unwrap()
        .unwrap()
        .id;
    (site, host)
}

/// Every mutating route of Alice's site and host, with fields that would change something.
fn mutating_routes(site: i64, host: i64) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    let s = |p: &str| format!("/site/{site}{p}");
    let h = |p: &str| format!("/host/{host}{p}");
    vec![
        (s(""), vec![("org_url", "https://evil.example"), ("private", "true")]),
        (s("/drop"), vec![("confirm", "true")]),
        (s("/admin/new"), vec![("admin", "mallory")]),
        (s("/admin/delete"), vec![("admin", "mallory")]),
        (
            format!("/host/{site}/new"),
            vec![("name", "new.example.org"), ("country", "SE")],
        ),
        (h(""), vec![("bandwidth", "5"), ("private", "true")]),
        (h("/drop"), vec![("confirm", "true")]),
        (h("/netblock/new"), vec![("name", "n"), ("netblock", "192.0.2.0/24")]),
        (h("/netblock/delete"), vec![("netblock", "192.0.2.0/24")]),
        (h("/country/new"), vec![("country", "SE")]),
        (h("/country/delete"), vec![("country", "SE")]),
        (
            h("/url/new"),
            vec![("category", "Fedora Linux"), ("url", "https://a.example.org/other")],
        ),
        (
            h("/url/delete"),
            vec![
                ("category", "Fedora Linux"),
                ("url", "https://a.example.org/fedora/linux"),
            ],
        ),
        (h("/category/new"), vec![("category", "Hidden Stuff")]),
        (h("/category/delete"), vec![("category", "Fedora Linux")]),
    ]
}

engine_tests! {
    /// Bob (another site's admin) is refused every change to Alice's site, Alice is refused every change without
    /// the CSRF token, and nothing changes.
    async fn mutating_routes_refuse_the_wrong_user_and_missing_tokens(t) {
        let db = &t.db;
        world(db).await;
        let base = start(db).await;
        let (site, host) = ids(db).await;
        let (alice, bob) = (login(&base, "alice").await, login(&base, "bob").await);
        let before = state(db).await;
        let audited = audit_rows(db).await.len();
        for (path, fields) in mutating_routes(site, host) {
            let (status, body) = post(&base, &bob, &path, &fields, true).await;
            assert_eq!(status, 403, "bob on {path}: {body}");
            assert!(body.contains("Access denied"), "{path}: {body}");
            let (status, body) = post(&base, &alice, &path, &fields, false).await;
            assert_eq!(status, 403, "alice without a token on {path}: {body}");
            assert!(body.contains("security token"), "{path}: {body}");
        }
        // Admin pages: bob is no admin; alice's token is missing.
        for path in ["/admin/accounts/new", "/admin/accounts/password"] {
            let fields = [("name", "bob"), ("password", "long-enough-1")];
            assert_eq!(post(&base, &bob, path, &fields, true).await.0, 403, "{path}");
            assert_eq!(post(&base, &alice, path, &fields, false).await.0, 403, "{path}");
        }
        assert_eq!(post(&base, &alice, "/site/new", &[("name", "X"), ("password", "pw")], false).await.0, 403);
        assert_eq!(post(&base, &alice, "/logout", &[], false).await.0, 403);
        assert_eq!(state(db).await, before, "nothing changed");
        assert_eq!(audit_rows(db).await.len(), audited, "nothing audited");
        // Bob cannot even look.
        assert_eq!(get(&base, Some(&bob), &format!("/site/{site}")).await.0, 403);
        assert_eq!(get(&base, Some(&bob), &format!("/host/{host}")).await.0, 403);
        assert_eq!(get(&base, Some(&bob), &format!("/site/{site}/audit")).await.0, 403);
        assert_eq!(get(&base, Some(&bob), "/admin/audit").await.0, 403);
        // Signed out: sent to sign in, and brought back.
        let r = client().get(format!("{base}/site/{site}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], format!("/login?next=/site/{site}").as_str());
        // And the right person with the token succeeds at each (last: the ones that delete).
        for (path, fields) in mutating_routes(site, host).into_iter().filter(|(p, _)| !p.ends_with("/drop")) {
            let (status, body) = post(&base, &alice, &path, &fields, true).await;
            assert_eq!(status, 303, "alice on {path}: {body}");
        }
        assert_eq!(post(&base, &alice, &format!("/host/{host}/drop"), &[("confirm", "true")], true).await.0, 303);
        assert_eq!(post(&base, &alice, &format!("/site/{site}/drop"), &[("confirm", "true")], true).await.0, 303);
        assert!(!store::load(db).await.unwrap().sites.iter().any(|s| s.name == "Alice Site"));
    }

    /// A site admin's crafted POSTs for admin-only fields are refused and change nothing; an admin's succeed.
    async fn admin_only_fields(t) {
        let db = &t.db;
        world(db).await;
        let base = start(db).await;
        let (site, host) = ids(db).await;
        let (alice, root) = (login(&base, "alice").await, login(&base, "root").await);
        let attempts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("/site/{site}"), vec![("admin_active", "false")]),
            (format!("/host/{host}"), vec![("admin_active", "false")]),
            (format!("/host/{host}/category/update"), vec![("category", "Fedora Linux"), ("always_up_to_date", "true")]),
            (format!("/host/{host}/url/new"), vec![("category", "Fedora Linux"), ("url", "rsync://a.example.org/f"), ("private", "true")]),
            (format!("/host/{host}/asn/new"), vec![("asn", "64500")]),
            (format!("/host/{host}/category/new"), vec![("category", "Secret")]),
            (format!("/host/{host}/netblock/new"), vec![("name", "big"), ("netblock", "10.0.0.0/8")]),
            (format!("/host/{host}/netblock/new"), vec![("name", "big6"), ("netblock", "2001:db8::/29")]),
        ];
        let before = state(db).await;
        for (path, fields) in &attempts {
            let (status, body) = post(&base, &alice, path, fields, true).await;
            assert_eq!(status, 403, "alice on {path} {fields:?}: {body}");
            assert!(body.contains("only mirror administrators") || body.contains("larger than /16"), "{body}");
        }
        assert_eq!(state(db).await, before, "nothing changed");
        for (path, fields) in &attempts {
            let (status, body) = post(&base, &root, path, fields, true).await;
            assert_eq!(status, 303, "root on {path} {fields:?}: {body}");
        }
        let inv = store::load(db).await.unwrap();
        let a = &inv.sites.iter().find(|s| s.name == "Alice Site").unwrap();
        assert!(!a.admin_active && !a.hosts[0].admin_active);
        assert_eq!(a.hosts[0].peer_asns, [64500]);
        assert_eq!(a.hosts[0].netblocks.len(), 2);
        assert!(a.hosts[0].categories.iter().any(|c| c.category == "Secret"));
        let fedora = a.hosts[0].categories.iter().find(|c| c.category == "Fedora Linux").unwrap();
        assert!(fedora.always_up_to_date);
        assert!(fedora.urls.iter().any(|u| u.private && u.url == "rsync://a.example.org/f"));
        let rows = audit_rows(db).await;
        assert!(rows.iter().all(|r| r.actor == "root" || r.actor == "fixture"), "{rows:?}");
        assert!(rows.iter().any(|r| r.target.ends_with("admin_active") && r.old_value.as_deref() == Some("true")));
    }
}

/// Every change made through the UI is in the audit log with who, when, what and before → after; a site's
/// admins read their site's part, admins everything.
#[test]
fn changes_are_audited() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        world(db).await;
        let base = start(db).await;
        let (site, host) = ids(db).await;
        let alice = login(&base, "alice").await;
        let from = audit_rows(db).await.len();
        let steps: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("/host/{host}"), vec![("bandwidth", "2500")]),
            (
                format!("/host/{host}/netblock/new"),
                vec![("name", "office"), ("netblock", "192.0.2.0/24")],
            ),
            (format!("/site/{site}"), vec![("password", "new-checkin-secret")]),
            (
                format!("/host/{site}/new"),
                vec![("name", "c.example.org"), ("country", "se")],
            ),
        ];
        for (path, fields) in &steps {
            assert_eq!(post(&base, &alice, path, fields, true).await.0, 303, "{path}");
        }
        let rows = audit_rows(db).await;
        let new: Vec<_> = rows[..rows.len() - from].iter().rev().collect();
        let lines: Vec<String> = new
            .iter()
            .map(|r| {
                format!(
                    "{} {} {:?} {} {:?} {:?}",
                    r.actor, r.action, r.site, r.target, r.old_value, r.new_value
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                r#"alice update Some("Alice Site") site "Alice Site" / host "a.example.org": bandwidth Some("100") Some("2500")"#,
                r#"alice add Some("Alice Site") site "Alice Site" / host "a.example.org" / netblock "192.0.2.0/24" None Some("+ site \"Alice Site\" / host \"a.example.org\" / netblock \"192.0.2.0/24\" (name \"office\")")"#,
                r#"alice update Some("Alice Site") site "Alice Site": password None Some("(changed)")"#,
                r#"alice add Some("Alice Site") site "Alice Site" / host "c.example.org" None Some("+ site \"Alice Site\" / host \"c.example.org\" (country SE, bandwidth 100)")"#,
            ]
        );
        assert!(new.iter().all(|r| r.at > 1_700_000_000), "dated");
        let (status, page) = get(&base, Some(&alice), &format!("/site/{site}/audit")).await;
        assert_eq!(status, 200);
        assert!(page.contains("bandwidth") && page.contains("2500"), "{page}");
        let bob = login(&base, "bob").await;
        let (_, bobs) = post(
            &base,
            &bob,
            "/site/new",
            &[("name", "Bob Two"), ("password", "pw")],
            true,
        )
        .await;
        assert!(bobs.is_empty());
        let (_, page) = get(&base, Some(&alice), &format!("/site/{site}/audit")).await;
        assert!(!page.contains("Bob Two"), "a site's history shows only that site");
        let root = login(&base, "root").await;
        let (status, page) = get(&base, Some(&root), "/admin/audit").await;
        assert_eq!(status, 200);
        assert!(page.contains("Bob Two") && page.contains("2500"));
    });
}

/// Validation messages as MirrorManager words them, shown on the page with the status that fits.
#[test]
fn validation_errors() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        world(db).await;
        let base = start(db).await;
        let (site, host) = ids(db).await;
        let alice = login(&base, "alice").await;
        let before = state(db).await;
        type Case = (String, Vec<(&'static str, &'static str)>, u16, &'static str);
        let cases: Vec<Case> = vec![
            (format!("/host/{host}"), vec![("country", "Germany")], 400, "two-letter"),
            (
                format!("/host/{host}"),
                vec![("bandwidth", "fast")],
                400,
                "not a number",
            ),
            (format!("/host/{host}"), vec![("bandwidth", "0")], 400, "bandwidth"),
            (
                format!("/host/{host}/netblock/new"),
                vec![("name", "x"), ("netblock", "10.1.2.3/8")],
                400,
                "host bits",
            ),
            (
                format!("/host/{host}/netblock/new"),
                vec![("name", "x"), ("netblock", "10.0.0.0/33")],
                400,
                "netblock",
            ),
            (
                format!("/host/{host}/country/new"),
                vec![("country", "XYZ")],
                400,
                "Invalid country code",
            ),
            (
                format!("/host/{host}/url/new"),
                vec![("category", "Fedora Linux"), ("url", "ftp://a.example.org/f")],
                400,
                "Unsupported URL",
            ),
            (
                format!("/host/{host}/url/new"),
                vec![
                    ("category", "Fedora Linux"),
                    ("url", "https://a.example.org/fedora/linux/"),
                ],
                400,
                "already exists on Fedora Linux",
            ),
            (
                format!("/host/{host}/url/new"),
                vec![
                    ("category", "Fedora Linux"),
                    ("url", "https://b.example.org/fedora/linux"),
                ],
                409,
                "already belong",
            ),
            (
                format!("/host/{host}/category/new"),
                vec![("category", "Nope")],
                400,
                "not a known category",
            ),
            (
                format!("/host/{site}/new"),
                vec![("name", "a.example.org"), ("country", "DE")],
                400,
                "already has a host",
            ),
            (
                format!("/host/{site}/new"),
                vec![("name", "bad name"), ("country", "DE")],
                400,
                "host name",
            ),
            (
                "/site/new".to_owned(),
                vec![("name", "Bob Site"), ("password", "pw")],
                400,
                "already exists",
            ),
            (
                "/site/new".to_owned(),
                vec![("name", "New Site")],
                400,
                "password: this field is required",
            ),
            (
                "/site/new".to_owned(),
                vec![("name", "New"), ("password", "p"), ("org_url", "javascript:alert(1)")],
                400,
                "not an http(s) URL",
            ),
        ];
        for (path, fields, status, text) in &cases {
            let (got, body) = post(&base, &alice, path, fields, true).await;
            assert_eq!(got, *status, "{path} {fields:?}: {body}");
            assert!(
                body.to_lowercase().contains(&text.to_lowercase()),
                "{path} {fields:?} should say {text:?}: {body}"
            );
            assert!(body.contains("role=\"alert\""), "shown as an error");
        }
        assert_eq!(state(db).await, before, "nothing changed");
    });
}

/// The per-address sign-in limit behind a proxy: with `--trusted-proxy`, clients are told apart by the proxy's
/// `X-Forwarded-For` (one client's failures do not lock out the others); without it the header is ignored (a
/// client cannot escape the limit by making up addresses).
#[test]
fn sign_in_limits_behind_a_proxy() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        let t = t;
        let db = &t.db;
        world(db).await;
        // Twenty failures from one address, under twenty names (the per-name limit stays out of the way).
        let fail_twenty = |base: String, from: fn(usize) -> String| async move {
            for i in 0..20 {
                let xff = from(i);
                assert_eq!(
                    try_login_from(&base, &format!("guess{i}"), "x", Some(&xff)).await.0,
                    401
                );
            }
        };

        let behind = start_behind(db, vec!["127.0.0.1/32".parse().unwrap()]).await;
        fail_twenty(behind.clone(), |_| "203.0.113.7, 192.0.2.1".to_owned()).await;
        let from = |xff| try_login_from(&behind, "alice", "alice-password", Some(xff));
        assert_eq!(from("192.0.2.1").await.0, 429, "the failing client is limited");
        assert_eq!(
            from("192.0.2.2").await.0,
            303,
            "another client behind the same proxy is not"
        );

        let direct = start(db).await;
        fail_twenty(direct.clone(), |i| format!("198.51.100.{i}")).await;
        let (status, _) = try_login_from(&direct, "bob", "bob-password", Some("198.51.100.200")).await;
        assert_eq!(
            status, 429,
            "made-up X-Forwarded-For addresses from an untrusted peer are ignored"
        );
    });
}

/// Sign-in: wrong passwords, the per-account limit, and `next=` only within the service.
#[test]
fn sign_in() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        world(db).await;
        let base = start(db).await;
        assert_eq!(try_login(&base, "alice", "wrong").await.0, 401);
        assert_eq!(try_login(&base, "nobody", "wrong").await.0, 401);
        for _ in 0..5 {
            try_login(&base, "bob", "wrong").await;
        }
        let (status, session) = try_login(&base, "bob", "bob-password").await;
        assert_eq!(
            status, 429,
            "five failures lock the account for a while, even with the right password"
        );
        assert!(session.is_none());
        assert_eq!(
            try_login(&base, "alice", "alice-password").await.0,
            303,
            "other accounts are not locked"
        );
        // The login form's token must match its cookie.
        let r = client()
            .post(format!("{base}/login"))
            .form(&[("csrf", "forged"), ("name", "alice"), ("password", "alice-password")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        // Where a sign-in leads.
        let alice = login(&base, "alice").await;
        for (next, to) in [
            ("/site/1", "/site/1"),
            ("//evil.example/x", "/"),
            ("https://evil.example", "/"),
            ("/\\evil", "/"),
        ] {
            let r = client()
                .get(format!(
                    "{base}/login?next={}",
                    next.replace('/', "%2F").replace(':', "%3A").replace('\\', "%5C")
                ))
                .header("cookie", format!("mirrorvane_session={}", alice.cookie))
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["location"], to, "next={next}");
        }
        // Counted for /metrics.
        let (status, metrics) = get(&base, None, "/metrics").await;
        assert_eq!(status, 200);
        for line in [
            "mirrorvane_backend_logins_total{outcome=\"wrong\"} 7",
            "mirrorvane_backend_logins_total{outcome=\"limited\"} 1",
            "mirrorvane_backend_hosts{state=\"serving\"} 2",
            "mirrorvane_backend_snapshot_age_seconds -1",
            "mirrorvane_backend_database_up 1",
        ] {
            assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
        }
        // Sign-out ends the session on the server, not only in the browser.
        assert_eq!(post(&base, &alice, "/logout", &[], true).await.0, 303);
        assert_eq!(
            get(&base, Some(&alice), "/site/mine").await.0,
            303,
            "the old cookie no longer works"
        );
        // An admin's reset ends the account's sessions too.
        let (bob_root, alice2) = (login(&base, "root").await, login(&base, "alice").await);
        let (status, body) = post(
            &base,
            &bob_root,
            "/admin/accounts/password",
            &[("name", "alice"), ("password", "a-new-password")],
            true,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(get(&base, Some(&alice2), "/site/mine").await.0, 303);
        assert_eq!(try_login(&base, "alice", "a-new-password").await.0, 303);
    });
}

/// A fixture with one mirror of each kind the public list must leave out, and two it must show.
async fn list_world(db: &Database) {
    let text = r#"
[[product]]
name = "Fedora"
[[product]]
name = "Hidden"
publiclist = false
[[category]]
name = "Fedora Linux"
product = "Fedora"
topdir = "pub/fedora/linux"
[[category]]
name = "Hidden Stuff"
product = "Hidden"
topdir = "pub/hidden"
[[arch]]
name = "x86_64"
[[arch]]
name = "aarch64"

[[site]]
name = "Good"
org_url = "https://good.example"
[[site.host]]
name = "listed.good.example"
country = "DE"
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://listed.good.example/fedora", "rsync://listed.good.example/fedora"]
private_urls = ["rsync://listed.good.example/private"]
[[site.host]]
name = "always.good.example"
country = "AT"
[[site.host.category]]
name = "Fedora Linux"
always_up_to_date = true
urls = ["http://always.good.example/fedora"]
[[site.host]]
name = "private.good.example"
country = "DE"
private = true
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://private.good.example/fedora"]
[[site.host]]
name = "disabled.good.example"
country = "DE"
admin_active = false
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://disabled.good.example/fedora"]
[[site.host]]
name = "paused.good.example"
country = "DE"
user_active = false
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://paused.good.example/fedora"]
[[site.host]]
name = "stale.good.example"
country = "DE"
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://stale.good.example/fedora"]
[[site.host]]
name = "onlyprivate.good.example"
country = "DE"
[[site.host.category]]
name = "Fedora Linux"
private_urls = ["rsync://onlyprivate.good.example/fedora"]
[[site.host]]
name = "hidden.good.example"
country = "DE"
[[site.host.category]]
name = "Hidden Stuff"
urls = ["https://hidden.good.example/hidden"]
[[site.host]]
name = "aarch.good.example"
country = "SE"
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://aarch.good.example/fedora"]

[[site]]
name = "Private Site"
private = true
[[site.host]]
name = "host.private-site.example"
country = "DE"
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://host.private-site.example/fedora"]

[[site]]
name = "Sleeping Site"
user_active = false
[[site.host]]
name = "host.sleeping.example"
country = "DE"
[[site.host.category]]
name = "Fedora Linux"
urls = ["https://host.sleeping.example/fedora"]
"#;
    let current = store::load(db).await.unwrap();
    let wanted = parse("list.toml", text, &KnownNames::default()).expect("fixture parses");
    store::apply(db, &diff(&current, &wanted, Prune::No), "fixture")
        .await
        .unwrap();
    // Directories and repositories: Fedora 41 for x86_64 and aarch64, and a hidden product's directory.
    let mut tx = db.begin().await.unwrap();
    let cats: HashMap<String, i64> = categories::categories(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.id))
        .collect();
    let dirs = [
        ("pub/fedora/linux/releases/41/Everything/x86_64/os", "Fedora Linux"),
        ("pub/fedora/linux/releases/41/Everything/aarch64/os", "Fedora Linux"),
        ("pub/hidden/x", "Hidden Stuff"),
    ];
    let rows = dirs
        .iter()
        .map(|(name, cat)| NewDirectory {
            name: (*name).to_owned(),
            category_id: cats[*cat],
            ctime: 1_000,
            readable: true,
            files: "[]".to_owned(),
        })
        .collect();
    categories::insert_directories(&mut tx, rows).await.unwrap();
    let dir_ids: HashMap<String, i64> = categories::directories(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.name, d.id))
        .collect();
    let fedora = categories::product_by_name(&mut tx, "Fedora")
        .await
        .unwrap()
        .unwrap()
        .id;
    let version = repositories::insert_version(&mut tx, fedora, "41", false)
        .await
        .unwrap();
    let arches: HashMap<String, i64> = repositories::arches(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.id))
        .collect();
    for arch in ["x86_64", "aarch64"] {
        repositories::insert(
            &mut tx,
            &NewRepository {
                name: format!("Fedora 41 {arch}"),
                prefix: Some("fedora-41".to_owned()),
                category_id: cats["Fedora Linux"],
                version_id: version,
                arch_id: arches[arch],
                directory_id: dir_ids[&format!("pub/fedora/linux/releases/41/Everything/{arch}/os")],
            },
        )
        .await
        .unwrap();
    }
    // Who is up to date with what: everyone with x86_64, except the stale host (nothing) and aarch's (aarch64 only).
    let x86 = dir_ids["pub/fedora/linux/releases/41/Everything/x86_64/os"];
    let aarch = dir_ids["pub/fedora/linux/releases/41/Everything/aarch64/os"];
    let hcs = crawl::host_categories(&mut tx, None).await.unwrap();
    let places: HashMap<i64, String> = {
        let hosts = mirrorvane_db::sites::hosts(&mut tx).await.unwrap();
        hosts.into_iter().map(|h| (h.id, h.name)).collect()
    };
    for hc in hcs {
        let host = &places[&hc.host_id];
        let up: DirectorySet = match host.as_str() {
            "stale.good.example" => DirectorySet::new(),
            "aarch.good.example" => [aarch].into_iter().collect(),
            "hidden.good.example" => [dir_ids["pub/hidden/x"]].into_iter().collect(),
            _ => [x86].into_iter().collect(),
        };
        let stale: DirectorySet = if host == "stale.good.example" {
            [x86].into_iter().collect()
        } else {
            DirectorySet::new()
        };
        crawl::set_state(&mut tx, hc.id, &up, &stale, 2_000).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The hosts a list page shows, in order.
fn listed(html: &str) -> Vec<String> {
    let Some(body) = html.split("<tbody>").nth(1) else {
        return Vec::new();
    };
    body.split("<tr>")
        .skip(1)
        .map(|row| row.split("<td>").nth(3).unwrap().split('<').next().unwrap().to_owned())
        .collect()
}

engine_tests! {
    /// The public list shows exactly the public, active, up-to-date mirrors, narrowed by version, arch and
    /// country, with caching headers.
    async fn public_mirror_list(t) {
        let db = &t.db;
        list_world(db).await;
        let base = start(db).await;
        let (status, page) = get(&base, None, "/mirrors").await;
        assert_eq!(status, 200);
        assert_eq!(listed(&page), ["always.good.example", "listed.good.example", "aarch.good.example"], "{page}");
        assert!(page.contains("https://listed.good.example/fedora") && !page.contains("listed.good.example/private"), "public URLs only");
        assert_eq!(listed(&get(&base, None, "/mirrors/Fedora/41/x86_64").await.1), ["always.good.example", "listed.good.example"]);
        assert_eq!(listed(&get(&base, None, "/mirrors/Fedora/41/aarch64").await.1), ["always.good.example", "aarch.good.example"]);
        assert_eq!(listed(&get(&base, None, "/mirrors/Fedora/41").await.1), ["always.good.example", "listed.good.example", "aarch.good.example"]);
        assert_eq!(listed(&get(&base, None, "/mirrors/Fedora/40").await.1), ["always.good.example"], "always up to date");
        assert_eq!(listed(&get(&base, None, "/mirrors?country=de").await.1), ["listed.good.example"]);
        assert_eq!(listed(&get(&base, None, "/mirrors/Hidden").await.1), Vec::<String>::new(), "not on the public list");
        let r = client().get(format!("{base}/mirrors")).send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "public, max-age=43200");
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let again = client().get(format!("{base}/mirrors")).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status().as_u16(), 304);
    }
}

/// `/rsyncFilter`, MirrorManager's JSON API, and the propagation pages.
#[test]
fn rsync_filter_api_and_propagation() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        list_world(db).await;
        world(db).await;
        let base = start(db).await;
        let (status, text) = get(
            &base,
            None,
            "/rsyncFilter?categories=Fedora%20Linux&since=500&stripprefix=pub/fedora/linux",
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            text,
            "+ releases/\n+ releases/41/\n+ releases/41/Everything/\n+ releases/41/Everything/aarch64/\n\
             + releases/41/Everything/aarch64/os/\n+ releases/41/Everything/x86_64/\n+ releases/41/Everything/x86_64/os/\n- *\n"
        );
        assert_eq!(
            get(&base, None, "/rsyncFilter?categories=Fedora%20Linux&since=1000")
                .await
                .1,
            "- *\n",
            "nothing newer"
        );
        assert_eq!(get(&base, None, "/rsyncFilter?since=1").await.0, 400);
        let (status, json) = get(&base, None, "/api/mirroradmins?name=a.example.org").await;
        assert_eq!((status, json.as_str()), (200, r#"{"admins":["alice"],"total":1}"#));
        assert_eq!(
            get(&base, None, "/api/mirroradmins?name=Bob%20Site").await.1,
            r#"{"admins":["bob"],"total":1}"#
        );
        let (status, json) = get(&base, None, "/api/mirroradmins?name=nope").await;
        assert_eq!(
            (status, json.as_str()),
            (400, r#"{"message":"No host or site found for nope"}"#)
        );
        assert_eq!(
            get(&base, None, "/api/mirroradmins").await.1,
            r#"{"admins":["alice","bob"],"total":2}"#
        );
        let (status, json) = get(&base, None, "/api/repositories").await;
        assert_eq!(status, 200);
        assert_eq!(
            json,
            r#"{"repositories":[{"fedora-41":{"directory":"pub/fedora/linux/releases/41/Everything/x86_64/os","name":"Fedora 41 x86_64"}},{"fedora-41":{"directory":"pub/fedora/linux/releases/41/Everything/aarch64/os","name":"Fedora 41 aarch64"}}],"total":2}"#
        );
        // Propagation: nothing counted yet, then two counts of the x86_64 repository.
        let (status, page) = get(&base, None, "/propagation").await;
        assert_eq!(status, 200);
        assert!(page.contains("Nothing counted yet"), "{page}");
        let repo: i64 =
            sqlx::query_scalar("SELECT r.id FROM repository r JOIN arch a ON a.id = r.arch_id WHERE a.name = 'x86_64'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        let mut conn = db.acquire().await.unwrap();
        for (at, same, older) in [(1_796_600_000, 3, 5), (1_796_610_000, 7, 1)] {
            let row = crawl::PropagationRow {
                repository_id: repo,
                datetime: at,
                same_day: same,
                older,
                ..Default::default()
            };
            crawl::insert_propagation(&mut conn, &row).await.unwrap();
        }
        drop(conn);
        let page = get(&base, None, "/propgation").await.1;
        assert!(page.contains(&format!("<a href=\"/propagation/{repo}\">fedora-41</a></td><td>x86_64</td><td>2026-12-07 02:20</td>\n<td>7</td><td>0</td><td>0</td><td>1</td>")), "{page}");
        let (status, page) = get(&base, None, &format!("/propagation/{repo}")).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Propagation of fedora-41 (x86_64)") && page.contains("<svg"),
            "{page}"
        );
        assert!(
            page.contains("<td>2026-12-06 23:33</td><td>3</td><td>0</td><td>0</td><td>5</td>"),
            "{page}"
        );
        assert_eq!(get(&base, None, "/propagation/999999").await.0, 404);
        assert_eq!(get(&base, None, "/propagation/nonsense").await.0, 404);
    });
}

/// `mirrorvane stats ingest` on the test database; its summary line.
fn ingest(url: &str, files: &[&std::path::Path]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
        .args(["--database", url, "stats", "ingest", "--keep-days", "0"])
        .args(files)
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// (name, requests) of a day and kind, from the database.
async fn day_counts(db: &Database, day: &str, kind: &str) -> Vec<(String, i64)> {
    let rows = mirrorvane_db::stats::day(&mut db.acquire().await.unwrap(), day, kind)
        .await
        .unwrap();
    rows.into_iter().map(|r| (r.name, r.requests)).collect()
}

/// Statistics from sample logs match counts made by hand; ingesting a file again (or its rotated, gzipped copy)
/// counts it once; a second edge's file adds to the first's.
#[test]
fn statistics_from_access_logs() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        sqlx::query("INSERT INTO embargoed_country (country_code) VALUES ('KP')")
            .execute(db.pool())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        // Edge one: 6 requests on the 6th, 2 on the 7th, a line that is not a record, a worker's JSON record.
        let edge1 = "\
IP: 192.0.2.1; DATE: 2026-12-06; COUNTRY: DE; REPO: fedora-41; ARCH: x86_64
IP: 192.0.2.2; DATE: 2026-12-06; COUNTRY: DE; REPO: fedora-41; ARCH: aarch64
IP: 192.0.2.3; DATE: 2026-12-06; COUNTRY: FR; REPO: updates-released-f41; ARCH: x86_64
IP: 2001:db8::1; DATE: 2026-12-06; COUNTRY: N/A; REPO: fedora-41; ARCH: x86_64
IP: 192.0.2.4; DATE: 2026-12-06; COUNTRY: KP; REPO: epel-9; ARCH: x86_64
not a record
{\"Logs\":[{\"Level\":\"log\",\"Message\":[\"IP: 192.0.2.5; DATE: 2026-12-06; COUNTRY: DE; REPO: epel-9; ARCH: source\"]}]}
IP: 192.0.2.1; DATE: 2026-12-07; COUNTRY: DE; REPO: fedora-41; ARCH: x86_64
IP: 192.0.2.6; DATE: 2026-12-07; COUNTRY: SE; REPO: fedora-41; ARCH: x86_64
";
        let one = dir.path().join("edge1.log");
        std::fs::write(&one, edge1).unwrap();
        let summary = ingest(&t.url, &[&one]);
        assert!(
            summary.starts_with("ingested 1 file(s): 8 requests on 2 day(s), 1 line(s) skipped"),
            "{summary}"
        );
        let six = "2026-12-06";
        let by = |v: &[(&str, i64)]| v.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect::<Vec<_>>();
        assert_eq!(
            day_counts(db, six, "countries").await,
            by(&[("DE", 3), ("FR", 1), ("N/", 1), ("N/A", 1)])
        );
        assert_eq!(
            day_counts(db, six, "archs").await,
            by(&[("x86_64", 4), ("aarch64", 1), ("source", 1)])
        );
        assert_eq!(
            day_counts(db, six, "repositories").await,
            by(&[("fedora-41", 3), ("epel-9", 2), ("updates-released-f41", 1)])
        );
        // Again, and as logrotate leaves it (grown by one line, then gzipped): still counted once.
        ingest(&t.url, &[&one]);
        let grown = format!("{edge1}IP: 192.0.2.7; DATE: 2026-12-07; COUNTRY: SE; REPO: epel-9; ARCH: x86_64\n");
        let gz = dir.path().join("edge1.log.1.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, grown.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        ingest(&t.url, &[&gz]);
        assert_eq!(
            day_counts(db, six, "countries").await,
            by(&[("DE", 3), ("FR", 1), ("N/", 1), ("N/A", 1)])
        );
        assert_eq!(
            day_counts(db, "2026-12-07", "countries").await,
            by(&[("SE", 2), ("DE", 1)])
        );
        // A second edge adds; the older copy of the first, ingested again, takes nothing away.
        let two = dir.path().join("edge2.log");
        std::fs::write(
            &two,
            "IP: 198.51.100.1; DATE: 2026-12-07; COUNTRY: DE; REPO: fedora-41; ARCH: x86_64\n",
        )
        .unwrap();
        ingest(&t.url, &[&two, &one]);
        assert_eq!(
            day_counts(db, "2026-12-07", "countries").await,
            by(&[("DE", 2), ("SE", 2)])
        );
        let percent = mirrorvane_db::stats::day(&mut db.acquire().await.unwrap(), six, "countries")
            .await
            .unwrap();
        assert!((percent[0].percent - 50.0).abs() < 1e-9, "DE is 3 of 6: {percent:?}");
        // The pages.
        let base = start(db).await;
        let (status, page) = get(&base, None, "/statistics").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Statistics for 2026-12-07") && page.contains("<svg"),
            "{page}"
        );
        let (status, page) = get(&base, None, "/statistics/2026-12-06/repositories").await;
        assert_eq!(status, 200);
        assert!(page.contains("<td>epel-9</td><td>2</td><td>33.33</td>"), "{page}");
        assert!(!page.contains("By countries"), "one kind only");
        assert_eq!(get(&base, None, "/statistics/2026-11-01").await.0, 404);
        assert_eq!(get(&base, None, "/statistics/2026-12-06/nonsense").await.0, 404);
    });
}

/// `mirrorvane locate-hosts` places hosts from a City database; `/maps` draws the public ones on the bundled
/// outline.
#[test]
fn map_of_located_hosts() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        let text = r#"
[[site]]
name = "Local"
[[site.host]]
name = "localhost"
country = "SE"
[[site.host]]
name = "nowhere.invalid"
country = "SE"
[[site]]
name = "Hidden"
[[site.host]]
name = "localhost"
country = "SE"
private = true
"#;
        let wanted = parse("map.toml", text, &KnownNames::default()).expect("parses");
        store::apply(
            db,
            &diff(&store::load(db).await.unwrap(), &wanted, Prune::No),
            "fixture",
        )
        .await
        .unwrap();
        #[derive(serde::Serialize)]
        struct Location {
            latitude: f64,
            longitude: f64,
        }
        #[derive(serde::Serialize)]
        struct City {
            location: Location,
        }
        let mut w = mmdb_writer::Writer::builder("GeoLite2-City").build();
        let stockholm = City {
            location: Location {
                latitude: 59.3293,
                longitude: 18.0686,
            },
        };
        for net in ["127.0.0.0/8", "::1/128"] {
            w.insert(net.parse::<mmdb_writer::ipnet::IpNet>().unwrap(), &stockholm)
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let city = dir.path().join("city.mmdb");
        std::fs::write(&city, w.to_bytes().unwrap()).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
            .args(["--database", &t.url, "locate-hosts", "--geoip-city"])
            .arg(&city)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("1 did not resolve"), "{stdout}");
        let placed: Vec<(String, f64, f64)> =
            sqlx::query_as("SELECT name, latitude, longitude FROM host WHERE latitude IS NOT NULL ORDER BY name")
                .fetch_all(db.pool())
                .await
                .unwrap();
        assert_eq!(placed.len(), 2, "both hosts named localhost: {placed:?}");
        assert!(
            placed
                .iter()
                .all(|p| (p.1 - 59.3293).abs() < 1e-6 && (p.2 - 18.0686).abs() < 1e-6)
        );
        let base = start(db).await;
        let (status, page) = get(&base, None, "/maps").await;
        assert_eq!(status, 200);
        let (x, y) = mirrorvane_web::map::project(59.3293, 18.0686);
        assert!(page.contains(&format!(r#"<circle cx="{x:.1}" cy="{y:.1}""#)), "{page}");
        assert!(page.contains("<title>localhost (Local, SE)</title>"));
        assert!(!page.contains("Hidden"), "private hosts are not on the public map");
        assert!(page.contains("1 public mirror placed"));
    });
}

/// An API token for `name`.
async fn token(db: &Database, name: &str) -> String {
    let mut conn = db.acquire().await.unwrap();
    let account = accounts::by_name(&mut conn, name).await.unwrap().unwrap();
    let token = mirrorvane_web::accounts::random_token();
    accounts::create_token(
        &mut conn,
        &mirrorvane_web::accounts::digest(&token),
        account.id,
        "test",
        0,
    )
    .await
    .unwrap();
    token
}

async fn api(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = client().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap_or(serde_json::Value::Null),
    )
}

engine_tests! {
    /// The JSON API reads and writes sites in the inventory format, through the same checks as the UI.
    async fn json_api(t) {
        let db = &t.db;
        world(db).await;
        let base = start(db).await;
        let (alice, bob) = (token(db, "alice").await, token(db, "bob").await);
        use reqwest::Method;
        let (status, body) = api(&base, Method::GET, "/api/v1/sites", Some(&alice), None).await;
        assert_eq!(status, 200);
        assert_eq!(body["sites"].as_array().unwrap().len(), 1);
        assert_eq!(body["sites"][0]["name"], "Alice Site");
        let path = "/api/v1/sites/Alice%20Site";
        let (status, mut site) = api(&base, Method::GET, path, Some(&alice), None).await;
        assert_eq!(status, 200);
        assert_eq!(site["host"][0]["name"], "a.example.org");
        assert_eq!(site["host"][0]["category"][0]["urls"][0], "https://a.example.org/fedora/linux");
        assert!(site.get("password").is_none(), "passwords are never sent");
        assert_eq!(api(&base, Method::GET, path, Some(&bob), None).await.0, 403);
        assert_eq!(api(&base, Method::GET, path, None, None).await.0, 401);
        // A change as the site's admin.
        site["host"][0]["bandwidth"] = serde_json::json!(5000);
        let (status, body) = api(&base, Method::PUT, path, Some(&alice), Some(site.clone())).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["changes"][0], r#"~ site "Alice Site" / host "a.example.org": bandwidth 100 → 5000"#);
        assert_eq!(api(&base, Method::PUT, path, Some(&alice), Some(site.clone())).await.1["changes"], serde_json::json!([]));
        // Refused, and nothing changed: another site's admin; an admin-only field; no token; bad bodies.
        let before = state(db).await;
        site["host"][0]["bandwidth"] = serde_json::json!(1);
        assert_eq!(api(&base, Method::PUT, path, Some(&bob), Some(site.clone())).await.0, 403);
        let mut crafted = site.clone();
        crafted["host"][0]["admin_active"] = serde_json::json!(false);
        let (status, body) = api(&base, Method::PUT, path, Some(&alice), Some(crafted)).await;
        assert_eq!(status, 403, "{body}");
        assert!(body["message"].as_str().unwrap().contains("admin_active"));
        let alice_session = login(&base, "alice").await;
        let r = client()
            .put(format!("{base}{path}"))
            .header("cookie", format!("mirrorvane_session={}", alice_session.cookie))
            .body(site.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "a cookie does not authorise writes");
        let mut bad = site.clone();
        bad["host"][0]["country"] = serde_json::json!("Germany");
        let (status, body) = api(&base, Method::PUT, path, Some(&alice), Some(bad)).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().contains("two-letter"), "{body}");
        let mut renamed = site.clone();
        renamed["name"] = serde_json::json!("Other");
        assert_eq!(api(&base, Method::PUT, path, Some(&alice), Some(renamed)).await.0, 400);
        let r = client().put(format!("{base}{path}")).bearer_auth(&alice).body("{not json").send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
        assert_eq!(state(db).await, before, "nothing changed");
        // A new site of one's own, then gone again.
        let new = serde_json::json!({ "name": "Alice Two", "admins": ["alice"], "password": "pw-for-checkins",
            "host": [{ "name": "two.example.org", "country": "AT" }] });
        let (status, body) = api(&base, Method::PUT, "/api/v1/sites/Alice%20Two", Some(&alice), Some(new)).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = api(&base, Method::DELETE, "/api/v1/sites/Alice%20Two", Some(&alice), None).await;
        assert_eq!((status, body["changes"][0].as_str()), (200, Some(r#"- site "Alice Two""#)));
        // The audit log, through the API.
        let (status, body) = api(&base, Method::GET, "/api/v1/audit?site=Alice%20Site", Some(&alice), None).await;
        assert_eq!(status, 200);
        assert_eq!(body["changes"][0]["actor"], "alice");
        assert_eq!(body["changes"][0]["new_value"], "5000");
        assert_eq!(api(&base, Method::GET, "/api/v1/audit?site=Alice%20Site", Some(&bob), None).await.0, 403);
        assert_eq!(api(&base, Method::GET, "/api/v1/audit", Some(&alice), None).await.0, 403);
        // The OpenAPI document names every route of the API.
        let (status, doc) = api(&base, Method::GET, "/openapi.json", None, None).await;
        assert_eq!(status, 200);
        for p in ["/api/v1/sites", "/api/v1/sites/{name}", "/api/v1/audit", "/api/v1/mirrors", "/api/v1/statistics/{day}", "/api/mirroradmins", "/api/repositories"] {
            assert!(doc["paths"].get(p).is_some(), "{p} documented");
        }
        assert_eq!(api(&base, Method::GET, "/api/v1/mirrors", None, None).await.1["total"], 0);
    }
}

/// The network-wide tables (versions, redirects, disabled repositories, country data) and host ACL IPs, through
/// the UI and into the inventory format; only admins may change the network's tables.
#[test]
fn network_tables_and_acl_ips() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        list_world(db).await;
        world(db).await;
        let base = start(db).await;
        let (_, host) = ids(db).await;
        let (root, alice) = (login(&base, "root").await, login(&base, "alice").await);
        let steps: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "/admin/network/version/update",
                vec![
                    ("product", "Fedora"),
                    ("name", "41"),
                    ("codename", "Forty-one"),
                    ("sortorder", "41"),
                    ("current", "false"),
                    ("current", "true"),
                ],
            ),
            (
                "/admin/network/redirect/new",
                vec![("from", "fedora-rawhide"), ("to", "rawhide")],
            ),
            ("/admin/network/disabled/new", vec![("repository", "fedora-41/aarch64")]),
            (
                "/admin/network/continent/new",
                vec![("country", "tw"), ("continent", "as")],
            ),
            (
                "/admin/network/netblock_country/new",
                vec![("netblock", "198.51.100.0/24"), ("country", "TW")],
            ),
            ("/admin/network/embargoed/new", vec![("country", "KP")]),
        ];
        let before = state(db).await;
        for (path, fields) in &steps {
            assert_eq!(post(&base, &alice, path, fields, true).await.0, 403, "alice on {path}");
        }
        assert_eq!(state(db).await, before);
        for (path, fields) in &steps {
            let (status, body) = post(&base, &root, path, fields, true).await;
            assert_eq!(status, 303, "root on {path}: {body}");
        }
        let (status, body) = post(
            &base,
            &root,
            "/admin/network/disabled/new",
            &[("repository", "nope/x86_64")],
            true,
        )
        .await;
        assert_eq!(status, 409, "an unknown repository: {body}");
        let (status, body) = post(
            &base,
            &root,
            "/admin/network/continent/new",
            &[("country", "TW"), ("continent", "XX")],
            true,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        // A site admin adds an ACL IP to her host.
        assert_eq!(
            post(
                &base,
                &alice,
                &format!("/host/{host}/acl/new"),
                &[("ip", "192.0.2.10")],
                true
            )
            .await
            .0,
            303
        );
        let text = to_toml(&store::load(db).await.unwrap());
        for line in [
            "disabled_repositories = [\"fedora-41/aarch64\"]",
            "codename = \"Forty-one\"",
            "sortorder = 41",
            "current = true",
            "fedora-rawhide = \"rawhide\"",
            "TW = \"AS\"",
            "acl_ips = [\"192.0.2.10\"]",
            "embargoed = [\"KP\"]",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        // The export reads back as the same inventory.
        let back = parse("export.toml", &text, &KnownNames::default()).expect("the export parses");
        assert_eq!(back.versions, store::load(db).await.unwrap().versions);
        let disabled: bool = sqlx::query_scalar::<_, mirrorvane_db::Flag>(
            "SELECT r.disabled FROM repository r JOIN arch a ON a.id = r.arch_id WHERE a.name = 'aarch64'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap()
        .into();
        assert!(disabled);
        assert_eq!(
            post(
                &base,
                &root,
                "/admin/network/disabled/delete",
                &[("repository", "fedora-41/aarch64")],
                true
            )
            .await
            .0,
            303
        );
        assert!(
            store::load(db).await.unwrap().disabled_repositories.is_empty(),
            "enabled again, repository kept"
        );
        assert_eq!(
            listed(&get(&base, None, "/mirrors/Fedora/41/aarch64").await.1),
            ["always.good.example", "aarch.good.example"]
        );
        let (status, page) = get(&base, Some(&root), "/admin/network").await;
        assert_eq!(status, 200);
        assert!(page.contains("Forty-one") && page.contains("fedora-rawhide"), "{page}");
        assert!(
            audit_rows(db)
                .await
                .iter()
                .any(|r| r.target == r#"version "Fedora" "41": codename"#)
        );
        // The same tables through the API: read, then replaced by an admin's token; refused to a site admin's.
        let (root_token, alice_token) = (token(db, "root").await, token(db, "alice").await);
        use reqwest::Method;
        let (status, mut network) = api(&base, Method::GET, "/api/v1/network", Some(&alice_token), None).await;
        assert_eq!(status, 200);
        assert_eq!(network["repository_redirects"]["fedora-rawhide"], "rawhide");
        assert_eq!(network["version"][0]["codename"], "Forty-one");
        network["repository_redirects"] = serde_json::json!({ "epel-next": "epel" });
        network["embargoed"] = serde_json::json!(["KP", "CU"]);
        let (status, body) = api(
            &base,
            Method::PUT,
            "/api/v1/network",
            Some(&alice_token),
            Some(network.clone()),
        )
        .await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = api(&base, Method::PUT, "/api/v1/network", Some(&root_token), Some(network)).await;
        assert_eq!(status, 200, "{body}");
        let lines: Vec<&str> = body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        assert_eq!(
            lines,
            [
                r#"- repository_redirect "fedora-rawhide""#,
                r#"+ embargoed "CU""#,
                r#"+ repository_redirect "epel-next" = "epel""#
            ],
            "only what differs"
        );
        let (status, _) = api(
            &base,
            Method::PUT,
            "/api/v1/network",
            Some(&root_token),
            Some(serde_json::json!({ "site": [] })),
        )
        .await;
        assert_eq!(status, 400, "sites are not the network's tables");
    });
}

/// Making a host private marks its directories not up to date until its next crawl or check-in (MirrorManager's
/// `set_not_up2date`), whoever makes the change.
#[test]
fn a_host_made_private_is_not_up_to_date() {
    mirrorvane_db::testing::run_case(mirrorvane_db::Engine::Sqlite, |t| async move {
        // Moved whole: capturing only its fields would drop the temporary directory under the database.
        let t = t;
        let db = &t.db;
        list_world(db).await;
        world(db).await;
        let base = start(db).await;
        let root = login(&base, "root").await;
        let host =
            mirrorvane_db::sites::host_place_by_name(&mut db.acquire().await.unwrap(), "Good", "listed.good.example")
                .await
                .unwrap()
                .unwrap()
                .id;
        let states = || async {
            crawl::host_categories(&mut db.acquire().await.unwrap(), Some(host))
                .await
                .unwrap()
        };
        assert!(
            states().await.iter().all(|hc| hc.up2date_set_id.is_some()),
            "up to date before"
        );
        let fields = [("private", "false"), ("private", "true")];
        assert_eq!(post(&base, &root, &format!("/host/{host}"), &fields, true).await.0, 303);
        let after = states().await;
        assert!(
            after
                .iter()
                .all(|hc| hc.up2date_set_id.is_none() && hc.stale_set_id.is_some()),
            "{after:?}"
        );
        assert!(
            listed(&get(&base, None, "/mirrors").await.1)
                .iter()
                .all(|h| h != "listed.good.example")
        );
    });
}
