//! Carriers under their neutral names: what the ERP says (`"carrier": "yamato"`)
//! and what every adapter maps to its own codes with an exhaustive `match`, so a
//! carrier added here is a compile error in each adapter until it is mapped.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

stored_names! {
    /// A delivery company, named neutrally.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Carrier {
        /// Yamato Transport (TA-Q-BIN).
        Yamato = "yamato",
        /// Sagawa Express.
        Sagawa = "sagawa",
        /// Japan Post (Yu-Pack, Yu-Packet).
        JapanPost = "japanpost",
        /// Seino Transportation.
        Seino = "seino",
        /// Fukuyama Transporting.
        Fukuyama = "fukuyama",
        /// Nippon Express.
        Nittsu = "nittsu",
        /// Meitetsu Transport.
        Meitetsu = "meitetsu",
        /// Tonami Transportation.
        Tonami = "tonami",
        /// Ecohai (bicycle and light-vehicle delivery).
        Ecohai = "ecohai",
        /// Anyone else; providers have an "other" code for it.
        Other = "other",
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
