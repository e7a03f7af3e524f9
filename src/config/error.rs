//! The one error type of config loading, shaped like a compiler diagnostic so an editor or a
//! person can jump straight to the offending line.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a config could not be loaded, and where.
///
/// Displays as `{file}:{line}: {key}: {message}`, leaving out the parts that are unknown, e.g.
///
/// ```text
/// /etc/ordersync/config.toml:14: jgoods.webhook_auth: unknown variant `hmak`, expected `hmac` or `bearer`
/// ```
///
/// The message never contains a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Location::of(.file, .line, .key, .message))]
pub struct ConfigError {
    /// The config file the error is in.
    pub file: PathBuf,
    /// 1-based line of the offending key (or of its section when the key is missing).
    pub line: Option<usize>,
    /// Dotted key path, e.g. `jgoods.webhook_secret` or `atobarai_com.fee_bands[1].max`.
    pub key: Option<String>,
    /// What is wrong, in words a merchant can act on.
    pub message: String,
}

impl ConfigError {
    /// An error about the file as a whole (unreadable, say).
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            line: None,
            key: None,
            message: message.into(),
        }
    }
}

/// Renders the parts of a [`ConfigError`], skipping the missing ones.
struct Location<'a> {
    file: &'a Path,
    line: Option<usize>,
    key: Option<&'a str>,
    text: &'a str,
}

impl<'a> Location<'a> {
    fn of(file: &'a Path, line: &Option<usize>, key: &'a Option<String>, text: &'a str) -> Self {
        Self {
            file,
            line: *line,
            key: key.as_deref(),
            text,
        }
    }
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.text)
    }
}
