//! Database → snapshot, on SQLite and PostgreSQL: the differential test against the MirrorManager path (a
//! snapshot imported into the database and built back answers every probe byte for byte like the original),
//! and the builder's eligibility rules and refusals.

use mirrorvane_builder::{self as builder, BuildError, Options};
use mirrorvane_db::engine_tests;
use mirrorvane_mm2::import::from_snapshot;
use mirrorvane_selector::Selector;
use mirrorvane_testkit::compare::{first_difference, probes};
use mirrorvane_testkit::synthetic::{self, Scale};

const OFFLINE: Options = Options {
    created: synthetic::CREATED,
    resolve_names: false,
};

engine_tests! {
    /// The synthetic demo world (every tier, private hosts, netblocks, ASNs, redirects, disabled repos, alternates)
    /// → database → snapshot answers exactly like the world's own snapshot.
    async fn round_trip_through_the_database_answers_alike(t) {
        let engine = t.engine();
        let world = synthetic::generate(&Scale::demo(), 7);
        // The database keeps "disabled" on repositories (as MirrorManager does); the synthetic world also disables
        // prefixes without any repository, which the import reports and drops.
        let mut original = world.snapshot.clone();
        let orphans: Vec<String> = original
            .disabled_prefixes
            .iter()
            .filter(|p| !original.repositories.iter().any(|r| &r.prefix == *p))
            .cloned()
            .collect();
        original.disabled_prefixes.retain(|p| !orphans.contains(p));
        let report = from_snapshot::import(&t.db, &world.snapshot, "Fedora")
            .await
            .expect("imports");
        for p in &orphans {
            assert!(
                report.skipped.iter().any(|s| s.contains(p.as_str())),
                "{p} not reported: {report:?}"
            );
        }
        assert_eq!(report.hosts, world.snapshot.hosts.len());
        assert!(report.directory_sets < report.host_categories, "{report:?}");
        let built = builder::build(&t.db, OFFLINE).await.expect("builds");
        let original = Selector::new(original.clone()).expect("original loads");
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
        assert!(
            matches!(again, Err(from_snapshot::ImportError::NotEmpty(_))),
            "{again:?}"
        );
        let after = builder::build(&t.db, OFFLINE).await.expect("still builds");
        assert!(after.snapshot == built.snapshot);
    }
}

engine_tests! {
    /// The builder refuses inconsistent rows with a message naming them.
    async fn inconsistent_rows_are_refused(t) {
        let engine = t.engine();
        let world = synthetic::generate(&Scale::demo(), 3);
        from_snapshot::import(&t.db, &world.snapshot, "Fedora")
            .await
            .expect("imports");
        let pool = t.db.pool();
        let cases: [(&str, &str, &str); 2] = [
            (
                "UPDATE host SET country = 'USA' WHERE id = (SELECT MIN(id) FROM host)",
                "is not a two-letter code",
                "UPDATE host SET country = 'US' WHERE id = (SELECT MIN(id) FROM host)",
            ),
            (
                "UPDATE directory SET name = 'elsewhere/x' WHERE id = 1",
                "is not below the top directory",
                "UPDATE directory SET name = (SELECT topdir FROM category WHERE category.id = directory.category_id) WHERE id = 1",
            ),
        ];
        for (break_it, message, repair) in cases {
            sqlx::query(break_it).execute(pool).await.expect(break_it);
            match builder::build(&t.db, OFFLINE).await {
                Err(e @ BuildError::Inconsistent(_)) => assert!(e.to_string().contains(message), "{e}"),
                other => panic!("{engine:?} {break_it}: {:?}", other.map(|b| b.stats)),
            }
            sqlx::query(repair).execute(pool).await.expect(repair);
        }
        builder::build(&t.db, OFFLINE)
            .await
            .expect("builds again once repaired");
        // Rows the input checks refuse today but an older version (or a hand) stored: left out with a warning,
        // never allowed to stop every build.
        for (bad, warning) in [
            ("INSERT INTO host_netblock (host_id, netblock) SELECT MIN(id), '10.0.0.0/33' FROM host", "neither an IP network nor a DNS name"),
            ("INSERT INTO host_netblock (host_id, netblock) SELECT MIN(id), '192.0.2.0/0' FROM host", "matches every client"),
            (
                "INSERT INTO host_category_url (host_category_id, url) SELECT MIN(id), $1 FROM host_category",
                "control character",
            ),
        ] {
            sqlx::query(bad)
                .bind("https://x.example/a\r\nSet-Cookie: b")
                .execute(pool)
                .await
                .expect(bad);
            let built = builder::build(&t.db, OFFLINE).await.expect("builds despite the row");
            assert!(
                built.warnings.iter().any(|w| w.to_string().contains(warning)),
                "{bad}: {:?}",
                built.warnings
            );
        }
    }
}

engine_tests! {
    /// The real Fedora-scale cache written by MirrorManager's generator: converted (snapshot A) and imported into
    /// the database then built (snapshot B), both answer every probe alike.
    #[ignore = "needs the Fedora-scale dataset; scripts/test.sh runs it where present"]
    async fn fedora_scale_cache_through_the_database_answers_alike(t) {
        let engine = t.engine();
        let path = mirrorvane_testkit::fedora_scale("cache-fedora.proto.gz");
        let cache = mirrorvane_mm2::load(&path).expect("loads");
        let a = mirrorvane_mm2::convert(&cache).expect("converts").snapshot;
        drop(cache);
        let options = Options {
            created: a.created,
            resolve_names: false,
        };
        let original = Selector::new(a.clone()).expect("loads");
        let mut clients: Vec<std::net::IpAddr> = a
            .host_netblocks
            .iter()
            .step_by(25)
            .map(|n| n.network.network())
            .collect();
        clients.extend(
            ["203.0.113.9", "2001:db8::9", "81.2.69.160", "89.160.20.113"].map(|s| s.parse::<std::net::IpAddr>().unwrap()),
        );
        let corpus = probes(&a, &clients, 60);
        from_snapshot::import(&t.db, &a, "Fedora").await.expect("imports");
        let b = builder::build(&t.db, options).await.expect("builds").snapshot;
        assert_eq!(
            (b.hosts.len(), b.directories.len(), b.repositories.len()),
            (a.hosts.len(), a.directories.len(), a.repositories.len())
        );
        let rebuilt = Selector::new(b).expect("loads");
        let (ran, diff) = first_difference(&original, &rebuilt, &corpus, &ByAddress, a.created);
        assert!(diff.is_none(), "{engine:?}: {}", diff.unwrap_or_default());
        assert_eq!(ran, corpus.len());
    }
}

/// A country per address: enough to exercise the country and continent tiers deterministically.
struct ByAddress;

impl mirrorvane_selector::Locate for ByAddress {
    fn locate(&self, ip: std::net::IpAddr) -> mirrorvane_selector::ClientGeo {
        const COUNTRIES: [&str; 6] = ["US", "DE", "JP", "BR", "ZA", "AU"];
        let n = match ip {
            std::net::IpAddr::V4(v4) => u32::from(v4) as usize,
            std::net::IpAddr::V6(v6) => v6.segments()[1] as usize,
        };
        mirrorvane_selector::ClientGeo {
            country: mirrorvane_selector::CountryCode::parse(COUNTRIES[n % COUNTRIES.len()]),
            continent: None,
            asn: None,
        }
    }
}

engine_tests! {
    /// A snapshot whose indexes point nowhere is refused by the import before anything is written.
    async fn inconsistent_snapshot_is_not_imported(t) {
        let mut snapshot = synthetic::generate(&Scale::demo(), 5).snapshot;
        snapshot.repositories[0].directory = mirrorvane_selector::snapshot::DirectoryId(u32::MAX);
        let err = from_snapshot::import(&t.db, &snapshot, "Fedora")
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("inconsistent"), "{err}");
        let hosts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM host")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        assert_eq!(hosts, 0);
    }
}
