//! The small pieces the J-goods rules build decisions from: an attention, the
//! snapshot's order write and lines, and the reservations as J-goods should see them.

use super::*;

pub(super) fn attention(reason: String, kind: EventKind, detail: serde_json::Value) -> Decision {
    Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Set(reason.clone())),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(kind, detail)
    .event(EventKind::OrderAttention, json!({"reason": reason}))
}

pub(super) fn record_with_attention(
    snap: &OrderSnapshot,
    stored: Option<&Order>,
    reason: String,
) -> Decision {
    let d = Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Set(reason.clone())),
            state: stored.is_none().then_some(OrderState::New),
            payment_state: stored.is_none().then_some(PaymentState::Unpaid),
            lines: stored.is_none().then(|| line_writes(snap)),
            ..snapshot_write(snap)
        }),
        ..Default::default()
    };
    d.event(
        EventKind::OrderAttention,
        json!({"reason": reason, "status": snap.status.code()}),
    )
}

/// The fields every snapshot refreshes: J-goods' status and when it changed.
pub(super) fn snapshot_write(snap: &OrderSnapshot) -> OrderWrite {
    OrderWrite {
        provider_status: Some(snap.status.code().to_string()),
        status_changed_at: changed_at(snap),
        ship_to: snap
            .ship_to
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok()),
        ..Default::default()
    }
}

pub(super) fn changed_at(snap: &OrderSnapshot) -> Option<String> {
    snap.status_changed_at
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
}

pub(super) fn line_writes(snap: &OrderSnapshot) -> Vec<LineWrite> {
    snap.lines
        .iter()
        .map(|l| LineWrite {
            line_no: l.line_no,
            sku: l.sku.clone(),
            name: l.name.clone(),
            qty: l.qty,
            unit_price: l.unit_price,
        })
        .collect()
}

pub(super) fn our_reservations(o: &Order) -> Vec<ReservedLine> {
    o.lines
        .iter()
        .map(|l| ReservedLine {
            line_no: l.line_no,
            reserved_qty: l.reserved_qty,
        })
        .collect()
}

/// Describes the first line where J-goods' `reserved_qty` differs from ours.
pub(super) fn reservation_mismatch(snap: &OrderSnapshot, o: &Order) -> Option<String> {
    if snap.lines.len() != o.lines.len() {
        return Some(format!(
            "J-goods shows {} lines, this daemon has {}",
            snap.lines.len(),
            o.lines.len()
        ));
    }
    snap.lines.iter().find_map(|l| {
        let ours = o.line(l.line_no).map(|x| x.reserved_qty);
        match (l.reserved_qty, ours) {
            (_, None) => Some(format!("line {} is unknown here", l.line_no)),
            (Some(theirs), Some(ours)) if theirs != ours => Some(format!(
                "J-goods reserved_qty differs from our reservation (line {}: J-goods {theirs}, here {ours})",
                l.line_no
            )),
            _ => None,
        }
    })
}
