use chrono::TimeZone;
use serde_json::json;

use super::*;

fn t0() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(9 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 12, 3, 10, 0, 0)
        .unwrap()
}

fn shop() -> Inventory {
    let mut inv = Inventory::new(TimeDelta::hours(24));
    inv.list(
        CatalogItem::new("shirt", &[("s-red", "SKU-RED"), ("s-blue", "SKU-BLUE")]),
        true,
        t0(),
    );
    inv
}

fn upsert(inv: &mut Inventory, entries: Value) -> Answer {
    inv.bulk_upsert(&json!({ "inventories": entries }), t0())
}

fn error(answer: &Answer) -> (&str, &str) {
    let e = &answer.body["errors"][0];
    (
        e["code"].as_str().unwrap_or(""),
        e["metadata"]["propertyPath"].as_str().unwrap_or(""),
    )
}

fn take(manage: &str, variant: &str, units: u32) -> Take {
    Take {
        manage_number: manage.into(),
        variant_id: variant.into(),
        units,
    }
}

#[test]
fn absolute_sets_relative_adds_and_manage_numbers_fold_to_lower_case() {
    let mut inv = shop();
    let a = upsert(
        &mut inv,
        json!([{"manageNumber": "SHIRT", "variantId": "s-red", "mode": "ABSOLUTE", "quantity": 7}]),
    );
    assert_eq!(a.status, 204);
    assert_eq!(inv.quantity("shirt", "s-red"), Some(7));
    let r = upsert(
        &mut inv,
        json!([{"manageNumber": "shirt", "variantId": "s-red", "mode": "RELATIVE", "quantity": -2}]),
    );
    assert_eq!(r.status, 204);
    assert_eq!(inv.quantity("shirt", "s-red"), Some(5));
    assert_eq!(inv.stats.relative_entries, 1);
}

#[test]
fn one_bad_entry_fails_the_whole_call_with_its_property_path() {
    let mut inv = shop();
    let cases = [
        (
            json!({"manageNumber": "shirt", "variantId": "s-red", "mode": "ABSOLUTE", "quantity": 100_000}),
            "IE0003",
            "inventories[1].quantity",
        ),
        (
            json!({"manageNumber": "shirt", "variantId": "s-red", "mode": "ABSOLUTE", "quantity": -1}),
            "IE0003",
            "inventories[1].quantity",
        ),
        (
            json!({"manageNumber": "shirt", "variantId": "s-red", "mode": "ABSOLUTE", "quantity": "3"}),
            "IE0002",
            "inventories[1].quantity",
        ),
        (
            json!({"manageNumber": "shirt", "variantId": "s-red", "quantity": 3}),
            "IE0105",
            "inventories[1].mode",
        ),
        (
            json!({"manageNumber": "a".repeat(33), "variantId": "s-red", "mode": "ABSOLUTE", "quantity": 3}),
            "IE0004",
            "inventories[1].manageNumber",
        ),
        (
            json!({"manageNumber": "shirt", "variantId": "赤", "mode": "ABSOLUTE", "quantity": 3}),
            "IE0105",
            "inventories[1].variantId",
        ),
        (
            json!({"manageNumber": "shirt", "variantId": "s-red", "mode": "RELATIVE", "quantity": 3}),
            "IE0105",
            "inventories[1].mode",
        ),
        (
            json!({"manageNumber": "SHIRT", "variantId": "s-blue", "mode": "ABSOLUTE", "quantity": 3}),
            "IE0121",
            "inventories[1]",
        ),
    ];
    for (bad, code, path) in cases {
        let good = json!({"manageNumber": "shirt", "variantId": "s-blue", "mode": "ABSOLUTE", "quantity": 4});
        let answer = upsert(&mut inv, json!([good, bad]));
        assert_eq!(answer.status, 400, "{bad}");
        assert_eq!(error(&answer), (code, path), "{bad}");
        assert_eq!(
            inv.quantity("shirt", "s-blue"),
            None,
            "nothing applied: {bad}"
        );
    }
}

#[test]
fn pre_order_and_subscription_items_are_refused_by_their_type_at_the_call() {
    let mut inv = shop();
    let mut preorder = CatalogItem::new("yoyaku", &[("y1", "SKU-Y")]);
    preorder.item_type = ItemType::PreOrder;
    inv.list(preorder, true, t0());
    let mut club = CatalogItem::new("hanpu", &[("h1", "SKU-H")]);
    club.item_type = ItemType::BuyingClub;
    inv.list(club, true, t0());
    let entry = |m: &str, v: &str| json!({"manageNumber": m, "variantId": v, "mode": "ABSOLUTE", "quantity": 1});
    let a = upsert(
        &mut inv,
        json!([entry("shirt", "s-red"), entry("yoyaku", "y1")]),
    );
    assert_eq!(error(&a), ("IE1101", "inventories[1].manageNumber"));
    let b = upsert(
        &mut inv,
        json!([entry("hanpu", "h1"), entry("shirt", "s-red")]),
    );
    assert_eq!(error(&b), ("IE1102", "inventories[0].manageNumber"));
    inv.buying_club_code = BUYING_CLUB_CODES[1];
    let c = upsert(&mut inv, json!([entry("hanpu", "h1")]));
    assert_eq!(error(&c), ("IE1105", "inventories[0].manageNumber"));
    assert_eq!(inv.quantity("shirt", "s-red"), None, "nothing applied");
    // The shop makes the shirt a pre-order item in RMS: refused from then on.
    assert!(inv.set_item_type("SHIRT", ItemType::PreOrder, t0()));
    let d = upsert(&mut inv, json!([entry("shirt", "s-red")]));
    assert_eq!(error(&d), ("IE1101", "inventories[0].manageNumber"));
    assert!(inv.set_item_type("shirt", ItemType::Normal, t0()));
    assert_eq!(
        upsert(&mut inv, json!([entry("shirt", "s-red")])).status,
        204
    );
    assert!(!inv.set_item_type("ghost", ItemType::Normal, t0()));
}

#[test]
fn a_result_without_item_takes_its_place_in_the_search_and_sells_nothing() {
    let mut inv = shop();
    inv.list_without_item("bare", t0());
    let query: HashMap<String, String> = [("hits".to_string(), "100".to_string())].into();
    let page = inv.search(&query, t0());
    let results = page.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], json!({}), "bare < shirt");
    assert_eq!(results[1]["item"]["manageNumber"], "shirt");
    assert_eq!(page.body["numFound"], 2);
    assert_eq!(inv.resolve("bare", None, None), None);
}

#[test]
fn call_sizes_are_bounded() {
    let mut inv = shop();
    let entry =
        json!({"manageNumber": "shirt", "variantId": "s-red", "mode": "ABSOLUTE", "quantity": 1});
    assert_eq!(upsert(&mut inv, json!([])).status, 400);
    let many: Vec<Value> = (0..=MAX_UPSERT)
        .map(|i| json!({"manageNumber": "shirt", "variantId": format!("v{i}"), "mode": "ABSOLUTE", "quantity": 1}))
        .collect();
    assert_eq!(
        error(&upsert(&mut inv, json!([entry, entry]))),
        ("IE0121", "inventories[1]")
    );
    assert_eq!(upsert(&mut inv, Value::Array(many.clone())).status, 400);
    assert_eq!(
        upsert(&mut inv, Value::Array(many[..MAX_UPSERT].to_vec())).status,
        204
    );
    let pairs: Vec<Value> = (0..=MAX_GET)
        .map(|_| json!({"manageNumber": "shirt", "variantId": "s-red"}))
        .collect();
    assert_eq!(inv.bulk_get(&json!({ "inventories": pairs })).status, 400);
    assert_eq!(inv.bulk_get(&Value::Null).status, 400);
}

#[test]
fn an_unknown_pair_is_accepted_never_read_and_forgotten_after_a_day() {
    let mut inv = shop();
    let a = upsert(
        &mut inv,
        json!([
            {"manageNumber": "shirt", "variantId": "s-green", "mode": "ABSOLUTE", "quantity": 3},
            {"manageNumber": "ghost", "variantId": "g1", "mode": "ABSOLUTE", "quantity": 3},
            {"manageNumber": "shirt", "variantId": "s-red", "mode": "ABSOLUTE", "quantity": 2}
        ]),
    );
    assert_eq!(a.status, 204);
    assert_eq!(inv.stats.orphan_entries, 2);
    let read = inv.bulk_get(&json!({"inventories": [
        {"manageNumber": "shirt", "variantId": "s-green"},
        {"manageNumber": "ghost", "variantId": "g1"},
        {"manageNumber": "shirt", "variantId": "s-red"}
    ]}));
    assert_eq!(read.status, 200);
    let got = read.body["inventories"].as_array().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["variantId"], "s-red");
    assert_eq!(got[0]["quantity"], 2);
    inv.forget_orphans(t0() + TimeDelta::hours(ORPHAN_TTL_HOURS));
    assert!(inv.orphans.is_empty());
}

#[test]
fn orders_take_stock_and_are_refused_past_zero_unless_back_ordered() {
    let mut inv = shop();
    inv.set_quantity("shirt", "s-red", 2, t0());
    assert!(inv.take(&[take("shirt", "s-red", 2)], t0()).is_ok());
    assert_eq!(inv.quantity("shirt", "s-red"), Some(0));
    let refused = inv.take(&[take("shirt", "s-red", 1)], t0()).unwrap_err();
    assert_eq!(refused.available, 0);
    assert_eq!(inv.stats.sold_out, 1);
    // All or nothing: a refused order takes nothing from its other lines.
    inv.set_quantity("shirt", "s-blue", 5, t0());
    assert!(
        inv.take(
            &[take("shirt", "s-blue", 1), take("shirt", "s-red", 1)],
            t0()
        )
        .is_err()
    );
    assert_eq!(inv.quantity("shirt", "s-blue"), Some(5));
    let mut item = CatalogItem::new("preorder", &[("p1", "SKU-P")]);
    item.variants.get_mut("p1").unwrap().back_order = true;
    inv.list(item, true, t0());
    assert!(inv.take(&[take("preorder", "p1", 3)], t0()).is_ok());
    assert_eq!(inv.quantity("preorder", "p1"), Some(0));
}

#[test]
fn a_cancel_gives_back_only_where_the_variant_restocks() {
    let mut inv = shop();
    let mut shirt = CatalogItem::new("shirt", &[("s-red", "SKU-RED"), ("s-blue", "SKU-BLUE")]);
    shirt.variants.get_mut("s-blue").unwrap().restock_on_cancel = false;
    inv.list(shirt, true, t0());
    inv.set_quantity("shirt", "s-red", 3, t0());
    inv.set_quantity("shirt", "s-blue", 3, t0());
    let lines = [take("shirt", "s-red", 2), take("shirt", "s-blue", 2)];
    inv.take(&lines, t0()).unwrap();
    inv.give_back(&lines, t0());
    assert_eq!(inv.quantity("shirt", "s-red"), Some(3));
    assert_eq!(inv.quantity("shirt", "s-blue"), Some(1));
}

#[test]
fn items_without_stock_management_take_nothing() {
    let mut inv = shop();
    let mut item = CatalogItem::new("download", &[("d1", "SKU-D")]);
    item.unlimited_inventory = true;
    inv.list(item, true, t0());
    assert!(inv.take(&[take("download", "d1", 50)], t0()).is_ok());
    assert_eq!(inv.quantity("download", "d1"), None);
}

#[test]
fn pre_order_and_subscription_items_refuse_stock() {
    let mut inv = shop();
    let mut pre = CatalogItem::new("pre", &[("v", "")]);
    pre.item_type = ItemType::PreOrder;
    let mut club = CatalogItem::new("club", &[("v", "")]);
    club.item_type = ItemType::BuyingClub;
    inv.list(pre, true, t0());
    inv.list(club, true, t0());
    let entry =
        |m: &str| json!([{"manageNumber": m, "variantId": "v", "mode": "ABSOLUTE", "quantity": 1}]);
    assert_eq!(error(&upsert(&mut inv, entry("pre"))).0, "IE1101");
    assert_eq!(error(&upsert(&mut inv, entry("club"))).0, "IE1102");
}

#[test]
fn the_per_second_limits_hold() {
    let mut inv = shop();
    let start = Instant::now();
    assert!(inv.admit(true, start));
    assert!(!inv.admit(true, start + Duration::from_millis(999)));
    assert!(inv.admit(true, start + Duration::from_millis(1000)));
    for i in 0..GETS_PER_SECOND {
        assert!(inv.admit(false, start + Duration::from_millis(i as u64)));
    }
    assert!(!inv.admit(false, start + Duration::from_millis(10)));
    assert_eq!(inv.stats.rate_limited, 2);
}

fn search_all(inv: &mut Inventory, hits: usize, now: DateTime<FixedOffset>) -> (Vec<Value>, usize) {
    let mut cursor = "*".to_string();
    let mut items = vec![];
    let mut calls = 0;
    loop {
        let q: HashMap<String, String> = [
            ("hits".to_string(), hits.to_string()),
            ("cursorMark".to_string(), cursor.clone()),
        ]
        .into();
        let answer = inv.search(&q, now);
        calls += 1;
        assert_eq!(answer.status, 200);
        let next = answer.body["nextCursorMark"].as_str().unwrap().to_string();
        items.extend(
            answer.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["item"].clone()),
        );
        if next == cursor {
            return (items, calls);
        }
        cursor = next;
    }
}

#[test]
fn search_pages_with_a_cursor_until_it_comes_back_unchanged() {
    let mut inv = shop();
    for i in 0..25 {
        inv.list(
            CatalogItem::new(&format!("item{i:02}"), &[("v", "")]),
            true,
            t0(),
        );
    }
    let (items, calls) = search_all(&mut inv, 10, t0());
    assert_eq!(items.len(), 26);
    assert_eq!(
        calls, 4,
        "three pages, then one that returns the cursor sent"
    );
    assert_eq!(items[0]["manageNumber"], "item00");
    assert_eq!(
        items[25]["variants"]["s-red"]["merchantDefinedSkuId"],
        "SKU-RED"
    );
    let q: HashMap<String, String> = [("hits".to_string(), "101".to_string())].into();
    assert_eq!(inv.search(&q, t0()).status, 400);
}

#[test]
fn new_items_reach_the_search_late_and_deleted_ones_leave_it_late() {
    let mut inv = shop();
    inv.list(CatalogItem::new("fresh", &[("f1", "SKU-F")]), false, t0());
    let names = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|i| i["manageNumber"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&search_all(&mut inv, 100, t0()).0), ["shirt"]);
    let later = t0() + TimeDelta::hours(24);
    assert_eq!(
        names(&search_all(&mut inv, 100, later).0),
        ["fresh", "shirt"]
    );
    // Its stock works before the search shows it.
    assert_eq!(
        upsert(
            &mut inv,
            json!([{"manageNumber": "fresh", "variantId": "f1", "mode": "ABSOLUTE", "quantity": 1}])
        )
        .status,
        204
    );
    assert_eq!(inv.quantity("fresh", "f1"), Some(1));
    assert!(inv.delist("shirt", later));
    let (items, _) = search_all(&mut inv, 100, later);
    assert_eq!(items[1], json!({"manageNumber": "shirt"}));
    let (items, _) = search_all(&mut inv, 100, later + TimeDelta::hours(24));
    assert_eq!(names(&items), ["fresh"]);
}
