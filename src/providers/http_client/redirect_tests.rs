//! Clients that follow no redirect at all say so as a configuration problem
//! naming the key whose URL redirected; the other origin receives nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::response::IntoResponse;
use tokio::net::TcpListener;

use super::REDIRECT_ELSEWHERE;
use crate::call::CallError;
use crate::providers::credit::kuroneko::client::{KuronekoClient, KuronekoClientSettings};
use crate::providers::jgoods::client::{JgoodsClient, JgoodsClientSettings, TokenAuth};
use crate::providers::komoju::client::{KomojuClient, KomojuClientSettings};

async fn serve(app: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// A J-goods client whose three APIs are under `base`.
pub(super) fn jgoods_client(base: &str, token_url: &str, timeout: Duration) -> JgoodsClient {
    JgoodsClient::new(JgoodsClientSettings {
        order_api_base_url: format!("{base}/order/v2"),
        item_api_base_url: format!("{base}/v3"),
        category_api_base_url: format!("{base}/category/v1"),
        token_url: token_url.to_string(),
        client_id: "id".into(),
        client_secret: "secret".to_string().into(),
        token_auth: TokenAuth::Basic,
        http: crate::call::HttpLimits::with_timeout(timeout),
    })
    .unwrap()
}

/// A Kuroneko client calling `base`.
pub(super) fn kuroneko_client(base: String, timeout: Duration) -> KuronekoClient {
    KuronekoClient::new(KuronekoClientSettings {
        api_base_url: base,
        store_code: "12345678901".into(),
        password: "pw".to_string().into(),
        http: crate::call::HttpLimits::with_timeout(timeout),
    })
    .unwrap()
}

/// A base URL answering 307 to a second loopback server (another port),
/// and how many requests that second server received.
async fn redirecting_elsewhere() -> (String, Arc<AtomicUsize>) {
    let received = Arc::new(AtomicUsize::new(0));
    let counted = received.clone();
    let elsewhere = serve(axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { "{}" }
    }))
    .await;
    let base = serve(axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let target = format!("{elsewhere}{uri}");
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, target)],
            )
                .into_response()
        }
    }))
    .await;
    (base, received)
}

/// The call's error is [`REDIRECT_ELSEWHERE`] naming `key`, Japanese first.
fn assert_names<T: std::fmt::Debug>(result: Result<T, CallError>, key: &str) {
    match result {
        Err(CallError::Configuration { code, fix }) => {
            assert_eq!(code, REDIRECT_ELSEWHERE);
            let (ja, en) = fix.split_once(" / ").expect("Japanese / English");
            assert!(ja.contains(key) && ja.contains("転送"), "{ja}");
            assert!(en.contains(key), "{en}");
        }
        other => panic!("expected a configuration problem, got {other:?}"),
    }
}

#[tokio::test]
async fn a_kuroneko_redirect_elsewhere_names_its_key_and_sends_nothing_there() {
    let (base, received) = redirecting_elsewhere().await;
    let client = kuroneko_client(base, Duration::from_secs(5));
    assert_names(client.credit_result("K-1").await, "kuroneko.api_base_url");
    assert_eq!(received.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_komoju_redirect_elsewhere_names_its_key_and_sends_nothing_there() {
    let (base, received) = redirecting_elsewhere().await;
    let client = KomojuClient::new(KomojuClientSettings {
        api_base_url: base,
        secret_key: "sk_test_0123456789".to_string().into(),
        api_version: "2025-01-28".to_string(),
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
    })
    .unwrap();
    assert_names(
        client.get_payment("abcdefghijklmnopqrstuvwxy").await,
        "komoju.api_base_url",
    );
    assert_eq!(received.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_rakuten_pay_redirect_elsewhere_names_its_key_and_sends_nothing_there() {
    use crate::providers::rakuten_pay::client::{RakutenClient, RakutenClientSettings};
    let (base, received) = redirecting_elsewhere().await;
    let client = RakutenClient::new(RakutenClientSettings {
        api_base_url: format!("{base}/es/2.0/order"),
        license_api_url: format!("{base}/es/1.0/license-management"),
        service_secret: "abc".to_string().into(),
        license_key: "def".to_string().into(),
        http: crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
    })
    .unwrap();
    let orders = vec!["123456-20261122-0000000001".to_string()];
    assert_names(client.get_order(&orders).await, "rakuten_pay.api_base_url");
    assert_names(client.license_expiry().await, "rakuten_pay.license_api_url");
    assert_eq!(received.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_rakuten_inventory_redirect_elsewhere_names_its_key_and_sends_nothing_there() {
    use crate::providers::rakuten_pay::inventory::InventoryClient;
    let (base, received) = redirecting_elsewhere().await;
    let client = InventoryClient::new(
        &format!("{base}/es/2.0"),
        &"abc".to_string().into(),
        &"def".to_string().into(),
        crate::call::HttpLimits::with_timeout(Duration::from_secs(5)),
    )
    .unwrap();
    assert_names(
        client.search_items("*").await,
        "rakuten_pay.inventory_api_url",
    );
    assert_eq!(received.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_jgoods_api_redirect_elsewhere_names_its_key_and_sends_nothing_there() {
    let (base, received) = redirecting_elsewhere().await;
    let tokens = serve(axum::Router::new().fallback(|| async {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"access_token":"t","token_type":"bearer","expires_in":3600}"#,
        )
    }))
    .await;
    let client = jgoods_client(
        &base,
        &format!("{tokens}/oauth/token"),
        Duration::from_secs(5),
    );
    assert_names(client.get_order("JG1").await, "jgoods.order_api_base_url");
    assert_eq!(received.load(Ordering::SeqCst), 0);
}
