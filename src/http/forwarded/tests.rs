use super::*;
use axum::http::HeaderValue;

fn proxies(list: &[&str]) -> TrustedProxies {
    TrustedProxies::new(
        list.iter()
            .map(|t| crate::config::reader::parse_network(t).unwrap())
            .collect(),
    )
}

fn client(p: &TrustedProxies, peer: &str, headers: &[(&str, &str)]) -> IpAddr {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    p.source(format!("{peer}:4000").parse().unwrap(), &map)
        .client
}

fn ip(t: &str) -> IpAddr {
    t.parse().unwrap()
}

#[test]
fn headers_from_an_untrusted_peer_are_ignored() {
    let p = proxies(&["127.0.0.2"]);
    for h in [
        ("x-forwarded-for", "198.51.100.7"),
        ("forwarded", "for=198.51.100.7"),
    ] {
        assert_eq!(client(&p, "127.0.0.9", &[h]), ip("127.0.0.9"));
    }
    assert_eq!(
        client(
            &TrustedProxies::default(),
            "127.0.0.2",
            &[("x-forwarded-for", "1.2.3.4")]
        ),
        ip("127.0.0.2")
    );
}

#[test]
fn the_rightmost_untrusted_hop_is_the_client() {
    let p = proxies(&["127.0.0.2", "10.0.0.0/8"]);
    let xff = |v| client(&p, "127.0.0.2", &[("x-forwarded-for", v)]);
    assert_eq!(xff("198.51.100.7"), ip("198.51.100.7"));
    // The forged left part is ignored; the inner proxy is skipped.
    assert_eq!(xff("6.6.6.6, 198.51.100.7, 10.1.2.3"), ip("198.51.100.7"));
    assert_eq!(xff("198.51.100.7:5123"), ip("198.51.100.7"));
    assert_eq!(xff("[2001:db8::1]:5123"), ip("2001:db8::1"));
    assert_eq!(xff("2001:db8::1"), ip("2001:db8::1"));
    // All hops trusted: the first one.
    assert_eq!(xff("10.0.0.1, 10.0.0.2"), ip("10.0.0.1"));
    // A repeated header line continues the list.
    assert_eq!(
        client(
            &p,
            "127.0.0.2",
            &[
                ("x-forwarded-for", "6.6.6.6"),
                ("x-forwarded-for", "198.51.100.8")
            ]
        ),
        ip("198.51.100.8")
    );
}

#[test]
fn forwarded_for_reads_quoted_ipv6_with_ports_and_other_parameters() {
    let p = proxies(&["127.0.0.2"]);
    let fwd = |v| client(&p, "127.0.0.2", &[("forwarded", v)]);
    assert_eq!(
        fwd("for=192.0.2.60;proto=https;by=203.0.113.43"),
        ip("192.0.2.60")
    );
    assert_eq!(
        fwd("For=\"[2001:db8:cafe::17]:4711\""),
        ip("2001:db8:cafe::17")
    );
    assert_eq!(fwd("for=\"[2001:db8:cafe::17]\""), ip("2001:db8:cafe::17"));
    assert_eq!(fwd("for=\"192.0.2.43:47011\""), ip("192.0.2.43"));
    assert_eq!(fwd("for=6.6.6.6, for=192.0.2.43"), ip("192.0.2.43"));
    // A quoted comma or semicolon does not split an element.
    assert_eq!(fwd("proto=\"a,b;c\";for=192.0.2.44"), ip("192.0.2.44"));
}

#[test]
fn malformed_missing_or_conflicting_headers_mean_the_proxy_itself() {
    let p = proxies(&["127.0.0.2"]);
    let proxy = ip("127.0.0.2");
    for headers in [
        vec![],
        vec![("x-forwarded-for", "")],
        vec![("x-forwarded-for", "not-an-address")],
        vec![("x-forwarded-for", "198.51.100.7, junk")],
        vec![("forwarded", "for=unknown")],
        vec![("forwarded", "for=_hidden")],
        vec![("forwarded", "for=\"[2001:db8::1]:47")],
        vec![("forwarded", "proto=https")],
        vec![("forwarded", "for=192.0.2.1, proto=https")],
        // Two headers naming different clients: one was passed through.
        vec![
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=192.0.2.1"),
        ],
    ] {
        assert_eq!(client(&p, "127.0.0.2", &headers), proxy, "{headers:?}");
    }
    let long = vec!["198.51.100.7"; MAX_HOPS + 1].join(",");
    assert_eq!(
        client(&p, "127.0.0.2", &[("x-forwarded-for", &long)]),
        proxy
    );
    assert_eq!(
        client(
            &p,
            "127.0.0.2",
            &[
                ("x-forwarded-for", "198.51.100.7"),
                ("forwarded", "for=198.51.100.7")
            ]
        ),
        ip("198.51.100.7"),
        "two headers that agree"
    );
}

#[test]
fn an_ipv4_mapped_peer_is_its_ipv4_address() {
    let p = proxies(&["127.0.0.2"]);
    assert_eq!(
        client(
            &p,
            "[::ffff:127.0.0.2]",
            &[("x-forwarded-for", "198.51.100.7")]
        ),
        ip("198.51.100.7")
    );
}
