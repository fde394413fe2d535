//! The query string, read the way MirrorManager's mirrorlist server reads it: split on `&`, then on `=`; a key
//! without `=` has the empty value; `k=v=w` keeps `v`; the last duplicate wins; no percent-decoding. Unknown keys
//! (`countme=`, `infra=`, `content=` from dnf and EPEL repo files) are ignored.

/// The parameters the selector understands. `None` = absent; `Some("")` = present without a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Query<'a> {
    /// `repo=`
    pub repo: Option<&'a str>,
    /// `arch=`
    pub arch: Option<&'a str>,
    /// `path=`
    pub path: Option<&'a str>,
    /// `country=` (comma list, `global`)
    pub country: Option<&'a str>,
    /// `ip=`
    pub ip: Option<&'a str>,
    /// `netblock=` (`0` disables the netblock and ASN tiers)
    pub netblock: Option<&'a str>,
    /// `protocol=` (comma list)
    pub protocol: Option<&'a str>,
    /// `redirect` (any value)
    pub redirect: Option<&'a str>,
    /// `time` (any value)
    pub time: Option<&'a str>,
    /// `explain` (any value): answer with the decision as JSON.
    pub explain: Option<&'a str>,
}

impl<'a> Query<'a> {
    /// Parses a raw query string (the part after `?`, without it).
    pub fn parse(raw: &'a str) -> Query<'a> {
        let mut q = Query::default();
        // Byte searches: `&` and `=` are ASCII, so every cut is on a character boundary, and `str::split` with
        // its general pattern machinery cost ten times as much on dnf's short queries.
        let mut rest = raw;
        loop {
            let (piece, next) = match rest.bytes().position(|b| b == b'&') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            let (key, value) = match piece.bytes().position(|b| b == b'=') {
                Some(i) => {
                    let value = &piece[i + 1..];
                    (
                        &piece[..i],
                        value.bytes().position(|b| b == b'=').map_or(value, |j| &value[..j]),
                    )
                }
                None => (piece, ""),
            };
            let slot = match key {
                "repo" => Some(&mut q.repo),
                "arch" => Some(&mut q.arch),
                "path" => Some(&mut q.path),
                "country" => Some(&mut q.country),
                "ip" => Some(&mut q.ip),
                "netblock" => Some(&mut q.netblock),
                "protocol" => Some(&mut q.protocol),
                "redirect" => Some(&mut q.redirect),
                "time" => Some(&mut q.time),
                "explain" => Some(&mut q.explain),
                _ => None,
            };
            if let Some(slot) = slot {
                *slot = Some(value);
            }
            match next {
                Some(n) => rest = n,
                None => return q,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrormanager_splitting_rules() {
        let q = Query::parse("repo=fedora-41&arch=x86_64&countme=3&repo=epel-9&time&ip=1.2.3.4=5&&=x");
        assert_eq!(q.repo, Some("epel-9"));
        assert_eq!(q.arch, Some("x86_64"));
        assert_eq!(q.time, Some(""));
        assert_eq!(q.ip, Some("1.2.3.4"));
        assert_eq!(q.path, None);
        let q = Query::parse("path=a%2Fb+c");
        assert_eq!(q.path, Some("a%2Fb+c"));
        assert_eq!(Query::parse(""), Query::default());
    }

    /// The parser as first written, with `str::split`: the reading MirrorManager's rules describe.
    fn by_split(raw: &str) -> Query<'_> {
        let mut q = Query::default();
        for piece in raw.split('&') {
            let mut parts = piece.split('=');
            let key = parts.next().unwrap_or("");
            let value = parts.next().unwrap_or("");
            let slot = match key {
                "repo" => &mut q.repo,
                "arch" => &mut q.arch,
                "country" => &mut q.country,
                "time" => &mut q.time,
                _ => continue,
            };
            *slot = Some(value);
        }
        q
    }

    #[test]
    fn byte_search_reads_like_split() {
        // Every string of up to five of these pieces, multi-byte characters among them.
        let pieces = ["repo", "arch", "time", "country", "=", "&", "é", "x", ""];
        let mut raw = alloc::string::String::new();
        let mut checked = 0;
        for n in 0..pieces.len().pow(5) {
            raw.clear();
            let mut k = n;
            for _ in 0..5 {
                raw.push_str(pieces[k % pieces.len()]);
                k /= pieces.len();
            }
            let (got, want) = (Query::parse(&raw), by_split(&raw));
            assert_eq!(
                (got.repo, got.arch, got.country, got.time),
                (want.repo, want.arch, want.country, want.time),
                "{raw:?}"
            );
            checked += 1;
        }
        assert_eq!(checked, 59_049);
    }
}
