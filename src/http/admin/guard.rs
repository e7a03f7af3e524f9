//! What the admin listener checks before any route, because a browser on the
//! operator's machine can reach it: the `Host` must be an IP literal or a
//! configured name (a DNS-rebinding page names its own domain); a write must
//! come from no other site (`Sec-Fetch-Site`, `Origin`, `Referer`) and, when
//! no admin token is configured (the token is what a page cannot send), under
//! `/api/` carry a body type a cross-site form cannot send (JSON, or CSV for
//! the stock import). Every answer forbids framing and inline scripts.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::{ApiError, AppState};

/// The page's policy: its own inline style, forms posted to itself, nothing else.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(super) async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let tokenless = app.admin_token.is_none();
    let refused = refusal(
        &app.admin_hosts,
        tokenless,
        req.method(),
        req.uri().path(),
        req.headers(),
    );
    let mut response = match refused {
        Some(refused) => refused.into_response(),
        None => next.run(req).await,
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Why a request is refused before routing, if it is.
pub(super) fn refusal(
    hosts: &[String],
    tokenless: bool,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<ApiError> {
    let host = headers.get(header::HOST).map(|h| h.to_str().unwrap_or(""));
    if let Some(host) = host
        && !host_allowed(host, hosts)
    {
        return Some(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown_host",
            "this listener answers to its IP address or the names in daemon.admin_hosts",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > crate::inventory_import::MAX_IMPORT_BYTES as u64) {
        return Some(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "bodies are limited to {} bytes",
                crate::inventory_import::MAX_IMPORT_BYTES
            ),
        ));
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if cross_site(headers, host.unwrap_or("")) {
        return Some(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site",
            "writes are not accepted from another site",
        ));
    }
    if tokenless && path.starts_with("/api/") && !body_type_allowed(path, headers) {
        return Some(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json (text/csv for /api/v1/stock/import)",
        ));
    }
    None
}

/// `Host` without its port: an IP literal, or one of `hosts`.
fn host_allowed(host: &str, hosts: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    if name.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    hosts.contains(&name)
}

/// A browser says where a request comes from: `Sec-Fetch-Site` (modern),
/// `Origin` (every cross-origin write), `Referer` (older ones).
fn cross_site(headers: &HeaderMap, host: &str) -> bool {
    let get = |name| {
        headers
            .get(name)
            .map(|v: &HeaderValue| v.to_str().unwrap_or("?"))
    };
    if let Some(site) = get(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    let origin_host = |url: &str| {
        url.strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .map(|rest| rest.split('/').next().unwrap_or("").to_string())
    };
    if let Some(origin) = get(header::ORIGIN) {
        return origin_host(origin).is_none_or(|o| host.is_empty() || o != host);
    }
    if let Some(referer) = get(header::REFERER) {
        return origin_host(referer).is_none_or(|o| host.is_empty() || o != host);
    }
    false
}

fn body_type_allowed(path: &str, headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let essence = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || (essence == "text/csv" && path == "/api/v1/stock/import")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn refused(method: Method, path: &str, pairs: &[(&'static str, &str)]) -> Option<&'static str> {
        refusal(&["localhost".into()], true, &method, path, &headers(pairs)).map(|e| e.code)
    }

    #[test]
    fn hosts_are_ip_literals_or_configured_names() {
        let ok = |h| refused(Method::GET, "/", &[("host", h)]);
        assert_eq!(ok("127.0.0.1:8081"), None);
        assert_eq!(ok("[::1]:8081"), None);
        assert_eq!(ok("LOCALHOST:8081"), None);
        assert_eq!(ok("localhost."), None);
        assert_eq!(ok("attacker.example:8081"), Some("unknown_host"));
        assert_eq!(ok("localhost.attacker.example"), Some("unknown_host"));
    }

    #[test]
    fn writes_from_another_site_are_refused() {
        let json = ("content-type", "application/json");
        let host = ("host", "127.0.0.1:8081");
        let post = |extra: (&'static str, &str)| {
            refused(Method::POST, "/api/v1/orders", &[json, host, extra])
        };
        assert_eq!(post(("sec-fetch-site", "cross-site")), Some("cross_site"));
        assert_eq!(post(("sec-fetch-site", "same-site")), Some("cross_site"));
        assert_eq!(post(("sec-fetch-site", "same-origin")), None);
        assert_eq!(post(("origin", "http://evil.example")), Some("cross_site"));
        assert_eq!(post(("origin", "null")), Some("cross_site"));
        assert_eq!(post(("origin", "http://127.0.0.1:8081")), None);
        assert_eq!(
            post(("referer", "http://evil.example/x")),
            Some("cross_site")
        );
        assert_eq!(post(("referer", "http://127.0.0.1:8081/")), None);
        assert_eq!(post(("user-agent", "curl")), None);
    }

    #[test]
    fn api_writes_need_a_type_no_form_can_send() {
        let host = ("host", "127.0.0.1:8081");
        let post = |path, ct| refused(Method::POST, path, &[host, ("content-type", ct)]);
        assert_eq!(
            post("/api/v1/orders", "text/plain"),
            Some("unsupported_media_type")
        );
        assert_eq!(
            post("/api/v1/orders", "application/x-www-form-urlencoded"),
            Some("unsupported_media_type")
        );
        assert_eq!(
            post("/api/v1/orders", "application/json; charset=utf-8"),
            None
        );
        assert_eq!(
            post("/api/v1/stock/import", "text/csv; charset=shift_jis"),
            None
        );
        assert_eq!(
            post("/api/v1/orders", "text/csv"),
            Some("unsupported_media_type")
        );
        assert_eq!(
            refused(Method::POST, "/api/v1/x/cancel", &[host]),
            Some("unsupported_media_type")
        );
        // The status page's form keeps its own token and origin checks.
        assert_eq!(
            post("/outbox/1/retry", "application/x-www-form-urlencoded"),
            None
        );
        // With a token, a page cannot authenticate: the type is the client's choice.
        let with_token = refusal(
            &[],
            false,
            &Method::POST,
            "/api/v1/x/cancel",
            &headers(&[host]),
        );
        assert_eq!(with_token.map(|e| e.code), None);
    }
}
