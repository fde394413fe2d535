//! Who may make which change: the one permission check for the web UI and the JSON API.
//!
//! It judges the [`Change`]s a request would make (the same changes `mirrorvane apply` stores), not the form
//! that asked for them, so a crafted request cannot reach a field the page did not offer: MirrorManager only
//! hid the always-up-to-date switch from non-admins, and a hand-made POST set it (reference §6.1).
//!
//! Admins may make every change. Anyone else may change only the sites they administer (or one they are
//! creating with themselves as its admin), and within them not the admin-only fields: a site's or host's
//! `admin_active`, a host category's always-up-to-date flag, a URL's `private` flag, peer ASNs, categories
//! marked admin-only; netblocks larger than /16 (IPv4) or /32 (IPv6) are refused by the netblock check for
//! site admins. Network-wide data (products, categories, arches, country tables) is for admins only.

use mirrorvane_db::netblock::{self, Editor, Origin};

use super::diff::{Change, Entity, Key};
use super::model::Inventory;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The account name (what a site's `admins` lists).
    pub name: String,
    /// In the configured admin group.
    pub admin: bool,
}

/// Why a change is refused, in words for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Access denied: you are not an admin of site {0:?}")]
    NotSiteAdmin(String),
    #[error("Access denied: only mirror administrators may change {0}")]
    AdminOnly(String),
    #[error("Error: {0}")]
    Netblock(#[from] netblock::NetblockError),
}

/// Checks every change; the first refusal stops the request (nothing is applied).
pub fn check(actor: &Actor, current: &Inventory, changes: &[Change]) -> Result<(), Refusal> {
    if actor.admin {
        return Ok(());
    }
    for change in changes {
        check_one(actor, current, changes, change)?;
    }
    Ok(())
}

fn check_one(actor: &Actor, current: &Inventory, changes: &[Change], change: &Change) -> Result<(), Refusal> {
    let key = change.key();
    let Some(site) = key.site() else {
        return Err(Refusal::AdminOnly(key.to_string()));
    };
    if !administers(actor, current, changes, site) {
        return Err(Refusal::NotSiteAdmin(site.to_owned()));
    }
    let admin_only = |what: String| Err(Refusal::AdminOnly(what));
    match change {
        Change::Update { key, field, .. } => match (key, *field) {
            (Key::Site(_) | Key::Host { .. }, "admin_active") => admin_only(format!("{key}: admin_active")),
            (Key::HostCategory { .. }, "always_up_to_date") => admin_only(format!("{key}: always_up_to_date")),
            (Key::HostCategoryUrl { .. }, "private") => admin_only(format!("{key}: private")),
            _ => Ok(()),
        },
        Change::Add { key, entity } => match (key, entity) {
            (Key::Site(_), Entity::Site(s)) if !s.admin_active => admin_only(format!("{key}: admin_active")),
            (Key::Host { .. }, Entity::Host(h)) if !h.admin_active => admin_only(format!("{key}: admin_active")),
            (Key::HostPeerAsn { .. }, _) => admin_only(key.to_string()),
            (Key::HostCategory { category, .. }, Entity::HostCategory(hc)) => {
                if hc.always_up_to_date {
                    return admin_only(format!("{key}: always_up_to_date"));
                }
                let restricted = current.categories.iter().any(|c| &c.name == category && c.admin_only);
                if restricted {
                    return admin_only(format!("{key} (an admin-only category)"));
                }
                Ok(())
            }
            (Key::HostCategoryUrl { .. }, Entity::HostCategoryUrl(u)) if u.private => {
                admin_only(format!("{key}: private"))
            }
            (Key::HostNetblock { .. }, Entity::HostNetblock(nb)) => {
                netblock::check(&nb.netblock, Origin::Input(Editor::SiteAdmin))?;
                Ok(())
            }
            _ => Ok(()),
        },
        Change::Remove { key } => match key {
            Key::HostPeerAsn { .. } => admin_only(key.to_string()),
            _ => Ok(()),
        },
    }
}

/// Whether `actor` administers `site`: listed among its admins now, or the site is new in this request with the
/// actor among the admins it is created with (anyone signed in may create a site and becomes its admin).
fn administers(actor: &Actor, current: &Inventory, changes: &[Change], site: &str) -> bool {
    match current.sites.iter().find(|s| s.name == site) {
        Some(s) => s.admins.iter().any(|a| a == &actor.name),
        None => changes.iter().any(|c| {
            matches!(c, Change::Add { key: Key::SiteAdmin { site: s, user }, .. } if s == site && user == &actor.name)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Prune, diff};
    use crate::model::*;

    fn world() -> Inventory {
        let mut site = Site::new("Mine");
        site.admins = vec!["alice".into()];
        let mut host = Host::new("m.example.org", "DE");
        let mut hc = HostCategory::new("Fedora Linux");
        hc.urls.push(Url {
            url: "https://m.example.org/fedora".into(),
            private: false,
        });
        host.categories.push(hc);
        site.hosts.push(host);
        let mut other = Site::new("Theirs");
        other.admins = vec!["bob".into()];
        other.hosts.push(Host::new("t.example.org", "FR"));
        let mut secret = Category::new("Secret", "Fedora", "pub/secret");
        secret.admin_only = true;
        Inventory {
            sites: vec![site, other],
            categories: vec![Category::new("Fedora Linux", "Fedora", "pub/fedora/linux"), secret],
            ..Inventory::default()
        }
    }

    fn alice() -> Actor {
        Actor {
            name: "alice".into(),
            admin: false,
        }
    }

    /// The refusal (if any) of the changes `edit` makes to the world, as alice.
    fn judge(edit: impl FnOnce(&mut Inventory)) -> Result<(), Refusal> {
        let current = world();
        let mut desired = current.clone();
        edit(&mut desired);
        let changes = diff(&current, &desired, Prune::Yes);
        assert!(!changes.is_empty(), "the edit changes something");
        check(&alice(), &current, &changes)?;
        let admin = Actor {
            name: "root".into(),
            admin: true,
        };
        check(&admin, &current, &changes).expect("admins may do everything");
        Ok(())
    }

    fn host(inv: &mut Inventory) -> &mut Host {
        &mut inv.sites[0].hosts[0]
    }

    #[test]
    fn site_admins_edit_their_own_site() {
        judge(|i| host(i).bandwidth = 1000).unwrap();
        judge(|i| host(i).private = true).unwrap();
        judge(|i| host(i).asn = Some(64500)).unwrap();
        judge(|i| i.sites[0].admins.push("carol".into())).unwrap();
        judge(|i| i.sites[0].password = Some("new".into())).unwrap();
        judge(|i| host(i).allowed_countries.push("DE".into())).unwrap();
        judge(|i| host(i).acl_ips.push("192.0.2.1".into())).unwrap();
        judge(|i| {
            host(i).netblocks.push(Netblock {
                name: "office".into(),
                netblock: "192.0.2.0/24".into(),
            });
        })
        .unwrap();
        judge(|i| i.sites[0].hosts.push(Host::new("n.example.org", "DE"))).unwrap();
        judge(|i| i.sites[0].hosts.clear()).unwrap();
        judge(|i| i.sites.remove(0).name.clear()).unwrap();
    }

    #[test]
    fn anyone_may_create_a_site_they_administer() {
        judge(|i| {
            let mut s = Site::new("New");
            s.admins.push("alice".into());
            s.hosts.push(Host::new("new.example.org", "SE"));
            i.sites.push(s);
        })
        .unwrap();
        let created_for_someone_else = judge(|i| {
            let mut s = Site::new("New");
            s.admins.push("bob".into());
            i.sites.push(s);
        });
        assert_eq!(created_for_someone_else, Err(Refusal::NotSiteAdmin("New".into())));
    }

    #[test]
    fn other_sites_are_refused() {
        let refused = Err(Refusal::NotSiteAdmin("Theirs".into()));
        assert_eq!(judge(|i| i.sites[1].hosts[0].bandwidth = 5), refused);
        assert_eq!(judge(|i| i.sites[1].admins.push("alice".into())), refused);
        assert_eq!(judge(|i| i.sites[1].hosts.clear()), refused);
        assert_eq!(judge(|i| drop(i.sites.remove(1))), refused);
    }

    #[test]
    fn admin_only_fields_are_refused() {
        let refused = |r: Result<(), Refusal>| assert!(matches!(r, Err(Refusal::AdminOnly(_))), "{r:?}");
        refused(judge(|i| i.sites[0].admin_active = false));
        refused(judge(|i| host(i).admin_active = false));
        refused(judge(|i| host(i).categories[0].always_up_to_date = true));
        refused(judge(|i| host(i).categories[0].urls[0].private = true));
        refused(judge(|i| {
            host(i).categories[0].urls.push(Url {
                url: "rsync://m.example.org/fedora".into(),
                private: true,
            });
        }));
        refused(judge(|i| host(i).peer_asns.push(64501)));
        refused(judge(|i| host(i).categories.push(HostCategory::new("Secret"))));
        refused(judge(|i| {
            let mut h = Host::new("n.example.org", "DE");
            h.admin_active = false;
            i.sites[0].hosts.push(h);
        }));
        refused(judge(|i| i.embargoed.push("KP".into())));
        refused(judge(|i| i.categories[0].topdir = "elsewhere".into()));
        refused(judge(|i| {
            i.country_continent.insert("DE".into(), "AS".into());
        }));
        refused(judge(|i| {
            i.repository_redirects.insert("a".into(), "b".into());
        }));
        refused(judge(|i| i.disabled_repositories.push("fedora-41/x86_64".into())));
        refused(judge(|i| {
            i.versions.push(Version {
                product: "Fedora".into(),
                name: "42".into(),
                display_name: None,
                codename: None,
                sortorder: 0,
                display: true,
                current: true,
            });
        }));
    }

    #[test]
    fn large_netblocks_are_for_admins() {
        let r = judge(|i| {
            host(i).netblocks.push(Netblock {
                name: "big".into(),
                netblock: "10.0.0.0/8".into(),
            });
        });
        assert!(matches!(r, Err(Refusal::Netblock(_))), "{r:?}");
        assert!(r.unwrap_err().to_string().contains("larger than /16"));
    }
}
