//! YConnect v2's authorization-code flow as the store's app meets it
//! (`yahoo-shopping.md`, "Authorization"): the authorization page answers
//! with a redirect carrying a single-use `code` (600 s), the token endpoint
//! exchanges it (Basic client authentication, PKCE when a challenge was
//! given) and refreshes without a new refresh token; a refresh token works
//! 4 weeks from its authorization, never extended, and not after the
//! consent is revoked.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, FixedOffset, TimeDelta};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::settings::Settings;

/// The app registered at Yahoo! JAPAN: Client ID, secret, callbacks.
#[derive(Debug, Clone)]
pub struct App {
    /// The Client ID.
    pub client_id: String,
    /// The secret.
    pub client_secret: String,
    /// The callback URLs registered for it; `redirect_uri` must be one.
    pub redirect_uris: Vec<String>,
}

/// A code handed out by the authorization page, not yet exchanged.
#[derive(Debug, Clone)]
struct PendingCode {
    redirect_uri: String,
    issued_at: DateTime<FixedOffset>,
    challenge: Option<String>,
}

/// One authorization (a person's consent) and its refresh token.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) authorized_at: DateTime<FixedOffset>,
    refresh_token: String,
    pub(crate) revoked: bool,
}

/// An access token and the authorization it belongs to.
#[derive(Debug, Clone)]
struct Access {
    grant: usize,
    expires_at: DateTime<FixedOffset>,
}

/// YConnect's memory of codes, authorizations and tokens.
#[derive(Debug, Default)]
pub(crate) struct Auth {
    codes: HashMap<String, PendingCode>,
    pub(crate) grants: Vec<Grant>,
    access: HashMap<String, Access>,
    /// The person refuses consent on the authorization page.
    pub(crate) refuse_consent: bool,
}

/// What the token endpoint answers: a status and a JSON body.
#[derive(Debug)]
pub(crate) struct TokenAnswer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

fn token_error(status: u16, error: &str, description: &str) -> TokenAnswer {
    TokenAnswer {
        status,
        body: json!({"error": error, "error_description": description}),
    }
}

/// Why a bearer token does not let a call through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    /// No `Authorization: Bearer …` at all.
    Missing,
    /// Unknown or past its 3600 s.
    Invalid,
    /// The consent behind it was revoked (`403 px-04307`).
    Revoked,
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

fn secs(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

impl Auth {
    /// The authorization page: a redirect location on consent (or on a
    /// refusal, `bail=1`), or a page's text for a request it cannot redirect
    /// (unknown client, unregistered callback).
    pub(crate) fn authorize(
        &mut self,
        app: &App,
        query: &HashMap<String, String>,
        now: DateTime<FixedOffset>,
    ) -> Result<String, &'static str> {
        let param = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
        if param("client_id") != app.client_id {
            return Err("client_id is invalid.");
        }
        let redirect_uri = param("redirect_uri");
        if !app.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Err("redirect_uri is not registered.");
        }
        let state = param("state");
        let with_state = |pairs: &[(&str, &str)]| {
            let mut url = match reqwest::Url::parse(redirect_uri) {
                Ok(url) => url,
                Err(_) => return redirect_uri.to_string(),
            };
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
                if !state.is_empty() {
                    query.append_pair("state", state);
                }
            }
            url.to_string()
        };
        if param("response_type") != "code" {
            return Ok(with_state(&[("error", "unsupported_response_type")]));
        }
        if self.refuse_consent {
            return Ok(with_state(&[("error", "access_denied")]));
        }
        let challenge = match (param("code_challenge"), param("code_challenge_method")) {
            ("", _) => None,
            (c, "S256") => Some(c.to_string()),
            _ => return Ok(with_state(&[("error", "invalid_request")])),
        };
        let code = random_token(24);
        self.codes.insert(
            code.clone(),
            PendingCode {
                redirect_uri: redirect_uri.to_string(),
                issued_at: now,
                challenge,
            },
        );
        Ok(with_state(&[("code", &code)]))
    }

    /// `POST /yconnect/v2/token`: `authorization` is the request's header,
    /// `form` its body.
    pub(crate) fn token(
        &mut self,
        app: &App,
        settings: &Settings,
        authorization: Option<&str>,
        form: &HashMap<String, String>,
        now: DateTime<FixedOffset>,
    ) -> TokenAnswer {
        if !basic_matches(authorization, app) {
            return token_error(401, "invalid_client", "Client authentication failed.");
        }
        let param = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
        match param("grant_type") {
            "authorization_code" => self.exchange(
                settings,
                param("code"),
                param("redirect_uri"),
                param("code_verifier"),
                now,
            ),
            "refresh_token" => self.refresh(settings, param("refresh_token"), now),
            "" => token_error(400, "invalid_request", "grant_type is required."),
            _ => token_error(400, "unsupported_grant_type", "Unsupported grant_type."),
        }
    }

    fn exchange(
        &mut self,
        settings: &Settings,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        now: DateTime<FixedOffset>,
    ) -> TokenAnswer {
        // Single use: the code is gone whether or not the exchange succeeds.
        let Some(pending) = self.codes.remove(code) else {
            return token_error(400, "invalid_grant", "Invalid authorization code.");
        };
        if now - pending.issued_at > secs(settings.code_lifetime) {
            return token_error(400, "invalid_grant", "Authorization code expired.");
        }
        if pending.redirect_uri != redirect_uri {
            return token_error(400, "invalid_grant", "redirect_uri does not match.");
        }
        if let Some(challenge) = &pending.challenge {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if verifier.is_empty() || &computed != challenge {
                return token_error(400, "invalid_grant", "code_verifier is invalid.");
            }
        }
        let refresh_token = random_token(48);
        self.grants.push(Grant {
            authorized_at: now,
            refresh_token: refresh_token.clone(),
            revoked: false,
        });
        let grant = self.grants.len() - 1;
        let mut answer = self.issue_access(grant, settings, now);
        answer.body["refresh_token"] = json!(refresh_token);
        answer.body["id_token"] = json!(random_token(64));
        answer
    }

    fn refresh(
        &mut self,
        settings: &Settings,
        refresh_token: &str,
        now: DateTime<FixedOffset>,
    ) -> TokenAnswer {
        let found = self
            .grants
            .iter()
            .position(|g| !refresh_token.is_empty() && g.refresh_token == refresh_token);
        let Some(grant) = found else {
            return token_error(400, "invalid_grant", "Invalid refresh token.");
        };
        let g = &self.grants[grant];
        if g.revoked {
            return token_error(400, "invalid_grant", "Consent has been revoked.");
        }
        if now - g.authorized_at >= secs(settings.refresh_token_lifetime) {
            return token_error(400, "invalid_grant", "Refresh token expired.");
        }
        // A refresh answers no refresh token: the old one stays in use.
        self.issue_access(grant, settings, now)
    }

    /// A new access token of `grant`, as the token endpoint answers it.
    fn issue_access(
        &mut self,
        grant: usize,
        settings: &Settings,
        now: DateTime<FixedOffset>,
    ) -> TokenAnswer {
        let token = random_token(48);
        self.access.insert(
            token.clone(),
            Access {
                grant,
                expires_at: now + secs(settings.access_token_lifetime),
            },
        );
        TokenAnswer {
            status: 200,
            body: json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": settings.access_token_lifetime.as_secs(),
            }),
        }
    }

    /// The authorization behind the request's `Authorization: Bearer …`.
    pub(crate) fn check_bearer(
        &self,
        authorization: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<&Grant, TokenRefusal> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenRefusal::Missing)?;
        let access = self.access.get(token).ok_or(TokenRefusal::Invalid)?;
        if now >= access.expires_at {
            return Err(TokenRefusal::Invalid);
        }
        let grant = self.grants.get(access.grant).ok_or(TokenRefusal::Invalid)?;
        if grant.revoked {
            return Err(TokenRefusal::Revoked);
        }
        Ok(grant)
    }

    /// The person revokes the app's consent: every refresh token stops.
    pub(crate) fn revoke(&mut self) {
        for grant in &mut self.grants {
            grant.revoked = true;
        }
    }
}

/// `Authorization: Basic base64(client_id:client_secret)` of `app`.
fn basic_matches(authorization: Option<&str>, app: &App) -> bool {
    let Some(encoded) = authorization.and_then(|h| h.strip_prefix("Basic ")) else {
        return false;
    };
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", app.client_id, app.client_secret);
    subtle::ConstantTimeEq::ct_eq(decoded.as_slice(), expected.as_bytes()).into()
}
