//! Replays of a captured, genuinely signed webhook: the same signed bytes
//! sent again with new delivery ids (the id is not signed) inside the
//! timestamp window are duplicates, and store nothing new.

use crate::helpers::*;

/// Events of `kind` on the order (the allocation's own events come later,
/// from the outbox, so only the webhook's are counted).
async fn order_events(app: &TestApp, id: &'static str, kind: &str) -> usize {
    app.daemon()
        .store
        .read(move |c| ordersync::store::events::for_order(c, "jgoods", id))
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

async fn processed(app: &TestApp) -> i64 {
    app.daemon()
        .store
        .read(|c| ordersync::store::inbox::counts(c, "jgoods"))
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn a_signed_body_replayed_with_new_delivery_ids_is_one_delivery() {
    let app = spawn_app().await;
    app.set_stock("S-RP", 10).await;
    let body = paid_order_body("JGREPLAY", &[("S-RP", 2)]);
    let ts = chrono::Utc::now().timestamp();
    let (status, first) = app
        .post_webhook(&body, &signed_headers(&body, "d-0", WEBHOOK_SECRET, ts))
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "processed", "{first}");
    for n in 1..50 {
        // The captured headers, only the (unsigned) delivery id changed.
        let headers = signed_headers(&body, &format!("d-{n}"), WEBHOOK_SECRET, ts);
        let (status, resp) = app.post_webhook(&body, &headers).await;
        assert_eq!(status, 200, "replay {n}: {resp}");
        assert_eq!(resp["status"], "duplicate", "replay {n}: {resp}");
    }
    assert_eq!(
        processed(&app).await,
        1,
        "one inbox row for one signed body"
    );
    // Each replay was an `order.reposted` event before.
    assert_eq!(
        order_events(&app, "JGREPLAY", "order.reposted").await,
        0,
        "no event per replay"
    );
    assert_eq!(app.stock("S-RP").await["reserved"], 2, "reserved once");
    // A new signature (a new timestamp) over the same body is J-goods sending
    // again, not the captured bytes: it is taken.
    let again = signed_headers(&body, "d-new", WEBHOOK_SECRET, ts + 1);
    let (status, resp) = app.post_webhook(&body, &again).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["status"], "processed", "{resp}");
    app.stop().await;
}
