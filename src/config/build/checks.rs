//! Small checks of config values: addresses that collide, networks, dates,
//! the inventory defaults.

use super::*;

pub(super) fn inventory(raw: Option<RawInventory>) -> InventoryConfig {
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
pub(super) fn conflicts(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port()
        && a.port() != 0
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// `203.0.113.0/24`, or a bare address meaning that one host.
pub(super) fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>().ok().map(ipnet::IpNet::from)
}

/// `YYYY-MM-DD` in shape (KOMOJU validates the date itself).
pub(super) fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

impl Ctx<'_> {
    /// A stock push interval: at least 1 s, or 0 s for no push.
    pub(super) fn push_interval(
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
    pub(super) fn at_least_one(&self, key: &str, value: Option<u32>, default: u32) -> Result<u32> {
        match value.unwrap_or(default) {
            0 => Err(self.err(key, "must be at least 1")),
            n => Ok(n),
        }
    }
}
