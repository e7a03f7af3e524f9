//! Never oversell under contention: many orders for one SKU at once.

use ordersync_sim::jgoods::CustomerDecision;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_webhooks_reserve_exactly_the_stock() {
    let mut opts = Options::default();
    opts.sim.default_decision = CustomerDecision::NoReply;
    let app = spawn_app_with(opts).await;
    app.set_stock("HOT", 50).await;
    // The simulator pushes each order's webhook on its own task: 200 at once.
    for i in 0..200 {
        app.sim.place_order(&format!("C{i:03}"), &[("HOT", 1, 100)]);
    }
    assert!(app.sim.wait_webhooks_idle(DEADLINE).await);
    let (_, list) = app.get("/api/v1/orders?channel=jgoods&limit=1000").await;
    let orders = list["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 200);
    let allocated = orders
        .iter()
        .filter(|o| o["lines"][0]["reserved_qty"] == 1)
        .count();
    assert_eq!(allocated, 50);
    let s = app.stock("HOT").await;
    assert_eq!(
        (s["reserved"].as_i64(), s["available"].as_i64()),
        (Some(50), Some(0))
    );
    let breaches = app
        .daemon
        .as_ref()
        .unwrap()
        .store
        .read(|c| ordersync::store::stock::invariant_breaches(c))
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
    app.stop().await;
}
