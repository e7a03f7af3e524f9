//! Orders over loopback: the cancel window, fraud holds, orderList's
//! conditions and pages, orderInfo, the write calls and the history.

use super::*;

fn status_xml(sim: &YahooSimHandle, order_id: &str, fix: &str, order: &str) -> String {
    format!(
        "<Req><Target><OrderId>{order_id}</OrderId>{fix}</Target><Order>{order}</Order><SellerId>{}</SellerId></Req>",
        sim.seller_id()
    )
}

fn ship_xml(sim: &YahooSimHandle, order_id: &str, ship: &str) -> String {
    status_xml(
        sim,
        order_id,
        "<IsPointFix>true</IsPointFix>",
        &format!("<Ship>{ship}</Ship>"),
    )
}

async fn signed_session(sim: &YahooSimHandle) -> String {
    authorize(sim).await.0
}

#[tokio::test]
async fn the_cancel_window_hides_new_orders_until_read_only_mode_asks() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let fresh = sim.place_order(NewOrder::new(shirt()));
    assert!(fresh.starts_with("simstore-"), "{fresh}");
    let list = |mode: &str| list_xml(&sim, &format!("<ReadOnlyMode>{mode}</ReadOnlyMode>"), "");
    let default = order_call(&sim, &token, "orderList", &list_xml(&sim, "", "")).await;
    assert_eq!(default.tag("TotalCount"), Some("0"), "{}", default.body);
    assert!(!default.body.contains("<OrderInfo"), "no hit, no OrderInfo");
    let only = order_call(&sim, &token, "orderList", &list("1")).await;
    assert_eq!(only.tag("TotalCount"), Some("1"));
    assert_eq!(only.tag("IsReadOnly"), Some("1"));
    let both = order_call(&sim, &token, "orderList", &list("2")).await;
    assert_eq!(both.tag("OrderId"), Some(fresh.as_str()));

    let cancelled = sim.place_order(NewOrder::new(shirt()));
    assert!(sim.buyer_cancel(&cancelled));
    let order = sim.order(&cancelled).expect("order");
    assert_eq!((order.status, order.cancel_reason), (4, Some(100)));

    sim.advance_clock(Duration::from_secs(600));
    assert!(!sim.buyer_cancel(&fresh), "the window is over");
    let after = order_call(&sim, &token, "orderList", &list_xml(&sim, "", "")).await;
    assert_eq!(after.tag("TotalCount"), Some("2"), "{}", after.body);
    assert_eq!(after.tag("IsReadOnly"), Some("0"));
}

#[tokio::test]
async fn a_fraud_hold_shows_up_by_publication_time_when_released() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let held = sim.place_order(NewOrder {
        fraud_hold: true,
        ..old_order(&sim, shirt())
    });
    let hidden = order_call(&sim, &token, "orderList", &list_xml(&sim, "", "")).await;
    assert_eq!(hidden.tag("TotalCount"), Some("0"), "{}", hidden.body);
    let shown = list_xml(&sim, "<FraudHoldDisplayType>1</FraudHoldDisplayType>", "");
    let shown = order_call(&sim, &token, "orderList", &shown).await;
    assert_eq!(
        shown.tag("FraudHoldStatus"),
        Some(settings::FRAUD_HOLD_HELD)
    );
    assert_eq!(shown.tag("PublicationTime"), Some(""));

    sim.advance_clock(3 * HOUR);
    let token = signed_session(&sim).await;
    let before = sim.order(&held).expect("order").last_update_time;
    assert!(sim.release_hold(&held));
    let now = sim.now();
    let by_publication = format!(
        "<Req><Search><Condition><PublicationTimeFrom>{}</PublicationTimeFrom><PublicationTimeTo>{}</PublicationTimeTo></Condition>\
         <Field>OrderId,PublicationTime,LastUpdateTime</Field></Search><SellerId>simstore</SellerId></Req>",
        compact(now - TimeDelta::minutes(5)),
        compact(now)
    );
    let released = order_call(&sim, &token, "orderList", &by_publication).await;
    assert_eq!(
        released.tag("OrderId"),
        Some(held.as_str()),
        "{}",
        released.body
    );
    assert_eq!(
        released.tag("PublicationTime"),
        Some(xml::iso_offset(now).as_str())
    );
    assert!(sim.order(&held).expect("order").last_update_time > before);
}

#[tokio::test]
async fn order_list_checks_its_search_and_pages() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(sim.place_order(old_order(&sim, shirt())));
    }
    let call = |xml: String| {
        let (sim, token) = (&sim, &token);
        async move { post_xml(sim, token, Key::Valid(1), "orderList", &xml).await }
    };
    let bad = [
        list_xml(&sim, "", "<Result>2001</Result>"),
        list_xml(&sim, "", "<Sort>+last_update_time</Sort>"),
        list_xml(&sim, "<LastUpdateTimeFrom>20261201000000</LastUpdateTimeFrom>", ""),
        "<Req><Search><Condition><OrderTimeFrom>202612010000</OrderTimeFrom></Condition><Field>OrderId</Field></Search><SellerId>simstore</SellerId></Req>".to_string(),
        "<Req><Search><Condition><OrderStatus>2</OrderStatus></Condition><Field>OrderId</Field></Search><SellerId>simstore</SellerId></Req>".to_string(),
        "<Req><Search><Condition><OrderTimeFrom>20261201000000</OrderTimeFrom></Condition></Search><SellerId>simstore</SellerId></Req>".to_string(),
        "<Req><Search><Condition><OrderTimeFrom>20261201000000</OrderTimeFrom></Condition><Field>OrderId,Nonsense</Field></Search><SellerId>simstore</SellerId></Req>".to_string(),
    ];
    for xml in bad {
        let answer = call(xml.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{xml}");
        assert_eq!(answer.tag("Code"), Some("od90101"), "{xml}");
    }
    let cap = call(list_xml(&sim, "", "<Result>2000</Result>")).await;
    assert_eq!(cap.status, StatusCode::OK);

    let page = call(list_xml(
        &sim,
        "",
        "<Result>2</Result><Start>2</Start><Sort>-order_time</Sort>",
    ))
    .await;
    assert_eq!(page.tag("TotalCount"), Some("3"));
    assert_eq!(page.body.matches("<OrderInfo>").count(), 2);
    assert!(page.body.contains("<Index>2</Index>") && page.body.contains("<Index>3</Index>"));
    assert_eq!(page.tag("OrderId"), Some(ids[1].as_str()));
    let past = call(list_xml(&sim, "", "<Start>4</Start>")).await;
    assert!(past.body.contains("<OrderInfo />"), "{}", past.body);
    let seen = call(list_xml(
        &sim,
        "<IsSeen>true</IsSeen><OrderStatus>2,3</OrderStatus>",
        "",
    ))
    .await;
    assert_eq!(seen.tag("TotalCount"), Some("0"));
    let other_store =
        call(list_xml(&sim, "", "").replace("<SellerId>simstore", "<SellerId>another")).await;
    assert_eq!(other_store.tag("Code"), Some("px-14304"));
}

#[tokio::test]
async fn order_info_nests_pay_ship_detail_and_items_and_knows_unknown_orders() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let id = sim.place_order(NewOrder {
        ship_charge: 800,
        ..old_order(
            &sim,
            vec![
                NewItem::new("tshirt", "red-m", 2, 1500),
                NewItem::new("mug", "", 1, 1200),
            ],
        )
    });
    let info = order_call(&sim, &token, "orderInfo", &info_xml(&sim, &id)).await;
    assert_eq!(info.status, StatusCode::OK);
    assert!(info.authorized);
    assert!(
        info.body
            .contains(r#"<ResultSet totalResultsAvailable="1""#),
        "{}",
        info.body
    );
    let pay = tag_in(&info.body, "Pay").expect("Pay");
    assert_eq!(tag_in(pay, "PayMethod"), Some("payment_a1"));
    assert_eq!(
        tag_in(tag_in(&info.body, "Ship").expect("Ship"), "ShipStatus"),
        Some("1")
    );
    assert_eq!(
        tag_in(tag_in(&info.body, "Detail").expect("Detail"), "TotalPrice"),
        Some("5000")
    );
    assert_eq!(info.body.matches("<Item>").count(), 2);
    assert_eq!(info.tag("SubCode"), Some("red-m"));
    assert_eq!(info.tag("IsSeen"), Some("false"));

    let some = format!(
        "<Req><Target><OrderId>{id}</OrderId><Field>OrderId,ItemId,Quantity</Field></Target><SellerId>simstore</SellerId></Req>"
    );
    let some = order_call(&sim, &token, "orderInfo", &some).await;
    assert!(
        !some.body.contains("<Pay>") && some.body.contains("<ItemId>mug</ItemId>"),
        "{}",
        some.body
    );

    let unknown = order_call(&sim, &token, "orderInfo", &info_xml(&sim, "simstore-99")).await;
    assert_eq!(
        (unknown.status, unknown.tag("Code")),
        (StatusCode::NOT_FOUND, Some("od91801"))
    );
    let malformed = order_call(&sim, &token, "orderInfo", &info_xml(&sim, "a_b")).await;
    assert_eq!(malformed.tag("Code"), Some("od90101"));
}

#[tokio::test]
async fn status_changes_follow_the_table_and_leave_a_history() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let id = sim.place_order(old_order(&sim, shirt()));
    let change = |fix: &str, order: &str| status_xml(&sim, &id, fix, order);
    let send = |xml: String| {
        let (sim, token) = (&sim, &token);
        async move { post_xml(sim, token, Key::Valid(1), "orderStatusChange", &xml).await }
    };
    let fix_false = "<IsPointFix>false</IsPointFix>";
    let fix_true = "<IsPointFix>true</IsPointFix>";

    let missing_fix = send(change("", "<OrderStatus>3</OrderStatus>")).await;
    assert_eq!(missing_fix.tag("Code"), Some("od90101"));
    let complete_unfixed = send(change(fix_false, "<OrderStatus>5</OrderStatus>")).await;
    assert_eq!(complete_unfixed.tag("Code"), Some("od90101"));
    let back_to_reserved = send(change(fix_false, "<OrderStatus>1</OrderStatus>")).await;
    assert_eq!(back_to_reserved.status, StatusCode::BAD_REQUEST);
    assert_eq!(back_to_reserved.tag("Code"), Some("od99999"));

    let before = sim.order(&id).expect("order");
    sim.advance_clock(Duration::from_secs(60));
    let hold = send(change(fix_false, "<OrderStatus>3</OrderStatus>")).await;
    assert_eq!(hold.tag("Status"), Some("OK"), "{}", hold.body);
    assert!(hold.body.contains(r#"ok="1""#));
    let held = sim.order(&id).expect("order");
    assert_eq!(held.status, 3);
    assert!(held.last_update_time > before.last_update_time);
    assert_eq!(held.version, before.version + 1);
    let again = send(change(fix_false, "<OrderStatus>3</OrderStatus>")).await;
    assert_eq!(again.tag("Code"), Some("od91705"));
    assert_eq!(
        sim.order(&id).expect("order").version,
        held.version,
        "a no-op changes nothing"
    );

    let other = change(
        fix_false,
        "<OrderStatus>4</OrderStatus><CancelReason>230</CancelReason><CancelReasonDetail>短い</CancelReasonDetail>",
    );
    assert_eq!(
        send(other).await.tag("Code"),
        Some("od90101"),
        "230 needs 10–200 characters"
    );
    let cancel = send(change(fix_false, "<OrderStatus>4</OrderStatus>")).await;
    assert_eq!(cancel.tag("Status"), Some("OK"));
    let cancelled = sim.order(&id).expect("order");
    assert_eq!(
        (cancelled.cancel_reason, cancelled.buyer_mails),
        (Some(210), 1)
    );
    let revive = send(change(fix_true, "<OrderStatus>2</OrderStatus>")).await;
    assert_eq!(revive.tag("Code"), Some("od99999"), "nothing leaves 4");
    assert_eq!(
        revive.tag("Message"),
        Some("Cannot Be Operated : ProcessOrder OrderStatus")
    );

    let prank = sim.place_order(NewOrder {
        prank: true,
        ..old_order(&sim, shirt())
    });
    let complete = status_xml(&sim, &prank, fix_true, "<OrderStatus>5</OrderStatus>");
    assert_eq!(send(complete).await.tag("Code"), Some("od99999"));
    let normal = sim.place_order(old_order(&sim, shirt()));
    let complete = status_xml(&sim, &normal, fix_true, "<OrderStatus>5</OrderStatus>");
    assert_eq!(send(complete).await.tag("Status"), Some("OK"));
    assert!(sim.order(&normal).expect("order").points_fixed);

    let history = reqwest::Client::new()
        .get(format!("{}orderChangeHistory", sim.api_base_url()))
        .query(&[("orderId", id.as_str()), ("sellerId", "simstore")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("history");
    let history = read(history).await;
    assert_eq!(
        history.body.matches("<History>").count(),
        3,
        "{}",
        history.body
    );
    assert!(
        history
            .body
            .contains("<Field>BillLastName</Field><Value></Value>"),
        "personal values empty"
    );
    assert!(history.body.contains("<HistoryId>2</HistoryId>"));
    assert!(
        history
            .body
            .contains("<Field>OrderStatus</Field><Value>3</Value>")
    );
    assert!(
        history
            .body
            .contains("<UpdatePerson>store-api</UpdatePerson>")
    );
    assert!(
        history
            .body
            .contains("<Item><LineId>1</LineId><Field>Quantity</Field><Value>2</Value></Item>")
    );
    let no_id = reqwest::Client::new()
        .get(format!(
            "{}orderChangeHistory?sellerId=simstore",
            sim.api_base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("history");
    assert_eq!(read(no_id).await.tag("Code"), Some("od90166"));
}

#[tokio::test]
async fn writes_inside_the_cancel_window_are_refused() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let id = sim.place_order(NewOrder::new(shirt()));
    let seen = status_xml(&sim, &id, "", "<IsSeen>true</IsSeen>");
    let refused = order_call(&sim, &token, "orderChange", &seen).await;
    assert_eq!(refused.tag("Code"), Some("od99999"));
    sim.advance_clock(Duration::from_secs(600));
    let count = |sim: &YahooSimHandle, token: &str| {
        let url = format!("{}orderCount?sellerId=simstore", sim.api_base_url());
        let (http, token) = (reqwest::Client::new(), token.to_string());
        async move {
            read(
                http.get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("count"),
            )
            .await
        }
    };
    assert_eq!(count(&sim, &token).await.tag("NewOrder"), Some("1"));
    let marked = order_call(&sim, &token, "orderChange", &seen).await;
    assert_eq!(marked.tag("Status"), Some("OK"), "{}", marked.body);
    assert!(sim.order(&id).expect("order").is_seen);
    assert_eq!(count(&sim, &token).await.tag("NewOrder"), Some("0"));
}

#[tokio::test]
async fn shipping_checks_company_invoice_and_payment_and_captures_a_card_once() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let card = sim.place_order(old_order(&sim, shirt()));
    let send = |xml: String| {
        let (sim, token) = (&sim, &token);
        async move { post_xml(sim, token, Key::Valid(1), "orderShipStatusChange", &xml).await }
    };
    let unfixed = status_xml(
        &sim,
        &card,
        "<IsPointFix>false</IsPointFix>",
        "<Ship><ShipStatus>3</ShipStatus></Ship>",
    );
    assert_eq!(send(unfixed).await.tag("Code"), Some("od90101"));
    for bad in [
        "<ShipStatus>3</ShipStatus><ShipCompanyCode>1</ShipCompanyCode>",
        "<ShipStatus>3</ShipStatus><ShipCompanyCode>1003</ShipCompanyCode><ShipInvoiceNumber1>1234-5678-90</ShipInvoiceNumber1>",
        "<ShipStatus>3</ShipStatus><ShipCompanyCode>1001</ShipCompanyCode><ShipInvoiceNumber1>ABC123</ShipInvoiceNumber1>",
        "<ShipStatus>3</ShipStatus><ShipDate>2026-12-03</ShipDate>",
        "<ShipStatus>9</ShipStatus>",
    ] {
        assert_eq!(
            send(ship_xml(&sim, &card, bad)).await.tag("Code"),
            Some("od90101"),
            "{bad}"
        );
    }
    let shipped = ship_xml(
        &sim,
        &card,
        "<ShipStatus>3</ShipStatus><ShipCompanyCode>1001</ShipCompanyCode>\
         <ShipInvoiceNumber1>1234-5678-9012</ShipInvoiceNumber1><ShipDate>20261203</ShipDate>",
    );
    let first = send(shipped.clone()).await;
    assert_eq!(first.tag("Status"), Some("OK"), "{}", first.body);
    assert!(!first.body.contains("<Warning>"));
    let order = sim.order(&card).expect("order");
    assert!(order.captured);
    let info = order_call(&sim, &token, "orderInfo", &info_xml(&sim, &card)).await;
    assert_eq!(info.tag("ShipDate"), Some("2026-12-03"));
    assert_eq!(info.tag("ShipInvoiceNumber1"), Some("1234-5678-9012"));
    let again = send(shipped).await;
    assert_eq!(
        again.tag("Code"),
        Some("od91705"),
        "already shipped counts as done"
    );

    let expired = sim.place_order(old_order(&sim, shirt()));
    assert!(sim.expire_capture(&expired));
    let late = send(ship_xml(&sim, &expired, "<ShipStatus>3</ShipStatus>")).await;
    assert_eq!(late.tag("Code"), Some("od91115"));

    let prepaid = sim.place_order(old_order(&sim, shirt()).prepaid());
    assert_eq!(sim.order(&prepaid).expect("order").ship_status, 0);
    let unpaid = send(ship_xml(&sim, &prepaid, "<ShipStatus>3</ShipStatus>")).await;
    assert_eq!(unpaid.tag("Code"), Some("od99999"), "0 → 3 refused");
    let pay = status_xml(&sim, &prepaid, "", "<Pay><PayStatus>1</PayStatus></Pay>");
    let yahoo_method = order_call(&sim, &token, "orderPayStatusChange", &pay).await;
    assert_eq!(
        yahoo_method.tag("Code"),
        Some("od99999"),
        "Yahoo! methods update themselves"
    );
    assert!(sim.pay(&prepaid));
    assert_eq!(sim.order(&prepaid).expect("order").ship_status, 1);
    let paid = send(ship_xml(&sim, &prepaid, "<ShipStatus>3</ShipStatus><ShipInvoiceNumberEmptyReason>101</ShipInvoiceNumberEmptyReason>")).await;
    assert_eq!(paid.tag("Status"), Some("OK"), "{}", paid.body);

    let own = sim.place_order(NewOrder {
        pay_method: "payment_e1".to_string(),
        ..old_order(&sim, shirt()).prepaid()
    });
    let pay = status_xml(
        &sim,
        &own,
        "",
        "<Pay><PayStatus>1</PayStatus><PayDate>20261203</PayDate></Pay>",
    );
    let store_paid = order_call(&sim, &token, "orderPayStatusChange", &pay).await;
    assert_eq!(store_paid.tag("Status"), Some("OK"), "{}", store_paid.body);
    assert_eq!(sim.order(&own).expect("order").ship_status, 1);
}

#[tokio::test]
async fn a_line_edited_in_the_back_office_moves_last_update_time() {
    let sim = start_sim(unpaced()).await;
    let id = sim.place_order(old_order(&sim, shirt()));
    let before = sim.order(&id).expect("order");
    sim.advance_clock(Duration::from_secs(5));
    assert!(sim.set_line_quantity(&id, 1, 1));
    let after = sim.order(&id).expect("order");
    assert!(after.last_update_time > before.last_update_time);
    let last = after.history.last().expect("entry");
    assert!(
        last.changes
            .contains(&(Some(1), "Quantity", "1".to_string()))
    );
    assert!(
        last.changes
            .contains(&(None, "TotalPrice", "1500".to_string()))
    );
    assert_eq!(last.person, "store-staff");
    assert!(
        sim.wait_until(WAIT, |v| v
            .order(&id)
            .is_some_and(|o| o.items[0].quantity == 1))
            .await
    );
}

#[tokio::test]
async fn the_table_allows_release_date_returns_and_reopening_card_orders_only() {
    let sim = start_sim(unpaced()).await;
    let token = signed_session(&sim).await;
    let fix = "<IsPointFix>true</IsPointFix>";
    let place = |status: u8, pay_method: &str, release: Option<i64>| {
        sim.place_order(NewOrder {
            status,
            pay_method: pay_method.to_string(),
            release_date: release.map(|days| sim.now().date_naive() + TimeDelta::days(days)),
            ..old_order(&sim, shirt())
        })
    };
    let cases = [
        (place(1, "payment_a1", None), 4, true),
        (place(3, "payment_a1", Some(30)), 1, true),
        (place(3, "payment_a1", Some(-1)), 1, false),
        (place(5, "payment_a1", None), 2, true),
        (place(5, "payment_e1", None), 2, true),
        (place(5, "payment_d1", None), 2, false),
        (place(5, "payment_d1", None), 4, true),
        (place(2, "payment_a1", None), 1, false),
    ];
    for (id, to, allowed) in cases {
        let from = sim.order(&id).expect("order").status;
        let xml = status_xml(&sim, &id, fix, &format!("<OrderStatus>{to}</OrderStatus>"));
        let answer = order_call(&sim, &token, "orderStatusChange", &xml).await;
        let expected = if allowed { Some("OK") } else { None };
        assert_eq!(
            answer.tag("Status"),
            expected,
            "{from} → {to}: {}",
            answer.body
        );
        assert_eq!(
            sim.order(&id).expect("order").status,
            if allowed { to } else { from }
        );
    }
}
