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

async fn serve(app: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test]
async fn a_kuroneko_redirect_elsewhere_names_its_key_and_sends_nothing_there() {
    let received = Arc::new(AtomicUsize::new(0));
    let counted = received.clone();
    let elsewhere = serve(axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { "<return><returnCode>0</returnCode></return>" }
    }))
    .await;
    let target = format!("{elsewhere}/kuroneko");
    let base = serve(axum::Router::new().fallback(move || {
        let target = target.clone();
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, target)],
            )
                .into_response()
        }
    }))
    .await;
    let client = KuronekoClient::new(KuronekoClientSettings {
        api_base_url: base,
        store_code: "12345678901".into(),
        password: "pw".to_string().into(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    match client.credit_result("K-1").await {
        Err(CallError::Configuration { code, fix }) => {
            assert_eq!(code, REDIRECT_ELSEWHERE);
            assert!(fix.contains("kuroneko.api_base_url"), "{fix}");
            assert!(fix.contains(" / "), "{fix}");
        }
        other => panic!("expected a configuration problem, got {other:?}"),
    }
    assert_eq!(received.load(Ordering::SeqCst), 0);
}
