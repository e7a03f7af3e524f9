//! The simulator's HTTP surface and webhook pushes, over loopback.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::receiver::Receiver;
use super::*;

const WAIT: Duration = Duration::from_secs(10);

async fn start_sim(cfg: JgoodsSimConfig) -> JgoodsSimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, cfg).await.expect("start simulator")
}

/// A simulator pushing to a fresh receiver with the same auth.
async fn sim_with_receiver(auth: SimWebhookAuth) -> (JgoodsSimHandle, Receiver) {
    let receiver = Receiver::start(auth.clone()).await.expect("receiver");
    let sim = start_sim(JgoodsSimConfig {
        webhook_url: Some(receiver.url.clone()),
        webhook_auth: auth,
        ..JgoodsSimConfig::default()
    })
    .await;
    (sim, receiver)
}

fn hmac() -> SimWebhookAuth {
    SimWebhookAuth::Hmac {
        secret: "whsec".to_string(),
    }
}

async fn token(sim: &JgoodsSimHandle) -> String {
    let answer = json_of(
        reqwest::Client::new()
            .post(sim.token_url())
            .basic_auth("sim-client", Some("sim-client-secret"))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    answer["access_token"].as_str().unwrap().to_string()
}

/// The JSON answer to a request that must get one.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_string(),
    )
}

/// The token endpoint's RFC 6749 §5.2 `error`.
async fn token_error(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    (status, body["error"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn token_endpoint_checks_the_client_and_the_grant() {
    let sim = start_sim(JgoodsSimConfig {
        token_ttl: Duration::from_secs(900),
        ..JgoodsSimConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let ask = |id: &'static str, secret: &'static str, grant: &'static str| {
        http.post(sim.token_url())
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", grant)])
            .send()
    };
    let wrong = ask("sim-client", "nope", "client_credentials")
        .await
        .unwrap();
    assert_eq!(wrong.headers()["www-authenticate"], "Basic");
    assert_eq!(
        token_error(wrong).await,
        (401, "invalid_client".to_string())
    );
    let grant = ask("sim-client", "sim-client-secret", "password")
        .await
        .unwrap();
    assert_eq!(
        token_error(grant).await,
        (400, "unsupported_grant_type".to_string())
    );
    let ok: Value = ask("sim-client", "sim-client-secret", "client_credentials")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["token_type"], "bearer");
    assert_eq!(ok["expires_in"], 900);
    assert_eq!(sim.stats().token_requests, 3);
}

#[tokio::test]
async fn apis_require_a_live_token() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    sim.place_order("JG1", &[("SKU-1", 1, 100)]);
    let http = reqwest::Client::new();
    let url = format!("{}/JG1", sim.order_api_base_url());
    let none = http.get(&url).send().await.unwrap();
    assert!(none.headers().contains_key("www-authenticate"));
    assert_eq!(error_code(none).await, (401, "INVALID_TOKEN".to_string()));
    let bogus = http.get(&url).bearer_auth("bogus").send().await.unwrap();
    assert_eq!(bogus.status(), 401);
    let live = token(&sim).await;
    let ok = http.get(&url).bearer_auth(&live).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    sim.expire_tokens();
    let expired = http.get(&url).bearer_auth(&live).send().await.unwrap();
    assert_eq!(expired.status(), 401);
}

#[tokio::test]
async fn a_client_without_rights_to_an_api_is_refused_there_with_a_fresh_token() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    sim.place_order("JG1", &[("SKU-1", 1, 100)]);
    sim.set_api_access(Api::Order, false);
    let http = reqwest::Client::new();
    let order = format!("{}/JG1", sim.order_api_base_url());
    let categories = format!("{}/categories.json", sim.category_api_base_url());
    let fresh = token(&sim).await;
    let refused = http.get(&order).bearer_auth(&fresh).send().await.unwrap();
    assert_eq!(
        error_code(refused).await,
        (401, "INVALID_TOKEN".to_string())
    );
    // The other APIs take the same token.
    let other = http.get(&categories).bearer_auth(&fresh).send().await;
    assert_eq!(other.unwrap().status(), 200);
    sim.set_api_access(Api::Order, true);
    let granted = http.get(&order).bearer_auth(&fresh).send().await.unwrap();
    assert_eq!(granted.status(), 200);
}

#[tokio::test]
async fn wrong_token_urls_answer_as_the_web_site_does() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for kind in WrongTokenUrl::ALL {
        let answer = http
            .post(sim.wrong_token_url(kind))
            .basic_auth("sim-client", Some("sim-client-secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        assert!(
            headers[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{kind:?}"
        );
        let body = answer.text().await.unwrap();
        assert!(body.starts_with("<!DOCTYPE html>"), "{kind:?}: {body}");
        match kind {
            WrongTokenUrl::NotFoundPage => assert_eq!(status, 404),
            WrongTokenUrl::MethodNotAllowed => {
                assert_eq!(
                    (status, headers["allow"].to_str().unwrap()),
                    (405, "GET, HEAD")
                )
            }
            WrongTokenUrl::Redirect => {
                assert_eq!(status, 302);
                let login = sim.wrong_token_url(WrongTokenUrl::HtmlPage);
                assert!(login.ends_with(headers["location"].to_str().unwrap()));
            }
            WrongTokenUrl::HtmlPage => assert_eq!(status, 200),
        }
    }
    let stats = sim.stats();
    assert_eq!(
        (stats.wrong_token_url_requests, stats.token_requests),
        (4, 0)
    );
}

#[tokio::test]
async fn raw_answers_follow_the_contract() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    sim.place_order("JG1", &[("SKU-1", 2, 5500)]);
    sim.set_status("JG1", Status::Cancelled);
    let http = reqwest::Client::new();
    let live = token(&sim).await;
    let conflict = json_of(
        http.put(format!("{}/JG1", sim.order_api_base_url()))
            .bearer_auth(&live)
            .json(&json!({"items": [{"line_no": 1, "reserved_qty": 2}]})),
    )
    .await;
    assert_eq!(conflict["error"]["code"], "STATUS_CONFLICT");
    assert_eq!(conflict["error"]["status"], Status::Cancelled.label());

    let order = json_of(
        http.get(format!("{}/JG1", sim.order_api_base_url()))
            .bearer_auth(&live),
    )
    .await;
    let changed_at = order["status_changed_at"].as_str().unwrap();
    assert!(changed_at.ends_with("+09:00"), "{changed_at}");
    assert_eq!(order["items"][0]["reserved_qty"], Value::Null);
    assert_eq!(order["items"][0]["unit_price"], 5500);
    assert_eq!(order["parent_order_no"], Value::Null);

    let page = json_of(
        http.get(format!("{}/search.json", sim.order_api_base_url()))
            .query(&[("status", Status::Cancelled.label()), ("page", "1")])
            .bearer_auth(&live),
    )
    .await;
    assert_eq!(page["orders"][0]["order_no"], "JG1");
    assert_eq!(page["next_page"], Value::Null);
    let bad_page = http
        .get(format!("{}/search.json?page=0", sim.order_api_base_url()))
        .bearer_auth(&live)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_page.status(), 400);

    let many: Vec<Value> = (0..=MAX_STOCK_ITEMS)
        .map(|i| json!({"item_code": format!("SKU-{i}"), "stock": 1}))
        .collect();
    let too_many = http
        .put(format!("{}/item.json", sim.item_api_base_url()))
        .bearer_auth(&live)
        .json(&json!({ "items": many }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(too_many).await,
        (400, "TOO_MANY_ITEMS".to_string())
    );
}

#[tokio::test]
async fn webhook_retries_keep_the_delivery_id_and_sign_afresh() {
    let (sim, receiver) = sim_with_receiver(hmac()).await;
    receiver.fail("JG1", 2);
    sim.place_order("JG1", &[("SKU-1", 1, 100)]);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let pushes = receiver.received();
    assert_eq!(pushes.len(), 3);
    assert!(
        pushes
            .iter()
            .all(|p| p.delivery_id == pushes[0].delivery_id)
    );
    assert!(pushes.iter().all(|p| p.body == pushes[0].body));
    assert_eq!(
        receiver.unauthenticated(),
        0,
        "every attempt carried a valid signature"
    );
    assert_eq!(
        pushes.iter().map(|p| p.acked).collect::<Vec<_>>(),
        [false, false, true]
    );
    let stats = sim.stats();
    assert_eq!(
        (
            stats.webhooks.attempts,
            stats.webhooks.acked,
            stats.webhooks.failed
        ),
        (3, 1, 2)
    );
    assert_eq!(stats.deliveries[0].attempts, 3);
    assert_eq!(stats.deliveries[0].outcome, DeliveryOutcome::Acked);
}

#[tokio::test]
async fn bearer_webhooks_are_accepted() {
    let (sim, receiver) = sim_with_receiver(SimWebhookAuth::Bearer {
        secret: "tok".to_string(),
    })
    .await;
    sim.place_order("JG1", &[("SKU-1", 1, 100)]);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(receiver.acked_statuses("JG1"), [Status::AwaitingApproval]);
    assert!(receiver.received()[0].timestamp.is_none());
}

#[tokio::test]
async fn each_order_is_delivered_in_order_without_blocking_others() {
    let (sim, receiver) = sim_with_receiver(hmac()).await;
    receiver.fail("JG1", 5);
    sim.place_order("JG1", &[("SKU-1", 1, 100)]);
    sim.set_status("JG1", Status::AwaitingShipment);
    sim.set_status("JG1", Status::Shipped);
    sim.place_order("JG2", &[("SKU-2", 1, 100)]);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(
        receiver.acked_statuses("JG1"),
        [
            Status::AwaitingApproval,
            Status::AwaitingShipment,
            Status::Shipped
        ]
    );
    let pushes = receiver.received();
    let first_jg2 = pushes.iter().position(|p| p.order.order_no == "JG2");
    let first_jg1_ack = pushes
        .iter()
        .position(|p| p.order.order_no == "JG1" && p.acked);
    assert!(
        first_jg2 < first_jg1_ack,
        "JG2 did not wait for JG1's retries"
    );
    let times: Vec<_> = pushes
        .iter()
        .filter(|p| p.acked && p.order.order_no == "JG1")
        .map(|p| p.order.status_changed_at)
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn duplicates_can_be_sent_on_purpose() {
    let (sim, receiver) = sim_with_receiver(hmac()).await;
    sim.place_order("JG1", &[("SKU-1", 1, 100)]);
    assert!(sim.resend_webhook("JG1", true));
    assert!(sim.resend_webhook("JG1", false));
    assert!(!sim.resend_webhook("JG404", true));
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let pushes = receiver.received();
    assert_eq!(pushes.len(), 3);
    assert_eq!(pushes[0].delivery_id, pushes[1].delivery_id);
    assert_eq!(pushes[0].body, pushes[1].body);
    assert_ne!(pushes[1].delivery_id, pushes[2].delivery_id);
    assert_eq!(pushes[2].order, pushes[0].order);
}

#[tokio::test]
async fn undeliverable_webhooks_are_abandoned_after_the_budget() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/jgoods", closed.local_addr().unwrap());
    drop(closed);
    let sim = start_sim(JgoodsSimConfig {
        webhook_retry_budget: Duration::from_millis(100),
        ..JgoodsSimConfig::default()
    })
    .await;
    sim.place_order("JG1", &[("SKU-1", 1, 100)]);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    assert_eq!(sim.stats().webhooks.skipped, 1, "no URL yet");
    sim.set_webhook_url(url);
    sim.set_status("JG1", Status::Cancelled);
    assert!(sim.wait_webhooks_idle(WAIT).await);
    let stats = sim.stats();
    assert_eq!(stats.webhooks.abandoned, 1);
    assert!(stats.webhooks.attempts >= 2, "{stats:?}");
    assert_eq!(stats.webhooks.acked, 0);
}

#[tokio::test]
async fn customer_can_answer_on_demand() {
    let sim = start_sim(JgoodsSimConfig {
        default_decision: CustomerDecision::NoReply,
        ..JgoodsSimConfig::default()
    })
    .await;
    sim.place_order("JG1", &[("SKU-1", 2, 100)]);
    let short = reqwest::Client::new()
        .put(format!("{}/JG1", sim.order_api_base_url()))
        .bearer_auth(token(&sim).await)
        .json(&json!({"items": [{"line_no": 1, "reserved_qty": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 200);
    let answer: JgoodsOrder = short.json().await.unwrap();
    assert_eq!(answer.status, Status::AwaitingReply);
    assert!(!sim.customer_replies("JG2", CustomerDecision::Accept));
    assert!(sim.customer_replies("JG1", CustomerDecision::Accept));
    let order = sim.order("JG1").unwrap();
    assert_eq!(
        (order.status, order.items[0].qty),
        (Status::AwaitingApproval, 1)
    );
}

#[tokio::test]
async fn token_endpoint_can_take_the_secret_in_the_form_body() {
    let sim = start_sim(JgoodsSimConfig {
        token_auth: ClientAuth::ClientSecretPost,
        ..JgoodsSimConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let basic = http
        .post(sim.token_url())
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        token_error(basic).await,
        (401, "invalid_client".to_string())
    );
    let post = json_of(http.post(sim.token_url()).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
    ]))
    .await;
    assert_eq!(post["token_type"], "bearer");
    assert_eq!(sim.client_auth(), ClientAuth::ClientSecretPost);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = start_sim(JgoodsSimConfig::default()).await;
    let url = sim.token_url();
    // A kept-alive connection must not hold the shutdown up.
    let http = reqwest::Client::new();
    token(&sim).await;
    let _ = http.post(&url).send().await.unwrap();
    let stopped = tokio::time::timeout(WAIT, sim.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown hung");
    let after = reqwest::Client::new().post(url).send().await;
    assert!(after.is_err());
}
