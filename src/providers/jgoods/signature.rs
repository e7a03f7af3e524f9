//! Webhook authentication for J-goods: `v1=` HMAC-SHA256 over `"{timestamp}.{raw body}"`
//! with a timestamp window, or a static bearer secret. Both compare in constant time.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a signed timestamp may be from now, either way.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;
/// `v1=` values taken in one header: a rotation needs two; more is refused
/// before any MAC is computed.
pub const MAX_SIGNATURES: usize = 4;
/// Bytes of `X-JGoods-Signature` taken (four values and separators fit).
pub const MAX_SIGNATURE_HEADER: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("X-JGoods-Timestamp is not unix seconds")]
    BadTimestamp,
    #[error("timestamp is {0} s away from now (window is 300 s)")]
    OutsideWindow(i64),
    #[error("signature does not match")]
    BadSignature,
    #[error(
        "X-JGoods-Signature is longer than {MAX_SIGNATURE_HEADER} bytes or has more than {MAX_SIGNATURES} values"
    )]
    TooManySignatures,
    #[error("bearer token does not match")]
    BadBearer,
}

/// Computes the `v1=<hex>` value the sender puts in `X-JGoods-Signature`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Verifies `X-JGoods-Signature` (possibly several comma-separated `v1=` values,
/// during secret rotation) against every configured secret.
///
/// The work is bounded whatever the header holds: at most [`MAX_SIGNATURES`]
/// values in [`MAX_SIGNATURE_HEADER`] bytes, and one MAC per configured
/// secret, each compared (in constant time) with every value.
pub fn verify_hmac(
    secrets: &[SecretString],
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), AuthError> {
    let ts_raw = timestamp_header.ok_or(AuthError::MissingHeader("X-JGoods-Timestamp"))?;
    let sig_raw = signature_header.ok_or(AuthError::MissingHeader("X-JGoods-Signature"))?;
    if sig_raw.len() > MAX_SIGNATURE_HEADER || sig_raw.split(',').nth(MAX_SIGNATURES).is_some() {
        return Err(AuthError::TooManySignatures);
    }
    let ts: i64 = ts_raw.trim().parse().map_err(|_| AuthError::BadTimestamp)?;
    let skew = now_unix.saturating_sub(ts);
    if skew.abs() > TIMESTAMP_WINDOW_SECS {
        return Err(AuthError::OutsideWindow(skew));
    }
    let candidates: Vec<Vec<u8>> = sig_raw
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(|h| hex::decode(h).ok())
        .filter(|mac| mac.len() == 32)
        .collect();
    if candidates.is_empty() {
        return Err(AuthError::BadSignature);
    }
    let mut ok = false;
    for secret in secrets {
        let expected = mac(secret.expose_secret().as_bytes(), ts, body)
            .finalize()
            .into_bytes();
        for candidate in &candidates {
            ok |= bool::from(expected.as_slice().ct_eq(candidate));
        }
    }
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

/// Verifies `Authorization: Bearer <secret>` against every configured secret.
pub fn verify_bearer(
    secrets: &[SecretString],
    authorization: Option<&str>,
) -> Result<(), AuthError> {
    let given = authorization
        .ok_or(AuthError::MissingHeader("Authorization"))?
        .strip_prefix("Bearer ")
        .ok_or(AuthError::BadBearer)?
        .trim();
    let ok = secrets
        .iter()
        .any(|s| bool::from(s.expose_secret().as_bytes().ct_eq(given.as_bytes())));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadBearer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&str]) -> Vec<SecretString> {
        list.iter()
            .map(|s| SecretString::from(s.to_string()))
            .collect()
    }

    #[test]
    fn a_header_of_many_values_is_refused_before_any_mac() {
        let body = br#"{"order_no":"JG1"}"#;
        let sig = sign(b"k", 1000, body);
        let many = vec!["v1="; 10_000].join(",");
        assert_eq!(
            verify_hmac(&secrets(&["k"]), Some("1000"), Some(&many), body, 1000),
            Err(AuthError::TooManySignatures)
        );
        let five = [sig.as_str(); 5].join(",");
        assert_eq!(
            verify_hmac(&secrets(&["k"]), Some("1000"), Some(&five), body, 1000),
            Err(AuthError::TooManySignatures)
        );
        let four = [sig.as_str(); 4].join(",");
        assert!(verify_hmac(&secrets(&["k"]), Some("1000"), Some(&four), body, 1000).is_ok());
        assert_eq!(
            verify_hmac(
                &secrets(&["k"]),
                Some("1000"),
                Some("v1=,v1=00"),
                body,
                1000
            ),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn accepts_its_own_signature_and_rotation_lists() {
        let body = br#"{"order_no":"JG1"}"#;
        let sig = sign(b"new", 1000, body);
        assert!(verify_hmac(&secrets(&["new"]), Some("1000"), Some(&sig), body, 1100).is_ok());
        let rotated = format!("{}, {}", sign(b"old", 1000, body), sig);
        assert!(verify_hmac(&secrets(&["new"]), Some("1000"), Some(&rotated), body, 1000).is_ok());
        assert!(
            verify_hmac(
                &secrets(&["old", "other"]),
                Some("1000"),
                Some(&rotated),
                body,
                1000
            )
            .is_ok()
        );
    }

    #[test]
    fn rejects_tampering_staleness_and_missing_parts() {
        let body = b"{}";
        let sig = sign(b"k", 1000, body);
        let k = secrets(&["k"]);
        assert_eq!(
            verify_hmac(&k, Some("1000"), Some(&sig), b"{ }", 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_hmac(&k, Some("1001"), Some(&sig), body, 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_hmac(&k, Some("1000"), Some(&sig), body, 1301),
            Err(AuthError::OutsideWindow(301))
        );
        assert_eq!(
            verify_hmac(&k, Some("1000"), Some(&sig[..20]), body, 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_hmac(&k, None, Some(&sig), body, 1000),
            Err(AuthError::MissingHeader("X-JGoods-Timestamp"))
        );
        assert_eq!(
            verify_hmac(&k, Some("x"), Some(&sig), body, 1000),
            Err(AuthError::BadTimestamp)
        );
        assert_eq!(
            verify_hmac(&secrets(&["other"]), Some("1000"), Some(&sig), body, 1000),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn agrees_with_the_simulators_reading_of_the_contract() {
        use ordersync_sim::jgoods::signature as jgoods_side;
        let body = r#"{"order_no":"JG1","status":"承認待ち"}"#.as_bytes();
        let theirs = jgoods_side::sign(b"k", 1000, body);
        assert_eq!(
            verify_hmac(&secrets(&["k"]), Some("1000"), Some(&theirs), body, 1000),
            Ok(())
        );
        assert_eq!(theirs, sign(b"k", 1000, body));
        let rotated = format!("{}, {theirs}", jgoods_side::sign(b"old", 1000, body));
        assert_eq!(
            verify_hmac(&secrets(&["k"]), Some("1000"), Some(&rotated), body, 1000),
            Ok(())
        );
    }

    #[test]
    fn bearer_is_exact() {
        let k = secrets(&["s3cret"]);
        assert!(verify_bearer(&k, Some("Bearer s3cret")).is_ok());
        assert!(verify_bearer(&k, Some("Bearer s3cre")).is_err());
        assert!(verify_bearer(&k, Some("Basic s3cret")).is_err());
        assert!(verify_bearer(&k, None).is_err());
    }
}
