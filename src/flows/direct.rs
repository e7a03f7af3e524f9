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
                    line_sellers(tx, &order)?;
                    Registered::Created(reload(tx)?)
                }
                Registration::Same => Registered::Same(reload(tx)?),
                Registration::Conflict => Registered::Conflict(reload(tx)?),
            })
        })
        .await
}

/// Which seller sells each line (KOMOJU Platform Model): the ERP's, else
/// the product master's; lines of neither are the merchant's own.
fn line_sellers(tx: &rusqlite::Connection, order: &DirectOrder) -> store::Result<()> {
    let mut lines = Vec::new();
    for l in &order.lines {
        let seller = match &l.seller {
            Some(s) => Some(s.clone()),
            None => store::sellers::catalog_seller(tx, &l.sku)?,
        };
        if let Some(s) = seller {
            lines.push((l.line_no, s));
        }
    }
    store::sellers::set_line_sellers(tx, Channel::Direct.as_str(), &order.id, &lines)
}
