//! Carriers under their neutral names: what the ERP says (`"carrier": "yamato"`)
//! and what every adapter maps to its own codes with an exhaustive `match`, so a
//! carrier added here is a compile error in each adapter until it is mapped.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A delivery company, named neutrally (see DESIGN.md, "Carriers are neutral names").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Carrier {
    /// Yamato Transport (TA-Q-BIN).
    Yamato,
    /// Sagawa Express.
    Sagawa,
    /// Japan Post (Yu-Pack, Yu-Packet).
    JapanPost,
    /// Seino Transportation.
    Seino,
    /// Fukuyama Transporting.
    Fukuyama,
    /// Nippon Express.
    Nittsu,
    /// Meitetsu Transport.
    Meitetsu,
    /// Tonami Transportation.
    Tonami,
    /// Ecohai (bicycle and light-vehicle delivery).
    Ecohai,
    /// Anyone else; providers have an "other" code for it.
    Other,
}

impl Carrier {
    /// Every carrier, in the order of the neutral list.
    pub const ALL: [Carrier; 10] = [
        Carrier::Yamato,
        Carrier::Sagawa,
        Carrier::JapanPost,
        Carrier::Seino,
        Carrier::Fukuyama,
        Carrier::Nittsu,
        Carrier::Meitetsu,
        Carrier::Tonami,
        Carrier::Ecohai,
        Carrier::Other,
    ];

    /// The neutral name, as the admin API and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::Yamato => "yamato",
            Carrier::Sagawa => "sagawa",
            Carrier::JapanPost => "japanpost",
            Carrier::Seino => "seino",
            Carrier::Fukuyama => "fukuyama",
            Carrier::Nittsu => "nittsu",
            Carrier::Meitetsu => "meitetsu",
            Carrier::Tonami => "tonami",
            Carrier::Ecohai => "ecohai",
            Carrier::Other => "other",
        }
    }

    /// Parses a neutral name (exact, lowercase); `None` for anything else.
    pub fn parse(name: &str) -> Option<Carrier> {
        Carrier::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a carrier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown carrier {0:?}; expected one of yamato, sagawa, japanpost, seino, fukuyama, nittsu, meitetsu, tonami, ecohai, other"
)]
pub struct UnknownCarrier(pub String);

impl FromStr for Carrier {
    type Err = UnknownCarrier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Carrier::parse(s).ok_or_else(|| UnknownCarrier(s.chars().take(40).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for c in Carrier::ALL {
            assert_eq!(Carrier::parse(c.as_str()), Some(c));
            assert_eq!(c.as_str().parse::<Carrier>(), Ok(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Carrier>(&json).unwrap(), c);
        }
        assert_eq!(Carrier::parse("Yamato"), None);
        assert!("kuroneko".parse::<Carrier>().is_err());
    }
}
