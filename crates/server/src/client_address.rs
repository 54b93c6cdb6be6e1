//! Who the client is, for rate limits and logs: the connection's peer, unless the peer is a
//! configured trusted proxy, in which case `X-Forwarded-For` is read from the right and the
//! first address that is not itself a trusted proxy is the client. An untrusted peer's header
//! is ignored, so a client cannot pick its own address to dodge a limit.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;

/// One trusted network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr =
            address.parse().map_err(|_| format!("trusted_proxies: `{text}` is not an IP address or CIDR block"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("trusted_proxies: `{text}` has a prefix length outside 0..={max}"))?,
            None => max,
        };
        Ok(Self { address, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)) << 96, self.prefix)
                    == masked(u128::from(u32::from(ip)) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix) == masked(u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { bits & (u128::MAX << (128 - u32::from(prefix))) }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The configured trusted proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

impl TrustedProxies {
    /// Parses `trusted_proxies` (addresses or CIDR blocks); the error names the bad entry.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        Ok(Self { networks: entries.iter().map(|e| Network::parse(e)).collect::<Result<_, _>>()? })
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client behind a connection from `peer` carrying `headers`.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .map(|hop| hop.parse::<IpAddr>().map(canonical))
            .collect::<Result<_, _>>()
            // A malformed chain cannot be walked: fall back to the proxy itself.
            .unwrap_or_default();
        let mut client = peer;
        for hop in forwarded.into_iter().rev() {
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        Some(client)
    }
}

/// The client address of a request (see the module documentation).
pub fn client_of(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|a| a.ip());
    match request.app_data::<actix_web::web::Data<TrustedProxies>>() {
        Some(trusted) => trusted.client(peer, request.headers()),
        None => peer,
    }
}

/// The client address of a request still in the middleware chain.
pub fn client_of_service_request(request: &ServiceRequest) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|a| a.ip());
    match request.app_data::<actix_web::web::Data<TrustedProxies>>() {
        Some(trusted) => trusted.client(peer, request.headers()),
        None => peer,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(forwarded).unwrap_or_else(|e| panic!("{e}")),
        );
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_the_rightmost_untrusted_hop_is_the_client() {
        let trusted =
            TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.7".into()]).unwrap_or_else(|e| panic!("{e}"));
        let chain = headers("203.0.113.9, 198.51.100.4, 10.1.2.3");
        assert_eq!(trusted.client(Some(ip("172.16.0.1")), &chain), Some(ip("172.16.0.1")), "untrusted peer");
        assert_eq!(trusted.client(Some(ip("10.9.9.9")), &chain), Some(ip("198.51.100.4")), "spoofed left hop ignored");
        assert_eq!(trusted.client(Some(ip("192.168.1.7")), &headers("10.0.0.2")), Some(ip("10.0.0.2")));
        assert_eq!(trusted.client(Some(ip("10.9.9.9")), &HeaderMap::new()), Some(ip("10.9.9.9")), "no header");
        assert_eq!(trusted.client(Some(ip("10.9.9.9")), &headers("nonsense")), Some(ip("10.9.9.9")));
        assert_eq!(trusted.client(Some(ip("::ffff:10.0.0.1")), &headers("::1")), Some(ip("::1")));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
    }
}
