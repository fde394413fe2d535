//! Database → snapshot, on SQLite and PostgreSQL: the differential test against the MirrorManager path (a
//! snapshot imported into the database and built back answers every probe byte for byte like the original),
//! and the builder's eligibility rules and refusals.

mod support;

use mirrorvane_backend::builder::{self, BuildError, Options};
use mirrorvane_backend::compare::{first_difference, probes};
use mirrorvane_backend::import::from_snapshot;
use mirrorvane_backend::synthetic::{self, Scale};
use mirrorvane_selector::Selector;
use support::{ENGINES, TestDb, run};

const OFFLINE: Options = Options { created: synthetic::CREATED, resolve_names: false };

/// The synthetic demo world (every tier, private hosts, netblocks, ASNs, redirects, disabled repos, alternates)
/// → database → snapshot answers exactly like the world's own snapshot.
#[test]
fn round_trip_through_the_database_answers_alike() {
    let world = synthetic::generate(&Scale::demo(), 7);
    for engine in ENGINES {
        run(async {
            let t = TestDb::new(engine).await;
            let report = from_snapshot::import(&t.db, &world.snapshot, "Fedora").await.expect("imports");
            assert_eq!(report.hosts, world.snapshot.hosts.len());
            assert!(report.directory_sets < report.host_categories, "{report:?}");
            let built = builder::build(&t.db, OFFLINE).await.expect("builds");
            let original = Selector::new(world.snapshot.clone()).expect("original loads");
            let rebuilt = Selector::new(built.snapshot.clone()).expect("rebuilt loads");
            let mut clients = world.clients.netblock.clone();
            clients.extend(world.clients.asn.iter().take(10));
            clients.extend(world.clients.countries.iter().map(|(_, ip)| *ip).take(20));
            clients.push(world.clients.global_fallback.1);
            let corpus = probes(&world.snapshot, &clients, 40);
            assert!(corpus.len() > 1000, "{}", corpus.len());
            let (ran, diff) = first_difference(&original, &rebuilt, &corpus, &world.geo, synthetic::CREATED);
            assert!(diff.is_none(), "{engine:?}: {}", diff.unwrap_or_default());
            assert_eq!(ran, corpus.len());
            // Importing twice is refused and changes nothing.
            let again = from_snapshot::import(&t.db, &world.snapshot, "Fedora").await;
            assert!(matches!(again, Err(from_snapshot::ImportError::NotEmpty(_))), "{again:?}");
            let after = builder::build(&t.db, OFFLINE).await.expect("still builds");
            assert!(after.snapshot == built.snapshot);
            t.finish().await;
        });
    }
}

/// The builder refuses inconsistent rows with a message naming them.
#[test]
fn inconsistent_rows_are_refused() {
    let world = synthetic::generate(&Scale::demo(), 3);
    for engine in ENGINES {
        run(async {
            let t = TestDb::new(engine).await;
            from_snapshot::import(&t.db, &world.snapshot, "Fedora").await.expect("imports");
            let pool = t.db.pool();
            let cases: [(&str, &str, &str); 3] = [
                ("UPDATE host SET country = 'USA' WHERE id = (SELECT MIN(id) FROM host)", "is not a two-letter code", "UPDATE host SET country = 'US' WHERE id = (SELECT MIN(id) FROM host)"),
                ("UPDATE directory SET name = 'elsewhere/x' WHERE id = 1", "is not below the top directory", "UPDATE directory SET name = (SELECT topdir FROM category WHERE category.id = directory.category_id) WHERE id = 1"),
                ("INSERT INTO host_netblock (host_id, netblock) SELECT MIN(id), '10.0.0.0/33' FROM host", "neither a network nor a DNS name", "DELETE FROM host_netblock WHERE netblock = '10.0.0.0/33'"),
            ];
            for (break_it, message, repair) in cases {
                sqlx::query(break_it).execute(pool).await.expect(break_it);
                match builder::build(&t.db, OFFLINE).await {
                    Err(e @ BuildError::Inconsistent(_)) => assert!(e.to_string().contains(message), "{e}"),
                    other => panic!("{engine:?} {break_it}: {:?}", other.map(|b| b.stats)),
                }
                sqlx::query(repair).execute(pool).await.expect(repair);
            }
            builder::build(&t.db, OFFLINE).await.expect("builds again once repaired");
            t.finish().await;
        });
    }
}
