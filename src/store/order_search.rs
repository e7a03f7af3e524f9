//! The console's order search: newest first, paged by a cursor, each filter
//! written out only when asked for so the planner can use its index (the
//! state index, the attention index, the primary key for an id).

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::{Result, orders, parse_enum};
use crate::domain::{Channel, Order, OrderState, PaymentState};

/// What the operator searches for.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub channel: Option<Channel>,
    pub state: Option<OrderState>,
    pub payment: Option<PaymentState>,
    pub attention: bool,
    /// An order id, exactly.
    pub id: Option<String>,
    /// Orders with a line of this SKU.
    pub sku: Option<String>,
    /// Orders stored from this time on (RFC 3339, included) …
    pub since: Option<String>,
    /// … and before this one (excluded).
    pub until: Option<String>,
    /// Continue with the orders stored before this cursor.
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page, newest first, and the cursor of the next (older) page.
pub fn search(conn: &Connection, s: &Search) -> Result<(Vec<Order>, Option<i64>)> {
    let mut sql = String::from("SELECT rowid, channel, id FROM ");
    sql.push_str(if s.attention && s.id.is_none() {
        "orders INDEXED BY orders_attention WHERE attention IS NOT NULL"
    } else {
        "orders WHERE 1"
    });
    let mut args: Vec<Value> = Vec::new();
    let mut cond = |sql: &mut String, text: &str, v: Value| {
        sql.push_str(text);
        args.push(v);
    };
    match (s.channel, &s.id) {
        (Some(c), _) => cond(&mut sql, " AND channel = ?", c.as_str().to_string().into()),
        // An id without a channel: one primary-key look-up per channel.
        (None, Some(_)) => sql.push_str(" AND channel IN ('jgoods', 'rakuten', 'direct')"),
        (None, None) => {}
    }
    if let Some(id) = &s.id {
        cond(&mut sql, " AND id = ?", id.clone().into());
    }
    if let Some(st) = s.state {
        cond(&mut sql, " AND state = ?", st.as_str().to_string().into());
    }
    if let Some(p) = s.payment {
        cond(
            &mut sql,
            " AND payment_state = ?",
            p.as_str().to_string().into(),
        );
    }
    if s.attention {
        sql.push_str(" AND attention IS NOT NULL");
    }
    if let Some(sku) = &s.sku {
        // Driven from the SKU's lines (an index), not by testing every order.
        cond(
            &mut sql,
            " AND rowid IN (SELECT o.rowid FROM order_lines l JOIN orders o
                   ON o.channel = l.channel AND o.id = l.order_id WHERE l.sku = ?)",
            sku.clone().into(),
        );
    }
    // Orders are stored in time order (one writer, created_at its clock), so
    // a time range is a rowid range: the first and the last order of the
    // range, each one step into the created_at index.
    if let Some(since) = &s.since {
        cond(
            &mut sql,
            " AND rowid >= COALESCE((SELECT rowid FROM orders WHERE created_at >= ?
                   ORDER BY created_at LIMIT 1), 1 << 62)",
            since.clone().into(),
        );
    }
    if let Some(until) = &s.until {
        cond(
            &mut sql,
            " AND rowid <= COALESCE((SELECT rowid FROM orders WHERE created_at < ?
                   ORDER BY created_at DESC LIMIT 1), 0)",
            until.clone().into(),
        );
    }
    if let Some(before) = s.before {
        cond(&mut sql, " AND rowid < ?", before.into());
    }
    let limit = s.limit.clamp(1, 200);
    // One more than the page, to know whether an older page exists.
    sql.push_str(&format!(" ORDER BY rowid DESC LIMIT {}", limit + 1));
    let mut stmt = conn.prepare_cached(&sql)?;
    let keys: Vec<(i64, String, String)> = stmt
        .query_map(params_from_iter(args), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let more = keys.len() > limit as usize;
    let mut page = Vec::new();
    let mut last = None;
    for (rowid, ch, id) in keys.into_iter().take(limit as usize) {
        let ch = parse_enum(&ch, Channel::parse, "channel")?;
        if let Some(o) = orders::load(conn, ch, &id)? {
            page.push(o);
        }
        last = Some(rowid);
    }
    Ok((page, last.filter(|_| more)))
}
