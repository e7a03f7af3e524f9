//! The Yahoo!ショッピング client: the access token (refreshed when less than
//! 5 minutes remain, or once after `invalid_token`), the key header on every
//! order call and on the refresh, one call at a time per URL at the
//! configured spacing, answers read up to the shared size cap.
//!
//! Every order answer's `X-SWS-Authorize-Status` is checked: without
//! `authorized`, Yahoo! gives no error but stops the order calls 12 hours
//! after the login, so the daemon shows the problem (`public_key`) at once.
//! A refused refresh (`invalid_grant`) and the setup refusals (scope, IP,
//! key version, order-API application) are [`CallError::Configuration`]:
//! shown once, not retried in a loop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::auth::{self, StoreKey};
use super::config::YahooShoppingConfig;
use super::wire::{self, Node};
use crate::call::{CallError, HttpLimits};
use crate::domain::Provider;
use crate::problems::ProviderProblems;
use crate::providers::http_client;
use crate::providers::pacer::Pacer;

/// The problem part shown while Yahoo! does not accept the key header.
pub const KEY_PART: &str = "public_key";
/// Refresh when less than this remains of the access token.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// An unexplained `403` is the per-second or daily limit \[guess\]: back off.
const THROTTLE_BACKOFF: Duration = Duration::from_secs(60);

/// What the client needs, all from config.
#[derive(Clone)]
pub struct YahooClientSettings {
    /// The store account.
    pub seller_id: String,
    /// Store API base, no trailing `/`.
    pub api_base_url: String,
    /// YConnect base, no trailing `/`.
    pub auth_base_url: String,
    /// The app's Client ID.
    pub client_id: String,
    /// The app's secret.
    pub client_secret: SecretString,
    /// The refresh token of the last login.
    pub refresh_token: SecretString,
    /// The store's public key and its version.
    pub key: StoreKey,
    /// Least spacing of two calls to one URL.
    pub request_interval: Duration,
    /// What bounds every call: its timeout and the answer caps (`[daemon]`).
    pub http: HttpLimits,
}

impl YahooClientSettings {
    /// The settings of a `[yahoo_shopping]` section (reads the key file).
    pub fn from_config(cfg: &YahooShoppingConfig, http: HttpLimits) -> Result<Self, CallError> {
        let pem = std::fs::read_to_string(&cfg.public_key_file).map_err(|e| {
            CallError::configuration(
                "KEY_FILE",
                format!(
                    "公開鍵ファイル {} を読めません / cannot read public_key_file: {e}",
                    cfg.public_key_file.display()
                ),
            )
        })?;
        let key = StoreKey::from_pem(&pem, cfg.public_key_version)
            .map_err(|e| CallError::configuration("KEY_FILE", e))?;
        Ok(YahooClientSettings {
            seller_id: cfg.seller_id.clone(),
            api_base_url: cfg.api_base_url.clone(),
            auth_base_url: cfg.auth_base_url.clone(),
            client_id: cfg.client_id.clone(),
            client_secret: cfg.client_secret.value()?.clone(),
            refresh_token: cfg.refresh_token.value()?.clone(),
            key,
            request_interval: cfg.request_interval,
            http,
        })
    }
}

/// An answer's HTTP status and its XML root.
#[derive(Debug)]
pub struct Reply {
    /// 200, or 207 for setStock rows that failed.
    pub status: u16,
    /// The root element.
    pub root: Node,
}

/// The client. Shared by the poller, the dispatcher and the stock push.
pub struct YahooClient {
    http: reqwest::Client,
    settings: YahooClientSettings,
    token: Mutex<Option<(SecretString, Instant)>>,
    refresh: tokio::sync::Mutex<()>,
    pacers: Mutex<HashMap<&'static str, std::sync::Arc<Pacer>>>,
    problems: ProviderProblems,
}

impl std::fmt::Debug for YahooClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YahooClient")
            .field("api", &self.settings.api_base_url)
            .finish_non_exhaustive()
    }
}

impl YahooClient {
    /// A client whose key-header problem is recorded in `problems`.
    pub fn new(
        settings: YahooClientSettings,
        problems: ProviderProblems,
    ) -> Result<YahooClient, CallError> {
        http_client::parse_base("yahoo_shopping.api_base_url", &settings.api_base_url)?;
        Ok(YahooClient {
            http: http_client::build(settings.http)?,
            settings,
            token: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
            pacers: Mutex::new(HashMap::new()),
            problems,
        })
    }

    /// The store account.
    pub fn seller_id(&self) -> &str {
        &self.settings.seller_id
    }

    fn pacer(&self, path: &'static str) -> std::sync::Arc<Pacer> {
        let mut pacers = self
            .pacers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pacers
            .entry(path)
            .or_insert_with(|| std::sync::Arc::new(Pacer::new(self.settings.request_interval)))
            .clone()
    }

    fn cached_token(&self) -> Option<SecretString> {
        let token = self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        token
            .as_ref()
            .filter(|(_, until)| *until > Instant::now() + REFRESH_MARGIN)
            .map(|(t, _)| t.clone())
    }

    /// The access token, refreshed when due or when Yahoo! refused
    /// `refused` (one refresh at a time: a caller that waited for another's
    /// refresh takes its token).
    async fn access_token(
        &self,
        refused: Option<&SecretString>,
    ) -> Result<SecretString, CallError> {
        let usable =
            |t: &SecretString| refused.is_none_or(|r| r.expose_secret() != t.expose_secret());
        if let Some(t) = self.cached_token().filter(usable) {
            return Ok(t);
        }
        let _one = self.refresh.lock().await;
        if let Some(t) = self.cached_token().filter(usable) {
            return Ok(t);
        }
        let s = &self.settings;
        let answer = auth::token_call(
            &self.http,
            s.http.answer_bytes,
            &s.auth_base_url,
            &s.client_id,
            s.client_secret.expose_secret(),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s.refresh_token.expose_secret()),
            ],
            &s.key.headers(&s.seller_id)?,
        )
        .await?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        let token = SecretString::from(answer.access_token);
        *self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// An order call: `POST <path>` with an XML body, the key header, the
    /// authorize status checked.
    pub async fn order_call(&self, path: &'static str, body: String) -> Result<Node, CallError> {
        let reply = self
            .send(path, true, |r| {
                r.header(CONTENT_TYPE, "application/xml; charset=utf-8")
                    .body(body.clone())
            })
            .await?;
        Ok(reply.root)
    }

    /// A stock call: `POST <path>` form-encoded (no key header).
    pub async fn stock_call(
        &self,
        path: &'static str,
        form: &[(&str, String)],
    ) -> Result<Reply, CallError> {
        self.send(path, false, |r| r.form(form)).await
    }

    async fn send(
        &self,
        path: &'static str,
        order_api: bool,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Reply, CallError> {
        let url = format!("{}/{path}", self.settings.api_base_url);
        let mut refused: Option<SecretString> = None;
        loop {
            let token = self.access_token(refused.as_ref()).await?;
            self.pacer(path).wait().await;
            let mut request = build(self.http.post(&url))
                .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
            if order_api {
                for (name, value) in self.settings.key.headers(&self.settings.seller_id)? {
                    request = request.header(name, value);
                }
            }
            let answer =
                http_client::read_answer(request.send().await, self.settings.http.answer_bytes)
                    .await?;
            // A redirect is a wrong base URL (the shared policy follows none).
            if let Ok(from) = reqwest::Url::parse(&url) {
                http_client::refuse_redirect(
                    "yahoo_shopping.api_base_url",
                    &from,
                    answer.status,
                    &answer.headers,
                )?;
            }
            let status = answer.status.as_u16();
            let expired = status == 401
                && answer
                    .headers
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("invalid_token"));
            if expired && refused.is_none() {
                refused = Some(token);
                continue;
            }
            let root = wire::parse(&answer.body);
            if order_api && (200..300).contains(&status) {
                self.check_authorized(&answer.headers).await;
            }
            return judge(status, &answer.headers, root, order_api);
        }
    }

    /// Shows (or clears) the key-header problem from an order answer.
    async fn check_authorized(&self, headers: &reqwest::header::HeaderMap) {
        let accepted = headers
            .get("x-sws-authorize-status")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("authorized"));
        if accepted {
            self.problems
                .clear_part(Provider::YahooShopping, KEY_PART)
                .await;
        } else {
            self.problems
                .flag_part(Provider::YahooShopping, KEY_PART, KEY_NOT_ACCEPTED)
                .await;
        }
    }
}

/// What the merchant reads while Yahoo! does not accept the key header.
pub const KEY_NOT_ACCEPTED: &str = "Yahoo!が公開鍵を受け付けていません(X-SWS-Authorize-Status がありません)。このままでは\
     ログインの12時間後に受注を取り込めなくなります。ストアクリエイターProの暗号鍵管理で公開鍵と\
     バージョンを確認し、public_key_file と public_key_version を直してください / Yahoo! does not \
     accept the public-key header: order calls stop 12 hours after the login; check the key \
     and its version in 暗号鍵管理";

/// Turns a status and its body into the answer or the error.
fn judge(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    root: Result<Node, wire::XmlError>,
    order_api: bool,
) -> Result<Reply, CallError> {
    let error = root.as_ref().ok().and_then(wire::error_of);
    let code = error.as_ref().map(|e| e.code.clone()).unwrap_or_default();
    let code = code.as_str();
    let www = headers
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(e) = setup_refusal(status, code, www) {
        return Err(e);
    }
    if code == "ed-00002" || status == 503 {
        return Err(CallError::Transient {
            reason: "Yahoo! is in maintenance (ed-00002)".into(),
            retry_after: crate::call::retry_after(headers),
        });
    }
    if status == 403 {
        return Err(CallError::Transient {
            reason: "Yahoo! answered 403 without a known code: the request limit".into(),
            retry_after: Some(THROTTLE_BACKOFF),
        });
    }
    if status >= 500 || status == 429 || status == 401 {
        return Err(CallError::transient(format!(
            "Yahoo! answered {status} {code}"
        )));
    }
    let root = root.map_err(|e| CallError::transient(e.to_string()))?;
    let ng = root.text_of("Status") == "NG";
    if (200..300).contains(&status) && !(ng || root.name == "Error") {
        return Ok(Reply { status, root });
    }
    let message = error.map(|e| e.message).unwrap_or_default();
    Err(CallError::Rejected {
        http_status: status,
        code: if code.is_empty() {
            if order_api { "order" } else { "stock" }.into()
        } else {
            code.into()
        },
        message,
    })
}

/// The refusals only a person can mend, with what to do.
fn setup_refusal(status: u16, code: &str, www: &str) -> Option<CallError> {
    let (code, fix) = match code {
        "px-04102" => (
            code,
            "Yahoo!の受注APIの利用期限が切れました(公開鍵が受け付けられていなかったため12時間で失効)。\
             公開鍵の設定を直し、`ordersync yahoo authorize` でログインし直してください / the order \
             API session ended (12-hour rule: the key header was not accepted); fix the key and run \
             `ordersync yahoo authorize`",
        ),
        "px-04307" => (
            code,
            "Yahoo!でアプリへの同意が取り消されました。`ordersync yahoo authorize` でログインし直して\
             ください / the consent was revoked: run `ordersync yahoo authorize`",
        ),
        "px-04303" => (
            code,
            "このアプリは受注APIの利用登録がありません。Yahoo!デベロッパーネットワークで受注API\
             の利用申請をしてください / the app is not registered for the order API",
        ),
        "px-04306" => (
            code,
            "このサーバーのIPアドレスが受注APIに登録されていません。受注APIの利用申請で送信元IP\
             を登録してください / this server's address is not registered for the order API",
        ),
        "px-14303" => (
            code,
            "公開鍵のバージョンが受け付けられません。public_key_version を暗号鍵管理の表示に合わせて\
             ください / the key version is refused: set public_key_version",
        ),
        "px-14304" => (
            code,
            "ログインした Yahoo! JAPAN ID がこのストアのスタッフではありません。seller_id とログイン\
             したIDを確認してください / the authorizing ID is not staff of this store",
        ),
        _ if status == 401 && www.contains("insufficient_scope") => (
            "insufficient_scope",
            "アプリに「ストア向け操作関連の機能」のスコープがありません。アプリの設定で追加して\
             ください / the app lacks the store scope",
        ),
        _ => return None,
    };
    Some(CallError::configuration(code, fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<Reply, CallError> {
        judge(
            status,
            &Default::default(),
            wire::parse(body.as_bytes()),
            true,
        )
    }

    #[test]
    fn setup_refusals_need_a_person_and_limits_back_off() {
        for code in [
            "px-04102", "px-04307", "px-04303", "px-04306", "px-14303", "px-14304",
        ] {
            let body = format!("<Error><Message>m</Message><Code>{code}</Code></Error>");
            match answer(403, &body) {
                Err(CallError::Configuration { code: c, .. }) => assert_eq!(c, code),
                other => panic!("{code}: {other:?}"),
            }
        }
        match answer(
            403,
            "<Error><Message>Your Request was Forbidden</Message></Error>",
        ) {
            Err(CallError::Transient { retry_after, .. }) => {
                assert_eq!(retry_after, Some(THROTTLE_BACKOFF))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            answer(
                503,
                "<Error><Message>m</Message><Code>ed-00002</Code></Error>"
            ),
            Err(CallError::Transient { .. })
        ));
        assert!(matches!(
            answer(404, "<Error><Message>m</Message><Code>od91801</Code></Error>"),
            Err(CallError::Rejected { code, .. }) if code == "od91801"
        ));
        assert!(matches!(
            answer(
                200,
                "<Result><Status>NG</Status><Error><Code>od90101</Code></Error></Result>"
            ),
            Err(CallError::Rejected { .. })
        ));
        assert!(
            answer(
                200,
                "<ResultSet><Result><Status>OK</Status></Result></ResultSet>"
            )
            .is_ok()
        );
    }
}
