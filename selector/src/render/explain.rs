//! `&explain=1`: the decision as JSON — every host of the directory's category, the tier that brought it in
//! (with its weight and position) or the reason it was left out. It is rendered from the same [`Decision`] as
//! the real answer, after the same URL filters, so it cannot disagree with it.
//!
//! [`Decision`]: crate::Decision

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::IpAddr;

use serde::Serialize;

use super::suffixes;
use crate::decide::Inputs;
use crate::handle::{Answer, ContentType, Kind, Target, Workspace};
use crate::index::Selector;
use crate::snapshot::HostCategoryId;

#[derive(Serialize)]
struct Explanation<'a> {
    status: u16,
    endpoint: &'a str,
    directory: &'a str,
    file: &'a str,
    client: Client,
    requested_countries: Option<&'a str>,
    protocols: Option<&'a str>,
    minimum: usize,
    found_before_global: usize,
    global_fallback: bool,
    limited_to_requested_countries: bool,
    header: &'a str,
    redirect: Option<String>,
    hosts: Vec<Listed<'a>>,
    excluded: Vec<Excluded<'a>>,
}

#[derive(Serialize)]
struct Client {
    ip: String,
    located_as: String,
    country: Option<String>,
    country_source: &'static str,
    continent: Option<String>,
    asn: Option<u32>,
}

#[derive(Serialize)]
struct Listed<'a> {
    position: usize,
    host_id: u32,
    name: &'a str,
    country: Option<&'a str>,
    tier: &'static str,
    weight: u32,
    private: bool,
    urls: Vec<String>,
}

#[derive(Serialize)]
struct Excluded<'a> {
    host_id: u32,
    name: &'a str,
    country: Option<&'a str>,
    reason: &'static str,
}

/// A JSON error answer.
pub(crate) fn explain_error(a: &mut Answer, status: u16, message: &str) {
    #[derive(Serialize)]
    struct Error<'a> {
        status: u16,
        error: &'a str,
    }
    a.content_type = ContentType::Json;
    a.body = serde_json::to_string_pretty(&Error { status, error: message }).unwrap_or_default();
}

pub(crate) fn explain(
    sel: &Selector,
    t: &Target<'_>,
    inp: &Inputs<'_>,
    ip: IpAddr,
    ws: &mut Workspace,
    kind: Kind,
    redirect: bool,
) {
    suffixes(sel, t, ws, false, "");
    let snap = sel.snapshot();
    let d = &ws.decision;
    let mut status = 200;
    if kind == Kind::Metalink && (t.file.is_empty() || sel.file(t.dir, t.file).is_none()) {
        status = 404;
    }

    let mut listed = Vec::new();
    let mut position = 0;
    let mut first_http = None;
    for e in &d.entries {
        if e.urls == 0 {
            continue;
        }
        position += 1;
        let host = &snap.hosts[snap.host_categories[e.hc.index()].host.index()];
        let urls: Vec<String> = sel
            .printed_urls(e.hc, e.urls)
            .map(|u| {
                let mut s = String::from(u.text());
                s.push_str(&ws.suffix[usize::from(u.ends_with_slash())]);
                s
            })
            .collect();
        if first_http.is_none() {
            first_http = urls.iter().find(|u| u.starts_with("http")).cloned();
        }
        listed.push(Listed {
            position,
            host_id: host.id,
            name: &host.name,
            country: host.country.as_ref().map(crate::codes::CountryCode::as_str),
            tier: e.tier.name(),
            weight: host.bandwidth.max(1),
            private: host.private,
            urls,
        });
    }
    if redirect {
        status = if first_http.is_some() { 302 } else { 404 };
    }

    // Every host category of the directory's category that is not listed, with the first reason that applies.
    let dir = &snap.directories[t.dir.index()];
    let set = &snap.host_sets[dir.hosts.index()];
    let first = snap.host_categories.partition_point(|hc| hc.category < dir.category);
    let mut excluded = Vec::new();
    for (i, hc) in snap.host_categories[first..]
        .iter()
        .enumerate()
        .take_while(|(_, hc)| hc.category == dir.category)
    {
        let id = HostCategoryId((first + i) as u32);
        let entry = d.entries.iter().find(|e| e.hc == id);
        if entry.is_some_and(|e| e.urls != 0) {
            continue;
        }
        let host = &snap.hosts[hc.host.index()];
        let reason = if entry.is_some() {
            "protocol"
        } else if !set.contains(id) {
            "not_up_to_date"
        } else if hc.urls.is_empty() {
            "no_url"
        } else if host.private {
            "private"
        } else if !sel.allowed(hc.host, d.country) {
            "country_not_allowed"
        } else {
            "outside_region"
        };
        excluded.push(Excluded {
            host_id: host.id,
            name: &host.name,
            country: host.country.as_ref().map(crate::codes::CountryCode::as_str),
            reason,
        });
    }

    let country_source = if sel.netblock_country(inp.ip).is_some() {
        "netblock"
    } else if inp.geo.country.is_some() {
        "geoip"
    } else {
        "unknown"
    };
    let e = Explanation {
        status,
        endpoint: kind.name(),
        directory: &dir.name,
        file: t.file,
        client: Client {
            ip: ip.to_string(),
            located_as: inp.ip.to_string(),
            country: d.country.map(|c| c.as_str().to_string()),
            country_source,
            continent: d.continent.map(|c| c.as_str().to_string()),
            asn: d.asn,
        },
        requested_countries: inp.country,
        protocols: inp.protocol,
        minimum: inp.minimum,
        found_before_global: d.found,
        global_fallback: d.global,
        limited_to_requested_countries: d.only_country,
        header: &d.header,
        redirect: if redirect { first_http } else { None },
        hosts: listed,
        excluded,
    };
    let a = &mut ws.answer;
    a.status = 200;
    a.content_type = ContentType::Json;
    a.body = serde_json::to_string_pretty(&e).unwrap_or_default();
}
