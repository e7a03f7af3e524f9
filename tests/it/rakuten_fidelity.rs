//! Rakuten Pay as the live API behaves (the contract's Corrections): the
//! licence-expiry permission, `GA0001`, confirmation of every order at 100
//! and the 14-day auto-cancel, restock top-ups, deleted lines and packages,
//! the first start's backfill, and no credit routing.

use std::time::Duration;

use ordersync::providers::rakuten_pay::Progress;
use ordersync::sim::rakuten_pay::{NewItem, NewOrder, RakutenSimConfig};
use ordersync::store::kv;
use serde_json::json;

use crate::helpers::*;

async fn rakuten_app() -> TestApp {
    spawn_app_with(Options {
        rakuten: Some(RakutenSimConfig::default()),
        ..Options::default()
    })
    .await
}

fn card_order(app: &TestApp, sku: &str, units: u32) -> String {
    let r = app.rakuten();
    let number = r.next_order_number();
    r.place_order(NewOrder::new(&number).item(NewItem::new(sku, "manage-x", 1100, units)));
    number
}

/// Waits until the store holds `key` (written by a worker).
async fn wait_kv(app: &TestApp, key: &'static str) -> String {
    let store = app.daemon().store.clone();
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = store.read(move |c| kv::get(c, key)).await.unwrap() {
            return v;
        }
        assert!(tokio::time::Instant::now() < until, "{key} never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_key_without_the_expiry_permission_still_imports_and_says_what_to_tick() {
    let app = rakuten_app().await;
    let r = app.rakuten();
    // Many shops leave license.expiryDate.get off: the expiry call is refused,
    // the order API works.
    r.set_license_expiry_permission(false);
    app.set_stock("LP-1", 3).await;
    let n = card_order(&app, "LP-1", 1);
    let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert_eq!(o["lines"][0]["reserved_qty"], 1);
    let fix = wait_kv(&app, "rakuten_pay.license_check_refused").await;
    assert!(fix.contains("license.expiryDate.get"), "{fix}");

    // Shown once, with the fix; not a problem of the channel (the key works).
    let out = app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("license.expiryDate.get"), "{text}");
    assert!(!text.contains("attention.rakuten_pay"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    let page = reqwest::get(format!("{}/", app.admin_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("license.expiryDate.get"), "{page}");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("ordersync_rakuten_license_check_refused 1"),
        "{metrics}"
    );
    // No made-up "0 days left" while the expiry is unknown.
    assert!(
        !metrics.contains("ordersync_rakuten_license_days_left "),
        "{metrics}"
    );
    assert!(
        metrics.contains("ordersync_provider_problem{provider=\"rakuten_pay\"} 0"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_key_answers_ga0001_and_is_shown_as_the_credential_until_it_works_again() {
    let app = rakuten_app().await;
    let r = app.rakuten();
    app.poll_complete().await;
    // The expiry is read once, in its own task (offset-less, as the live API writes it).
    let expiry = wait_kv(&app, "rakuten_pay.license_expiry").await;
    assert!(expiry.ends_with("+09:00"), "{expiry}");

    r.set_license_expiry(r.now() - chrono::Duration::days(1));
    app.set_stock("LP-2", 3).await;
    let n = card_order(&app, "LP-2", 1);
    app.daemon().poll_now();
    let problem = wait_kv(&app, "attention.rakuten_pay").await;
    assert!(
        problem.contains("GA0001") && problem.contains("license_key"),
        "{problem}"
    );
    let out = app.cli(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        app.metrics()
            .await
            .contains("ordersync_provider_problem{provider=\"rakuten_pay\"} 1")
    );
    assert!(app.rakuten_order(&n).await.is_none());

    // The key works again (a new one was put in): the next poll imports and clears it.
    r.set_license_expiry(r.now() + chrono::Duration::days(80));
    app.poll_until(&n, |o| o["state"] == "confirmed").await;
    let store = app.daemon().store.clone();
    let until = tokio::time::Instant::now() + DEADLINE;
    while store
        .read(|c| kv::get(c, "attention.rakuten_pay"))
        .await
        .unwrap()
        .is_some()
    {
        assert!(tokio::time::Instant::now() < until, "problem never cleared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn rakuten_deferred_payment_is_rakuten_handled_and_never_goes_to_a_credit_provider() {
    use ordersync::sim::kuroneko::KuronekoSimConfig;
    let app = spawn_app_with(Options {
        rakuten: Some(RakutenSimConfig::default()),
        // The deprecated key, as an old config has it: read, and without effect.
        rakuten_extra: "deferred_payment = \"kuroneko\"".into(),
        kuroneko: Some(KuronekoSimConfig::default()),
        kuroneko_extra: "settle_delay = \"0s\"\npoll_interval = \"1h\"".into(),
        ..Options::default()
    })
    .await;
    app.set_stock("R-D", 5).await;
    let r = app.rakuten();
    let n = r.next_order_number();
    r.place_order(
        NewOrder::new(&n)
            .rakuten_deferred()
            .item(NewItem::new("R-D", "", 2200, 1)),
    );
    let o = app.poll_until(&n, |o| o["state"] == "confirmed").await;
    assert!(o["payment"].is_null() && o["credit"].is_null(), "{o}");
    assert!(
        r.wait_for_progress(&n, Progress::RakutenProcessing, DEADLINE)
            .await
    );
    r.advance_clock(Duration::from_secs(600));
    let o = app.poll_until(&n, |o| o["payment_state"] == "paid").await;
    assert_eq!(o["state"], json!("confirmed"));
    let kuroneko = app.kuroneko.as_ref().unwrap();
    assert!(
        kuroneko.stats().bodies.is_empty(),
        "nothing went to Kuroneko"
    );
    // check-config says the key is deprecated, at its line.
    let out = app.cli(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rakuten_pay.deferred_payment") && err.contains("deprecated"),
        "{err}"
    );
    app.stop().await;
}
