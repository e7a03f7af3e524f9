//! The ESA authorization every Rakuten RMS call carries, written from the
//! contract (`rakuten-pay.md`, Transport; `rakuten-inventory.md`, Transport):
//! `Authorization: ESA <base64(serviceSecret + ":" + licenseKey)>` — the word
//! `ESA`, one space, standard base64 (with its `=` padding).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The header value a shop sends for its `serviceSecret` and `licenseKey`.
pub fn authorization(service_secret: &str, license_key: &str) -> String {
    format!(
        "ESA {}",
        STANDARD.encode(format!("{service_secret}:{license_key}"))
    )
}

/// The `(serviceSecret, licenseKey)` an `Authorization` value carries, or
/// `None` when it is not of the ESA form (another scheme, two spaces, URL-safe
/// or unpadded base64, no `:`).
pub fn credentials(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("ESA ")?;
    let decoded = STANDARD.decode(encoded.as_bytes()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    // A service secret has no `:` (`SP123456_…`); a licence key might.
    let (secret, key) = text.split_once(':')?;
    Some((secret.to_string(), key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_esa_one_space_and_standard_base64_of_secret_colon_key() {
        // base64("abc:def") = "YWJjOmRlZg==", worked by hand: "abc" → YWJj,
        // ":de" → OmRl, "f" → Zg==.
        assert_eq!(authorization("abc", "def"), "ESA YWJjOmRlZg==");
        assert_eq!(
            credentials("ESA YWJjOmRlZg=="),
            Some(("abc".to_string(), "def".to_string()))
        );
        let round = authorization("SP123456_sim-service-secret", "SL123456_sim-license-key");
        assert_eq!(
            credentials(&round),
            Some((
                "SP123456_sim-service-secret".to_string(),
                "SL123456_sim-license-key".to_string()
            ))
        );
    }

    #[test]
    fn anything_else_is_not_an_esa_header() {
        for refused in [
            "Bearer YWJjOmRlZg==",
            "esa YWJjOmRlZg==",
            "ESA  YWJjOmRlZg==",
            "ESAYWJjOmRlZg==",
            "ESA YWJjOmRlZg",
            "ESA !!!",
            // base64("abcdef"): no colon.
            "ESA YWJjZGVm",
            "",
        ] {
            assert_eq!(credentials(refused), None, "{refused}");
        }
    }
}
