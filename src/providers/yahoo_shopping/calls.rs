//! The network part of Yahoo!'s outbox calls: mark seen (処理中) and the
//! shipment report (出荷済み, then 完了 only when the merchant turned
//! `complete_orders` on). Both are safe to repeat: marking seen twice
//! changes nothing, and the shipment re-reads the order first and skips a
//! ship status already at 3 (a crash between Yahoo!'s answer and our commit
//! sends nothing twice).

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::SHIP_SHIPPED;
use super::apply;
use super::wiring::YahooApi;
use crate::call::outcome::{self, CallOutcome};
use crate::call::{Attempt, CallContext, CallError};
use crate::domain::{Carrier, Channel, Provider, time};
use crate::engine::{Call, EventKind};
use crate::store;

/// Makes one Yahoo! call of the outbox.
pub async fn run(api: &YahooApi, ctx: &CallContext<'_>) -> store::Result<Attempt> {
    match &ctx.row.call {
        Call::YahooMarkSeen { order_id } => mark_seen(api, ctx, order_id).await,
        Call::YahooShip {
            order_id,
            carrier,
            tracking_no,
            shipped_on,
        } => {
            let answer = ship(api, ctx, order_id, *carrier, tracking_no, *shipped_on).await;
            finish(ctx, order_id, answer, EventKind::OrderShipmentReported).await
        }
        other => unreachable!("not a Yahoo! call: {}", other.kind()),
    }
}

async fn mark_seen(
    api: &YahooApi,
    ctx: &CallContext<'_>,
    order_id: &str,
) -> store::Result<Attempt> {
    let answer = ctx
        .metrics
        .timed(Provider::YahooShopping, api.client.mark_seen(order_id))
        .await;
    if let Err(e) = answer {
        return finish(ctx, order_id, Err(e), EventKind::OrderConfirmed).await;
    }
    let (id, row) = (order_id.to_string(), ctx.row.id);
    ctx.store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            store::outbox::complete(tx, row, &now)?;
            let d = apply::marked_seen(tx, &id)?;
            store::orders::apply(tx, Channel::Yahoo, &id, &d, &now)?;
            Ok(())
        })
        .await?;
    Ok(Attempt::Finished)
}

async fn finish(
    ctx: &CallContext<'_>,
    order_id: &str,
    answer: Result<Value, CallError>,
    kind: EventKind,
) -> store::Result<Attempt> {
    let outcome = match answer {
        Ok(detail) => CallOutcome::Done { kind, detail },
        Err(e @ CallError::Transient { .. }) => match ctx.give_up_or_retry(e) {
            Ok(error) => CallOutcome::Failed {
                reason: format!("Yahoo!に送れませんでした / could not reach Yahoo!: {error}"),
            },
            Err(attempt) => return Ok(attempt),
        },
        Err(e) => match ctx.settle(e, |e| format!("Yahoo!が拒否しました / Yahoo! refused: {e}"))
        {
            Ok(reason) => CallOutcome::Failed { reason },
            Err(attempt) => return Ok(attempt),
        },
    };
    let order = Some((Channel::Yahoo, order_id.to_string()));
    outcome::finish(ctx.store, ctx.row.id, order, outcome).await?;
    Ok(Attempt::Finished)
}

/// Re-reads the order, reports the parcel unless Yahoo! has it shipped
/// already, then sets 完了 when configured.
async fn ship(
    api: &YahooApi,
    ctx: &CallContext<'_>,
    order_id: &str,
    carrier: Carrier,
    tracking_no: &str,
    shipped_on: NaiveDate,
) -> Result<Value, CallError> {
    let order = ctx
        .metrics
        .timed(Provider::YahooShopping, api.client.order_info(order_id))
        .await?;
    // Yahoo! refuses 出荷済み on an order not yet shippable (a prepaid order
    // before its payment, or inside the buyer's cancel window): a parcel the
    // warehouse sent early is reported once it may be, a wait, not a refusal.
    if order.ship_status == 0 || order.read_only {
        return Err(CallError::transient(format!(
            "Yahoo! order {order_id} is not shippable yet (ShipStatus {}, read-only {})",
            order.ship_status, order.read_only
        )));
    }
    let mut detail = json!({
        "tracking_no": tracking_no,
        "ship_company_code": super::ship_company_code(carrier),
    });
    if order.ship_status >= SHIP_SHIPPED {
        detail["already_reported"] = json!(true);
    } else {
        let warnings = ctx
            .metrics
            .timed(
                Provider::YahooShopping,
                api.client.ship(order_id, carrier, tracking_no, shipped_on),
            )
            .await?;
        detail["warnings"] = json!(warnings);
    }
    if api.complete_orders && order.status != super::STATUS_COMPLETED {
        // "Already in that status" (od91705) is done too.
        let warnings = ctx
            .metrics
            .timed(Provider::YahooShopping, api.client.complete(order_id))
            .await?;
        detail["completed"] = json!(true);
        detail["complete_warnings"] = json!(warnings);
    }
    Ok(detail)
}
