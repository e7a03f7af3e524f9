//! Stock, limits and maintenance over loopback.

use super::*;

#[tokio::test]
async fn an_unknown_code_is_accepted_kept_and_bound_when_the_item_is_registered() {
    let sim = start_sim(unpaced()).await;
    let (token, _) = authorize(&sim).await;
    let set = stock(
        &sim,
        &token,
        "setStock",
        "item_code=newitem:blue&quantity=7",
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "no error for an unknown code");
    assert_eq!(set.tag("ItemCode"), Some("newitem"));
    assert_eq!(set.tag("SubCode"), Some("blue"));
    assert_eq!(set.tag("Quantity"), Some("7"));
    let get = stock(&sim, &token, "getStock", "item_code=newitem:blue").await;
    assert_eq!(get.tag("Status"), Some("0"), "{}", get.body);
    assert!(get.body.contains(r#"ok="0" ng="1""#), "{}", get.body);
    assert!(sim.stock("newitem:blue").is_none());

    sim.register_item("newitem:blue", Some(0));
    let bound = stock(&sim, &token, "getStock", "item_code=newitem:blue").await;
    assert_eq!(bound.tag("Status"), Some("1"));
    assert_eq!(
        bound.tag("Quantity"),
        Some("7"),
        "the stored quantity binds"
    );
    assert!(sim.unbound_stock("newitem:blue").is_none());
}

#[tokio::test]
async fn relative_updates_need_an_encoded_plus_and_stay_in_range() {
    let sim = start_sim(unpaced()).await;
    let (token, _) = authorize(&sim).await;
    sim.register_item("a", Some(10));
    sim.register_item("b", None);
    let added = stock(&sim, &token, "setStock", "item_code=a,b&quantity=%2B5,3").await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(sim.stock("a").expect("a").quantity, Some(15));
    assert_eq!(sim.stock("b").expect("b").quantity, Some(3));
    let minus = stock(&sim, &token, "setStock", "item_code=a&quantity=-20").await;
    assert_eq!(minus.tag("Quantity"), Some("-5"));

    // A `+` sent as is decodes to a space: the quantity is set, not added.
    let raw_plus = stock(&sim, &token, "setStock", "item_code=a&quantity=+5").await;
    assert_eq!(raw_plus.status, StatusCode::OK, "{}", raw_plus.body);
    assert_eq!(sim.stock("a").expect("a").quantity, Some(5), "not -5 + 5");

    // A row's error fails that row alone, with 207.
    let ini = stock(&sim, &token, "setStock", "item_code=a,b&quantity=INI,4").await;
    assert_eq!(ini.status.as_u16(), 207, "{}", ini.body);
    let failed_row = "<ItemCode>a</ItemCode><SubCode></SubCode><Quantity></Quantity><ErrorCode>st-02104</ErrorCode>";
    assert!(ini.body.contains(failed_row), "{}", ini.body);
    assert_eq!(sim.stock("a").expect("a").quantity, Some(5));
    assert_eq!(sim.stock("b").expect("b").quantity, Some(4));
    let overdraft = stock(
        &sim,
        &token,
        "setStock",
        "item_code=a&quantity=1&allow_overdraft=2",
    )
    .await;
    assert_eq!(
        (overdraft.status.as_u16(), overdraft.tag("ErrorCode")),
        (207, Some("st-02107"))
    );

    sim.register_item("c", Some(999_999_990));
    let over = stock(&sim, &token, "setStock", "item_code=b,c&quantity=1,%2B10").await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert_eq!(over.tag("Code"), Some("st-02104"));
    assert_eq!(
        sim.stock("b").expect("b").quantity,
        Some(4),
        "nothing applied"
    );

    sim.register_item("unlimited", None);
    let get = stock(&sim, &token, "getStock", "item_code=unlimited").await;
    assert_eq!(
        (get.tag("Status"), get.tag("Quantity")),
        (Some("1"), Some(""))
    );
}

#[tokio::test]
async fn whole_stock_requests_are_refused_with_their_codes() {
    let sim = start_sim(unpaced()).await;
    let (token, _) = authorize(&sim).await;
    let many: Vec<String> = (0..=MAX_CODES).map(|i| format!("c{i}")).collect();
    let cases = [
        ("seller_id=other&item_code=a".to_string(), "st-02100"),
        ("seller_id=simstore&item_code=a_b".to_string(), "st-02101"),
        (
            format!("seller_id=simstore&item_code={}", many.join(",")),
            "st-02102",
        ),
        ("seller_id=simstore&item_code=a,a".to_string(), "st-02103"),
    ];
    for (body, code) in cases {
        let answer = post_form(&sim, &token, "getStock", &body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(answer.tag("Code"), Some(code));
        assert!(
            answer.body.contains(r#"<Error xmlns="urn:yahoo:api">"#),
            "{}",
            answer.body
        );
    }
    let mismatch = stock(&sim, &token, "setStock", "item_code=a,b&quantity=1").await;
    assert_eq!(mismatch.tag("Code"), Some("st-02105"));
    let fits = stock(
        &sim,
        &token,
        "getStock",
        &format!("item_code={}", many[..MAX_CODES].join(",")),
    )
    .await;
    assert_eq!(fits.status, StatusCode::OK);
}

#[tokio::test]
async fn yahoo_takes_its_own_orders_from_its_stock() {
    let sim = start_sim(unpaced()).await;
    sim.register_item("tshirt:red-m", Some(5));
    sim.place_order(NewOrder::new(shirt()));
    assert_eq!(sim.stock("tshirt:red-m").expect("row").quantity, Some(3));
}

#[tokio::test]
async fn one_query_a_second_per_url_then_a_lock_out() {
    let sim = start_sim(Settings::default()).await;
    let (token, _) = authorize(&sim).await;
    let get = "item_code=a";
    assert_eq!(
        stock(&sim, &token, "getStock", get).await.status,
        StatusCode::OK
    );
    let soon = stock(&sim, &token, "getStock", get).await;
    assert_eq!(soon.status, StatusCode::FORBIDDEN);
    assert!(
        soon.body.contains("Your Request was Forbidden"),
        "{}",
        soon.body
    );
    let other_url = stock(&sim, &token, "setStock", "item_code=a&quantity=1").await;
    assert_eq!(other_url.status, StatusCode::OK, "the limit is per URL");
    sim.advance_clock(Duration::from_secs(30));
    let locked = stock(&sim, &token, "getStock", get).await;
    assert_eq!(
        locked.status,
        StatusCode::FORBIDDEN,
        "paced, but still locked out"
    );
    sim.advance_clock(Duration::from_secs(31));
    assert_eq!(
        stock(&sim, &token, "getStock", get).await.status,
        StatusCode::OK
    );
    sim.advance_clock(Duration::from_millis(1100));
    let paced = stock(&sim, &token, "getStock", get).await;
    assert_eq!(
        paced.status,
        StatusCode::OK,
        "1.1 s apart is within the limit"
    );
    assert_eq!(sim.stats().throttled, 2);
}

#[tokio::test]
async fn the_daily_quota_resets_at_midnight_jst() {
    let settings = Settings {
        daily_quota: 2,
        ..unpaced()
    };
    let sim = start_sim(settings).await;
    let (token, refresh_token) = authorize(&sim).await;
    let get = "item_code=a";
    for _ in 0..2 {
        assert_eq!(
            stock(&sim, &token, "getStock", get).await.status,
            StatusCode::OK
        );
    }
    let over = stock(&sim, &token, "getStock", get).await;
    assert_eq!(over.status, StatusCode::FORBIDDEN);
    assert_eq!(over.tag("Code"), None, "a 403 without a code");
    sim.advance_clock(24 * HOUR);
    let token = fresh_access(&sim, &refresh_token).await;
    assert_eq!(
        stock(&sim, &token, "getStock", get).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn maintenance_answers_ed_00002_per_api_and_faults_answer_system_errors() {
    let sim = start_sim(unpaced()).await;
    let (token, _) = authorize(&sim).await;
    sim.set_stock_maintenance(true);
    let stock = stock(&sim, &token, "getStock", "item_code=a").await;
    assert_eq!(
        (stock.status.as_u16(), stock.tag("Code")),
        (503, Some("ed-00002"))
    );
    let list = order_call(&sim, &token, "orderList", &list_xml(&sim, "", "")).await;
    assert_eq!(list.status, StatusCode::OK, "orders keep running");
    sim.set_stock_maintenance(false);
    sim.set_orders_maintenance(true);
    let list = order_call(&sim, &token, "orderList", &list_xml(&sim, "", "")).await;
    assert_eq!(
        (list.status.as_u16(), list.tag("Code")),
        (503, Some("ed-00002"))
    );
    sim.set_orders_maintenance(false);

    sim.inject(Endpoint::OrderList, Fault::SystemError, 1);
    let failed = order_call(&sim, &token, "orderList", &list_xml(&sim, "", "")).await;
    assert_eq!(
        (failed.status.as_u16(), failed.tag("Code")),
        (500, Some("od91001"))
    );
    let next = order_call(&sim, &token, "orderList", &list_xml(&sim, "", "")).await;
    assert_eq!(next.status, StatusCode::OK);
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_unread() {
    let sim = start_sim(unpaced()).await;
    let (token, _) = authorize(&sim).await;
    let huge = format!("item_code={}", "a".repeat(MAX_BODY));
    let answer = stock(&sim, &token, "setStock", &huge).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn errors_can_come_wrapped_in_a_result() {
    let settings = Settings {
        wrap_order_errors: true,
        ..unpaced()
    };
    let sim = start_sim(settings).await;
    let (token, _) = authorize(&sim).await;
    let unknown = order_call(&sim, &token, "orderInfo", &info_xml(&sim, "simstore-1")).await;
    assert!(
        unknown
            .body
            .contains("<Result><Status>NG</Status><Error><Code>od91801</Code>"),
        "{}",
        unknown.body
    );
}

#[tokio::test]
async fn a_failed_read_back_answers_207_although_the_stock_was_set() {
    let sim = start_sim(unpaced()).await;
    let (token, _) = authorize(&sim).await;
    sim.register_item("a", Some(1));
    sim.inject(Endpoint::SetStock, Fault::ReadBackFailed, 1);
    let answer = stock(&sim, &token, "setStock", "item_code=a&quantity=9").await;
    assert_eq!(answer.status.as_u16(), 207);
    assert_eq!(answer.tag("ErrorCode"), Some("ed-10002"));
    assert_eq!(
        sim.stock("a").expect("a").quantity,
        Some(9),
        "applied all the same"
    );
    let placed = sim.place_order(NewOrder::new(vec![NewItem::new("a", "", 1, 100)]));
    assert!(sim.wait_for_status(&placed, 2, WAIT).await);
    assert!(sim.wait_until(WAIT, |v| v.orders().count() == 1).await);
}
