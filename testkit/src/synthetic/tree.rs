//! The content side: directories, repositories with Fedora/EPEL prefix naming, `repomd.xml` metalink data, and
//! which host categories carry each directory.
//!
//! Repositories are generated most popular first (active Fedora releases, EPEL, rawhide, then the archive from
//! the newest release down) and cut at [`Scale::repositories`], so a small scale keeps the repositories clients
//! ask for. Directories are every repository directory with its ancestors and its `repodata` child, then
//! `Packages/<letter>` trees until [`Scale::directories`] is reached.

use std::collections::{HashMap, HashSet};

use mirrorvane_selector::snapshot::{
    CategoryId, Digest, Directory, DirectoryId, FileDetail, FileEntry, HostCategory, HostCategoryId, HostSet,
    HostSetId, Repository, RepositoryRedirect,
};

use super::Scale;
use super::mirrors::{ARCHIVE, CATEGORIES, CODECS, ELN, EPEL, LINUX, SECONDARY};
use super::rng::Rng;

const PRIMARY: &[&str] = &["x86_64", "aarch64", "ppc64le", "s390x"];
const ACTIVE: &[u32] = &[43, 42, 41];
const BRANCHED: u32 = 44;
const EPEL_VERSIONS: &[&str] = &["10.1", "10.0", "9", "8"];
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A repository to create: category, directory below the category's topdir, `repo=` and `arch=`.
struct RepoDef {
    category: usize,
    subdir: String,
    prefix: String,
    arch: String,
}

/// The content side of a snapshot.
pub(crate) struct Tree {
    pub host_sets: Vec<HostSet>,
    pub directories: Vec<Directory>,
    pub repositories: Vec<Repository>,
    pub repository_redirects: Vec<RepositoryRedirect>,
    pub disabled_prefixes: Vec<String>,
    pub files: Vec<FileEntry>,
}

/// Pushes the binary, debug and source repositories of one Fedora-style release (`releases`, `updates`,
/// `updates/testing`), or of a development tree when `base` is `development/`.
fn fedora_trees(out: &mut Vec<RepoDef>, category: usize, base: &str, v: &str, arches: &[&str]) {
    let t = |path: &str, prefix: &str| (path.replace("{v}", v), prefix.replace("{v}", v));
    let trees = if base.starts_with("development") {
        let prefix = if v == "rawhide" { "rawhide" } else { "fedora-{v}" };
        vec![t("{v}/Everything/{a}/os", prefix)]
    } else {
        vec![
            t("releases/{v}/Everything/{a}/os", "fedora-{v}"),
            t("updates/{v}/Everything/{a}", "updates-released-f{v}"),
            t("updates/testing/{v}/Everything/{a}", "updates-testing-f{v}"),
        ]
    };
    for (path, prefix) in trees {
        // `fedora-41` → `fedora-debug-41`, `updates-released-f41` → `updates-released-debug-f41`.
        let infix = |kind: &str| {
            if prefix == "rawhide" {
                format!("rawhide-{kind}")
            } else if let Some(rest) = prefix.strip_prefix("fedora-") {
                format!("fedora-{kind}-{rest}")
            } else {
                prefix.replacen("-f", &format!("-{kind}-f"), 1)
            }
        };
        for a in arches {
            let dir = format!("{base}{}", path.replace("{a}", a));
            // Release trees keep debuginfo beside `os` (`…/x86_64/debug/tree`), updates below (`…/x86_64/debug`).
            let debug_dir = match dir.strip_suffix("/os") {
                Some(arch_dir) => format!("{arch_dir}/debug/tree"),
                None => format!("{dir}/debug"),
            };
            out.push(RepoDef {
                category,
                subdir: dir,
                prefix: prefix.clone(),
                arch: a.to_string(),
            });
            out.push(RepoDef {
                category,
                subdir: debug_dir,
                prefix: infix("debug"),
                arch: a.to_string(),
            });
        }
        let source_dir = path.replace("{a}/os", "source/tree").replace("{a}", "source/tree");
        out.push(RepoDef {
            category,
            subdir: format!("{base}{source_dir}"),
            prefix: infix("source"),
            arch: "source".into(),
        });
    }
}

fn epel_trees(out: &mut Vec<RepoDef>, category: usize, base: &str, v: &str, arches: &[&str], layered: bool) {
    let flavours: &[(&str, &str)] = if layered {
        &[("", "epel"), ("testing/", "epel-testing"), ("next/", "epel-next")]
    } else {
        &[("", "epel")]
    };
    for &(dir, prefix) in flavours {
        for a in arches {
            let d = if layered {
                format!("{base}{dir}{v}/Everything/{a}")
            } else {
                format!("{base}{v}/{a}")
            };
            out.push(RepoDef {
                category,
                subdir: d.clone(),
                prefix: format!("{prefix}-{v}"),
                arch: a.to_string(),
            });
            out.push(RepoDef {
                category,
                subdir: format!("{d}/debug"),
                prefix: format!("{prefix}-debug-{v}"),
                arch: a.to_string(),
            });
        }
        let d = if layered {
            format!("{base}{dir}{v}/Everything/source/tree")
        } else {
            format!("{base}{v}/SRPMS")
        };
        out.push(RepoDef {
            category,
            subdir: d,
            prefix: format!("{prefix}-source-{v}"),
            arch: "source".into(),
        });
    }
}

fn archive_arches(v: u32) -> &'static [&'static str] {
    match v {
        31.. => &["x86_64", "aarch64", "ppc64le", "s390x", "armhfp"],
        27..=30 => &["x86_64", "aarch64", "ppc64le", "s390x", "armhfp", "i386"],
        19..=26 => &["x86_64", "i386", "armhfp", "aarch64", "ppc64", "ppc64le", "s390x"],
        7..=18 => &["x86_64", "i386", "ppc", "ppc64", "arm", "s390", "sparc", "ia64"],
        _ => &["i386", "x86_64", "ppc"],
    }
}

/// Every repository definition, most requested first. Longer than any scale needs: the caller cuts it.
fn repo_defs(limit: usize) -> Vec<RepoDef> {
    let mut out = Vec::new();
    for v in ACTIVE {
        fedora_trees(&mut out, LINUX, "", &v.to_string(), PRIMARY);
        for a in PRIMARY {
            out.push(RepoDef {
                category: LINUX,
                subdir: format!("releases/{v}/Server/{a}/os"),
                prefix: format!("fedora-install-{v}"),
                arch: a.to_string(),
            });
        }
    }
    for v in EPEL_VERSIONS {
        epel_trees(&mut out, EPEL, "", v, PRIMARY, true);
    }
    fedora_trees(&mut out, LINUX, "development/", "rawhide", PRIMARY);
    fedora_trees(&mut out, LINUX, "development/", &BRANCHED.to_string(), PRIMARY);
    for v in ACTIVE {
        for a in &PRIMARY[..2] {
            out.push(RepoDef {
                category: CODECS,
                subdir: format!("openh264/{v}/{a}/os"),
                prefix: format!("fedora-cisco-openh264-{v}"),
                arch: a.to_string(),
            });
            out.push(RepoDef {
                category: CODECS,
                subdir: format!("openh264/{v}/{a}/debug"),
                prefix: format!("fedora-cisco-openh264-debug-{v}"),
                arch: a.to_string(),
            });
        }
    }
    for variant in ["BaseOS", "AppStream", "CRB", "Extras"] {
        for a in PRIMARY {
            out.push(RepoDef {
                category: ELN,
                subdir: format!("1/{variant}/{a}/os"),
                prefix: format!("eln-{}", variant.to_ascii_lowercase()),
                arch: a.to_string(),
            });
        }
    }
    for v in ACTIVE {
        fedora_trees(&mut out, SECONDARY, "", &v.to_string(), &["riscv64"]);
    }
    for v in (1..=40u32).rev() {
        let arches = archive_arches(v);
        if v <= 6 {
            for (name, prefix, debug_prefix) in [
                ("core", format!("core-{v}"), format!("core-debug-{v}")),
                ("extras", format!("extras-{v}"), format!("extras-debug-{v}")),
                (
                    "updates",
                    format!("updates-released-fc{v}"),
                    format!("updates-released-debug-fc{v}"),
                ),
            ] {
                for a in arches {
                    let d = format!("fedora/linux/{name}/{v}/{a}/os");
                    out.push(RepoDef {
                        category: ARCHIVE,
                        subdir: format!("fedora/linux/{name}/{v}/{a}/debug"),
                        prefix: debug_prefix.clone(),
                        arch: a.to_string(),
                    });
                    out.push(RepoDef {
                        category: ARCHIVE,
                        subdir: d,
                        prefix: prefix.clone(),
                        arch: a.to_string(),
                    });
                }
            }
            continue;
        }
        fedora_trees(&mut out, ARCHIVE, "fedora/linux/", &v.to_string(), arches);
        if v <= 20 {
            for a in arches {
                out.push(RepoDef {
                    category: ARCHIVE,
                    subdir: format!("fedora/linux/releases/{v}/Fedora/{a}/os"),
                    prefix: format!("fedora-install-{v}"),
                    arch: a.to_string(),
                });
            }
        }
        if (28..=39).contains(&v) {
            for a in arches {
                for (dir, prefix) in [
                    (format!("releases/{v}/Modular/{a}/os"), format!("fedora-modular-{v}")),
                    (
                        format!("updates/{v}/Modular/{a}"),
                        format!("updates-released-modular-f{v}"),
                    ),
                    (
                        format!("updates/testing/{v}/Modular/{a}"),
                        format!("updates-testing-modular-f{v}"),
                    ),
                ] {
                    out.push(RepoDef {
                        category: ARCHIVE,
                        subdir: format!("fedora/linux/{dir}"),
                        prefix,
                        arch: a.to_string(),
                    });
                }
            }
        }
        if out.len() > limit * 2 {
            return out;
        }
    }
    for v in ["7", "6", "5"] {
        epel_trees(&mut out, ARCHIVE, "epel/", v, &["x86_64", "i386", "ppc64"], false);
    }
    // Padding as in the reference data set: editions of archived releases, until the scale is reached.
    let editions = [
        "Server",
        "Workstation",
        "Cloud",
        "Container",
        "Spins",
        "Labs",
        "Kinoite",
        "Silverblue",
        "IoT",
    ];
    'pad: for edition in editions {
        for v in (1..=40u32).rev() {
            for a in archive_arches(v) {
                if out.len() > limit * 2 {
                    break 'pad;
                }
                out.push(RepoDef {
                    category: ARCHIVE,
                    subdir: format!("fedora/linux/releases/{v}/{edition}/{a}/os"),
                    prefix: format!("fedora-{}-{v}", edition.to_ascii_lowercase()),
                    arch: a.to_string(),
                });
            }
        }
    }
    out
}

/// Directory names in creation order, with their category; `add` is idempotent.
#[derive(Default)]
struct Dirs {
    names: Vec<(String, usize)>,
    index: HashMap<String, u32>,
}

impl Dirs {
    fn add(&mut self, name: String, category: usize) -> u32 {
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(name.clone(), i);
        self.names.push((name, category));
        i
    }

    /// `name` and every ancestor below (and including) the category's topdir.
    fn add_with_ancestors(&mut self, topdir: &str, sub: &str, category: usize) -> u32 {
        let mut at = 0;
        while let Some(i) = sub[at..].find('/') {
            self.add(format!("{topdir}/{}", &sub[..at + i]), category);
            at += i + 1;
        }
        self.add(format!("{topdir}/{sub}"), category)
    }
}

fn digest(rng: &mut Rng, len: usize, permille: u32) -> Option<Digest> {
    rng.chance(permille).then(|| Digest::Bytes(rng.bytes(len)))
}

pub(crate) fn generate(
    scale: &Scale,
    seed: u64,
    created: u64,
    host_categories: &[HostCategory],
    always_up2date: &[bool],
) -> Tree {
    let mut rng = Rng::new(seed, 2);
    let mut dirs = Dirs::default();
    for (c, spec) in CATEGORIES.iter().enumerate() {
        dirs.add(spec.topdir.into(), c);
    }
    let mut keys = HashSet::new();
    let mut repos = Vec::new();
    let mut fill_parents = Vec::new();
    for def in repo_defs(scale.repositories) {
        if repos.len() >= scale.repositories {
            break;
        }
        if !keys.insert((def.prefix.clone(), def.arch.clone())) {
            continue;
        }
        let topdir = CATEGORIES[def.category].topdir;
        let dir = dirs.add_with_ancestors(topdir, &def.subdir, def.category);
        let repodata = dirs.add(format!("{topdir}/{}/repodata", def.subdir), def.category);
        if !def.prefix.contains("debug") && def.arch != "source" {
            fill_parents.push(dir);
        }
        repos.push((def, dir, repodata));
    }
    // Packages trees: full `Packages/<letter>` trees for the current releases first, then the archive one
    // level at a time. Most directories are thus in the widely carried categories, as in Fedora, where the
    // average directory has ~110 host categories that could carry it.
    let (current, archive): (Vec<u32>, Vec<u32>) =
        fill_parents.iter().partition(|&&d| dirs.names[d as usize].1 != ARCHIVE);
    let mut order: Vec<(u32, usize)> = Vec::new();
    for &p in &current {
        order.extend((0..=LETTERS.len()).map(|round| (p, round)));
    }
    for round in 0..=LETTERS.len() {
        order.extend(archive.iter().map(|&p| (p, round)));
    }
    for (p, round) in order {
        if dirs.names.len() >= scale.directories {
            break;
        }
        let (parent, category) = dirs.names[p as usize].clone();
        let name = match round {
            0 => format!("{parent}/Packages"),
            r => format!("{parent}/Packages/{}", LETTERS[r - 1] as char),
        };
        dirs.add(name, category);
    }

    // Carriers: always-up-to-date host categories carry everything, the others each directory with
    // probability `carry_permille`. Identical sets are stored once.
    let mut by_category: Vec<Vec<u32>> = vec![Vec::new(); CATEGORIES.len()];
    for (i, hc) in host_categories.iter().enumerate() {
        by_category[hc.category.index()].push(i as u32);
    }
    let mut set_ids: HashMap<Vec<HostCategoryId>, u32> = HashMap::new();
    let mut host_sets = Vec::new();
    let mut directories = Vec::with_capacity(dirs.names.len());
    for (name, category) in dirs.names {
        let members: Vec<HostCategoryId> = by_category[category]
            .iter()
            .filter(|&&hc| always_up2date[hc as usize] || rng.chance(scale.carry_permille))
            .map(|&hc| HostCategoryId(hc))
            .collect();
        let next = host_sets.len() as u32;
        let id = *set_ids.entry(members.clone()).or_insert_with(|| {
            host_sets.push(HostSet::new(members));
            next
        });
        directories.push(Directory {
            name,
            category: CategoryId(category as u32),
            hosts: HostSetId(id),
        });
    }

    let mut files = Vec::with_capacity(repos.len());
    let mut repositories = Vec::with_capacity(repos.len());
    for (def, dir, repodata) in repos {
        let versions = match rng.below(20) {
            0..=10 => 1,
            11..=16 => 2,
            _ => 3,
        };
        let mut timestamp = created - rng.range(600, 86_400 * 30);
        let details = (0..versions)
            .map(|_| {
                let d = FileDetail {
                    timestamp,
                    size: rng.range(2_000, 9_000),
                    md5: digest(&mut rng, 16, 800),
                    sha1: digest(&mut rng, 20, 800),
                    sha256: digest(&mut rng, 32, 1000),
                    sha512: digest(&mut rng, 64, 900),
                };
                timestamp -= rng.range(3_600, 86_400 * 3);
                d
            })
            .collect();
        files.push(FileEntry {
            directory: DirectoryId(repodata),
            name: "repomd.xml".into(),
            details,
        });
        repositories.push(Repository {
            prefix: def.prefix,
            arch: def.arch,
            directory: DirectoryId(dir),
        });
    }

    let mut repository_redirects: Vec<RepositoryRedirect> = ["", "-debug", "-source"]
        .iter()
        .flat_map(|k| {
            [
                format!("fedora{k}-rawhide"),
                format!("updates-released{k}-frawhide"),
                format!("updates-testing{k}-frawhide"),
            ]
            .map(|from| RepositoryRedirect {
                from,
                to: format!("rawhide{k}"),
            })
        })
        .collect();
    for from in ["fedora-45", "updates-released-f45", "updates-testing-f45"] {
        repository_redirects.push(RepositoryRedirect {
            from: from.into(),
            to: "rawhide".into(),
        });
    }
    Tree {
        host_sets,
        directories,
        repositories,
        repository_redirects,
        disabled_prefixes: vec!["core-1".into(), "extras-1".into(), "fedora-modular-28".into()],
        files,
    }
}
