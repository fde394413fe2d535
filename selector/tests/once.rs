//! No answer lists a URL twice, and every answer is well-formed (a metalink is XML that parses to its end with
//! `<metalink>` at the root; a mirrorlist is comment lines and one URL per line), whatever the query: generated requests — requested countries repeated, in any
//! case, several of one continent without mirrors of their own, `global`, unknown codes; protocol lists with
//! repeats, capitals and unknown schemes; netblocks on and off; clients of every tier — over the synthetic
//! network, as mirrorlists and metalinks. (MirrorManager lists each host once; a repeated URL would also
//! multiply the answer.) The WASM worker answers byte for byte like this selector (its differential corpus).

use std::collections::HashSet;
use std::net::IpAddr;

use mirrorvane_selector::{Context, Request, SeededRandom, Selector, Workspace};
use mirrorvane_testkit::synthetic::{self, Scale};

/// SplitMix64: the generator of the queries (fixed seed, so a failure reproduces).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Upper, lower or mixed case, as a client might type it.
fn some_case(g: &mut Gen, code: &str) -> String {
    code.chars()
        .map(|c| {
            if g.below(2) == 0 {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

/// The URLs an answer lists.
fn urls(path: &str, body: &str) -> Vec<String> {
    if path == "/metalink" {
        body.lines()
            .filter_map(|l| {
                let l = l.trim();
                let start = l.find("<url ")?;
                let text = &l[start..];
                let open = text.find('>')? + 1;
                let close = text.find("</url>")?;
                Some(text[open..close].to_owned())
            })
            .collect()
    } else {
        body.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Panics unless `body` is a well-formed answer for `path`.
fn check_well_formed(path: &str, body: &str, what: &str) {
    if path == "/metalink" {
        let mut reader = quick_xml::Reader::from_str(body);
        let mut depth = 0usize;
        let mut root = None;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(e)) => {
                    if depth == 0 {
                        root = Some(e.name().into_inner().to_owned());
                    }
                    depth += 1;
                }
                Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{what}: not XML at {}: {e}\n{body}", reader.buffer_position()),
            }
        }
        assert_eq!(depth, 0, "{what}: unclosed elements\n{body}");
        assert_eq!(root.as_deref(), Some("metalink"), "{what}\n{body}");
    } else {
        for line in body.lines() {
            if line.starts_with('#') {
                continue;
            }
            let one_url = line.contains("://") && !line.chars().any(|c| c.is_whitespace() || c.is_control());
            assert!(one_url, "{what}: {line:?} is not one URL\n{body}");
        }
    }
}

#[test]
fn no_answer_lists_a_url_twice() {
    let world = synthetic::generate(&Scale::demo(), 11);
    let snap = &world.snapshot;
    let sel = Selector::new(snap.clone()).expect("loads");
    let mut countries: Vec<String> = snap
        .hosts
        .iter()
        .filter_map(|h| h.country.map(|c| c.as_str().to_owned()))
        .collect();
    countries.sort();
    countries.dedup();
    // Countries without mirrors, on continents that have some: the continent fallback is what repeated hosts.
    countries.extend(
        [
            "LU", "MC", "LI", "AD", "SM", "VA", "MT", "IS", "ZZ", "global", "GLOBAL", "x", "",
        ]
        .map(String::from),
    );
    let protocols = ["http", "https", "rsync", "ftp", "HTTP", "gopher", ""];
    let mut clients: Vec<IpAddr> = world.clients.netblock.iter().take(5).copied().collect();
    clients.extend(world.clients.asn.iter().take(5));
    clients.extend(world.clients.countries.iter().take(10).map(|(_, ip)| *ip));
    clients.push(world.clients.global_fallback.1);
    clients.push("192.0.2.1".parse().unwrap());
    let mut g = Gen(20_261_207);
    let mut ws = Workspace::new();
    let mut checked = 0;
    for i in 0..4_000 {
        let repo = g.pick(&snap.repositories);
        let path = if i % 2 == 0 { "/metalink" } else { "/mirrorlist" };
        let mut query = format!("repo={}&arch={}", repo.prefix, repo.arch);
        if g.below(3) > 0 {
            let n = 1 + g.below(6);
            let mut list: Vec<String> = Vec::with_capacity(n + 1);
            for _ in 0..n {
                let code = g.pick(&countries).clone();
                list.push(some_case(&mut g, &code));
            }
            if g.below(2) == 0 {
                // The same code again, spelled differently.
                let again = list[0].to_ascii_lowercase();
                list.push(again);
            }
            query.push_str(&format!("&country={}", list.join(",")));
        }
        if g.below(3) == 0 {
            let n = 1 + g.below(4);
            let list: Vec<&str> = (0..n).map(|_| *g.pick(&protocols)).collect();
            query.push_str(&format!("&protocol={}", list.join(",")));
        }
        if g.below(5) == 0 {
            query.push_str("&netblock=0");
        }
        let client = *g.pick(&clients);
        let accept = (g.below(3) == 0).then_some(b"application/metalink4+xml".as_slice());
        let mut random = SeededRandom::new(i);
        let answer = sel.handle(
            &Request {
                path,
                query: &query,
                forwarded_for: None,
                accept,
                peer: client,
            },
            &mut Context {
                now: synthetic::CREATED,
                minimum: 5,
                locate: &world.geo,
                random: &mut random,
            },
            &mut ws,
        );
        if answer.status != 200 {
            continue;
        }
        check_well_formed(
            path,
            &answer.body,
            &format!("{path}?{query} from {client} ({accept:?})"),
        );
        let listed = urls(path, &answer.body);
        let distinct: HashSet<&String> = listed.iter().collect();
        assert_eq!(
            distinct.len(),
            listed.len(),
            "{path}?{query} from {client} lists a URL twice:\n{}",
            answer.body
        );
        checked += usize::from(!listed.is_empty());
    }
    assert!(checked > 2_000, "only {checked} answers listed URLs");
}

/// The case that was reported: two requested countries of one continent, neither with mirrors of its own.
#[test]
fn two_countries_of_one_continent_list_each_host_once() {
    let world = synthetic::generate(&Scale::demo(), 11);
    let sel = Selector::new(world.snapshot.clone()).expect("loads");
    let repo = &world.snapshot.repositories[0];
    for country in ["LU,MC", "lu,Lu,lU,LU", "LU,MC,LI,AD,SM"] {
        for path in ["/mirrorlist", "/metalink"] {
            let query = format!("repo={}&arch={}&country={country}", repo.prefix, repo.arch);
            let mut random = SeededRandom::new(1);
            let mut ws = Workspace::new();
            let answer = sel.handle(
                &Request {
                    path,
                    query: &query,
                    forwarded_for: None,
                    accept: None,
                    peer: "192.0.2.1".parse().unwrap(),
                },
                &mut Context {
                    now: synthetic::CREATED,
                    minimum: 5,
                    locate: &world.geo,
                    random: &mut random,
                },
                &mut ws,
            );
            let listed = urls(path, &answer.body);
            assert!(!listed.is_empty(), "{path}?{query}: {}", answer.body);
            let distinct: HashSet<&String> = listed.iter().collect();
            assert_eq!(distinct.len(), listed.len(), "{path}?{query}:\n{}", answer.body);
        }
    }
}
