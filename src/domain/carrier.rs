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
    "unknown carrier {0:?}; expected one of yamato (ヤマト), sagawa (佐川), japanpost (日本郵便), seino (西濃), fukuyama (福山), nittsu (日通), meitetsu (名鉄), tonami (トナミ), ecohai (エコ配), other (その他)"
)]
pub struct UnknownCarrier(pub String);

impl FromStr for Carrier {
    type Err = UnknownCarrier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Carrier::from_input(s).ok_or_else(|| UnknownCarrier(s.chars().take(40).collect()))
    }
}

/// The names people type for each carrier (Japanese first), beside the codes.
const ALIASES: &[(&str, Carrier)] = &[
    ("ヤマト", Carrier::Yamato),
    ("ヤマト運輸", Carrier::Yamato),
    ("クロネコ", Carrier::Yamato),
    ("クロネコヤマト", Carrier::Yamato),
    ("宅急便", Carrier::Yamato),
    ("佐川", Carrier::Sagawa),
    ("佐川急便", Carrier::Sagawa),
    ("日本郵便", Carrier::JapanPost),
    ("郵便", Carrier::JapanPost),
    ("ゆうパック", Carrier::JapanPost),
    ("ゆうパケット", Carrier::JapanPost),
    ("japan post", Carrier::JapanPost),
    ("yupack", Carrier::JapanPost),
    ("西濃", Carrier::Seino),
    ("西濃運輸", Carrier::Seino),
    ("カンガルー便", Carrier::Seino),
    ("福山", Carrier::Fukuyama),
    ("福山通運", Carrier::Fukuyama),
    ("日通", Carrier::Nittsu),
    ("日本通運", Carrier::Nittsu),
    ("名鉄", Carrier::Meitetsu),
    ("名鉄運輸", Carrier::Meitetsu),
    ("トナミ", Carrier::Tonami),
    ("トナミ運輸", Carrier::Tonami),
    ("エコ配", Carrier::Ecohai),
    ("その他", Carrier::Other),
];

impl Carrier {
    /// A carrier as a person or an ERP writes it: the code (`yamato`, any
    /// case) or a name in use (ヤマト, クロネコ, 佐川, 日本郵便, ゆうパック, 西濃,
    /// 福山, …), spaces around it ignored.
    pub fn from_input(s: &str) -> Option<Carrier> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        Carrier::parse(&lower).or_else(|| {
            ALIASES
                .iter()
                .find(|(name, _)| *name == s || *name == lower)
                .map(|(_, c)| *c)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_people_type_are_carriers() {
        for (typed, carrier) in [
            ("ヤマト", Carrier::Yamato),
            ("クロネコ", Carrier::Yamato),
            (" Yamato ", Carrier::Yamato),
            ("佐川", Carrier::Sagawa),
            ("日本郵便", Carrier::JapanPost),
            ("ゆうパック", Carrier::JapanPost),
            ("西濃", Carrier::Seino),
            ("福山", Carrier::Fukuyama),
            ("OTHER", Carrier::Other),
        ] {
            assert_eq!(typed.parse::<Carrier>(), Ok(carrier), "{typed}");
        }
        assert!("ヤマトー".parse::<Carrier>().is_err());
    }

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
