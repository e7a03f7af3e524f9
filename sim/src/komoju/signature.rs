//! How KOMOJU signs a webhook ("Webhooks: KOMOJU → merchant" \[webhooks\]):
//! `X-Komoju-Signature` is the lowercase hex HMAC-SHA256 of the raw body
//! under the webhook secret, with no prefix and no timestamp.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The `X-Komoju-Signature` of `body` under `secret`: 64 lowercase hex digits.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC pads or hashes a key of any length, so no key is refused.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        unreachable!("HMAC-SHA256 accepts keys of every length")
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The contract gives no example signature; HMAC-SHA256 itself is checked
    // against RFC 4231's test vectors, and the rendering against the contract.
    #[test]
    fn rfc_4231_test_vectors() {
        assert_eq!(
            sign(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn lowercase_hex_without_prefix() {
        let sig = sign(b"sim-komoju-webhook-secret", br#"{"id":"e","type":"ping"}"#);
        assert_eq!(sig.len(), 64);
        assert!(
            sig.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(sig, sign(b"another-secret", br#"{"id":"e","type":"ping"}"#));
    }
}
