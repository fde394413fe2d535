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
        for piece in raw.split('&') {
            let mut parts = piece.split('=');
            let key = parts.next().unwrap_or("");
            let value = parts.next().unwrap_or("");
            let slot = match key {
                "repo" => &mut q.repo,
                "arch" => &mut q.arch,
                "path" => &mut q.path,
                "country" => &mut q.country,
                "ip" => &mut q.ip,
                "netblock" => &mut q.netblock,
                "protocol" => &mut q.protocol,
                "redirect" => &mut q.redirect,
                "time" => &mut q.time,
                "explain" => &mut q.explain,
                _ => continue,
            };
            *slot = Some(value);
        }
        q
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
}
