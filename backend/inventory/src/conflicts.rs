//! URLs are unique across the whole database, but a file only speaks for the hosts it lists: a URL it gives
//! one host may still belong to a host it does not list (and that the apply therefore keeps). The database
//! would refuse the insert half-way through an apply; this finds such URLs beforehand, for the dry run.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::diff::{Change, Key};
use super::model::Inventory;

/// An added URL that the store keeps on another host category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlConflict {
    pub url: String,
    /// The `Key::HostCategoryUrl` the file adds.
    pub wanted_by: Key,
    /// The `Key::HostCategory` that holds the URL now and keeps it.
    pub owned_by: Key,
}

impl fmt::Display for UrlConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: URL already belongs to {}, which this apply keeps",
            self.wanted_by, self.owned_by
        )
    }
}

/// The URLs `changes` (from [`diff`](super::diff())) would add while `current` keeps them elsewhere.
pub fn url_conflicts(current: &Inventory, changes: &[Change]) -> Vec<UrlConflict> {
    let removed: HashSet<&Key> = changes
        .iter()
        .filter_map(|c| {
            if let Change::Remove { key } = c {
                Some(key)
            } else {
                None
            }
        })
        .collect();
    let mut kept: HashMap<&str, Key> = HashMap::new();
    for site in &current.sites {
        if removed.contains(&Key::Site(site.name.clone())) {
            continue;
        }
        for host in &site.hosts {
            if removed.contains(&Key::Host {
                site: site.name.clone(),
                host: host.name.clone(),
            }) {
                continue;
            }
            for hc in &host.categories {
                let owner = Key::HostCategory {
                    site: site.name.clone(),
                    host: host.name.clone(),
                    category: hc.category.clone(),
                };
                if removed.contains(&owner) {
                    continue;
                }
                for url in &hc.urls {
                    let key = Key::HostCategoryUrl {
                        site: site.name.clone(),
                        host: host.name.clone(),
                        category: hc.category.clone(),
                        url: url.url.clone(),
                    };
                    if !removed.contains(&key) {
                        kept.insert(&url.url, owner.clone());
                    }
                }
            }
        }
    }
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Add {
                key: key @ Key::HostCategoryUrl { url, .. },
                ..
            } => kept.get(url.as_str()).map(|owner| UrlConflict {
                url: url.clone(),
                wanted_by: key.clone(),
                owned_by: owner.clone(),
            }),
            _ => None,
        })
        .collect()
}
