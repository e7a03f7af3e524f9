//! The simulator's HTTP surface over loopback with a plain HTTP client,
//! requests shaped from the contract (`yahoo-shopping.md`): YConnect, the
//! key header and its 12-hour rule, the allow-list, orders, stock, limits.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

use super::*;

const HOUR: Duration = Duration::from_secs(3600);
const WAIT: Duration = Duration::from_secs(10);

/// The contract's settings without the per-second limit, which only its
/// own test wants.
fn unpaced() -> Settings {
    Settings {
        per_url_interval: Duration::ZERO,
        ..Settings::default()
    }
}

async fn start_sim(settings: Settings) -> YahooSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let cfg = YahooSimConfig {
        settings,
        ..YahooSimConfig::default()
    };
    start(listener, cfg).await.expect("start simulator")
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Opens the authorization page as a person would and returns the `code`
/// of the redirect.
async fn code(sim: &YahooSimHandle, extra: &[(&str, &str)]) -> String {
    let app = sim.app();
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", app.client_id.as_str()),
        ("redirect_uri", app.redirect_uris[0].as_str()),
        ("scope", "openid profile"),
        ("state", "st4te"),
        ("nonce", "n0nce"),
        ("bail", "1"),
    ];
    query.extend_from_slice(extra);
    let answer = no_redirects()
        .get(sim.authorization_url())
        .query(&query)
        .send()
        .await
        .expect("authorization page");
    assert_eq!(answer.status(), StatusCode::FOUND);
    let location = answer.headers()["location"].to_str().expect("location");
    let url = reqwest::Url::parse(location).expect("callback URL");
    assert!(location.starts_with(&app.redirect_uris[0]), "{location}");
    let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs.get("state").map(String::as_str), Some("st4te"));
    pairs.get("code").cloned().unwrap_or_default()
}

async fn token_call(
    sim: &YahooSimHandle,
    secret: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(sim.token_url())
        .basic_auth(&sim.app().client_id, Some(secret))
        .form(form)
        .send()
        .await
        .expect("token endpoint");
    let status = answer.status();
    (status, answer.json().await.expect("JSON"))
}

async fn exchange(sim: &YahooSimHandle, code: &str) -> (StatusCode, Value) {
    let secret = sim.app().client_secret.clone();
    let redirect = sim.app().redirect_uris[0].clone();
    token_call(
        sim,
        &secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect),
        ],
    )
    .await
}

/// A fresh authorization: (access token, refresh token).
async fn authorize(sim: &YahooSimHandle) -> (String, String) {
    let code = code(sim, &[]).await;
    let (status, body) = exchange(sim, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let field = |k: &str| body[k].as_str().expect(k).to_string();
    (field("access_token"), field("refresh_token"))
}

async fn refresh(sim: &YahooSimHandle, refresh_token: &str) -> (StatusCode, Value) {
    let secret = sim.app().client_secret.clone();
    token_call(
        sim,
        &secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// An answer: status, `X-SWS-Authorize-Status`, body.
struct Answer {
    status: StatusCode,
    authorized: bool,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    /// The first `<tag>`'s text.
    fn tag(&self, tag: &str) -> Option<&str> {
        tag_in(&self.body, tag)
    }
}

fn tag_in<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))?;
    Some(&body[start..start + end])
}

async fn read(answer: reqwest::Response) -> Answer {
    let status = answer.status();
    let headers = answer.headers().clone();
    let authorized = headers
        .get("x-sws-authorize-status")
        .is_some_and(|v| v == "authorized");
    Answer {
        status,
        authorized,
        headers,
        body: answer.text().await.expect("body"),
    }
}

/// The key header a client sends: `Some(version)` signs validly.
enum Key {
    None,
    Valid(u32),
    /// This signature, with this version header (or none).
    Raw(String, Option<u32>),
}

async fn post_xml(
    sim: &YahooSimHandle,
    token: &str,
    key: Key,
    endpoint: &str,
    xml: &str,
) -> Answer {
    post_from(&reqwest::Client::new(), sim, token, key, endpoint, xml).await
}

async fn post_from(
    http: &reqwest::Client,
    sim: &YahooSimHandle,
    token: &str,
    key: Key,
    endpoint: &str,
    xml: &str,
) -> Answer {
    let mut request = http
        .post(format!("{}{endpoint}", sim.api_base_url()))
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml.to_string());
    let (signature, version) = match key {
        Key::None => (None, None),
        Key::Valid(version) => (sim.signature(version), Some(version)),
        Key::Raw(signature, version) => (Some(signature), version),
    };
    if let Some(signature) = signature {
        request = request.header("X-sws-signature", signature);
    }
    if let Some(version) = version {
        request = request.header("X-sws-signature-version", version.to_string());
    }
    read(request.send().await.expect("answer")).await
}

async fn post_form(sim: &YahooSimHandle, token: &str, endpoint: &str, form: &str) -> Answer {
    let answer = reqwest::Client::new()
        .post(format!("{}{endpoint}", sim.api_base_url()))
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .expect("answer");
    read(answer).await
}

/// A signed order call (key 1), as a correct client makes it.
async fn order_call(sim: &YahooSimHandle, token: &str, endpoint: &str, xml: &str) -> Answer {
    post_xml(sim, token, Key::Valid(1), endpoint, xml).await
}

/// A stock call for this store: `rest` follows `seller_id=…&`.
async fn stock(sim: &YahooSimHandle, token: &str, endpoint: &str, rest: &str) -> Answer {
    let form = format!("seller_id={}&{rest}", sim.seller_id());
    post_form(sim, token, endpoint, &form).await
}

/// A new access token by the refresh token.
async fn fresh_access(sim: &YahooSimHandle, refresh_token: &str) -> String {
    let (status, body) = refresh(sim, refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().expect("access").to_string()
}

/// A token endpoint's refusal.
fn assert_token_error(answer: (StatusCode, Value), status: StatusCode, error: &str) {
    assert_eq!(
        (answer.0, answer.1["error"].as_str()),
        (status, Some(error)),
        "{}",
        answer.1
    );
}

fn compact(at: chrono::DateTime<chrono::FixedOffset>) -> String {
    at.format("%Y%m%d%H%M%S").to_string()
}

/// orderList over the last two days to tomorrow with `extra` conditions.
fn list_xml(sim: &YahooSimHandle, extra: &str, search: &str) -> String {
    let now = sim.now();
    format!(
        "<Req><Search>{search}<Condition><OrderTimeFrom>{}</OrderTimeFrom><OrderTimeTo>{}</OrderTimeTo>{extra}</Condition>\
         <Field>OrderId,OrderStatus,IsReadOnly,LastUpdateTime,PublicationTime,FraudHoldStatus</Field></Search>\
         <SellerId>{}</SellerId></Req>",
        compact(now - TimeDelta::days(2)),
        compact(now + TimeDelta::days(1)),
        sim.seller_id()
    )
}

fn info_xml(sim: &YahooSimHandle, order_id: &str) -> String {
    format!(
        "<Req><Target><OrderId>{order_id}</OrderId></Target><SellerId>{}</SellerId></Req>",
        sim.seller_id()
    )
}

/// An order placed an hour ago (outside the cancel window).
fn old_order(sim: &YahooSimHandle, items: Vec<NewItem>) -> NewOrder {
    NewOrder {
        order_time: Some(sim.now() - TimeDelta::hours(1)),
        ..NewOrder::new(items)
    }
}

fn shirt() -> Vec<NewItem> {
    vec![NewItem::new("tshirt", "red-m", 2, 1500)]
}

#[tokio::test]
async fn a_code_is_single_use_and_lives_600_seconds() {
    let sim = start_sim(unpaced()).await;
    let first = code(&sim, &[]).await;
    let (status, body) = exchange(&sim, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string());
    assert_token_error(
        exchange(&sim, &first).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    let late = code(&sim, &[]).await;
    sim.advance_clock(Duration::from_secs(601));
    assert_token_error(
        exchange(&sim, &late).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    let fresh = code(&sim, &[]).await;
    let (status, body) = token_call(
        &sim,
        "wrong-secret",
        &[("grant_type", "authorization_code"), ("code", &fresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
}

#[tokio::test]
async fn pkce_needs_the_verifier_of_the_challenge() {
    use base64::Engine;
    use sha2::Digest;
    let sim = start_sim(unpaced()).await;
    let verifier = "a-verifier-of-enough-length-0123456789-abcdefghij";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let secret = sim.app().client_secret.clone();
    let redirect = sim.app().redirect_uris[0].clone();
    for (given, expected) in [
        ("wrong", StatusCode::BAD_REQUEST),
        (verifier, StatusCode::OK),
    ] {
        let code = code(&sim, &pkce).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", given),
        ];
        let (status, body) = token_call(&sim, &secret, &form).await;
        assert_eq!(status, expected, "{body}");
    }
}

#[tokio::test]
async fn a_refused_consent_returns_to_the_callback_and_an_unknown_callback_is_not_redirected() {
    let sim = start_sim(unpaced()).await;
    sim.set_refuse_consent(true);
    assert_eq!(code(&sim, &[]).await, "", "no code on a refusal");
    let answer = no_redirects()
        .get(sim.authorization_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", sim.app().client_id.as_str()),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .send()
        .await
        .expect("page");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn refresh_gives_no_new_refresh_token_and_ends_28_days_after_the_authorization() {
    let sim = start_sim(unpaced()).await;
    let (access, refresh_token) = authorize(&sim).await;
    let get_stock = format!("seller_id={}&item_code=a", sim.seller_id());
    assert_eq!(
        post_form(&sim, &access, "getStock", &get_stock)
            .await
            .status,
        StatusCode::OK
    );

    sim.advance_clock(HOUR);
    let expired = post_form(&sim, &access, "getStock", &get_stock).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    let challenge = expired.headers["www-authenticate"]
        .to_str()
        .expect("header");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(
        expired.body.contains("Please provide valid credentials."),
        "{}",
        expired.body
    );

    let (status, body) = refresh(&sim, &refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(
        post_form(&sim, &access, "getStock", &get_stock)
            .await
            .status,
        StatusCode::OK
    );

    sim.advance_clock(Duration::from_secs(2_419_200) - HOUR - Duration::from_secs(5));
    assert_eq!(
        refresh(&sim, &refresh_token).await.0,
        StatusCode::OK,
        "seconds before the end"
    );
    sim.advance_clock(Duration::from_secs(5));
    assert_token_error(
        refresh(&sim, &refresh_token).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
}

#[tokio::test]
async fn a_revoked_consent_refuses_refresh_and_calls() {
    let sim = start_sim(unpaced()).await;
    let (access, refresh_token) = authorize(&sim).await;
    sim.revoke();
    assert_token_error(
        refresh(&sim, &refresh_token).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let call = post_xml(
        &sim,
        &access,
        Key::Valid(1),
        "orderList",
        &list_xml(&sim, "", ""),
    )
    .await;
    assert_eq!(call.status, StatusCode::FORBIDDEN);
    assert_eq!(call.tag("Code"), Some("px-04307"));
}

#[tokio::test]
async fn a_call_without_a_token_names_the_missing_parameters() {
    let sim = start_sim(unpaced()).await;
    let answer = reqwest::Client::new()
        .post(format!("{}getStock", sim.api_base_url()))
        .body("seller_id=simstore&item_code=a")
        .send()
        .await
        .expect("answer");
    let answer = read(answer).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.headers.contains_key("x-yahooj-autherror"));
    assert!(
        answer
            .body
            .contains("Authentication parameters in your request incompleted.")
    );
}

#[tokio::test]
async fn without_an_accepted_key_order_calls_stop_12_hours_after_the_authorization() {
    let sim = start_sim(unpaced()).await;
    let (access, refresh_token) = authorize(&sim).await;
    let list = list_xml(&sim, "", "");
    let unsigned = post_xml(&sim, &access, Key::None, "orderList", &list).await;
    assert_eq!(
        unsigned.status,
        StatusCode::OK,
        "no error for a missing key"
    );
    assert!(!unsigned.authorized);
    let signed = post_xml(&sim, &access, Key::Valid(1), "orderList", &list).await;
    assert_eq!(signed.status, StatusCode::OK);
    assert!(signed.authorized, "the answer says the key was accepted");

    sim.advance_clock(12 * HOUR);
    let access = fresh_access(&sim, &refresh_token).await;
    let list = list_xml(&sim, "", "");
    let unsigned = post_xml(&sim, &access, Key::None, "orderList", &list).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unsigned.tag("Code"), Some("px-04102"));
    assert!(
        unsigned
            .body
            .contains("This API session is shorter than another API.")
    );
    let signed = post_xml(&sim, &access, Key::Valid(1), "orderList", &list).await;
    assert_eq!(signed.status, StatusCode::OK);
    assert!(signed.authorized);
    // The stock API knows no key and no 12-hour rule.
    let form = format!("seller_id={}&item_code=a", sim.seller_id());
    assert_eq!(
        post_form(&sim, &access, "getStock", &form).await.status,
        StatusCode::OK
    );
    assert_eq!(sim.stats().signatures_accepted, 2);
}

#[tokio::test]
async fn a_wrong_key_header_is_no_error_but_is_not_authorized() {
    let sim = start_sim(unpaced()).await;
    let (access, _) = authorize(&sim).await;
    let pem = sim.public_key_pem(1).expect("key 1");
    let now = sim.now().timestamp();
    let list = list_xml(&sim, "", "");
    let cases = [
        (
            "other store",
            encrypt_signature(&pem, &format!("otherstore:{now}")).expect("rsa"),
        ),
        (
            "too old",
            encrypt_signature(&pem, &format!("simstore:{}", now - 601)).expect("rsa"),
        ),
        ("not base64", "!!!".to_string()),
    ];
    for (what, signature) in cases {
        let answer = post_xml(
            &sim,
            &access,
            Key::Raw(signature, Some(1)),
            "orderList",
            &list,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{what}");
        assert!(!answer.authorized, "{what}");
    }
    let within = encrypt_signature(&pem, &format!("simstore:{}", now - 590)).expect("rsa");
    let key = Key::Raw(within.clone(), Some(1));
    let answer = post_xml(&sim, &access, key, "orderList", &list).await;
    assert!(answer.authorized, "inside the skew");
    let no_version = post_xml(&sim, &access, Key::Raw(within, None), "orderList", &list).await;
    assert_eq!(no_version.status, StatusCode::FORBIDDEN);
    assert_eq!(no_version.tag("Code"), Some("px-14303"));
    assert_eq!(sim.stats().signatures_refused, 3);
}

#[tokio::test]
async fn an_expired_key_falls_back_to_the_12_hour_rule_and_a_second_key_takes_over() {
    let settings = Settings {
        key_lifetime: 2 * HOUR,
        ..unpaced()
    };
    let sim = start_sim(settings).await;
    let (_, refresh_token) = authorize(&sim).await;
    assert_eq!(sim.issue_key(), Ok(2));
    assert_eq!(
        sim.issue_key(),
        Err(KeyError::TooMany),
        "two active at most"
    );
    assert_ne!(sim.public_key_pem(1), sim.public_key_pem(2));
    assert!(
        sim.public_key_pem(2)
            .expect("pem")
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    sim.advance_clock(13 * HOUR);
    let access = fresh_access(&sim, &refresh_token).await;
    let list = list_xml(&sim, "", "");
    let expired = post_xml(&sim, &access, Key::Valid(1), "orderList", &list).await;
    assert_eq!(expired.tag("Code"), Some("px-04102"));
    assert!(sim.drop_key(1) && sim.drop_key(2));
    assert_eq!(sim.issue_key(), Ok(3));
    let renewed = post_xml(&sim, &access, Key::Valid(3), "orderList", &list).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    assert!(renewed.authorized);
}

#[tokio::test]
async fn order_apis_refuse_unregistered_sources_and_stock_does_not() {
    let sim = start_sim(unpaced()).await;
    let (access, _) = authorize(&sim).await;
    let office = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let list = list_xml(&sim, "", "");
    let refused = post_from(&office, &sim, &access, Key::Valid(1), "orderList", &list).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.tag("Code"), Some("px-04306"));
    let stock = office
        .post(format!("{}getStock", sim.api_base_url()))
        .bearer_auth(&access)
        .body(format!("seller_id={}&item_code=a", sim.seller_id()))
        .send()
        .await
        .expect("answer");
    assert_eq!(stock.status(), StatusCode::OK);
    let server = post_xml(&sim, &access, Key::Valid(1), "orderList", &list).await;
    assert_eq!(server.status, StatusCode::OK);
}

mod orders;
mod stock;

#[tokio::test]
async fn setup_problems_answer_their_own_codes() {
    let sim = start_sim(unpaced()).await;
    let (access, refresh_token) = authorize(&sim).await;
    let list = list_xml(&sim, "", "");
    sim.set_order_api_registered(false);
    let unregistered = order_call(&sim, &access, "orderList", &list).await;
    assert_eq!(unregistered.status, StatusCode::FORBIDDEN);
    assert_eq!(unregistered.tag("Code"), Some("px-04303"));
    let stock_call = stock(&sim, &access, "getStock", "item_code=a").await;
    assert_eq!(
        stock_call.status,
        StatusCode::OK,
        "the stock API needs no order-API application"
    );
    sim.set_order_api_registered(true);

    sim.set_store_scope(false);
    let no_scope = stock(&sim, &access, "getStock", "item_code=a").await;
    assert_eq!(no_scope.status, StatusCode::UNAUTHORIZED);
    let challenge = no_scope.headers["www-authenticate"]
        .to_str()
        .expect("header");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    sim.set_store_scope(true);

    // The key headers on a refresh are taken (the PHP clients send them)
    // and not needed.
    let signed_refresh = reqwest::Client::new()
        .post(sim.token_url())
        .basic_auth(&sim.app().client_id, Some(&sim.app().client_secret))
        .header("X-sws-signature", sim.signature(1).expect("key"))
        .header("X-sws-signature-version", "1")
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
        ])
        .send()
        .await
        .expect("token endpoint");
    assert_eq!(signed_refresh.status(), StatusCode::OK);
    fresh_access(&sim, &refresh_token).await;
    assert_eq!(sim.stats().refreshes_with_signature, 1);
}

#[tokio::test]
async fn a_transport_fault_cuts_the_answer_once() {
    let sim = start_sim(unpaced()).await;
    let (access, _) = authorize(&sim).await;
    sim.inject(
        Endpoint::SetStock,
        Fault::Transport(crate::transport::TransportFault::Reset),
        1,
    );
    let cut = reqwest::Client::new()
        .post(format!("{}setStock", sim.api_base_url()))
        .bearer_auth(&access)
        .body("seller_id=simstore&item_code=a&quantity=1")
        .send()
        .await;
    assert!(cut.is_err(), "no answer at all");
    assert!(sim.unbound_stock("a").is_none(), "the call was not handled");
    let next = stock(&sim, &access, "setStock", "item_code=a&quantity=1").await;
    assert_eq!(next.status, StatusCode::OK);
    assert!(sim.unbound_stock("a").is_some());
}
