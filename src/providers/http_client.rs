//! What every provider client shares about HTTP: the one `reqwest` builder
//! and the checks made before anything is sent.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};

use crate::call::CallError;

/// The HTTP client of a provider: `timeout` for the whole request (the
/// connection within at most 10 s of it), the `ordersync/<version>` user
/// agent, and **no redirects**: every request carries a credential (a bearer
/// token, a key, a password in the form), and a redirect would mean a wrong
/// base URL, never a reason to send it elsewhere. (Atobarai.com follows its
/// own by hand, to the same host.)
pub fn build(timeout: Duration) -> Result<reqwest::Client, CallError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ordersync/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CallError::transient(format!("cannot build the HTTP client: {e}")))
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

/// An HTTP answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Reads a sent request's answer whole; a transport failure is transient.
pub async fn read_answer(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Answer, CallError> {
    let response = sent.map_err(CallError::from_transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(CallError::from_transport)?
        .to_vec();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

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
}
