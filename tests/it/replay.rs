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
        crate::security::inbox_counts(&app, "jgoods").await.0,
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

/// The part of `page` from `from` up to the next `<h2` (or the end).
fn section<'a>(page: &'a str, from: &str) -> &'a str {
    let start = page
        .find(from)
        .unwrap_or_else(|| panic!("no {from}: {page}"));
    let rest = &page[start..];
    let end = rest[1..].find("<h2").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[tokio::test]
async fn unsigned_posts_naming_an_order_do_not_bury_its_real_deliveries() {
    let app = spawn_app_with(Options::default().daemon("refused_webhooks_per_minute = 1000")).await;
    app.set_stock("S-BURY", 10).await;
    let body = paid_order_body("JGBURY", &[("S-BURY", 1)]);
    let (status, resp) = app.post_signed(&body, "genuine-1").await;
    assert_eq!(status, 200, "{resp}");
    for n in 0..120 {
        let forged = serde_json::to_vec(&serde_json::json!({
            "order_no": "JGBURY", "status": "注文取消", "note": format!("ATTACKER-{n}")
        }))
        .unwrap();
        let headers = [("x-jgoods-delivery", format!("ATTACKER-ID-{n}"))];
        let (status, _) = app.post_webhook(&forged, &headers).await;
        assert_eq!(status, 401);
    }
    let mut b = crate::console::Browser::new(&app);
    b.post("/console/login", &[("token", ADMIN_TOKEN)]).await;
    let (status, page, _) = b.get("/console/orders/jgoods/JGBURY").await;
    assert_eq!(status, 200, "{page}");
    // The verified delivery is listed on its own, with nothing refused in it.
    let verified = section(&page, "id=\"webhooks\"");
    assert!(verified.contains("genuine-1"), "{verified}");
    assert!(!verified.contains("ATTACKER"), "{verified}");
    // The refused ones: a count and a bounded sample, marked unverified.
    let refused = section(&page, "id=\"refused-webhooks\"");
    assert!(refused.contains("120"), "{refused}");
    assert!(refused.contains("未検証"), "{refused}");
    let sample = refused.matches("ATTACKER-ID-").count();
    assert!((1..=10).contains(&sample), "{sample} shown: {refused}");
    app.stop().await;
}
