//! The network part of the J-goods outbox calls: register the reserved
//! quantities (and 入荷待ち), or re-read an order; the answer is decided and
//! written by [`super::apply`].

use super::Status;
use super::client::JgoodsClient;
use super::rules::PutOutcome;
use super::wire::{JgoodsPutOrder, JgoodsReservedLine};
use crate::call::CallError;
use crate::call::{Attempt, CallContext};
use crate::domain::Provider;
use crate::engine::{Call, ReservedLine};
use crate::store;

/// Makes one J-goods call of the outbox.
pub async fn run(client: &JgoodsClient, ctx: &CallContext<'_>) -> store::Result<Attempt> {
    match &ctx.row.call {
        Call::JgoodsPutOrder {
            order_no,
            items,
            confirm,
        } => put_order(client, ctx, order_no, items.as_deref(), *confirm).await,
        Call::JgoodsFetchOrder { order_no } => fetch_order(client, ctx, order_no).await,
        other => unreachable!("not a J-goods call: {}", other.kind()),
    }
}

async fn put_order(
    client: &JgoodsClient,
    ctx: &CallContext<'_>,
    order_no: &str,
    items: Option<&[ReservedLine]>,
    confirm: bool,
) -> store::Result<Attempt> {
    let body = JgoodsPutOrder {
        status: confirm.then(|| Status::AwaitingArrival.label().to_string()),
        items: items.map(|lines| {
            lines
                .iter()
                .map(|l| JgoodsReservedLine {
                    line_no: l.line_no,
                    reserved_qty: l.reserved_qty,
                })
                .collect()
        }),
    };
    let jgoods = Provider::Jgoods;
    let outcome = match ctx
        .metrics
        .timed(jgoods, client.put_order(order_no, &body))
        .await
    {
        Ok(snap) => PutOutcome::Accepted(snap),
        // The order moved on at J-goods (cancelled, or already past
        // 承認待ち): decide from what it says now.
        Err(CallError::Rejected {
            http_status: 409, ..
        }) => match ctx.metrics.timed(jgoods, client.get_order(order_no)).await {
            Ok(snap) => PutOutcome::Accepted(snap),
            Err(e) => return Ok(ctx.failed(e)),
        },
        Err(CallError::Rejected { code, message, .. }) => PutOutcome::Refused { code, message },
        Err(e) => match ctx.settle(e, |e| e.to_string()) {
            Ok(reason) => PutOutcome::GaveUp { reason },
            Err(attempt) => return Ok(attempt),
        },
    };
    super::apply::finish_put(ctx.store, ctx.row.id, order_no.to_string(), outcome).await?;
    Ok(Attempt::Finished)
}

async fn fetch_order(
    client: &JgoodsClient,
    ctx: &CallContext<'_>,
    order_no: &str,
) -> store::Result<Attempt> {
    let answer = ctx
        .metrics
        .timed(Provider::Jgoods, client.get_order(order_no))
        .await;
    let result = match answer {
        Ok(snap) => Ok(snap),
        Err(e) => match ctx.settle(e, |e| e.to_string()) {
            Ok(error) => Err(error),
            Err(attempt) => return Ok(attempt),
        },
    };
    super::apply::finish_fetch(ctx.store, ctx.row.id, result).await?;
    Ok(Attempt::Finished)
}
