//! J-goods' token endpoint (the contract's "OAuth2 token (2026-12)"): the
//! client credentials by HTTP Basic or, with `token_auth = "post"`, in the
//! form body; a 400/401 from it, a wrong `token_url` (a 404 page, a 405, a
//! redirect, an HTML page) and a 401 that comes back with a freshly issued
//! token are each one configuration problem shown with the key to fix: the
//! calls wait, none is retried as an outage or given up.

use ordersync_sim::jgoods::{Api, ClientAuth, JgoodsSimConfig, WrongTokenUrl};
use serde_json::Value;

use crate::helpers::*;

fn post_only() -> JgoodsSimConfig {
    JgoodsSimConfig {
        token_auth: ClientAuth::ClientSecretPost,
        ..JgoodsSimConfig::default()
    }
}

/// Retries of milliseconds given up after a second, so that a call treated
/// as an outage would be counted and given up within the test.
const QUICK_GIVE_UP: (&str, &str, &str) = ("20ms", "300ms", "1s");

/// Waits until every pending call has been tried again more than a second
/// (the retry budget) after it was queued, and checks on the way that none
/// was counted as an attempt or given up: a configuration problem makes the
/// calls wait, uncounted, never given up.
async fn wait_blocked_past_the_budget(app: &TestApp) -> Vec<Value> {
    eventually(std::time::Duration::from_millis(50), || async {
        let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
        assert_eq!(dead["outbox"].as_array().map(Vec::len), Some(0), "{dead}");
        let (_, pending) = app.get("/api/v1/outbox?state=pending").await;
        let calls = pending["outbox"].as_array().cloned().unwrap_or_default();
        assert!(calls.iter().all(|c| c["attempts"] == 0), "{pending}");
        let seconds = |c: &Value, field: &str| {
            chrono::DateTime::parse_from_rfc3339(c[field].as_str().unwrap_or_default())
                .map(|t| t.timestamp())
                .unwrap_or_default()
        };
        let past = |c: &Value| seconds(c, "updated_at") - seconds(c, "created_at") >= 2;
        if !calls.is_empty() && calls.iter().all(past) {
            Ok(calls)
        } else {
            Err(format!(
                "the calls were not tried again past their budget: {pending}"
            ))
        }
    })
    .await
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
        retry: QUICK_GIVE_UP,
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
    wait_blocked_past_the_budget(&app).await;
    // The refusal is remembered: the waiting calls do not each ask again.
    assert_eq!(app.sim.stats().token_requests, 1, "asked once");
    app.stop().await;
}

/// Each way a wrong `token_url` answers is one problem naming `token_url`:
/// J-goods' order calls wait for it, none is counted or given up, and the
/// page is asked once, not again for each waiting call.
#[tokio::test]
async fn a_wrong_token_url_is_one_configuration_problem_naming_token_url() {
    for kind in WrongTokenUrl::ALL {
        let app = spawn_app_with(Options {
            wrong_token_url: Some(kind),
            retry: QUICK_GIVE_UP,
            ..Options::default()
        })
        .await;
        app.set_stock("SKU-001", 10).await;
        app.sim.place_order("JGU1", &[("SKU-001", 2, 5500)]);
        app.sim.place_order("JGU2", &[("SKU-001", 1, 5500)]);
        let fix = app.wait_provider_problem("jgoods").await;
        assert!(
            fix.contains("[jgoods] token_url") && fix.contains("token_url is wrong or unreachable"),
            "{kind:?}: {fix}"
        );
        // Japanese first, then the English.
        assert!(fix.starts_with("J-goods"), "{kind:?}: {fix}");
        assert!(fix.find("トークン") < fix.find(" / "), "{kind:?}: {fix}");
        let calls = wait_blocked_past_the_budget(&app).await;
        assert_eq!(calls.len(), 2, "{kind:?}: one call per order, waiting");
        assert_eq!(app.wait_provider_problem("jgoods").await, fix, "{kind:?}");
        let stats = app.sim.stats();
        assert_eq!(stats.token_requests, 0, "{kind:?}");
        // Asked once, not once per waiting call (nor in a loop).
        assert_eq!(stats.wrong_token_url_requests, 1, "{kind:?}");
        assert_eq!(
            stats.put_count("JGU1"),
            0,
            "{kind:?}: nothing sent without a token"
        );
        app.stop().await;
    }
}

/// A client J-goods gives tokens to but not the rights to the order-info API
/// gets 401 again with a token just issued: a problem naming the API and
/// `client_id`, not an outage; once J-goods grants the rights the waiting
/// call goes out and the problem clears.
#[tokio::test]
async fn a_401_with_a_fresh_token_is_a_configuration_problem_naming_the_client() {
    let app = spawn_app_with(Options {
        retry: QUICK_GIVE_UP,
        ..Options::default()
    })
    .await;
    app.sim.set_api_access(Api::Order, false);
    app.set_stock("SKU-001", 10).await;
    app.sim.place_order("JGR1", &[("SKU-001", 2, 5500)]);
    let fix = app.wait_provider_problem("jgoods").await;
    assert!(
        fix.contains("受注情報API") && fix.contains("[jgoods] client_id"),
        "{fix}"
    );
    wait_blocked_past_the_budget(&app).await;
    app.sim.set_api_access(Api::Order, true);
    app.wait_state("JGR1", "confirmed", "deferred").await;
    app.wait_problem_cleared("jgoods").await;
    app.stop().await;
}

/// `token_url` is not public: `check-config` warns, at the key's line (or the
/// section's when the key is left out), while it is J-goods' default.
#[tokio::test]
async fn check_config_warns_while_token_url_is_the_default() {
    let app = spawn_app().await;
    let warned = |out: std::process::Output| {
        assert!(out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        err.lines()
            .find(|l| l.contains("jgoods.token_url"))
            .map(str::to_owned)
    };
    // The test config names the simulator's token endpoint: no warning.
    assert_eq!(warned(app.cli(&["check-config"])), None);

    let dir = tempfile::tempdir().unwrap();
    let section = "[jgoods]\nclient_id = \"id\"\nclient_secret = \"s\"\nwebhook_secret = \"w\"\n";
    for (extra, line) in [
        ("", 5),
        ("token_url = \"https://api.j-goods.net/oauth/token\"\n", 9),
    ] {
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            format!(
                "[daemon]\ndata_dir = \"{}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n\n{section}{extra}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
            .args(["check-config", path.to_str().unwrap()])
            .output()
            .unwrap();
        let warning = warned(out).expect("a warning about token_url");
        assert!(
            warning.contains(&format!("config.toml:{line}: jgoods.token_url: ")),
            "{warning}"
        );
        assert!(warning.contains("J-goods"), "{warning}");
    }
    app.stop().await;
}
