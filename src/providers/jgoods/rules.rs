//! Decisions for J-goods orders: what to do with a webhook (or a re-read order)
//! and with J-goods' answer to our allocation post-back.
//!
//! The flow (seed, section 6.3–6.4): a paid order arrives at 承認待ち with empty
//! `reserved_qty` → allocate and post the quantities (with 入荷待ち when every
//! line is full). A short answer makes J-goods ask the customer (返答待ち): they
//! either accept the partial quantities (承認待ち again, `qty == reserved_qty`,
//! and we confirm) or decline (注文取消, and the stock goes back).

use std::collections::HashMap;

use serde_json::json;

use crate::domain::Provider;
use crate::domain::{Order, OrderState, PaymentState};
use crate::engine::EventKind;
use crate::engine::reserve::{Demand, Reservation, reserve};
use crate::engine::{Attention, Call, Decision, LineWrite, OrderWrite, ReservedLine};
use crate::providers::jgoods::{OrderSnapshot, Status};

mod writes;
use writes::*;

/// Where a snapshot of the order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Pushed by J-goods.
    Webhook,
    /// Read by us from the order API (after a conflict, a stale delivery, or a sweep).
    Fetched,
}

/// Decides what a J-goods order snapshot means for the stored order.
///
/// `available` holds the free units of every SKU the snapshot names, read in the
/// same transaction the decision will be written in.
pub fn decide(
    snap: &OrderSnapshot,
    stored: Option<&Order>,
    available: &HashMap<String, u32>,
    source: Source,
) -> Decision {
    if let Some(order) = stored
        && is_stale(snap, order)
    {
        // An older state arriving late must not undo a newer one. A webhook that
        // looks stale is only a hint: re-read what J-goods says now.
        let d = Decision::default().event(
            EventKind::WebhookStale,
            json!({"status": snap.status.code(), "status_changed_at": snap.status_changed_at.map(|t| t.to_rfc3339())}),
        );
        return match source {
            Source::Webhook => Decision {
                calls: vec![Call::JgoodsFetchOrder {
                    order_no: snap.order_no.clone(),
                }],
                ..d
            },
            Source::Fetched => d,
        };
    }
    match snap.status {
        Status::AwaitingApproval => awaiting_approval(snap, stored, available),
        Status::AwaitingReply => awaiting_reply(snap, stored),
        Status::Cancelled => cancelled(snap, stored),
        Status::AwaitingArrival => awaiting_arrival(snap, stored),
        Status::AwaitingShipment | Status::Shipped | Status::AwaitingRepayment => {
            informational(snap, stored, true)
        }
        Status::Received | Status::AwaitingPayment | Status::Split => {
            informational(snap, stored, false)
        }
    }
}

/// How J-goods answered our `PUT /{order_no}`.
#[derive(Debug, Clone, PartialEq)]
pub enum PutOutcome {
    /// 200 with the order as J-goods now has it.
    Accepted(OrderSnapshot),
    /// J-goods refused the request for good (400/404, or a 409 whose re-read
    /// could not be had). `code` is J-goods' error code.
    Refused { code: String, message: String },
    /// The retry budget ran out.
    GaveUp { reason: String },
}

/// Decides what J-goods' answer to our allocation post-back means.
pub fn decide_put_outcome(stored: &Order, outcome: &PutOutcome) -> Decision {
    match outcome {
        PutOutcome::Accepted(snap) => match snap.status {
            // J-goods' webhook for the same change may have come first.
            Status::AwaitingArrival if stored.state == OrderState::Confirmed => Decision::default(),
            Status::AwaitingReply
                if stored.provider_status.as_deref() == Some(Status::AwaitingReply.code()) =>
            {
                Decision::default()
            }
            Status::AwaitingArrival if stored.state != OrderState::Cancelled => confirmed(snap),
            Status::AwaitingReply => Decision {
                order: Some(OrderWrite {
                    provider_status: Some(snap.status.code().into()),
                    status_changed_at: changed_at(snap),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .event(
                EventKind::OrderAwaitingReply,
                json!({"source": "post_back"}),
            ),
            // Anything else (still 承認待ち, or moved on meanwhile) is what a
            // webhook would tell us: decide from the snapshot itself.
            _ => decide(snap, Some(stored), &HashMap::new(), Source::Fetched),
        },
        PutOutcome::Refused { code, message } => attention(
            format!(
                "J-goods が在庫引当の報告を拒否しました: {code} {message} / \
                 J-goods refused the allocation post-back: {code} {message}"
            ),
            EventKind::CallRefused,
            json!({"code": code, "message": message}),
        ),
        PutOutcome::GaveUp { reason } => attention(
            format!(
                "J-goods への引当報告が届きませんでした({reason})。原因を直して再送してください / \
                 could not reach J-goods; fix the cause and retry: {reason}"
            ),
            EventKind::CallDead,
            json!({"reason": reason}),
        ),
    }
}

/// A fetch call that could not be completed (the order stays as it is, flagged).
pub fn decide_fetch_failure(reason: &str) -> Decision {
    attention(
        format!(
            "J-goods から受注を読み直せませんでした: {reason} / \
             could not re-read the order from J-goods: {reason}"
        ),
        EventKind::CallDead,
        json!({"reason": reason}),
    )
}

fn is_stale(snap: &OrderSnapshot, order: &Order) -> bool {
    let (Some(new), Some(old)) = (snap.status_changed_at, order.status_changed_at.as_deref())
    else {
        return false;
    };
    chrono::DateTime::parse_from_rfc3339(old).is_ok_and(|old| new < old)
}

fn awaiting_approval(
    snap: &OrderSnapshot,
    stored: Option<&Order>,
    available: &HashMap<String, u32>,
) -> Decision {
    let empty = snap.lines.iter().all(|l| l.reserved_qty.is_none());
    let filled = snap.lines.iter().all(|l| l.reserved_qty.is_some());
    match (stored, empty, filled) {
        (None, true, _) => allocate_new(snap, None, available),
        (Some(o), true, _) if o.state == OrderState::New => allocate_new(snap, Some(o), available),
        (Some(o), true, _) if matches!(o.state, OrderState::Allocated | OrderState::Short) => {
            // A repeat of the paid order before J-goods registered our answer:
            // never allocate twice; re-send our answer if nothing is queued.
            repost_if_idle(snap, o)
        }
        (Some(o), false, true) => answered(snap, o),
        (None, false, true) => record_with_attention(
            snap,
            None,
            "J-goods shows an allocation this daemon never made".into(),
        ),
        (Some(o), true, _) => record_with_attention(
            snap,
            Some(o),
            format!(
                "J-goods shows 承認待ち without allocation for an order that is {} here",
                o.state.as_str()
            ),
        ),
        (_, false, false) => record_with_attention(
            snap,
            stored,
            "J-goods sent reserved_qty on some lines only".into(),
        ),
    }
}

/// First allocation of a paid order: reserve `min(qty, available)` per line.
fn allocate_new(
    snap: &OrderSnapshot,
    stored: Option<&Order>,
    available: &HashMap<String, u32>,
) -> Decision {
    let demand: Vec<Demand> = (snap.lines.iter())
        .map(|l| Demand {
            line_no: l.line_no,
            sku: &l.sku,
            qty: l.qty,
        })
        .collect();
    let Reservation {
        reserved,
        full,
        moves: stock,
    } = reserve(&demand, available);
    let items: Vec<ReservedLine> = snap
        .lines
        .iter()
        .zip(&reserved)
        .map(|(l, r)| ReservedLine {
            line_no: l.line_no,
            reserved_qty: *r,
        })
        .collect();
    let state = if full {
        OrderState::Allocated
    } else {
        OrderState::Short
    };
    let detail = json!({
        "lines": items.iter().zip(&snap.lines).map(|(i, l)| json!({
            "line_no": i.line_no, "sku": l.sku, "qty": l.qty, "reserved_qty": i.reserved_qty,
        })).collect::<Vec<_>>(),
    });
    Decision {
        order: Some(OrderWrite {
            state: Some(state),
            payment_state: stored.is_none().then_some(PaymentState::Unpaid),
            lines: Some(line_writes(snap)),
            ..snapshot_write(snap)
        }),
        stock,
        calls: vec![Call::JgoodsPutOrder {
            order_no: snap.order_no.clone(),
            items: Some(items),
            confirm: full,
        }],
        cancel_pending_calls: false,
        events: vec![],
    }
    .event(
        if full {
            EventKind::OrderAllocated
        } else {
            EventKind::OrderShort
        },
        detail,
    )
}

fn repost_if_idle(snap: &OrderSnapshot, o: &Order) -> Decision {
    let record = Decision {
        order: Some(snapshot_write(snap)),
        ..Default::default()
    };
    if o.pending_calls > 0 {
        return record.event(
            EventKind::WebhookRepeat,
            json!({"status": snap.status.code()}),
        );
    }
    let full = o.lines.iter().all(|l| l.reserved_qty == l.qty);
    Decision {
        calls: vec![Call::JgoodsPutOrder {
            order_no: o.id.clone(),
            items: Some(our_reservations(o)),
            confirm: full,
        }],
        ..record
    }
    .event(
        EventKind::OrderReposted,
        json!({"reason": "J-goods still shows no allocation"}),
    )
}

/// 承認待ち with `reserved_qty` on every line: J-goods is showing our answer back.
fn answered(snap: &OrderSnapshot, o: &Order) -> Decision {
    if let Some(diff) = reservation_mismatch(snap, o) {
        return record_with_attention(snap, Some(o), diff);
    }
    let accepted_as_reserved = snap.lines.iter().all(|l| l.reserved_qty == Some(l.qty));
    match o.state {
        OrderState::Short if accepted_as_reserved => {
            // The customer agreed to the partial quantities: confirm.
            Decision {
                order: Some(OrderWrite {
                    state: Some(OrderState::Allocated),
                    lines: Some(line_writes(snap)),
                    ..snapshot_write(snap)
                }),
                calls: vec![Call::JgoodsPutOrder {
                    order_no: o.id.clone(),
                    items: None,
                    confirm: true,
                }],
                ..Default::default()
            }
            .event(
                EventKind::OrderPartialAccepted,
                json!({"lines": snap.lines.iter().map(|l| json!({"line_no": l.line_no, "qty": l.qty})).collect::<Vec<_>>()}),
            )
        }
        OrderState::Allocated if accepted_as_reserved && o.pending_calls == 0 => {
            // Our full answer was registered but the move to 入荷待ち was not: ask again.
            Decision {
                order: Some(snapshot_write(snap)),
                calls: vec![Call::JgoodsPutOrder {
                    order_no: o.id.clone(),
                    items: None,
                    confirm: true,
                }],
                ..Default::default()
            }
            .event(
                EventKind::OrderReposted,
                json!({"reason": "J-goods still shows 承認待ち"}),
            )
        }
        OrderState::Allocated | OrderState::Confirmed if accepted_as_reserved => Decision {
            order: Some(snapshot_write(snap)),
            ..Default::default()
        }
        .event(
            EventKind::WebhookRepeat,
            json!({"status": snap.status.code()}),
        ),
        _ => record_with_attention(
            snap,
            Some(o),
            format!(
                "J-goods shows 承認待ち with short lines while the order is {} here",
                o.state.as_str()
            ),
        ),
    }
}

fn awaiting_reply(snap: &OrderSnapshot, stored: Option<&Order>) -> Decision {
    match stored {
        Some(o) if o.state == OrderState::Short => {
            if let Some(diff) = reservation_mismatch(snap, o) {
                return record_with_attention(snap, Some(o), diff);
            }
            if o.provider_status.as_deref() == Some(Status::AwaitingReply.code()) {
                return Decision {
                    order: Some(snapshot_write(snap)),
                    ..Default::default()
                }
                .event(
                    EventKind::WebhookRepeat,
                    json!({"status": snap.status.code()}),
                );
            }
            Decision {
                order: Some(snapshot_write(snap)),
                ..Default::default()
            }
            .event(EventKind::OrderAwaitingReply, json!({"source": "webhook"}))
        }
        Some(o) => record_with_attention(
            snap,
            Some(o),
            format!(
                "J-goods asks the customer about a shortage, but the order is {} here",
                o.state.as_str()
            ),
        ),
        None => record_with_attention(
            snap,
            None,
            "J-goods shows 返答待ち for an order this daemon never allocated".into(),
        ),
    }
}

fn cancelled(snap: &OrderSnapshot, stored: Option<&Order>) -> Decision {
    match stored {
        Some(o) if o.state == OrderState::Cancelled => Decision {
            order: Some(snapshot_write(snap)),
            ..Default::default()
        }
        .event(
            EventKind::WebhookRepeat,
            json!({"status": snap.status.code()}),
        ),
        Some(o) if o.state == OrderState::Shipped => record_with_attention(
            snap,
            Some(o),
            "J-goods cancelled an order already shipped to it".into(),
        ),
        _ => {
            let released = stored.map_or(0, Order::reserved_units);
            let write = OrderWrite {
                payment_state: stored.is_none().then_some(PaymentState::Unpaid),
                lines: stored.is_none().then(|| line_writes(snap)),
                ..snapshot_write(snap)
            };
            Decision::cancel(released, write).event(
                EventKind::OrderCancelled,
                json!({"released": released, "by": Provider::Jgoods.as_str()}),
            )
        }
    }
}

fn awaiting_arrival(snap: &OrderSnapshot, stored: Option<&Order>) -> Decision {
    match stored {
        Some(o) if o.state == OrderState::Allocated && reservation_mismatch(snap, o).is_none() => {
            // J-goods reports the move to 入荷待ち we asked for (our 200 may
            // have been lost): that is the same evidence as the 200 itself.
            Decision {
                cancel_pending_calls: true,
                ..confirmed(snap)
            }
        }
        // Already confirmed, or confirmed and since sent to J-goods'
        // warehouse (入荷待ち is exactly that trip): J-goods' own notice of
        // the move can arrive late, after the ERP's shipment.
        Some(o) if matches!(o.state, OrderState::Confirmed | OrderState::Shipped) => Decision {
            order: Some(snapshot_write(snap)),
            ..Default::default()
        }
        .event(
            EventKind::WebhookRepeat,
            json!({"status": snap.status.code()}),
        ),
        Some(o) => record_with_attention(
            snap,
            Some(o),
            format!(
                "J-goods moved the order to 入荷待ち while it is {} here",
                o.state.as_str()
            ),
        ),
        None => record_with_attention(
            snap,
            None,
            "J-goods shows 入荷待ち for an order this daemon never allocated".into(),
        ),
    }
}

/// Statuses that need no action. With `after_trade`, an order this daemon has
/// never seen (or has cancelled) is suspicious and flagged.
fn informational(snap: &OrderSnapshot, stored: Option<&Order>, after_trade: bool) -> Decision {
    match stored {
        None if after_trade => record_with_attention(
            snap,
            None,
            format!(
                "J-goods reports {} for an order this daemon never saw",
                snap.status.code()
            ),
        ),
        Some(o) if after_trade && o.state == OrderState::Cancelled => record_with_attention(
            snap,
            Some(o),
            format!(
                "J-goods reports {} for a cancelled order",
                snap.status.code()
            ),
        ),
        None => Decision {
            order: Some(OrderWrite {
                state: Some(OrderState::New),
                payment_state: Some(PaymentState::Unpaid),
                lines: Some(line_writes(snap)),
                ..snapshot_write(snap)
            }),
            ..Default::default()
        }
        .event(
            EventKind::OrderReceived,
            json!({"status": snap.status.code()}),
        ),
        Some(o) => {
            let d = Decision {
                order: Some(OrderWrite {
                    // Before the trade starts the order may still change.
                    lines: (o.state == OrderState::New).then(|| line_writes(snap)),
                    ..snapshot_write(snap)
                }),
                ..Default::default()
            };
            if o.provider_status.as_deref() == Some(snap.status.code()) {
                d.event(
                    EventKind::WebhookRepeat,
                    json!({"status": snap.status.code()}),
                )
            } else {
                d.event(
                    EventKind::OrderStatus,
                    json!({"status": snap.status.code()}),
                )
            }
        }
    }
}

fn confirmed(snap: &OrderSnapshot) -> Decision {
    Decision {
        order: Some(OrderWrite {
            state: Some(OrderState::Confirmed),
            payment_state: Some(PaymentState::Deferred),
            ..snapshot_write(snap)
        }),
        ..Default::default()
    }
    .event(
        EventKind::OrderConfirmed,
        json!({"payment_state": "deferred"}),
    )
}

#[cfg(test)]
mod tests;
