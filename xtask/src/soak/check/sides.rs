//! What each provider's simulator must agree with the store about at the end
//! of a soak: one check per channel, and the stock levels.

use super::*;

/// Units held (reserved or shipped) per line of one order.
pub(super) fn held(
    db: &Connection,
    channel: &str,
    id: &str,
) -> rusqlite::Result<BTreeMap<u32, u32>> {
    let mut stmt = db.prepare(
        "SELECT line_no, SUM(qty) FROM allocations
         WHERE channel = ?1 AND order_id = ?2 AND state IN ('reserved', 'shipped')
         GROUP BY line_no",
    )?;
    stmt.query_map(params![channel, id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

pub(super) fn jgoods_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    let stats = world.jgoods.stats();
    for no in &l.jgoods {
        let Some(theirs) = world.jgoods.order(no) else {
            continue;
        };
        let Some(ours) = order_state(db, "jgoods", no)? else {
            f.lost.insert(format!("J-goods order {no} never stored"));
            continue;
        };
        let agree = match theirs.status {
            Status::AwaitingArrival => matches!(ours.as_str(), "confirmed" | "shipped"),
            Status::Cancelled => ours == "cancelled",
            _ => false,
        };
        if !agree {
            f.broken.insert(format!(
                "J-goods order {no}: {:?} there, {ours} here",
                theirs.status
            ));
            continue;
        }
        if theirs.status == Status::AwaitingArrival {
            let ours = held(db, "jgoods", no)?;
            for line in &theirs.items {
                let here = ours.get(&line.line_no).copied().unwrap_or(0);
                if line.reserved_qty != Some(here) {
                    f.broken.insert(format!(
                        "J-goods order {no} line {}: J-goods has {:?} reserved, the store {here}",
                        line.line_no, line.reserved_qty
                    ));
                }
            }
        }
        // Each decision is one outbox call; J-goods applying more than that
        // means a call took effect twice.
        let decisions: i64 = db.query_row(
            "SELECT COUNT(*) FROM outbox WHERE provider = 'jgoods' AND kind = 'jgoods_put_order' AND order_id = ?1",
            [no],
            |r| r.get(0),
        )?;
        let applied = stats.applied_puts.get(no).copied().unwrap_or(0);
        if i64::try_from(applied).unwrap_or(i64::MAX) > decisions {
            f.doubled.insert(format!(
                "J-goods order {no}: {applied} PUTs applied for {decisions} decisions"
            ));
        }
    }
    Ok(())
}

pub(super) fn shipped_tracking(
    db: &Connection,
    channel: &str,
    id: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        db.prepare("SELECT tracking_no FROM shipments WHERE channel = ?1 AND order_id = ?2")?;
    stmt.query_map(params![channel, id], |r| r.get(0))?
        .collect()
}

pub(super) fn rakuten_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    for no in &l.rakuten {
        let Some(theirs) = world.rakuten.order(no) else {
            continue;
        };
        let ours = shipped_tracking(db, "rakuten", no)?;
        let rows: Vec<String> = theirs
            .packages
            .iter()
            .flat_map(|p| p.shipping.iter())
            .filter_map(|r| r.shipping_number.clone())
            .collect();
        if rows.len() > ours.len() {
            f.doubled.insert(format!(
                "Rakuten order {no}: {} shipping rows for {} shipments",
                rows.len(),
                ours.len()
            ));
        }
        for t in &ours {
            if !rows.contains(t) {
                f.broken
                    .insert(format!("Rakuten order {no}: shipment {t} never registered"));
            }
        }
    }
    Ok(())
}

pub(super) fn komoju_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    let stats = world.komoju.stats();
    for (id, d) in &l.direct {
        let Some(payment_id) = &d.payment_id else {
            continue;
        };
        let counts = stats.payment(payment_id);
        for (what, n) in [
            ("captured", counts.captures),
            ("cancelled", counts.cancels),
            ("refunded", counts.refunds),
        ] {
            if n > 1 {
                f.doubled.insert(format!(
                    "KOMOJU payment {payment_id} of {id} {what} {n} times"
                ));
            }
        }
        let Some(theirs) = world.komoju.payment(payment_id) else {
            continue;
        };
        let state = order_state(db, "direct", id)?.unwrap_or_default();
        let expected = match state.as_str() {
            "shipped" => PaymentStatus::Captured,
            "cancelled" => PaymentStatus::Cancelled,
            _ => PaymentStatus::Authorized,
        };
        if theirs.status != expected {
            f.broken.insert(format!(
                "KOMOJU payment {payment_id}: {:?} there, order {id} {state} here",
                theirs.status
            ));
        }
    }
    Ok(())
}

pub(super) fn kuroneko_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    for (id, d) in &l.direct {
        if d.method != "kuroneko" {
            continue;
        }
        // Every attempt Yamato knows of, live ones apart.
        let attempts: Vec<_> = (1..=20)
            .map_while(|a| world.kuroneko.order(&order_no_for(id, a)))
            .collect();
        let live: Vec<_> = attempts
            .iter()
            .filter(|o| !matches!(o.status, Some(KuronekoStatus::Cancelled)))
            .collect();
        if live.len() > 1 {
            f.doubled.insert(format!(
                "Kuroneko: {} live transactions for {id}",
                live.len()
            ));
        }
        let state = order_state(db, "direct", id)?.unwrap_or_default();
        let tracking = shipped_tracking(db, "direct", id)?;
        match state.as_str() {
            "cancelled" if !live.is_empty() => {
                f.broken.insert(format!(
                    "Kuroneko: {id} is cancelled here, {} is live there",
                    live[0].order_no
                ));
            }
            "shipped" => {
                let registered = live
                    .iter()
                    .any(|o| tracking.iter().any(|t| o.payment_no.as_deref() == Some(t)));
                if !registered {
                    f.broken
                        .insert(format!("Kuroneko: the shipment of {id} is not registered"));
                }
            }
            "cancelled" => {}
            _ if live.is_empty() => {
                f.lost.insert(format!(
                    "Kuroneko: no credit transaction for {id} ({state})"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn atobarai_side(
    db: &Connection,
    world: &World,
    l: &Ledger,
    f: &mut Findings,
) -> anyhow::Result<()> {
    let mut by_order: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for o in world.atobarai.orders() {
        by_order.entry(o.ent_order_id.clone()).or_default().push(o);
    }
    for (id, d) in &l.direct {
        if d.method != "atobarai_com" {
            continue;
        }
        let theirs = by_order.remove(id).unwrap_or_default();
        let live: Vec<_> = theirs
            .iter()
            .filter(|o| {
                !matches!(
                    o.status,
                    DataStatus::Cancelled | DataStatus::CancelRequested | DataStatus::CreditNg
                )
            })
            .collect();
        if live.len() > 1 {
            f.doubled
                .insert(format!("Atobarai.com: {} live orders for {id}", live.len()));
        }
        let state = order_state(db, "direct", id)?.unwrap_or_default();
        let tracking = shipped_tracking(db, "direct", id)?;
        match state.as_str() {
            "cancelled" if !live.is_empty() => {
                f.broken.insert(format!(
                    "Atobarai.com: {id} is cancelled here, {} is live there",
                    live[0].system_order_id
                ));
            }
            "shipped" => {
                let registered = live.iter().any(|o| {
                    o.journal_number
                        .as_ref()
                        .is_some_and(|j| tracking.contains(j))
                });
                if !registered {
                    f.broken.insert(format!(
                        "Atobarai.com: the shipment of {id} is not registered"
                    ));
                }
            }
            "cancelled" => {}
            _ if live.is_empty() => {
                f.lost
                    .insert(format!("Atobarai.com: no order for {id} ({state})"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Stock as the merchant sees it: available = on_hand − open reservations
/// (no safety stock here), and on_hand = the last count less what shipped
/// after it was counted (as_of).
pub(super) fn stock_levels(
    db: &Connection,
    l: &Ledger,
    api: &Value,
    f: &mut Findings,
) -> anyhow::Result<()> {
    let listed = api["stock"].as_array().cloned().unwrap_or_default();
    for (sku, (counted, as_of)) in &l.stock {
        let (on_hand, reserved): (i64, i64) = db.query_row(
            "SELECT on_hand, reserved FROM stock WHERE sku = ?1",
            [sku],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // Times have whole seconds: a shipment in the second of the count
        // may have been in it or not, so on_hand lies between two bounds.
        let (after, same_second): (i64, i64) = db.query_row(
            "SELECT COALESCE(SUM(CASE WHEN shipped_at > ?2 THEN qty END), 0),
                    COALESCE(SUM(CASE WHEN shipped_at = ?2 THEN qty END), 0)
             FROM allocations WHERE sku = ?1 AND state = 'shipped'",
            params![sku, as_of],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let most = (counted - after).max(0);
        let least = (counted - after - same_second).max(0);
        if !(least..=most).contains(&on_hand) {
            f.broken.insert(format!(
                "stock {sku}: on_hand {on_hand}, but {counted} were counted at {as_of} and {after} (+{same_second} in that second) shipped since"
            ));
        }
        let shown = listed.iter().find(|s| s["sku"] == sku.as_str());
        let available = shown.and_then(|s| s["available"].as_i64());
        if available != Some((on_hand - reserved).max(0)) {
            f.broken.insert(format!(
                "stock {sku}: the API shows {available:?} available, on_hand {on_hand} − reserved {reserved}"
            ));
        }
    }
    Ok(())
}
