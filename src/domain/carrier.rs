//! Carriers by neutral name; each adapter maps them to its own codes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    Yamato,
    Sagawa,
    Japanpost,
    Seino,
    Fukuyama,
    Nittsu,
    Meitetsu,
    Tonami,
    Ecohai,
    Other,
}

impl Carrier {
    pub const ALL: [Carrier; 10] = [
        Carrier::Yamato,
        Carrier::Sagawa,
        Carrier::Japanpost,
        Carrier::Seino,
        Carrier::Fukuyama,
        Carrier::Nittsu,
        Carrier::Meitetsu,
        Carrier::Tonami,
        Carrier::Ecohai,
        Carrier::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::Yamato => "yamato",
            Carrier::Sagawa => "sagawa",
            Carrier::Japanpost => "japanpost",
            Carrier::Seino => "seino",
            Carrier::Fukuyama => "fukuyama",
            Carrier::Nittsu => "nittsu",
            Carrier::Meitetsu => "meitetsu",
            Carrier::Tonami => "tonami",
            Carrier::Ecohai => "ecohai",
            Carrier::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Carrier> {
        Carrier::ALL.into_iter().find(|c| c.as_str() == s)
    }
}
