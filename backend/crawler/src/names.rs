//! Host names to addresses, one address family at a time, so a crawl can say whether a mirror answers over
//! IPv4 and over IPv6 separately. Fixed answers for a name (`--resolve NAME=ADDR`, as curl's) take precedence
//! over DNS: for crawling a mirror at an address DNS does not (yet) give, and for tests on 127.0.0.1 and ::1.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// Whether `ip` is of this family.
    pub fn has(self, ip: IpAddr) -> bool {
        matches!((self, ip), (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_)))
    }

    /// `IPv4` or `IPv6`, for logs.
    pub fn label(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// How names are resolved: fixed answers first, then the system resolver.
#[derive(Debug, Clone, Default)]
pub struct Names {
    fixed: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl Names {
    /// With fixed answers: name (case-insensitive) → addresses.
    pub fn with_fixed(fixed: HashMap<String, Vec<IpAddr>>) -> Names {
        let fixed = fixed.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        Names { fixed: Arc::new(fixed) }
    }

    /// Parses `NAME=ADDR[,ADDR…]` (`--resolve`).
    pub fn parse_fixed(text: &str) -> Result<(String, Vec<IpAddr>), String> {
        let (name, addrs) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected NAME=ADDRESS[,ADDRESS…]"))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                a.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .map_err(|_| format!("{a:?} in {text:?} is not an IP address"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if name.is_empty() || addrs.is_empty() {
            return Err(format!("{text:?}: expected NAME=ADDRESS[,ADDRESS…]"));
        }
        Ok((name.to_owned(), addrs))
    }

    /// Every address of `host` (an IP literal is itself), fixed answers first.
    pub async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        if let Some(addrs) = self.fixed.get(&bare.to_ascii_lowercase()) {
            return Ok(addrs.clone());
        }
        Ok(tokio::net::lookup_host((bare, 0)).await?.map(|a| a.ip()).collect())
    }

    /// The addresses of `host` of one family.
    pub async fn lookup_family(&self, host: &str, family: Family) -> std::io::Result<Vec<IpAddr>> {
        Ok(self
            .lookup(host)
            .await?
            .into_iter()
            .filter(|ip| family.has(*ip))
            .collect())
    }
}

/// A resolver for reqwest that gives only one family's addresses, so a client built with it connects over that
/// family or not at all.
#[derive(Debug, Clone)]
pub(crate) struct FamilyResolver {
    pub names: Names,
    pub family: Family,
}

impl reqwest::dns::Resolve for FamilyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let names = self.names.clone();
        let family = self.family;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = names.lookup_family(&host, family).await?;
            if addrs.is_empty() {
                return Err(format!("{host} has no {} address", family.label()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_answers() {
        assert_eq!(
            Names::parse_fixed("Mirror.test=127.0.0.1,[::1]").unwrap(),
            (
                "Mirror.test".to_owned(),
                vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]
            )
        );
        assert!(Names::parse_fixed("mirror.test").is_err());
        assert!(Names::parse_fixed("mirror.test=localhost").is_err());
        let names = Names::with_fixed([("Mirror.test".to_owned(), vec!["::1".parse().unwrap()])].into());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            assert_eq!(
                names.lookup("mirror.TEST").await.unwrap(),
                vec!["::1".parse::<IpAddr>().unwrap()]
            );
            assert!(names.lookup_family("mirror.test", Family::V4).await.unwrap().is_empty());
            assert_eq!(names.lookup("[::1]").await.unwrap().len(), 1);
            assert!(names.lookup_family("127.0.0.1", Family::V6).await.unwrap().is_empty());
        });
    }
}
