//! End-to-end tests of the inventory: the Fedora-like fixture, every error class with its position, the
//! diff applied to an in-memory "database", idempotence, and render/parse round trips.

use super::diff::{Change, Entity, Key, Prune, Value, diff, diff_with};
use super::*;

const FILE: &str = "inventory.toml";
const FEDORA: &str = include_str!("testdata/fedora.toml");

fn parse_ok(text: &str) -> Inventory {
    parse(FILE, text, &KnownNames::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn fedora() -> Inventory {
    parse_ok(FEDORA)
}

fn errors_with(text: &str, known: &KnownNames) -> Vec<String> {
    match parse(FILE, text, known) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn errors(text: &str) -> Vec<String> {
    errors_with(text, &KnownNames::default())
}

/// Six lines: one product, one category.
const HEAD: &str = "[[product]]\nname = \"Fedora\"\n[[category]]\nname = \"Fedora Linux\"\nproduct = \"Fedora\"\n\
                    topdir = \"pub/fedora/linux\"\n";

/// `HEAD`, site "S" (lines 7–8), host "h" (lines 9–10); `rest` starts at line 11.
fn host_errors(rest: &str) -> Vec<String> {
    errors(&format!(
        "{HEAD}[[site]]\nname = \"S\"\n[[site.host]]\nname = \"h\"\n{rest}"
    ))
}

fn site<'a>(inv: &'a Inventory, name: &str) -> &'a Site {
    inv.sites.iter().find(|s| s.name == name).expect("site")
}

fn host<'a>(inv: &'a Inventory, site_name: &str, name: &str) -> &'a Host {
    site(inv, site_name)
        .hosts
        .iter()
        .find(|h| h.name == name)
        .expect("host")
}

// ---------------------------------------------------------------------------------------------------------
// The fixture

#[test]
fn fixture_parses_with_defaults_and_normalisation() {
    let inv = fedora();
    assert_eq!(inv.products.len(), 3);
    assert!(!inv.products[2].publiclist);
    assert_eq!(inv.categories.len(), 5);
    assert_eq!(inv.categories[3].topdir, "pub/epel", "slashes around topdir trimmed");
    assert_eq!(inv.categories[2].excludes, vec![".*/\\.snapshot/.*".to_owned()]);
    assert!(inv.categories[4].admin_only);
    assert_eq!(inv.categories[4].topdir, "");
    assert_eq!(
        inv.arches.iter().map(|a| a.primary).collect::<Vec<_>>(),
        [true, true, false, true]
    );
    assert_eq!(inv.embargoed, ["CU", "IR", "KP", "SY"]);
    assert_eq!(inv.country_continent.get("RU").map(String::as_str), Some("EU"));
    assert_eq!(
        inv.netblock_country[1],
        NetblockCountry {
            netblock: "2001:db8:ff00::/40".into(),
            country: "ZA".into()
        }
    );

    let uni = site(&inv, "Example University");
    assert_eq!(uni.org_url.as_deref(), Some("https://example.edu"));
    assert_eq!(uni.admins, ["alice", "bob"]);
    assert_eq!(uni.password.as_deref(), Some("s3cret"));
    let h = host(&inv, "Example University", "mirror.example.edu");
    assert_eq!(
        (h.country.as_str(), h.bandwidth, h.max_connections, h.asn),
        ("US", 10000, 1, Some(64500))
    );
    assert!(h.asn_clients && h.admin_active && h.user_active && !h.private);
    let nets: Vec<(&str, &str)> = h
        .netblocks
        .iter()
        .map(|n| (n.name.as_str(), n.netblock.as_str()))
        .collect();
    assert_eq!(
        nets,
        [
            ("192.0.2.0/24", "192.0.2.0/24"),
            ("198.51.100.7/32", "198.51.100.7/32"),
            ("2001:db8:1::1/128", "2001:db8:1::1/128"),
            ("203.0.113.0/25", "203.0.113.0/25"),
            ("campus.example.edu", "campus.example.edu"),
            ("campus v6", "2001:db8::/32"),
        ]
    );
    assert_eq!(h.peer_asns, [64501, 64502]);
    let urls = &h.categories[0].urls;
    assert_eq!(
        urls[0],
        Url {
            url: "https://mirror.example.edu/fedora/linux".into(),
            private: false
        }
    );
    assert_eq!(
        urls[2],
        Url {
            url: "rsync://mirror.example.edu/fedora-linux".into(),
            private: true
        }
    );

    let internal = host(&inv, "Example University", "internal.example.edu");
    assert!(internal.private && internal.categories[0].always_up_to_date);
    assert_eq!(internal.allowed_countries, ["US", "CA"]);
    assert_eq!(internal.comment.as_deref(), Some("Campus only; \"internal\" network"));
    let jp = host(&inv, "Tokyo Mirror Co.", "ftp.example.jp");
    assert_eq!(jp.asn, Some(4_200_000_000));
    assert!(!jp.asn_clients);
    assert!(site(&inv, "Private Cloud").private);
}

#[test]
fn fixture_round_trips_through_render() {
    let inv = fedora();
    let text = to_toml(&inv);
    assert_eq!(parse_ok(&text), inv, "{text}");
    assert_eq!(to_toml(&parse_ok(&text)), text, "rendering is stable");
}

#[test]
fn render_omits_defaults_and_labels_equal_to_the_netblock() {
    let text = to_toml(&fedora());
    let ftp2 = text.split("name = \"ftp2.example.jp\"").nth(1).expect("host rendered");
    assert!(
        ftp2.starts_with("\ncountry = \"JP\"\nadmin_active = false\nuser_active = false\n"),
        "{ftp2}"
    );
    assert!(!text.contains("bandwidth = 100\n"));
    assert!(!text.contains("publiclist = true"));
    assert!(
        text.contains("    { name = \"campus v6\", netblock = \"2001:db8::/32\" },\n"),
        "{text}"
    );
    assert!(text.contains("    \"192.0.2.0/24\",\n"));
    assert!(
        text.starts_with("embargoed = [\"CU\", \"IR\", \"KP\", \"SY\"]\n\n[[product]]\n"),
        "{text}"
    );
    assert!(text.contains("[country_continent]\nRU = \"EU\"\nTR = \"EU\"\n"));
}

// ---------------------------------------------------------------------------------------------------------
// Errors: every class, with line:column and message

#[test]
fn toml_syntax_errors_have_positions() {
    assert_eq!(
        errors("[[product]]\nname = \"Fedora\n"),
        ["inventory.toml:2:15: invalid basic string, expected `\"`"]
    );
    assert_eq!(
        errors("[[product]]\nname = \"F\"\n[[product\n"),
        ["inventory.toml:3:10: unclosed array table, expected `]]`"]
    );
    assert_eq!(
        errors("[[site]]\nname = \"S\"\nname = \"T\"\n"),
        ["inventory.toml:3:1: duplicate key"]
    );
}

#[test]
fn shape_errors_have_positions() {
    let e = errors("[[product]]\nname = \"F\"\nflavour = 1\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("inventory.toml:3:1: unknown field `flavour`"), "{e:?}");
    let e = host_errors("country = \"US\"\nbandwidth = 1.5\n");
    assert!(
        e[0].starts_with("inventory.toml:12:13: invalid type: floating point `1.5`"),
        "{e:?}"
    );
    let e = host_errors("country = \"US\"\nnetblocks = [{ name = \"x\", block = \"10.0.0.0/8\" }]\n");
    assert!(
        e[0].starts_with("inventory.toml:12:") && e[0].contains("unknown field `block`"),
        "{e:?}"
    );
    assert_eq!(
        host_errors("country = \"US\"\nnetblocks = [7]\n"),
        ["inventory.toml:12:14: invalid type: integer `7`, expected a netblock string or a table { name, netblock }"]
    );
    let e = host_errors("bandwidth = 10\n");
    assert!(e[0].starts_with("inventory.toml:9:1: missing field `country`"), "{e:?}");
}

#[test]
fn bad_country() {
    assert_eq!(
        host_errors("country = \"USA\"\n"),
        ["inventory.toml:11:11: site \"S\" / host \"h\": country \"USA\" is not a two-letter ISO 3166 code"]
    );
    assert_eq!(
        host_errors("country = \"US\"\nallowed_countries = [\"DE\", \"D3\"]\n"),
        ["inventory.toml:12:28: site \"S\" / host \"h\": country \"D3\" is not a two-letter ISO 3166 code"]
    );
    assert_eq!(
        errors("embargoed = [\"CUB\"]\n"),
        ["inventory.toml:1:14: embargoed: country \"CUB\" is not a two-letter ISO 3166 code"]
    );
}

#[test]
fn bad_continent() {
    assert_eq!(
        errors("[country_continent]\nTW = \"ASIA\"\n"),
        ["inventory.toml:2:6: country_continent TW: continent \"ASIA\" is not one of AF, AN, AS, EU, NA, OC, SA"]
    );
    assert_eq!(
        errors("[country_continent]\nTWN = \"AS\"\n"),
        ["inventory.toml:2:1: country_continent: country \"TWN\" is not a two-letter ISO 3166 code"]
    );
}

#[test]
fn bad_urls() {
    let e = host_errors(
        "country = \"US\"\n[[site.host.category]]\nname = \"Fedora Linux\"\n\
         urls = [\"ftp://h.example/fedora\", \"h.example/fedora\"]\n",
    );
    assert_eq!(
        e,
        [
            "inventory.toml:14:9: site \"S\" / host \"h\" / category \"Fedora Linux\": Unsupported URL \
             \"ftp://h.example/fedora\": scheme must be http, https or rsync",
            "inventory.toml:14:35: site \"S\" / host \"h\" / category \"Fedora Linux\": URL \"h.example/fedora\" \
             does not parse: relative URL without a base",
        ]
    );
}

#[test]
fn duplicate_url_anywhere_in_the_inventory() {
    let text = format!(
        "{HEAD}[[site]]\nname = \"S\"\n[[site.host]]\nname = \"a\"\ncountry = \"US\"\n[[site.host.category]]\n\
         name = \"Fedora Linux\"\nurls = [\"https://a.example/f/\"]\n[[site.host]]\nname = \"b\"\ncountry = \"US\"\n\
         [[site.host.category]]\nname = \"Fedora Linux\"\nprivate_urls = [\"https://a.example/f\"]\n"
    );
    assert_eq!(
        errors(&text),
        [
            "inventory.toml:20:17: site \"S\" / host \"b\" / category \"Fedora Linux\": URL \"https://a.example/f\" \
          is listed twice (first at line 14)"
        ]
    );
}

#[test]
fn bad_netblocks() {
    assert_eq!(
        host_errors("country = \"US\"\nnetblocks = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n"),
        [
            "inventory.toml:12:28: site \"S\" / host \"h\": netblock \"10.0.0.0/33\" is neither an IP network nor a DNS name"
        ]
    );
    assert_eq!(
        errors("[[netblock_country]]\nnetblock = \"example.org\"\ncountry = \"TW\"\n"),
        ["inventory.toml:2:12: netblock_country: netblock \"example.org\" is not an IP network"]
    );
}

#[test]
fn numbers_out_of_range() {
    let e =
        host_errors("country = \"US\"\nbandwidth = 0\nmax_connections = -1\nasn = 0\npeer_asns = [1, 4294967296]\n");
    let prefix = "site \"S\" / host \"h\": ";
    assert_eq!(
        e,
        [
            format!("inventory.toml:12:13: {prefix}bandwidth must be an integer from 1 to 2147483647, not 0"),
            format!("inventory.toml:13:19: {prefix}max_connections must be an integer from 1 to 2147483647, not -1"),
            format!("inventory.toml:14:7: {prefix}asn must be an integer from 1 to 4294967295, not 0"),
            format!("inventory.toml:15:17: {prefix}peer ASN must be an integer from 1 to 4294967295, not 4294967296"),
        ]
    );
}

#[test]
fn empty_and_malformed_names() {
    assert_eq!(
        errors(&format!("{HEAD}[[site]]\nname = \" \"\n")),
        ["inventory.toml:8:8: site name must not be empty"]
    );
    assert_eq!(
        host_errors("country = \"US\"\n[[site.host]]\nname = \"my mirror\"\ncountry = \"US\"\n"),
        ["inventory.toml:13:8: site \"S\": host name \"my mirror\" must not contain whitespace"]
    );
    assert_eq!(
        host_errors("country = \"US\"\n[[site.host]]\nname = \"\"\ncountry = \"US\"\n"),
        ["inventory.toml:13:8: site \"S\": host name must not be empty"]
    );
}

#[test]
fn duplicates_point_at_the_second_occurrence() {
    assert_eq!(
        errors("[[product]]\nname = \"F\"\n[[product]]\nname = \"F\"\n"),
        ["inventory.toml:4:8: product \"F\" is listed twice (first at line 2)"]
    );
    assert_eq!(
        errors(&format!(
            "{HEAD}[[category]]\nname = \"Fedora Linux\"\nproduct = \"Fedora\"\ntopdir = \"x\"\n"
        )),
        ["inventory.toml:8:8: category \"Fedora Linux\" is listed twice (first at line 4)"]
    );
    assert_eq!(
        errors(&format!("{HEAD}[[site]]\nname = \"S\"\n[[site]]\nname = \"S\"\n")),
        ["inventory.toml:10:8: site \"S\" is listed twice (first at line 8)"]
    );
    assert_eq!(
        host_errors("country = \"US\"\n[[site.host]]\nname = \"h\"\ncountry = \"US\"\n"),
        ["inventory.toml:13:8: site \"S\": host \"h\" is listed twice (first at line 10)"]
    );
    // Same host name under another site is fine.
    assert!(
        host_errors("country = \"US\"\n[[site]]\nname = \"T\"\n[[site.host]]\nname = \"h\"\ncountry = \"US\"\n")
            .is_empty()
    );
    let e = host_errors(
        "country = \"US\"\nnetblocks = [\"10.0.0.0/8\", \"10.0.0.0/255.0.0.0\"]\npeer_asns = [7, 7]\n\
         allowed_countries = [\"de\", \"DE\"]\n[[site.host.category]]\nname = \"Fedora Linux\"\n\
         [[site.host.category]]\nname = \"Fedora Linux\"\n",
    );
    let prefix = "site \"S\" / host \"h\": ";
    assert_eq!(
        e,
        [
            format!("inventory.toml:12:28: {prefix}netblock \"10.0.0.0/8\" is listed twice (first at line 12)"),
            format!("inventory.toml:13:17: {prefix}peer ASN \"7\" is listed twice (first at line 13)"),
            format!("inventory.toml:14:28: {prefix}allowed country \"DE\" is listed twice (first at line 14)"),
            format!("inventory.toml:18:8: {prefix}category \"Fedora Linux\" is listed twice (first at line 16)"),
        ]
    );
    assert_eq!(
        errors(&format!("{HEAD}[[site]]\nname = \"S\"\nadmins = [\"a\", \"a\"]\n")),
        ["inventory.toml:9:16: site \"S\": admin \"a\" is listed twice (first at line 9)"]
    );
    assert_eq!(
        errors("[country_continent]\nru = \"EU\"\nRU = \"AS\"\n"),
        ["inventory.toml:3:1: country_continent: country \"RU\" is listed twice (first at line 2)"]
    );
}

#[test]
fn references_must_resolve_in_the_file_or_the_database() {
    let text = "[[category]]\nname = \"Fedora EPEL\"\nproduct = \"EPEL\"\ntopdir = \"pub/epel\"\n[[site]]\n\
                name = \"S\"\n[[site.host]]\nname = \"h\"\ncountry = \"US\"\n[[site.host.category]]\n\
                name = \"Fedora Linux\"\n";
    assert_eq!(
        errors(text),
        [
            "inventory.toml:3:11: category \"Fedora EPEL\": unknown product \"EPEL\": not in this inventory nor \
             in the database",
            "inventory.toml:11:8: site \"S\" / host \"h\": unknown category \"Fedora Linux\": not in this \
             inventory nor in the database",
        ]
    );
    let known = KnownNames {
        products: ["EPEL".to_owned()].into(),
        categories: ["Fedora Linux".to_owned()].into(),
    };
    assert!(errors_with(text, &known).is_empty());
}

#[test]
fn all_errors_are_collected_in_file_order() {
    let e = host_errors(
        "country = \"USA\"\nbandwidth = 0\n[[site.host.category]]\nname = \"Nope\"\nurls = [\"ftp://x.example\"]\n\
         [[netblock_country]]\nnetblock = \"x\"\ncountry = \"T\"\n",
    );
    let lines: Vec<&str> = e.iter().map(|e| e.split(": ").next().unwrap_or("")).collect();
    assert_eq!(
        lines,
        [
            "inventory.toml:11:11",
            "inventory.toml:12:13",
            "inventory.toml:14:8",
            "inventory.toml:15:9",
            "inventory.toml:17:12",
            "inventory.toml:18:11"
        ],
        "{e:#?}"
    );
    let all = parse(FILE, &format!("{HEAD}[[site]]\nname = \"\"\n"), &KnownNames::default()).expect_err("invalid");
    assert_eq!(all.to_string(), "inventory.toml:8:8: site name must not be empty");
}

// ---------------------------------------------------------------------------------------------------------
// Diff and apply

/// A minimal in-memory "database": applies changes in order, as the real store must.
fn apply(inv: &mut Inventory, changes: &[Change]) {
    for change in changes {
        match change {
            Change::Add { key, entity } => add(inv, key, entity),
            Change::Update { key, field, to, .. } => update(inv, key, field, to),
            Change::Remove { key } => remove(inv, key),
        }
    }
}

fn site_mut<'a>(inv: &'a mut Inventory, name: &str) -> &'a mut Site {
    inv.sites.iter_mut().find(|s| s.name == name).expect("site")
}

fn host_mut<'a>(inv: &'a mut Inventory, s: &str, h: &str) -> &'a mut Host {
    site_mut(inv, s).hosts.iter_mut().find(|x| x.name == h).expect("host")
}

fn hc_mut<'a>(inv: &'a mut Inventory, s: &str, h: &str, c: &str) -> &'a mut HostCategory {
    host_mut(inv, s, h)
        .categories
        .iter_mut()
        .find(|x| x.category == c)
        .expect("host category")
}

fn add(inv: &mut Inventory, key: &Key, entity: &Entity) {
    match (key, entity) {
        (_, Entity::Product(p)) => inv.products.push(p.clone()),
        (_, Entity::Category(c)) => inv.categories.push(c.clone()),
        (_, Entity::Arch(a)) => inv.arches.push(a.clone()),
        (_, Entity::Site(s)) => inv.sites.push(s.clone()),
        (Key::Host { site, .. }, Entity::Host(h)) => site_mut(inv, site).hosts.push(h.clone()),
        (Key::HostNetblock { site, host, .. }, Entity::HostNetblock(n)) => {
            host_mut(inv, site, host).netblocks.push(n.clone());
        }
        (Key::HostCategory { site, host, .. }, Entity::HostCategory(hc)) => {
            host_mut(inv, site, host).categories.push(hc.clone());
        }
        (
            Key::HostCategoryUrl {
                site, host, category, ..
            },
            Entity::HostCategoryUrl(u),
        ) => hc_mut(inv, site, host, category).urls.push(u.clone()),
        (Key::SiteAdmin { site, user }, Entity::Member) => site_mut(inv, site).admins.push(user.clone()),
        (Key::HostPeerAsn { site, host, asn }, Entity::Member) => host_mut(inv, site, host).peer_asns.push(*asn),
        (Key::HostAllowedCountry { site, host, country }, Entity::Member) => {
            host_mut(inv, site, host).allowed_countries.push(country.clone());
        }
        (Key::Embargoed(c), Entity::Member) => inv.embargoed.push(c.clone()),
        (Key::CountryContinent(c), Entity::CountryContinent(k)) => {
            inv.country_continent.insert(c.clone(), k.clone());
        }
        (Key::NetblockCountry(n), Entity::NetblockCountry(c)) => inv.netblock_country.push(NetblockCountry {
            netblock: n.clone(),
            country: c.clone(),
        }),
        other => panic!("unexpected add {other:?}"),
    }
}

fn update(inv: &mut Inventory, key: &Key, field: &str, to: &Value) {
    let b = || matches!(to, Value::Bool(true));
    let n = || match to {
        Value::Int(i) => u32::try_from(*i).expect("u32"),
        other => panic!("not an int: {other:?}"),
    };
    let on = || match to {
        Value::Int(i) => Some(u32::try_from(*i).expect("u32")),
        _ => None,
    };
    let t = || match to {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    };
    match key {
        Key::Product(p) => {
            inv.products
                .iter_mut()
                .find(|x| &x.name == p)
                .expect("product")
                .publiclist = b();
        }
        Key::Category(c) => {
            let c = inv.categories.iter_mut().find(|x| &x.name == c).expect("category");
            match field {
                "product" => c.product = t().expect("text"),
                "topdir" => c.topdir = t().expect("text"),
                "publiclist" => c.publiclist = b(),
                "admin_only" => c.admin_only = b(),
                "excludes" => {
                    c.excludes = match to {
                        Value::List(l) => l.clone(),
                        _ => Vec::new(),
                    }
                }
                _ => panic!("{field}"),
            }
        }
        Key::Arch(a) => {
            let a = inv.arches.iter_mut().find(|x| &x.name == a).expect("arch");
            if field == "primary" {
                a.primary = b();
            } else {
                a.publiclist = b();
            }
        }
        Key::Site(s) => {
            let s = site_mut(inv, s);
            match field {
                "org_url" => s.org_url = t(),
                "private" => s.private = b(),
                "admin_active" => s.admin_active = b(),
                "user_active" => s.user_active = b(),
                "password" => s.password = t(),
                _ => panic!("{field}"),
            }
        }
        Key::Host { site, host } => {
            let h = host_mut(inv, site, host);
            match field {
                "country" => h.country = t().expect("text"),
                "bandwidth" => h.bandwidth = n(),
                "max_connections" => h.max_connections = n(),
                "private" => h.private = b(),
                "admin_active" => h.admin_active = b(),
                "user_active" => h.user_active = b(),
                "asn" => h.asn = on(),
                "asn_clients" => h.asn_clients = b(),
                "comment" => h.comment = t(),
                "robot_email" => h.robot_email = t(),
                _ => panic!("{field}"),
            }
        }
        Key::HostNetblock { site, host, netblock } => {
            let h = host_mut(inv, site, host);
            h.netblocks
                .iter_mut()
                .find(|x| &x.netblock == netblock)
                .expect("netblock")
                .name = t().expect("text");
        }
        Key::HostCategory { site, host, category } => hc_mut(inv, site, host, category).always_up_to_date = b(),
        Key::HostCategoryUrl {
            site,
            host,
            category,
            url,
        } => {
            let hc = hc_mut(inv, site, host, category);
            hc.urls.iter_mut().find(|x| &x.url == url).expect("url").private = b();
        }
        Key::CountryContinent(c) => {
            inv.country_continent.insert(c.clone(), t().expect("text"));
        }
        Key::NetblockCountry(nb) => {
            inv.netblock_country
                .iter_mut()
                .find(|x| &x.netblock == nb)
                .expect("nc")
                .country = t().expect("text");
        }
        other => panic!("unexpected update {other:?}"),
    }
}

fn remove(inv: &mut Inventory, key: &Key) {
    match key {
        Key::Site(s) => inv.sites.retain(|x| &x.name != s),
        Key::SiteAdmin { site, user } => site_mut(inv, site).admins.retain(|x| x != user),
        Key::Host { site, host } => site_mut(inv, site).hosts.retain(|x| &x.name != host),
        Key::HostNetblock { site, host, netblock } => {
            host_mut(inv, site, host).netblocks.retain(|x| &x.netblock != netblock);
        }
        Key::HostPeerAsn { site, host, asn } => host_mut(inv, site, host).peer_asns.retain(|x| x != asn),
        Key::HostAllowedCountry { site, host, country } => {
            host_mut(inv, site, host).allowed_countries.retain(|x| x != country);
        }
        Key::HostCategory { site, host, category } => {
            host_mut(inv, site, host).categories.retain(|x| &x.category != category);
        }
        Key::HostCategoryUrl {
            site,
            host,
            category,
            url,
        } => hc_mut(inv, site, host, category).urls.retain(|x| &x.url != url),
        Key::CountryContinent(c) => {
            inv.country_continent.remove(c);
        }
        Key::NetblockCountry(n) => inv.netblock_country.retain(|x| &x.netblock != n),
        Key::Embargoed(c) => inv.embargoed.retain(|x| x != c),
        other => panic!("never removed: {other:?}"),
    }
}

#[test]
fn applying_the_same_file_twice_changes_nothing() {
    let desired = fedora();
    let mut db = Inventory::default();
    let first = diff(&db, &desired, Prune::No);
    assert!(!first.is_empty());
    assert!(first.iter().all(|c| matches!(c, Change::Add { .. })));
    apply(&mut db, &first);
    assert_eq!(db, desired, "adding into an empty store rebuilds the file exactly");
    assert_eq!(diff(&db, &desired, Prune::No), []);
    assert_eq!(diff(&db, &desired, Prune::Yes), []);
}

#[test]
fn added_children_follow_their_parent() {
    let changes = diff(&Inventory::default(), &fedora(), Prune::No);
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    let at = |l: &str| {
        lines
            .iter()
            .position(|x| x == l)
            .unwrap_or_else(|| panic!("{l} not in {lines:#?}"))
    };
    let site = at("+ site \"Example University\"");
    let host = at("+ site \"Example University\" / host \"mirror.example.edu\" (country US, bandwidth 10000)");
    let cat = at("+ site \"Example University\" / host \"mirror.example.edu\" / category \"Fedora Linux\"");
    let url = at(
        "+ site \"Example University\" / host \"mirror.example.edu\" / category \"Fedora Linux\" / url \
                  \"rsync://mirror.example.edu/fedora-linux\" (private)",
    );
    assert!(site < host && host < cat && cat < url);
    at("+ site \"Example University\" / host \"mirror.example.edu\" / netblock \"2001:db8::/32\" (name \"campus v6\")");
    at("+ site \"Example University\" / admin \"alice\"");
    at("+ site \"Example University\" / host \"mirror.example.edu\" / peer ASN 64501");
    at("+ country_continent \"RU\" = \"EU\"");
    at("+ netblock_country \"198.51.100.0/24\" = \"TW\"");
    at("+ embargoed \"CU\"");
    let Change::Add {
        entity: Entity::Host(h),
        ..
    } = &changes[host]
    else {
        panic!("host entity")
    };
    assert!(
        h.netblocks.is_empty() && h.categories.is_empty(),
        "children come as their own changes"
    );
}

/// The fixture edited: one site partly rewritten, one host and one site left out of the file.
fn edited() -> Inventory {
    let text = FEDORA
        .replace("bandwidth = 10000", "bandwidth = 20000")
        .replace(
            "    \"198.51.100.7\",                                   # bare IPv4 → /32\n",
            "",
        )
        .replace("{ name = \"campus v6\"", "{ name = \"campus IPv6\"")
        .replace("peer_asns = [64501, 64502]", "peer_asns = [64502, 64503]")
        .replace("private_urls = [\"rsync://mirror.example.edu/fedora-linux\"]", "")
        .replace(
            "[\"https://mirror.example.edu/epel\"]",
            "[\"https://mirror.example.edu/epel\", \"https://ftp2.example.jp/epel\"]",
        )
        .replace("allowed_countries = [\"US\", \"ca\"]", "allowed_countries = [\"US\"]")
        .replace("admins = [\"alice\", \"bob\"]", "admins = [\"alice\", \"carol\"]")
        .replace("password = \"s3cret\"\n", "")
        .replace("TR = \"EU\"\n", "");
    // Leave out host ftp2.example.jp and the whole "Private Cloud" site.
    let (head, rest) = text
        .split_once("[[site.host]]\nname = \"ftp2.example.jp\"")
        .expect("ftp2");
    let (_, tail) = rest.split_once("[country_continent]").expect("tail");
    parse_ok(&format!("{head}[country_continent]{tail}"))
}

#[test]
fn diff_of_an_edited_file() {
    let changes = diff(&fedora(), &edited(), Prune::No);
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    let h = "site \"Example University\" / host \"mirror.example.edu\"";
    let i = "site \"Example University\" / host \"internal.example.edu\"";
    assert_eq!(
        lines,
        [
            // Removals first.
            "- site \"Example University\" / admin \"bob\"".to_owned(),
            format!("- {h} / netblock \"198.51.100.7/32\""),
            format!("- {h} / peer ASN 64501"),
            format!("- {h} / category \"Fedora Linux\" / url \"rsync://mirror.example.edu/fedora-linux\""),
            format!("- {i} / allowed country \"CA\""),
            // Then upserts, parents first.
            "+ site \"Example University\" / admin \"carol\"".to_owned(),
            format!("~ {h}: bandwidth 10000 → 20000"),
            format!("~ {h} / netblock \"2001:db8::/32\": name \"campus v6\" → \"campus IPv6\""),
            format!("+ {h} / peer ASN 64503"),
            format!("+ {h} / category \"Fedora EPEL\" / url \"https://ftp2.example.jp/epel\""),
        ],
        "unlisted hosts, sites and overrides and an absent password are left alone"
    );
    let mut db = fedora();
    apply(&mut db, &changes);
    assert_eq!(diff(&db, &edited(), Prune::No), []);
    assert!(db.sites.iter().any(|s| s.name == "Private Cloud"));
    assert_eq!(site(&db, "Example University").password.as_deref(), Some("s3cret"));
}

#[test]
fn prune_removes_what_the_file_does_not_list() {
    let changes = diff(&fedora(), &edited(), Prune::Yes);
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    for expected in [
        "- site \"Private Cloud\"",
        "- site \"Tokyo Mirror Co.\" / host \"ftp2.example.jp\"",
        "- country_continent \"TR\"",
    ] {
        assert!(lines.iter().any(|l| l == expected), "{expected} not in {lines:#?}");
    }
    let first_upsert = changes
        .iter()
        .position(|c| !matches!(c, Change::Remove { .. }))
        .unwrap_or(changes.len());
    assert!(
        changes[first_upsert..]
            .iter()
            .all(|c| !matches!(c, Change::Remove { .. })),
        "removals come first"
    );
    let mut db = fedora();
    apply(&mut db, &changes);
    assert_eq!(diff(&db, &edited(), Prune::Yes), []);
    assert_eq!(db.sites.len(), 2);
    // Products and categories are never pruned.
    let empty = Inventory::default();
    assert!(diff(&fedora(), &empty, Prune::Yes).iter().all(|c| matches!(
        c,
        Change::Remove {
            key: Key::Site(_) | Key::CountryContinent(_) | Key::NetblockCountry(_) | Key::Embargoed(_)
        }
    )));
}

#[test]
fn field_updates_and_moves() {
    let current = fedora();
    let mut desired = fedora();
    desired.categories[0].product = "EPEL".into();
    desired.arches[2].primary = true;
    let jp = &mut desired.sites[1].hosts[0];
    jp.asn = None;
    jp.comment = Some("new".into());
    jp.categories[0].urls[1].private = true;
    desired.sites[1].org_url = None;
    desired.country_continent.insert("RU".into(), "AS".into());
    let lines: Vec<String> = diff(&current, &desired, Prune::No)
        .iter()
        .map(ToString::to_string)
        .collect();
    let jp = "site \"Tokyo Mirror Co.\" / host \"ftp.example.jp\"";
    assert_eq!(
        lines,
        [
            "~ category \"Fedora Linux\": product \"Fedora\" → \"EPEL\"".to_owned(),
            "~ arch \"s390x\": primary false → true".to_owned(),
            "~ site \"Tokyo Mirror Co.\": org_url \"https://mirror.example.jp\" → (none)".to_owned(),
            format!("~ {jp}: asn 4200000000 → (none)"),
            format!("~ {jp}: comment (none) → \"new\""),
            format!("~ {jp} / category \"Fedora Linux\" / url \"rsync://ftp.example.jp/fedora\": private false → true"),
            "~ country_continent \"RU\": continent \"EU\" → \"AS\"".to_owned(),
        ]
    );
}

#[test]
fn passwords_compare_through_the_callback_and_are_never_shown() {
    let mut stored = fedora();
    stored.sites[0].password = Some("hash(s3cret)".into());
    let hashed = |stored: Option<&str>, given: &str| stored == Some(format!("hash({given})").as_str());
    assert_eq!(diff_with(&stored, &fedora(), Prune::No, &hashed), []);
    let mut desired = fedora();
    desired.sites[0].password = Some("n3w".into());
    let changes = diff_with(&stored, &desired, Prune::No, &hashed);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].to_string(),
        "~ site \"Example University\": password changed"
    );
    let Change::Update { to, .. } = &changes[0] else {
        panic!("update")
    };
    assert_eq!(
        to,
        &Value::Text("n3w".into()),
        "the store gets the new password to hash"
    );
}

// ---------------------------------------------------------------------------------------------------------
// A generated inventory with many sites

/// Deterministic pseudo-random numbers (SplitMix64), so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
    fn flip(&mut self) -> bool {
        self.next(4) == 0
    }
}

fn generated(sites: usize) -> Inventory {
    const COUNTRIES: [&str; 8] = ["US", "DE", "JP", "BR", "ZA", "AU", "IN", "FR"];
    const CATEGORIES: [&str; 4] = [
        "Fedora Linux",
        "Fedora EPEL",
        "Fedora Archive",
        "Fedora Secondary Arches",
    ];
    let mut rng = Rng(42);
    let mut inv = Inventory {
        products: vec![
            Product::new("Fedora"),
            Product {
                publiclist: false,
                ..Product::new("EPEL")
            },
        ],
        embargoed: vec!["CU".into(), "KP".into()],
        ..Inventory::default()
    };
    for (i, name) in CATEGORIES.iter().enumerate() {
        let product = if i == 1 { "EPEL" } else { "Fedora" };
        inv.categories.push(Category {
            admin_only: i == 2,
            ..Category::new(*name, product, format!("pub/c{i}"))
        });
    }
    inv.arches = vec![
        Arch::new("x86_64"),
        Arch {
            primary: false,
            ..Arch::new("ppc64le")
        },
    ];
    for s in 0..sites {
        let mut site = Site::new(format!("Site {s} \"quoted\" ünïcode"));
        site.private = rng.flip();
        site.user_active = !rng.flip();
        site.org_url = rng.flip().then(|| format!("https://site{s}.example"));
        site.admins = (0..rng.next(3)).map(|a| format!("admin{s}_{a}")).collect();
        site.password = rng.flip().then(|| format!("pw\\{s}\n"));
        for h in 0..=rng.next(4) {
            let name = format!("m{h}.site{s}.example");
            let mut host = Host::new(name.clone(), COUNTRIES[rng.next(8) as usize]);
            host.bandwidth = [100, 1, 1000, 100_000][rng.next(4) as usize];
            host.max_connections = 1 + rng.next(3) as u32;
            host.private = rng.flip();
            host.admin_active = !rng.flip();
            host.asn = rng.flip().then(|| 1 + rng.next(u64::from(u32::MAX)) as u32);
            host.asn_clients = !rng.flip();
            host.comment = rng.flip().then(|| "tab\there, \u{1} control".to_owned());
            host.robot_email = rng.flip().then(|| format!("robot@site{s}.example"));
            for n in 0..rng.next(12) {
                let netblock = format!("10.{}.{}.0/24", s % 256, h * 16 + n);
                let label = if rng.flip() {
                    format!("net {n}")
                } else {
                    netblock.clone()
                };
                host.netblocks.push(Netblock { name: label, netblock });
            }
            if rng.flip() {
                host.netblocks.push(Netblock {
                    name: format!("dns{h}"),
                    netblock: format!("net.site{s}.example"),
                });
            }
            host.peer_asns = (0..rng.next(3)).map(|a| 64512 + a as u32).collect();
            host.allowed_countries = (0..rng.next(3)).map(|c| COUNTRIES[c as usize].to_owned()).collect();
            for (c, category) in CATEGORIES.iter().enumerate() {
                if rng.next(2) == 0 {
                    continue;
                }
                let mut hc = HostCategory::new(*category);
                hc.always_up_to_date = rng.flip();
                hc.urls.push(Url {
                    url: format!("https://{name}/c{c}"),
                    private: false,
                });
                if rng.flip() {
                    hc.urls.push(Url {
                        url: format!("http://{name}/c{c}"),
                        private: false,
                    });
                }
                if rng.flip() {
                    hc.urls.push(Url {
                        url: format!("rsync://{name}/c{c}"),
                        private: true,
                    });
                }
                host.categories.push(hc);
            }
            site.hosts.push(host);
        }
        inv.sites.push(site);
    }
    inv.country_continent.insert("TR".into(), "EU".into());
    inv.netblock_country.push(NetblockCountry {
        netblock: "192.0.2.0/24".into(),
        country: "TW".into(),
    });
    inv
}

#[test]
fn generated_inventory_round_trips_and_diffs_empty() {
    let inv = generated(400);
    let text = to_toml(&inv);
    let back = parse_ok(&text);
    assert_eq!(back.sites.len(), 400);
    assert_eq!(back, inv);
    assert_eq!(diff(&inv, &back, Prune::Yes), []);
    let mut db = Inventory::default();
    let changes = diff(&db, &inv, Prune::No);
    apply(&mut db, &changes);
    assert_eq!(db, inv);
}

#[test]
fn urls_kept_on_unlisted_hosts_are_conflicts() {
    // The file gives ftp2's URL to ftp.example.jp but no longer lists ftp2: without prune ftp2 keeps it.
    let text = FEDORA.replace(
        "urls = [\"https://ftp.example.jp/pub/Linux/fedora/secondary\"]",
        "urls = [\"https://ftp.example.jp/pub/Linux/fedora/secondary\", \"http://ftp2.example.jp/archive\"]",
    );
    let (head, rest) = text
        .split_once("[[site.host]]\nname = \"ftp2.example.jp\"")
        .expect("ftp2");
    let (_, tail) = rest.split_once("[[site]]").expect("tail");
    let desired = parse_ok(&format!("{head}[[site]]{tail}"));
    let changes = diff(&fedora(), &desired, Prune::No);
    let conflicts = url_conflicts(&fedora(), &changes);
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].to_string(),
        "site \"Tokyo Mirror Co.\" / host \"ftp.example.jp\" / category \"Fedora Secondary Arches\" / url \
         \"http://ftp2.example.jp/archive\": URL already belongs to site \"Tokyo Mirror Co.\" / host \
         \"ftp2.example.jp\" / category \"Fedora Archive\", which this apply keeps"
    );
    // Pruned, ftp2 goes first and the URL is free.
    assert_eq!(url_conflicts(&fedora(), &diff(&fedora(), &desired, Prune::Yes)), []);
    // A URL moving between listed hosts is removed before it is added.
    let mut moved = fedora();
    let url = moved.sites[0].hosts[1].categories[0].urls.remove(0);
    moved.sites[0].hosts[0].categories[1].urls.push(url);
    let changes = diff(&fedora(), &moved, Prune::No);
    assert_eq!(changes.len(), 2);
    assert!(matches!(changes[0], Change::Remove { .. }) && matches!(changes[1], Change::Add { .. }));
    assert_eq!(url_conflicts(&fedora(), &changes), []);
}

#[test]
fn a_category_with_a_bad_product_is_still_a_known_category() {
    let text = "[[category]]\nname = \"C\"\nproduct = \"\"\ntopdir = \"x\"\n[[site]]\nname = \"S\"\n[[site.host]]\n\
                name = \"h\"\ncountry = \"US\"\n[[site.host.category]]\nname = \"C\"\n";
    assert_eq!(
        errors(text),
        ["inventory.toml:3:11: category \"C\": product must not be empty"]
    );
}

#[test]
fn rendered_layout() {
    let mut host = Host::new("mirror.example.edu", "US");
    host.bandwidth = 1000;
    host.asn = Some(64500);
    host.netblocks = vec![
        Netblock {
            name: "192.0.2.0/24".into(),
            netblock: "192.0.2.0/24".into(),
        },
        Netblock {
            name: "v6".into(),
            netblock: "2001:db8::/32".into(),
        },
    ];
    let mut hc = HostCategory::new("Fedora Linux");
    hc.urls = vec![
        Url {
            url: "rsync://mirror.example.edu/fedora-linux".into(),
            private: true,
        },
        Url {
            url: "https://mirror.example.edu/fedora/linux".into(),
            private: false,
        },
    ];
    host.categories.push(hc);
    let inv = Inventory {
        products: vec![Product::new("Fedora")],
        categories: vec![Category::new("Fedora Linux", "Fedora", "pub/fedora/linux")],
        sites: vec![Site {
            org_url: Some("https://example.edu".into()),
            admins: vec!["alice".into()],
            hosts: vec![host],
            ..Site::new("Example University")
        }],
        country_continent: [("TW".to_owned(), "AS".to_owned())].into(),
        ..Inventory::default()
    };
    let expected = r#"[[product]]
name = "Fedora"

[[category]]
name = "Fedora Linux"
product = "Fedora"
topdir = "pub/fedora/linux"

[[site]]
name = "Example University"
org_url = "https://example.edu"
admins = ["alice"]

[[site.host]]
name = "mirror.example.edu"
country = "US"
bandwidth = 1000
asn = 64500
netblocks = ["192.0.2.0/24", { name = "v6", netblock = "2001:db8::/32" }]

[[site.host.category]]
name = "Fedora Linux"
urls = ["https://mirror.example.edu/fedora/linux"]
private_urls = ["rsync://mirror.example.edu/fedora-linux"]

[country_continent]
TW = "AS"
"#;
    assert_eq!(to_toml(&inv), expected);
    // Public URLs come before private ones, the only order the format can express; the diff ignores order.
    let back = parse(FILE, expected, &KnownNames::of(&inv)).expect("parses");
    assert_eq!(
        back.sites[0].hosts[0].categories[0].urls[0].url,
        "https://mirror.example.edu/fedora/linux"
    );
    assert_eq!(diff(&inv, &back, Prune::Yes), []);
}
