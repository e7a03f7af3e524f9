//! Rakuten's SKU map: the (`manageNumber`, `variantId`) pairs of each merchant
//! SKU, as `items.search` last listed them, and whether a `bulk-get` after a
//! push found each pair at Rakuten.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::Result;

/// One Rakuten variant and the merchant SKU it sells.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SkuPair {
    pub sku: String,
    pub manage_number: String,
    pub variant_id: String,
}

/// A pair with what is known of it at Rakuten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedPair {
    pub pair: SkuPair,
    /// A `bulk-get` found it.
    pub verified: bool,
}

/// Makes the map exactly `pairs`. Returns the SKUs of the mirror that gained
/// a pair (new, or moved from another SKU), which are owed a push to Rakuten.
/// A SKU the mirror does not have is not returned: Rakuten keeps its own
/// count of it until the ERP sends one (the merchant sees it listed).
pub fn replace(conn: &Connection, pairs: &[SkuPair]) -> Result<Vec<String>> {
    let mut before: HashMap<(String, String), String> = HashMap::new();
    for row in conn
        .prepare_cached("SELECT manage_number, variant_id, sku FROM rakuten_skus")?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
    {
        let (key, sku) = row?;
        before.insert(key, sku);
    }
    let mut gained = Vec::new();
    let mut insert = conn.prepare_cached(
        "INSERT INTO rakuten_skus (manage_number, variant_id, sku) VALUES (?1, ?2, ?3)
         ON CONFLICT (manage_number, variant_id) DO UPDATE SET
             sku = excluded.sku,
             verified_at = CASE WHEN sku = excluded.sku THEN verified_at END,
             unknown_at = CASE WHEN sku = excluded.sku THEN unknown_at END",
    )?;
    for p in pairs {
        let key = (p.manage_number.clone(), p.variant_id.clone());
        if before.remove(&key).as_deref() != Some(p.sku.as_str()) {
            gained.push(p.sku.clone());
        }
        insert.execute(params![p.manage_number, p.variant_id, p.sku])?;
    }
    let mut delete = conn
        .prepare_cached("DELETE FROM rakuten_skus WHERE manage_number = ?1 AND variant_id = ?2")?;
    for (manage, variant) in before.keys() {
        delete.execute(params![manage, variant])?;
    }
    gained.sort();
    gained.dedup();
    let mut in_mirror = conn.prepare_cached("SELECT 1 FROM stock WHERE sku = ?1")?;
    let mut kept = Vec::with_capacity(gained.len());
    for sku in gained {
        if in_mirror.exists([&sku])? {
            kept.push(sku);
        }
    }
    Ok(kept)
}

/// The pairs of `skus`, in SKU order.
pub fn pairs_of(conn: &Connection, skus: &[String]) -> Result<Vec<MappedPair>> {
    let mut stmt = conn.prepare_cached(
        "SELECT manage_number, variant_id, verified_at IS NOT NULL FROM rakuten_skus
         WHERE sku = ?1 ORDER BY manage_number, variant_id",
    )?;
    let mut out = Vec::new();
    for sku in skus {
        for row in stmt.query_map([sku], |r| {
            Ok(MappedPair {
                pair: SkuPair {
                    sku: sku.clone(),
                    manage_number: r.get(0)?,
                    variant_id: r.get(1)?,
                },
                verified: r.get(2)?,
            })
        })? {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Whether any of `skus` has a pair at Rakuten.
pub fn any_listed(conn: &Connection, skus: &[String]) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM rakuten_skus WHERE sku = ?1 LIMIT 1")?;
    for sku in skus {
        if stmt.exists([sku])? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a SKU sold at Rakuten has between 1 and `level` units for it
/// beyond the safety stock and Rakuten's `buffer` (`on_hand - reserved -
/// safety_stock - buffer`): the stock a Rakuten order not imported yet could
/// oversell through another channel.
pub fn any_low(conn: &super::Tx<'_>, buffer: u32, level: u32) -> Result<bool> {
    let held_back = conn.safety_stock().saturating_add(buffer);
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM rakuten_skus r JOIN stock s ON s.sku = r.sku
             WHERE s.on_hand - s.reserved - ?1 BETWEEN 1 AND ?2)",
        )?
        .query_row(params![held_back, level], |r| r.get(0))?)
}

/// Records a read-back: `found` pairs are held by Rakuten, `missing` ones are
/// not. Returns the missing pairs not reported before.
pub fn checked(
    conn: &Connection,
    found: &[SkuPair],
    missing: &[SkuPair],
    now: &str,
) -> Result<Vec<SkuPair>> {
    let mut hit = conn.prepare_cached(
        "UPDATE rakuten_skus SET verified_at = ?3, unknown_at = NULL
         WHERE manage_number = ?1 AND variant_id = ?2",
    )?;
    for p in found {
        hit.execute(params![p.manage_number, p.variant_id, now])?;
    }
    let mut miss = conn.prepare_cached(
        "UPDATE rakuten_skus SET unknown_at = ?3
         WHERE manage_number = ?1 AND variant_id = ?2 AND unknown_at IS NULL",
    )?;
    let mut newly = Vec::new();
    for p in missing {
        if miss.execute(params![p.manage_number, p.variant_id, now])? > 0 {
            newly.push(p.clone());
        }
    }
    Ok(newly)
}

/// What `ordersync rakuten skus` and the status page show of the map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapReport {
    /// Pairs in the map.
    pub pairs: i64,
    /// Mirror SKUs with no Rakuten pair (not sold at Rakuten), first `limit`.
    pub not_at_rakuten: Vec<String>,
    pub not_at_rakuten_total: i64,
    /// Rakuten variants whose merchant SKU the mirror does not know.
    pub not_in_mirror: Vec<SkuPair>,
    pub not_in_mirror_total: i64,
    /// Pairs a read-back did not find at Rakuten, with since when.
    pub not_held: Vec<(SkuPair, String)>,
}

impl MapReport {
    /// Nothing a merchant needs to look at.
    pub fn is_clean(&self) -> bool {
        self.not_in_mirror_total == 0 && self.not_held.is_empty()
    }
}

pub fn report(conn: &Connection, limit: u32) -> Result<MapReport> {
    let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let pair = |r: &rusqlite::Row<'_>| -> rusqlite::Result<SkuPair> {
        Ok(SkuPair {
            manage_number: r.get(0)?,
            variant_id: r.get(1)?,
            sku: r.get(2)?,
        })
    };
    let not_at_rakuten = conn
        .prepare_cached(
            "SELECT sku FROM stock WHERE sku NOT IN (SELECT sku FROM rakuten_skus)
             ORDER BY sku LIMIT ?1",
        )?
        .query_map([limit], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let not_in_mirror = conn
        .prepare_cached(
            "SELECT manage_number, variant_id, sku FROM rakuten_skus
             WHERE sku NOT IN (SELECT sku FROM stock) ORDER BY sku LIMIT ?1",
        )?
        .query_map([limit], pair)?
        .collect::<rusqlite::Result<_>>()?;
    let not_held = conn
        .prepare_cached(
            "SELECT manage_number, variant_id, sku, unknown_at FROM rakuten_skus
             WHERE unknown_at IS NOT NULL ORDER BY sku LIMIT ?1",
        )?
        .query_map([limit], |r| Ok((pair(r)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(MapReport {
        pairs: count("SELECT COUNT(*) FROM rakuten_skus")?,
        not_at_rakuten,
        not_at_rakuten_total: count(
            "SELECT COUNT(*) FROM stock WHERE sku NOT IN (SELECT sku FROM rakuten_skus)",
        )?,
        not_in_mirror,
        not_in_mirror_total: count(
            "SELECT COUNT(*) FROM rakuten_skus WHERE sku NOT IN (SELECT sku FROM stock)",
        )?,
        not_held,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        conn
    }

    fn p(sku: &str, m: &str, v: &str) -> SkuPair {
        SkuPair {
            sku: sku.into(),
            manage_number: m.into(),
            variant_id: v.into(),
        }
    }

    #[test]
    fn a_replace_reports_the_skus_that_gained_a_pair_and_forgets_removed_ones() {
        let conn = db();
        for sku in ["A", "B", "C"] {
            conn.execute(
                "INSERT INTO stock (sku, on_hand, updated_at) VALUES (?1, 1, 't')",
                [sku],
            )
            .unwrap();
        }
        let gained = replace(&conn, &[p("A", "m", "1"), p("B", "m", "2")]).unwrap();
        assert_eq!(gained, ["A", "B"]);
        checked(&conn, &[p("A", "m", "1")], &[], "t").unwrap();
        let gained = replace(&conn, &[p("A", "m", "1"), p("C", "m", "2")]).unwrap();
        assert_eq!(gained, ["C"], "B's variant now sells C");
        assert!(
            pairs_of(&conn, &["A".into()]).unwrap()[0].verified,
            "A is unchanged"
        );
        assert!(pairs_of(&conn, &["B".into()]).unwrap().is_empty());
        replace(&conn, &[p("A", "m", "1")]).unwrap();
        assert!(pairs_of(&conn, &["C".into()]).unwrap().is_empty());
        let gained = replace(&conn, &[p("A", "m", "1"), p("Z", "m", "9")]).unwrap();
        assert!(
            gained.is_empty(),
            "Z is not in the mirror: Rakuten keeps its count"
        );
    }

    #[test]
    fn a_missing_pair_is_reported_once_and_cleared_when_found() {
        let conn = db();
        replace(&conn, &[p("A", "m", "1")]).unwrap();
        assert_eq!(
            checked(&conn, &[], &[p("A", "m", "1")], "t1")
                .unwrap()
                .len(),
            1
        );
        assert!(
            checked(&conn, &[], &[p("A", "m", "1")], "t2")
                .unwrap()
                .is_empty()
        );
        let r = report(&conn, 10).unwrap();
        assert_eq!(r.not_held, [(p("A", "m", "1"), "t1".to_string())]);
        assert_eq!(r.not_in_mirror_total, 1, "the mirror has no A");
        checked(&conn, &[p("A", "m", "1")], &[], "t3").unwrap();
        assert!(report(&conn, 10).unwrap().not_held.is_empty());
    }
}
