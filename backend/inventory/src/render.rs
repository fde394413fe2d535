//! Writing an [`Inventory`] in the format [`parse`](super::parse) reads (`mirrorvane export`).
//!
//! Written by hand rather than through a TOML serializer: the layout (arrays of tables nested site → host →
//! category, a netblock as a plain string when its label is itself, defaults left out) is the point.
//! Entities come out in stored order; the only reordering is a host category's public URLs before its private
//! ones, which is the order the format can express.

use std::fmt::Write;

use super::model::*;

/// Longest single-line array; longer ones get one element per line.
const INLINE_WIDTH: usize = 100;

pub fn to_toml(inv: &Inventory) -> String {
    let mut out = String::new();
    // Top-level keys must precede the first table header.
    if !inv.embargoed.is_empty() {
        array(&mut out, "embargoed", inv.embargoed.iter().map(|c| quote(c)));
    }
    if !inv.disabled_repositories.is_empty() {
        array(
            &mut out,
            "disabled_repositories",
            inv.disabled_repositories.iter().map(|r| quote(r)),
        );
    }
    for p in &inv.products {
        out.push_str("\n[[product]]\n");
        string(&mut out, "name", &p.name);
        flag(&mut out, "publiclist", p.publiclist, true);
    }
    for c in &inv.categories {
        out.push_str("\n[[category]]\n");
        string(&mut out, "name", &c.name);
        string(&mut out, "product", &c.product);
        string(&mut out, "topdir", &c.topdir);
        flag(&mut out, "publiclist", c.publiclist, true);
        flag(&mut out, "admin_only", c.admin_only, false);
        if !c.excludes.is_empty() {
            array(&mut out, "excludes", c.excludes.iter().map(|e| quote(e)));
        }
    }
    for a in &inv.arches {
        out.push_str("\n[[arch]]\n");
        string(&mut out, "name", &a.name);
        flag(&mut out, "publiclist", a.publiclist, true);
        flag(&mut out, "primary", a.primary, true);
    }
    for s in &inv.sites {
        site(&mut out, s);
    }
    if !inv.country_continent.is_empty() {
        out.push_str("\n[country_continent]\n");
        for (country, continent) in &inv.country_continent {
            let _ = writeln!(out, "{} = {}", key(country), quote(continent));
        }
    }
    for n in &inv.netblock_country {
        out.push_str("\n[[netblock_country]]\n");
        string(&mut out, "netblock", &n.netblock);
        string(&mut out, "country", &n.country);
    }
    for v in &inv.versions {
        out.push_str("\n[[version]]\n");
        string(&mut out, "product", &v.product);
        string(&mut out, "name", &v.name);
        if let Some(d) = &v.display_name {
            string(&mut out, "display_name", d);
        }
        if let Some(c) = &v.codename {
            string(&mut out, "codename", c);
        }
        if v.sortorder != 0 {
            let _ = writeln!(out, "sortorder = {}", v.sortorder);
        }
        flag(&mut out, "display", v.display, true);
        flag(&mut out, "current", v.current, false);
    }
    if !inv.repository_redirects.is_empty() {
        out.push_str("\n[repository_redirects]\n");
        for (from, to) in &inv.repository_redirects {
            let _ = writeln!(out, "{} = {}", key(from), quote(to));
        }
    }
    out.trim_start_matches('\n').to_owned()
}

fn site(out: &mut String, s: &Site) {
    out.push_str("\n[[site]]\n");
    string(out, "name", &s.name);
    if let Some(url) = &s.org_url {
        string(out, "org_url", url);
    }
    flag(out, "private", s.private, false);
    flag(out, "admin_active", s.admin_active, true);
    flag(out, "user_active", s.user_active, true);
    if !s.admins.is_empty() {
        array(out, "admins", s.admins.iter().map(|a| quote(a)));
    }
    if let Some(password) = &s.password {
        string(out, "password", password);
    }
    for h in &s.hosts {
        host(out, h);
    }
}

fn host(out: &mut String, h: &Host) {
    out.push_str("\n[[site.host]]\n");
    string(out, "name", &h.name);
    string(out, "country", &h.country);
    if h.bandwidth != 100 {
        let _ = writeln!(out, "bandwidth = {}", h.bandwidth);
    }
    if h.max_connections != 1 {
        let _ = writeln!(out, "max_connections = {}", h.max_connections);
    }
    flag(out, "private", h.private, false);
    flag(out, "admin_active", h.admin_active, true);
    flag(out, "user_active", h.user_active, true);
    if let Some(asn) = h.asn {
        let _ = writeln!(out, "asn = {asn}");
    }
    flag(out, "asn_clients", h.asn_clients, true);
    if let Some(comment) = &h.comment {
        string(out, "comment", comment);
    }
    if let Some(email) = &h.robot_email {
        string(out, "robot_email", email);
    }
    if !h.netblocks.is_empty() {
        let items = h.netblocks.iter().map(|n| {
            if n.name == n.netblock {
                quote(&n.netblock)
            } else {
                format!("{{ name = {}, netblock = {} }}", quote(&n.name), quote(&n.netblock))
            }
        });
        array(out, "netblocks", items);
    }
    if !h.peer_asns.is_empty() {
        array(out, "peer_asns", h.peer_asns.iter().map(u32::to_string));
    }
    if !h.allowed_countries.is_empty() {
        array(out, "allowed_countries", h.allowed_countries.iter().map(|c| quote(c)));
    }
    if !h.acl_ips.is_empty() {
        array(out, "acl_ips", h.acl_ips.iter().map(|c| quote(c)));
    }
    for hc in &h.categories {
        out.push_str("\n[[site.host.category]]\n");
        string(out, "name", &hc.category);
        flag(out, "always_up_to_date", hc.always_up_to_date, false);
        for (field, private) in [("urls", false), ("private_urls", true)] {
            let mut urls = hc.urls.iter().filter(|u| u.private == private).peekable();
            if urls.peek().is_some() {
                array(out, field, urls.map(|u| quote(&u.url)));
            }
        }
    }
}

fn string(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(out, "{name} = {}", quote(value));
}

/// Writes a boolean only when it differs from its default.
fn flag(out: &mut String, name: &str, value: bool, default: bool) {
    if value != default {
        let _ = writeln!(out, "{name} = {value}");
    }
}

fn array(out: &mut String, name: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    let inline = items.join(", ");
    if name.len() + inline.len() + 5 <= INLINE_WIDTH {
        let _ = writeln!(out, "{name} = [{inline}]");
    } else {
        let _ = writeln!(out, "{name} = [");
        for item in items {
            let _ = writeln!(out, "    {item},");
        }
        out.push_str("]\n");
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key, bare when TOML allows it.
fn key(text: &str) -> String {
    let bare = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare { text.to_owned() } else { quote(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\nd\u{7}é"), "\"a\\\"b\\\\c\\nd\\u0007é\"");
        assert_eq!(key("TW"), "TW");
        assert_eq!(key("a b"), "\"a b\"");
    }
}
