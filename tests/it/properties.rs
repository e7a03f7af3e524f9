//! Property: whatever the interleaving of new orders, stock pushes, partial
//! acceptances and cancellations, the mirror never oversells and `reserved`
//! always equals the sum of open allocations — on a real SQLite file.

use std::collections::HashMap;

use ordersync::domain::{Channel, time};
use ordersync::providers::jgoods::apply::ingest_webhook;
use ordersync::providers::jgoods::{OrderSnapshot, SnapshotLine, Status};
use ordersync::providers::webhook::WebhookDelivery;
use ordersync::store::stock::{self, StockLevel};
use ordersync::store::{Store, orders};
use proptest::prelude::*;

const SKUS: [&str; 3] = ["A", "B", "C"];

#[derive(Debug, Clone)]
enum Step {
    NewOrder { order: u8, sku: usize, qty: u32 },
    Push { sku: usize, on_hand: i64 },
    Cancel { order: u8 },
    AcceptPartial { order: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..12, 0usize..3, 1u32..6).prop_map(|(order, sku, qty)| Step::NewOrder { order, sku, qty }),
        2 => (0usize..3, 0i64..12).prop_map(|(sku, on_hand)| Step::Push { sku, on_hand }),
        2 => (0u8..12).prop_map(|order| Step::Cancel { order }),
        1 => (0u8..12).prop_map(|order| Step::AcceptPartial { order }),
    ]
}

fn snapshot(order: u8, status: Status, lines: Vec<SnapshotLine>, tick: u32) -> OrderSnapshot {
    OrderSnapshot {
        order_no: format!("P{order}"),
        status,
        status_changed_at: Some(
            chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00+09:00").unwrap()
                + chrono::Duration::seconds(i64::from(tick)),
        ),
        parent_order_no: None,
        ship_to: None,
        lines,
    }
}

async fn deliver(store: &Store, snap: OrderSnapshot) {
    let delivery = WebhookDelivery {
        provider: ordersync::domain::Provider::Jgoods,
        delivery_id: None,
        headers: serde_json::json!({}),
        body: b"{}".to_vec(),
        replay_key: None,
    };
    ingest_webhook(store, delivery, snap).await.unwrap();
}

async fn reserved_and_available(store: &Store) -> HashMap<String, (i64, i64, u32)> {
    store
        .read(stock::list)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.sku.clone(), (r.on_hand, r.reserved, r.available)))
        .collect()
}

async fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path(), 1).unwrap();
    for (tick, step) in steps.into_iter().enumerate() {
        let tick = tick as u32;
        let before = reserved_and_available(&store).await;
        match &step {
            Step::NewOrder { order, sku, qty } => {
                let line = SnapshotLine {
                    line_no: 1,
                    sku: SKUS[*sku].into(),
                    name: String::new(),
                    qty: *qty,
                    reserved_qty: None,
                    unit_price: None,
                };
                deliver(
                    &store,
                    snapshot(*order, Status::AwaitingApproval, vec![line], tick),
                )
                .await;
            }
            Step::Push { sku, on_hand } => {
                let level = StockLevel {
                    sku: SKUS[*sku].into(),
                    on_hand: *on_hand,
                    as_of: None,
                    tax_rate: None,
                };
                store
                    .write(move |tx| stock::set_level(tx, &level, &time::rfc3339(time::now())))
                    .await
                    .unwrap();
            }
            Step::Cancel { order } | Step::AcceptPartial { order } => {
                let id = format!("P{order}");
                let Some(o) = store
                    .read(move |c| orders::load(c, Channel::Jgoods, &id))
                    .await
                    .unwrap()
                else {
                    continue;
                };
                let accept = matches!(step, Step::AcceptPartial { .. });
                let lines = o
                    .lines
                    .iter()
                    .map(|l| SnapshotLine {
                        line_no: l.line_no,
                        sku: l.sku.clone(),
                        name: String::new(),
                        qty: if accept { l.reserved_qty } else { l.qty },
                        reserved_qty: Some(l.reserved_qty),
                        unit_price: None,
                    })
                    .collect();
                let status = if accept {
                    Status::AwaitingApproval
                } else {
                    Status::Cancelled
                };
                deliver(&store, snapshot(*order, status, lines, tick)).await;
            }
        }
        let after = reserved_and_available(&store).await;
        let breaches = store.read(|c| stock::invariant_breaches(c)).await.unwrap();
        prop_assert!(breaches.is_empty(), "after {step:?}: {breaches:?}");
        for (sku, (_, reserved, _)) in &after {
            let (on_hand_before, reserved_before, available_before) =
                before.get(sku).copied().unwrap_or((0, 0, 0));
            prop_assert!(*reserved >= 0);
            let newly = reserved - reserved_before;
            if newly > 0 {
                // Only new orders reserve, and never more than was free.
                prop_assert!(
                    matches!(step, Step::NewOrder { .. }),
                    "{step:?} reserved {newly} of {sku}"
                );
                prop_assert!(
                    newly <= i64::from(available_before),
                    "{step:?}: reserved {newly} of {sku}, {available_before} free (on hand {on_hand_before})"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn never_oversells_under_any_interleaving(steps in prop::collection::vec(step(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(steps))?;
    }
}
