//! The ERP's commands on an order (ship, cancel), decided and written in one
//! transaction, with the provider calls they imply queued in the outbox.

use crate::domain::{Channel, Order, time};
use crate::engine::erp::{self as rules, PaymentPolicy, Refusal, ShipmentRequest};
use crate::providers::komoju::refund_flow::{self, AccountRefused};
use crate::providers::komoju::refund_request::BankAccount;
use crate::store::{self, Store, orders};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("no {0} order {1}")]
    NotFound(&'static str, String),
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The refund bank account given with a cancel cannot be taken now.
    #[error(transparent)]
    RefundAccount(#[from] AccountRefused),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Records a shipment; returns the order as it now stands.
pub async fn ship(
    store: &Store,
    channel: Channel,
    id: String,
    req: ShipmentRequest,
    policy: PaymentPolicy,
) -> Result<Order, CommandError> {
    command(store, channel, id, move |o| rules::ship(o, &req, policy)).await
}

/// Cancels an order on the merchant's side; returns the order as it now stands.
pub async fn cancel(
    store: &Store,
    channel: Channel,
    id: String,
    reason: String,
) -> Result<Order, CommandError> {
    cancel_with_account(store, channel, id, reason, None).await
}

/// [`cancel`], with the customer's bank account for a KOMOJU refund
/// request (konbini, bank transfer, Pay-easy), given with the cancel or
/// with a repeat of it once the order waits for it.
pub async fn cancel_with_account(
    store: &Store,
    channel: Channel,
    id: String,
    reason: String,
    account: Option<BankAccount>,
) -> Result<Order, CommandError> {
    let Some(account) = account else {
        return command(store, channel, id, move |o| rules::cancel(o, &reason)).await;
    };
    store
        .write(move |tx| {
            let Some(order) = orders::load(tx, channel, &id)? else {
                return Ok(Err(CommandError::NotFound(channel.as_str(), id)));
            };
            let decision = match rules::cancel(&order, &reason) {
                Ok(d) => d,
                Err(refusal) => return Ok(Err(refusal.into())),
            };
            let now = time::rfc3339(time::now());
            let cancelling = !decision.calls.is_empty();
            // A refusal comes before anything is written.
            if let Err(refused) = refund_flow::take_account(tx, &order, &account, cancelling, &now)?
            {
                return Ok(Err(refused.into()));
            }
            orders::apply(tx, channel, &id, &decision, &now)?;
            let after = orders::load(tx, channel, &id)?.unwrap_or(order);
            Ok(Ok(after))
        })
        .await?
}

async fn command(
    store: &Store,
    channel: Channel,
    id: String,
    decide: impl FnOnce(&Order) -> Result<crate::engine::Decision, Refusal> + Send + 'static,
) -> Result<Order, CommandError> {
    store
        .write(move |tx| decide_in(tx, channel, id, decide))
        .await?
}

/// Records a shipment inside a transaction the caller holds (a file of
/// shipments is one transaction): the same rule and write as [`ship`].
pub fn ship_in(
    tx: &store::Tx<'_>,
    channel: Channel,
    id: String,
    req: ShipmentRequest,
    policy: PaymentPolicy,
) -> store::Result<Result<Order, CommandError>> {
    decide_in(tx, channel, id, move |o| rules::ship(o, &req, policy))
}

fn decide_in(
    tx: &store::Tx<'_>,
    channel: Channel,
    id: String,
    decide: impl FnOnce(&Order) -> Result<crate::engine::Decision, Refusal>,
) -> store::Result<Result<Order, CommandError>> {
    // The refusal travels out of the transaction as a value: a refused
    // command writes nothing.
    let Some(order) = orders::load(tx, channel, &id)? else {
        return Ok(Err(CommandError::NotFound(channel.as_str(), id)));
    };
    let mut decision = match decide(&order) {
        Ok(d) => d,
        Err(refusal) => return Ok(Err(refusal.into())),
    };
    let now = time::rfc3339(time::now());
    // A seller's goods: the capture carries the split, or waits for it.
    crate::providers::komoju::platform::apply::split_payments(tx, &order, &mut decision, &now)?;
    orders::apply(tx, channel, &id, &decision, &now)?;
    let after = orders::load(tx, channel, &id)?.unwrap_or(order);
    Ok(Ok(after))
}
