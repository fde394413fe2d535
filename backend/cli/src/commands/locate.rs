//! `mirrorvane locate-hosts --geoip-city FILE`: places hosts on the map (latitude and longitude of their
//! address in a GeoIP2/GeoLite2 City database), as MirrorManager's `mm2_generate-worldmap` did. Hosts already
//! placed keep their coordinates unless `--all`.

use std::path::PathBuf;

use anyhow::Context as _;
use mirrorvane_db::netblock::resolve_name;
use mirrorvane_db::{Database, public};
use mirrorvane_geo::CityDb;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A MaxMind City database (GeoLite2-City.mmdb or GeoIP2-City.mmdb).
    #[arg(long, value_name = "FILE")]
    pub geoip_city: PathBuf,
    /// Place every host again, not only those without coordinates.
    #[arg(long)]
    pub all: bool,
}

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Located {
    pub placed: usize,
    pub unresolved: usize,
    pub unknown: usize,
}

pub async fn run(db: &Database, args: &Args) -> anyhow::Result<Located> {
    let city = CityDb::open(&args.geoip_city).with_context(|| format!("cannot use {}", args.geoip_city.display()))?;
    let hosts = public::hosts_to_locate(&mut *db.acquire().await?, args.all).await?;
    let mut done = Located::default();
    for (i, (id, name)) in hosts.iter().enumerate() {
        let lookup = name.clone();
        let addresses = tokio::task::spawn_blocking(move || resolve_name(&lookup)).await?;
        let first = addresses.ok().and_then(|a| a.into_iter().next());
        let Some(ip) = first.map(|n| n.addr()) else {
            done.unresolved += 1;
            continue;
        };
        match city.lookup(ip).ok().flatten() {
            Some((lat, lon)) => {
                public::set_location(&mut *db.acquire().await?, *id, lat, lon).await?;
                done.placed += 1;
            }
            None => done.unknown += 1,
        }
        if (i + 1) % 50 == 0 {
            eprintln!("[{}/{}] hosts looked up", i + 1, hosts.len());
        }
    }
    println!(
        "placed {} of {} host(s); {} did not resolve, {} not in the City database",
        done.placed,
        hosts.len(),
        done.unresolved,
        done.unknown
    );
    Ok(done)
}
