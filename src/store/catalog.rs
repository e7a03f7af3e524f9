//! The product master and what each channel last accepted of it. See
//! `crate::catalog` and the `CATALOG` migration.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Result, StoreError};
use crate::catalog::{Category, Item};

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCount {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
}

impl ImportCount {
    /// Counts a row whose stored hash was `was` and is now `hash`; whether
    /// it must be written.
    fn count(&mut self, was: Option<String>, hash: &str) -> bool {
        match was {
            Some(h) if h == hash => {
                self.unchanged += 1;
                return false;
            }
            Some(_) => self.changed += 1,
            None => self.added += 1,
        }
        true
    }
}

/// Upserts `items`; an unchanged item (same hash) is not written.
pub fn import_items(conn: &Connection, items: &[Item], now: &str) -> Result<ImportCount> {
    let mut hash_of = conn.prepare_cached("SELECT hash FROM catalog_items WHERE sku = ?1")?;
    let mut put = conn.prepare_cached(
        "INSERT INTO catalog_items (sku, item, hash, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (sku) DO UPDATE SET item = excluded.item, hash = excluded.hash,
             updated_at = excluded.updated_at",
    )?;
    let mut keep = conn.prepare_cached(
        "UPDATE catalog_sync SET withdraw = 0 WHERE channel = 'jgoods' AND kind = 'item'
             AND code = ?1 AND withdraw = 1",
    )?;
    let mut count = ImportCount::default();
    for item in items {
        let hash = item.hash();
        let was = hash_of.query_row([&item.sku], |r| r.get(0)).optional()?;
        if count.count(was, &hash) {
            let json =
                serde_json::to_string(item).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            put.execute(params![item.sku, json, hash, now])?;
        }
        // Back in the master: a withdrawal not yet made is not made.
        keep.execute([&item.sku])?;
    }
    Ok(count)
}

/// Upserts `categories` the same way.
pub fn import_categories(
    conn: &Connection,
    categories: &[Category],
    now: &str,
) -> Result<ImportCount> {
    let mut hash_of = conn.prepare_cached("SELECT hash FROM catalog_categories WHERE code = ?1")?;
    let mut put = conn.prepare_cached(
        "INSERT INTO catalog_categories (code, name, parent_code, hash, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code,
             hash = excluded.hash, updated_at = excluded.updated_at",
    )?;
    let mut count = ImportCount::default();
    for c in categories {
        let hash = c.hash();
        let was = hash_of.query_row([&c.code], |r| r.get(0)).optional()?;
        if count.count(was, &hash) {
            put.execute(params![c.code, c.name, c.parent_code, hash, now])?;
        }
    }
    Ok(count)
}

fn decode(json: &str) -> Result<Item> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("catalog item: {e}")))
}

/// One item and what `channel` knows of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemView {
    pub item: Item,
    /// Whether the channel holds the item as it is now.
    pub in_step: bool,
    /// The channel's last refusal of this content (code, field, what to do).
    pub refusal: Option<String>,
}

/// An item with what the channel `?1` holds of it.
const VIEW: &str =
    "SELECT i.item, s.sent_hash IS i.hash, CASE WHEN s.refused_hash IS i.hash THEN s.refusal END
     FROM catalog_items i
     LEFT JOIN catalog_sync s ON s.channel = ?1 AND s.kind = 'item' AND s.code = i.sku";

fn views(conn: &Connection, condition: &str, args: impl rusqlite::Params) -> Result<Vec<ItemView>> {
    let mut stmt = conn.prepare_cached(&format!("{VIEW} {condition}"))?;
    let rows = stmt
        .query_map(args, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(json, in_step, refusal)| {
            Ok(ItemView {
                item: decode(&json)?,
                in_step,
                refusal,
            })
        })
        .collect()
}

/// Items from `after` on (by SKU), at most `limit`, with J-goods' view.
pub fn list(conn: &Connection, channel: &str, after: &str, limit: u32) -> Result<Vec<ItemView>> {
    views(
        conn,
        "WHERE i.sku > ?2 ORDER BY i.sku LIMIT ?3",
        params![channel, after, limit],
    )
}

/// One item with J-goods' view, if the master has it.
pub fn get(conn: &Connection, channel: &str, sku: &str) -> Result<Option<ItemView>> {
    Ok(views(conn, "WHERE i.sku = ?2", params![channel, sku])?
        .into_iter()
        .next())
}

/// Every category of the master.
pub fn categories(conn: &Connection) -> Result<Vec<Category>> {
    let mut stmt = conn
        .prepare_cached("SELECT code, name, parent_code FROM catalog_categories ORDER BY code")?;
    let rows = stmt.query_map([], |r| {
        Ok(Category {
            code: r.get(0)?,
            name: r.get(1)?,
            parent_code: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An item `channel` is owed, with the fields it last accepted (`None`:
/// never registered there).
#[derive(Debug, Clone, PartialEq)]
pub struct OwedItem {
    pub item: Item,
    pub hash: String,
    pub sent: Option<Map<String, Value>>,
}

/// At most `limit` items whose content `channel` has not accepted and has
/// not refused as it is now, by SKU.
pub fn owed_items(conn: &Connection, channel: &str, limit: u32) -> Result<Vec<OwedItem>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.item, i.hash, s.sent FROM catalog_items i
         LEFT JOIN catalog_sync s ON s.channel = ?1 AND s.kind = 'item' AND s.code = i.sku
         WHERE s.sent_hash IS NOT i.hash AND s.refused_hash IS NOT i.hash
         ORDER BY i.sku LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![channel, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(json, hash, sent)| {
            let sent = match sent {
                Some(s) => {
                    Some(serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string()))?)
                }
                None => None,
            };
            Ok(OwedItem {
                item: decode(&json)?,
                hash,
                sent,
            })
        })
        .collect()
}

/// The categories a channel is owed (each with its hash), and the codes it
/// already holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwedCategories {
    pub owed: Vec<(Category, String)>,
    pub known: HashSet<String>,
}

/// The categories `channel` is owed.
pub fn owed_categories(conn: &Connection, channel: &str) -> Result<OwedCategories> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.code, c.name, c.parent_code, c.hash FROM catalog_categories c
         LEFT JOIN catalog_sync s ON s.channel = ?1 AND s.kind = 'category' AND s.code = c.code
         WHERE s.sent_hash IS NOT c.hash AND s.refused_hash IS NOT c.hash ORDER BY c.code",
    )?;
    let owed = stmt
        .query_map([channel], |r| {
            Ok((
                Category {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    parent_code: r.get(2)?,
                },
                r.get(3)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT code FROM catalog_sync WHERE channel = ?1 AND kind = 'category' AND sent_hash IS NOT NULL",
    )?;
    let known = stmt
        .query_map([channel], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(OwedCategories { owed, known })
}

/// `channel` took this content: `sent` holds the fields it now has.
pub fn accepted(
    conn: &Connection,
    channel: &str,
    kind: &str,
    code: &str,
    hash: &str,
    sent: Option<&Map<String, Value>>,
    now: &str,
) -> Result<()> {
    let sent = sent.map(|m| Value::Object(m.clone()).to_string());
    conn.prepare_cached(
        "INSERT INTO catalog_sync (channel, kind, code, sent_hash, sent, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (channel, kind, code) DO UPDATE SET sent_hash = excluded.sent_hash,
             sent = excluded.sent, refused_hash = NULL, refusal = NULL,
             updated_at = excluded.updated_at",
    )?
    .execute(params![channel, kind, code, hash, sent, now])?;
    Ok(())
}

/// `channel` refused this content, for `refusal` (said to the operator);
/// it is not sent again until it changes.
pub fn refused(
    conn: &Connection,
    channel: &str,
    kind: &str,
    code: &str,
    hash: &str,
    refusal: &str,
    now: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO catalog_sync (channel, kind, code, refused_hash, refusal, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (channel, kind, code) DO UPDATE SET refused_hash = excluded.refused_hash,
             refusal = excluded.refusal, updated_at = excluded.updated_at",
    )?
    .execute(params![channel, kind, code, hash, refusal, now])?;
    Ok(())
}

/// What `channel` holds of an item is not what was recorded (it answered
/// `ITEM_NOT_FOUND` to an update, or `ITEM_EXISTS` to a registration, or
/// `jgoods catalog diff --apply` read it): `held` is what to assume now
/// (`None`: nothing, register it; an empty map: something, update every
/// field). A refusal is forgotten: the item is tried again as it is.
pub fn reset_sent(
    conn: &Connection,
    channel: &str,
    code: &str,
    held: Option<&Map<String, Value>>,
    now: &str,
) -> Result<()> {
    let held = held.map(|m| Value::Object(m.clone()).to_string());
    conn.prepare_cached(
        "INSERT INTO catalog_sync (channel, kind, code, sent, updated_at) VALUES (?1, 'item', ?2, ?3, ?4)
         ON CONFLICT (channel, kind, code) DO UPDATE SET sent_hash = NULL, sent = excluded.sent,
             refused_hash = NULL, refusal = NULL, updated_at = excluded.updated_at",
    )?
    .execute(params![channel, code, held, now])?;
    Ok(())
}

/// The items `channel` refused as they are now: `(sku, refusal)`.
pub fn refusals(conn: &Connection, channel: &str, limit: u32) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.code, s.refusal FROM catalog_sync s
         JOIN catalog_items i ON i.sku = s.code AND i.hash = s.refused_hash
         WHERE s.channel = ?1 AND s.kind = 'item' AND s.refusal IS NOT NULL
         ORDER BY s.code LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![channel, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Removes `skus` from the master because the merchant withdraws them: the
/// ones J-goods holds are owed a withdrawal (`DELETE /item.json`), which is
/// never done for an item merely missing from a later file. Returns how
/// many the master had.
pub fn withdraw(conn: &Connection, skus: &[String], now: &str) -> Result<usize> {
    let mut removed = 0;
    for sku in skus {
        removed += conn
            .prepare_cached("DELETE FROM catalog_items WHERE sku = ?1")?
            .execute([sku])?;
        conn.prepare_cached(
            "UPDATE catalog_sync SET withdraw = 1, updated_at = ?2
             WHERE channel = 'jgoods' AND kind = 'item' AND code = ?1 AND sent IS NOT NULL",
        )?
        .execute(params![sku, now])?;
        conn.prepare_cached(
            "DELETE FROM catalog_sync WHERE channel = 'jgoods' AND kind = 'item' AND code = ?1
                 AND sent IS NULL",
        )?
        .execute([sku])?;
    }
    Ok(removed)
}

/// At most `limit` items `channel` is owed a withdrawal.
pub fn owed_withdrawals(conn: &Connection, channel: &str, limit: u32) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code FROM catalog_sync WHERE channel = ?1 AND withdraw = 1 ORDER BY code LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![channel, limit], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `channel` no longer holds `codes`: nothing more is owed of them.
pub fn withdrawn(conn: &Connection, channel: &str, codes: &[String]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM catalog_sync WHERE channel = ?1 AND kind = 'item' AND code = ?2 AND withdraw = 1",
    )?;
    for code in codes {
        stmt.execute(params![channel, code])?;
    }
    Ok(())
}

/// Every item of the master, by SKU.
pub fn all_items(conn: &Connection) -> Result<Vec<Item>> {
    let mut stmt = conn.prepare_cached("SELECT item FROM catalog_items ORDER BY sku")?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter().map(|j| decode(j)).collect()
}

/// Forgets what `channel` accepted of a category, so it is sent again.
pub fn forget_category(conn: &Connection, channel: &str, code: &str) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM catalog_sync WHERE channel = ?1 AND kind = 'category' AND code = ?2",
    )?
    .execute(params![channel, code])?;
    Ok(())
}

/// What the status surfaces show of the master (when it has items).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogStatus {
    pub items: i64,
    /// Items J-goods refused as they are now: `(sku, what to fix)`, at most 50.
    pub refused: Vec<(String, String)>,
    /// How many it refused in all.
    pub refused_count: i64,
    /// SKUs of the newest 10,000 J-goods order lines that the master lacks
    /// (at most 20): J-goods sells them, the master does not know them.
    pub not_in_master: Vec<String>,
}

/// The [`CatalogStatus`]; `None` while the master is empty (the merchant
/// does not keep one here).
pub fn summary(conn: &Connection) -> Result<Option<CatalogStatus>> {
    let items: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM catalog_items")?
        .query_row([], |r| r.get(0))?;
    if items == 0 {
        return Ok(None);
    }
    let refused_count = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM catalog_sync s JOIN catalog_items i
                 ON i.sku = s.code AND i.hash = s.refused_hash
             WHERE s.channel = 'jgoods' AND s.kind = 'item' AND s.refusal IS NOT NULL",
        )?
        .query_row([], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT l.sku FROM order_lines l
         WHERE l.rowid > (SELECT COALESCE(MAX(rowid), 0) FROM order_lines) - 10000
           AND l.channel = 'jgoods'
           AND NOT EXISTS (SELECT 1 FROM catalog_items i WHERE i.sku = l.sku)
         ORDER BY l.sku LIMIT 20",
    )?;
    let not_in_master = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(CatalogStatus {
        items,
        refused: refusals(conn, "jgoods", 50)?,
        refused_count,
        not_in_master,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;
    use crate::store::Store;

    fn item(sku: &str, name: &str, price: u32) -> Item {
        Item {
            sku: sku.into(),
            name: name.into(),
            price,
            tax_rate: 10,
            jan_code: None,
            weight_g: Some(100),
            category_code: None,
            description: None,
            images: vec![],
            used: false,
            on_sale: true,
            seller: None,
        }
    }

    #[tokio::test]
    async fn imports_count_changes_and_lines_without_a_name_take_the_masters() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path(), 0).unwrap();
        let now = "2026-12-07T10:00:00+09:00";
        let first = store
            .write(move |tx| {
                import_items(
                    tx,
                    &[item("A", "南部鉄器 急須", 5500), item("B", "煎茶", 1080)],
                    now,
                )
            })
            .await
            .unwrap();
        assert_eq!((first.added, first.changed, first.unchanged), (2, 0, 0));
        let again = store
            .write(move |tx| {
                import_items(
                    tx,
                    &[item("A", "南部鉄器 急須", 6000), item("B", "煎茶", 1080)],
                    now,
                )
            })
            .await
            .unwrap();
        assert_eq!((again.added, again.changed, again.unchanged), (0, 1, 1));
        let owed = store.read(|c| owed_items(c, "jgoods", 10)).await.unwrap();
        assert_eq!(owed.len(), 2, "never sent: both owed");
        store
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
                     VALUES ('jgoods', 'J1', 'new', 'deferred', ?1, ?1)",
                    [now],
                )?;
                tx.execute(
                    "INSERT INTO order_lines (channel, order_id, line_no, sku, name, qty) VALUES ('jgoods', 'J1', 1, 'A', '', 1)",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let order = store
            .read(|c| crate::store::orders::load(c, Channel::Jgoods, "J1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(order.lines[0].name, "南部鉄器 急須");

        // Withdrawn while J-goods holds it, then back in the next file before
        // the sync: the withdrawal is not made.
        store
            .write(move |tx| {
                let a = item("A", "南部鉄器 急須", 6000);
                accepted(tx, "jgoods", "item", "A", &a.hash(), Some(&a.wire()), now)?;
                withdraw(tx, &["A".to_string()], now)
            })
            .await
            .unwrap();
        assert_eq!(
            store
                .read(|c| owed_withdrawals(c, "jgoods", 10))
                .await
                .unwrap(),
            ["A"]
        );
        store
            .write(move |tx| import_items(tx, &[item("A", "南部鉄器 急須", 6000)], now))
            .await
            .unwrap();
        assert!(
            store
                .read(|c| owed_withdrawals(c, "jgoods", 10))
                .await
                .unwrap()
                .is_empty()
        );
        let view = store
            .read(|c| get(c, "jgoods", "A"))
            .await
            .unwrap()
            .unwrap();
        assert!(view.in_step, "J-goods still holds it as it is");
    }
}
