//! Check-in of private mirrors through `mirrorvane serve`'s routes on a real HTTP server, on SQLite and
//! PostgreSQL: `mirrorvane report` walking a local tree and a payload built by hand exactly as `report_mirror`
//! builds it, over XML-RPC and JSON; the state they leave and the snapshot's answers; and every refusal (wrong
//! password, unknown site, public host, unknown category, oversize, bz2 bomb, malformed XML, pickle) with a
//! clear reply and nothing changed.

use std::io::Write as _;
use std::net::SocketAddr;

use mirrorvane_backend::commands::{inventory, report, scan, sites};
use mirrorvane_builder::{self as builder, Options};
use mirrorvane_db::{Database, engine_tests};
use mirrorvane_selector::{Context, Request, SeededRandom, Selector, Workspace};
use mirrorvane_testkit::fixture::Geo;
use mirrorvane_testkit::mirror::copy_tree;
use mirrorvane_testkit::tree;
use mirrorvane_web::checkin::payload::encode_xmlrpc;

const CAT: &str = "Fedora Linux";
const REPODATA_41: &str = "releases/41/Everything/x86_64/os/repodata";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const INVENTORY: &str = r#"
[[product]]
name = "Fedora"

[[category]]
name = "Fedora Linux"
product = "Fedora"
topdir = "pub/fedora/linux"

[[category]]
name = "Fedora EPEL"
product = "Fedora"
topdir = "pub/epel"

[[arch]]
name = "x86_64"

[[arch]]
name = "aarch64"

[[arch]]
name = "source"
publiclist = false

[[site]]
name = "Campus"
password = "s3cret"

[[site.host]]
name = "private.campus.test"
country = "DE"
private = true
netblocks = ["192.0.2.0/24"]

[[site.host.category]]
name = "Fedora Linux"
urls = ["http://private.campus.test/fedora/linux"]

[[site.host]]
name = "public.campus.test"
country = "DE"

[[site.host.category]]
name = "Fedora Linux"
urls = ["http://public.campus.test/fedora/linux"]
"#;

/// A scanned primary, the inventory, and the web service on 127.0.0.1; returns (tempdir, primary root, address).
async fn setup(db: &Database) -> (tempfile::TempDir, std::path::PathBuf, SocketAddr) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("inventory.toml");
    std::fs::write(&file, INVENTORY).unwrap();
    let args = inventory::ApplyArgs {
        file,
        dry_run: false,
        prune: false,
    };
    inventory::apply_file(db, &args, &mut std::io::sink()).await.unwrap();
    let primary = tmp.path().join("primary");
    tree::write(&primary, (now() - 3600) as u64).unwrap();
    let scan = scan::Args {
        categories: vec![CAT.into()],
        path: Some(primary.join("pub/fedora/linux")),
        max_stale_days: 4,
        ..Default::default()
    };
    scan::run(db, &scan).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = mirrorvane_web::router(
        db.clone(),
        mirrorvane_web::Config {
            snapshot: tmp.path().join("none.snapshot"),
            limits: mirrorvane_web::checkin::Limits::default(),
            publishing: mirrorvane_web::snapshot::Publishing::default(),
            accounts: mirrorvane_web::AccountsConfig::default(),
        },
    )
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (tmp, primary, addr)
}

/// Everything a check-in may change, to compare before and after a refusal.
async fn state(db: &Database) -> Vec<String> {
    type StateRow = (i64, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<StateRow> = sqlx::query_as(
        "SELECT hc.id, hc.up2date_set_id, hc.stale_set_id, hc.checked_at FROM host_category hc ORDER BY hc.id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let hosts: Vec<(i64, Option<i64>, mirrorvane_db::Flag)> =
        sqlx::query_as("SELECT id, last_checked_in, user_active FROM host ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let sets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM directory_set")
        .fetch_one(db.pool())
        .await
        .unwrap();
    vec![format!("{rows:?}"), format!("{hosts:?}"), format!("{sets}")]
}

/// The directories the host category of `host` has up to date, by name relative to the category.
async fn up_to_date(db: &Database, host: &str) -> Vec<String> {
    let mut conn = db.acquire().await.unwrap();
    let id = mirrorvane_db::crawl::host_id(&mut conn, host).await.unwrap().unwrap();
    let hc = mirrorvane_db::crawl::host_categories(&mut conn, Some(id))
        .await
        .unwrap()
        .remove(0);
    let set = mirrorvane_db::crawl::directory_set(&mut conn, hc.up2date_set_id)
        .await
        .unwrap();
    let mut names: Vec<String> = mirrorvane_db::categories::directories_of(&mut conn, hc.category_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| set.contains(d.id))
        .map(|d| {
            d.name
                .trim_start_matches("pub/fedora/linux")
                .trim_start_matches('/')
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

async fn post(addr: SocketAddr, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Sends only the headers of a POST declaring `length` bytes and reads the answer.
async fn declared_only(addr: SocketAddr, path: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nContent-Length: {length}\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn call(data: &str) -> Vec<u8> {
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>checkin</methodName>\n<params>\n<param>\n\
         <value><string>{data}</string></value>\n</param>\n</params>\n</methodCall>\n"
    )
    .into_bytes()
}

/// report_mirror's payload, built by hand as reference §5.6 describes it.
fn payload(password: &str, host: &str, category: &str, dirs: &[&str]) -> String {
    let tree: Vec<String> = dirs.iter().map(|d| format!("\"{d}\": {{}}")).collect();
    format!(
        r#"{{"version": 0, "global": {{"enabled": "1", "server": "http://x/xmlrpc"}},
            "site": {{"enabled": "1", "name": "Campus", "password": "{password}"}},
            "host": {{"enabled": "1", "name": "{host}"}}, "stats": {{}},
            "{category}": {{"enabled": "1", "dirtree": {{{}}}}}}}"#,
        tree.join(", ")
    )
}

fn string_reply(body: &str) -> String {
    match mirrorvane_web::checkin::xmlrpc::parse_response(body).unwrap() {
        mirrorvane_web::checkin::xmlrpc::Answer::Value(v) => v,
        other => panic!("expected a string reply, got {other:?}"),
    }
}

fn fault(body: &str) -> String {
    match mirrorvane_web::checkin::xmlrpc::parse_response(body).unwrap() {
        mirrorvane_web::checkin::xmlrpc::Answer::Fault(_, m) => m,
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// The hosts of a metalink for fedora-41/x86_64 answered to a client in the private host's netblock.
async fn metalink_hosts(db: &Database) -> Vec<String> {
    let built = builder::build(
        db,
        Options {
            created: now() as u64,
            resolve_names: false,
        },
    )
    .await
    .unwrap();
    let sel = Selector::new(built.snapshot).unwrap();
    let geo = Geo(vec![("192.0.2.5", Some("DE"), None)]);
    let mut random = SeededRandom::new(1);
    let mut ws = Workspace::new();
    let answer = sel.handle(
        &Request {
            path: "/metalink",
            query: "repo=fedora-41&arch=x86_64",
            forwarded_for: None,
            accept: None,
            peer: "192.0.2.5".parse().unwrap(),
        },
        &mut Context {
            now: now() as u64,
            minimum: 5,
            locate: &geo,
            random: &mut random,
        },
        &mut ws,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    ["private.campus.test", "public.campus.test"]
        .into_iter()
        .filter(|h| answer.body.contains(h))
        .map(str::to_owned)
        .collect()
}

engine_tests! {
    /// `mirrorvane report` walks a private mirror's tree and checks in over XML-RPC; the directories it
    /// has become its state, and the snapshot offers it to its netblock's clients.
    async fn report_checks_in_a_private_mirror(t) {
        let db = &t.db;
        let (tmp, primary, addr) = setup(db).await;
        assert!(metalink_hosts(db).await.is_empty());
        // The mirror has everything but the updates.
        let mirror = tmp.path().join("mirror");
        copy_tree(&primary.join("pub/fedora/linux"), &mirror).unwrap();
        std::fs::remove_dir_all(mirror.join("updates")).unwrap();
        std::fs::create_dir_all(mirror.join("not-on-the-primary/x")).unwrap();
        let excludes = tmp.path().join("excludes");
        std::fs::write(&excludes, "/iso/\n").unwrap();
        let password = tmp.path().join("password");
        std::fs::write(&password, "s3cret\n").unwrap();
        let args = report::Args {
            server: Some(format!("http://{addr}/xmlrpc")),
            site: Some("Campus".into()),
            password_file: Some(password.clone()),
            host: Some("private.campus.test".into()),
            categories: vec![format!("{CAT}={}", mirror.display())],
            exclude_from: Some(excludes),
            ..report::Args::default()
        };
        let reply = report::run(&args).await.expect("the check-in is accepted");
        let expected_dirs = report::walk(&mirror, &["/iso/".into()]).unwrap();
        let known = expected_dirs.iter().filter(|d| !d.starts_with("not-on-the-primary")).count();
        assert_eq!(
            reply,
            format!("Category Fedora Linux directories updated: 0  added: {known}  deleted 0\nchecked in successful")
        );
        let up = up_to_date(db, "private.campus.test").await;
        assert!(up.contains(&REPODATA_41.to_owned()), "{up:?}");
        assert!(!up.iter().any(|d| d.starts_with("updates") || d.contains("/iso")), "{up:?}");
        assert_eq!(up.len(), known);
        let checked_in: Option<i64> = sqlx::query_scalar("SELECT last_checked_in FROM host WHERE name = 'private.campus.test'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(checked_in.is_some_and(|t| t >= now() - 60));
        assert_eq!(metalink_hosts(db).await, ["private.campus.test"]);

        // Checking in again with fewer directories: the others are deleted from its state.
        std::fs::remove_dir_all(mirror.join("releases/41/Everything/x86_64/os")).unwrap();
        let reply = report::run(&args).await.unwrap();
        assert!(reply.starts_with(&format!("Category Fedora Linux directories updated: {}  added: 0  deleted 4\n", known - 4)), "{reply}");
        assert!(metalink_hosts(db).await.is_empty());

        // --no-send builds and writes the payload only.
        let out = tmp.path().join("payload.json");
        let dry = report::Args { no_send: true, output: Some(out.clone()), ..args.clone() };
        let before = state(db).await;
        report::run(&dry).await.unwrap();
        assert_eq!(state(db).await, before);
        let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(written["version"], 0);
        assert!(written["fedora linux"]["dirtree"]["releases/41"].is_object());

        // A wrong password: refused, nothing changed, and the command fails.
        let wrong = tmp.path().join("wrong");
        std::fs::write(&wrong, "guess").unwrap();
        let refused = report::run(&report::Args { password_file: Some(wrong.clone()), ..args.clone() }).await;
        assert!(refused.is_err());
        assert_eq!(state(db).await, before);

        // The site's admins change the password (`mirrorvane site edit --password-file`): the new one works,
        // the old one no longer does.
        let edit = sites::SiteCommand::Edit {
            name: "Campus".into(),
            org_url: None,
            private: None,
            rename: None,
            password_file: Some(wrong.clone()),
        };
        sites::site(db, &edit, &mut std::io::sink()).await.unwrap();
        assert!(report::run(&args).await.is_err());
        report::run(&report::Args { password_file: Some(wrong), ..args.clone() }).await.expect("the new password");
    }
}

engine_tests! {
    /// The wire format by hand, over XML-RPC and JSON, and every refusal.
    async fn the_wire_format_and_its_refusals(t) {
        let db = &t.db;
        let (_tmp, _primary, addr) = setup(db).await;
        let dirs = ["", "releases", "releases/41", "releases/41/Everything", "releases/41/Everything/x86_64",
                    "releases/41/Everything/x86_64/os", REPODATA_41];

        // Accepted: a payload as report_mirror builds it.
        let good = payload("s3cret", "private.campus.test", "fedora linux", &dirs);
        let (status, body) = post(addr, "/xmlrpc", "text/xml", call(&encode_xmlrpc(good.as_bytes()))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            string_reply(&body),
            "Category Fedora Linux directories updated: 0  added: 7  deleted 0\nchecked in successful"
        );
        assert_eq!(up_to_date(db, "private.campus.test").await.len(), 7);
        assert_eq!(metalink_hosts(db).await, ["private.campus.test"]);
        let before = state(db).await;

        // Refused by content: a string reply ending as MirrorManager's does, nothing changed.
        for (json, reply) in [
            (payload("guess", "private.campus.test", "fedora linux", &dirs),
             "Config file site name or password incorrect.\nerror checking in"),
            (payload("s3cret", "public.campus.test", "fedora linux", &dirs),
             "Only private mirrors are allowed to use report_mirror.\nerror checking in"),
            (payload("s3cret", "nobody.campus.test", "fedora linux", &dirs),
             "Config file host name for site not found.\nerror checking in"),
            (payload("s3cret", "private.campus.test", "fedora epel", &dirs),
             "Category fedora epel is not a category of host private.campus.test; add it to the host first \
              (a check-in does not add categories).\nerror checking in"),
            (good.replace("\"Campus\"", "\"Elsewhere\""),
             "Config file site name or password incorrect.\nerror checking in"),
            (good.replace("\"version\": 0", "\"version\": 2"),
             "config file version is not 0, is 2.\nInvalid config file provided, please check your report_mirror.conf.\nerror checking in"),
        ] {
            let (status, body) = post(addr, "/xmlrpc", "text/xml", call(&encode_xmlrpc(json.as_bytes()))).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(string_reply(&body), reply);
            assert_eq!(state(db).await, before, "{reply}");
        }

        // Refused as unreadable: faults, nothing changed.
        let bomb = {
            let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
            bz.write_all(&vec![b' '; 100 << 20]).unwrap();
            base64_url(&bz.finish().unwrap())
        };
        let pickle = {
            let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
            bz.write_all(b"\x80\x02}q\x00(U\x07versionq\x01K\x00u.").unwrap();
            base64_url(&bz.finish().unwrap())
        };
        for (body, expected) in [
            (call(&bomb), "decompresses to more than"),
            (call(&pickle), "is not JSON (pickled check-ins are not accepted"),
            (call("@@@not base64@@@"), "is not URL-safe base64"),
            (call(&base64_url(b"plain text")), "is not bz2-compressed data"),
            (b"<methodCall><methodName>checkin</methodName><params><param>".to_vec(), "malformed XML-RPC request"),
            (b"{\"json\": \"is not xml\"}".to_vec(), "malformed XML-RPC request"),
            (b"<?xml version='1.0'?><methodCall><methodName>system.listMethods</methodName><params/></methodCall>".to_vec(),
             "unknown method \"system.listMethods\""),
            (b"<methodCall><methodName>checkin</methodName><params/></methodCall>".to_vec(), "checkin takes one string"),
        ] {
            let (status, reply) = post(addr, "/xmlrpc", "text/xml", body).await;
            assert_eq!(status, 200, "{reply}");
            let message = fault(&reply);
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
            assert_eq!(state(db).await, before, "{expected}");
        }
        // Oversize: refused on its declared length, before the body is sent (a client writing 9 MiB to a server
        // that has answered would see the connection closed under it instead of the reply).
        let reply = declared_only(addr, "/xmlrpc", 9 << 20).await;
        assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
        assert!(fault(reply.split("\r\n\r\n").nth(1).unwrap_or_default()).contains("larger than"), "{reply}");
        assert_eq!(state(db).await, before);

        // The JSON endpoint: the same semantics.
        let fewer = payload("s3cret", "private.campus.test", "fedora linux", &dirs[..3]);
        let (status, reply) = post(addr, "/checkin/json", "application/json", fewer.into_bytes()).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply, "Category Fedora Linux directories updated: 3  added: 0  deleted 4\nchecked in successful");
        let gz = {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(good.as_bytes()).unwrap();
            gz.finish().unwrap()
        };
        let (status, reply) = post(addr, "/checkin/json", "application/gzip", gz).await;
        assert_eq!(status, 200, "{reply}");
        assert!(reply.contains("added: 4  deleted 0"), "{reply}");
        let after = state(db).await;
        let (status, reply) = post(addr, "/checkin/json", "application/json",
            payload("guess", "private.campus.test", "fedora linux", &dirs).into_bytes()).await;
        assert_eq!((status, reply.as_str()), (406, "Config file site name or password incorrect.\nerror checking in"));
        let (status, _) = post(addr, "/checkin/json", "text/plain", b"{}".to_vec()).await;
        assert_eq!(status, 415);
        let (status, reply) = post(addr, "/checkin/json", "application/json", b"{not json".to_vec()).await;
        assert_eq!(status, 400, "{reply}");
        assert_eq!(state(db).await, after);
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

engine_tests! {
    /// `/crawler/<host>.log` serves the kept logs of a host, oldest first; unknown hosts are 404.
    async fn crawl_logs_are_served(t) {
        let db = &t.db;
        let (_tmp, _primary, addr) = setup(db).await;
        let mut conn = db.acquire().await.unwrap();
        let id = mirrorvane_db::crawl::host_id(&mut conn, "public.campus.test").await.unwrap().unwrap();
        drop(conn);
        for (i, text) in ["first crawl\n", "second crawl\n"].into_iter().enumerate() {
            let crawl = mirrorvane_db::crawl::HostCrawl {
                host: id,
                finished_at: now() + i as i64,
                duration: Some(1),
                crawl_failures: Some(0),
                user_active: None,
                ipv4_reachable: Some(true),
                ipv6_reachable: None,
                states: Vec::new(),
                observations: Vec::new(),
                log: mirrorvane_db::crawl::CrawlLog {
                    crawler: "c".into(),
                    started_at: now(),
                    finished_at: now(),
                    outcome: "success".into(),
                    requests: 1,
                    text: text.into(),
                },
            };
            mirrorvane_db::crawl::record(db, &crawl).await.unwrap();
        }
        let get = |path: String| async move {
            let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        };
        assert_eq!(get("/crawler/public.campus.test.log".into()).await, (200, "first crawl\nsecond crawl\n".into()));
        assert_eq!(get(format!("/crawler/{id}.log")).await.0, 200);
        assert_eq!(get("/crawler/private.campus.test.log".into()).await.0, 404);
        assert_eq!(get("/crawler/nobody.log".into()).await.0, 404);
    }
}
