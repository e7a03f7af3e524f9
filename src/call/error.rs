//! How an outbound provider call failed, as the dispatcher needs to know it.

use std::time::Duration;

/// How an outbound provider call failed, as the dispatcher needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Worth retrying later: connection errors, timeouts, 429, 5xx, expired tokens.
    #[error("transient: {reason}")]
    Transient {
        reason: String,
        /// The provider's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The provider refused the call for good (a 4xx with an error code).
    #[error("rejected ({http_status} {code}): {message}")]
    Rejected {
        http_status: u16,
        code: String,
        message: String,
    },
    /// The provider refuses this installation, not this call: a wrong or
    /// expired key, a server address it has not registered, a bad client
    /// secret. Every call would fail the same way until a person changes the
    /// config, so it is neither retried in a loop nor given up (see
    /// [`crate::problems`]). `fix` is what the merchant reads: Japanese first.
    #[error("configuration refused ({code}): {fix}")]
    Configuration { code: String, fix: String },
}

/// A secret the call needs could not be read: no call can be made until a
/// person sets it, like a refused key.
impl From<crate::config::SecretUnreadable> for CallError {
    fn from(e: crate::config::SecretUnreadable) -> Self {
        CallError::Configuration {
            code: "SECRET_UNREADABLE".to_owned(),
            fix: format!("秘密情報を読めません。設定してください / {e}"),
        }
    }
}

/// The store failing under a provider call: retried like a transient failure
/// (the disk or the writer is busy, not the provider).
impl From<crate::store::StoreError> for CallError {
    fn from(e: crate::store::StoreError) -> Self {
        CallError::transient(format!("store: {e}"))
    }
}

impl CallError {
    pub fn transient(reason: impl Into<String>) -> Self {
        CallError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn configuration(code: impl Into<String>, fix: impl Into<String>) -> Self {
        CallError::Configuration {
            code: code.into(),
            fix: fix.into(),
        }
    }

    /// Classifies a reqwest transport error, naming the host it could not
    /// reach (host and port only: a path or query may carry an id or a key).
    pub fn from_transport(e: reqwest::Error) -> Self {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_decode() || e.is_body() {
            "unreadable response body"
        } else {
            "request failed"
        };
        let host = e.url().and_then(|u| {
            let host = u.host_str()?;
            Some(match u.port_or_known_default() {
                Some(port) => format!(" to {host}:{port}"),
                None => format!(" to {host}"),
            })
        });
        let host = host.unwrap_or_default();
        CallError::transient(format!("{what}{host}: {}", e.without_url()))
    }
}

/// Parses a `Retry-After` header given in seconds (the only form providers here use).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(24 * 3600)))
}

/// Counted in the call metrics under the provider's code for a refusal, and
/// `transient` for the rest.
impl crate::metrics::FailureCode for CallError {
    fn failure_code(&self) -> &str {
        match self {
            CallError::Transient { .. } => "transient",
            CallError::Rejected { code, .. } | CallError::Configuration { code, .. } => code,
        }
    }
}

#[cfg(test)]
mod tests {
    /// A refused connection names the host and port it tried, never the
    /// path or query.
    #[tokio::test]
    async fn a_connection_failure_names_the_host_it_could_not_reach() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let e = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/orders/SECRET?key=k"))
            .send()
            .await
            .unwrap_err();
        let shown = super::CallError::from_transport(e).to_string();
        assert!(
            shown.contains(&format!("connection failed to 127.0.0.1:{port}")),
            "{shown}"
        );
        assert!(
            !shown.contains("SECRET") && !shown.contains("key="),
            "{shown}"
        );
    }
}
