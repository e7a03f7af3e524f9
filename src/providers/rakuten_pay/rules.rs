//! Decisions for Rakuten Pay orders: import, allocation, payment, changes,
//! cancellation, and the answers to confirmation.
//!
//! Import rules (seed and the contract's Corrections): every order at 100,
//! 200 or 300 is taken in and its stock held, and every order at 100 is
//! confirmed once all of it is held, whatever its settlement class: Rakuten
//! cancels an order left unconfirmed 14 days after it was placed. An order
//! settled by Rakuten (`rpaySettlementFlag = 1`) is announced to the ERP
//! (`order.imported`) at once and is paid at 300; a shop-selected settlement
//! (`= 0`: cash on delivery) is held and confirmed quietly (`order.held`),
//! announced to the ERP only at 300, and never marked paid by Rakuten.
//! Rakuten has no partial-allocation protocol: a short order keeps its
//! partial reservation, is topped up by restocks ([`crate::engine::restock`]) and
//! shows its auto-cancel deadline. Deleted lines and packages
//! (`deleteItemFlag`, `packageDeleteFlag`) count as quantity 0.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset};
use serde_json::json;

use crate::domain::{Order, OrderState, PaymentState};
use crate::engine::EventKind;
use crate::engine::reserve::{Demand, Reservation, reserve};
use crate::engine::restock::SHORT_PREFIX;
use crate::engine::{Attention, Decision, LineWrite, OrderWrite, StockMove};
use crate::providers::rakuten_pay::client::ConfirmResult;
use crate::providers::rakuten_pay::config::SkuSource;
use crate::providers::rakuten_pay::{Person, Progress, RakutenOrder, sku_for};

/// Rakuten cancels an order left at 100 this long after it was placed.
pub const UNCONFIRMED_CANCEL_AFTER: Duration = Duration::days(14);

/// When Rakuten cancels the order unless it is confirmed.
pub fn auto_cancel_deadline(ordered_at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    ordered_at + UNCONFIRMED_CANCEL_AFTER
}

/// The attention of an order short of stock.
pub fn short_reason(order: &RakutenOrder) -> String {
    if order.progress == Progress::AwaitingConfirmation {
        let deadline = auto_cancel_deadline(order.ordered_at)
            .with_timezone(&crate::domain::time::jst())
            .format("%Y-%m-%d %H:%M");
        format!(
            "{SHORT_PREFIX}: 全明細の在庫を確保できないため注文確認していません。楽天は {deadline} (JST) に\
             未確認の注文を自動キャンセルします。入荷すると自動で引き当てて注文確認します。間に合わない場合は\
             RMSでお客様と相談してください / not enough stock: the order is not confirmed, and Rakuten \
             cancels it on {deadline} JST unless it is. Stock that arrives is allocated to it and it is \
             confirmed; otherwise settle it with the customer in RMS"
        )
    } else {
        format!(
            "{SHORT_PREFIX}: 全明細の在庫を確保できていません(楽天には部分引当がありません)。入荷すると自動で\
             引き当てます。待てない場合はお客様と相談のうえRMSでキャンセルしてください / not enough stock \
             (Rakuten has no partial allocation): stock that arrives is allocated to it; or cancel it \
             in RMS after talking to the customer"
        )
    }
}

/// One line for `status` and the status page about the orders still at 100,
/// `None` when there are none: how many, how many short of stock, and when
/// Rakuten cancels the oldest.
pub fn unconfirmed_summary(orders: i64, short: i64, oldest: Option<&str>) -> Option<String> {
    if orders == 0 {
        return None;
    }
    let deadline = oldest
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            auto_cancel_deadline(t)
                .with_timezone(&crate::domain::time::jst())
                .format(" 最も古い注文は %Y-%m-%d %H:%M (JST) に自動キャンセルされます")
                .to_string()
        })
        .unwrap_or_default();
    Some(format!(
        "楽天 注文確認待ち {orders} 件(うち在庫不足 {short} 件)。{deadline} / Rakuten orders \
         not yet confirmed: {orders} ({short} short of stock); Rakuten cancels an order left \
         unconfirmed 14 days after it was placed"
    ))
}

/// The lines of an order as the core stores them, numbered across its
/// destinations in Rakuten's order (deleted lines keep their number with
/// quantity 0). `None` SKU: no field named one.
pub fn lines_of(order: &RakutenOrder, preference: &[SkuSource]) -> Vec<(LineWrite, bool)> {
    order
        .items()
        .enumerate()
        .map(|(i, (_, item))| {
            let sku = sku_for(item, preference);
            let known = sku.is_some();
            (
                LineWrite {
                    line_no: i as u32 + 1,
                    sku: sku.unwrap_or_else(|| format!("rakuten-item-{}", item.item_detail_id)),
                    name: item.name.clone(),
                    qty: if item.deleted { 0 } else { item.units },
                    unit_price: Some(item.price),
                },
                known,
            )
        })
        .collect()
}

/// Whether an order not yet in the store should be taken in now: every
/// order Rakuten still wants handled, whatever its settlement class.
pub fn importable(order: &RakutenOrder) -> bool {
    match order.progress {
        Progress::AwaitingConfirmation
        | Progress::RakutenProcessing
        | Progress::AwaitingShipment => true,
        Progress::AwaitingChangeConfirmation
        | Progress::Shipped
        | Progress::PaymentInProgress
        | Progress::PaymentDone
        | Progress::AwaitingCancellation
        | Progress::Cancelled
        | Progress::Unknown(_) => false,
    }
}

/// Decides what an order read from Rakuten means for the stored order.
/// `available` holds the free units of the order's SKUs, read in the same
/// transaction the decision is written in.
pub fn decide(
    order: &RakutenOrder,
    stored: Option<&Order>,
    available: &HashMap<String, u32>,
    preference: &[SkuSource],
) -> Decision {
    match stored {
        None if importable(order) => import(order, available, preference),
        None => Decision::default(),
        Some(o) => follow(order, o, available, preference),
    }
}

fn progress_write(order: &RakutenOrder) -> OrderWrite {
    OrderWrite {
        provider_status: Some(order.progress.code().to_string()),
        ordered_at: Some(crate::domain::time::rfc3339(order.ordered_at)),
        ..Default::default()
    }
}

/// The ERP learns of an order (`order.imported`) once it is the shop's to
/// ship: at once when Rakuten handles the payment, at 300 for a shop-collected
/// settlement (the seed: "not imported yet, but confirmed").
fn announced(order: &RakutenOrder) -> bool {
    order.rakuten_settlement || order.progress == Progress::AwaitingShipment
}

fn paid_at_rakuten(order: &RakutenOrder) -> bool {
    order.rakuten_settlement
        && matches!(
            order.progress,
            Progress::AwaitingShipment
                | Progress::Shipped
                | Progress::PaymentInProgress
                | Progress::PaymentDone
        )
}

fn import(
    order: &RakutenOrder,
    available: &HashMap<String, u32>,
    preference: &[SkuSource],
) -> Decision {
    let lines = lines_of(order, preference);
    let demand: Vec<Demand> = (lines.iter())
        .map(|(l, _)| Demand {
            line_no: l.line_no,
            sku: &l.sku,
            qty: l.qty,
        })
        .collect();
    let Reservation {
        reserved,
        full,
        moves,
    } = reserve(&demand, available);
    let unknown: Vec<&str> = lines
        .iter()
        .filter(|(_, known)| !known)
        .map(|(l, _)| l.sku.as_str())
        .collect();
    let confirmed_at_rakuten = order.progress != Progress::AwaitingConfirmation;
    let state = match (full, confirmed_at_rakuten) {
        (false, _) => OrderState::Short,
        (true, true) => OrderState::Confirmed,
        (true, false) => OrderState::Allocated,
    };
    let attention = import_attention(order, &unknown, full);
    let payment = if paid_at_rakuten(order) {
        PaymentState::Paid
    } else {
        PaymentState::Pending
    };
    let detail = json!({
        "progress": order.progress.code(),
        "rakuten_settlement": order.rakuten_settlement,
        "lines": lines.iter().zip(&reserved).map(|((l, _), r)| json!({
            "line_no": l.line_no, "sku": l.sku, "qty": l.qty, "reserved_qty": r,
        })).collect::<Vec<_>>(),
    });
    Decision {
        order: Some(OrderWrite {
            state: Some(state),
            payment_state: Some(payment),
            attention: attention.clone().map(Attention::Set),
            lines: Some(lines.iter().map(|(l, _)| l.clone()).collect()),
            ship_to: Some(ship_to(order)),
            ..progress_write(order)
        }),
        stock: moves,
        ..Default::default()
    }
    .first_reservation_events(
        announced(order),
        full,
        detail,
        attention,
        (payment == PaymentState::Paid).then_some("rakuten"),
    )
}

/// The stock to hold for each line.
/// Why a new order needs a person: a line without SKU, or short stock.
fn import_attention(order: &RakutenOrder, unknown: &[&str], full: bool) -> Option<String> {
    if !unknown.is_empty() {
        Some(format!(
            "楽天の明細 {0} に SKU がありません。商品を SKU に対応させてください / \
             no SKU on Rakuten line(s) {0}: map the item to a SKU",
            unknown.join(", ")
        ))
    } else if !full {
        Some(short_reason(order))
    } else {
        None
    }
}

/// A known order read again: payment, changes, cancellation.
fn follow(
    order: &RakutenOrder,
    o: &Order,
    available: &HashMap<String, u32>,
    preference: &[SkuSource],
) -> Decision {
    if order.progress.is_cancelling() {
        return cancelled(order, o);
    }
    if order.progress == Progress::AwaitingChangeConfirmation {
        return if o.provider_status.as_deref() == Some("400") {
            Decision::default()
        } else {
            changed(order, o, available, preference)
        };
    }
    let mut d = Decision::default();
    let mut write = progress_write(order);
    let mut events = vec![];
    if lines_differ(order, o, preference) {
        // A line or a destination was deleted: give its stock back.
        let (lines, stock, full) = relines(order, o, available, preference);
        write.lines = Some(lines);
        d.stock = stock;
        write.state = state_after(o, order, full);
        if full
            && o.attention
                .as_deref()
                .is_some_and(|a| a.starts_with(SHORT_PREFIX))
        {
            write.attention = Some(Attention::Clear);
        }
        events.push((EventKind::OrderLinesDeleted, json!({"full": full})));
    }
    if o.payment_state == PaymentState::Pending && paid_at_rakuten(order) {
        write.payment_state = Some(PaymentState::Paid);
        events.push((EventKind::OrderPaid, json!({"by": "rakuten"})));
    }
    let now_allocated = write.state.unwrap_or(o.state) == OrderState::Allocated;
    if now_allocated && order.progress != Progress::AwaitingConfirmation {
        // Confirmed at Rakuten (by us, or by a person in RMS).
        write.state = Some(OrderState::Confirmed);
        events.push((
            EventKind::OrderConfirmed,
            json!({"progress": order.progress.code()}),
        ));
    }
    if !order.rakuten_settlement
        && order.progress == Progress::AwaitingShipment
        && matches!(o.provider_status.as_deref(), Some("100" | "200"))
    {
        // A shop-collected order held since 100 is now the ERP's to import.
        events.push((
            EventKind::OrderImported,
            json!({"progress": 300, "rakuten_settlement": false}),
        ));
    }
    if o.provider_status.as_deref() == write.provider_status.as_deref() && events.is_empty() {
        return Decision::default();
    }
    d.order = Some(write);
    for (kind, detail) in events {
        d = d.event(kind, detail);
    }
    d
}

/// Rakuten cancels the order: its stock goes back, unless it left already.
fn cancelled(order: &RakutenOrder, o: &Order) -> Decision {
    match o.state {
        OrderState::Cancelled => Decision::default(),
        OrderState::Shipped => attention(
            order,
            "出荷済みの受注を楽天がキャンセルしました。返品と返金を RMS で確認してください / \
             Rakuten cancelled an order already shipped",
        ),
        _ => {
            let released = o.reserved_units();
            Decision::cancel(released, progress_write(order)).event(
                EventKind::OrderCancelled,
                json!({"by": "rakuten", "released": released}),
            )
        }
    }
}

/// Whether Rakuten's lines now ask for other quantities than the stored ones
/// (outside 400 only a deletion does that).
fn lines_differ(order: &RakutenOrder, o: &Order, preference: &[SkuSource]) -> bool {
    lines_of(order, preference)
        .iter()
        .any(|(l, _)| o.line(l.line_no).is_some_and(|old| old.qty != l.qty))
}

/// The order's state once its lines are `full`y held, or still not.
fn state_after(o: &Order, order: &RakutenOrder, full: bool) -> Option<OrderState> {
    match (o.state, full) {
        (OrderState::Short, true) if order.progress == Progress::AwaitingConfirmation => {
            Some(OrderState::Allocated)
        }
        (OrderState::Short, true) => Some(OrderState::Confirmed),
        (OrderState::Allocated | OrderState::Confirmed, false) => Some(OrderState::Short),
        _ => None,
    }
}

/// 400: the order was edited in RMS. Take the new lines and reserve or give
/// back the difference, then ask a person to look.
fn changed(
    order: &RakutenOrder,
    o: &Order,
    available: &HashMap<String, u32>,
    preference: &[SkuSource],
) -> Decision {
    let (lines, stock, full) = relines(order, o, available, preference);
    let reason =
        "楽天で受注が変更されました(400)。明細を取り込み直して引き当て直しました。内容を確認してください / \
         Rakuten changed the order (400): lines re-imported and re-allocated; check it"
            .to_string();
    Decision {
        order: Some(OrderWrite {
            lines: Some(lines),
            attention: Some(Attention::Set(reason.clone())),
            state: state_after(o, order, full),
            ..progress_write(order)
        }),
        stock,
        ..Default::default()
    }
    .event(
        EventKind::OrderChanged,
        json!({"progress": 400, "full": full}),
    )
    .event(EventKind::OrderAttention, json!({"reason": reason}))
}

/// Takes the lines Rakuten has now, reserving or giving back the difference
/// per line (a line that disappeared keeps its number with quantity 0).
/// Returns the lines to write, the stock moves, and whether every line is
/// then held in full.
fn relines(
    order: &RakutenOrder,
    o: &Order,
    available: &HashMap<String, u32>,
    preference: &[SkuSource],
) -> (Vec<LineWrite>, Vec<StockMove>, bool) {
    let lines = lines_of(order, preference);
    let mut stock = vec![];
    let mut free = available.clone();
    let mut rewrites: Vec<LineWrite> = lines.iter().map(|(l, _)| l.clone()).collect();
    for old in &o.lines {
        if !rewrites.iter().any(|l| l.line_no == old.line_no) {
            rewrites.push(LineWrite {
                qty: 0,
                ..line_write_of(old)
            });
        }
    }
    let mut full = true;
    for new in &rewrites {
        let (held, same_sku) = o
            .line(new.line_no)
            .map(|old| (old.reserved_qty, old.sku == new.sku))
            .unwrap_or((0, true));
        let keep = if same_sku { held.min(new.qty) } else { 0 };
        if held > keep {
            stock.push(StockMove::ReleaseLine {
                line_no: new.line_no,
                qty: held - keep,
            });
        }
        let mut take = 0;
        if new.qty > keep {
            let f = free.entry(new.sku.clone()).or_insert(0);
            take = (new.qty - keep).min(*f);
            *f -= take;
            if take > 0 {
                stock.push(StockMove::Reserve {
                    line_no: new.line_no,
                    sku: new.sku.clone(),
                    qty: take,
                });
            }
        }
        full &= keep + take == new.qty;
    }
    (rewrites, stock, full)
}

fn line_write_of(l: &crate::domain::OrderLine) -> LineWrite {
    LineWrite {
        line_no: l.line_no,
        sku: l.sku.clone(),
        name: l.name.clone(),
        qty: l.qty,
        unit_price: l.unit_price,
    }
}

fn attention(order: &RakutenOrder, reason: &str) -> Decision {
    Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Set(reason.to_string())),
            ..progress_write(order)
        }),
        ..Default::default()
    }
    .event(EventKind::OrderAttention, json!({"reason": reason}))
}

/// Whether an order at 100 should be confirmed at Rakuten now: only when all
/// its stock is held (confirming promises the goods).
pub fn should_confirm(stored: &Order) -> bool {
    stored.state == OrderState::Allocated && stored.provider_status.as_deref() == Some("100")
}

/// Decides Rakuten's answer to confirming one order.
pub fn decide_confirm(stored: &Order, result: &ConfirmResult) -> Decision {
    match result {
        ConfirmResult::Confirmed | ConfirmResult::AlreadyDone
            if stored.state == OrderState::Allocated =>
        {
            // Confirmed moves it 100 → 200; "already done" says only that it left 100.
            let provider_status = (*result == ConfirmResult::Confirmed)
                .then(|| Progress::RakutenProcessing.code().to_string());
            Decision {
                order: Some(OrderWrite {
                    state: Some(OrderState::Confirmed),
                    provider_status,
                    ..Default::default()
                }),
                ..Default::default()
            }
            .event(EventKind::OrderConfirmed, json!({"by": "ordersync"}))
        }
        ConfirmResult::Confirmed
        | ConfirmResult::AlreadyDone
        | ConfirmResult::AlreadyCancelled
        | ConfirmResult::NoAnswer => {
            // Cancellation (and anything unclear) shows on the next read.
            Decision::default()
        }
        ConfirmResult::PostageNotSet => flag(
            "楽天が注文確認を受け付けません: 送料が未設定です。RMS で設定してください / \
                 Rakuten refuses confirmation: postage is not set; set it in RMS",
        ),
        ConfirmResult::Other(code) => flag(&format!(
            "楽天が注文確認を拒否しました: {code} / Rakuten refused confirmation: {code}"
        )),
    }
}

fn flag(reason: &str) -> Decision {
    Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Set(reason.to_string())),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(EventKind::OrderAttention, json!({"reason": reason}))
}

mod search;
pub use search::{backfill_windows, halve, windows};

/// Where the parcel goes, for the label files: the one destination's
/// recipient (a gift goes to someone other than the customer); an order
/// with several destinations only says how many (one label each, by hand).
fn ship_to(order: &RakutenOrder) -> serde_json::Value {
    let live: Vec<&Person> = order
        .packages
        .iter()
        .filter(|p| !p.deleted)
        .map(|p| &p.recipient)
        .collect();
    match live.as_slice() {
        [one] => json!({"name": one.full_name(), "postal_code": one.postal_code,
                        "address": one.address(), "phone": one.phone}),
        [] => json!({"name": order.customer.full_name(), "postal_code": order.customer.postal_code,
                     "address": order.customer.address(), "phone": order.customer.phone}),
        several => json!({"packages": several.len()}),
    }
}

#[cfg(test)]
mod tests;
