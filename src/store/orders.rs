//! Orders, their lines and shipments; and writing a [`Decision`] for an order.

use super::Tx;
use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, events, outbox, parse_enum, stock};
use crate::domain::order::PaymentMethod;
use crate::domain::order::PaymentRef;
use crate::domain::{Channel, Order, OrderLine, OrderState, PaymentState, Shipment};
use crate::engine::{Attention, Decision, OrderWrite, StockMove};

/// Loads one order with its lines (and what is held for each), shipments and
/// the number of its calls still waiting in the outbox.
pub fn load(conn: &Connection, channel: Channel, id: &str) -> Result<Option<Order>> {
    let head = conn
        .prepare_cached(
            "SELECT state, payment_state, attention, provider_status, status_changed_at,
                    created_at, updated_at, payment_method, payment_reference, payment_external
             FROM orders WHERE channel = ?1 AND id = ?2",
        )?
        .query_row(params![channel.as_str(), id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                (
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                ),
            ))
        })
        .optional()?;
    let Some((state, payment, attention, provider_status, changed_at, created_at, updated_at, pay)) =
        head
    else {
        return Ok(None);
    };
    let lines = load_lines(conn, channel, id)?;
    let shipments = load_shipments(conn, channel, id)?;
    Ok(Some(Order {
        channel,
        id: id.to_string(),
        state: parse_enum(&state, OrderState::parse, "order state")?,
        payment_state: parse_enum(&payment, PaymentState::parse, "payment state")?,
        attention,
        lines,
        shipments,
        credit: super::credit::load(conn, channel, id)?,
        payment: match pay.0 {
            Some(method) => Some(PaymentRef {
                method: parse_enum(&method, PaymentMethod::parse, "payment method")?,
                reference: pay.1,
                external_order_num: pay.2,
            }),
            None => None,
        },
        provider_status,
        status_changed_at: changed_at,
        pending_calls: outbox::pending_for_order(conn, channel.as_str(), id)?,
        created_at,
        updated_at,
    }))
}

/// An order's lines, with the units held for each.
fn load_lines(conn: &Connection, channel: Channel, id: &str) -> Result<Vec<OrderLine>> {
    let key = params![channel.as_str(), id];
    Ok(conn
        .prepare_cached(
            // A line the channel gave no name takes the product master's.
            "SELECT l.line_no, l.sku,
                    COALESCE(NULLIF(l.name, ''),
                             (SELECT json_extract(i.item, '$.name') FROM catalog_items i WHERE i.sku = l.sku),
                             ''),
                    l.qty, l.unit_price,
                    COALESCE((SELECT SUM(a.qty) FROM allocations a
                              WHERE a.channel = l.channel AND a.order_id = l.order_id
                                AND a.line_no = l.line_no AND a.state IN ('reserved', 'shipped')), 0)
             FROM order_lines l WHERE l.channel = ?1 AND l.order_id = ?2 ORDER BY l.line_no",
        )?
        .query_map(key, |r| {
            Ok(OrderLine {
                line_no: r.get(0)?,
                sku: r.get(1)?,
                name: r.get(2)?,
                qty: r.get(3)?,
                unit_price: r.get(4)?,
                reserved_qty: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// An order's parcels, in the order they were recorded.
fn load_shipments(conn: &Connection, channel: Channel, id: &str) -> Result<Vec<Shipment>> {
    let key = params![channel.as_str(), id];
    conn.prepare_cached(
        "SELECT carrier, tracking_no, shipped_on, shipping_cost FROM shipments
             WHERE channel = ?1 AND order_id = ?2 ORDER BY id",
    )?
    .query_map(key, |r| {
        let (carrier, shipped_on): (String, String) = (r.get(0)?, r.get(2)?);
        Ok((carrier, r.get(1)?, shipped_on, r.get(3)?))
    })?
    .collect::<rusqlite::Result<Vec<(String, String, String, Option<i64>)>>>()?
    .into_iter()
    .map(|(carrier, tracking_no, shipped_on, shipping_cost)| {
        Ok(Shipment {
            // Every stored carrier passed `Carrier::parse` at the edge;
            // one this build does not know is kept as "other", not lost.
            carrier: crate::domain::Carrier::parse(&carrier).unwrap_or_else(|| {
                tracing::warn!(carrier, "unknown stored carrier; read as other");
                crate::domain::Carrier::Other
            }),
            tracking_no,
            shipped_on: parse_enum(
                &shipped_on,
                |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok(),
                "shipment date",
            )?,
            shipping_cost,
        })
    })
    .collect::<Result<Vec<_>>>()
}

/// Filters of `GET /api/v1/orders` and `orders list`.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub channel: Option<Channel>,
    pub state: Option<OrderState>,
    pub attention: bool,
    pub limit: u32,
    /// Continue after this order (`channel:id`, or an id when the channel is given).
    pub after: Option<(Channel, String)>,
}

/// Orders in the order they were first stored.
pub fn list(conn: &Connection, f: &OrderFilter) -> Result<Vec<Order>> {
    let after_rowid: i64 = match &f.after {
        Some((ch, id)) => conn
            .query_row(
                "SELECT rowid FROM orders WHERE channel = ?1 AND id = ?2",
                params![ch.as_str(), id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("after: no order {}:{id}", ch.as_str())))?,
        None => 0,
    };
    let mut stmt = conn.prepare_cached(&list_sql(f))?;
    let keys: Vec<(String, String)> = stmt
        .query_map(
            params![
                after_rowid,
                f.channel.map(|c| c.as_str()),
                f.state.map(|s| s.as_str()),
                f.attention as i64,
                f.limit.max(1)
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(keys.len());
    for (ch, id) in keys {
        let ch = parse_enum(&ch, Channel::parse, "channel")?;
        if let Some(o) = load(conn, ch, &id)? {
            out.push(o);
        }
    }
    Ok(out)
}

/// The page query of [`list`]. The state and attention conditions are
/// written out only when asked for: in the `?3 IS NULL OR state = ?3` form
/// the planner cannot use the state or attention index, and a page of the
/// few orders needing attention read every order in the store. Orders
/// needing attention are few by nature, so that index is named: without
/// statistics the planner would rather walk every order in rowid order.
fn list_sql(f: &OrderFilter) -> String {
    let state = if f.state.is_some() {
        "state = ?3"
    } else {
        "?3 IS NULL"
    };
    let (from, attention) = if f.attention {
        (
            "orders INDEXED BY orders_attention",
            "attention IS NOT NULL AND ?4 = 1",
        )
    } else {
        ("orders", "?4 = 0")
    };
    format!(
        "SELECT channel, id FROM {from}
         WHERE rowid > ?1
           AND (?2 IS NULL OR channel = ?2)
           AND {state}
           AND {attention}
         ORDER BY rowid LIMIT ?5"
    )
}

/// Counts of orders per state (and needing attention), for `status` and the
/// status page: read from `order_counts`, which triggers keep in step with
/// every order written, so it costs the same with a million orders as with ten.
pub fn counts(conn: &Connection) -> Result<(Vec<(String, i64)>, i64)> {
    let per_state = conn
        .prepare_cached("SELECT state, n FROM order_counts WHERE n > 0 ORDER BY state")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((per_state, attention_count(conn)?))
}

/// Orders needing attention (a partial index: as cheap as the count is small).
pub fn attention_count(conn: &Connection) -> Result<i64> {
    Ok(super::query_one(
        conn,
        "SELECT COUNT(*) FROM orders WHERE attention IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}

/// Orders not yet allocated in full (`new` or `short`), from the kept counts.
pub fn waiting_count(conn: &Connection) -> Result<i64> {
    Ok(super::query_one(
        conn,
        "SELECT COALESCE(SUM(n), 0) FROM order_counts WHERE state IN ('new', 'short')",
        [],
        |r| r.get(0),
    )?)
}

/// Rakuten orders not yet confirmed (at 100), which Rakuten cancels 14 days
/// after they were placed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RakutenUnconfirmed {
    pub orders: i64,
    /// Of those, short of stock (they wait for a restock or a person).
    pub short: i64,
    /// When the oldest was placed (RFC 3339).
    pub oldest_ordered_at: Option<String>,
}

/// Reads [`RakutenUnconfirmed`] from its partial index.
pub fn rakuten_unconfirmed(conn: &Connection) -> Result<RakutenUnconfirmed> {
    Ok(super::query_one(
        conn,
        "SELECT COUNT(*), COALESCE(SUM(state = 'short'), 0), MIN(ordered_at)
         FROM orders INDEXED BY orders_rakuten_unconfirmed
         WHERE channel = 'rakuten' AND provider_status = '100'",
        [],
        |r| {
            Ok(RakutenUnconfirmed {
                orders: r.get(0)?,
                short: r.get(1)?,
                oldest_ordered_at: r.get(2)?,
            })
        },
    )?)
}

/// Writes one decision for one order: order row, lines, stock movements,
/// outbox rows and events. Call inside the decision's transaction.
/// Returns the ids of the events written.
pub fn apply(
    conn: &Tx<'_>,
    channel: Channel,
    id: &str,
    d: &Decision,
    now: &str,
) -> Result<Vec<i64>> {
    let key = (channel.as_str(), id);
    if let Some(w) = &d.order {
        write_order(conn, key, w, now)?;
    }
    let freed = move_stock(conn, key, &d.stock, now)?;
    if d.cancel_pending_calls {
        outbox::cancel_pending_for_order(conn, key.0, key.1, now)?;
    }
    for call in &d.calls {
        outbox::enqueue(conn, call, Some(key), now)?;
    }
    let ids = d
        .events
        .iter()
        .map(|e| events::append(conn, now, Some(key), e.kind.as_str(), &e.detail))
        .collect::<Result<Vec<i64>>>()?;
    // Units this decision gave back go first to the orders waiting for them
    // (a top-up only reserves, so it never comes back here).
    let freed: HashSet<&str> = freed.iter().map(String::as_str).collect();
    super::restock::top_up(conn, &freed, now)?;
    Ok(ids)
}

/// Creates the order row if it is new and writes what `w` changes.
fn write_order(conn: &Connection, key: (&str, &str), w: &OrderWrite, now: &str) -> Result<()> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM orders WHERE channel = ?1 AND id = ?2")?
        .exists(params![key.0, key.1])?;
    if !exists {
        conn.prepare_cached(
            "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?
        .execute(params![
            key.0,
            key.1,
            w.state.unwrap_or(OrderState::New).as_str(),
            w.payment_state.unwrap_or(PaymentState::Unpaid).as_str(),
            now
        ])?;
    }
    write_fields(conn, key, w, now)
}

/// The order's columns, payment, registration, credit, shipment and lines.
fn write_fields(conn: &Connection, key: (&str, &str), w: &OrderWrite, now: &str) -> Result<()> {
    let (set_attention, attention) = match &w.attention {
        None => (false, None),
        Some(Attention::Set(reason)) => (true, Some(reason.as_str())),
        Some(Attention::Clear) => (true, None),
    };
    conn.prepare_cached(
        "UPDATE orders SET
            state = COALESCE(?3, state),
            payment_state = COALESCE(?4, payment_state),
            attention = CASE WHEN ?5 THEN ?6 ELSE attention END,
            provider_status = COALESCE(?7, provider_status),
            status_changed_at = COALESCE(?8, status_changed_at),
            ship_to = COALESCE(?9, ship_to),
            updated_at = ?10,
            ordered_at = COALESCE(?11, ordered_at)
         WHERE channel = ?1 AND id = ?2",
    )?
    .execute(params![
        key.0,
        key.1,
        w.state.map(|s| s.as_str()),
        w.payment_state.map(|s| s.as_str()),
        set_attention,
        attention,
        w.provider_status,
        w.status_changed_at,
        w.ship_to.as_ref().map(|v| v.to_string()),
        now,
        w.ordered_at
    ])?;
    if let Some(pay) = &w.payment {
        conn.prepare_cached(
            "UPDATE orders SET payment_method = ?3, payment_reference = COALESCE(?4, payment_reference),
                payment_external = COALESCE(?5, payment_external)
             WHERE channel = ?1 AND id = ?2",
        )?
        .execute(params![key.0, key.1, pay.method.as_str(), pay.reference, pay.external_order_num])?;
    }
    if let Some((detail, digest)) = &w.registration {
        conn.prepare_cached(
            "UPDATE orders SET detail = ?3, request_digest = ?4 WHERE channel = ?1 AND id = ?2",
        )?
        .execute(params![key.0, key.1, detail.to_string(), digest])?;
    }
    if let Some(credit) = &w.credit {
        super::credit::write(conn, key, credit)?;
    }
    if let Some(sh) = &w.add_shipment {
        conn.prepare_cached(
            "INSERT INTO shipments (channel, order_id, carrier, tracking_no, shipped_on, shipping_cost, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![key.0, key.1, sh.carrier.as_str(), sh.tracking_no, sh.shipped_on.format("%Y-%m-%d").to_string(), sh.shipping_cost, now])?;
    }
    for line in w.lines.iter().flatten() {
        conn.prepare_cached(
            "INSERT INTO order_lines (channel, order_id, line_no, sku, name, qty, unit_price)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (channel, order_id, line_no) DO UPDATE SET
                sku = excluded.sku, name = excluded.name, qty = excluded.qty,
                unit_price = excluded.unit_price",
        )?
        .execute(params![
            key.0,
            key.1,
            line.line_no,
            line.sku,
            line.name,
            line.qty,
            line.unit_price
        ])?;
    }
    Ok(())
}

/// Applies the stock movements; answers the SKUs that got units back.
fn move_stock(
    conn: &Tx<'_>,
    key: (&str, &str),
    moves: &[StockMove],
    now: &str,
) -> Result<Vec<String>> {
    let mut freed: Vec<String> = vec![];
    for mv in moves {
        match mv {
            StockMove::Reserve { line_no, sku, qty } => {
                stock::reserve(conn, key, *line_no, sku, *qty, now)?
            }
            StockMove::ReleaseOrder => {
                freed.extend(stock::release_order(conn, key, now)?);
            }
            StockMove::ReleaseLine { line_no, qty } => {
                freed.extend(stock::release_line(conn, key, *line_no, *qty, now)?);
            }
            StockMove::ShipOrder => {
                stock::ship_order(conn, key, now)?;
            }
        }
    }
    Ok(freed)
}

/// The digest a direct order was registered with.
/// A person acknowledges an order's attention (`orders ack`): the flag is
/// cleared until something new sets it, and the change feed records what
/// was acknowledged, by whom and the note. `None`: no such order;
/// `Some(false)`: it needed no attention.
pub fn acknowledge(
    conn: &Connection,
    channel: Channel,
    id: &str,
    by: &str,
    note: &str,
    now: &str,
) -> Result<Option<bool>> {
    let attention: Option<Option<String>> = conn
        .prepare_cached("SELECT attention FROM orders WHERE channel = ?1 AND id = ?2")?
        .query_row(params![channel.as_str(), id], |r| r.get(0))
        .optional()?;
    let Some(attention) = attention else {
        return Ok(None);
    };
    let Some(attention) = attention else {
        return Ok(Some(false));
    };
    super::exec(
        conn,
        "UPDATE orders SET attention = NULL, updated_at = ?3 WHERE channel = ?1 AND id = ?2",
        params![channel.as_str(), id, now],
    )?;
    events::append(
        conn,
        now,
        Some((channel.as_str(), id)),
        crate::engine::EventKind::OrderAcknowledged.as_str(),
        &serde_json::json!({"attention": attention, "by": by, "note": note}),
    )?;
    Ok(Some(true))
}

pub fn registration_digest(
    conn: &Connection,
    channel: Channel,
    id: &str,
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT request_digest FROM orders WHERE channel = ?1 AND id = ?2")?
        .query_row(params![channel.as_str(), id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The order paid by this provider payment: by its id, else by the external
/// order number it was registered with.
pub fn find_by_payment(
    conn: &Connection,
    method: &str,
    reference: &str,
    external_order_num: Option<&str>,
) -> Result<Option<Order>> {
    let key: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT channel, id FROM orders WHERE payment_method = ?1
             AND (payment_reference = ?2 OR (?3 IS NOT NULL AND payment_external = ?3)) LIMIT 1",
        )?
        .query_row(params![method, reference, external_order_num], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    match key {
        Some((ch, id)) => load(conn, parse_enum(&ch, Channel::parse, "channel")?, &id),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(f: &OrderFilter) -> String {
        let conn = super::super::migrated_in_memory();
        let state = f.state.map(|s| s.as_str());
        super::super::query_plan(
            &conn,
            &list_sql(f),
            params![0, Option::<&str>::None, state, f.attention as i64, 100],
        )
    }

    #[test]
    fn rakuten_unconfirmed_orders_are_counted_from_their_index() {
        let conn = super::super::migrated_in_memory();
        for (id, status, state, at) in [
            ("R1", "100", "short", "2026-11-20T10:00:00+09:00"),
            ("R2", "100", "allocated", "2026-11-21T10:00:00+09:00"),
            ("R3", "200", "confirmed", "2026-11-01T10:00:00+09:00"),
        ] {
            conn.execute(
                "INSERT INTO orders (channel, id, state, payment_state, provider_status, ordered_at, created_at, updated_at)
                 VALUES ('rakuten', ?1, ?3, 'pending', ?2, ?4, 't', 't')",
                params![id, status, state, at],
            )
            .unwrap();
        }
        assert_eq!(
            rakuten_unconfirmed(&conn).unwrap(),
            RakutenUnconfirmed {
                orders: 2,
                short: 1,
                oldest_ordered_at: Some("2026-11-20T10:00:00+09:00".into())
            }
        );
    }

    #[test]
    fn pages_of_attention_or_of_one_state_read_their_index() {
        let attention = plan_of(&OrderFilter {
            attention: true,
            ..Default::default()
        });
        assert!(attention.contains("INDEX orders_attention"), "{attention}");
        let shipped = plan_of(&OrderFilter {
            state: Some(OrderState::Shipped),
            ..Default::default()
        });
        assert!(
            shipped.contains("INDEX orders_state (state=? AND rowid>?)"),
            "{shipped}"
        );
    }
}
