//! Rakuten's SKU map: the (`manageNumber`, `variantId`) pairs of each merchant
//! SKU, as `items.search` last listed them, whether a `bulk-get` after a push
//! found each pair at Rakuten, and the pairs whose entry `bulk-upsert`
//! refused (set aside until their item changes); beside it, the pairs of
//! items the push leaves out by their type (pre-order, subscription).

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

/// A pair whose entry Rakuten refused: not sent until its item changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedPair {
    pub pair: SkuPair,
    /// Rakuten's code (`IE1101`, …).
    pub code: String,
    /// What the merchant does, Japanese first.
    pub fix: String,
    /// When it was refused (RFC 3339).
    pub since: String,
}

/// What one `items.search` sync lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The pairs whose stock is pushed.
    pub pairs: Vec<SkuPair>,
    /// Each item's `updated` by (lower-case) manage number.
    pub item_updated: HashMap<String, String>,
    /// Pairs not pushed by their item's type (`PRE_ORDER`, `BUYING_CLUB`).
    pub unpushed: Vec<(SkuPair, String)>,
}

/// Makes the map exactly `listing`. Returns the SKUs of the mirror that
/// gained a pair (new, moved from another SKU, or set aside after a refusal
/// and now changed in RMS), which are owed a push to Rakuten. A SKU the
/// mirror does not have is not returned: Rakuten keeps its own count of it
/// until the ERP sends one (the merchant sees it listed).
pub fn replace(conn: &Connection, listing: &Listing) -> Result<Vec<String>> {
    // (manage, variant) → (sku, refused, item_updated)
    type Before = HashMap<(String, String), (String, bool, Option<String>)>;
    let mut before: Before = HashMap::new();
    for row in conn
        .prepare_cached(
            "SELECT manage_number, variant_id, sku, refused_code IS NOT NULL, item_updated
             FROM rakuten_skus",
        )?
        .query_map([], |r| {
            Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?)))
        })?
    {
        let (key, was) = row?;
        before.insert(key, was);
    }
    let mut gained = Vec::new();
    // A refusal is kept while the pair sells the same SKU and its item is
    // unchanged; the right-hand sides read the row as it was.
    let mut insert = conn.prepare_cached(
        "INSERT INTO rakuten_skus (manage_number, variant_id, sku, item_updated)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (manage_number, variant_id) DO UPDATE SET
             sku = excluded.sku,
             verified_at = CASE WHEN sku = excluded.sku THEN verified_at END,
             unknown_at = CASE WHEN sku = excluded.sku THEN unknown_at END,
             refused_code = CASE WHEN sku = excluded.sku
                 AND item_updated IS excluded.item_updated THEN refused_code END,
             refused_fix = CASE WHEN sku = excluded.sku
                 AND item_updated IS excluded.item_updated THEN refused_fix END,
             refused_at = CASE WHEN sku = excluded.sku
                 AND item_updated IS excluded.item_updated THEN refused_at END,
             item_updated = excluded.item_updated",
    )?;
    for p in &listing.pairs {
        let key = (p.manage_number.clone(), p.variant_id.clone());
        let updated = listing.item_updated.get(&p.manage_number);
        let owed = match before.remove(&key) {
            None => true,
            Some((sku, refused, was_updated)) => {
                sku != p.sku || (refused && was_updated.as_ref() != updated)
            }
        };
        if owed {
            gained.push(p.sku.clone());
        }
        insert.execute(params![p.manage_number, p.variant_id, p.sku, updated])?;
    }
    conn.execute("DELETE FROM rakuten_unpushed", [])?;
    let mut unpushed = conn.prepare_cached(
        "INSERT OR REPLACE INTO rakuten_unpushed (manage_number, variant_id, sku, item_type)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (p, item_type) in &listing.unpushed {
        unpushed.execute(params![p.manage_number, p.variant_id, p.sku, item_type])?;
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

/// The pairs of `skus` to push, in SKU order: those set aside after a
/// refusal are left out.
pub fn pairs_of(conn: &Connection, skus: &[String]) -> Result<Vec<MappedPair>> {
    let mut stmt = conn.prepare_cached(
        "SELECT manage_number, variant_id, verified_at IS NOT NULL FROM rakuten_skus
         WHERE sku = ?1 AND refused_code IS NULL ORDER BY manage_number, variant_id",
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

/// Rakuten refused `pair`'s entry with `code`: it is set aside with `fix`
/// until its item changes. Returns true the first time (to log it once).
pub fn refused(
    conn: &Connection,
    pair: &SkuPair,
    code: &str,
    fix: &str,
    now: &str,
) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE rakuten_skus SET refused_code = ?3, refused_fix = ?4, refused_at = ?5
             WHERE manage_number = ?1 AND variant_id = ?2 AND refused_code IS NULL",
        )?
        .execute(params![pair.manage_number, pair.variant_id, code, fix, now])?;
    Ok(changed > 0)
}

/// The first `limit` pairs set aside after a refusal, in SKU order.
pub fn refused_pairs(conn: &Connection, limit: u32) -> Result<Vec<RefusedPair>> {
    Ok(conn
        .prepare_cached(
            "SELECT manage_number, variant_id, sku, refused_code, refused_fix, refused_at
             FROM rakuten_skus WHERE refused_code IS NOT NULL ORDER BY sku LIMIT ?1",
        )?
        .query_map([limit], |r| {
            Ok(RefusedPair {
                pair: SkuPair {
                    manage_number: r.get(0)?,
                    variant_id: r.get(1)?,
                    sku: r.get(2)?,
                },
                code: r.get(3)?,
                fix: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                since: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
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
    /// Pairs whose entry Rakuten refused, set aside until their item changes.
    pub refused: Vec<RefusedPair>,
    /// Pairs not pushed by their item's type, with the type.
    pub not_pushed: Vec<(SkuPair, String)>,
}

impl MapReport {
    /// Nothing a merchant needs to look at (pre-order and subscription items
    /// left out are only information).
    pub fn is_clean(&self) -> bool {
        self.not_in_mirror_total == 0 && self.not_held.is_empty() && self.refused.is_empty()
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
    let refused = refused_pairs(conn, limit)?;
    let not_pushed = conn
        .prepare_cached(
            "SELECT manage_number, variant_id, sku, item_type FROM rakuten_unpushed
             ORDER BY sku LIMIT ?1",
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
        refused,
        not_pushed,
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

    fn listing(pairs: &[SkuPair]) -> Listing {
        Listing {
            pairs: pairs.to_vec(),
            ..Listing::default()
        }
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
        let gained = replace(&conn, &listing(&[p("A", "m", "1"), p("B", "m", "2")])).unwrap();
        assert_eq!(gained, ["A", "B"]);
        checked(&conn, &[p("A", "m", "1")], &[], "t").unwrap();
        let gained = replace(&conn, &listing(&[p("A", "m", "1"), p("C", "m", "2")])).unwrap();
        assert_eq!(gained, ["C"], "B's variant now sells C");
        assert!(
            pairs_of(&conn, &["A".into()]).unwrap()[0].verified,
            "A is unchanged"
        );
        assert!(pairs_of(&conn, &["B".into()]).unwrap().is_empty());
        replace(&conn, &listing(&[p("A", "m", "1")])).unwrap();
        assert!(pairs_of(&conn, &["C".into()]).unwrap().is_empty());
        let gained = replace(&conn, &listing(&[p("A", "m", "1"), p("Z", "m", "9")])).unwrap();
        assert!(
            gained.is_empty(),
            "Z is not in the mirror: Rakuten keeps its count"
        );
    }

    #[test]
    fn a_refused_pair_is_set_aside_until_its_item_changes() {
        let conn = db();
        conn.execute(
            "INSERT INTO stock (sku, on_hand, updated_at) VALUES ('A', 1, 't')",
            [],
        )
        .unwrap();
        let at = |updated: &str| Listing {
            pairs: vec![p("A", "m", "1")],
            item_updated: [("m".to_string(), updated.to_string())].into(),
            unpushed: vec![(p("Y", "y", "1"), "PRE_ORDER".to_string())],
        };
        assert_eq!(replace(&conn, &at("u1")).unwrap(), ["A"]);
        assert!(refused(&conn, &p("A", "m", "1"), "IE1101", "fix", "t1").unwrap());
        assert!(!refused(&conn, &p("A", "m", "1"), "IE1101", "fix", "t2").unwrap());
        assert!(
            pairs_of(&conn, &["A".into()]).unwrap().is_empty(),
            "set aside"
        );
        let r = report(&conn, 10).unwrap();
        assert_eq!(
            (r.refused[0].code.as_str(), r.refused[0].since.as_str()),
            ("IE1101", "t1")
        );
        assert_eq!(r.not_pushed, [(p("Y", "y", "1"), "PRE_ORDER".to_string())]);
        assert!(
            replace(&conn, &at("u1")).unwrap().is_empty(),
            "the item is unchanged"
        );
        assert_eq!(report(&conn, 10).unwrap().refused.len(), 1);
        assert_eq!(replace(&conn, &at("u2")).unwrap(), ["A"], "changed in RMS");
        assert!(report(&conn, 10).unwrap().refused.is_empty());
        assert_eq!(pairs_of(&conn, &["A".into()]).unwrap().len(), 1);
    }

    #[test]
    fn a_missing_pair_is_reported_once_and_cleared_when_found() {
        let conn = db();
        replace(&conn, &listing(&[p("A", "m", "1")])).unwrap();
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
