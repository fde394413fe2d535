//! Inventory as code against a real database, on SQLite and PostgreSQL: `apply` of the Fedora-like fixture,
//! idempotence, export round trip, edits (including URL moves, pruning and crawler state), dry runs, refusals
//! that leave the database untouched, passwords, and the single site/host commands.

use std::path::PathBuf;

use clap::Parser;
use mirrorvane_backend::commands::inventory::{ApplyArgs, ApplyOutcome, apply_file, export_text};
use mirrorvane_backend::commands::sites::{self, HostCommand, SiteCommand};
use mirrorvane_builder::{self as builder, Options};
use mirrorvane_db::{Database, Flag, engine_tests};
use mirrorvane_inventory::store::{self, StoreError};
use mirrorvane_inventory::{Change, Inventory, Key, KnownNames, Prune, Value, diff, parse};

const FEDORA: &str = include_str!("../../inventory/src/testdata/fedora.toml");

const TABLES: &[&str] = &[
    "product",
    "category",
    "arch",
    "site",
    "site_admin",
    "host",
    "host_category",
    "host_category_url",
    "host_netblock",
    "host_peer_asn",
    "host_country_allowed",
    "country_continent_redirect",
    "netblock_country",
    "embargoed_country",
];

async fn count(db: &Database, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .expect("count")
}

async fn counts(db: &Database) -> Vec<i64> {
    let mut all = Vec::new();
    for t in TABLES {
        all.push(count(db, t).await);
    }
    all
}

/// Writes `text` to a temporary `fedora.toml` and applies it as `mirrorvane apply` would.
async fn apply_text(db: &Database, text: &str, prune: bool, dry_run: bool) -> anyhow::Result<(ApplyOutcome, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file: PathBuf = dir.path().join("fedora.toml");
    std::fs::write(&file, text).expect("write file");
    let mut out = Vec::new();
    let outcome = apply_file(db, &ApplyArgs { file, dry_run, prune }, &mut out).await?;
    Ok((outcome, String::from_utf8(out).expect("utf-8 output")))
}

fn fixture() -> Inventory {
    parse("fedora.toml", FEDORA, &KnownNames::default()).expect("fixture parses")
}

fn without_passwords(mut inv: Inventory) -> Inventory {
    store::strip_passwords(&mut inv);
    inv
}

/// The fixture with mirror.example.edu at 20000 Mbit/s, the rsync URL of ftp.example.jp moved to ftp2.example.jp,
/// and cache.cloud.example gone.
fn edited() -> String {
    let start = FEDORA
        .find("[[site.host]]\nname = \"cache.cloud.example\"")
        .expect("cache host");
    let end = FEDORA.find("[country_continent]").expect("country_continent");
    let text = format!("{}{}", &FEDORA[..start], &FEDORA[end..]);
    let text = text.replacen("bandwidth = 10000", "bandwidth = 20000", 1);
    let text = text.replacen(
        r#"urls = ["https://ftp.example.jp/pub/Linux/fedora/linux", "rsync://ftp.example.jp/fedora"]"#,
        r#"urls = ["https://ftp.example.jp/pub/Linux/fedora/linux"]"#,
        1,
    );
    let moved = text.replacen(
        r#"urls = ["http://ftp2.example.jp/archive"]"#,
        r#"urls = ["http://ftp2.example.jp/archive", "rsync://ftp.example.jp/fedora"]"#,
        1,
    );
    assert_ne!(moved, text, "fixture changed: edits no longer apply");
    moved
}

fn host<'a>(inv: &'a Inventory, site: &str, name: &str) -> Option<&'a mirrorvane_inventory::Host> {
    inv.sites
        .iter()
        .find(|s| s.name == site)?
        .hosts
        .iter()
        .find(|h| h.name == name)
}

engine_tests! {
    async fn fixture_applies_idempotently_exports_back_and_builds(t) {
        let engine = t.engine();
        let want = fixture();
        let (first, out) = apply_text(&t.db, FEDORA, false, false).await.expect("applies");
        let report = first.report.expect("applied");
        assert_eq!(report.total(), first.changes.len());
        assert_eq!(report.removed, 0);
        assert!(
            out.ends_with(&format!(
                "applied {} changes: {} added, 0 updated, 0 removed\n",
                report.total(),
                report.added
            )),
            "{out}"
        );
        assert_eq!(count(&t.db, "product").await, 3);
        assert_eq!(count(&t.db, "category").await, 5);
        assert_eq!(count(&t.db, "arch").await, 4);
        assert_eq!(count(&t.db, "site").await, 3);
        assert_eq!(count(&t.db, "host").await, 5);
        assert_eq!(count(&t.db, "host_netblock").await, 7);
        let urls: usize = want
            .sites
            .iter()
            .flat_map(|s| &s.hosts)
            .flat_map(|h| &h.categories)
            .map(|c| c.urls.len())
            .sum();
        assert_eq!(count(&t.db, "host_category_url").await, urls as i64);
        assert_eq!(count(&t.db, "embargoed_country").await, 4);

        // Idempotent: the second run finds nothing to do (the password is compared against its hash).
        let (again, out) = apply_text(&t.db, FEDORA, true, false).await.expect("applies again");
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert_eq!(out, "no changes\n");

        // Export → parse gives the file's inventory (but for the password, which is never exported).
        let text = export_text(&t.db).await.expect("exports");
        assert!(!text.contains("s3cret") && !text.contains("argon2"), "{text}");
        let back = parse("export.toml", &text, &KnownNames::default()).expect("export parses");
        assert_eq!(back, without_passwords(want.clone()));

        let built = builder::build(
            &t.db,
            Options {
                created: 1,
                resolve_names: false,
            },
        )
        .await;
        assert!(built.is_ok(), "{engine:?}: {:?}", built.err());
    }
}

engine_tests! {
    async fn edits_move_urls_prune_hosts_and_keep_crawler_state(t) {
        apply_text(&t.db, FEDORA, false, false).await.expect("applies");
        // Crawler state on a host category the edit keeps (its URL list changes).
        sqlx::query("INSERT INTO directory_set (id, digest, members, count) VALUES (1000, 'd', $1, 0)")
            .bind(Vec::<u8>::new())
            .execute(t.db.pool())
            .await
            .expect("directory set");
        let hc = "(SELECT hc.id FROM host_category hc JOIN host h ON h.id = hc.host_id \
                  JOIN category c ON c.id = hc.category_id WHERE h.name = 'ftp.example.jp' AND c.name = 'Fedora Linux')";
        sqlx::query(&format!(
            "UPDATE host_category SET up2date_set_id = 1000 WHERE id = {hc}"
        ))
        .execute(t.db.pool())
        .await
        .expect("set state");

        let (outcome, out) = apply_text(&t.db, &edited(), true, false)
            .await
            .expect("applies the edit");
        let jp = |host: &str, category: &str| Key::HostCategoryUrl {
            site: "Tokyo Mirror Co.".into(),
            host: host.into(),
            category: category.into(),
            url: "rsync://ftp.example.jp/fedora".into(),
        };
        let expected = [
            Change::Remove {
                key: jp("ftp.example.jp", "Fedora Linux"),
            },
            Change::Remove {
                key: Key::Host {
                    site: "Private Cloud".into(),
                    host: "cache.cloud.example".into(),
                },
            },
            Change::Update {
                key: Key::Host {
                    site: "Example University".into(),
                    host: "mirror.example.edu".into(),
                },
                field: "bandwidth",
                from: Value::Int(10000),
                to: Value::Int(20000),
            },
        ];
        for e in &expected {
            assert!(outcome.changes.contains(e), "missing {e}:\n{out}");
        }
        assert!(
            outcome
                .changes
                .iter()
                .any(|c| matches!(c, Change::Add { key, .. } if *key == jp("ftp2.example.jp", "Fedora Archive"))),
            "{out}"
        );
        assert_eq!(outcome.changes.len(), 4, "{out}");
        assert!(
            out.contains("applied 4 changes: 1 added, 1 updated, 2 removed"),
            "{out}"
        );

        let now = store::load(&t.db).await.expect("loads");
        assert_eq!(
            host(&now, "Example University", "mirror.example.edu")
                .expect("host")
                .bandwidth,
            20000
        );
        assert!(host(&now, "Private Cloud", "cache.cloud.example").is_none());
        assert!(now.sites.iter().any(|s| s.name == "Private Cloud"), "the site stays");
        let ftp2 = host(&now, "Tokyo Mirror Co.", "ftp2.example.jp").expect("ftp2");
        assert!(
            ftp2.categories[0]
                .urls
                .iter()
                .any(|u| u.url == "rsync://ftp.example.jp/fedora")
        );
        let set: Option<i64> = sqlx::query_scalar(&format!("SELECT up2date_set_id FROM host_category WHERE id = {hc}"))
            .fetch_one(t.db.pool())
            .await
            .expect("state");
        assert_eq!(set, Some(1000));

        let (again, _) = apply_text(&t.db, &edited(), true, false).await.expect("again");
        assert!(again.changes.is_empty(), "{:?}", again.changes);
    }
}

engine_tests! {
    async fn dry_run_changes_nothing(t) {
        let (dry, out) = apply_text(&t.db, FEDORA, false, true).await.expect("dry run on empty");
        assert!(!dry.changes.is_empty() && dry.report.is_none());
        assert!(out.contains("+ site \"Example University\""), "{out}");
        assert!(counts(&t.db).await.iter().all(|&n| n == 0));

        apply_text(&t.db, FEDORA, false, false).await.expect("applies");
        let (before, rows) = (store::load(&t.db).await.expect("load"), counts(&t.db).await);
        let (dry, out) = apply_text(&t.db, &edited(), true, true).await.expect("dry run");
        assert_eq!(dry.changes.len(), 4, "{out}");
        assert!(
            out.contains("~ site \"Example University\" / host \"mirror.example.edu\": bandwidth 10000 → 20000"),
            "{out}"
        );
        assert!(out.contains("dry run: 4 changes not applied"), "{out}");
        assert_eq!(counts(&t.db).await, rows);
        assert_eq!(store::load(&t.db).await.expect("load"), before);
    }
}

engine_tests! {
    async fn malformed_files_and_url_conflicts_are_refused_unchanged(t) {
        let bad = FEDORA.replacen("country = \"JP\"", "country = \"JPN\"", 1).replacen(
            "name = \"Fedora Secondary Arches\"\nurls",
            "name = \"Fedora Tertiary\"\nurls",
            1,
        );
        let thief = r#"
    [[site]]
    name = "Thief"

    [[site.host]]
    name = "thief.example"
    country = "FR"

    [[site.host.category]]
    name = "Fedora EPEL"
    urls = ["https://mirror.example.edu/epel/"]
    "#;
        apply_text(&t.db, FEDORA, false, false).await.expect("applies");
        let (before, rows) = (store::load(&t.db).await.expect("load"), counts(&t.db).await);

        let err = apply_text(&t.db, &bad, false, false)
            .await
            .expect_err("bad file")
            .to_string();
        let country_line = bad.lines().position(|l| l.contains("\"JPN\"")).expect("line") + 1;
        assert!(err.contains(&format!("fedora.toml:{country_line}:")), "{err}");
        assert!(err.contains("\"JPN\" is not a two-letter"), "{err}");
        assert!(err.contains("unknown category \"Fedora Tertiary\""), "{err}");
        assert_eq!(err.lines().count(), 2, "{err}");

        for dry_run in [true, false] {
            let err = apply_text(&t.db, thief, false, dry_run)
                .await
                .expect_err("conflict")
                .to_string();
            assert!(
                err.contains("https://mirror.example.edu/epel") && err.contains("already belongs"),
                "{err}"
            );
        }
        // The store refuses by itself too.
        let changes = diff(
            &before,
            &parse("t.toml", thief, &KnownNames::of(&before)).expect("parses"),
            Prune::No,
        );
        assert!(matches!(store::apply(&t.db, &changes, "test").await, Err(StoreError::UrlConflicts(c)) if c.len() == 1));

        assert_eq!(counts(&t.db).await, rows);
        assert_eq!(store::load(&t.db).await.expect("load"), before);
    }
}

engine_tests! {
    async fn passwords_are_hashed_and_compared(t) {
        apply_text(&t.db, FEDORA, false, false).await.expect("applies");
        let hash = || async {
            sqlx::query_scalar::<_, Option<String>>("SELECT password_hash FROM site WHERE name = 'Example University'")
                .fetch_one(t.db.pool())
                .await
                .expect("site")
                .expect("set")
        };
        let first = hash().await;
        assert!(first.starts_with("$argon2id$") && !first.contains("s3cret"), "{first}");
        assert!(store::password_matches(Some(&first), "s3cret"));
        assert!(!store::password_matches(Some(&first), "other"));

        let changed = FEDORA.replacen("password = \"s3cret\"", "password = \"n3w\"", 1);
        let (outcome, out) = apply_text(&t.db, &changed, false, false).await.expect("applies");
        assert_eq!(outcome.changes.len(), 1, "{out}");
        assert!(out.contains("password changed") && !out.contains("n3w"), "{out}");
        let second = hash().await;
        assert!(store::password_matches(Some(&second), "n3w"));
        // A file without a password keeps the stored one.
        let none = FEDORA.replacen("password = \"s3cret\"\n", "", 1);
        let (outcome, _) = apply_text(&t.db, &none, false, false).await.expect("applies");
        assert!(outcome.changes.is_empty());
        assert_eq!(hash().await, second);
    }
}

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    #[command(subcommand)]
    Site(SiteCommand),
    #[command(subcommand)]
    Host(HostCommand),
}

/// Runs `mirrorvane ARGS…` for the site and host commands; the output and the result.
async fn cli(db: &Database, args: &[&str]) -> anyhow::Result<String> {
    let parsed = Cli::try_parse_from(std::iter::once("mirrorvane").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    match parsed.cmd {
        Cmd::Site(cmd) => sites::site(db, &cmd, &mut out).await?,
        Cmd::Host(cmd) => sites::host(db, &cmd, &mut out).await?,
    }
    Ok(String::from_utf8(out).expect("utf-8"))
}

async fn flag(db: &Database, sql: &str) -> bool {
    let flag: Flag = sqlx::query_scalar(sql).fetch_one(db.pool()).await.expect("row");
    flag.into()
}

engine_tests! {
    async fn site_and_host_commands(t) {
        let db = &t.db;
        apply_text(db, FEDORA, false, false).await.expect("applies");
        let site_hash = |inv: &Inventory| {
            inv.sites
                .iter()
                .find(|s| s.name == "Example University")
                .and_then(|s| s.password.clone())
        };
        let hash_before = site_hash(&store::load(db).await.expect("load"));

        cli(
            db,
            &[
                "site",
                "add",
                "New Site",
                "--org-url",
                "https://new.example",
                "--admin",
                "carol",
                "--admin",
                "dave",
            ],
        )
        .await
        .expect("site add");
        let out = cli(
            db,
            &[
                "host",
                "add",
                "New Site",
                "mirror.new.example",
                "--country",
                "fr",
                "--bandwidth",
                "500",
                "--netblock",
                "192.0.2.9",
                "--category",
                "Fedora Linux",
                "--url",
                "https://mirror.new.example/fedora/",
                "--private-url",
                "rsync://mirror.new.example/fedora",
            ],
        )
        .await
        .expect("host add");
        assert!(
            out.contains("+ site \"New Site\" / host \"mirror.new.example\""),
            "{out}"
        );
        let inv = store::load(db).await.expect("load");
        let h = host(&inv, "New Site", "mirror.new.example").expect("added");
        assert_eq!((h.country.as_str(), h.bandwidth), ("FR", 500));
        assert_eq!(h.netblocks[0].netblock, "192.0.2.9/32");
        assert_eq!(h.categories[0].urls.len(), 2);
        assert_eq!(h.categories[0].urls[0].url, "https://mirror.new.example/fedora");
        assert_eq!(
            inv.sites.iter().find(|s| s.name == "New Site").expect("site").admins,
            ["carol", "dave"]
        );
        // Single commands never touch other sites' passwords.
        assert_eq!(site_hash(&inv), hash_before);

        cli(
            db,
            &[
                "host",
                "edit",
                "New Site",
                "mirror.new.example",
                "--bandwidth",
                "1000",
                "--private",
                "true",
                "--asn",
                "64510",
            ],
        )
        .await
        .expect("host edit");
        let inv = store::load(db).await.expect("load");
        let h = host(&inv, "New Site", "mirror.new.example").expect("host");
        assert_eq!((h.bandwidth, h.private, h.asn), (1000, true, Some(64510)));

        cli(db, &["host", "disable", "New Site", "mirror.new.example"])
            .await
            .expect("host disable");
        assert!(!flag(db, "SELECT admin_active FROM host WHERE name = 'mirror.new.example'").await);
        cli(db, &["host", "enable", "New Site", "mirror.new.example"])
            .await
            .expect("host enable");
        assert!(flag(db, "SELECT admin_active FROM host WHERE name = 'mirror.new.example'").await);
        cli(db, &["site", "disable", "New Site"]).await.expect("site disable");
        assert!(!flag(db, "SELECT admin_active FROM site WHERE name = 'New Site'").await);
        cli(
            db,
            &[
                "site",
                "edit",
                "New Site",
                "--private",
                "true",
                "--rename",
                "Renamed Site",
            ],
        )
        .await
        .expect("rename");
        assert!(flag(db, "SELECT private FROM site WHERE name = 'Renamed Site'").await);
        assert!(
            host(
                &store::load(db).await.expect("load"),
                "Renamed Site",
                "mirror.new.example"
            )
            .is_some()
        );

        // Bad input: clear errors, nothing written.
        let rows = counts(db).await;
        let before = store::load(db).await.expect("load");
        for (args, expected) in [
            (
                vec!["site", "edit", "Nope", "--private", "true"],
                "unknown site \"Nope\"",
            ),
            (vec!["site", "add", "Renamed Site"], "already exists"),
            (vec!["site", "remove", "Nope"], "unknown site \"Nope\""),
            (
                vec!["host", "add", "Nope", "x.example", "--country", "FR"],
                "unknown site \"Nope\"",
            ),
            (
                vec!["host", "add", "Renamed Site", "x.example", "--country", "FRA"],
                "\"FRA\" is not a two-letter",
            ),
            (
                vec![
                    "host",
                    "add",
                    "Renamed Site",
                    "x.example",
                    "--country",
                    "FR",
                    "--bandwidth",
                    "0",
                ],
                "bandwidth must be",
            ),
            (
                vec![
                    "host",
                    "add",
                    "Renamed Site",
                    "x.example",
                    "--country",
                    "FR",
                    "--category",
                    "Nope",
                ],
                "unknown category",
            ),
            (
                vec!["host", "add", "Renamed Site", "x y", "--country", "FR"],
                "whitespace",
            ),
            (
                vec![
                    "host",
                    "add",
                    "Renamed Site",
                    "x.example",
                    "--country",
                    "FR",
                    "--category",
                    "Fedora Linux",
                    "--url",
                    "ftp://x.example/f",
                ],
                "scheme",
            ),
            (
                vec![
                    "host",
                    "add",
                    "Renamed Site",
                    "x.example",
                    "--country",
                    "FR",
                    "--category",
                    "Fedora EPEL",
                    "--url",
                    "https://mirror.example.edu/epel",
                ],
                "already belongs",
            ),
            (
                vec!["host", "edit", "Renamed Site", "nope.example", "--bandwidth", "5"],
                "unknown host \"nope.example\"",
            ),
            (
                vec!["host", "edit", "Renamed Site", "mirror.new.example", "--country", "1"],
                "two-letter",
            ),
        ] {
            let err = cli(db, &args).await.expect_err(&format!("{args:?} fails"));
            assert!(format!("{err:#}").contains(expected), "{args:?}: {err:#}");
        }
        assert_eq!(counts(db).await, rows);
        assert_eq!(store::load(db).await.expect("load"), before);

        let out = cli(db, &["host", "remove", "Renamed Site", "mirror.new.example"])
            .await
            .expect("host remove");
        assert!(
            out.contains("1 host(s) (1 host categories, 2 URLs, 1 netblocks)"),
            "{out}"
        );
        assert!(
            host(
                &store::load(db).await.expect("load"),
                "Renamed Site",
                "mirror.new.example"
            )
            .is_none()
        );

        let (hosts, urls, admins) = (
            count(db, "host").await,
            count(db, "host_category_url").await,
            count(db, "site_admin").await,
        );
        let out = cli(db, &["site", "remove", "Example University"])
            .await
            .expect("site remove");
        assert!(
            out.contains("removing site \"Example University\" and 2 host(s)"),
            "{out}"
        );
        assert!(out.contains("- site \"Example University\""), "{out}");
        assert_eq!(count(db, "host").await, hosts - 2);
        assert_eq!(count(db, "host_category_url").await, urls - 5);
        assert_eq!(count(db, "site_admin").await, admins - 2);
        assert_eq!(count(db, "host_netblock").await, 1, "only ftp.example.jp's");
    }
}

engine_tests! {
    /// Every kind of field update the diff produces (products, categories, arches, sites, hosts, netblock names,
    /// host categories, URLs, country data) is stored, and a pruned embargo is removed.
    async fn every_field_update_is_stored(t) {
        let edits: &[(&str, &str)] = &[
            ("name = \"Legacy\"\npubliclist = false\n", "name = \"Legacy\"\n"),
            (r#"excludes = [".*/\\.snapshot/.*"]"#, r#"excludes = ["^a/", "^b/"]"#),
            (
                "name = \"Fedora Archive\"\nproduct = \"Fedora\"",
                "name = \"Fedora Archive\"\nproduct = \"EPEL\"",
            ),
            ("name = \"s390x\"\nprimary = false\n", "name = \"s390x\"\n"),
            ("TR = \"EU\"", "TR = \"AS\""),
            (
                r#"embargoed = ["CU", "IR", "KP", "SY"]"#,
                r#"embargoed = ["CU", "IR", "KP"]"#,
            ),
            ("country = \"TW\"", "country = \"HK\""),
            ("name = \"campus v6\"", "name = \"campus six\""),
            ("comment = \"Campus only; \\\"internal\\\" network\"\n", ""),
            ("always_up_to_date = true\n", ""),
            (
                "\"http://mirror.example.edu/fedora/linux\"]\nprivate_urls = [\"rsync://mirror.example.edu/fedora-linux\"]",
                "\"http://mirror.example.edu/fedora/linux\", \"rsync://mirror.example.edu/fedora-linux\"]",
            ),
            ("org_url = \"https://mirror.example.jp\"\n", ""),
            ("asn = 4200000000\n", ""),
        ];
        let mut text = FEDORA.to_owned();
        for (from, to) in edits {
            assert!(text.contains(from), "fixture changed: {from:?} not found");
            text = text.replacen(from, to, 1);
        }
        let want = without_passwords(parse("edited.toml", &text, &KnownNames::default()).expect("edited parses"));
        apply_text(&t.db, FEDORA, false, false).await.expect("applies");
        let (outcome, out) = apply_text(&t.db, &text, true, false).await.expect("applies the edits");
        let report = outcome.report.expect("applied");
        assert_eq!((report.added, report.updated, report.removed), (0, 12, 1), "{out}");
        assert_eq!(without_passwords(store::load(&t.db).await.expect("load")), want);
        let (again, _) = apply_text(&t.db, &text, true, false).await.expect("again");
        assert!(again.changes.is_empty(), "{:?}", again.changes);
    }
}

engine_tests! {
    /// A change that cannot be stored (here: a host that is not there) rolls back the ones before it.
    async fn a_failing_change_rolls_back_the_whole_apply(t) {
        apply_text(&t.db, FEDORA, false, false).await.expect("applies");
        let (before, rows) = (store::load(&t.db).await.expect("load"), counts(&t.db).await);
        let mut desired = before.clone();
        store::strip_passwords(&mut desired);
        desired
            .sites
            .push(mirrorvane_inventory::Site::new("Half Written"));
        desired.embargoed.push("RU".into());
        let mut changes = diff(&before, &desired, Prune::No);
        assert_eq!(changes.len(), 2);
        changes.push(Change::Update {
            key: Key::Host {
                site: "Half Written".into(),
                host: "ghost.example".into(),
            },
            field: "bandwidth",
            from: Value::Int(100),
            to: Value::Int(200),
        });
        let err = store::apply(&t.db, &changes, "test").await.expect_err("stale change");
        assert!(matches!(err, StoreError::Stale { .. }), "{err}");
        assert!(err.to_string().contains("ghost.example"), "{err}");
        // A duplicate insert (the database's own refusal) rolls back too.
        let dup = [changes[0].clone(), changes[0].clone()];
        assert!(matches!(store::apply(&t.db, &dup, "test").await, Err(StoreError::Db(_))));
        assert_eq!(counts(&t.db).await, rows);
        assert_eq!(store::load(&t.db).await.expect("load"), before);
    }
}
