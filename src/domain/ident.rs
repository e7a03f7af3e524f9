//! Identifiers that come from outside (order numbers, SKUs, delivery ids):
//! checked once at the edge, so nothing built from them later (a provider
//! URL, a log line, a CSV row, a terminal) can be altered by what they hold.

/// `value` as an identifier of 1 to `max` bytes without control characters
/// (CR, LF, TAB, ESC and the rest), or what is wrong with it.
pub fn identifier(value: &str, max: usize) -> Result<&str, String> {
    if value.is_empty() || value.len() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters (CR, LF, TAB, ...)".to_string());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_lengths_are_refused() {
        assert_eq!(identifier("JG-0001", 64), Ok("JG-0001"));
        assert_eq!(identifier("受注-1", 64), Ok("受注-1"));
        for bad in ["JG\r\n1", "JG\t1", "\u{1b}]0;x\u{7}", "a\u{85}b", ""] {
            assert!(identifier(bad, 64).is_err(), "{bad:?}");
        }
        assert!(identifier(&"x".repeat(65), 64).is_err());
    }
}
