//! Reading one section of the config file: [`SectionReader`] locates every
//! error and warning at its key's line (`file:line: key: message`), resolves
//! secrets from their source, and holds the checks every section shares (a
//! URL, a duration, an interval that may be 0 to turn something off).

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use reqwest::Url;

use super::document::Document;
use super::raw::{RawInventory, RawRetry};
use super::secret::{SecretSpec, Sources};
use super::{ConfigError, InventoryConfig, RetryConfig, Secret};

type Result<T> = std::result::Result<T, ConfigError>;

/// Polling a provider more often than this only burns its rate limit.
pub const MIN_POLL: Duration = Duration::from_secs(1);
/// For delays that must merely be positive.
pub const NON_ZERO: Duration = Duration::from_millis(1);

/// `n` minutes.
pub const fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// What every section is read with: errors and warnings located at their
/// key's line, secrets resolved from their source, and the checks values of
/// every section share. The config file builds one and hands it to each
/// section, the provider sections in their channels included.
pub struct SectionReader<'a> {
    doc: &'a Document<'a>,
    file: &'a Path,
    /// Where secrets (and relative paths) are read from.
    pub sources: Sources<'a>,
    /// Refuse at once what would stop the daemon from serving (see
    /// [`build_with`]), not only when it is about to serve.
    strict: bool,
    /// Collected while building, located like errors (see [`Config::warnings`]).
    warnings: RefCell<Vec<String>>,
    /// Why the daemon must not serve as configured (see [`Config::refusals`]).
    refusals: RefCell<Vec<ConfigError>>,
}

impl<'a> SectionReader<'a> {
    /// A reader of the file `file` (its text parsed as `doc`), resolving
    /// secrets from `sources`. With `strict`, what would stop the daemon from
    /// serving is an error at once rather than a refusal kept for later.
    pub fn new(doc: &'a Document<'a>, file: &'a Path, sources: Sources<'a>, strict: bool) -> Self {
        SectionReader {
            doc,
            file,
            sources,
            strict,
            warnings: RefCell::new(Vec::new()),
            refusals: RefCell::new(Vec::new()),
        }
    }

    /// The warnings and refusals collected while reading.
    pub fn findings(self) -> (Vec<String>, Vec<ConfigError>) {
        (self.warnings.into_inner(), self.refusals.into_inner())
    }
}

impl<'a> SectionReader<'a> {
    /// An error at the line of `key` (or of its section when the key is absent).
    pub fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: self.doc.line_of_key(key),
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    /// A warning at the line of `key`, in the same `file:line: key: message` form as errors.
    pub fn warn(&self, key: &str, message: impl Into<String>) {
        let located = self.err(key, message).to_string();
        self.warnings.borrow_mut().push(located);
    }

    /// Locates a syntax or serde error by its byte span.
    pub fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let offset = e.span().map(|s| s.start);
        let mut key = offset.and_then(|o| self.doc.key_at(o));
        let mut message = e.message().to_owned();
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            let field = field.to_owned();
            key = Some(match key {
                Some(parent) => format!("{parent}.{field}"),
                None => field,
            });
            message = "required key is missing".to_owned();
        }
        // serde names our internal types ("expected struct RawJgoods"); say what the file
        // needs instead.
        if let Some(at) = message.find(", expected struct ") {
            if message.starts_with("invalid length") {
                message = "invalid type: array, expected a table".to_owned();
            } else {
                message.truncate(at);
                message.push_str(", expected a table");
            }
        }
        if message.ends_with("expected a duration") {
            message.push_str(" such as \"90s\", \"10m\" or \"3d\"");
        }
        ConfigError {
            file: self.file.to_path_buf(),
            line: offset.map(|o| self.doc.line_of(o)),
            key,
            message,
        }
    }

    pub fn required<T>(&self, key: &str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| {
            let section = key.split('.').next().unwrap_or(key);
            self.err(key, format!("required key is missing from [{section}]"))
        })
    }

    pub fn required_text(&self, key: &str, value: Option<String>) -> Result<String> {
        let value = self.required(key, value)?;
        if value.trim().is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        Ok(value)
    }

    /// The secret at `key`. One that cannot be read is kept as unreadable;
    /// when its section is `needed` (enabled), the daemon will refuse to serve
    /// (in strict mode: the error is returned at once).
    pub fn secret(&self, key: &str, spec: Option<SecretSpec>, needed: bool) -> Result<Secret> {
        let secret = self
            .required(key, spec)?
            .resolve(&self.sources)
            .map_err(|message| self.err(key, message))?;
        if let Some(reason) = secret.unreadable()
            && needed
        {
            self.refuse(self.err(key, format!("cannot be read: {reason}")))?;
        }
        Ok(secret)
    }

    /// Keeps `e` for `Config::check_serving`; returns it in strict mode.
    pub fn refuse(&self, e: ConfigError) -> Result<()> {
        if self.strict {
            return Err(e);
        }
        self.refusals.borrow_mut().push(e);
        Ok(())
    }

    /// A base URL that paths get appended to: http(s), a host, no query, fragment or
    /// credentials; the trailing `/` is dropped so `{base}/path` has one slash.
    pub fn base_url(&self, key: &str, value: Option<String>, default: &str) -> Result<String> {
        let value = self.url(key, value, default)?;
        Ok(value.trim_end_matches('/').to_owned())
    }

    /// A URL called as is (the token endpoint): http(s), a host, no credentials.
    pub fn url(&self, key: &str, value: Option<String>, default: &str) -> Result<String> {
        let text = value.unwrap_or_else(|| default.to_owned());
        let url = Url::parse(&text).map_err(|e| self.err(key, format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.err(key, "must be an http:// or https:// URL"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(self.err(key, "the URL has no host"));
        }
        // Credentials in a URL end up in logs and error messages.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(self.err(key, "must not contain a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(self.err(key, "must not contain a query (`?`) or fragment (`#`)"));
        }
        Ok(text)
    }

    pub fn duration(
        &self,
        key: &str,
        value: Option<Duration>,
        default: Duration,
        at_least: Duration,
    ) -> Result<Duration> {
        let value = value.unwrap_or(default);
        if value < at_least {
            let message = if at_least == NON_ZERO {
                "must be longer than 0s".to_owned()
            } else {
                format!("must be at least {}", humantime::format_duration(at_least))
            };
            return Err(self.err(key, message));
        }
        Ok(value)
    }

    pub fn retry(&self, raw: Option<RawRetry>) -> Result<RetryConfig> {
        let d = RetryConfig::default();
        let Some(raw) = raw else { return Ok(d) };
        let initial_delay = self.duration(
            "retry.initial_delay",
            raw.initial_delay,
            d.initial_delay,
            NON_ZERO,
        )?;
        let max_delay = self.duration("retry.max_delay", raw.max_delay, d.max_delay, NON_ZERO)?;
        if max_delay < initial_delay {
            return Err(self.err(
                "retry.max_delay",
                format!(
                    "must not be shorter than retry.initial_delay ({})",
                    humantime::format_duration(initial_delay)
                ),
            ));
        }
        let give_up_after = self.duration(
            "retry.give_up_after",
            raw.give_up_after,
            d.give_up_after,
            NON_ZERO,
        )?;
        Ok(RetryConfig {
            initial_delay,
            max_delay,
            give_up_after,
        })
    }

    /// A stock push interval: at least 1 s, or 0 s for no push.
    pub fn push_interval(
        &self,
        key: &str,
        value: Option<Duration>,
        default: Duration,
    ) -> Result<Duration> {
        let value = value.unwrap_or(default);
        if !value.is_zero() && value < MIN_POLL {
            return Err(self.err(key, "must be at least 1s, or 0s to turn it off"));
        }
        Ok(value)
    }

    /// A count that must be at least 1.
    pub fn at_least_one(&self, key: &str, value: Option<u32>, default: u32) -> Result<u32> {
        match value.unwrap_or(default) {
            0 => Err(self.err(key, "must be at least 1")),
            n => Ok(n),
        }
    }
}

pub fn inventory(raw: Option<RawInventory>) -> InventoryConfig {
    let d = InventoryConfig::default();
    match raw {
        None => d,
        Some(raw) => InventoryConfig {
            safety_stock: raw.safety_stock.unwrap_or(d.safety_stock),
            release_on_credit_ng: raw.release_on_credit_ng.unwrap_or(d.release_on_credit_ng),
        },
    }
}

/// Two listeners collide when they would bind the same port on an overlapping address.
/// Port 0 (pick any free port, used by tests) never collides.
pub fn conflicts(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port()
        && a.port() != 0
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// `203.0.113.0/24`, or a bare address meaning that one host.
pub fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>().ok().map(ipnet::IpNet::from)
}

/// `YYYY-MM-DD` in shape (KOMOJU validates the date itself).
pub fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}
