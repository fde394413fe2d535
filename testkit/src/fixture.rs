//! The one hand-built snapshot builder: hosts by MirrorManager id, directories with the hosts that carry them,
//! repositories, files, netblocks — the shape of MirrorManager's cache, so acceptance cases read like the
//! reference's fixtures. With a geo table ([`Geo`]) and [`call`], which answers one request the way every shell
//! does.

use std::collections::BTreeMap;
use std::net::IpAddr;

use mirrorvane_selector::snapshot::*;
use mirrorvane_selector::{ClientGeo, Context, ContinentCode, CountryCode, Request, SeededRandom, Selector, Workspace};

#[derive(Clone, Default)]
pub struct HostSpec {
    pub country: Option<&'static str>,
    pub bandwidth: u32,
    pub private: bool,
    pub asns: Vec<u32>,
    pub allowed: Vec<&'static str>,
    pub urls: Vec<String>,
    pub reachability: Reachability,
}

/// A fixture: hosts by MirrorManager id, directories with topdir and carrying hosts.
#[derive(Clone, Default)]
pub struct Fixture {
    pub created: u64,
    pub hosts: BTreeMap<u32, HostSpec>,
    /// (name, topdir, hosts carrying it)
    pub dirs: Vec<(String, String, Vec<u32>)>,
    pub repos: Vec<(&'static str, &'static str, &'static str)>,
    pub disabled: Vec<&'static str>,
    pub redirects: Vec<(&'static str, &'static str)>,
    pub files: Vec<(&'static str, &'static str, Vec<FileDetail>)>,
    pub netblocks: Vec<(&'static str, Vec<u32>)>,
    pub netblock_countries: Vec<(&'static str, &'static str)>,
    pub continent_overrides: Vec<(&'static str, &'static str)>,
}

impl Fixture {
    pub fn host(mut self, id: u32, country: Option<&'static str>, bandwidth: u32, urls: &[&str]) -> Self {
        self.hosts.insert(
            id,
            HostSpec {
                country,
                bandwidth,
                urls: urls.iter().map(std::string::ToString::to_string).collect(),
                ..Default::default()
            },
        );
        self
    }

    pub fn with(mut self, id: u32, f: impl FnOnce(&mut HostSpec)) -> Self {
        f(self.hosts.get_mut(&id).expect("host"));
        self
    }

    pub fn dir(mut self, name: &str, topdir: &str, hosts: &[u32]) -> Self {
        self.dirs.push((name.into(), topdir.into(), hosts.to_vec()));
        self
    }

    pub fn snapshot(&self) -> Snapshot {
        let ids: Vec<u32> = self.hosts.keys().copied().collect();
        let hid = |id: u32| HostId(ids.iter().position(|&x| x == id).expect("known host") as u32);
        let mut s = Snapshot {
            created: self.created,
            ..Default::default()
        };
        for (id, h) in &self.hosts {
            s.hosts.push(Host {
                id: *id,
                name: format!("mirror{id}.example"),
                country: h.country.map(|c| CountryCode::parse(c).unwrap()),
                bandwidth: h.bandwidth,
                private: h.private,
                asns: h.asns.clone(),
                allowed_countries: h.allowed.iter().map(|c| CountryCode::parse(c).unwrap()).collect(),
                reachability: h.reachability,
            });
        }
        let mut topdirs: Vec<String> = self.dirs.iter().map(|d| d.1.clone()).collect();
        topdirs.sort();
        topdirs.dedup();
        for t in &topdirs {
            s.categories.push(Category {
                name: format!("cat {t}"),
                topdir: t.clone(),
            });
        }
        let cat = |t: &str| CategoryId(topdirs.iter().position(|x| x == t).unwrap() as u32);
        // Every host of the fixture carries every category (its up-to-date state is per directory).
        for (ci, _) in topdirs.iter().enumerate() {
            for (id, h) in &self.hosts {
                s.host_categories.push(HostCategory {
                    host: hid(*id),
                    category: CategoryId(ci as u32),
                    urls: h.urls.clone(),
                });
            }
        }
        for (name, topdir, hosts) in &self.dirs {
            let c = cat(topdir);
            let members = hosts
                .iter()
                .map(|h| {
                    let i = s
                        .host_categories
                        .iter()
                        .position(|hc| hc.category == c && hc.host == hid(*h))
                        .unwrap();
                    HostCategoryId(i as u32)
                })
                .collect();
            s.host_sets.push(HostSet::new(members));
            s.directories.push(Directory {
                name: name.clone(),
                category: c,
                hosts: HostSetId(s.host_sets.len() as u32 - 1),
            });
        }
        let dir = |n: &str| DirectoryId(s.directories.iter().position(|d| d.name == n).expect("directory") as u32);
        let repos: Vec<Repository> = self
            .repos
            .iter()
            .map(|(p, a, d)| Repository {
                prefix: p.to_string(),
                arch: a.to_string(),
                directory: dir(d),
            })
            .collect();
        let files: Vec<FileEntry> = self
            .files
            .iter()
            .map(|(d, n, det)| FileEntry {
                directory: dir(d),
                name: n.to_string(),
                details: det.clone(),
            })
            .collect();
        s.repositories = repos;
        s.files = files;
        s.disabled_prefixes = self.disabled.iter().map(std::string::ToString::to_string).collect();
        s.repository_redirects = self
            .redirects
            .iter()
            .map(|(f, t)| RepositoryRedirect {
                from: f.to_string(),
                to: t.to_string(),
            })
            .collect();
        s.host_netblocks = self
            .netblocks
            .iter()
            .map(|(n, hs)| HostNetblock {
                network: n.parse().unwrap(),
                hosts: hs.iter().map(|h| hid(*h)).collect(),
            })
            .collect();
        s.netblock_countries = self
            .netblock_countries
            .iter()
            .map(|(n, c)| NetblockCountry {
                network: n.parse().unwrap(),
                country: CountryCode::parse(c).unwrap(),
            })
            .collect();
        s.continent_overrides = self
            .continent_overrides
            .iter()
            .map(|(c, k)| ContinentOverride {
                country: CountryCode::parse(c).unwrap(),
                continent: ContinentCode::parse(k).unwrap(),
            })
            .collect();
        s
    }

    pub fn selector(&self) -> Selector {
        Selector::new(self.snapshot()).expect("valid fixture")
    }
}

/// A geo table for tests: exact addresses → (country, asn).
#[derive(Clone, Default)]
pub struct Geo(pub Vec<(&'static str, Option<&'static str>, Option<u32>)>);

impl mirrorvane_selector::Locate for Geo {
    fn locate(&self, ip: IpAddr) -> ClientGeo {
        for (a, c, asn) in &self.0 {
            if a.parse::<IpAddr>().ok() == Some(ip) {
                return ClientGeo {
                    country: c.map(|c| CountryCode::parse(c).unwrap()),
                    continent: None,
                    asn: *asn,
                };
            }
        }
        ClientGeo::default()
    }
}

pub struct Call<'a> {
    pub path_and_query: &'a str,
    pub peer: &'a str,
    pub xff: Option<&'a str>,
    pub accept: Option<&'a str>,
    pub minimum: usize,
    pub now: u64,
    pub seed: u64,
}

impl Default for Call<'_> {
    fn default() -> Self {
        Call {
            path_and_query: "/",
            peer: "134.108.34.134",
            xff: None,
            accept: None,
            minimum: 5,
            now: 1_795_700_403,
            seed: 1,
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub location: String,
    pub log: String,
}

pub fn call(sel: &Selector, geo: &Geo, c: &Call<'_>) -> Reply {
    let (path, query) = c.path_and_query.split_once('?').unwrap_or((c.path_and_query, ""));
    let req = Request {
        path,
        query,
        forwarded_for: c.xff.map(str::as_bytes),
        accept: c.accept.map(str::as_bytes),
        peer: c.peer.parse().unwrap(),
    };
    let mut rng = SeededRandom::new(c.seed);
    let mut ctx = Context {
        now: c.now,
        minimum: c.minimum,
        locate: geo,
        random: &mut rng,
    };
    let mut ws = Workspace::new();
    let a = sel.handle(&req, &mut ctx, &mut ws);
    Reply {
        status: a.status,
        content_type: a.content_type.as_str(),
        body: a.body.clone(),
        location: a.location.clone(),
        log: a.log_line.clone(),
    }
}

pub fn detail(ts: u64, size: u64, md5: &str) -> FileDetail {
    FileDetail {
        timestamp: ts,
        size,
        md5: (!md5.is_empty()).then(|| Digest::from_text(md5)),
        sha1: None,
        sha256: None,
        sha512: None,
    }
}
