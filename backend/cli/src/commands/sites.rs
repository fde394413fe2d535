//! `mirrorvane site …` and `mirrorvane host …`: one site or host at a time.
//!
//! Each command loads the stored inventory, makes one edit to a copy and applies the diff, so it shares the
//! file's validation, its dry-run lines and its single write path ([`store::apply`]). Only a rename has no diff
//! form (a diff would remove and re-add the site, losing its hosts' crawler state); it is one `name` update.

use std::io::Write;

use anyhow::{Context, anyhow, bail};

use super::inventory::apply_inventory;
use crate::db::Database;
use crate::inventory::diff::Value;
use crate::inventory::store;
use crate::inventory::validate;
use crate::inventory::{Change, Host, HostCategory, Inventory, Key, Netblock, Prune, Site, Url, diff_with};

/// `mirrorvane site …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SiteCommand {
    /// Add a site (with no hosts yet).
    Add {
        name: String,
        /// The organisation's web site.
        #[arg(long, value_name = "URL")]
        org_url: Option<String>,
        /// Hide the site's hosts from public lists.
        #[arg(long)]
        private: bool,
        /// A user who administers the site; repeatable.
        #[arg(long = "admin", value_name = "USER")]
        admins: Vec<String>,
        /// A file whose first line is the site's check-in password (its private hosts' `report_mirror`).
        #[arg(long, value_name = "FILE")]
        password_file: Option<std::path::PathBuf>,
    },
    /// Change a site's settings.
    Edit {
        name: String,
        #[arg(long, value_name = "URL")]
        org_url: Option<String>,
        #[arg(long, value_name = "true|false")]
        private: Option<bool>,
        /// New name (hosts and their state are kept).
        #[arg(long, value_name = "NEW")]
        rename: Option<String>,
        /// A file whose first line is the site's new check-in password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<std::path::PathBuf>,
    },
    /// Take a site out of service (admin_active = false).
    Disable { name: String },
    /// Put a site back in service (admin_active = true).
    Enable { name: String },
    /// Delete a site with all its hosts, URLs and netblocks.
    Remove { name: String },
}

/// `mirrorvane host …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum HostCommand {
    /// Add a host to a site.
    Add {
        site: String,
        name: String,
        /// Two-letter ISO 3166 code.
        #[arg(long, value_name = "CC")]
        country: String,
        /// Mbit/s (default 100).
        #[arg(long, value_name = "N")]
        bandwidth: Option<i64>,
        #[arg(long, value_name = "N")]
        max_connections: Option<i64>,
        /// The host's autonomous system.
        #[arg(long, value_name = "N")]
        asn: Option<i64>,
        /// Hide the host from public lists.
        #[arg(long)]
        private: bool,
        /// A network (CIDR or DNS name) whose clients always get this host; repeatable.
        #[arg(long = "netblock", value_name = "NET")]
        netblocks: Vec<String>,
        /// The category the `--url`s serve.
        #[arg(long, value_name = "NAME")]
        category: Option<String>,
        /// A URL of `--category`; repeatable.
        #[arg(long = "url", value_name = "URL", requires = "category")]
        urls: Vec<String>,
        /// A URL of `--category` hidden from mirrorlists (rsync for downstream mirrors); repeatable.
        #[arg(long = "private-url", value_name = "URL", requires = "category")]
        private_urls: Vec<String>,
        /// Count the host as carrying every directory of `--category` without a crawl (a caching or
        /// redirecting mirror, or one you vouch for). Otherwise it is offered once a crawl or a check-in has
        /// found its directories up to date.
        #[arg(long, requires = "category")]
        always_up_to_date: bool,
    },
    /// Change a host's settings.
    Edit {
        site: String,
        name: String,
        #[arg(long, value_name = "CC")]
        country: Option<String>,
        #[arg(long, value_name = "N")]
        bandwidth: Option<i64>,
        #[arg(long, value_name = "N")]
        max_connections: Option<i64>,
        #[arg(long, value_name = "N", conflicts_with = "no_asn")]
        asn: Option<i64>,
        /// Forget the host's ASN.
        #[arg(long)]
        no_asn: bool,
        #[arg(long, value_name = "true|false")]
        private: Option<bool>,
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Take a host out of service (admin_active = false).
    Disable { site: String, name: String },
    /// Put a host back in service (admin_active = true).
    Enable { site: String, name: String },
    /// Delete a host with its URLs and netblocks.
    Remove { site: String, name: String },
}

/// Runs a site command, printing to standard output.
pub async fn run_site(db: &Database, cmd: &SiteCommand) -> anyhow::Result<()> {
    site(db, cmd, &mut std::io::stdout().lock()).await
}

/// Runs a host command, printing to standard output.
pub async fn run_host(db: &Database, cmd: &HostCommand) -> anyhow::Result<()> {
    host(db, cmd, &mut std::io::stdout().lock()).await
}

/// The stored inventory, and a copy to edit. The copy has no passwords: the stored hashes would otherwise be
/// compared as given passwords and "changed".
async fn current_and_copy(db: &Database) -> anyhow::Result<(Inventory, Inventory)> {
    let current = store::load(db).await?;
    let mut desired = current.clone();
    store::strip_passwords(&mut desired);
    Ok((current, desired))
}

/// The first line of a password file; an empty password is refused (it would lock the site's check-ins open
/// to a guess of nothing).
fn read_password(file: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
    let password = text.lines().next().unwrap_or_default().to_owned();
    if password.is_empty() {
        bail!("{}: the password is empty", file.display());
    }
    Ok(password)
}

fn find_site<'a>(inv: &'a mut Inventory, name: &str) -> anyhow::Result<&'a mut Site> {
    inv.sites
        .iter_mut()
        .find(|s| s.name == name)
        .ok_or_else(|| anyhow!("unknown site {name:?}"))
}

fn find_host<'a>(inv: &'a mut Inventory, site: &str, name: &str) -> anyhow::Result<&'a mut Host> {
    find_site(inv, site)?
        .hosts
        .iter_mut()
        .find(|h| h.name == name)
        .ok_or_else(|| anyhow!("unknown host {name:?} in site {site:?}"))
}

/// Runs a site command, printing to `out`.
pub async fn site(db: &Database, cmd: &SiteCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let (current, mut desired) = current_and_copy(db).await?;
    let mut prune = Prune::No;
    match cmd {
        SiteCommand::Add {
            name,
            org_url,
            private,
            admins,
            password_file,
        } => {
            let name = validate::name("site name", name)?;
            if current.sites.iter().any(|s| s.name == name) {
                bail!("site {name:?} already exists");
            }
            let mut site = Site::new(name);
            site.org_url = org_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned);
            site.private = *private;
            site.password = password_file.as_deref().map(read_password).transpose()?;
            for admin in admins {
                let admin = validate::name("admin", admin)?;
                if !site.admins.contains(&admin) {
                    site.admins.push(admin);
                }
            }
            desired.sites.push(site);
        }
        SiteCommand::Edit {
            name,
            org_url,
            private,
            rename,
            password_file,
        } => {
            let site = find_site(&mut desired, name)?;
            if let Some(file) = password_file {
                site.password = Some(read_password(file)?);
            }
            if let Some(url) = org_url {
                site.org_url = Some(url.trim().to_owned()).filter(|u| !u.is_empty());
            }
            if let Some(private) = private {
                site.private = *private;
            }
            if let Some(new) = rename {
                let new = validate::name("site name", new)?;
                if new != *name && current.sites.iter().any(|s| s.name == new) {
                    bail!("cannot rename site {name:?}: site {new:?} already exists");
                }
                // The settings under the old name, then the rename, in one transaction.
                let mut changes = diff_with(&current, &desired, prune, &store::password_matches);
                if new != *name {
                    changes.push(Change::Update {
                        key: Key::Site(name.clone()),
                        field: "name",
                        from: Value::Text(name.clone()),
                        to: Value::Text(new),
                    });
                }
                if changes.is_empty() {
                    writeln!(out, "no changes")?;
                    return Ok(());
                }
                for change in &changes {
                    writeln!(out, "{change}")?;
                }
                let report = store::apply(db, &changes, "mirrorvane site").await?;
                writeln!(
                    out,
                    "applied {}: {} updated",
                    super::count(report.total(), "change", "changes"),
                    report.updated
                )?;
                return Ok(());
            }
        }
        SiteCommand::Disable { name } => find_site(&mut desired, name)?.admin_active = false,
        SiteCommand::Enable { name } => find_site(&mut desired, name)?.admin_active = true,
        SiteCommand::Remove { name } => {
            let site = find_site(&mut desired, name)?;
            writeln!(out, "removing site {name:?} and {}", contents(&site.hosts))?;
            desired.sites.retain(|s| s.name != *name);
            prune = Prune::Yes;
        }
    }
    apply_inventory(db, &current, &desired, prune, false, out).await?;
    Ok(())
}

/// "2 hosts (3 host categories, 5 URLs, 1 netblock)", for what a removal cascades to.
fn contents(hosts: &[Host]) -> String {
    let categories: usize = hosts.iter().map(|h| h.categories.len()).sum();
    let urls: usize = hosts.iter().flat_map(|h| &h.categories).map(|c| c.urls.len()).sum();
    let netblocks: usize = hosts.iter().map(|h| h.netblocks.len()).sum();
    format!(
        "{} host(s) ({categories} host categories, {urls} URLs, {netblocks} netblocks)",
        hosts.len()
    )
}

/// Runs a host command, printing to `out`.
pub async fn host(db: &Database, cmd: &HostCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let (current, mut desired) = current_and_copy(db).await?;
    let mut prune = Prune::No;
    match cmd {
        HostCommand::Add {
            site,
            name,
            country,
            bandwidth,
            max_connections,
            asn,
            private,
            netblocks,
            category,
            urls,
            private_urls,
            always_up_to_date,
        } => {
            let name = validate::host_name(name)?;
            let mut host = Host::new(name.clone(), validate::country(country)?);
            if let Some(b) = bandwidth {
                host.bandwidth = validate::positive("bandwidth", *b)?;
            }
            if let Some(m) = max_connections {
                host.max_connections = validate::positive("max_connections", *m)?;
            }
            host.asn = asn.map(|a| validate::asn("asn", a)).transpose()?;
            host.private = *private;
            for nb in netblocks {
                let netblock = validate::host_netblock(nb)?;
                if !host.netblocks.iter().any(|n| n.netblock == netblock) {
                    host.netblocks.push(Netblock {
                        name: netblock.clone(),
                        netblock,
                    });
                }
            }
            if let Some(category) = category {
                if !current.categories.iter().any(|c| c.name == *category) {
                    bail!("unknown category {category:?}");
                }
                let mut hc = HostCategory::new(category.clone());
                hc.always_up_to_date = *always_up_to_date;
                let tagged = urls
                    .iter()
                    .map(|u| (u, false))
                    .chain(private_urls.iter().map(|u| (u, true)));
                for (url, private) in tagged {
                    let url = validate::mirror_url(url)?;
                    if !hc.urls.iter().any(|u| u.url == url) {
                        hc.urls.push(Url { url, private });
                    }
                }
                host.categories.push(hc);
            }
            let site_row = find_site(&mut desired, site)?;
            if site_row.hosts.iter().any(|h| h.name == name) {
                bail!("host {name:?} already exists in site {site:?}");
            }
            site_row.hosts.push(host);
        }
        HostCommand::Edit {
            site,
            name,
            country,
            bandwidth,
            max_connections,
            asn,
            no_asn,
            private,
            comment,
        } => {
            let host = find_host(&mut desired, site, name)?;
            if let Some(c) = country {
                host.country = validate::country(c)?;
            }
            if let Some(b) = bandwidth {
                host.bandwidth = validate::positive("bandwidth", *b)?;
            }
            if let Some(m) = max_connections {
                host.max_connections = validate::positive("max_connections", *m)?;
            }
            if let Some(a) = asn {
                host.asn = Some(validate::asn("asn", *a)?);
            }
            if *no_asn {
                host.asn = None;
            }
            if let Some(p) = private {
                host.private = *p;
            }
            if let Some(c) = comment {
                host.comment = Some(c.clone()).filter(|c| !c.is_empty());
            }
        }
        HostCommand::Disable { site, name } => find_host(&mut desired, site, name)?.admin_active = false,
        HostCommand::Enable { site, name } => find_host(&mut desired, site, name)?.admin_active = true,
        HostCommand::Remove { site, name } => {
            let host = find_host(&mut desired, site, name)?;
            writeln!(
                out,
                "removing host {name:?} of site {site:?}: {}",
                contents(std::slice::from_ref(host))
            )?;
            find_site(&mut desired, site)?.hosts.retain(|h| h.name != *name);
            prune = Prune::Yes;
        }
    }
    apply_inventory(db, &current, &desired, prune, false, out)
        .await
        .with_context(|| format!("host {}", host_label(cmd)))?;
    Ok(())
}

fn host_label(cmd: &HostCommand) -> String {
    let (site, name) = match cmd {
        HostCommand::Add { site, name, .. }
        | HostCommand::Edit { site, name, .. }
        | HostCommand::Disable { site, name }
        | HostCommand::Enable { site, name }
        | HostCommand::Remove { site, name } => (site, name),
    };
    format!("{name:?} of site {site:?}")
}
