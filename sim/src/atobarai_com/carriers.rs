//! The simulated carrier master that `delivlist` (02) serves and `shipping`
//! (04) checks against. The contract fixes only 1 ヤマト運輸 and 2 佐川急便;
//! the seed lists the family of carriers the service accepts, whose ids come
//! from `delivlist`. Everything else here (the other ids, the tracking-number
//! shapes, which carriers end cancellability) is the simulator's own.

/// What tracking numbers a carrier accepts (hyphens and spaces ignored);
/// another shape is refused with `E04202`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingRule {
    /// Only digits, this many.
    Digits {
        /// Fewest digits.
        min: usize,
        /// Most digits.
        max: usize,
    },
    /// Letters and digits (Japan Post's `AB123456789JP`), this many.
    Alphanumeric {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
}

impl TrackingRule {
    /// Whether a tracking number has the carrier's shape.
    pub fn accepts(self, number: &str) -> bool {
        let cleaned: String = number.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        let (ok_chars, min, max) = match self {
            TrackingRule::Digits { min, max } => {
                (cleaned.bytes().all(|b| b.is_ascii_digit()), min, max)
            }
            TrackingRule::Alphanumeric { min, max } => {
                (cleaned.bytes().all(|b| b.is_ascii_alphanumeric()), min, max)
            }
        };
        ok_chars && (min..=max).contains(&cleaned.len())
    }
}

/// One carrier of the simulated master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCarrier {
    /// The service's id (`delivId`, sent back as `DelivId`).
    pub deliv_id: u32,
    /// `name` as served.
    pub name: String,
    /// `shortName` as served.
    pub short_name: String,
    /// Which tracking numbers it accepts (`E04202` otherwise).
    pub tracking: TrackingRule,
    /// Whether an order shipped with it can still be cancelled ("some
    /// carriers make the order non-cancellable after shipping").
    pub cancellable_after_shipping: bool,
}

impl SimCarrier {
    fn new(deliv_id: u32, name: &str, short_name: &str, tracking: TrackingRule) -> Self {
        SimCarrier {
            deliv_id,
            name: name.to_string(),
            short_name: short_name.to_string(),
            tracking,
            cancellable_after_shipping: true,
        }
    }
}

/// The default master: the seed's family of carriers. 1 and 2 are the
/// contract's; the other ids are the simulator's own, on purpose not in the
/// seed's order, so a client that guesses ids fails.
pub fn default_carriers() -> Vec<SimCarrier> {
    let digits = |min, max| TrackingRule::Digits { min, max };
    let alnum = |min, max| TrackingRule::Alphanumeric { min, max };
    let mut carriers = vec![
        SimCarrier::new(1, "ヤマト運輸", "ヤマト", digits(12, 12)),
        SimCarrier::new(2, "佐川急便", "佐川", digits(12, 12)),
        SimCarrier::new(3, "ゆうパック", "ゆうパック", digits(11, 12)),
        SimCarrier::new(4, "西濃運輸", "西濃", digits(10, 12)),
        SimCarrier::new(5, "福山通運", "福山", digits(10, 12)),
        SimCarrier::new(6, "日本郵便", "日本郵便", alnum(11, 13)),
        SimCarrier::new(7, "エコ配", "エコ配", alnum(8, 14)),
        SimCarrier::new(8, "郵便書留", "書留", alnum(11, 13)),
        SimCarrier::new(9, "日本通運", "日通", digits(10, 12)),
        SimCarrier::new(
            10,
            "セイノースーパーエクスプレス",
            "セイノーSE",
            digits(10, 12),
        ),
        SimCarrier::new(11, "新潟運輸", "新潟運輸", digits(8, 12)),
        SimCarrier::new(12, "名鉄運輸", "名鉄", digits(10, 12)),
        SimCarrier::new(13, "信州名鉄運輸", "信州名鉄", digits(10, 12)),
        SimCarrier::new(14, "トールエクスプレスジャパン", "トール", digits(10, 12)),
        SimCarrier::new(15, "トナミ運輸", "トナミ", digits(10, 12)),
    ];
    for c in &mut carriers {
        // Guess: the light-parcel carriers hand the parcel over for good.
        if matches!(c.deliv_id, 7 | 8) {
            c.cancellable_after_shipping = false;
        }
    }
    carriers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_numbers_follow_the_carriers_rule() {
        let rule = TrackingRule::Digits { min: 12, max: 12 };
        for (number, want) in [
            ("1234-5678-9012", true),
            ("123456789012", true),
            ("12345678901", false),
            ("12345678901a", false),
        ] {
            assert_eq!(rule.accepts(number), want, "{number}");
        }
        let post = TrackingRule::Alphanumeric { min: 11, max: 13 };
        assert!(post.accepts("AB123456789JP"));
        assert!(!post.accepts("AB-1234"));
    }

    #[test]
    fn the_default_master_has_the_contracts_ids_and_others() {
        let master = default_carriers();
        let id = |name: &str| master.iter().find(|c| c.name == name).map(|c| c.deliv_id);
        assert_eq!(id("ヤマト運輸"), Some(1));
        assert_eq!(id("佐川急便"), Some(2));
        let mut ids: Vec<u32> = master.iter().map(|c| c.deliv_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), master.len(), "ids are unique");
        assert!(master.len() >= 15);
    }
}
