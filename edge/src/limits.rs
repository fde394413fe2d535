//! What the edge accepts from the open internet ([`Limits`]) and whom it believes ([`Trust`]).

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

/// Connection limits. The defaults are safe for a public port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A client must send a whole request head within this long of connecting or of the previous answer on a
    /// kept-alive connection; then the connection is closed. Bounds slow senders (slowloris) and idle keep-alive
    /// alike.
    pub header_timeout: Duration,
    /// Connections one worker thread holds at once; one more is answered `503` and closed.
    pub max_connections: usize,
    /// Largest request head (request line and headers), bytes; hyper answers a larger one with `431`.
    pub max_head_bytes: usize,
    /// Also speak HTTP/2 without TLS (h2c). dnf speaks HTTP/1.1; a TLS proxy in front does its own HTTP/2.
    pub h2c: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(20),
            max_connections: 8192,
            max_head_bytes: 16 << 10,
            h2c: false,
        }
    }
}

/// Who may use `explain=1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Explain {
    /// Nobody: `explain` is answered `403`.
    Off,
    /// Clients on this machine or in the trusted networks (it lists private and out-of-date hosts).
    #[default]
    Local,
    /// Everybody.
    Public,
}

impl std::str::FromStr for Explain {
    type Err = String;

    fn from_str(s: &str) -> Result<Explain, String> {
        match s {
            "off" => Ok(Explain::Off),
            "local" => Ok(Explain::Local),
            "public" => Ok(Explain::Public),
            _ => Err(format!("{s:?}: expected off, local or public")),
        }
    }
}

/// Whom the edge believes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    /// Peers whose `X-Forwarded-For` is honoured. `None` honours it from everyone — MirrorManager's behaviour,
    /// right only when every client comes through a proxy that sets the header; on a public port it lets any
    /// client choose the address it is answered for.
    pub proxies: Option<Vec<IpNet>>,
    /// Who may ask for `explain=1`.
    pub explain: Explain,
    /// Serve `/metrics` on the request port (to local and trusted clients only); `false` when an admin
    /// listener serves it.
    pub metrics_on_public_port: bool,
}

impl Trust {
    /// The `X-Forwarded-For` value to use for a request from `peer`.
    pub fn forwarded_for<'a>(&self, peer: IpAddr, header: Option<&'a [u8]>) -> Option<&'a [u8]> {
        match &self.proxies {
            None => header,
            Some(nets) if nets.iter().any(|n| n.contains(&peer.to_canonical())) => header,
            Some(_) => None,
        }
    }

    /// The loopback interface or a trusted network.
    pub fn is_local(&self, client: IpAddr) -> bool {
        let client = client.to_canonical();
        client.is_loopback()
            || self
                .proxies
                .as_ref()
                .is_some_and(|nets| nets.iter().any(|n| n.contains(&client)))
    }

    /// Whether `client` (its address after `X-Forwarded-For` is applied) may have `explain=1` answered.
    pub fn explain_allowed(&self, client: IpAddr) -> bool {
        match self.explain {
            Explain::Off => false,
            Explain::Local => self.is_local(client),
            Explain::Public => true,
        }
    }
}

/// Whether a raw query asks for `explain` (the selector's own query parsing).
pub fn asks_explain(query: &str) -> bool {
    mirrorvane_selector::query::Query::parse(query).explain.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_rules() {
        let open = Trust::default();
        let peer: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(open.forwarded_for(peer, Some(b"1.2.3.4")), Some(&b"1.2.3.4"[..]));
        let proxied = Trust {
            proxies: Some(vec!["10.0.0.0/8".parse().unwrap()]),
            ..Trust::default()
        };
        assert_eq!(proxied.forwarded_for(peer, Some(b"1.2.3.4")), None);
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(proxied.forwarded_for(proxy, Some(b"1.2.3.4")), Some(&b"1.2.3.4"[..]));
        assert!(
            proxied
                .forwarded_for("::ffff:10.1.2.3".parse().unwrap(), Some(b"x"))
                .is_some()
        );
        assert!(proxied.explain_allowed(proxy));
        assert!(proxied.explain_allowed("127.0.0.1".parse().unwrap()));
        assert!(proxied.explain_allowed("::1".parse().unwrap()));
        assert!(!proxied.explain_allowed(peer));
        let public = Trust {
            explain: Explain::Public,
            ..Trust::default()
        };
        assert!(public.explain_allowed(peer));
        let off = Trust {
            explain: Explain::Off,
            ..Trust::default()
        };
        assert!(!off.explain_allowed("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn explain_in_queries() {
        assert!(asks_explain("repo=x&explain=1"));
        assert!(asks_explain("explain"));
        assert!(!asks_explain("repo=explain&arch=x"));
        assert!(!asks_explain("explained=1"));
    }
}
