//! Registering direct orders (the merchant's own shop) in one transaction.

use crate::domain::direct::DirectOrder;
use crate::domain::{Channel, Order, time};
use crate::engine::direct::{self as rules, Registration};
use crate::store::{self, Store, orders, stock};

/// How a registration ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Registered {
    /// New (201).
    Created(Order),
    /// The same registration again (200).
    Same(Order),
    /// The id is taken by different content (409).
    Conflict(Order),
}

pub async fn register(store: &Store, order: DirectOrder) -> store::Result<Registered> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            let digest = order.digest();
            let existing = orders::load(tx, Channel::Direct, &order.id)?;
            let stored_digest = match &existing {
                Some(_) => orders::registration_digest(tx, Channel::Direct, &order.id)?,
                None => None,
            };
            let available = stock::available_map(tx, order.lines.iter().map(|l| l.sku.as_str()))?;
            let decision = rules::register(
                &order,
                &digest,
                existing.as_ref().map(|o| (o, stored_digest.as_deref())),
                &available,
            );
            let reload = |tx: &rusqlite::Connection| {
                orders::load(tx, Channel::Direct, &order.id)?.ok_or_else(|| {
                    store::StoreError::Invalid(format!("order {} vanished", order.id))
                })
            };
            Ok(match decision {
                Registration::Created(d) => {
                    orders::apply(tx, Channel::Direct, &order.id, &d, &now)?;
                    Registered::Created(reload(tx)?)
                }
                Registration::Same => Registered::Same(reload(tx)?),
                Registration::Conflict => Registered::Conflict(reload(tx)?),
            })
        })
        .await
}
