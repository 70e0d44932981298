//! Who is asking: the client's IP address, for throttling and the like.
//!
//! `X-Forwarded-For` is only as good as whoever wrote it. Any client can send one, so it is read
//! only when the socket's peer is a proxy we trust (`--trusted-proxy`), and then from the right:
//! each proxy appends the address it was connected from, so the right-most entries were written
//! by our proxies and the first one that is not a trusted proxy is the client. Entries further
//! left were sent by that client and may be anything.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// How many `X-Forwarded-For` entries are looked at, from the right: more than any chain of
/// proxies in front of us, few enough that a header padded with thousands costs nothing.
const MAX_HOPS: usize = 32;

/// The client's address: the socket peer's, unless the peer is a trusted proxy, in which case
/// the right-most `X-Forwarded-For` address that is not itself a trusted proxy. `None` when
/// the peer is not known.
///
/// If every forwarded address is a trusted proxy, the left-most is the client (a request from
/// inside). If an entry is not an address, nothing left of it can be trusted: the answer is
/// the trusted proxy that passed it on.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?.ip().to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    if !is_trusted(peer) {
        return Some(peer);
    }
    // Several header lines are one list, in order (RFC 9110, section 5.3).
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or("not an address"))
        .collect();
    let mut nearest = peer;
    for entry in lines
        .iter()
        .rev()
        .flat_map(|line| line.rsplit(','))
        .take(MAX_HOPS)
    {
        let Some(ip) = parse_hop(entry) else {
            return Some(nearest);
        };
        if !is_trusted(ip) {
            return Some(ip);
        }
        nearest = ip;
    }
    Some(nearest)
}

/// One `X-Forwarded-For` entry: an IPv4 or IPv6 address, perhaps bracketed, perhaps with a
/// port (some proxies add it).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<IpAddr>()
                .ok()
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn peer(text: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip(text), 40_000))
    }

    fn forwarded(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(line).expect("a header"),
            );
        }
        headers
    }

    const PROXY: &str = "10.0.0.2";
    const INNER_PROXY: &str = "10.0.0.3";

    #[test]
    fn without_trusted_proxies_the_socket_is_the_client() {
        let headers = forwarded(&["198.51.100.9"]);
        assert_eq!(
            client_ip(&headers, peer("203.0.113.7"), &[]),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            client_ip(&HeaderMap::new(), peer("203.0.113.7"), &[]),
            Some(ip("203.0.113.7"))
        );
    }

    #[test]
    fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
        // The peer is not our proxy: whatever it claims, it is the client.
        let headers = forwarded(&["10.0.0.2", "198.51.100.9, 10.0.0.3"]);
        assert_eq!(
            client_ip(&headers, peer("203.0.113.7"), &[ip(PROXY), ip(INNER_PROXY)]),
            Some(ip("203.0.113.7"))
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client() {
        let headers = forwarded(&["198.51.100.9"]);
        assert_eq!(
            client_ip(&headers, peer(PROXY), &[ip(PROXY)]),
            Some(ip("198.51.100.9"))
        );
        // A client that sends its own header gets its made-up entries ignored: the proxy
        // appended the real address last.
        let headers = forwarded(&["1.2.3.4, 10.0.0.3, 198.51.100.9"]);
        assert_eq!(
            client_ip(&headers, peer(PROXY), &[ip(PROXY), ip(INNER_PROXY)]),
            Some(ip("198.51.100.9"))
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_across_header_lines() {
        let headers = forwarded(&["1.2.3.4, 198.51.100.9", "10.0.0.3"]);
        assert_eq!(
            client_ip(&headers, peer(PROXY), &[ip(PROXY), ip(INNER_PROXY)]),
            Some(ip("198.51.100.9"))
        );
    }

    #[test]
    fn a_trusted_proxy_without_a_header_is_the_client() {
        assert_eq!(
            client_ip(&HeaderMap::new(), peer(PROXY), &[ip(PROXY)]),
            Some(ip(PROXY))
        );
        // Every entry a trusted proxy: the furthest one is as far as we can know.
        let headers = forwarded(&["10.0.0.3"]);
        assert_eq!(
            client_ip(&headers, peer(PROXY), &[ip(PROXY), ip(INNER_PROXY)]),
            Some(ip(INNER_PROXY))
        );
    }

    #[test]
    fn an_entry_that_is_not_an_address_stops_the_walk() {
        for bad in ["unknown", "", "198.51.100.9.1", "_hidden", "[::1"] {
            let headers = forwarded(&[&format!("1.2.3.4, {bad}, 10.0.0.3")]);
            assert_eq!(
                client_ip(&headers, peer(PROXY), &[ip(PROXY), ip(INNER_PROXY)]),
                Some(ip(INNER_PROXY)),
                "{bad:?}"
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"198.51.100.\xff").expect("a header"),
        );
        assert_eq!(
            client_ip(&headers, peer(PROXY), &[ip(PROXY)]),
            Some(ip(PROXY))
        );
    }

    #[test]
    fn ports_brackets_and_ipv6_are_understood() {
        for (entry, client) in [
            ("198.51.100.9:5123", "198.51.100.9"),
            ("[2001:db8::7]:443", "2001:db8::7"),
            ("[2001:db8::7]", "2001:db8::7"),
            (" 2001:db8::7 ", "2001:db8::7"),
            // An IPv4 client as a dual-stack socket shows it is the same client.
            ("::ffff:198.51.100.9", "198.51.100.9"),
        ] {
            let headers = forwarded(&[entry]);
            assert_eq!(
                client_ip(&headers, peer(PROXY), &[ip(PROXY)]),
                Some(ip(client)),
                "{entry}"
            );
        }
        // A trusted proxy reached over a dual-stack socket is still trusted.
        let headers = forwarded(&["198.51.100.9"]);
        assert_eq!(
            client_ip(&headers, peer("::ffff:10.0.0.2"), &[ip(PROXY)]),
            Some(ip("198.51.100.9"))
        );
    }

    #[test]
    fn no_peer_no_address() {
        let headers = forwarded(&["198.51.100.9"]);
        assert_eq!(client_ip(&headers, None, &[ip(PROXY)]), None);
    }

    #[test]
    fn a_padded_header_is_read_only_so_far() {
        // Past MAX_HOPS trusted entries, the walk stops at the furthest one it read.
        let padding = vec![INNER_PROXY; MAX_HOPS + 10].join(", ");
        let headers = forwarded(&[&format!("198.51.100.9, {padding}")]);
        assert_eq!(
            client_ip(&headers, peer(PROXY), &[ip(PROXY), ip(INNER_PROXY)]),
            Some(ip(INNER_PROXY))
        );
    }
}
