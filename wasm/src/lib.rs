//! Mirrorvane's selector for WebAssembly hosts: edge workers, Node, Deno.
//!
//! A thin shell over [`mirrorvane_selector`]: the host hands over the snapshot bytes once and then calls
//! [`Selector::handle`] once per request with everything the request needs — URL, client address, the geo hints
//! the platform attached to the request, the time and a random seed. Nothing is read from the environment:
//! `SystemTime::now()` panics on `wasm32-unknown-unknown`, so the time is an argument; the location is whatever
//! the platform knows (e.g. Cloudflare's `request.cf.country`/`continent`/`asn`); the randomness comes from the
//! host (`crypto.getRandomValues`) or from a test's fixed seed. Rust asks JS for nothing during a request; its
//! only call out is the one that builds the returned object.
//!
//! Crossing the JS boundary costs around a microsecond per call with its conversions, so the API is one call per
//! request, returning one plain JS object:
//!
//! ```js
//! import { Selector } from "./mirrorvane_wasm.js";
//! const selector = Selector.fromSnapshot(new Uint8Array(await snapshotResponse.arrayBuffer()));
//! const a = selector.handle(request.url, clientIp, cf.country, cf.continent, cf.asn,
//!                           Date.now() / 1000, seed, request.headers.get("accept"));
//! // a = { status, headers: { "content-type", location? }, body: Uint8Array, logLine }
//! return new Response(a.body, { status: a.status, headers: a.headers });
//! ```
//!
//! The Rust side ([`Core`]) is plain Rust and testable natively; the `#[wasm_bindgen]` wrapper only converts.
//! `wasm/worker/` holds the JS side: the Workers module worker, the Node and Deno servers and their tests.

use core::net::{IpAddr, Ipv6Addr};
use std::rc::Rc;

use mirrorvane_selector::client::locating_address;
use mirrorvane_selector::{
    ClientGeo, ContentType, Context, ContinentCode, CountryCode, Locate, Request, SeededRandom, Selector as Inner,
    SnapshotError, Workspace,
};
use wasm_bindgen::prelude::*;

#[cfg(feature = "mmdb")]
pub mod geo;

/// The optional GeoIP databases; without the `mmdb` feature there are none and hints are all there is.
#[cfg(feature = "mmdb")]
use geo::Databases;
#[cfg(not(feature = "mmdb"))]
#[derive(Default)]
pub struct Databases;
#[cfg(not(feature = "mmdb"))]
impl Databases {
    fn complete(&self, _ip: IpAddr, known: ClientGeo) -> ClientGeo {
        known
    }
}

/// Fewer content-carrying hosts than this (netblock to continent) adds the global list — MirrorManager's value,
/// as in the native edge.
pub const MINIMUM: usize = 5;

/// The inputs of one request, as a host platform has them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Input<'a> {
    /// URL path (`/metalink`, `/mirrorlist`, …).
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    /// The client address as the platform reports it (`CF-Connecting-IP`, the socket peer, or the last
    /// `X-Forwarded-For` element). Text that is not an address is answered 500 like MirrorManager.
    pub client_ip: &'a str,
    /// Country of the client (ISO 3166 alpha-2, any case); anything that is not two letters/digits is ignored.
    pub country: Option<&'a str>,
    /// Continent of the client (`EU`, `NA`, …); same parsing as `country`.
    pub continent: Option<&'a str>,
    /// Origin autonomous system of the client.
    pub asn: Option<u32>,
    /// `Accept` header (metalink v4 is chosen from it).
    pub accept: Option<&'a str>,
    /// Now, Unix seconds.
    pub now: u64,
    /// Seed of this request's shuffle: fresh random bits from the host, or a test's fixed value.
    pub seed: u64,
}

/// The answer to one request, borrowed from the instance's workspace until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` (`as_str()` is the header value).
    pub content_type: ContentType,
    /// Body.
    pub body: &'a str,
    /// `Location` header value; empty when none.
    pub location: &'a str,
    /// Access-log line (with its newline); empty when the request is not logged.
    pub log_line: &'a str,
}

/// Splits a request URL into path and raw query. Accepts an absolute URL (`https://host/p?q`, what
/// `Request.url` is in Workers and Deno) or an origin-form target (`/p?q`, Node's `IncomingMessage.url`); the
/// fragment is dropped. Nothing is decoded or normalised, as in the native edge.
pub fn split_url(url: &str) -> (&str, &str) {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let target = match url.find("://") {
        Some(i) if !url.starts_with('/') => {
            let rest = &url[i + 3..];
            rest.find(['/', '?']).map_or("", |j| &rest[j..])
        }
        _ => url,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    (if path.is_empty() { "/" } else { path }, query)
}

/// The platform's geo hints, applied to the connecting client only: a request that names another address with
/// `ip=` gets no location from them (the hints describe the connection, not that address) rather than a wrong
/// one. GeoIP databases, when loaded, fill in what the hints leave unknown, for any address.
struct Hints<'g> {
    client: Option<IpAddr>,
    geo: ClientGeo,
    databases: Option<&'g Databases>,
}

impl Locate for Hints<'_> {
    fn locate(&self, ip: IpAddr) -> ClientGeo {
        let hinted = if self.client == Some(ip) {
            self.geo
        } else {
            ClientGeo::default()
        };
        match self.databases {
            Some(db) => db.complete(ip, hinted),
            None => hinted,
        }
    }
}

/// The selector, its reusable buffers and the optional GeoIP databases: everything but the JS conversions.
pub struct Core {
    selector: Inner,
    workspace: Workspace,
    databases: Option<Rc<Databases>>,
}

impl Core {
    /// Decodes and validates a snapshot.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Core, SnapshotError> {
        Ok(Core {
            selector: Inner::decode(bytes)?,
            workspace: Workspace::new(),
            databases: None,
        })
    }

    /// Checks the signature against `keys` (the backend's public keys), then decodes: nothing of an unsigned or
    /// tampered snapshot is decoded.
    pub fn from_signed_snapshot(bytes: &[u8], keys: &[mirrorvane_signature::PublicKey]) -> Result<Core, String> {
        let checked = mirrorvane_signature::verify(bytes, keys).map_err(|e| e.to_string())?;
        Core::from_snapshot(checked).map_err(|e| e.to_string())
    }

    /// Uses `databases` for what the hints leave unknown (shared between snapshots: they outlive reloads).
    pub fn set_databases(&mut self, databases: Option<Rc<Databases>>) {
        self.databases = databases;
    }

    /// Creation time of the snapshot, Unix seconds.
    pub fn created(&self) -> u64 {
        self.selector.created()
    }

    /// See [`Inner::set_family_preference`]: off gives MirrorManager's order exactly.
    pub fn set_family_preference(&mut self, on: bool) {
        self.selector.set_family_preference(on);
    }

    /// Answers one request.
    pub fn handle(&mut self, input: &Input<'_>) -> Reply<'_> {
        // An address that does not parse is handed to the selector as a forwarded-for value so that it answers
        // with MirrorManager's error, exactly like the native edge does for a bad X-Forwarded-For.
        let (peer, forwarded_for) = match input.client_ip.trim().parse::<IpAddr>() {
            Ok(ip) => (ip, None),
            Err(_) => (IpAddr::V6(Ipv6Addr::UNSPECIFIED), Some(input.client_ip.as_bytes())),
        };
        let hints = Hints {
            client: forwarded_for.is_none().then(|| locating_address(peer.to_canonical())),
            geo: ClientGeo {
                country: input.country.and_then(CountryCode::parse),
                continent: input.continent.and_then(ContinentCode::parse),
                asn: input.asn,
            },
            databases: self.databases.as_deref(),
        };
        let request = Request {
            path: input.path,
            query: input.query,
            forwarded_for,
            accept: input.accept.map(str::as_bytes),
            peer,
        };
        let mut random = SeededRandom::new(input.seed);
        let mut ctx = Context {
            now: input.now,
            minimum: MINIMUM,
            locate: &hints,
            random: &mut random,
        };
        let a = self.selector.handle(&request, &mut ctx, &mut self.workspace);
        Reply {
            status: a.status,
            content_type: a.content_type,
            body: &a.body,
            location: &a.location,
            log_line: &a.log_line,
        }
    }
}

#[wasm_bindgen(typescript_custom_section)]
const ANSWER_TS: &'static str = r#"
/** The answer to one request. */
export interface Answer {
  /** HTTP status: 200, 302, 404 or 500. */
  status: number;
  /** Response headers: `content-type`, and `location` for redirects. Pass as is to `new Response`. */
  headers: { "content-type": string; location?: string };
  /** Response body (UTF-8), a copy owned by JS. */
  body: Uint8Array;
  /** Access-log line (with its newline) for `repo=`/`arch=` requests; empty otherwise. */
  logLine: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// A plain JS object `{ status, headers, body, logLine }`.
    #[wasm_bindgen(typescript_type = "Answer")]
    pub type Answer;
}

// Content types by index (the order of the match in `Selector::handle`): a small integer crosses the boundary
// without a string decode.
#[wasm_bindgen(inline_js = r#"
const TYPES = ["text/plain", "application/metalink+xml", "application/metalink4+xml", "application/json"];
export function answer(status, type, body, location, logLine) {
  const headers = location === "" ? { "content-type": TYPES[type] } : { "content-type": TYPES[type], location };
  return { status, headers, body: body.slice(), logLine };
}
"#)]
extern "C" {
    fn answer(status: u16, content_type: u8, body: &[u8], location: &str, log_line: &str) -> Answer;
}

/// GeoIP databases (MaxMind format) for hosts without geo hints. Load once per isolate; hand to every
/// [`Selector`] with `setGeo`. Only with the `mmdb` feature (the default).
#[cfg(feature = "mmdb")]
#[wasm_bindgen]
pub struct GeoDatabases {
    inner: Rc<Databases>,
}

#[cfg(feature = "mmdb")]
#[wasm_bindgen]
impl GeoDatabases {
    /// Opens a country database (GeoIP2/GeoLite2 Country or City, or ip-location-db) and/or an ASN database
    /// (GeoLite2-ASN layout), each the bytes of a whole `.mmdb` file or `undefined`. Throws an `Error` saying
    /// what is wrong.
    #[wasm_bindgen(constructor)]
    pub fn new(country: Option<Vec<u8>>, asn: Option<Vec<u8>>) -> Result<GeoDatabases, JsError> {
        let inner = Databases::new(country, asn).map_err(|e| JsError::new(&format!("GeoIP refused: {e}")))?;
        Ok(GeoDatabases { inner: Rc::new(inner) })
    }
}

/// A loaded snapshot, ready to answer requests. Keep one per isolate; replace it to reload.
#[wasm_bindgen]
pub struct Selector {
    core: Core,
}

#[wasm_bindgen]
impl Selector {
    /// Decodes and validates snapshot bytes. Throws an `Error` whose message says what is wrong (truncated,
    /// wrong magic, other format version, checksum mismatch, malformed, inconsistent).
    #[wasm_bindgen(js_name = fromSnapshot)]
    pub fn from_snapshot(bytes: &[u8]) -> Result<Selector, JsError> {
        let core = Core::from_snapshot(bytes).map_err(|e| JsError::new(&format!("snapshot refused: {e}")))?;
        Ok(Selector { core })
    }

    /// Like `fromSnapshot`, accepting only a snapshot signed by one of `publicKeys` (the lines `mirrorvane keygen`
    /// prints): the signature is checked before anything is decoded. Throws an `Error` saying why a snapshot is
    /// refused (not signed, signed by another key, tampered) or a key is not one.
    #[wasm_bindgen(js_name = fromSignedSnapshot)]
    pub fn from_signed_snapshot(bytes: &[u8], public_keys: Vec<String>) -> Result<Selector, JsError> {
        let keys = public_keys
            .iter()
            .map(|k| mirrorvane_signature::PublicKey::from_text(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| JsError::new(&format!("public key refused: {e}")))?;
        if keys.is_empty() {
            return Err(JsError::new("fromSignedSnapshot needs at least one public key"));
        }
        let core =
            Core::from_signed_snapshot(bytes, &keys).map_err(|e| JsError::new(&format!("snapshot refused: {e}")))?;
        Ok(Selector { core })
    }

    /// Creation time of the snapshot, Unix seconds.
    pub fn created(&self) -> f64 {
        self.core.created() as f64
    }

    /// Whether hosts a crawler found not answering over the client's address family go last in their tier (on
    /// by default; `false` answers exactly as MirrorManager orders hosts).
    #[wasm_bindgen(js_name = setFamilyPreference)]
    pub fn set_family_preference(&mut self, on: bool) {
        self.core.set_family_preference(on);
    }

    /// Uses these GeoIP databases for what a request's hints leave unknown.
    #[cfg(feature = "mmdb")]
    #[wasm_bindgen(js_name = setGeo)]
    pub fn set_geo(&mut self, geo: &GeoDatabases) {
        // Borrowed, not moved: one GeoDatabases serves every snapshot loaded after it.
        self.core.set_databases(Some(geo.inner.clone()));
    }

    /// Stops using GeoIP databases.
    #[cfg(feature = "mmdb")]
    #[wasm_bindgen(js_name = clearGeo)]
    pub fn clear_geo(&mut self) {
        self.core.set_databases(None);
    }

    /// Answers one request — the only call per request.
    ///
    /// `url` is the request URL, absolute or origin-form, raw (not percent-decoded). `client_ip` is the client
    /// address. `country`, `continent` and `asn` are the platform's geo hints for that address (`undefined` when
    /// unknown). `now_seconds` is the time in Unix seconds (`Date.now() / 1000`; fractions are dropped, negative
    /// or NaN count as 0). `seed` (a BigInt) seeds this request's shuffle: fresh bits from
    /// `crypto.getRandomValues`, or a fixed value in tests. `accept` is the `Accept` header, which selects
    /// metalink 4 when it prefers `application/metalink4+xml`.
    #[allow(clippy::too_many_arguments)]
    pub fn handle(
        &mut self,
        url: &str,
        client_ip: &str,
        country: Option<String>,
        continent: Option<String>,
        asn: Option<u32>,
        now_seconds: f64,
        seed: u64,
        accept: Option<String>,
    ) -> Answer {
        let (path, query) = split_url(url);
        let input = Input {
            path,
            query,
            client_ip,
            country: country.as_deref(),
            continent: continent.as_deref(),
            asn,
            accept: accept.as_deref(),
            // `as` saturates: NaN and negatives become 0.
            now: now_seconds as u64,
            seed,
        };
        let r = self.core.handle(&input);
        // One call out to build the JS object: property by property from Rust would cost a call and a string
        // decode per key. The body is a view into linear memory that `answer` copies once.
        let content_type = match r.content_type {
            ContentType::Text => 0,
            ContentType::Metalink => 1,
            ContentType::Metalink4 => 2,
            ContentType::Json => 3,
        };
        answer(r.status, content_type, r.body.as_bytes(), r.location, r.log_line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorvane_selector::snapshot::{Digest, FileDetail, encode};
    use mirrorvane_testkit::fixture::{Fixture, detail};

    fn snapshot_bytes() -> Vec<u8> {
        let os = "pub/fedora/linux/releases/41/Everything/x86_64/os";
        let repodata = "pub/fedora/linux/releases/41/Everything/x86_64/os/repodata";
        let mut f = Fixture {
            created: 1_700_000_000,
            ..Fixture::default()
        }
        .host(1, Some("DE"), 100, &["https://mirror1.example/fedora/linux"])
        .host(2, Some("US"), 100, &["https://mirror2.example/fedora/linux"])
        .dir("pub/fedora/linux", "pub/fedora/linux", &[1, 2])
        .dir(os, "pub/fedora/linux", &[1, 2])
        .dir(repodata, "pub/fedora/linux", &[1, 2]);
        f.repos.push(("fedora-41", "x86_64", os));
        f.files.push((
            repodata,
            "repomd.xml",
            vec![FileDetail {
                sha256: Some(Digest::from_text("00ff")),
                ..detail(1_699_999_000, 4321, "")
            }],
        ));
        encode(&f.snapshot())
    }

    fn input<'a>(query: &'a str) -> Input<'a> {
        Input {
            path: "/mirrorlist",
            query,
            client_ip: "192.0.2.1",
            country: Some("de"),
            now: 1_700_000_100,
            seed: 1,
            ..Default::default()
        }
    }

    #[test]
    fn mirrorlist_with_geo_hint() {
        let mut core = Core::from_snapshot(&snapshot_bytes()).unwrap();
        assert_eq!(core.created(), 1_700_000_000);
        let r = core.handle(&input("repo=fedora-41&arch=x86_64"));
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, ContentType::Text);
        // The German client gets the German mirror first.
        let mut lines = r.body.lines().filter(|l| !l.starts_with('#'));
        assert_eq!(
            lines.next(),
            Some("https://mirror1.example/fedora/linux/releases/41/Everything/x86_64/os/")
        );
        assert!(
            r.log_line.contains("COUNTRY: DE; REPO: fedora-41; ARCH: x86_64"),
            "{}",
            r.log_line
        );
        assert!(r.log_line.starts_with("IP: 192.0.2.1; "));
    }

    #[test]
    fn same_seed_same_bytes_and_errors() {
        let mut core = Core::from_snapshot(&snapshot_bytes()).unwrap();
        let a = core.handle(&input("repo=fedora-41&arch=x86_64")).body.to_owned();
        let b = core.handle(&input("repo=fedora-41&arch=x86_64")).body.to_owned();
        assert_eq!(a, b);
        assert_eq!(core.handle(&input("repo=nope&arch=x86_64")).status, 404);
        let bad_ip = Input {
            client_ip: "not an address",
            ..input("repo=fedora-41&arch=x86_64")
        };
        let r = core.handle(&bad_ip);
        assert_eq!((r.status, r.body), (500, "Cannot parse client IP address. Aborting."));
        let r = core.handle(&Input {
            path: "/metalink",
            ..input("repo=fedora-41&arch=x86_64&redirect")
        });
        assert_eq!((r.status, r.content_type), (200, ContentType::Metalink));
        assert!(r.body.contains("<size>4321</size>"), "{}", r.body);
        let r = core.handle(&Input {
            path: "/metalink",
            accept: Some("application/metalink4+xml"),
            ..input("repo=fedora-41&arch=x86_64")
        });
        assert_eq!((r.status, r.content_type), (200, ContentType::Metalink4));
        let r = core.handle(&input(
            "path=pub/fedora/linux/releases/41/Everything/x86_64/os&redirect=1",
        ));
        assert_eq!(r.status, 302);
        assert!(r.location.starts_with("https://mirror"), "{}", r.location);
    }

    #[test]
    fn urls_split_raw() {
        assert_eq!(
            split_url("https://h.example/metalink?repo=a&arch=b"),
            ("/metalink", "repo=a&arch=b")
        );
        assert_eq!(split_url("http://h.example:8080?repo=a"), ("/", "repo=a"));
        assert_eq!(split_url("https://h.example"), ("/", ""));
        assert_eq!(
            split_url("/pub/mirrorlist?path=a//b#frag"),
            ("/pub/mirrorlist", "path=a//b")
        );
        // Origin-form whose query holds "://" is not mistaken for an absolute URL.
        assert_eq!(split_url("/metalink?x=http://y/z"), ("/metalink", "x=http://y/z"));
        assert_eq!(split_url("/metalink?a=1?b=2"), ("/metalink", "a=1?b=2"));
        assert_eq!(split_url(""), ("/", ""));
    }

    #[test]
    fn hints_apply_to_the_connecting_client_only() {
        let hints = Hints {
            client: Some("192.0.2.1".parse().unwrap()),
            geo: ClientGeo {
                country: CountryCode::parse("DE"),
                ..Default::default()
            },
            databases: None,
        };
        assert_eq!(
            hints.locate("192.0.2.1".parse().unwrap()).country,
            CountryCode::parse("DE")
        );
        assert_eq!(hints.locate("198.51.100.1".parse().unwrap()), ClientGeo::default());
    }

    #[cfg(feature = "mmdb")]
    #[test]
    fn databases_fill_in_what_hints_leave_unknown() {
        let read = |f: &str| std::fs::read(mirrorvane_testkit::geo_testdata(f)).unwrap();
        let db = Databases::new(
            Some(read("GeoIP2-Country-Test.mmdb")),
            Some(read("GeoLite2-ASN-Test.mmdb")),
        )
        .unwrap();
        // 89.160.20.112 is SE / AS29518 in MaxMind's test data.
        let client: IpAddr = "89.160.20.112".parse().unwrap();
        let hints = |geo| Hints {
            client: Some(client),
            geo,
            databases: Some(&db),
        };
        let none = hints(ClientGeo::default()).locate(client);
        assert_eq!((none.country, none.asn), (CountryCode::parse("SE"), Some(29518)));
        assert_eq!(none.continent, ContinentCode::parse("EU"));
        // A country hint wins (and keeps the continent unknown rather than mixing sources); the ASN is filled in.
        let fr = hints(ClientGeo {
            country: CountryCode::parse("FR"),
            ..Default::default()
        })
        .locate(client);
        assert_eq!(
            (fr.country, fr.continent, fr.asn),
            (CountryCode::parse("FR"), None, Some(29518))
        );
        // Other addresses (`ip=`) are looked up, not given the connection's hints.
        let other = hints(ClientGeo {
            country: CountryCode::parse("FR"),
            asn: Some(1),
            ..Default::default()
        })
        .locate("216.160.83.56".parse().unwrap());
        assert_eq!(other.country, CountryCode::parse("US"));
        // Each database is checked for its kind.
        let err = Databases::new(Some(read("GeoLite2-ASN-Test.mmdb")), None)
            .err()
            .unwrap();
        assert!(err.to_string().contains("has no country data"), "{err}");
        assert!(Databases::new(Some(b"not a database".to_vec()), None).is_err());
    }

    #[test]
    fn snapshot_errors_are_typed() {
        let mut bytes = snapshot_bytes();
        bytes[40] ^= 1;
        let err = Core::from_snapshot(&bytes).err().unwrap();
        assert!(matches!(err, SnapshotError::ChecksumMismatch { .. }), "{err}");
        assert!(matches!(
            Core::from_snapshot(b"short").err().unwrap(),
            SnapshotError::TooShort { len: 5 }
        ));
    }
}
