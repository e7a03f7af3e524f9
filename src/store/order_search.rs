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

/// Lines of one SKU past which its orders are found by testing the newest
/// orders rather than by collecting all of them.
const POPULAR_LINES: i64 = 2000;

/// Whether `sku` is on at least [`POPULAR_LINES`] lines (counted no further).
fn is_popular(conn: &Connection, sku: &str) -> Result<bool> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM (SELECT 1 FROM order_lines WHERE sku = ?1 LIMIT ?2)")?
        .query_row(rusqlite::params![sku, POPULAR_LINES], |r| r.get(0))?;
    Ok(n >= POPULAR_LINES)
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
        let text = if is_popular(conn, sku)? {
            // In many orders: newest orders first, each tested by its own
            // lines (a primary-key probe), until the page is full.
            " AND EXISTS (SELECT 1 FROM order_lines l
                   WHERE l.channel = orders.channel AND l.order_id = orders.id AND l.sku = ?)"
        } else {
            // In few: driven from the SKU's lines (an index), not by testing
            // every order.
            " AND rowid IN (SELECT o.rowid FROM order_lines l JOIN orders o
                   ON o.channel = l.channel AND o.id = l.order_id WHERE l.sku = ?)"
        };
        cond(&mut sql, text, sku.clone().into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// Every page of `s`, the ids in the order shown.
    fn all_pages(conn: &Connection, mut s: Search) -> Vec<String> {
        let mut ids = Vec::new();
        loop {
            let (page, next) = search(conn, &s).unwrap();
            ids.extend(page.into_iter().map(|o| o.id));
            match next {
                Some(n) => s.before = Some(n),
                None => return ids,
            }
        }
    }

    #[tokio::test]
    async fn a_popular_sku_and_a_rare_one_page_through_the_same_orders() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path(), 0).unwrap();
        let n = POPULAR_LINES as usize * 2 + 10;
        store
            .write(move |tx| {
                for i in 0..n {
                    let id = format!("O{i:05}");
                    let state = if i % 3 == 0 { "shipped" } else { "allocated" };
                    tx.execute(
                        "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
                         VALUES ('jgoods', ?1, ?2, 'deferred', '2026-12-01T10:00:00+09:00', '2026-12-01T10:00:00+09:00')",
                        rusqlite::params![id, state],
                    )?;
                    let sku = if i % 2 == 0 { "P" } else { "B" };
                    tx.execute(
                        "INSERT INTO order_lines (channel, order_id, line_no, sku, qty) VALUES ('jgoods', ?1, 1, ?2, 1)",
                        rusqlite::params![id, sku],
                    )?;
                    if i % 50 == 0 {
                        tx.execute(
                            "INSERT INTO order_lines (channel, order_id, line_no, sku, qty) VALUES ('jgoods', ?1, 2, 'R', 1)",
                            [&id],
                        )?;
                    }
                }
                Ok(())
            })
            .await
            .unwrap();
        let expect = |f: &dyn Fn(usize) -> bool| -> Vec<String> {
            (0..n)
                .rev()
                .filter(|i| f(*i))
                .map(|i| format!("O{i:05}"))
                .collect()
        };
        let found = store
            .read(move |c| {
                assert!(is_popular(c, "P")? && !is_popular(c, "R")?);
                let search = |sku: &str, state: Option<OrderState>| Search {
                    sku: Some(sku.into()),
                    state,
                    limit: 50,
                    ..Search::default()
                };
                Ok((
                    all_pages(c, search("P", None)),
                    all_pages(c, search("P", Some(OrderState::Shipped))),
                    all_pages(c, search("R", None)),
                ))
            })
            .await
            .unwrap();
        assert_eq!(found.0, expect(&|i| i % 2 == 0));
        assert_eq!(found.1, expect(&|i| i % 2 == 0 && i % 3 == 0));
        assert_eq!(found.2, expect(&|i| i % 50 == 0));
    }
}
