//! `mirrorvane scan` on SQLite and PostgreSQL: a small Fedora-like tree scanned from disk, a
//! fullfiletimelist and rsync; rescans, changes, ageing, deletion; bad input leaving the database as it was;
//! and scanned repositories answering metalinks through the snapshot builder and the selector.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mirrorvane_backend::commands::scan;
use mirrorvane_builder::{self as builder, Options};
use mirrorvane_db::testing::TestDb;
use mirrorvane_db::{Database, engine_tests};
use mirrorvane_scan::store::{ScanError, ScanOptions, Source, Summary, scan_category};
use mirrorvane_selector::{ClientGeo, Context, Request, SeededRandom, Selector, Workspace};
use sha2::{Digest, Sha256};

const CAT: &str = "Fedora Linux";
/// Greatest `<timestamp>` of the first and second repomd.xml contents.
const TS1: i64 = 1_790_000_000;
const TS2: i64 = 1_790_086_400;
const NOW: i64 = 1_790_100_000;
const DAY: i64 = 86_400;

fn repomd(ts: i64, revision: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>{revision}</revision>
  <data type="primary">
    <checksum type="sha256">1111111111111111111111111111111111111111111111111111111111111111</checksum>
    <open-checksum type="sha256">2222222222222222222222222222222222222222222222222222222222222222</open-checksum>
    <location href="repodata/1111-primary.xml.zst"/>
    <timestamp>{}</timestamp>
    <size>1234</size>
    <open-size>5678</open-size>
  </data>
  <data type="filelists">
    <checksum type="sha256">3333333333333333333333333333333333333333333333333333333333333333</checksum>
    <location href="repodata/3333-filelists.xml.zst"/>
    <timestamp>{ts}</timestamp>
    <size>4321</size>
  </data>
</repomd>
"#,
        ts - 500
    )
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A tempdir holding `pub/fedora/linux` with releases, updates, updates-testing, rawhide, an ISO directory
/// with a CHECKSUM file and a Packages directory heavy enough for the short list. Returns (tempdir, root).
fn fedora_tree() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pub/fedora/linux");
    let os = root.join("releases/41/Everything/x86_64/os");
    write(&os.join("repodata/repomd.xml"), repomd(TS1, "41").as_bytes());
    for i in 0..12 {
        write(&os.join(format!("Packages/a/pkg{i:02}-1.0-1.fc41.x86_64.rpm")), b"rpm");
    }
    write(
        &root.join("updates/41/Everything/x86_64/repodata/repomd.xml"),
        repomd(TS1 + 7, "u41").as_bytes(),
    );
    write(
        &root.join("updates/testing/41/Everything/x86_64/repodata/repomd.xml"),
        repomd(TS1 + 9, "t41").as_bytes(),
    );
    write(
        &root.join("development/rawhide/Everything/aarch64/os/repodata/repomd.xml"),
        repomd(TS1 + 11, "raw").as_bytes(),
    );
    let iso = root.join("releases/41/Everything/x86_64/iso");
    write(&iso.join("Fedora-Everything-netinst-x86_64-41-1.4.iso"), b"iso image");
    write(
        &iso.join("Fedora-Everything-41-1.4-x86_64-CHECKSUM"),
        format!(
            "SHA256 (Fedora-Everything-netinst-x86_64-41-1.4.iso) = {}\n",
            sha256(b"iso image")
        )
        .as_bytes(),
    );
    // tempdir() is private (0700); a primary's tree is world-readable.
    for dir in [
        tmp.path().to_owned(),
        tmp.path().join("pub"),
        tmp.path().join("pub/fedora"),
        root.clone(),
    ] {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    (tmp, root)
}

async fn setup(db: &Database) {
    for sql in [
        "INSERT INTO product (name) VALUES ('Fedora')",
        "INSERT INTO category (name, product_id, topdir) VALUES ('Fedora Linux', 1, 'pub/fedora/linux')",
        "INSERT INTO arch (name) VALUES ('x86_64')",
        "INSERT INTO arch (name) VALUES ('aarch64')",
        "INSERT INTO arch (name) VALUES ('source')",
    ] {
        sqlx::query(sql).execute(db.pool()).await.expect(sql);
    }
}

async fn count(db: &Database, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.expect(sql)
}

/// Row counts of every table a scan writes.
async fn counts(db: &Database) -> Vec<i64> {
    let mut out = Vec::new();
    for t in ["directory", "file_detail", "repository", "version"] {
        out.push(count(db, &format!("SELECT COUNT(*) FROM {t}")).await);
    }
    out.push(count(db, "SELECT CAST(COALESCE(SUM(ctime), 0) AS BIGINT) FROM directory").await);
    out
}

/// (prefix, arch, version) of every repository, sorted.
async fn repositories(db: &Database) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT r.prefix, a.name, v.name FROM repository r JOIN arch a ON a.id = r.arch_id \
         JOIN version v ON v.id = r.version_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    out.sort();
    out
}

fn expected_repositories() -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = [
        ("fedora-41", "x86_64", "41"),
        ("rawhide", "aarch64", "development"),
        ("updates-released-f41", "x86_64", "41"),
        ("updates-testing-f41", "x86_64", "41"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    v.sort();
    v
}

/// (timestamp, size, sha256) of a file's details, newest first.
async fn details(db: &Database, dir: &str, file: &str) -> Vec<(i64, i64, Option<String>)> {
    sqlx::query_as(
        "SELECT f.timestamp, f.size, f.sha256 FROM file_detail f JOIN directory d ON d.id = f.directory_id \
         WHERE d.name = $1 AND f.filename = $2 ORDER BY f.timestamp DESC",
    )
    .bind(dir)
    .bind(file)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

fn opts(now: i64) -> ScanOptions {
    ScanOptions::new(now)
}

const OS: &str = "pub/fedora/linux/releases/41/Everything/x86_64/os";

engine_tests! {
    async fn disk_scan_rescan_change_age_and_delete(t) {
        setup(&t.db).await;
        let (_tmp, root) = fedora_tree();
        let source = Source::Disk { path: root.clone() };

        let first = scan_category(&t.db, CAT, &source, &opts(NOW))
            .await
            .expect("first scan");
        let dirs = count(&t.db, "SELECT COUNT(*) FROM directory").await;
        assert_eq!(first.directories_new as i64, dirs, "{first}");
        assert_eq!(first.directories_seen, first.directories_new);
        assert_eq!((first.repositories_created, first.versions_created), (4, 2), "{first}");
        // Four repomd.xml files and the ISO's CHECKSUM entry.
        assert_eq!(first.file_details_added, 5, "{first}");
        assert!(first.skipped.is_empty(), "{:?}", first.skipped);
        assert_eq!(repositories(&t.db).await, expected_repositories());
        assert_eq!(
            count(&t.db, "SELECT COUNT(*) FROM directory WHERE name = 'pub/fedora/linux'").await,
            1
        );
        assert_eq!(
            count(
                &t.db,
                "SELECT COUNT(*) FROM version WHERE name = '41' AND product_id = 1"
            )
            .await,
            1
        );
        let repo_dir: String =
            sqlx::query_scalar("SELECT d.name FROM repository r JOIN directory d ON d.id = r.directory_id WHERE r.prefix = 'fedora-41'")
                .fetch_one(t.db.pool())
                .await
                .unwrap();
        assert_eq!(repo_dir, OS);
        let v1 = repomd(TS1, "41");
        assert_eq!(
            details(&t.db, &format!("{OS}/repodata"), "repomd.xml").await,
            [(TS1, v1.len() as i64, Some(sha256(v1.as_bytes())))]
        );
        let iso = root.join("releases/41/Everything/x86_64/iso/Fedora-Everything-netinst-x86_64-41-1.4.iso");
        assert_eq!(
            details(
                &t.db,
                "pub/fedora/linux/releases/41/Everything/x86_64/iso",
                "Fedora-Everything-netinst-x86_64-41-1.4.iso"
            )
            .await,
            [(fs::metadata(&iso).unwrap().ctime(), 9, Some(sha256(b"iso image")))]
        );
        // The Packages directory keeps only its 3 newest files; the others keep all theirs.
        let files: String = sqlx::query_scalar("SELECT files FROM directory WHERE name = $1")
            .bind(format!("{OS}/Packages/a"))
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        let files: Vec<serde_json::Value> = serde_json::from_str(&files).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0]["size"], 3);
        assert!(files[0]["timestamp"].as_i64().unwrap() > 0);

        // Unchanged tree: nothing changes.
        let before = counts(&t.db).await;
        let again = scan_category(&t.db, CAT, &source, &opts(NOW)).await.expect("rescan");
        assert_eq!(
            (
                again.directories_changed,
                again.directories_new,
                again.file_details_added,
                again.repositories_created
            ),
            (0, 0, 0, 0),
            "{again}"
        );
        assert_eq!(counts(&t.db).await, before);

        // A new repomd.xml (written under a new name and renamed, as createrepo does: the ctime moves).
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let v2 = repomd(TS2, "41b");
        let repodata = root.join("releases/41/Everything/x86_64/os/repodata");
        fs::write(repodata.join("repomd.xml.tmp"), &v2).unwrap();
        fs::rename(repodata.join("repomd.xml.tmp"), repodata.join("repomd.xml")).unwrap();
        let changed = scan_category(&t.db, CAT, &source, &opts(NOW))
            .await
            .expect("scan after change");
        assert_eq!(changed.directories_changed, 1, "{changed}");
        assert_eq!(changed.file_details_added, 1, "{changed}");
        assert_eq!(changed.file_details_aged_out, 0, "{changed}");
        let rows = details(&t.db, &format!("{OS}/repodata"), "repomd.xml").await;
        assert_eq!(
            rows,
            [
                (TS2, v2.len() as i64, Some(sha256(v2.as_bytes()))),
                (TS1, v1.len() as i64, Some(sha256(v1.as_bytes())))
            ]
        );

        // Ten days later the old one is past both windows and goes.
        let aged = scan_category(&t.db, CAT, &source, &opts(TS2 + 10 * DAY))
            .await
            .expect("ageing");
        assert_eq!(aged.file_details_aged_out, 1, "{aged}");
        assert_eq!(details(&t.db, &format!("{OS}/repodata"), "repomd.xml").await.len(), 1);

        // A vanished directory is kept without --delete-directories, deleted (with its details) with it.
        fs::remove_dir_all(root.join("releases/41/Everything/x86_64/iso")).unwrap();
        let kept = scan_category(&t.db, CAT, &source, &opts(NOW)).await.unwrap();
        assert_eq!(kept.directories_deleted, 0);
        let mut o = opts(NOW);
        o.delete_directories = true;
        let deleted = scan_category(&t.db, CAT, &source, &o).await.unwrap();
        assert_eq!(deleted.directories_deleted, 1, "{deleted}");
        assert_eq!(
            count(&t.db, "SELECT COUNT(*) FROM directory WHERE name LIKE '%/iso'").await,
            0
        );
        assert_eq!(
            count(&t.db, "SELECT COUNT(*) FROM file_detail WHERE filename LIKE '%.iso'").await,
            0
        );
        assert_eq!(repositories(&t.db).await, expected_repositories());
    }
}

/// A fullfiletimelist for `root` (category Fedora Linux: names start with `linux/`), written next to it.
fn write_fft(root: &Path) {
    fn walk(dir: &Path, rel: &str, out: &mut String) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let name = format!("{rel}/{}", e.file_name().to_str().unwrap());
            let m = e.metadata().unwrap();
            let kind = if m.is_dir() { 'd' } else { 'f' };
            out.push_str(&format!("{}\t{kind}\t{}\t{name}\n", m.ctime(), m.len(),));
            if m.is_dir() {
                walk(&e.path(), &name, out);
            }
        }
    }
    let mut text = String::from("[Version]\n2\n\n[Files]\n");
    text.push_str(&format!("{}\td\t4096\tlinux\n", fs::metadata(root).unwrap().ctime()));
    walk(root, "linux", &mut text);
    text.push_str("\n[Checksums SHA1]\n");
    fs::write(root.parent().unwrap().join("fullfiletimelist-fedora"), text).unwrap();
}

engine_tests! {
    async fn fullfiletimelist_and_rsync_sources(t) {
        let engine = t.engine();
        let (_tmp, root) = fedora_tree();
        let disk_dirs = {
            setup(&t.db).await;
            let s = scan_category(&t.db, CAT, &Source::Disk { path: root.clone() }, &opts(NOW))
                .await
                .unwrap();
            s.directories_seen
        };

        // Permissions are not in the list: read from the disk for new and changed directories, kept for
        // unchanged ones.
        let iso = root.join("releases/41/Everything/x86_64/iso");
        fs::set_permissions(&iso, fs::Permissions::from_mode(0o700)).unwrap();
        write_fft(&root);
        let t = TestDb::new(engine).await;
        setup(&t.db).await;
        let fft = Source::FullFileTimeList { path: root.clone() };
        let s = scan_category(&t.db, CAT, &fft, &opts(NOW)).await.expect("fft scan");
        assert_eq!(s.source, "fullfiletimelist");
        assert_eq!(s.directories_seen, disk_dirs, "{s}");
        assert_eq!(s.file_details_added, 5, "{s}");
        assert_eq!(repositories(&t.db).await, expected_repositories());
        let iso_readable = "SELECT COUNT(*) FROM directory WHERE name LIKE '%/iso' AND readable = FALSE";
        assert_eq!(count(&t.db, iso_readable).await, 1);
        let again = scan_category(&t.db, CAT, &fft, &opts(NOW)).await.unwrap();
        assert_eq!((again.directories_changed, again.file_details_added), (0, 0), "{again}");
        assert_eq!(count(&t.db, iso_readable).await, 1);
        // --skip-fullfiletimelist walks the disk instead.
        let mut o = opts(NOW);
        o.skip_fullfiletimelist = true;
        assert_eq!(scan_category(&t.db, CAT, &fft, &o).await.unwrap().source, "disk");

        // rsync against the tree itself: the same directories and repositories, no file details
        // (rsync sources cannot read repomd.xml), and --delete-directories is refused.
        let t = TestDb::new(engine).await;
        setup(&t.db).await;
        let rsync = Source::Rsync {
            url: format!("{}/", root.display()),
            options: Vec::new(),
            strip_prefix: String::new(),
        };
        let mut o = opts(NOW);
        o.delete_directories = true;
        let s = scan_category(&t.db, CAT, &rsync, &o).await.expect("rsync scan");
        assert_eq!(s.source, "rsync");
        assert_eq!(s.directories_seen, disk_dirs, "{s}");
        assert_eq!(s.file_details_added, 0);
        assert_eq!(s.directories_deleted, 0);
        assert!(
            s.skipped.iter().any(|x| x.what == "--delete-directories"),
            "{:?}",
            s.skipped
        );
        assert_eq!(repositories(&t.db).await, expected_repositories());
        let again = scan_category(&t.db, CAT, &rsync, &opts(NOW)).await.unwrap();
        assert_eq!((again.directories_changed, again.directories_new), (0, 0), "{again}");

        // A saved listing of the whole module (`file` type), with the category's path stripped.
        let tmp = root.parent().unwrap().parent().unwrap().parent().unwrap();
        let out = std::process::Command::new("rsync")
            .args(["--list-only", "-r"])
            .arg(format!("{}/", tmp.display()))
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(out.status.success());
        let saved = tmp.join("listing.txt");
        fs::write(&saved, &out.stdout).unwrap();
        let t = TestDb::new(engine).await;
        setup(&t.db).await;
        let file = Source::File {
            listing: saved,
            strip_prefix: "pub/fedora/linux".into(),
        };
        let s = scan_category(&t.db, CAT, &file, &opts(NOW)).await.expect("file scan");
        assert_eq!(s.source, "file");
        assert_eq!(s.directories_seen, disk_dirs, "{s}");
        assert_eq!(repositories(&t.db).await, expected_repositories());
    }
}

engine_tests! {
    async fn bad_input_changes_nothing(t) {
        setup(&t.db).await;
        sqlx::query("INSERT INTO category (name, product_id, topdir) VALUES ('Fedora EPEL', 1, 'pub/epel')")
            .execute(t.db.pool())
            .await
            .unwrap();
        let (tmp, root) = fedora_tree();
        scan_category(&t.db, CAT, &Source::Disk { path: root.clone() }, &opts(NOW))
            .await
            .unwrap();
        let before = counts(&t.db).await;

        let err = scan_category(&t.db, "Fedora Nope", &Source::Disk { path: root.clone() }, &opts(NOW))
            .await
            .unwrap_err();
        assert!(matches!(err, ScanError::UnknownCategory { .. }), "{err:?}");
        assert!(err.to_string().contains("Fedora EPEL, Fedora Linux"), "{err}");

        let missing = tmp.path().join("no/such/tree");
        for source in [
            Source::Disk { path: missing.clone() },
            Source::FullFileTimeList { path: missing.clone() },
        ] {
            let mut o = opts(NOW);
            o.delete_directories = true;
            let err = scan_category(&t.db, CAT, &source, &o).await.unwrap_err();
            assert!(err.to_string().contains("no/such"), "{err}");
        }

        // A fullfiletimelist without a [Files] section (truncated) must not read as an empty tree.
        fs::write(root.parent().unwrap().join("fullfiletimelist-fedora"), "[Version]\n2\n").unwrap();
        let mut o = opts(NOW);
        o.delete_directories = true;
        let err = scan_category(&t.db, CAT, &Source::FullFileTimeList { path: root.clone() }, &o)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("[Files]"), "{err}");

        let err = scan_category(
            &t.db,
            CAT,
            &Source::Rsync {
                url: "/no/such/dir/".into(),
                options: Vec::new(),
                strip_prefix: String::new(),
            },
            &opts(NOW),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ScanError::Rsync(_)), "{err:?}");
        let err = scan_category(
            &t.db,
            CAT,
            &Source::File {
                listing: missing.clone(),
                strip_prefix: String::new(),
            },
            &opts(NOW),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ScanError::Listing { .. }), "{err:?}");
        assert_eq!(counts(&t.db).await, before);

        // A category whose top lies inside another's: the directories stay with their category.
        sqlx::query(
            "INSERT INTO category (name, product_id, topdir) VALUES ('Fedora Other', 1, 'pub/fedora/linux/development')",
        )
        .execute(t.db.pool())
        .await
        .unwrap();
        let s = scan_category(
            &t.db,
            "Fedora Other",
            &Source::Disk {
                path: root.join("development"),
            },
            &opts(NOW),
        )
        .await
        .unwrap();
        assert_eq!((s.directories_new, s.repositories_created), (0, 0), "{s}");
        assert_eq!(s.skipped.len() as u64, s.directories_seen, "{:?}", s.skipped);
        assert!(
            s.skipped.iter().all(|x| x.reason.contains("another category")),
            "{:?}",
            s.skipped
        );
    }
}

engine_tests! {
    async fn scanned_repositories_answer_metalinks(t) {
        setup(&t.db).await;
        let (_tmp, root) = fedora_tree();
        // Through the command, as `mirrorvane scan --category 'Fedora Linux' --path ROOT` runs it.
        let args = scan::Args {
            categories: vec![CAT.into()],
            path: Some(root),
            max_stale_days: 4,
            ..Default::default()
        };
        let summaries: Vec<Summary> = scan::run(&t.db, &args).await.expect("command runs");
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].repositories_created, 4);
        for sql in [
            "INSERT INTO site (name) VALUES ('Example')",
            "INSERT INTO host (site_id, name, country) VALUES (1, 'mirror.example.org', 'DE')",
            "INSERT INTO host_category (host_id, category_id, always_up2date) VALUES (1, 1, TRUE)",
            "INSERT INTO host_category_url (host_category_id, url) VALUES (1, 'https://mirror.example.org/fedora/linux')",
        ] {
            sqlx::query(sql).execute(t.db.pool()).await.expect(sql);
        }
        let built = builder::build(
            &t.db,
            Options {
                created: NOW as u64,
                resolve_names: false,
            },
        )
        .await
        .expect("builds");
        let selector = Selector::new(built.snapshot).expect("loads");
        let geo = ClientGeo {
            country: None,
            continent: None,
            asn: None,
        };
        let mut random = SeededRandom::new(1);
        let mut ws = Workspace::new();
        let req = Request {
            path: "/metalink",
            query: "repo=fedora-41&arch=x86_64",
            forwarded_for: None,
            accept: None,
            peer: "192.0.2.1".parse().unwrap(),
        };
        let answer = selector.handle(
            &req,
            &mut Context {
                now: NOW as u64,
                minimum: 5,
                locate: &geo,
                random: &mut random,
            },
            &mut ws,
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        let v1 = repomd(TS1, "41");
        assert!(answer.body.contains(&sha256(v1.as_bytes())), "{}", answer.body);
        assert!(
            answer.body.contains(
                "https://mirror.example.org/fedora/linux/releases/41/Everything/x86_64/os/repodata/repomd.xml"
            ),
            "{}",
            answer.body
        );
    }
}

engine_tests! {
    /// A repository whose directory vanishes from the primary keeps its prefix, flags and propagation history,
    /// pointing nowhere (and out of snapshots) until the directory comes back; then the next scan points it there.
    async fn vanished_repository_directories_keep_their_repositories(t) {
        let (_tmp, root) = fedora_tree();
        setup(&t.db).await;
        let disk = Source::Disk { path: root.clone() };
        let mut o = opts(NOW);
        o.delete_directories = true;
        scan_category(&t.db, CAT, &disk, &o).await.unwrap();
        let repo: i64 = count(&t.db, "SELECT id FROM repository WHERE prefix = 'updates-released-f41'").await;
        sqlx::query("UPDATE repository SET disabled = TRUE WHERE id = $1")
            .bind(repo)
            .execute(t.db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO propagation_stat (repository_id, datetime, same_day) VALUES ($1, 100, 7)")
            .bind(repo)
            .execute(t.db.pool())
            .await
            .unwrap();
        let updates = root.join("updates/41/Everything/x86_64");
        let saved = root.parent().unwrap().join("saved-updates");
        fs::rename(&updates, &saved).unwrap();
        let s = scan_category(&t.db, CAT, &disk, &o).await.unwrap();
        assert!(s.directories_deleted >= 2, "{s}");
        let (directory, disabled): (Option<i64>, mirrorvane_db::Flag) =
            sqlx::query_as("SELECT directory_id, disabled FROM repository WHERE id = $1")
                .bind(repo)
                .fetch_one(t.db.pool())
                .await
                .unwrap();
        assert_eq!((directory, bool::from(disabled)), (None, true), "kept, pointing nowhere, flags intact");
        assert_eq!(count(&t.db, "SELECT COUNT(*) FROM propagation_stat").await, 1);
        // Snapshots leave it out meanwhile.
        let built = builder::build(
            &t.db,
            Options {
                created: NOW as u64,
                resolve_names: false,
            },
        )
        .await
        .expect("builds");
        assert!(built.snapshot.repositories.iter().all(|r| r.prefix != "updates-released-f41"));

        fs::rename(&saved, &updates).unwrap();
        let s = scan_category(&t.db, CAT, &disk, &o).await.unwrap();
        assert_eq!((s.repositories_repointed, s.repositories_created), (1, 0), "{s}");
        assert!(s.to_string().contains("1 re-pointed at a returning directory"), "{s}");
        let name: String = sqlx::query_scalar(
            "SELECT d.name FROM repository r JOIN directory d ON d.id = r.directory_id WHERE r.id = $1",
        )
        .bind(repo)
        .fetch_one(t.db.pool())
        .await
        .unwrap();
        assert_eq!(name, "pub/fedora/linux/updates/41/Everything/x86_64");
        assert_eq!(count(&t.db, "SELECT COUNT(*) FROM propagation_stat").await, 1);
    }

    /// A directory changed in the second the scan began may change again within that second (a push landing
    /// while it is read): it is stored as changed a second earlier, so the next scan reads it again instead of
    /// trusting an equal ctime and keeping half a push.
    async fn a_push_in_the_scans_second_is_read_again(t) {
        let (_tmp, root) = fedora_tree();
        setup(&t.db).await;
        let disk = Source::Disk { path: root.clone() };
        let repodata = root.join("releases/41/Everything/x86_64/os/repodata");
        let ctime = fs::metadata(&repodata).unwrap().ctime();
        let mut o = opts(NOW);
        o.started = Some(ctime);
        scan_category(&t.db, CAT, &disk, &o).await.unwrap();
        let stored: i64 = sqlx::query_scalar("SELECT ctime FROM directory WHERE name = $1")
            .bind(format!("{OS}/repodata"))
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        assert_eq!(stored, ctime - 1, "not settled: stored as a second earlier");
        // Nothing changed on disk, but the directory is read again; later scans see it settled.
        o.started = Some(ctime + 100);
        let again = scan_category(&t.db, CAT, &disk, &o).await.unwrap();
        assert!(again.directories_changed >= 1, "{again}");
        let third = scan_category(&t.db, CAT, &disk, &o).await.unwrap();
        assert_eq!(third.directories_changed, 0, "{third}");
    }

    /// One rule for symlinks: a fullfiletimelist's link to a file is a link (only its presence is checked later),
    /// its link to a directory (`releases/latest`) is not a file.
    async fn fullfiletimelist_links(t) {
        let (_tmp, root) = fedora_tree();
        setup(&t.db).await;
        std::os::unix::fs::symlink("41", root.join("releases/latest")).unwrap();
        std::os::unix::fs::symlink("41/Everything/x86_64/iso/Fedora-Everything-netinst-x86_64-41-1.4.iso", root.join("releases/netinst.iso")).unwrap();
        write_fft(&root);
        let fft = root.parent().unwrap().join("fullfiletimelist-fedora");
        let mut text = fs::read_to_string(&fft).unwrap();
        let files_end = text.find("\n[Checksums").unwrap();
        text.insert_str(files_end, "\n1790000000\tl\t2\tlinux/releases/latest\n1790000000\tl\t64\tlinux/releases/netinst.iso");
        // write_fft followed the links; the list names them as links only.
        let text: String = text
            .lines()
            .filter(|l| !(l.contains("\tf\t") && (l.ends_with("releases/netinst.iso") || l.ends_with("releases/latest"))))
            .filter(|l| !(l.contains("\td\t") && l.contains("releases/latest")))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(&fft, text).unwrap();
        let s = scan_category(&t.db, CAT, &Source::FullFileTimeList { path: root.clone() }, &opts(NOW))
            .await
            .unwrap();
        assert_eq!(s.source, "fullfiletimelist");
        let files: String = sqlx::query_scalar("SELECT files FROM directory WHERE name = 'pub/fedora/linux/releases'")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        let files: Vec<serde_json::Value> = serde_json::from_str(&files).unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0]["name"], "netinst.iso");
        assert_eq!(files[0]["link"], true);
    }
}

engine_tests! {
    /// An empty tree (an unmounted share), the tree root instead of the category's top, and a truncated tree:
    /// nothing is deleted or stored doubled without --force, and the message says why and which path was meant.
    async fn guards_against_empty_wrong_and_truncated_trees(t) {
        setup(&t.db).await;
        let (tmp, root) = fedora_tree();
        let source = Source::Disk { path: root.clone() };
        scan_category(&t.db, CAT, &source, &opts(NOW)).await.expect("first scan");
        let before = counts(&t.db).await;
        let mut deleting = opts(NOW);
        deleting.delete_directories = true;

        let empty = tmp.path().join("empty");
        fs::create_dir_all(&empty).unwrap();
        let err = scan_category(&t.db, CAT, &Source::Disk { path: empty }, &deleting)
            .await
            .expect_err("an empty tree is refused");
        assert!(err.to_string().contains("is it the right tree, and mounted?"), "{err}");
        assert_eq!(counts(&t.db).await, before);

        for (above, meant) in [(tmp.path().to_owned(), "pub/fedora/linux"), (tmp.path().join("pub"), "fedora/linux")] {
            let err = scan_category(&t.db, CAT, &Source::Disk { path: above.clone() }, &opts(NOW))
                .await
                .expect_err("a root above the category's is refused");
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("contains {meant}/ again"))
                    && msg.contains(&format!("probably {}/{meant}", above.display())),
                "{msg}"
            );
            assert_eq!(counts(&t.db).await, before);
        }

        // A truncated tree: the updates are gone — more than a tenth of the category.
        fs::remove_dir_all(root.join("updates")).unwrap();
        let refused = scan_category(&t.db, CAT, &source, &deleting).await.expect("scans");
        assert_eq!(refused.directories_deleted, 0);
        let why = refused.deletion_refused.expect("the deletion is refused");
        assert!(why.contains("more than the allowed 10.0 %") && why.contains("--force"), "{why}");
        // Rows unchanged (the top directory's new ctime, the rest of the scan, is written).
        assert_eq!(counts(&t.db).await[..4], before[..4]);
        // Through the command: the rest is written, the exit is a failure naming the refusal.
        let args = scan::Args {
            categories: vec![CAT.into()],
            path: Some(root.clone()),
            max_stale_days: 4,
            max_delete_percent: 10.0,
            delete_directories: true,
            ..Default::default()
        };
        let err = scan::run(&t.db, &args).await.expect_err("the command fails");
        assert!(format!("{err:#}").contains("refused to delete"), "{err:#}");
        // A larger allowance, or --force, deletes them.
        deleting.force = true;
        let deleted = scan_category(&t.db, CAT, &source, &deleting).await.expect("scans");
        assert!(deleted.directories_deleted > 0 && deleted.deletion_refused.is_none(), "{deleted}");
        assert_eq!(
            count(&t.db, "SELECT COUNT(*) FROM directory WHERE name LIKE 'pub/fedora/linux/updates%'").await,
            0
        );
    }
}

/// Rows of `file_detail` minus distinct versions: 0 when no version of a file is stored twice.
async fn duplicate_details(db: &Database) -> i64 {
    count(db, "SELECT COUNT(*) FROM file_detail").await
        - count(
            db,
            "SELECT COUNT(*) FROM (SELECT DISTINCT directory_id, filename, timestamp, size, sha256 FROM file_detail) v",
        )
        .await
}

engine_tests! {
    /// One scan per category at a time: a held lock makes a scan fail naming the holder (nothing written); an
    /// expired one (its scanner died) is taken over; scan processes started together leave the data of one scan;
    /// a file's version is stored once however often it is inserted.
    async fn one_scan_per_category(t) {
        use mirrorvane_db::scan_lock;
        setup(&t.db).await;
        let (_tmp, root) = fedora_tree();
        let source = Source::Disk { path: root.clone() };

        scan_lock::take(&t.db, CAT, "crawler-2.example:4242:0", NOW, i64::MAX).await.unwrap().unwrap();
        let err = scan_category(&t.db, CAT, &source, &opts(NOW)).await.expect_err("busy");
        assert!(matches!(err, ScanError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("being scanned by crawler-2.example:4242:0"), "{err}");
        assert_eq!(count(&t.db, "SELECT COUNT(*) FROM directory").await, 0);
        scan_lock::release(&t.db, CAT, "crawler-2.example:4242:0").await.unwrap();
        // A dead scanner's lock, expired: taken over.
        scan_lock::take(&t.db, CAT, "dead:1:0", 0, 1).await.unwrap().unwrap();
        scan_category(&t.db, CAT, &source, &opts(NOW)).await.expect("takes over an expired lock");
        let once = counts(&t.db).await;
        assert_eq!(count(&t.db, "SELECT COUNT(*) FROM scan_lock").await, 0, "the lock is released");

        // Three processes at once, on a new push (renamed into place, as createrepo does: the ctime moves).
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let repodata = root.join("releases/41/Everything/x86_64/os/repodata");
        fs::write(repodata.join("repomd.xml.tmp"), repomd(TS2, "41b")).unwrap();
        fs::rename(repodata.join("repomd.xml.tmp"), repodata.join("repomd.xml")).unwrap();
        let runs: Vec<_> = (0..3)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_mirrorvane"))
                    .args(["--database", &t.url, "scan", "--category", CAT, "--path"])
                    .arg(&root)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("starts scan")
            })
            .collect();
        let mut succeeded = 0;
        for run in runs {
            let out = run.wait_with_output().expect("scan ends");
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                succeeded += 1;
            } else {
                assert!(err.contains("is being scanned by"), "{err}");
            }
        }
        assert!(succeeded >= 1);
        assert_eq!(duplicate_details(&t.db).await, 0);
        // The data of one scan: a further scan finds nothing new (it may re-read the directory pushed within the
        // scans' second), and only the new repomd.xml was added.
        let again = scan_category(&t.db, CAT, &source, &opts(NOW)).await.expect("rescan");
        assert_eq!((again.directories_new, again.file_details_added), (0, 0), "{again}");
        let after = counts(&t.db).await;
        assert_eq!(after[0], once[0], "{once:?} → {after:?}");
        // (The processes age details by the real clock, so the test tree's older version may have gone.)
        let versions = details(&t.db, &format!("{OS}/repodata"), "repomd.xml").await;
        assert_eq!(versions.iter().filter(|v| v.0 == TS2).count(), 1, "{versions:?}");

        // The unique key: a version already stored, inserted again (twice), is a no-op.
        let stored: mirrorvane_db::files::FileDetailRow = sqlx::query_as(
            "SELECT directory_id, filename, timestamp, size, md5, sha1, sha256, sha512 FROM file_detail \
             ORDER BY id LIMIT 1",
        )
        .fetch_one(t.db.pool())
        .await
        .unwrap();
        let before = count(&t.db, "SELECT COUNT(*) FROM file_detail").await;
        let mut conn = t.db.acquire().await.unwrap();
        let inserted = mirrorvane_db::files::insert(&mut conn, vec![(None, stored.clone()), (None, stored)])
            .await
            .unwrap();
        drop(conn);
        assert_eq!(inserted, 0);
        assert_eq!(count(&t.db, "SELECT COUNT(*) FROM file_detail").await, before);
        assert_eq!(duplicate_details(&t.db).await, 0);
    }
}
