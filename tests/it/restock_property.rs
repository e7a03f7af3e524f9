//! Property: whatever the interleaving of Rakuten, direct and J-goods orders,
//! stock counts and cancellations, no SKU has free units while a short
//! Rakuten or direct order of it waits (restocks and releases top them up,
//! oldest first, in the same transaction), and nothing oversells — on a real
//! SQLite file, through the same store functions the daemon uses.

use ordersync::domain::direct::DirectOrder;
use ordersync::domain::{Channel, OrderState, time};
use ordersync::flows::{direct, erp};
use ordersync::providers::jgoods::apply::ingest_webhook;
use ordersync::providers::jgoods::{OrderSnapshot, SnapshotLine, Status};
use ordersync::providers::rakuten_pay::apply as rakuten;
use ordersync::providers::rakuten_pay::config::SkuSource;
use ordersync::providers::rakuten_pay::{Item, Package, Person, Progress, RakutenOrder, Totals};
use ordersync::providers::webhook::WebhookDelivery;
use ordersync::store::orders::{self, OrderFilter};
use ordersync::store::stock::{self, StockLevel};
use ordersync::store::{Store, restock};
use proptest::prelude::*;

const SKUS: [&str; 2] = ["A", "B"];
const PREF: [SkuSource; 1] = [SkuSource::ItemNumber];

#[derive(Debug, Clone)]
enum Step {
    Rakuten { n: u8, sku: usize, qty: u32 },
    Direct { n: u8, sku: usize, qty: u32 },
    Jgoods { n: u8, sku: usize, qty: u32 },
    Count { sku: usize, on_hand: i64 },
    CancelRakuten { n: u8 },
    CancelDirect { n: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    let order = || (0u8..8, 0usize..2, 1u32..5);
    prop_oneof![
        3 => order().prop_map(|(n, sku, qty)| Step::Rakuten { n, sku, qty }),
        3 => order().prop_map(|(n, sku, qty)| Step::Direct { n, sku, qty }),
        1 => order().prop_map(|(n, sku, qty)| Step::Jgoods { n, sku, qty }),
        3 => (0usize..2, 0i64..10).prop_map(|(sku, on_hand)| Step::Count { sku, on_hand }),
        1 => (0u8..8).prop_map(|n| Step::CancelRakuten { n }),
        1 => (0u8..8).prop_map(|n| Step::CancelDirect { n }),
    ]
}

fn rakuten_order(n: u8, sku: &str, qty: u32, progress: Progress) -> RakutenOrder {
    RakutenOrder {
        order_number: format!("R{n}"),
        progress,
        ordered_at: time::now(),
        confirmed_at: None,
        fixed_at: None,
        rakuten_settlement: true,
        settlement_method_code: Some(1),
        settlement_method: "クレジットカード".into(),
        customer: Person::default(),
        totals: Totals::default(),
        packages: vec![Package {
            basket_id: 1,
            recipient: Person::default(),
            items: vec![Item {
                item_detail_id: 1,
                name: String::new(),
                item_number: Some(sku.into()),
                manage_number: None,
                merchant_defined_sku_id: None,
                variant_id: None,
                price: 100,
                units: qty,
                deleted: false,
            }],
            shipping: vec![],
            deleted: false,
        }],
    }
}

fn direct_order(n: u8, sku: &str, qty: u32) -> DirectOrder {
    let body = serde_json::json!({"channel": "direct", "id": format!("D{n}"),
        "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": "山田 太郎", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678"},
        "lines": [{"line_no": 1, "sku": sku, "name": "x", "qty": qty, "unit_price": 100}],
        "shipping_fee": 0, "fee": 0, "payment": {"method": "none"}, "allocate": true});
    serde_json::from_value(body).unwrap()
}

async fn jgoods_order(store: &Store, n: u8, sku: &str, qty: u32) {
    let snap = OrderSnapshot {
        order_no: format!("J{n}"),
        status: Status::AwaitingApproval,
        status_changed_at: Some(time::now()),
        parent_order_no: None,
        ship_to: None,
        lines: vec![SnapshotLine {
            line_no: 1,
            sku: sku.into(),
            name: String::new(),
            qty,
            reserved_qty: None,
            unit_price: None,
        }],
    };
    let delivery = WebhookDelivery {
        provider: ordersync::domain::Provider::Jgoods,
        delivery_id: None,
        headers: serde_json::json!({}),
        body: b"{}".to_vec(),
        replay_key: None,
    };
    ingest_webhook(store, delivery, snap).await.unwrap();
}

/// Free units next to a waiting order of the same SKU, if any.
async fn free_units_beside_a_waiting_order(store: &Store) -> Option<String> {
    let stock = store.read(stock::list).await.unwrap();
    let short = store
        .read(|c| {
            orders::list(
                c,
                &OrderFilter {
                    state: Some(OrderState::Short),
                    limit: 1000,
                    ..Default::default()
                },
            )
        })
        .await
        .unwrap();
    for o in short
        .iter()
        .filter(|o| matches!(o.channel, Channel::Rakuten | Channel::Direct))
    {
        for l in o.lines.iter().filter(|l| l.reserved_qty < l.qty) {
            if let Some(s) = stock.iter().find(|s| s.sku == l.sku && s.available > 0) {
                return Some(format!(
                    "{}/{} waits for {} of {} while {} are free",
                    o.channel.as_str(),
                    o.id,
                    l.qty - l.reserved_qty,
                    l.sku,
                    s.available
                ));
            }
        }
    }
    None
}

async fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path(), 0).unwrap();
    for step in steps {
        match &step {
            Step::Rakuten { n, sku, qty } => {
                let o = rakuten_order(*n, SKUS[*sku], *qty, Progress::AwaitingConfirmation);
                rakuten::apply_orders(&store, vec![o], PREF.to_vec())
                    .await
                    .unwrap();
            }
            Step::CancelRakuten { n } => {
                let o = rakuten_order(*n, "A", 1, Progress::Cancelled);
                rakuten::apply_orders(&store, vec![o], PREF.to_vec())
                    .await
                    .unwrap();
            }
            Step::Direct { n, sku, qty } => {
                direct::register(&store, direct_order(*n, SKUS[*sku], *qty))
                    .await
                    .unwrap();
            }
            Step::CancelDirect { n } => {
                // Unknown or already cancelled orders are refused: fine.
                let _ = erp::cancel(&store, Channel::Direct, format!("D{n}"), "x".into()).await;
            }
            Step::Jgoods { n, sku, qty } => jgoods_order(&store, *n, SKUS[*sku], *qty).await,
            Step::Count { sku, on_hand } => {
                let level = StockLevel {
                    sku: SKUS[*sku].into(),
                    on_hand: *on_hand,
                    as_of: None,
                    tax_rate: None,
                };
                store
                    .write(move |tx| restock::set_levels(tx, &[level], &time::rfc3339(time::now())))
                    .await
                    .unwrap();
            }
        }
        let breaches = store.read(|c| stock::invariant_breaches(c)).await.unwrap();
        prop_assert!(breaches.is_empty(), "after {step:?}: {breaches:?}");
        let waiting = free_units_beside_a_waiting_order(&store).await;
        prop_assert!(waiting.is_none(), "after {step:?}: {waiting:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn no_free_units_while_an_older_short_order_of_them_waits(
        steps in prop::collection::vec(step(), 1..30)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(steps))?;
    }
}
