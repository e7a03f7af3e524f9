//! J-goods' token endpoint (the contract's "OAuth2 token (2026-12)"): the
//! client credentials by HTTP Basic or, with `token_auth = "post"`, in the
//! form body; a 400/401 from it is a configuration problem shown with the
//! fix, the calls wait and none is given up.

use std::time::Duration;

use ordersync_sim::jgoods::{ClientAuth, JgoodsSimConfig};

use crate::helpers::*;

fn post_only() -> JgoodsSimConfig {
    JgoodsSimConfig {
        token_auth: ClientAuth::ClientSecretPost,
        ..JgoodsSimConfig::default()
    }
}

#[tokio::test]
async fn a_token_endpoint_taking_the_secret_in_the_body_works_with_token_auth_post() {
    let app = spawn_app_with(Options {
        sim: post_only(),
        jgoods_extra: "token_auth = \"post\"".into(),
        ..Options::default()
    })
    .await;
    app.set_stock("SKU-001", 10).await;
    app.sim.place_order("JGT1", &[("SKU-001", 2, 5500)]);
    app.wait_state("JGT1", "confirmed", "deferred").await;
    app.stop().await;
}

#[tokio::test]
async fn refused_client_credentials_are_a_configuration_problem_and_the_calls_wait() {
    let app = spawn_app_with(Options {
        // The endpoint takes the secret in the body; the daemon sends Basic.
        sim: post_only(),
        retry: ("20ms", "300ms", "1s"),
        ..Options::default()
    })
    .await;
    app.set_stock("SKU-001", 10).await;
    app.sim.place_order("JGT2", &[("SKU-001", 2, 5500)]);
    let fix = app.wait_provider_problem("jgoods").await;
    assert!(
        fix.contains("client_secret") && fix.contains("token_auth"),
        "{fix}"
    );
    assert!(
        app.metrics()
            .await
            .contains("ordersync_provider_problem{provider=\"jgoods\"} 1")
    );
    // Longer than give_up_after: the call waits, uncounted, never given up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, pending) = app.get("/api/v1/outbox?state=pending").await;
    let calls = pending["outbox"].as_array().unwrap();
    assert!(!calls.is_empty(), "{pending}");
    assert!(calls.iter().all(|c| c["attempts"] == 0), "{pending}");
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"].as_array().map(Vec::len), Some(0), "{dead}");
    let tokens = app.sim.stats().token_requests;
    assert!((1..=15).contains(&tokens), "no tight loop: {tokens}");
    app.stop().await;
}
