//! The network part of the Rakuten Pay outbox call: 発送完了報告.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::Progress;
use super::client::ShippingRowInput;
use super::poller::RakutenApi;
use crate::call::CallError;
use crate::call::outcome::{self, CallOutcome};
use crate::call::{Attempt, CallContext};
use crate::domain::Provider;
use crate::domain::{Carrier, Channel};
use crate::engine::Call;
use crate::engine::EventKind;
use crate::metrics::Metrics;
use crate::store;

/// Makes the Rakuten call of the outbox (the shipment report).
pub async fn run(api: &RakutenApi, ctx: &CallContext<'_>) -> store::Result<Attempt> {
    let Call::RakutenShip {
        order_number,
        carrier,
        tracking_no,
        shipped_on,
    } = &ctx.row.call
    else {
        unreachable!("not a Rakuten call: {}", ctx.row.call.kind());
    };
    let answer = report_shipment(
        api,
        ctx.metrics,
        order_number,
        *carrier,
        tracking_no,
        *shipped_on,
    )
    .await;
    let outcome = match answer {
        Ok(detail) => CallOutcome::Done {
            kind: EventKind::OrderShipmentReported,
            detail,
        },
        Err(e @ CallError::Transient { .. }) => match ctx.give_up_or_retry(e) {
            Ok(error) => CallOutcome::Failed {
                reason: format!("could not report the shipment to Rakuten: {error}"),
            },
            Err(attempt) => return Ok(attempt),
        },
        Err(e) => match ctx.settle(e, |e| format!("Rakuten refused the shipment report: {e}")) {
            Ok(reason) => CallOutcome::Failed { reason },
            Err(attempt) => return Ok(attempt),
        },
    };
    let order = Some((Channel::Rakuten, order_number.clone()));
    outcome::finish(ctx.store, ctx.row.id, order, outcome).await?;
    Ok(Attempt::Finished)
}

/// 発送完了報告, guarded against duplicates: the order is read first and a
/// basket that already carries the tracking number gets no second row (after
/// a crash between Rakuten's answer and our commit, the retry adds nothing).
async fn report_shipment(
    api: &RakutenApi,
    metrics: &Metrics,
    order_number: &str,
    carrier: Carrier,
    tracking_no: &str,
    date: NaiveDate,
) -> Result<Value, CallError> {
    api.pacer.wait().await;
    let orders = metrics
        .timed(
            Provider::RakutenPay,
            api.client.get_order(&[order_number.to_string()]),
        )
        .await?;
    let order = orders
        .into_iter()
        .find(|o| o.order_number == order_number)
        .ok_or_else(|| CallError::Rejected {
            http_status: 404,
            code: "ORDER_NOT_FOUND".into(),
            message: format!("Rakuten does not know order {order_number}"),
        })?;
    // Rakuten takes shipping rows from 300 on. A parcel the warehouse sent
    // while Rakuten was still processing the payment (200) or a change (400)
    // is reported once it gets there: a wait, not a refusal.
    if matches!(
        order.progress,
        Progress::RakutenProcessing | Progress::AwaitingChangeConfirmation
    ) {
        return Err(CallError::transient(format!(
            "Rakuten order {order_number} is at {}: shipping rows are taken from 300 on",
            order.progress.code()
        )));
    }
    let baskets: Vec<(i64, Vec<ShippingRowInput>)> = order
        .packages
        .iter()
        .filter(|p| {
            !p.shipping
                .iter()
                .any(|r| r.shipping_number.as_deref() == Some(tracking_no))
        })
        .map(|p| {
            (
                p.basket_id,
                vec![ShippingRowInput::new(carrier, tracking_no, date)],
            )
        })
        .collect();
    if baskets.is_empty() {
        return Ok(json!({"tracking_no": tracking_no, "already_reported": true}));
    }
    api.pacer.wait().await;
    metrics
        .timed(
            Provider::RakutenPay,
            api.client.update_order_shipping(order_number, &baskets),
        )
        .await?;
    Ok(json!({
        "tracking_no": tracking_no,
        "baskets": baskets.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
        "delivery_company": super::delivery_company(carrier),
    }))
}
