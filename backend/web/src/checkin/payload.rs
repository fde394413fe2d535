//! The check-in payload of `report_mirror` (reference §5.6): a JSON object, bz2-compressed and URL-safe base64
//! encoded for XML-RPC (or plain or gzip'ed JSON on the JSON endpoint), decoded within size limits and validated
//! with MirrorManager's messages. Never unpickled: a payload that is not JSON is refused.

use std::io::Read;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

/// How much a check-in may weigh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The request body.
    pub body: usize,
    /// The JSON after decompression (a bz2 or gzip bomb stops here).
    pub json: usize,
}

impl Default for Limits {
    /// A private mirror of all of Fedora reports some 60,000 directories: about 5 MB of JSON, a tenth of that
    /// compressed. Eight times that.
    fn default() -> Limits {
        Limits {
            body: 8 << 20,
            json: 40 << 20,
        }
    }
}

/// Why a payload could not be read at all (an XML-RPC fault, or a 4xx on the JSON endpoint).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the check-in is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the check-in is not URL-safe base64: {0}")]
    Base64(String),
    #[error("the check-in is not bz2-compressed data: {0}")]
    Bz2(String),
    #[error("the check-in is not gzip-compressed data: {0}")]
    Gzip(String),
    #[error("the check-in decompresses to more than {0} bytes")]
    Bomb(usize),
    #[error("the check-in is not JSON (pickled check-ins are not accepted; update report_mirror): {0}")]
    Json(String),
}

/// A validated check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub site: String,
    pub password: String,
    pub host: String,
    /// `host.user_active`, when given: `true`, `1`, `t`, `y`, `yes` (MirrorManager's words) or anything else.
    pub user_active: Option<bool>,
    /// Per category section (the name as sent, lowercased by report_mirror): the directories reported, relative
    /// to the category's top directory, stripped of `/`.
    pub categories: Vec<(String, Vec<String>)>,
}

const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes a JSON payload as `report_mirror` does for XML-RPC: bz2, then URL-safe base64.
pub fn encode_xmlrpc(json: &[u8]) -> String {
    use std::io::Write;
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = bz.write_all(json);
    let compressed = bz.finish().unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE.encode(compressed)
}

/// XML-RPC's argument: URL-safe base64 of bz2 of JSON.
pub fn decode_xmlrpc(data: &str, limits: &Limits) -> Result<Value, PayloadError> {
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let compressed = URL_SAFE_ANY_PADDING
        .decode(compact.as_bytes())
        .map_err(|e| PayloadError::Base64(e.to_string()))?;
    let json = bounded_read(bzip2::read::BzDecoder::new(compressed.as_slice()), limits.json)
        .map_err(|e| e.unwrap_or_else(|io| PayloadError::Bz2(io.to_string())))?;
    parse_json(&json)
}

/// The JSON endpoint's body: JSON, or gzip'ed JSON.
pub fn decode_json(body: &[u8], gzip: bool, limits: &Limits) -> Result<Value, PayloadError> {
    if !gzip {
        if body.len() > limits.json {
            return Err(PayloadError::Bomb(limits.json));
        }
        return parse_json(body);
    }
    let json = bounded_read(flate2::read::GzDecoder::new(body), limits.json)
        .map_err(|e| e.unwrap_or_else(|io| PayloadError::Gzip(io.to_string())))?;
    parse_json(&json)
}

/// Reads at most `limit` bytes; more is a bomb (`Err(Some)`), a read error `Err(None(io))`.
fn bounded_read(reader: impl Read, limit: usize) -> Result<Vec<u8>, Result<PayloadError, std::io::Error>> {
    let mut out = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut out).map_err(Err)?;
    if out.len() > limit {
        return Err(Ok(PayloadError::Bomb(limit)));
    }
    Ok(out)
}

fn parse_json(bytes: &[u8]) -> Result<Value, PayloadError> {
    serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))
}

/// The sections that are not categories.
const NOT_CATEGORIES: [&str; 5] = ["global", "site", "host", "version", "stats"];

/// MirrorManager's validation (`validate_config`), its messages word for word; then the fields as a [`Payload`].
pub fn validate(config: &Value) -> Result<Payload, String> {
    let invalid = |m: String| format!("{m}Invalid config file provided, please check your report_mirror.conf.\n");
    let Some(config) = config.as_object() else {
        return Err(invalid(
            "config file is not a dict.\nPlease update your copy of report_mirror.\n".into(),
        ));
    };
    let Some(version) = config.get("version") else {
        return Err(invalid("config file has no version field.\n".into()));
    };
    if version.as_i64() != Some(0) {
        return Err(invalid(format!("config file version is not 0, is {version}.\n")));
    }
    for section in ["global", "site", "host"] {
        if !config.contains_key(section) {
            return Err(invalid(format!("config file missing section {section}.\n")));
        }
    }
    let text = |section: &str, key: &str| -> Option<String> {
        let v = config.get(section)?.as_object()?.get(key)?;
        Some(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    if text("global", "enabled").as_deref() != Some("1") {
        return Err(invalid("config file section [global] not enabled.\n".into()));
    }
    for opt in ["name", "password"] {
        if text("site", opt).is_none() {
            return Err(invalid(format!("config file [site] missing required option {opt}.\n")));
        }
    }
    if text("host", "name").is_none() {
        return Err(invalid("section [host] missing required option name.\n".into()));
    }
    let mut categories = Vec::new();
    for (name, section) in config {
        if NOT_CATEGORIES.contains(&name.as_str()) {
            continue;
        }
        let Some(tree) = section.as_object().and_then(|s| s.get("dirtree")) else {
            return Err(invalid(format!("section [{name}] missing required option dirtree.\n")));
        };
        let Some(tree) = tree.as_object() else {
            return Err(invalid(format!("section [{name}] option dirtree is not a dict.\n")));
        };
        categories.push((name.clone(), paths(tree)));
    }
    Ok(Payload {
        site: text("site", "name").unwrap_or_default(),
        password: text("site", "password").unwrap_or_default(),
        host: text("host", "name").unwrap_or_default(),
        user_active: text("host", "user_active").map(|v| ["true", "1", "t", "y", "yes"].contains(&v.as_str())),
        categories,
    })
}

/// The directories of a `dirtree`, stripped of `/` as MirrorManager strips them.
fn paths(tree: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = tree.keys().map(|k| k.trim_matches('/').to_owned()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn encode(json: &str) -> String {
        encode_xmlrpc(json.as_bytes())
    }

    const GOOD: &str = r#"{"version": 0, "global": {"enabled": "1", "server": "x"},
        "site": {"enabled": "1", "name": "S", "password": "p"},
        "host": {"enabled": "1", "name": "h", "user_active": "yes"}, "stats": {},
        "fedora linux": {"enabled": "1", "dirtree": {"": {}, "/releases/41/": {}, "releases/41": {}}}}"#;

    #[test]
    fn round_trip() {
        let limits = Limits::default();
        let v = decode_xmlrpc(&encode(GOOD), &limits).unwrap();
        let p = validate(&v).unwrap();
        assert_eq!((p.site.as_str(), p.password.as_str(), p.host.as_str()), ("S", "p", "h"));
        assert_eq!(p.user_active, Some(true));
        assert_eq!(
            p.categories,
            [("fedora linux".to_owned(), vec!["".to_owned(), "releases/41".to_owned()])]
        );
    }

    #[test]
    fn refusals() {
        let limits = Limits::default();
        assert!(matches!(
            decode_xmlrpc("not base64!", &limits),
            Err(PayloadError::Base64(_))
        ));
        let not_bz2 = base64::engine::general_purpose::URL_SAFE.encode(b"hello");
        assert!(matches!(decode_xmlrpc(&not_bz2, &limits), Err(PayloadError::Bz2(_))));
        // Pickle (protocol 2 starts with 0x80 0x02) is never read.
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        bz.write_all(b"\x80\x02}q\x00.").unwrap();
        let pickled = base64::engine::general_purpose::URL_SAFE.encode(bz.finish().unwrap());
        assert!(matches!(decode_xmlrpc(&pickled, &limits), Err(PayloadError::Json(_))));
        // A bomb: 64 MiB of zeros compress to a few dozen bytes.
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        bz.write_all(&vec![b'0'; 64 << 20]).unwrap();
        let bomb = base64::engine::general_purpose::URL_SAFE.encode(bz.finish().unwrap());
        assert!(bomb.len() < 1000, "{}", bomb.len());
        assert_eq!(decode_xmlrpc(&bomb, &limits), Err(PayloadError::Bomb(limits.json)));
        let gz_bomb = {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(&vec![b' '; 64 << 20]).unwrap();
            gz.finish().unwrap()
        };
        assert_eq!(
            decode_json(&gz_bomb, true, &limits),
            Err(PayloadError::Bomb(limits.json))
        );
    }

    #[test]
    fn mirrormanagers_messages() {
        let check = |json: &str, start: &str| {
            let err = validate(&serde_json::from_str(json).unwrap()).unwrap_err();
            assert!(err.starts_with(start), "{err}");
            assert!(err.ends_with("please check your report_mirror.conf.\n"), "{err}");
        };
        check("[]", "config file is not a dict.");
        check("{}", "config file has no version field.");
        check(r#"{"version": 1}"#, "config file version is not 0, is 1.");
        check(
            r#"{"version": 0, "global": {}, "site": {}}"#,
            "config file missing section host.",
        );
        check(
            r#"{"version": 0, "global": {"enabled": "0"}, "site": {}, "host": {}}"#,
            "config file section [global] not enabled.",
        );
        check(
            r#"{"version": 0, "global": {"enabled": "1"}, "site": {"name": "s"}, "host": {}}"#,
            "config file [site] missing required option password.",
        );
        check(
            r#"{"version": 0, "global": {"enabled": "1"}, "site": {"name": "s", "password": "p"}, "host": {}}"#,
            "section [host] missing required option name.",
        );
        check(
            r#"{"version": 0, "global": {"enabled": "1"}, "site": {"name": "s", "password": "p"},
                "host": {"name": "h"}, "epel": {"enabled": "1"}}"#,
            "section [epel] missing required option dirtree.",
        );
    }
}
