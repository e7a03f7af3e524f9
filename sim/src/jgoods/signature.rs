//! Webhook authentication as the contract writes it ("Webhook: J-goods →
//! merchant", Headers), on J-goods' side: the simulator signs with
//! [`sign`]; [`verify`] and [`verify_bearer`] are the receiving side's rules,
//! for the test receiver ([`super::receiver`]).
//!
//! - `X-JGoods-Timestamp`: unix seconds.
//! - `X-JGoods-Signature: v1=<lowercase hex HMAC-SHA256(webhook secret,
//!   "{timestamp}.{raw body}")>`; several `v1=` values separated by `,` may
//!   appear during secret rotation and any match passes.
//! - A timestamp more than 300 s from now is refused; comparisons are in
//!   constant time.
//! - Or, with `webhook_auth = "bearer"`: `Authorization: Bearer <webhook secret>`.
//!
//! The contract gives no example signature; the tests check one value worked
//! out with `openssl dgst -sha256 -hmac`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "X-JGoods-Timestamp";
/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-JGoods-Signature";
/// How far from now a timestamp may be, either way.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// Why a push does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// A header is missing.
    Missing(&'static str),
    /// `X-JGoods-Timestamp` is not unix seconds.
    BadTimestamp,
    /// The timestamp is this many seconds from now (more than 300).
    Stale(i64),
    /// No `v1=` value matches (or a bearer secret differs).
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // `new_from_slice` fails only for a key length HMAC cannot take, and
    // HMAC takes any.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    m.update(format!("{timestamp}.").as_bytes());
    m.update(body);
    m
}

/// The `X-JGoods-Signature` value J-goods sends: `v1=` and the lowercase hex
/// HMAC-SHA256 of `"{timestamp}.{raw body}"` under the webhook secret.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a push's `X-JGoods-Timestamp` and `X-JGoods-Signature` against
/// every secret in `secrets` (a receiver rotating its secret holds two).
pub fn verify(
    secrets: &[&[u8]],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
    let signature = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now_unix.saturating_sub(ts);
    if skew.abs() > TIMESTAMP_WINDOW_SECS {
        return Err(SignatureError::Stale(skew));
    }
    let given: Vec<Vec<u8>> = signature
        .split(',')
        .filter_map(|v| v.trim().strip_prefix("v1="))
        .filter_map(|h| hex::decode(h).ok())
        .collect();
    let mut matched = false;
    for secret in secrets {
        let expected = mac(secret, ts, body).finalize().into_bytes();
        for candidate in &given {
            // No early exit: the time taken does not tell which value was close.
            matched |= bool::from(expected.as_slice().ct_eq(candidate));
        }
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks `Authorization: Bearer <webhook secret>` in constant time.
pub fn verify_bearer(secrets: &[&[u8]], authorization: Option<&str>) -> Result<(), SignatureError> {
    let given = authorization
        .ok_or(SignatureError::Missing("Authorization"))?
        .strip_prefix("Bearer ")
        .ok_or(SignatureError::Mismatch)?
        .trim()
        .as_bytes();
    let mut matched = false;
    for secret in secrets {
        matched |= bool::from(secret.ct_eq(given));
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-example";
    const TS: i64 = 1_764_033_300;
    const BODY: &str = r#"{"order_no":"JG2611220001","status":"承認待ち"}"#;

    #[test]
    fn signs_as_openssl_computes_the_contract_formula() {
        // printf '%s' '1764033300.{"order_no":"JG2611220001","status":"承認待ち"}' \
        //   | openssl dgst -sha256 -hmac whsec-example
        assert_eq!(
            sign(SECRET, TS, BODY.as_bytes()),
            "v1=687efd533079b692b0ff870bc283721c4c01599189a80677e34448e6dccda769"
        );
        // An empty body still signs "{timestamp}.".
        assert_eq!(
            sign(SECRET, TS, b""),
            "v1=274849b0fa4c0dbb7c84ed8490105c7dcba51fdd4cb628a65398e46b38e99718"
        );
    }

    #[test]
    fn verifies_its_signature_and_rotation_lists() {
        let body = BODY.as_bytes();
        let sig = sign(SECRET, TS, body);
        let ts = TS.to_string();
        assert_eq!(
            verify(&[SECRET], Some(&ts), Some(&sig), body, TS + 300),
            Ok(())
        );
        let rotated = format!("{}, {sig}", sign(b"old", TS, body));
        assert_eq!(
            verify(&[SECRET], Some(&ts), Some(&rotated), body, TS),
            Ok(())
        );
        assert_eq!(
            verify(&[b"old", b"x"], Some(&ts), Some(&rotated), body, TS),
            Ok(())
        );
    }

    #[test]
    fn refuses_tampering_staleness_and_missing_headers() {
        let body = BODY.as_bytes();
        let sig = sign(SECRET, TS, body);
        let ts = TS.to_string();
        let check = |ts: Option<&str>, sig: Option<&str>, body: &[u8], now: i64| {
            verify(&[SECRET], ts, sig, body, now)
        };
        assert_eq!(
            check(Some(&ts), Some(&sig), b"{}", TS),
            Err(SignatureError::Mismatch)
        );
        let later = (TS + 1).to_string();
        assert_eq!(
            check(Some(&later), Some(&sig), body, TS),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(Some(&ts), Some(&sig), body, TS + 301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            check(Some(&ts), Some(&sig), body, TS - 301),
            Err(SignatureError::Stale(-301))
        );
        assert_eq!(
            check(Some(&ts), Some(&sig[..20]), body, TS),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(Some(&ts), Some("v2=00"), body, TS),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(None, Some(&sig), body, TS),
            Err(SignatureError::Missing(TIMESTAMP_HEADER))
        );
        assert_eq!(
            check(Some(&ts), None, body, TS),
            Err(SignatureError::Missing(SIGNATURE_HEADER))
        );
        assert_eq!(
            check(Some("soon"), Some(&sig), body, TS),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(&[b"other"], Some(&ts), Some(&sig), body, TS),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn bearer_is_exact() {
        assert_eq!(verify_bearer(&[b"s3cret"], Some("Bearer s3cret")), Ok(()));
        assert!(verify_bearer(&[b"s3cret"], Some("Bearer s3cre")).is_err());
        assert!(verify_bearer(&[b"s3cret"], Some("Basic s3cret")).is_err());
        assert!(verify_bearer(&[b"s3cret"], None).is_err());
    }
}
