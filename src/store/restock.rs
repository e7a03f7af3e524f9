//! Units that become free go to the short orders waiting for them, in the
//! same transaction (see [`crate::engine::restock`] for the rule). Called by
//! every write that can free units: a stock count ([`set_levels`]) and any
//! decision that releases reservations ([`super::orders::apply`]).

use super::Tx;
use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::stock::{self, StockLevel};
use super::{Result, orders, parse_enum};
use crate::domain::Channel;
use crate::engine::restock;

/// Sets absolute stock levels, then tops up the orders waiting for them.
pub fn set_levels(conn: &Tx<'_>, levels: &[StockLevel], now: &str) -> Result<()> {
    for level in levels {
        stock::set_level(conn, level, now)?;
    }
    let skus: HashSet<&str> = levels.iter().map(|l| l.sku.as_str()).collect();
    top_up(conn, &skus, now)
}

/// Gives the free units of `changed` SKUs to the waiting short orders that
/// need them, oldest order first.
///
/// Cost: one read of the short orders' lines (the `orders_state` index), so
/// a count of a million SKUs costs the same as one; waiting orders are the
/// few a person is already looking at.
pub fn top_up(conn: &Tx<'_>, changed: &HashSet<&str>, now: &str) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let waiting = waiting_orders(conn, changed)?;
    if waiting.is_empty() {
        return Ok(());
    }
    let skus: HashSet<&str> = waiting
        .iter()
        .flat_map(|(_, _, skus)| skus.iter().map(String::as_str))
        .filter(|s| changed.contains(s))
        .collect();
    let mut free: HashMap<String, u32> = stock::available_map(conn, skus)?;
    free.retain(|_, n| *n > 0);
    for (channel, id, _) in waiting {
        if free.is_empty() {
            break;
        }
        let Some(order) = orders::load(conn, channel, &id)? else {
            continue;
        };
        if let Some(d) = restock::top_up(&order, &mut free) {
            orders::apply(conn, channel, &id, &d, now)?;
        }
        free.retain(|_, n| *n > 0);
    }
    Ok(())
}

/// Short Rakuten and direct orders with a line of a `changed` SKU, oldest
/// first, with the SKUs of their lines.
fn waiting_orders(
    conn: &Connection,
    changed: &HashSet<&str>,
) -> Result<Vec<(Channel, String, Vec<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.channel, o.id, l.sku FROM orders o
         JOIN order_lines l ON l.channel = o.channel AND l.order_id = o.id
         WHERE o.state = 'short' AND o.channel IN ('rakuten', 'direct')
         ORDER BY o.rowid, l.line_no",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out: Vec<(Channel, String, Vec<String>)> = vec![];
    for row in rows {
        let (channel, id, sku) = row?;
        match out.last_mut() {
            Some((c, i, skus)) if c.as_str() == channel && *i == id => skus.push(sku),
            _ => out.push((
                parse_enum(&channel, Channel::parse, "channel")?,
                id,
                vec![sku],
            )),
        }
    }
    out.retain(|(_, _, skus)| skus.iter().any(|s| changed.contains(s.as_str())));
    Ok(out)
}
