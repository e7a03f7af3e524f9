//! `[daemon] language`: the console's language.

use serde::{Deserialize, Serialize};

/// The language of the console's pages (Japanese first everywhere else).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Ja,
    En,
}

impl Language {
    /// The locale's language when the config says none: English for an
    /// `en…` locale (`LC_ALL`, else `LC_MESSAGES`, else `LANG`), Japanese
    /// otherwise.
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Language {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| var(v).filter(|s| !s.is_empty()))
            .unwrap_or_default();
        match locale.starts_with("en") {
            true => Language::En,
            false => Language::Ja,
        }
    }
}
