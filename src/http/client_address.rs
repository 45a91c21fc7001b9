//! Who is asking, by address, for the per-address limits (sign-in
//! throttle, public certificate checks). Behind a reverse proxy every
//! request comes from the proxy, so its forwarding header names the
//! client; but anyone can send that header, so it is believed only from
//! the proxies `--trusted-proxies` names, and only as far back as the
//! chain runs through them.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest};
use ipnet::IpNet;

use super::state::AppState;

/// The client's address: the socket's peer, or, when that is a trusted
/// proxy, the nearest address its forwarding header gives that is not one.
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else { return String::new() };
    let trusted = req.app_data::<web::Data<AppState>>().map(|s| s.trusted_proxies.as_slice()).unwrap_or_default();
    if !is_trusted(peer, trusted) {
        return peer.to_string();
    }
    nearest_untrusted(peer, trusted, &forwarded_for(req.headers())).to_string()
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|network| network.contains(&address))
}

/// Walks the chain back from the peer (a trusted proxy): each trusted hop
/// vouches for the one before it. An entry that is no address stops the
/// walk at the last hop that was one.
fn nearest_untrusted(peer: IpAddr, trusted: &[IpNet], chain: &[Option<IpAddr>]) -> IpAddr {
    let mut client = peer;
    for hop in chain.iter().rev() {
        let Some(hop) = *hop else { break };
        client = hop;
        if !is_trusted(hop, trusted) {
            break;
        }
    }
    client
}

/// The addresses a request was forwarded for, oldest first: `Forwarded`
/// (RFC 7239) `for=` when present, otherwise `X-Forwarded-For`, every
/// instance of the header in order.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::to_owned).collect()
    };
    let forwarded: Vec<Option<IpAddr>> = values("forwarded")
        .iter()
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim().eq_ignore_ascii_case("for").then(|| node_address(value))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    values("x-forwarded-for").iter().map(|value| node_address(value)).collect()
}

/// An address as a forwarding header writes it: `192.0.2.7`,
/// `192.0.2.7:4711`, `"[2001:db8::1]:4711"` or `2001:db8::1`; `None` for
/// `unknown`, an obfuscated name or anything else.
fn node_address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(address) = text.parse() {
        return Some(address);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']').and_then(|(address, _)| address.parse().ok());
    }
    text.rsplit_once(':').and_then(|(address, port)| port.parse::<u16>().ok().and(address.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use std::str::FromStr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_chain_is_believed_only_through_trusted_proxies() {
        let trusted = [IpNet::from_str("10.0.0.0/8").unwrap(), IpNet::from(ip("127.0.0.1"))];
        let walk = |chain: &[&'static str]| {
            let header = chain.join(", ");
            let map = headers(&[("x-forwarded-for", Box::leak(header.into_boxed_str()))]);
            nearest_untrusted(ip("127.0.0.1"), &trusted, &forwarded_for(&map))
        };
        assert_eq!(walk(&["198.51.100.7"]), ip("198.51.100.7"));
        // The client wrote the first entry itself: only what the proxies added counts.
        assert_eq!(walk(&["203.0.113.9", "198.51.100.7", "10.1.2.3"]), ip("198.51.100.7"));
        assert_eq!(walk(&["unknown", "10.1.2.3"]), ip("10.1.2.3"), "the walk stops at what is no address");
        assert_eq!(walk(&[]), ip("127.0.0.1"));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_ports_are_dropped() {
        let map = headers(&[
            ("forwarded", "for=\"[2001:db8::7]:4711\";proto=https, for=198.51.100.7:80"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(forwarded_for(&map), [Some(ip("2001:db8::7")), Some(ip("198.51.100.7"))]);
        let map = headers(&[("x-forwarded-for", "192.0.2.1"), ("x-forwarded-for", "_hidden, 192.0.2.2")]);
        assert_eq!(forwarded_for(&map), [Some(ip("192.0.2.1")), None, Some(ip("192.0.2.2"))]);
    }
}
