//! Webhook authentication for KOMOJU: `X-Komoju-Signature` is the lowercase hex
//! HMAC-SHA256 of the raw body under the webhook secret, with no prefix and no
//! timestamp. Without a timestamp a captured delivery can be replayed, which is
//! why the core dedupes by event id; the comparison itself is constant-time.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Komoju-Signature";

/// Why a delivery is not authentic (answer 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The delivery carried no signature at all.
    #[error("missing X-Komoju-Signature header")]
    MissingHeader,
    /// Not 64 hex digits (a prefix, a truncation, another scheme).
    #[error("X-Komoju-Signature is not 64 hex digits")]
    Malformed,
    /// Well formed, but no configured secret produces it: forged or tampered.
    #[error("signature does not match")]
    Mismatch,
    /// No webhook secret is configured, so nothing can be verified.
    #[error("no webhook secret configured")]
    NoSecret,
}

/// Computes the value KOMOJU puts in `X-Komoju-Signature` (lowercase hex).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    hex::encode(mac(secret, body).finalize().into_bytes())
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(body);
    m
}

/// Verifies `X-Komoju-Signature` against every configured secret (more than
/// one during a rotation). Hex is read case-insensitively: an uppercase
/// rendering of the right MAC is still the right MAC. The MAC comparison is
/// constant-time (`verify_slice`).
pub fn verify(
    secrets: &[SecretString],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let given = header.ok_or(SignatureError::MissingHeader)?.trim();
    if given.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let given = hex::decode(given).map_err(|_| SignatureError::Malformed)?;
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let mut ok = false;
    // Every secret is tried (no early exit), so timing does not tell which one matched.
    for secret in secrets {
        ok |= mac(secret.expose_secret().as_bytes(), body)
            .verify_slice(&given)
            .is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&str]) -> Vec<SecretString> {
        list.iter().map(|s| SecretString::from(*s)).collect()
    }

    #[test]
    fn known_answer() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn accepts_its_own_signature_and_any_rotated_secret() {
        let body = br#"{"id":"evt1","type":"ping"}"#;
        let sig = sign(b"whsec", body);
        assert_eq!(sig, sig.to_lowercase());
        assert!(verify(&secrets(&["whsec"]), Some(&sig), body).is_ok());
        assert!(verify(&secrets(&["old", "whsec"]), Some(&sig), body).is_ok());
        assert!(verify(&secrets(&["whsec"]), Some(&format!(" {sig} ")), body).is_ok());
    }

    /// The simulator signs from the contract on its own; the two must agree.
    #[test]
    fn verifies_what_the_simulator_signs() {
        let cases: [(&str, &[u8]); 3] = [
            (
                "sim-komoju-webhook-secret",
                br#"{"id":"evt1","type":"payment.captured"}"#,
            ),
            (
                "whsec_\u{3042}",
                "{\"reason\":\"\u{53d6}\u{6d88}\"}".as_bytes(),
            ),
            ("k", b""),
        ];
        for (secret, body) in cases {
            let theirs = ordersync_sim::komoju::signature::sign(secret.as_bytes(), body);
            assert_eq!(theirs, sign(secret.as_bytes(), body));
            assert!(verify(&secrets(&[secret]), Some(&theirs), body).is_ok());
        }
    }

    #[test]
    fn uppercase_hex_is_the_same_mac() {
        let body = b"{}";
        let sig = sign(b"k", body).to_uppercase();
        assert!(verify(&secrets(&["k"]), Some(&sig), body).is_ok());
    }

    #[test]
    fn rejects_tampering_wrong_secrets_and_malformed_headers() {
        let body = br#"{"id":"evt1","amount":1000}"#;
        let sig = sign(b"k", body);
        let k = secrets(&["k"]);
        assert_eq!(
            verify(&k, Some(&sig), br#"{"id":"evt1","amount":1001}"#),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&secrets(&["other"]), Some(&sig), body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&k, None, body), Err(SignatureError::MissingHeader));
        assert_eq!(verify(&k, Some(""), body), Err(SignatureError::Malformed));
        assert_eq!(
            verify(&k, Some(&sig[..63]), body),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&k, Some(&format!("sha256={sig}")), body),
            Err(SignatureError::Malformed)
        );
        let not_hex = format!("zz{}", &sig[2..]);
        assert_eq!(
            verify(&k, Some(&not_hex), body),
            Err(SignatureError::Malformed)
        );
        let flipped = format!("{}{}", if &sig[..1] == "0" { "1" } else { "0" }, &sig[1..]);
        assert_eq!(
            verify(&k, Some(&flipped), body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&[], Some(&sig), body), Err(SignatureError::NoSecret));
    }
}
