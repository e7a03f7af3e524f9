//! YConnect v2 and the store's key header: the login URL a person opens
//! (with PKCE), the code exchange and the refresh (`/token`, Basic client
//! authentication), and `X-sws-signature` (`<seller_id>:<unix time>`
//! encrypted with the store's RSA public key, PKCS#1 v1.5, base64).
//!
//! A refresh never brings a new refresh token (the contract): the one the
//! person's login gave works 28 days from the login, then a person must log
//! in again (`invalid_grant`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::call::CallError;

/// How long a refresh token works from the authorization: 28 days \[doc FAQ\].
pub const REFRESH_TOKEN_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(28);

/// The login a person starts: the URL to open, and what the exchange needs
/// back (`state` to check the callback, the PKCE verifier).
#[derive(Debug, Clone)]
pub struct Login {
    /// The authorization page with every parameter.
    pub url: String,
    /// Random; the callback must carry it back.
    pub state: String,
    /// The PKCE verifier (its S256 challenge is in `url`).
    pub verifier: String,
}

fn random_text() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The login URL for `client_id` and its registered `redirect_uri`, with a
/// fresh `state`, `nonce` and PKCE challenge.
pub fn login(auth_base: &str, client_id: &str, redirect_uri: &str) -> Result<Login, CallError> {
    let (state, nonce, verifier) = (random_text(), random_text(), random_text());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = Url::parse(&format!("{auth_base}/authorization"))
        .map_err(|_| CallError::configuration("INVALID_CONFIG", "auth_base_url"))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("bail", "1")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(Login {
        url: url.to_string(),
        state,
        verifier,
    })
}

/// What the operator pasted: the code alone, or the whole callback address
/// (then its `state` must be the login's, and an `error` is a refusal).
pub fn code_from_paste(pasted: &str, state: &str) -> Result<String, String> {
    let pasted = pasted.trim();
    let Ok(url) = Url::parse(pasted) else {
        return if !pasted.is_empty() && pasted.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(pasted.to_string())
        } else {
            Err("コードが空か、読めない文字を含みます / the code is empty or unreadable".into())
        };
    };
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        return Err(format!(
            "ログインで許可されませんでした ({error})。もう一度実行してください / the login was refused ({error})"
        ));
    }
    if param("state").as_deref() != Some(state) {
        return Err(
            "このログインのアドレスではありません(state が違います)。表示した URL から開き直してください / \
             state does not match: open the URL printed above again"
                .into(),
        );
    }
    param("code").ok_or_else(|| "アドレスに code がありません / no code in the address".into())
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenAnswer {
    /// The access token (1 h).
    pub access_token: String,
    /// Seconds it works.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Only on the code exchange.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: String,
}

/// The code of a refused refresh: a person must log in again.
pub const LOGIN_AGAIN: &str = "invalid_grant";

/// Posts a form to `/token` with the app's Basic header; `extra` headers
/// (the key header on a refresh) go with it.
pub async fn token_call(
    http: &reqwest::Client,
    answer_limit: usize,
    auth_base: &str,
    client_id: &str,
    client_secret: &str,
    form: &[(&str, &str)],
    extra: &[(&'static str, String)],
) -> Result<TokenAnswer, CallError> {
    let basic = STANDARD.encode(format!("{client_id}:{client_secret}"));
    let mut request = http
        .post(format!("{auth_base}/token"))
        .header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"))
        .form(form);
    for (name, value) in extra {
        request = request.header(*name, value);
    }
    let answer =
        crate::providers::http_client::read_answer(request.send().await, answer_limit).await?;
    if answer.status.is_success() {
        return serde_json::from_slice(&answer.body)
            .map_err(|_| CallError::transient("YConnect answered a token in an unreadable form"));
    }
    let error = serde_json::from_slice::<TokenError>(&answer.body)
        .map(|e| e.error)
        .unwrap_or_default();
    Err(match (answer.status.as_u16(), error.as_str()) {
        (400, LOGIN_AGAIN) => CallError::configuration(
            LOGIN_AGAIN,
            "Yahoo!の認可が切れました(28日の期限、同意の取り消し、パスワード変更)。\
             `ordersync yahoo authorize` でログインし直してください / the Yahoo! authorization \
             ended: run `ordersync yahoo authorize` and log in again",
        ),
        (_, "invalid_client") | (401, _) => CallError::configuration(
            "invalid_client",
            "Yahoo!がアプリを認めません。client_id と client_secret を確認してください / \
             YConnect refuses the app: check client_id and client_secret",
        ),
        (s, _) if s >= 500 || s == 429 => CallError::transient(format!("YConnect answered {s}")),
        (s, e) => CallError::Rejected {
            http_status: s,
            code: if e.is_empty() {
                "token".into()
            } else {
                e.into()
            },
            message: format!("YConnect refused the token request ({s})"),
        },
    })
}

/// The store's public key, read from its PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`).
#[derive(Clone)]
pub struct StoreKey {
    key: rsa::PublicKey,
    /// `X-sws-signature-version`.
    pub version: u32,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreKey(version {})", self.version)
    }
}

impl StoreKey {
    /// Reads the PEM text.
    pub fn from_pem(pem: &str, version: u32) -> Result<StoreKey, String> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::pkcs8::DecodePublicKey;
        let pem = pem.trim();
        let key = rsa::PublicKey::from_public_key_pem(pem)
            .or_else(|_| rsa::PublicKey::from_pkcs1_pem(pem))
            .map_err(|_| "公開鍵(PEM)を読めません / not an RSA public key in PEM".to_string())?;
        Ok(StoreKey { key, version })
    }

    /// `X-sws-signature` for `seller_id` at `unix_time`.
    pub fn signature(&self, seller_id: &str, unix_time: i64) -> Result<String, CallError> {
        let cipher = self
            .key
            .pkcs1v15_encrypt(format!("{seller_id}:{unix_time}").as_bytes())
            .map_err(|_| {
                CallError::configuration(
                    "KEY",
                    "公開鍵で暗号化できません / cannot encrypt with the public key",
                )
            })?;
        Ok(STANDARD.encode(cipher))
    }

    /// The two key headers, fresh.
    pub fn headers(&self, seller_id: &str) -> Result<Vec<(&'static str, String)>, CallError> {
        let now = crate::domain::time::now().timestamp();
        Ok(vec![
            ("X-sws-signature", self.signature(seller_id, now)?),
            ("X-sws-signature-version", self.version.to_string()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_url_carries_pkce_and_a_fresh_state() {
        let a = login(
            "https://auth.example/yconnect/v2",
            "cid",
            "https://shop.example/cb",
        )
        .unwrap();
        let b = login(
            "https://auth.example/yconnect/v2",
            "cid",
            "https://shop.example/cb",
        )
        .unwrap();
        assert_ne!(a.state, b.state);
        let url = Url::parse(&a.url).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["redirect_uri"], "https://shop.example/cb");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(
            q["code_challenge"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(a.verifier.as_bytes()))
        );
        assert_eq!(q["bail"], "1");
    }

    #[test]
    fn a_pasted_address_must_carry_the_logins_state() {
        assert_eq!(code_from_paste(" abc123 ", "s").unwrap(), "abc123");
        assert_eq!(
            code_from_paste("https://shop.example/cb?code=xyz&state=s", "s").unwrap(),
            "xyz"
        );
        assert!(code_from_paste("https://shop.example/cb?code=xyz&state=other", "s").is_err());
        assert!(
            code_from_paste("https://shop.example/cb?error=access_denied&state=s", "s").is_err()
        );
        assert!(code_from_paste("", "s").is_err());
    }
}
