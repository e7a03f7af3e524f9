//! The store's public keys (ストアクリエイターPro 設定 → 暗号鍵管理) and the
//! check of `X-sws-signature`: `<seller_id>:<unix seconds>` encrypted with
//! the key's RSA public key, PKCS#1 v1.5, standard base64
//! (`yahoo-shopping.md`, "Public-key header").
//!
//! The first three key pairs are fixed test keys shipped with the simulator
//! (generating a 2048-bit key takes seconds in a debug build); later
//! versions are generated when issued.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset, TimeDelta};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{Generate, PrivateKey, PublicKey};

/// Private keys of versions 1–3, PKCS#8 PEM.
const FIXED_KEYS: [&str; 3] = [
    include_str!("keys/store_key_1.pem"),
    include_str!("keys/store_key_2.pem"),
    include_str!("keys/store_key_3.pem"),
];

/// The most keys a store has active at once \[integrator\].
pub const MAX_ACTIVE_KEYS: usize = 2;

/// One key of the store, as 暗号鍵管理 shows it.
#[derive(Debug, Clone)]
pub(crate) struct StoreKey {
    pub(crate) version: u32,
    private: PrivateKey,
    pub(crate) public_pem: String,
    pub(crate) expires_at: DateTime<FixedOffset>,
}

/// Why a key could not be issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Already [`MAX_ACTIVE_KEYS`] active: drop one first.
    TooMany,
    /// The key could not be made (a fixed key that does not decode, or a
    /// failed generation).
    Broken(String),
}

impl StoreKey {
    /// Key `version`, valid `lifetime` from `now`.
    pub(crate) fn issue(
        version: u32,
        now: DateTime<FixedOffset>,
        lifetime: TimeDelta,
    ) -> Result<StoreKey, KeyError> {
        let index = usize::try_from(version).unwrap_or(usize::MAX);
        let private = match index.checked_sub(1).and_then(|i| FIXED_KEYS.get(i)) {
            Some(pem) => {
                PrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Broken(e.to_string()))?
            }
            None => PrivateKey::generate(),
        };
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Broken(e.to_string()))?;
        Ok(StoreKey {
            version,
            private,
            public_pem,
            expires_at: now.checked_add_signed(lifetime).unwrap_or(now),
        })
    }

    /// Whether `signature` (base64) decrypts to `<seller_id>:<time>` with a
    /// time within `skew` of `now`, under a key not yet expired.
    pub(crate) fn accepts(
        &self,
        signature: &str,
        seller_id: &str,
        now: DateTime<FixedOffset>,
        skew: TimeDelta,
    ) -> bool {
        if now >= self.expires_at {
            return false;
        }
        let Ok(cipher) = STANDARD.decode(signature.trim()) else {
            return false;
        };
        // Implicit rejection: a bad padding decrypts to noise, which fails
        // the checks below like any other wrong plaintext.
        let Ok(plain) = self.private.pkcs1v15_decrypt(&cipher) else {
            return false;
        };
        let Ok(plain) = std::str::from_utf8(&plain) else {
            return false;
        };
        let Some((seller, time)) = plain.rsplit_once(':') else {
            return false;
        };
        let Ok(time) = time.parse::<i64>() else {
            return false;
        };
        seller == seller_id && (now.timestamp() - time).abs() <= skew.num_seconds()
    }
}

/// `X-sws-signature` for `plaintext` under a public key in PEM, as a store's
/// client builds it: PKCS#1 v1.5, standard base64 with padding. For tests
/// and demos that play the client.
pub fn encrypt_signature(public_pem: &str, plaintext: &str) -> Result<String, String> {
    use rsa::pkcs8::DecodePublicKey;
    let key = PublicKey::from_public_key_pem(public_pem).map_err(|e| e.to_string())?;
    let cipher = key
        .pkcs1v15_encrypt(plaintext.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(STANDARD.encode(cipher))
}
