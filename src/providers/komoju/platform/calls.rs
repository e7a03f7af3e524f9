//! The Platform Model's outbox calls: create a seller's sub-merchant,
//! re-read it, capture a payment with its split. Each answer is recorded
//! with the row's completion in one transaction; a retry reuses the row's
//! idempotency key, so KOMOJU replays its first answer and nothing is
//! booked twice (bookings are unique per row and seller).

use serde_json::json;

use super::wire::{KomojuPlatformDetails, KomojuSubmerchantShare};
use crate::call::CallError;
use crate::call::outcome::{self, CallOutcome};
use crate::call::{Attempt, CallContext};
use crate::domain::{Provider, time};
use crate::engine::{Call, EventKind, PlatformShare};
use crate::providers::komoju::PaymentStatus;
use crate::providers::komoju::client::KomojuClient;
use crate::store::{self, events, outbox, sellers};

/// Makes one Platform Model call of the outbox.
pub async fn run(client: &KomojuClient, ctx: &CallContext<'_>) -> store::Result<Attempt> {
    match &ctx.row.call {
        Call::KomojuCreateSeller { code } | Call::KomojuFetchSeller { code } => {
            seller(client, ctx, code).await
        }
        Call::KomojuSplitCapture { payment_id, shares } => {
            split_call(client, ctx, payment_id, shares, Move::Capture).await
        }
        Call::KomojuSplitRefund { payment_id, shares } => {
            split_call(client, ctx, payment_id, shares, Move::Refund).await
        }
        Call::KomojuSellerTransfer {
            code,
            platform_id,
            amount,
            reason,
        } => transfer(client, ctx, code, platform_id, *amount, reason).await,
        other => unreachable!("not a Platform Model call: {}", other.kind()),
    }
}

/// Creates the seller's sub-merchant (when it has none) or re-reads it,
/// and records what KOMOJU says of it.
async fn seller(
    client: &KomojuClient,
    ctx: &CallContext<'_>,
    code: &str,
) -> store::Result<Attempt> {
    let c = code.to_string();
    let Some(s) = ctx.store.read(move |conn| sellers::get(conn, &c)).await? else {
        return done(ctx, format!("no seller {code}")).await;
    };
    let key = ctx.idempotency_key();
    let answer = ctx
        .metrics
        .timed(Provider::Komoju, async {
            match &s.submerchant_id {
                Some(id) => client.get_submerchant(id).await,
                None => client.create_submerchant(&s.name, &key).await,
            }
        })
        .await;
    let m = match answer {
        Ok(m) => m,
        Err(e) => return failed(ctx, &format!("seller {code}"), e).await,
    };
    let (row, code) = (ctx.row.id, code.to_string());
    ctx.store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            outbox::complete(tx, row, &now)?;
            let before = sellers::get(tx, &code)?;
            sellers::link(tx, &code, &m.id, &now)?;
            sellers::set_state(tx, &code, &m.status, m.payouts_enabled, &now)?;
            let after = sellers::get(tx, &code)?;
            let seen = |s: &Option<sellers::Seller>| {
                s.as_ref().map(|s| {
                    (
                        s.submerchant_id.clone(),
                        s.review_status.clone(),
                        s.payouts_enabled,
                    )
                })
            };
            if seen(&before) != seen(&after)
                && let Some(s) = &after
            {
                super::apply::seller_event(tx, s, &now)?;
            }
            super::apply::release_holds(tx, &now)
        })
        .await?;
    Ok(Attempt::Finished)
}

/// A balance transfer between the merchant and a seller, booked in the
/// seller's ledger once KOMOJU took it (a retry replays KOMOJU's answer by
/// the row's key and books nothing twice: the booking is the row's).
async fn transfer(
    client: &KomojuClient,
    ctx: &CallContext<'_>,
    code: &str,
    platform_id: &str,
    amount: i64,
    reason: &str,
) -> store::Result<Attempt> {
    let c = code.to_string();
    let seller = ctx.store.read(move |conn| sellers::get(conn, &c)).await?;
    let Some(seller_id) = seller.and_then(|s| s.submerchant_id) else {
        return done(ctx, format!("seller {code} has no KOMOJU account")).await;
    };
    let (from, to) = if amount >= 0 {
        (platform_id, seller_id.as_str())
    } else {
        (seller_id.as_str(), platform_id)
    };
    let key = ctx.idempotency_key();
    let answer = ctx
        .metrics
        .timed(
            Provider::Komoju,
            client.transfer(from, to, amount.saturating_abs(), &key),
        )
        .await;
    if let Err(e) = answer {
        let subject = format!("seller {code}");
        return match e {
            CallError::Rejected { .. } => {
                let reason = format!("KOMOJU refused the transfer with seller {code}: {e}");
                kill(ctx, reason).await.map(|()| Attempt::Finished)
            }
            e => failed(ctx, &subject, e).await,
        };
    }
    let (row, code, reason) = (ctx.row.id, code.to_string(), reason.to_string());
    ctx.store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            outbox::complete(tx, row, &now)?;
            sellers::book(
                tx,
                &sellers::Booking {
                    seller_code: code.clone(),
                    kind: "transfer".to_string(),
                    channel: None,
                    order_id: None,
                    payment_id: None,
                    amount,
                    fee: 0,
                    reason: Some(reason.clone()),
                    reference: format!("transfer-{row}"),
                    at: now.clone(),
                },
            )?;
            events::append(
                tx,
                &now,
                None,
                EventKind::SellerChanged.as_str(),
                &json!({"code": code, "transfer": amount, "reason": reason, "done": true}),
            )?;
            Ok(())
        })
        .await?;
    Ok(Attempt::Finished)
}

/// Kills the row (no order to put in front of a person): the seller's
/// transfer is shown as failed in the outbox and the change feed.
async fn kill(ctx: &CallContext<'_>, reason: String) -> store::Result<()> {
    outcome::finish(ctx.store, ctx.row.id, None, CallOutcome::Failed { reason }).await
}

/// A split capture or refund.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Move {
    Capture,
    Refund,
}

/// Captures (or refunds) with the split. The payment is read first:
/// KOMOJU's sum rule needs its total, and a payment captured (refunded)
/// already, by a first attempt whose answer was lost, is recorded, not
/// captured (refunded) again.
async fn split_call(
    client: &KomojuClient,
    ctx: &CallContext<'_>,
    payment_id: &str,
    shares: &[PlatformShare],
    how: Move,
) -> store::Result<Attempt> {
    let key = ctx.idempotency_key();
    let p = match client.get_payment(payment_id).await {
        Ok(p) => p,
        Err(e) => return failed(ctx, payment_id, e).await,
    };
    let due = match how {
        Move::Capture => p.status == PaymentStatus::Authorized,
        Move::Refund => p.status == PaymentStatus::Captured && p.refundable() > 0,
    };
    let p = if due {
        let base = match how {
            Move::Capture => p.total.saturating_sub(p.payment_method_fee),
            Move::Refund => p.refundable(),
        };
        let details = match details(shares, base) {
            Ok(d) => d,
            Err(why) => {
                let reason = format!("KOMOJU の売上を出品者に分配できません: {why}");
                return fail(ctx, payment_id, reason)
                    .await
                    .map(|()| Attempt::Finished);
            }
        };
        let answer = ctx
            .metrics
            .timed(Provider::Komoju, async {
                match how {
                    Move::Capture => client.capture_split(payment_id, &details, &key).await,
                    Move::Refund => client.refund_split(payment_id, &details, &key).await,
                }
            })
            .await;
        match answer {
            Ok(p) => p,
            Err(e) => return failed(ctx, payment_id, e).await,
        }
    } else {
        p
    };
    let booked = match how {
        Move::Capture => matches!(p.status, PaymentStatus::Captured | PaymentStatus::Refunded),
        Move::Refund => p.status == PaymentStatus::Refunded,
    };
    let (row, shares) = (ctx.row.id, shares.to_vec());
    super::super::apply::with_order(ctx.store, row, p, move |tx, order, p, now| {
        if !booked {
            return Ok(());
        }
        let (kind, sign) = match how {
            Move::Capture => ("sale", 1),
            Move::Refund => ("refund", -1),
        };
        for s in &shares {
            sellers::book(
                tx,
                &sellers::Booking {
                    seller_code: s.seller.clone(),
                    kind: kind.to_string(),
                    channel: Some(order.channel.as_str().to_string()),
                    order_id: Some(order.id.clone()),
                    payment_id: Some(p.id.clone()),
                    amount: sign * s.share,
                    fee: sign * s.fee,
                    reason: None,
                    reference: format!("{kind}-{}-{}", p.id, s.seller),
                    at: now.to_string(),
                },
            )?;
        }
        events::append(
            tx,
            now,
            Some((order.channel.as_str(), &order.id)),
            EventKind::PaymentSplit.as_str(),
            &json!({"payment_id": p.id, "kind": kind, "sellers": shares.iter().map(|s| json!({
                "seller": s.seller, "share": sign * s.share, "fee": sign * s.fee})).collect::<Vec<_>>()}),
        )?;
        Ok(())
    })
    .await?;
    Ok(Attempt::Finished)
}

/// `platform_details` for a capture of `base` yen (see
/// [`super::split::wire_shares`]).
pub fn details(shares: &[PlatformShare], base: i64) -> Result<KomojuPlatformDetails, String> {
    let split = super::split::Split {
        merchant: 0,
        sellers: shares
            .iter()
            .map(|s| super::split::SellerCut {
                seller: s.seller.clone(),
                share: s.share,
                fee: s.fee,
            })
            .collect(),
    };
    let wire = super::split::wire_shares(&split, base)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    Ok(KomojuPlatformDetails {
        submerchants: wire
            .into_iter()
            .zip(shares)
            .map(|(w, s)| KomojuSubmerchantShare {
                submerchant_id: s.submerchant_id.clone(),
                amount: w.amount,
                platform_fee: w.platform_fee,
            })
            .collect(),
    })
}

async fn done(ctx: &CallContext<'_>, why: String) -> store::Result<Attempt> {
    tracing::info!(
        outbox_id = ctx.row.id,
        why,
        "Platform Model call with nothing to do"
    );
    let (row, now) = (ctx.row.id, time::rfc3339(time::now()));
    ctx.store
        .write(move |tx| outbox::complete(tx, row, &now))
        .await?;
    Ok(Attempt::Finished)
}

async fn failed(ctx: &CallContext<'_>, subject: &str, e: CallError) -> store::Result<Attempt> {
    super::super::calls::failed(ctx, subject, e).await
}

async fn fail(ctx: &CallContext<'_>, payment_id: &str, reason: String) -> store::Result<()> {
    let id = payment_id.to_string();
    let order = ctx
        .store
        .read(move |c| store::orders::find_by_payment(c, Provider::Komoju.as_str(), &id, None))
        .await?
        .map(|o| (o.channel, o.id));
    outcome::finish(ctx.store, ctx.row.id, order, CallOutcome::Failed { reason }).await
}
