//! What every provider client shares about HTTP: the one `reqwest` builder
//! and the checks made before anything is sent.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};

use crate::call::CallError;
pub use crate::call::HttpLimits as Limits;

/// The HTTP client of a provider: `limits.timeout` for the whole request (the
/// connection within at most 10 s of it), the `ordersync/<version>` user
/// agent, and **no redirects**: every request carries a credential (a bearer
/// token, a key, a password in the form), and a redirect would mean a wrong
/// base URL, never a reason to send it elsewhere. (Atobarai.com follows its
/// own by hand, to the same host.)
pub fn build(limits: Limits) -> Result<reqwest::Client, CallError> {
    let timeout = limits.timeout;
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ordersync/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CallError::transient(format!("cannot build the HTTP client: {e}")))
}

/// `code` of the configuration problem raised when a provider redirects a
/// call to another origin (scheme, host or port): nothing is sent there.
pub const REDIRECT_ELSEWHERE: &str = "REDIRECT_ELSEWHERE";

/// Where a provider's redirect from `from` may be followed: the `Location`
/// resolved against `from`, only when it keeps the origin (scheme, host and
/// port) of the URL configured under `key`. Anything else is a configuration
/// problem naming `key`, and nothing is sent there: every call carries a
/// credential or a buyer's data, and a base URL that points elsewhere is for a
/// person to correct, never for the daemon to follow. A missing or unreadable
/// `Location` is transient (a proxy mid-change).
pub fn redirect_target(
    key: &str,
    from: &Url,
    status: StatusCode,
    location: Option<&HeaderValue>,
) -> Result<Url, CallError> {
    let target = location
        .and_then(|v| v.to_str().ok())
        .and_then(|l| from.join(l).ok())
        .ok_or_else(|| {
            CallError::transient(format!(
                "{key}: redirected (HTTP {}) without a usable Location",
                status.as_u16()
            ))
        })?;
    if target.origin() == from.origin() {
        return Ok(target);
    }
    // The origin only: a host is a short, checked name; the path and query
    // are the answerer's text.
    let elsewhere = target.origin().ascii_serialization();
    let code = status.as_u16();
    Err(CallError::configuration(
        REDIRECT_ELSEWHERE,
        format!(
            "{key} のURLが別の接続先 {elsewhere} へ転送(HTTP {code})しました。転送先には何も送っていません。{key} を提供元の正しいURLに直してください / \
{key} redirected (HTTP {code}) to another origin, {elsewhere}; nothing was sent there. Set {key} to the provider's right URL"
        ),
    ))
}

/// For the clients that follow no redirect at all: a 3xx answer to a URL
/// configured under `key` is a configuration problem naming `key` (its URL
/// has moved, or points elsewhere: [`REDIRECT_ELSEWHERE`]); anything else
/// passes.
pub fn refuse_redirect(
    key: &str,
    from: &Url,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<(), CallError> {
    if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
        return Ok(());
    }
    // Same origin (else the error is there); its path is the answerer's text.
    redirect_target(key, from, status, headers.get(reqwest::header::LOCATION))?;
    let code = status.as_u16();
    Err(CallError::configuration(
        "REDIRECTED",
        format!(
            "{key} のURLが同じ接続先の別のパスへ転送(HTTP {code})しました。転送には従いません。{key} を提供元の正しいURLに直してください / \
{key} redirected (HTTP {code}) to another path on the same origin, which is not followed. Set {key} to the provider's right URL"
        ),
    ))
}

/// A call refused before it was sent (`http_status` 0): bad input or config.
pub fn not_sent(code: &str, message: impl Into<String>) -> CallError {
    CallError::Rejected {
        http_status: 0,
        code: code.to_string(),
        message: message.into(),
    }
}

/// A configured base URL `name`: http(s), able to be a base, without
/// credentials, query or fragment (`INVALID_CONFIG` otherwise).
pub fn parse_base(name: &str, raw: &str) -> Result<Url, CallError> {
    let invalid = |why: &str| not_sent("INVALID_CONFIG", format!("{name}: {why}"));
    let url = Url::parse(raw.trim()).map_err(|_| invalid("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid("must be an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or a fragment"));
    }
    Ok(url)
}

/// An HTTP answer, read whole (at most a limit's worth).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Reads a sent request's answer, at most `limit` bytes (one of [`Limits`]);
/// a transport failure is transient.
pub async fn read_answer(
    sent: Result<reqwest::Response, reqwest::Error>,
    limit: usize,
) -> Result<Answer, CallError> {
    let response = sent.map_err(CallError::from_transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_body(response, limit).await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Reads an answer's body chunk by chunk, failing as soon as it passes
/// `limit` bytes (or says it will in `Content-Length`): the connection is
/// dropped, never drained, and what was read is freed.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, CallError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(answered_too_much(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(CallError::from_transport)? {
        if body.len() + chunk.len() > limit {
            return Err(answered_too_much(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Transient: a proxy's or a moved endpoint's page may go away, and the
/// retry is bounded like any other; the reason says what happened.
fn answered_too_much(limit: usize) -> CallError {
    let mib = limit / (1024 * 1024);
    CallError::transient(format!(
        "提供元の応答が大きすぎます(上限 {mib} MiB、[daemon] max_provider_answer_mib / max_provider_page_mib)。読むのをやめました / \
the provider answered too much (more than {mib} MiB, [daemon] max_provider_answer_mib / max_provider_page_mib); reading stopped"
    ))
}

#[cfg(test)]
mod answer_size_tests;
#[cfg(test)]
mod redirect_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_before_anything_is_sent() {
        assert!(parse_base("x", " https://api.example.jp/v1/ ").is_ok());
        for bad in [
            "not a url",
            "ftp://example.jp",
            "mailto:a@example.jp",
            "https://user:pw@example.jp",
            "https://example.jp/?a=1",
            "https://example.jp/#f",
        ] {
            match parse_base("api_base_url", bad) {
                Err(CallError::Rejected { code, message, .. }) => {
                    assert_eq!(code, "INVALID_CONFIG");
                    assert!(message.starts_with("api_base_url: "), "{message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn redirects_keep_the_origin_of_the_configured_url() {
        let from = Url::parse("https://api.example.jp/v1/x").unwrap();
        let follow = |l: &str| {
            redirect_target(
                "k.url",
                &from,
                StatusCode::TEMPORARY_REDIRECT,
                Some(&HeaderValue::from_str(l).unwrap()),
            )
        };
        assert_eq!(
            follow("/v2/x").unwrap().as_str(),
            "https://api.example.jp/v2/x"
        );
        for elsewhere in [
            "http://api.example.jp/v1/x",
            "https://api.example.jp:8443/v1/x",
            "https://evil.example/v1/x",
            "//evil.example/v1/x",
        ] {
            match follow(elsewhere) {
                Err(CallError::Configuration { code, fix }) => {
                    assert_eq!(code, REDIRECT_ELSEWHERE);
                    assert!(fix.starts_with("k.url "), "{fix}");
                }
                other => panic!("{elsewhere}: {other:?}"),
            }
        }
    }
}
