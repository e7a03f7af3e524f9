//! Durations printed the way a merchant writes them in the config (`"90s"`,
//! `"10m"`, `"24h"`, `"3d"`), not humantime's `"1day"`: the largest unit
//! that divides the value exactly.

use std::time::Duration;

use serde::Serializer;

const UNITS: [(u128, &str); 5] = [
    (86_400_000, "d"),
    (3_600_000, "h"),
    (60_000, "m"),
    (1_000, "s"),
    (1, "ms"),
];

/// `24h` stays `24h` (a day is written in hours more often than as `1d`);
/// two days or more, whole, are written in days.
pub fn to_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if !d.subsec_nanos().is_multiple_of(1_000_000) {
        return humantime::format_duration(d).to_string();
    }
    for (size, unit) in UNITS {
        if ms.is_multiple_of(size) && (unit != "d" || ms >= 2 * size) {
            return format!("{}{unit}", ms / size);
        }
    }
    unreachable!("every whole number of milliseconds divides by 1")
}

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_text(*d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_merchants_write_them() {
        let cases = [
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(600), "10m"),
            (Duration::from_secs(86_400), "24h"),
            (Duration::from_secs(3 * 86_400), "3d"),
            (Duration::from_millis(500), "500ms"),
            (Duration::ZERO, "0s"),
        ];
        for (d, text) in cases {
            assert_eq!(to_text(d), text);
            assert_eq!(
                humantime::parse_duration(text).unwrap(),
                d,
                "{text} reads back"
            );
        }
    }
}
