//! Rakuten's stock (Inventory API 2.0 `bulk-upsert`, `bulk-get`) and its item
//! search (ItemAPI 2.0 `items.search`), as `rakuten-inventory.md` describes them: the
//! items the shop has in RMS, a quantity per (`manageNumber`, `variantId`),
//! Rakuten's own orders taking from it and cancels giving back.
//!
//! What the contract states is modelled as stated: 1 to 400 entries an upsert
//! and 1 to 1000 a read, `ABSOLUTE` 0–99999, one bad entry failing the whole
//! call with its `propertyPath` (`upsert`), the same pair twice in one call
//! refused (`IE0121`), pre-order and subscription items refused (`IE1101`,
//! `IE1102` / `IE1105`), manage numbers folded to lower case, unknown
//! pairs accepted and never readable (forgotten 24 hours after their last
//! update), 1 upsert and 5 reads a second per shop (429 beyond), a new item
//! reaching the search only after a lag (up to 24 hours), a deleted one coming
//! back with its `manageNumber` alone for as long.
//!
//! Where the contract is silent the simulator guesses, and clients must not
//! depend on the guess: the error code for too many or no entries (`IE0105`),
//! for `RELATIVE` on a pair never set (`IE0105`); which of `IE1102` and
//! `IE1105` a subscription item gets (a setting, [`Inventory::buying_club_code`]);
//! the `propertyPath` of each refusal; an edit of an item's type reaching the
//! search at once; a search result without `item` (a test puts one where it
//! wants it); a pushed quantity of an item without stock management is kept
//! and readable but never taken by orders.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use super::state::Answer;
pub use catalog::{CatalogItem, CatalogVariant, ItemType};
use catalog::{
    ErrorBody, ErrorEntry, ErrorMetadata, HeldAnswer, HeldEntry, SearchAnswer, SearchResult,
    decode_cursor, encode_cursor, search_item,
};
pub use upsert::BUYING_CLUB_CODES;
use upsert::pair_of;

mod catalog;
mod upsert;

/// Entries one `bulk-upsert` takes.
pub const MAX_UPSERT: usize = 400;
/// Pairs one `bulk-get` takes.
pub const MAX_GET: usize = 1000;
/// Highest `ABSOLUTE` quantity.
pub const MAX_QUANTITY: i64 = 99_999;
/// Longest `manageNumber` and `variantId`, in bytes.
pub const MAX_ID_BYTES: usize = 32;
/// `bulk-upsert` calls a second per shop.
pub const UPSERTS_PER_SECOND: usize = 1;
/// `bulk-get` calls a second per shop.
pub const GETS_PER_SECOND: usize = 5;
/// An unknown pair's value is deleted this long after its last update.
pub const ORPHAN_TTL_HOURS: i64 = 24;

#[derive(Debug, Clone)]
struct Listed {
    item: CatalogItem,
    /// From when `items.search` shows it.
    searchable_from: DateTime<FixedOffset>,
    created: DateTime<FixedOffset>,
    updated: DateTime<FixedOffset>,
    deleted_at: Option<DateTime<FixedOffset>>,
    /// Only a search result without `item`, at this manage number's place:
    /// no item the shop sells.
    without_item: bool,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    quantity: i64,
    created: DateTime<FixedOffset>,
    updated: DateTime<FixedOffset>,
}

type Pair = (String, String);

/// A line of a Rakuten order that takes stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Take {
    pub manage_number: String,
    pub variant_id: String,
    pub units: u32,
}

/// Why Rakuten refused an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldOut {
    /// The item.
    pub manage_number: String,
    /// The variant short of stock.
    pub variant_id: String,
    /// What Rakuten holds.
    pub available: i64,
    /// What the order asked for.
    pub wanted: u32,
}

impl std::fmt::Display for SoldOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sold out: {}/{} has {}, {} asked",
            self.manage_number, self.variant_id, self.available, self.wanted
        )
    }
}

impl std::error::Error for SoldOut {}

/// The shop's items and stock.
#[derive(Debug)]
pub(crate) struct Inventory {
    items: BTreeMap<String, Listed>,
    held: HashMap<Pair, Held>,
    /// Values pushed for pairs Rakuten does not have: kept, never readable.
    orphans: HashMap<Pair, DateTime<FixedOffset>>,
    upserts: VecDeque<Instant>,
    gets: VecDeque<Instant>,
    /// How long a new item takes to reach `items.search`.
    pub search_lag: TimeDelta,
    /// The code a 頒布会 entry is refused with (one of [`BUYING_CLUB_CODES`]).
    pub buying_club_code: &'static str,
    pub stats: InventoryStats,
}

/// Counters of the inventory endpoints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryStats {
    /// `bulk-upsert` requests, refused ones included.
    pub upserts: usize,
    /// Entries of the accepted `bulk-upsert` calls.
    pub upserted_entries: usize,
    /// Entries with `mode: RELATIVE` among them.
    pub relative_entries: usize,
    /// `bulk-get` requests.
    pub gets: usize,
    /// `items.search` requests.
    pub searches: usize,
    /// Answers 429 for going past a per-second limit.
    pub rate_limited: usize,
    /// Answers 400.
    pub invalid: usize,
    /// Entries stored against a pair Rakuten does not have.
    pub orphan_entries: usize,
    /// Rakuten orders refused for want of stock.
    pub sold_out: usize,
}

impl Inventory {
    pub(crate) fn new(search_lag: TimeDelta) -> Inventory {
        Inventory {
            items: BTreeMap::new(),
            held: HashMap::new(),
            orphans: HashMap::new(),
            upserts: VecDeque::new(),
            gets: VecDeque::new(),
            search_lag,
            buying_club_code: BUYING_CLUB_CODES[0],
            stats: InventoryStats::default(),
        }
    }

    // ---- RMS-side events (test hooks) ----

    /// Registers (or replaces) an item. `long_ago` items are in the search
    /// already; a new one reaches it after `search_lag`.
    pub(crate) fn list(&mut self, item: CatalogItem, long_ago: bool, now: DateTime<FixedOffset>) {
        let created = if long_ago {
            now - TimeDelta::days(30)
        } else {
            now
        };
        let searchable_from = if long_ago {
            created
        } else {
            now + self.search_lag
        };
        for variant in item.variants.keys() {
            self.orphans
                .remove(&(item.manage_number.clone(), variant.clone()));
        }
        self.items.insert(
            item.manage_number.clone(),
            Listed {
                item,
                searchable_from,
                created,
                updated: now,
                deleted_at: None,
                without_item: false,
            },
        );
    }

    /// An edit in RMS of a live item's type; `updated` moves.
    pub(crate) fn set_item_type(
        &mut self,
        manage_number: &str,
        item_type: ItemType,
        now: DateTime<FixedOffset>,
    ) -> bool {
        let key = manage_number.to_ascii_lowercase();
        let Some(listed) = self
            .items
            .get_mut(&key)
            .filter(|l| l.deleted_at.is_none() && !l.without_item)
        else {
            return false;
        };
        listed.item.item_type = item_type;
        listed.updated = now;
        true
    }

    /// A search result without `item` at `manage_number`'s place in the
    /// search order (nothing is sold under it).
    pub(crate) fn list_without_item(&mut self, manage_number: &str, now: DateTime<FixedOffset>) {
        let mut item = CatalogItem::new(manage_number, &[]);
        item.manage_number = manage_number.to_ascii_lowercase();
        self.items.insert(
            item.manage_number.clone(),
            Listed {
                item,
                searchable_from: now,
                created: now,
                updated: now,
                deleted_at: None,
                without_item: true,
            },
        );
    }

    /// Deletes an item: its stock is gone at once, the search forgets it later.
    pub(crate) fn delist(&mut self, manage_number: &str, now: DateTime<FixedOffset>) -> bool {
        let Some(listed) = self.items.get_mut(manage_number) else {
            return false;
        };
        listed.deleted_at = Some(now);
        self.held.retain(|(m, _), _| m != manage_number);
        true
    }

    /// A hand edit in RMS.
    pub(crate) fn set_quantity(
        &mut self,
        manage_number: &str,
        variant_id: &str,
        quantity: i64,
        now: DateTime<FixedOffset>,
    ) {
        let pair = (manage_number.to_ascii_lowercase(), variant_id.to_string());
        self.store(pair, quantity, now);
    }

    /// The quantity Rakuten shows for a pair, if it holds one.
    pub(crate) fn quantity(&self, manage_number: &str, variant_id: &str) -> Option<i64> {
        let pair = (manage_number.to_ascii_lowercase(), variant_id.to_string());
        self.held.get(&pair).map(|h| h.quantity)
    }

    /// The variant a line names: by `variantId`, else by its merchant SKU,
    /// else the item's only variant.
    pub(crate) fn resolve(
        &self,
        manage_number: &str,
        variant_id: Option<&str>,
        sku: Option<&str>,
    ) -> Option<String> {
        let listed = self.live(&manage_number.to_ascii_lowercase())?;
        let variants = &listed.item.variants;
        if let Some(v) = variant_id {
            return variants.contains_key(v).then(|| v.to_string());
        }
        if let Some(sku) = sku
            && let Some((id, _)) = variants
                .iter()
                .find(|(_, v)| v.merchant_defined_sku_id.as_deref() == Some(sku))
        {
            return Some(id.clone());
        }
        (variants.len() == 1)
            .then(|| variants.keys().next().cloned())
            .flatten()
    }

    /// A buyer's order: every line with stock management takes its units, or
    /// none does (refused past zero unless the variant takes back orders).
    pub(crate) fn take(
        &mut self,
        lines: &[Take],
        now: DateTime<FixedOffset>,
    ) -> Result<(), SoldOut> {
        let mut wanted: HashMap<Pair, u32> = HashMap::new();
        for line in lines {
            if self
                .managed(&line.manage_number, &line.variant_id)
                .is_some()
            {
                *wanted
                    .entry((line.manage_number.clone(), line.variant_id.clone()))
                    .or_default() += line.units;
            }
        }
        for (pair, units) in &wanted {
            let back_order = self.managed(&pair.0, &pair.1).is_some_and(|v| v.back_order);
            let available = self.held.get(pair).map_or(0, |h| h.quantity);
            if !back_order && available < i64::from(*units) {
                self.stats.sold_out += 1;
                return Err(SoldOut {
                    manage_number: pair.0.clone(),
                    variant_id: pair.1.clone(),
                    available,
                    wanted: *units,
                });
            }
        }
        for (pair, units) in wanted {
            let left = self.held.get(&pair).map_or(0, |h| h.quantity) - i64::from(units);
            self.store(pair, left.max(0), now);
        }
        Ok(())
    }

    /// A cancelled order gives back what it took where the variant says so.
    pub(crate) fn give_back(&mut self, lines: &[Take], now: DateTime<FixedOffset>) {
        for line in lines {
            let restock = self
                .managed(&line.manage_number, &line.variant_id)
                .is_some_and(|v| v.restock_on_cancel);
            let pair = (line.manage_number.clone(), line.variant_id.clone());
            if restock && let Some(held) = self.held.get(&pair) {
                let back = (held.quantity + i64::from(line.units)).min(MAX_QUANTITY);
                self.store(pair, back, now);
            }
        }
    }

    // ---- the shop's calls ----

    /// Whether a call arriving `at` is within the per-second limit; counts it if so.
    pub(crate) fn admit(&mut self, upsert: bool, at: Instant) -> bool {
        let (window, limit) = if upsert {
            (&mut self.upserts, UPSERTS_PER_SECOND)
        } else {
            (&mut self.gets, GETS_PER_SECOND)
        };
        while window
            .front()
            .is_some_and(|t| at.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= limit {
            self.stats.rate_limited += 1;
            return false;
        }
        window.push_back(at);
        true
    }

    /// `POST /inventories/bulk-get`: the pairs Rakuten holds; others are absent.
    pub(crate) fn bulk_get(&mut self, body: &Value) -> Answer {
        let entries = match self.entries(body, MAX_GET) {
            Ok(entries) => entries,
            Err(answer) => return answer,
        };
        let mut found = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let pair = match pair_of(entry, i) {
                Ok(pair) => pair,
                Err(e) => return self.invalid(e),
            };
            if let Some((pair, held)) = self.held.get_key_value(&pair) {
                found.push(HeldEntry {
                    manage_number: &pair.0,
                    variant_id: &pair.1,
                    quantity: held.quantity,
                    created: held.created,
                    updated: held.updated,
                });
            }
        }
        json_answer(200, &HeldAnswer { inventories: found })
    }

    /// `GET /items/search?hits=&cursorMark=`: items by manage number, paged
    /// with a cursor; the end is a `nextCursorMark` equal to the one sent.
    pub(crate) fn search(
        &mut self,
        query: &HashMap<String, String>,
        now: DateTime<FixedOffset>,
    ) -> Answer {
        let hits = match query.get("hits").map(|h| h.parse::<usize>()) {
            None => 10,
            Some(Ok(h)) if (1..=100).contains(&h) => h,
            Some(_) => return self.invalid(("IE0105", "hits must be 1 to 100", "hits".into())),
        };
        let cursor = query.get("cursorMark").map_or("*", String::as_str);
        let after = match cursor {
            "*" => None,
            c => match decode_cursor(c) {
                Some(after) => Some(after),
                None => return self.invalid(("IE0105", "unknown cursorMark", "cursorMark".into())),
            },
        };
        let visible: Vec<&Listed> = self
            .items
            .values()
            .filter(|l| l.searchable_from <= now)
            .filter(|l| l.deleted_at.is_none_or(|d| now < d + self.search_lag))
            .collect();
        let offset = visible
            .iter()
            .take_while(|l| {
                after
                    .as_deref()
                    .is_some_and(|a| l.item.manage_number.as_str() <= a)
            })
            .count();
        let page: Vec<&Listed> = visible.iter().skip(offset).take(hits).copied().collect();
        let next = page.last().map_or_else(
            || cursor.to_string(),
            |l| encode_cursor(&l.item.manage_number),
        );
        let results = page
            .iter()
            .map(|l| SearchResult {
                item: (!l.without_item).then(|| search_item(l)),
            })
            .collect();
        let answer = SearchAnswer {
            num_found: visible.len(),
            offset,
            next_cursor_mark: next,
            results,
        };
        json_answer(200, &answer)
    }

    // ---- inside ----

    fn live(&self, manage_number: &str) -> Option<&Listed> {
        self.items
            .get(manage_number)
            .filter(|l| l.deleted_at.is_none() && !l.without_item)
    }

    /// The variant when its item is live and keeps stock.
    fn managed(&self, manage_number: &str, variant_id: &str) -> Option<&CatalogVariant> {
        let listed = self.live(manage_number)?;
        if listed.item.unlimited_inventory {
            return None;
        }
        listed.item.variants.get(variant_id)
    }

    fn managed_or_listed(&self, pair: &Pair) -> bool {
        self.live(&pair.0)
            .is_some_and(|l| l.item.variants.contains_key(&pair.1))
    }

    fn store(&mut self, pair: Pair, quantity: i64, now: DateTime<FixedOffset>) {
        let held = self.held.entry(pair).or_insert(Held {
            quantity,
            created: now,
            updated: now,
        });
        held.quantity = quantity;
        held.updated = now;
    }

    fn forget_orphans(&mut self, now: DateTime<FixedOffset>) {
        let ttl = TimeDelta::hours(ORPHAN_TTL_HOURS);
        self.orphans.retain(|_, updated| now < *updated + ttl);
    }

    /// The `inventories` array with 1 to `max` entries.
    fn entries<'a>(&mut self, body: &'a Value, max: usize) -> Result<&'a Vec<Value>, Answer> {
        match body.get("inventories").and_then(Value::as_array) {
            Some(list) if (1..=max).contains(&list.len()) => Ok(list),
            Some(_) => Err(self.invalid((
                "IE0105",
                "inventories must hold 1 to the limit of entries",
                "inventories".into(),
            ))),
            None => Err(self.invalid(("IE0105", "inventories is required", "inventories".into()))),
        }
    }

    fn invalid(&mut self, (code, message, path): upsert::Invalid) -> Answer {
        self.stats.invalid += 1;
        let body = ErrorBody {
            errors: [ErrorEntry {
                code,
                message,
                metadata: ErrorMetadata {
                    property_path: &path,
                },
            }],
        };
        json_answer(400, &body)
    }
}

/// An answer whose body is `body` as JSON.
fn json_answer(status: u16, body: &impl Serialize) -> Answer {
    Answer {
        status,
        body: serde_json::to_value(body).unwrap_or(Value::Null),
    }
}

#[cfg(test)]
mod tests;
