//! `POST /inventories/bulk-upsert` (`rakuten-inventory.md`, inventories.bulk.upsert
//! and Corrections 2026-12-07): every entry is checked before any is applied,
//! and one bad entry fails the whole call with `400` and its `propertyPath`.
//!
//! Codes as the contract gives them: `IE0002` bad number, `IE0003` out of
//! range, `IE0004` too long, `IE0105` bad parameter, `IE0121` the same pair
//! twice in one call, `IE1101` a 予約商品 (`PRE_ORDER`) and `IE1102` / `IE1105`
//! a 頒布会 (`BUYING_CLUB`) item. Their exact triggers are not published
//! ([guess]): an entry of a pre-order or subscription item is refused by the
//! item's type at the time of the call, with the code of
//! [`Inventory::buying_club_code`] for a subscription, at
//! `inventories[i].manageNumber`; a repeated pair at `inventories[i]` (the
//! second of the two).

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::{Answer, Inventory, ItemType, MAX_ID_BYTES, MAX_QUANTITY, MAX_UPSERT, Pair};

/// The codes the contract gives for a 頒布会 entry, either of which
/// `Inventory::buying_club_code` may be.
pub const BUYING_CLUB_CODES: [&str; 2] = ["IE1102", "IE1105"];

/// A refused entry: code, message, `propertyPath`.
pub(super) type Invalid = (&'static str, &'static str, String);

impl Inventory {
    /// `POST /inventories/bulk-upsert`: 204, or 400 for the first bad entry.
    pub(crate) fn bulk_upsert(&mut self, body: &Value, now: DateTime<FixedOffset>) -> Answer {
        self.forget_orphans(now);
        let entries = match self.entries(body, MAX_UPSERT) {
            Ok(entries) => entries,
            Err(answer) => return answer,
        };
        let mut planned: Vec<(Pair, i64)> = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            match self.plan(entry, i, &planned) {
                Ok(planned_entry) => planned.push(planned_entry),
                Err(e) => return self.invalid(e),
            }
        }
        self.stats.upserted_entries += planned.len();
        for (pair, value) in planned {
            if self.managed_or_listed(&pair) {
                self.store(pair, value, now);
            } else {
                self.stats.orphan_entries += 1;
                self.orphans.insert(pair, now);
            }
        }
        Answer {
            status: 204,
            body: Value::Null,
        }
    }

    /// The pair and the value entry `i` sets, after the entries `before` it.
    fn plan(
        &mut self,
        entry: &Value,
        i: usize,
        before: &[(Pair, i64)],
    ) -> Result<(Pair, i64), Invalid> {
        let at = |field: &str| format!("inventories[{i}].{field}");
        let pair = pair_of(entry, i)?;
        if before.iter().any(|(p, _)| *p == pair) {
            return Err((
                "IE0121",
                "the same manageNumber and variantId twice in one request",
                format!("inventories[{i}]"),
            ));
        }
        let relative = match entry.get("mode").and_then(Value::as_str) {
            Some("ABSOLUTE") => false,
            Some("RELATIVE") => true,
            _ => return Err(("IE0105", "mode must be ABSOLUTE or RELATIVE", at("mode"))),
        };
        let Some(quantity) = entry.get("quantity").and_then(Value::as_i64) else {
            return Err(("IE0002", "quantity must be a whole number", at("quantity")));
        };
        match self.live(&pair.0).map(|l| l.item.item_type) {
            Some(ItemType::PreOrder) => {
                return Err((
                    "IE1101",
                    "予約商品の在庫は更新できません",
                    at("manageNumber"),
                ));
            }
            Some(ItemType::BuyingClub) => {
                return Err((
                    self.buying_club_code,
                    "頒布会商品の在庫は更新できません",
                    at("manageNumber"),
                ));
            }
            Some(ItemType::Normal) | None => {}
        }
        let value = if relative {
            let Some(current) = self.held.get(&pair).map(|h| h.quantity) else {
                return Err((
                    "IE0105",
                    "a first registration must be ABSOLUTE",
                    at("mode"),
                ));
            };
            current + quantity
        } else {
            quantity
        };
        if !(0..=MAX_QUANTITY).contains(&value) {
            return Err(("IE0003", "quantity out of range (0-99999)", at("quantity")));
        }
        if relative {
            self.stats.relative_entries += 1;
        }
        Ok((pair, value))
    }
}

/// The (`manageNumber`, `variantId`) of entry `i`, validated; manage numbers
/// fold to lower case as at Rakuten.
pub(super) fn pair_of(entry: &Value, i: usize) -> Result<Pair, Invalid> {
    let field = |name: &str| format!("inventories[{i}].{name}");
    let manage = id_field(entry, "manageNumber", &field("manageNumber"))?;
    let variant = id_field(entry, "variantId", &field("variantId"))?;
    Ok((manage.to_ascii_lowercase(), variant.to_string()))
}

fn id_field<'a>(entry: &'a Value, name: &str, path: &str) -> Result<&'a str, Invalid> {
    let Some(value) = entry.get(name).and_then(Value::as_str) else {
        return Err(("IE0105", "required", path.to_string()));
    };
    if value.len() > MAX_ID_BYTES {
        return Err(("IE0004", "too long (32 bytes)", path.to_string()));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if value.is_empty() || !value.chars().all(allowed) {
        return Err(("IE0105", "only a-z, 0-9, - and _", path.to_string()));
    }
    Ok(value)
}
