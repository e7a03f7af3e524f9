//! The client's address behind a trusted reverse proxy (`[daemon]
//! trusted_proxies`).
//!
//! Behind the TLS proxy the README recommends, every TCP peer is the proxy.
//! When (and only when) the peer is a listed proxy, the client is read from
//! `X-Forwarded-For` or `Forwarded: for=` (RFC 7239): the rightmost address
//! that is not itself a listed proxy, since everything left of it was written
//! by whoever the last untrusted hop was and may be forged. From any other
//! peer these headers are ignored: an attacker writing an allowed address
//! into them gains nothing.
//!
//! A trusted proxy's request whose header is missing, malformed, names no
//! address (`unknown`, an obfuscated `_node`), or whose two headers disagree
//! is the proxy's own address. That fails closed: the proxy is not a
//! webhook sender, so the allow-list refuses it, and the per-client limits
//! count every such request in the proxy's one bucket.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Entries of a forwarding chain looked at, at most: a longer chain (the
/// head is already bounded at 64 KiB) is treated as malformed.
pub const MAX_HOPS: usize = 32;

/// Where a request came from: the TCP peer and the client it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    /// The address connected to the listener.
    pub peer: SocketAddr,
    /// The client: the peer itself, or the address a trusted proxy forwarded.
    pub client: IpAddr,
}

impl Source {
    /// The proxy's address when the client is another host behind it.
    pub fn via(&self) -> Option<IpAddr> {
        (self.client != self.peer.ip()).then_some(self.peer.ip())
    }
}

/// The listed proxies (`[daemon] trusted_proxies`); empty means none.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(std::sync::Arc<[IpNet]>);

impl TrustedProxies {
    /// The proxies in `nets` (addresses and networks).
    pub fn new(nets: Vec<IpNet>) -> Self {
        TrustedProxies(nets.into())
    }

    /// Whether `ip` is a listed proxy (an IPv4-mapped IPv6 peer counts as its
    /// IPv4 address, as a dual-stack listener reports it).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer` with `headers`.
    pub fn source(&self, peer: SocketAddr, headers: &HeaderMap) -> Source {
        let client = if self.trusts(peer.ip()) {
            self.forwarded_client(headers).unwrap_or(peer.ip())
        } else {
            peer.ip()
        };
        Source { peer, client }
    }

    /// The client named by the headers, `None` when they do not name one
    /// (see the module's comment: the caller then uses the proxy's address).
    fn forwarded_client(&self, headers: &HeaderMap) -> Option<IpAddr> {
        let xff = joined(headers, "x-forwarded-for");
        let fwd = joined(headers, "forwarded");
        let from_xff = xff.as_deref().map(|v| self.rightmost(xff_hops(v)));
        let from_fwd = fwd.as_deref().map(|v| self.rightmost(forwarded_hops(v)));
        match (from_xff, from_fwd) {
            (Some(a), Some(b)) if a == b => a,
            // One header passed through unchanged from the client and the
            // other written by the proxy: which is which is unknown.
            (Some(_), Some(_)) => None,
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => None,
        }
    }

    /// The rightmost hop that is not a listed proxy (the leftmost when all
    /// are); `None` when a hop on the way is not an address.
    fn rightmost(&self, hops: Option<Vec<Option<IpAddr>>>) -> Option<IpAddr> {
        let hops = hops.filter(|h| !h.is_empty() && h.len() <= MAX_HOPS)?;
        let mut client = None;
        for hop in hops.into_iter().rev() {
            let ip = hop?.to_canonical();
            client = Some(ip);
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// Every line of header `name`, joined with commas (how repeated lines of a
/// list header combine); `None` when absent or not text.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut lines = headers.get_all(name).iter().peekable();
    lines.peek()?;
    let texts: Option<Vec<&str>> = lines.map(|v| v.to_str().ok()).collect();
    Some(texts?.join(","))
}

/// `X-Forwarded-For: 203.0.113.7, 10.0.0.1`: each hop an address, some
/// proxies adding a port (`203.0.113.7:5123`, `[2001:db8::1]:5123`).
fn xff_hops(value: &str) -> Option<Vec<Option<IpAddr>>> {
    Some(value.split(',').map(|hop| node(hop.trim())).collect())
}

/// `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`: the
/// `for` of each element (an element without one is no address).
fn forwarded_hops(value: &str) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for element in split_unquoted(value, ',')? {
        let mut hop = None;
        for pair in split_unquoted(element, ';')? {
            let Some((key, v)) = pair.split_once('=') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("for") {
                hop = node(unquote(v.trim())?);
            }
        }
        hops.push(hop);
    }
    Some(hops)
}

/// A node as both headers write it: an address, with or without a port, an
/// IPv6 one in brackets when it has one. `unknown` and obfuscated names are
/// no address.
fn node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// The value of a `token` or `"quoted-string"` (RFC 7230); `None` when a
/// quote is left open.
fn unquote(v: &str) -> Option<&str> {
    match v.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"'),
        None => Some(v),
    }
}

/// `text` split at `sep` outside double quotes; `None` for an unclosed quote.
fn split_unquoted(text: &str, sep: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(text[start..i].trim());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if quoted {
        return None;
    }
    parts.push(text[start..].trim());
    Some(parts)
}

#[cfg(test)]
mod tests;
