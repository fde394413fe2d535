//! The release tools on SQLite and PostgreSQL: MirrorManager's upstream cases (`tests/test_mdtr.py`,
//! `tests/test_mta.py`, reference §7), dry runs, refusals, the all-or-nothing transaction, and what the moves
//! mean for clients (the built snapshot answers `repo=updates-testing-f26` with archive mirrors).

use mirrorvane_backend::commands::release::{
    MoveDevelToReleaseArgs, MoveToArchiveArgs, run_move_devel_to_release, run_move_to_archive,
};
use mirrorvane_backend::release::{self, Message, ReleaseError, Selection, Stream};
use mirrorvane_builder::{self as builder, Options};
use mirrorvane_db::testing::TestDb;
use mirrorvane_db::{Database, engine_tests};
use mirrorvane_selector::{ClientGeo, Context, Request, SeededRandom, Selector, Workspace};

/// A Fedora tree in the shape of MirrorManager's test fixtures: releases, updates, a development tree, the
/// archive and a codecs category, one always-up-to-date mirror per category.
const SEED: &[&str] = &[
    "INSERT INTO product (id, name) VALUES (1, 'Fedora')",
    "INSERT INTO category (id, name, product_id, topdir) VALUES (1, 'Fedora Linux', 1, 'pub/fedora/linux'), \
     (2, 'Fedora Archive', 1, 'pub/archive'), (3, 'Fedora Codecs', 1, 'pub/codecs')",
    "INSERT INTO arch (id, name) VALUES (1, 'x86_64'), (2, 'aarch64')",
    "INSERT INTO version (id, product_id, name) VALUES (1, 1, '26'), (2, 1, '27'), (3, 1, 'rawhide')",
    "INSERT INTO directory (id, name, category_id) VALUES \
     (1, 'pub/fedora/linux', 1), \
     (2, 'pub/fedora/linux/updates/testing/26/x86_64', 1), \
     (3, 'pub/fedora/linux/updates/26/x86_64', 1), \
     (4, 'pub/fedora/linux/development/27/Everything/x86_64/os', 1), \
     (5, 'pub/fedora/linux/releases/27/Everything/x86_64/os', 1), \
     (6, 'pub/archive', 2), \
     (7, 'pub/archive/fedora/linux/updates/testing/26/x86_64', 2), \
     (8, 'pub/archive/fedora/linux/updates/26/x86_64', 2), \
     (9, 'pub/fedora/linux/development/27/Everything/aarch64/os', 1), \
     (10, 'pub/codecs', 3), \
     (11, 'pub/codecs/26/x86_64', 3), \
     (12, 'pub/fedora/linux/development/27/Server/x86_64/os', 1), \
     (13, 'pub/fedora/linux/releases/27/Server/x86_64/os', 1), \
     (14, 'pub/archive/fedora/linux/development/27/Everything/aarch64/os', 2)",
    "INSERT INTO repository (id, name, prefix, category_id, version_id, arch_id, directory_id) VALUES \
     (1, 'pub/fedora/linux/updates/testing/26/x86_64', 'updates-testing-f26', 1, 1, 1, 2), \
     (2, 'pub/fedora/linux/updates/26/x86_64', 'updates-released-f26', 1, 1, 1, 3), \
     (3, 'pub/fedora/linux/development/27/Everything/x86_64/os', 'fedora-27', 1, 3, 1, 4), \
     (4, 'pub/fedora/linux/development/27/Everything/aarch64/os', 'fedora-27', 1, 2, 2, 9), \
     (5, 'pub/fedora/linux/development/27/Server/x86_64/os', 'fedora-server-27', 1, 2, 1, 12), \
     (6, 'pub/fedora/linux/releases/27/Server/x86_64/os', 'fedora-server-released-27', 1, 2, 1, 13), \
     (7, 'pub/codecs/26/x86_64', 'codecs-f26', 3, 1, 1, 11), \
     (8, 'pub/archive/fedora/linux/updates/26/x86_64', 'old-f26', 2, 1, 1, 8)",
    "INSERT INTO site (id, name) VALUES (1, 'Mirror site')",
    "INSERT INTO host (id, site_id, name, country) VALUES (1, 1, 'linux.example.org', 'DE'), \
     (2, 1, 'archive.example.org', 'US')",
    "INSERT INTO host_category (id, host_id, category_id, always_up2date) VALUES (1, 1, 1, TRUE), (2, 2, 2, TRUE)",
    "INSERT INTO host_category_url (host_category_id, url) VALUES (1, 'http://linux.example.org/fedora/linux'), \
     (2, 'http://archive.example.org/archive')",
];

async fn seed(t: &TestDb) {
    for sql in SEED {
        sqlx::query(sql)
            .execute(t.db.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let mut conn = t.db.acquire().await.expect("connection");
    t.db.resync_identities(&mut conn).await.expect("resync");
}

/// (prefix, arch id) → (directory name, category id, version id, repository name), all repositories.
async fn repositories(db: &Database) -> Vec<(i64, String, i64, i64, String)> {
    sqlx::query_as(
        "SELECT r.id, d.name, r.category_id, r.version_id, r.name FROM repository r \
         JOIN directory d ON d.id = r.directory_id ORDER BY r.id",
    )
    .fetch_all(db.pool())
    .await
    .expect("repositories")
}

fn out(text: &str) -> Message {
    Message {
        stream: Stream::Out,
        text: text.to_owned(),
    }
}

/// `mirrorlist?repo=…&arch=x86_64` against the snapshot built from `db`.
async fn mirrorlist(db: &Database, repo: &str) -> String {
    let built = builder::build(
        db,
        Options {
            created: 1_700_000_000,
            resolve_names: false,
        },
    )
    .await
    .expect("builds");
    let selector = Selector::new(built.snapshot).expect("loads");
    let query = format!("repo={repo}&arch=x86_64&country=global");
    let req = Request {
        path: "/mirrorlist",
        query: &query,
        forwarded_for: None,
        accept: None,
        peer: "192.0.2.1".parse().unwrap(),
    };
    let geo = ClientGeo::default();
    let mut random = SeededRandom::new(1);
    let mut ws = Workspace::new();
    let answer = selector.handle(
        &req,
        &mut Context {
            now: 1_700_000_000,
            minimum: 5,
            locate: &geo,
            random: &mut random,
        },
        &mut ws,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body.clone()
}

engine_tests! {
    /// test_mta: archiving Fedora 26 points `updates-testing-f26` at the archive copy; codecs and already archived
    /// repositories stay; clients asking for the repository now get archive mirrors.
    async fn move_to_archive_fedora_26(t) {
        let engine = t.engine();
        seed(&t).await;
        let before = mirrorlist(&t.db, "updates-testing-f26").await;
        assert!(
            before.contains("http://linux.example.org/fedora/linux/updates/testing/26/x86_64/"),
            "{before}"
        );

        let selection = Selection::Version {
            product: "Fedora".into(),
            version: "26".into(),
        };
        let outcome = release::move_to_archive(&t.db, &selection, "Fedora Archive", false)
            .await
            .expect("moves");
        assert_eq!(
            outcome.messages,
            vec![
                out(
                    "pub/fedora/linux/updates/testing/26/x86_64 => pub/archive/fedora/linux/updates/testing/26/x86_64"
                ),
                out("pub/fedora/linux/updates/26/x86_64 => pub/archive/fedora/linux/updates/26/x86_64"),
                out("Repo pub/codecs/26/x86_64 (prefix codecs-f26) is in Fedora Codecs, skipping."),
                out(
                    "Repo pub/archive/fedora/linux/updates/26/x86_64 (prefix old-f26) is already archived, skipping."
                ),
            ],
            "{engine:?}"
        );
        assert_eq!(
            outcome.moves.iter().map(|m| m.repository).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let repos = repositories(&t.db).await;
        assert_eq!(repos[0].1, "pub/archive/fedora/linux/updates/testing/26/x86_64");
        assert_eq!(repos[0].2, 2, "category is the archive");
        assert_eq!(repos[1].1, "pub/archive/fedora/linux/updates/26/x86_64");
        assert_eq!(repos[6].1, "pub/codecs/26/x86_64");
        assert_eq!(repos[6].2, 3);
        // Prefix and arch unchanged: the same request now resolves to the archive directory and its mirrors.
        let prefix: String = sqlx::query_scalar("SELECT prefix FROM repository WHERE id = 1")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        assert_eq!(prefix, "updates-testing-f26");
        let after = mirrorlist(&t.db, "updates-testing-f26").await;
        assert!(
            after.contains("http://archive.example.org/archive/fedora/linux/updates/testing/26/x86_64/"),
            "{after}"
        );
        assert!(!after.contains("linux.example.org"), "{after}");

        // Running again finds everything archived.
        let again = release::move_to_archive(&t.db, &selection, "Fedora Archive", false)
            .await
            .expect("reruns");
        assert!(again.moves.is_empty(), "{again:?}");
    }
}

engine_tests! {
    /// `--repository PREFIX` moves only that prefix; `--dry-run` reports the moves and writes nothing.
    async fn move_to_archive_by_prefix_and_dry_run(t) {
        let engine = t.engine();
        seed(&t).await;
        let before = repositories(&t.db).await;
        let by_version = Selection::Version {
            product: "Fedora".into(),
            version: "26".into(),
        };
        let dry = release::move_to_archive(&t.db, &by_version, "Fedora Archive", true)
            .await
            .expect("dry run");
        assert_eq!(dry.moves.len(), 2);
        assert!(dry.dry_run);
        assert_eq!(repositories(&t.db).await, before, "{engine:?}: dry run changed nothing");

        let prefix = Selection::Prefix("updates-testing-f26".into());
        let outcome = release::move_to_archive(&t.db, &prefix, "Fedora Archive", false)
            .await
            .expect("moves");
        assert_eq!(outcome.moves.len(), 1);
        let after = repositories(&t.db).await;
        assert_eq!(after[0].1, "pub/archive/fedora/linux/updates/testing/26/x86_64");
        assert_eq!(after[1..], before[1..], "other repositories untouched");

        // Through the command: the same with clap-shaped arguments.
        let args = MoveToArchiveArgs {
            product: None,
            version: None,
            repository: Some("updates-released-f26".into()),
            archive_category: "Fedora Archive".into(),
            dry_run: false,
        };
        run_move_to_archive(&t.db, &args).await.expect("command runs");
        assert_eq!(
            repositories(&t.db).await[1].1,
            "pub/archive/fedora/linux/updates/26/x86_64"
        );
    }
}

engine_tests! {
    /// A repository without an archive copy aborts the run, and the repositories moved before it are rolled back.
    async fn move_to_archive_missing_target_changes_nothing(t) {
        let engine = t.engine();
        seed(&t).await;
        let before = repositories(&t.db).await;
        let selection = Selection::Version {
            product: "Fedora".into(),
            version: "27".into(),
        };
        // Repository 4 (aarch64) has an archive copy and would move first; repository 5 has none.
        let err = release::move_to_archive(&t.db, &selection, "Fedora Archive", false)
            .await
            .unwrap_err();
        assert!(matches!(err, ReleaseError::MissingArchiveDirectory { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "Unable to find a directory in [Fedora Archive] for pub/fedora/linux/development/27/Server/x86_64/os"
        );
        assert_eq!(repositories(&t.db).await, before, "{engine:?}: rolled back");

        for (selection, archive, message) in [
            (
                Selection::Version {
                    product: "Fedora".into(),
                    version: "99".into(),
                },
                "Fedora Archive",
                "Version 99 not found for product Fedora",
            ),
            (
                Selection::Version {
                    product: "CentOS".into(),
                    version: "7".into(),
                },
                "Fedora Archive",
                "No such product: CentOS",
            ),
            (
                Selection::Prefix("epel-5".into()),
                "Fedora Archive",
                "No repository with prefix epel-5",
            ),
            (
                Selection::Version {
                    product: "Fedora".into(),
                    version: "26".into(),
                },
                "Attic",
                "No category could be found by the name: Attic",
            ),
        ] {
            let err = release::move_to_archive(&t.db, &selection, archive, false)
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        assert_eq!(repositories(&t.db).await, before);
    }
}

engine_tests! {
    /// test_mdtr: moving 27 to release points `fedora-27` at the release tree with version 27; a missing target
    /// is reported on stderr and skipped; a target that already has a repository is skipped silently.
    async fn move_devel_to_release_fedora_27(t) {
        let engine = t.engine();
        seed(&t).await;
        let before = repositories(&t.db).await;
        let dry = release::move_devel_to_release(&t.db, "27", "Fedora Linux", true)
            .await
            .expect("dry run");
        assert_eq!(dry.moves.len(), 1);
        assert_eq!(repositories(&t.db).await, before, "{engine:?}: dry run changed nothing");

        let outcome = release::move_devel_to_release(&t.db, "27", "Fedora Linux", false)
            .await
            .expect("moves");
        assert_eq!(
            outcome.messages,
            vec![
                out(
                    "pub/fedora/linux/development/27/Everything/x86_64/os => pub/fedora/linux/releases/27/Everything/x86_64/os"
                ),
                Message {
                    stream: Stream::Err,
                    text:
                        "target Directory(pub/fedora/linux/releases/27/Everything/aarch64/os) not found, ignoring."
                            .into()
                },
            ],
            "{engine:?}"
        );
        let after = repositories(&t.db).await;
        assert_eq!(
            after[2],
            (
                3,
                "pub/fedora/linux/releases/27/Everything/x86_64/os".to_owned(),
                1,
                2,
                "pub/fedora/linux/releases/27/Everything/x86_64/os".to_owned()
            )
        );
        assert_eq!(after[3], before[3], "no target: unchanged");
        assert_eq!(after[4], before[4], "target already has a repository: unchanged");
        let body = mirrorlist(&t.db, "fedora-27").await;
        assert!(
            body.contains("/fedora/linux/releases/27/Everything/x86_64/os/"),
            "{body}"
        );
    }
}

engine_tests! {
    /// Unknown version or category: MirrorManager's messages, nothing changed; the command returns the error whose
    /// text `main` prints after `Error: ` (exit status 1).
    async fn move_devel_to_release_refusals(t) {
        let engine = t.engine();
        seed(&t).await;
        let before = repositories(&t.db).await;
        let args = MoveDevelToReleaseArgs {
            version: "99".into(),
            category: "Fedora Linux".into(),
            dry_run: false,
        };
        let err = run_move_devel_to_release(&t.db, &args).await.unwrap_err();
        assert_eq!(err.to_string(), "Version 99 not found for product Fedora");
        let err = release::move_devel_to_release(&t.db, "27", "Fedora Nope", false)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Category 'Fedora Nope' not found, exiting.\nAvailable categories:\n\tFedora Archive\n\tFedora Codecs\n\tFedora Linux"
        );
        assert_eq!(repositories(&t.db).await, before, "{engine:?}");
    }
}

/// The command lines as `main.rs` will parse them (subcommands holding these Args).
#[test]
fn command_lines_parse() {
    use clap::Parser;
    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }
    #[derive(Debug, clap::Subcommand)]
    enum Command {
        MoveDevelToRelease(MoveDevelToReleaseArgs),
        MoveToArchive(MoveToArchiveArgs),
    }
    <Cli as clap::CommandFactory>::command().debug_assert();
    let Command::MoveToArchive(a) = Cli::try_parse_from([
        "mirrorvane",
        "move-to-archive",
        "--product",
        "Fedora",
        "--version",
        "26",
    ])
    .unwrap()
    .command
    else {
        panic!()
    };
    assert_eq!(
        (a.product.as_deref(), a.version.as_deref(), a.repository),
        (Some("Fedora"), Some("26"), None)
    );
    assert_eq!(a.archive_category, "Fedora Archive");
    assert!(!a.dry_run);
    let Command::MoveToArchive(a) = Cli::try_parse_from([
        "mirrorvane",
        "move-to-archive",
        "--repository",
        "updates-testing-f26",
        "--archive-category",
        "Old",
        "--dry-run",
    ])
    .unwrap()
    .command
    else {
        panic!()
    };
    assert_eq!(
        (a.repository.as_deref(), a.archive_category.as_str(), a.dry_run),
        (Some("updates-testing-f26"), "Old", true)
    );
    for bad in [
        vec!["mirrorvane", "move-to-archive"],
        vec!["mirrorvane", "move-to-archive", "--product", "Fedora"],
        vec![
            "mirrorvane",
            "move-to-archive",
            "--product",
            "Fedora",
            "--version",
            "26",
            "--repository",
            "x",
        ],
    ] {
        assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?}");
    }
    let Command::MoveDevelToRelease(a) = Cli::try_parse_from([
        "mirrorvane",
        "move-devel-to-release",
        "--version",
        "27",
        "--category",
        "Fedora Linux",
    ])
    .unwrap()
    .command
    else {
        panic!()
    };
    assert_eq!((a.version.as_str(), a.category.as_str()), ("27", "Fedora Linux"));
    assert!(Cli::try_parse_from(["mirrorvane", "move-devel-to-release", "--version", "27"]).is_err());
}
