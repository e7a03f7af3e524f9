//! Secrets and where they come from.
//!
//! In the file a secret is a plain string (inline) or a table naming its source:
//! `{ env = "NAME" }`, `{ file = "/path" }` or `{ credential = "name" }` (systemd
//! `LoadCredential=`; outside systemd the file of that name in the credentials
//! directory, `/etc/ordersync/credentials` by default). Sources are read once, at load. A
//! secret that cannot be read is kept as unreadable, with the reason: commands that never
//! use it (`stock list`, `orders …`, `status`, `backup`) run without it, and whoever uses
//! it (the daemon, at start, for every enabled section) refuses with the reason, located
//! at its key. The value never appears in `Debug`, errors or `check-config` output; only
//! its source does.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;

/// The environment variable systemd sets to the directory of `LoadCredential=` files.
const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// A resolved secret plus where it came from, so it can be named without being shown.
///
/// `Debug` prints `Secret(<redacted: env NAME>)`; serializing (as `check-config` does) writes
/// the string `<redacted: env NAME>`. Use [`Secret::expose`] only where the value goes on the
/// wire.
#[derive(Clone)]
pub struct Secret {
    /// The value, or why it could not be read.
    value: Result<SecretString, String>,
    source: Source,
}

/// A secret was used that could not be read at load (the reason says why:
/// a variable not set, a file missing, an empty credential).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("secret {from} could not be read: {reason}")]
pub struct SecretUnreadable {
    /// [`Secret::source_description`].
    pub from: String,
    /// What went wrong, without the value.
    pub reason: String,
}

/// Where a secret's value was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Inline,
    Env(String),
    File(PathBuf),
    Credential(String),
}

impl Secret {
    /// The secret's value, for building a request header or a signature.
    pub fn expose(&self) -> Result<&str, SecretUnreadable> {
        Ok(self.value()?.expose_secret())
    }

    /// The value still wrapped, for APIs that take a [`SecretString`].
    pub fn value(&self) -> Result<&SecretString, SecretUnreadable> {
        self.value.as_ref().map_err(|reason| SecretUnreadable {
            from: self.source_description(),
            reason: reason.clone(),
        })
    }

    /// The name of a `{ credential = "name" }` source.
    pub fn credential_name(&self) -> Option<&str> {
        match &self.source {
            Source::Credential(name) => Some(name),
            _ => None,
        }
    }

    /// Why the value could not be read, `None` when it was.
    pub fn unreadable(&self) -> Option<&str> {
        self.value.as_ref().err().map(String::as_str)
    }

    /// Where the value came from, safe to print: `env JGOODS_CLIENT_SECRET`,
    /// `file /etc/ordersync/admin.token`, `credential jgoods-webhook-secret` or `inline`.
    /// Written in the file itself rather than read from a source.
    pub fn is_inline(&self) -> bool {
        matches!(self.source, Source::Inline)
    }

    pub fn source_description(&self) -> String {
        match &self.source {
            Source::Inline => "inline".to_owned(),
            Source::Env(name) => format!("env {name}"),
            Source::File(path) => format!("file {}", path.display()),
            Source::Credential(name) => format!("credential {name}"),
        }
    }

    /// An inline secret built in code, for tests, the demo and the simulators, which have no
    /// config file.
    pub fn inline_for_tests(s: &str) -> Secret {
        Secret {
            value: Ok(SecretString::from(s)),
            source: Source::Inline,
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted: {}>)", self.source_description())
    }
}

/// Equal when both the source and the value match (so a reload can tell a rotated secret);
/// the values are compared in constant time. Two unreadable secrets are equal when their
/// sources and reasons are.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        let same_value = match (&self.value, &other.value) {
            (Ok(a), Ok(b)) => a
                .expose_secret()
                .as_bytes()
                .ct_eq(b.expose_secret().as_bytes())
                .into(),
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        self.source == other.source && same_value
    }
}

impl Eq for Secret {}

/// Writes only the redaction marker, so serializing a config can never leak a secret.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("<redacted: {}>", self.source_description()))
    }
}

/// A secret as written in the file, before its source is read.
pub enum SecretSpec {
    Inline(SecretString),
    Env(String),
    File(PathBuf),
    Credential(String),
}

const SOURCE_KEYS: &[&str] = &["env", "file", "credential"];
const EXPECTING: &str =
    "a string, or one of { env = \"NAME\" }, { file = \"/path\" }, { credential = \"name\" }";

impl<'de> Deserialize<'de> for SecretSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SpecVisitor)
    }
}

struct SpecVisitor;

/// Every non-string, non-table input is refused without echoing it: serde's usual
/// "invalid type: integer `1234`" would print a mistyped secret.
fn wrong_type<E: de::Error>() -> E {
    E::custom(format!("a secret must be {EXPECTING}"))
}

impl<'de> Visitor<'de> for SpecVisitor {
    type Value = SecretSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretSpec, E> {
        Ok(SecretSpec::Inline(SecretString::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<SecretSpec, E> {
        Ok(SecretSpec::Inline(SecretString::from(v)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretSpec, E> {
        Err(wrong_type())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretSpec, E> {
        Err(wrong_type())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretSpec, E> {
        Err(wrong_type())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretSpec, E> {
        Err(wrong_type())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<SecretSpec, A::Error> {
        Err(wrong_type())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretSpec, A::Error> {
        let mut spec = None;
        while let Some(key) = map.next_key::<String>()? {
            if !SOURCE_KEYS.contains(&key.as_str()) {
                // TOML datetimes arrive as a private one-key map; say what a secret is
                // rather than naming that key.
                if key.starts_with("$__") {
                    return Err(wrong_type());
                }
                return Err(de::Error::unknown_field(&key, SOURCE_KEYS));
            }
            let value: String = map.next_value()?;
            if spec.is_some() {
                return Err(de::Error::custom(
                    "give exactly one of `env`, `file` or `credential`",
                ));
            }
            spec = Some(match key.as_str() {
                "env" => SecretSpec::Env(value),
                "file" => SecretSpec::File(PathBuf::from(value)),
                _ => SecretSpec::Credential(value),
            });
        }
        spec.ok_or_else(|| de::Error::custom("give one of `env`, `file` or `credential`"))
    }
}

/// The process environment, behind a trait so tests can resolve `env` and `credential`
/// sources without mutating the real (process-global) environment.
pub trait Environment {
    fn var_os(&self, name: &str) -> Option<OsString>;
}

/// The real environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var_os(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
}

/// Where the sources of a file's secrets are looked up.
pub struct Sources<'a> {
    pub env: &'a dyn Environment,
    /// Anchors a relative `file` path (the config file's directory).
    pub base_dir: &'a Path,
    /// `{ credential = "x" }` outside systemd (no `CREDENTIALS_DIRECTORY`):
    /// the file `x` here.
    pub credentials_dir: &'a Path,
}

impl SecretSpec {
    /// Reads the secret from its source. A source that cannot name anything (an invalid
    /// variable or credential name) is an error; one that names something absent or empty
    /// gives an unreadable [`Secret`] holding the reason. No message contains the value.
    pub fn resolve(self, from: &Sources<'_>) -> Result<Secret, String> {
        let (value, source) = match self {
            SecretSpec::Inline(value) => (Ok(value), Source::Inline),
            SecretSpec::Env(name) => {
                if name.is_empty() || name.contains(['=', '\0']) {
                    return Err(format!("`{name}` is not a valid environment variable name"));
                }
                (read_env(from.env, &name), Source::Env(name))
            }
            SecretSpec::File(path) => {
                let path = from.base_dir.join(path);
                (read_file(&path, "secret file"), Source::File(path))
            }
            SecretSpec::Credential(name) => {
                if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
                    return Err(format!("`{name}` is not a valid credential name"));
                }
                (read_credential(from, &name), Source::Credential(name))
            }
        };
        let value = match value {
            Ok(v) if v.expose_secret().is_empty() => Err(match &source {
                // An empty inline value is a mistake in the file, not an absent source.
                Source::Inline => return Err("the value is empty".to_owned()),
                Source::Env(name) => format!("environment variable {name} is empty"),
                Source::File(path) => format!("secret file {} is empty", path.display()),
                Source::Credential(name) => match from.env.var_os(CREDENTIALS_DIRECTORY) {
                    Some(_) => format!(
                        "credential {name} is empty: write the secret into the file of the \
                         unit's LoadCredential={name}:… line, then restart / 秘密情報が空です"
                    ),
                    None => format!(
                        "credential {name} is empty: write the secret into {} / 秘密情報が空です",
                        from.credentials_dir.join(name).display()
                    ),
                },
            }),
            other => other,
        };
        Ok(Secret { value, source })
    }
}

fn read_env(env: &dyn Environment, name: &str) -> Result<SecretString, String> {
    let value = env
        .var_os(name)
        .ok_or_else(|| format!("environment variable {name} is not set"))?;
    let value = value
        .into_string()
        .map_err(|_| format!("environment variable {name} is not valid UTF-8"))?;
    Ok(SecretString::from(value))
}

/// Reads a secret file, dropping the trailing newline editors and `echo` add.
fn read_file(path: &Path, what: &str) -> Result<SecretString, String> {
    let mut text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    let kept = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(kept);
    Ok(SecretString::from(text))
}

/// Under systemd, the credential systemd copied for the unit; from a shell,
/// the file of that name in the credentials directory.
fn read_credential(from: &Sources<'_>, name: &str) -> Result<SecretString, String> {
    match from.env.var_os(CREDENTIALS_DIRECTORY) {
        Some(dir) => read_file(&PathBuf::from(dir).join(name), "credential")
            .map_err(|e| format!("{e} (the unit needs `LoadCredential={name}:/path`)")),
        None => read_file(&from.credentials_dir.join(name), "credential").map_err(|e| {
            format!(
                "{e} ({CREDENTIALS_DIRECTORY} is not set, so the credentials directory is read; \
                 another one is given with --credentials-dir)"
            )
        }),
    }
}
