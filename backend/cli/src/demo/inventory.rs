//! The demo's inventory: the synthetic network's mirrors as an [`Inventory`], restricted to the categories of
//! the demo tree ([`mirrorvane_testkit::tree::CATEGORIES`]). Hosts are grouped into sites by their domain, so some sites run
//! several hosts, as at universities and hosting companies.

use std::collections::BTreeMap;

use mirrorvane_selector::snapshot::Snapshot;

use crate::inventory::{Arch, Category, Host, HostCategory, Inventory, Netblock, Product, Site, Url};

use mirrorvane_testkit::tree::CATEGORIES;

/// The inventory of `snapshot`'s hosts that carry one of the demo categories. Every host category is marked
/// always up to date: the demo has no crawler to find out.
pub fn from_network(snapshot: &Snapshot) -> Inventory {
    let mut inv = Inventory::default();
    for (name, product, topdir) in CATEGORIES {
        if !inv.products.iter().any(|p| p.name == *product) {
            inv.products.push(Product::new(*product));
        }
        inv.categories.push(Category::new(*name, *product, *topdir));
    }
    inv.arches = ["aarch64", "source", "x86_64"].into_iter().map(Arch::new).collect();

    let mut netblocks: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for n in &snapshot.host_netblocks {
        for h in &n.hosts {
            netblocks.entry(h.0).or_default().push(n.network.to_string());
        }
    }
    let mut sites: BTreeMap<String, Site> = BTreeMap::new();
    for (i, h) in snapshot.hosts.iter().enumerate() {
        let categories: Vec<HostCategory> = snapshot
            .host_categories
            .iter()
            .filter(|hc| hc.host.index() == i)
            .filter_map(|hc| {
                let topdir = &snapshot.categories[hc.category.index()].topdir;
                let (name, _, _) = CATEGORIES.iter().find(|(_, _, t)| t == topdir)?;
                let urls = hc
                    .urls
                    .iter()
                    .map(|u| Url {
                        url: u.trim_end_matches('/').to_owned(),
                        private: u.starts_with("rsync:"),
                    })
                    .collect();
                Some(HostCategory {
                    category: (*name).to_owned(),
                    always_up_to_date: true,
                    urls,
                })
            })
            .collect();
        let Some(country) = h.country else { continue };
        if categories.is_empty() {
            continue;
        }
        let mut host = Host::new(h.name.clone(), country.as_str());
        host.bandwidth = h.bandwidth;
        host.private = h.private;
        host.asn = h.asns.first().copied();
        host.peer_asns = h.asns.iter().skip(1).copied().collect();
        host.allowed_countries = h.allowed_countries.iter().map(|c| c.as_str().to_owned()).collect();
        host.netblocks = netblocks
            .remove(&(i as u32))
            .unwrap_or_default()
            .into_iter()
            .map(|n| Netblock {
                name: n.clone(),
                netblock: n,
            })
            .collect();
        host.categories = categories;
        let domain = h.name.split_once('.').map_or(h.name.as_str(), |(_, d)| d).to_owned();
        let site = sites.entry(domain.clone()).or_insert_with(|| {
            let mut s = Site::new(domain.clone());
            s.org_url = Some(format!("https://{domain}"));
            s.admins = vec![format!("admin@{domain}")];
            s
        });
        site.hosts.push(host);
    }
    inv.sites = sites.into_values().collect();
    inv
}
