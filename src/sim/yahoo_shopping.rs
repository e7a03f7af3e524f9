//! What ordersync needs of the Yahoo!ショッピング simulator
//! ([`ordersync_sim::yahoo_shopping`]) that the simulator cannot give: the
//! login a person would make (its refresh token, through the adapter's own
//! code exchange), the store key's PEM file, and the `[yahoo_shopping]`
//! section that reaches the simulator.

use std::path::Path;
use std::time::Duration;

use ordersync_sim::yahoo_shopping::YahooSimHandle;

use crate::call::CallError;
use crate::providers::yahoo_shopping::auth;

/// ordersync's settings for a running Yahoo!ショッピング simulator.
pub trait YahooSimSettings {
    /// Logs in as a person would (the authorization page, its redirect's
    /// code, the exchange with PKCE) and answers the refresh token.
    fn login(&self) -> impl std::future::Future<Output = Result<String, CallError>> + Send;

    /// Writes key `version`'s PEM to `path`.
    fn write_key(&self, version: u32, path: &Path) -> std::io::Result<()>;

    /// The daemon's `[yahoo_shopping]` section pointing at the simulator,
    /// enabled, with `refresh_token` and the key at `key_file`; keys
    /// appended after it belong to the section.
    fn config_section(&self, refresh_token: &str, key_file: &Path) -> String;
}

impl YahooSimSettings for YahooSimHandle {
    async fn login(&self) -> Result<String, CallError> {
        let app = self.app().clone();
        let auth_base = self.token_url().trim_end_matches("/token").to_string();
        let redirect = app.redirect_uris.first().cloned().unwrap_or_default();
        let login = auth::login(&auth_base, &app.client_id, &redirect)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CallError::transient(e.to_string()))?;
        let page = http
            .get(&login.url)
            .send()
            .await
            .map_err(CallError::from_transport)?;
        let location = page
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let code = auth::code_from_paste(&location, &login.state).map_err(CallError::transient)?;
        let answer = auth::token_call(
            &http,
            crate::call::HttpLimits::with_timeout(Duration::from_secs(10)).answer_bytes,
            &auth_base,
            &app.client_id,
            &app.client_secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect),
                ("code_verifier", &login.verifier),
            ],
            &[],
        )
        .await?;
        answer
            .refresh_token
            .ok_or_else(|| CallError::transient("no refresh token in the exchange"))
    }

    fn write_key(&self, version: u32, path: &Path) -> std::io::Result<()> {
        let pem = self
            .public_key_pem(version)
            .ok_or_else(|| std::io::Error::other("the simulated store has no such key"))?;
        std::fs::write(path, pem)
    }

    fn config_section(&self, refresh_token: &str, key_file: &Path) -> String {
        let app = self.app();
        format!(
            "\n[yahoo_shopping]\nenabled = true\nseller_id = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
             refresh_token = \"{refresh_token}\"\nredirect_uri = \"{}\"\npublic_key_file = \"{}\"\n\
             public_key_version = 1\napi_base_url = \"{}\"\nauth_base_url = \"{}\"\n",
            self.seller_id(),
            app.client_id,
            app.client_secret,
            app.redirect_uris
                .first()
                .map(String::as_str)
                .unwrap_or_default(),
            key_file.display(),
            self.api_base_url().trim_end_matches('/'),
            self.token_url().trim_end_matches("/token"),
        )
    }
}
