//! The simulated Rakuten back office: orders and their status machine, license
//! keys, faults and counters, with the contract's rules for every endpoint.
//! No I/O and no clock of its own: every operation takes `now`, so the rules
//! can be tested without HTTP and time moves only when the caller says so.
//!
//! Status machine (`rakuten-pay.md`, orderProgress; a transition "after d"
//! happens lazily, the first time the state is looked at with `now >= due`,
//! and is stamped with its due time): 100 →confirmOrder→ 200 →after
//! `processing`→ 300 →shipping rows complete→ 500 →after `payment`→ 600
//! →after `payment`→ 700 (only when `payment` is set); cancel from
//! 100/200/300 → 800 →after `cancel`→ 900; an edit of a 300 → 400 →after
//! `edit`→ 300; an order left at 100 for 14 days → 800 (Corrections).
//!
//! The endpoints' rules are in `search` (searchOrder), `calls` (getOrder,
//! confirmOrder, updateOrderShipping) and `license` (the ESA check and the
//! licence-expiry call); `traffic` counts calls and injects faults. Message codes the contract does not name are the
//! simulator's guesses, marked so in [`super::wire::codes`]; getOrder leaves
//! unknown order numbers out without a message (a guess too).

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, FixedOffset, SubsecRound, TimeDelta};
use serde_json::Value;
use tokio::time::Instant;

use super::inventory::{Inventory, SoldOut, Take};
use super::order::{NewItem, NewOrder, NewPackage, OrderEdit};
use super::wire::{
    ItemModel, OrderModel, OrderProgress, PackageModel, PersonModel, SettlementModel, SkuModel,
};
use license::LicenseKey;

mod calls;
mod license;
mod problems;
mod search;
mod shipping;
mod traffic;

pub use traffic::{Endpoint, Fault, SimStats};

#[cfg(test)]
use license::Refusal;

/// Longest searchOrder window (`rakuten-pay.md`, searchOrder: ≤ 63 days).
pub const MAX_WINDOW_DAYS: i64 = 63;
/// How far back a search may start (≤ 730 days ago).
pub const MAX_LOOKBACK_DAYS: i64 = 730;
/// Largest `requestRecordsAmount` (≤ 1000 per page).
pub const MAX_PAGE_SIZE: u64 = 1000;
/// Hits above which a search is refused (at most 15,000 per search).
pub const MAX_SEARCH_HITS: usize = 15_000;
/// Order numbers per getOrder / confirmOrder (≤ 100).
pub const MAX_ORDER_NUMBERS: usize = 100;
/// Shipping rows per basket (≤ 20).
pub const MAX_SHIPPING_ROWS: usize = 20;
/// Lowest getOrder `version` served (`rakuten-pay.md`, Corrections: the
/// simulator "refuses versions below 7").
pub const MIN_VERSION: u64 = 7;
/// Highest getOrder `version` (the spec lists 3 to 10).
pub const MAX_VERSION: u64 = 10;
/// Rakuten cancels an order left unconfirmed (100) this long after it was
/// placed (`rakuten-pay.md`, Corrections).
pub const UNCONFIRMED_CANCEL_DAYS: i64 = 14;

/// Delays of the status machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    pub processing: TimeDelta,
    pub cancel: TimeDelta,
    pub edit: TimeDelta,
    pub payment: Option<TimeDelta>,
}

/// One order and what the simulator needs beyond what getOrder shows.
#[derive(Debug, Clone)]
pub(crate) struct SimOrder {
    pub order: OrderModel,
    /// The due transition, if any.
    next: Option<(OrderProgress, DateTime<FixedOffset>)>,
    /// Render the order in a shape no client can read.
    corrupt: bool,
    /// Last updateOrderShipping that changed it (dateType 5).
    shipping_reported_at: Option<DateTime<FixedOffset>>,
    /// Reached 700 (dateType 6).
    settled_at: Option<DateTime<FixedOffset>>,
    /// The stock the order took at Rakuten, given back on a cancel.
    took: Vec<Take>,
}

/// An answer before it becomes HTTP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
}

/// Everything the simulator knows; one lock guards it.
#[derive(Debug)]
pub struct SimState {
    orders: BTreeMap<String, SimOrder>,
    timing: Timing,
    service_secret: String,
    licenses: Vec<LicenseKey>,
    /// `(endpoint, fault, remaining)` in injection order.
    faults: Vec<(Endpoint, Fault, u32)>,
    /// Every request answers 503 until switched off.
    pub maintenance: bool,
    next_basket_id: i64,
    next_item_detail_id: i64,
    next_shipping_detail_id: i64,
    next_sequence: u64,
    /// Request times within the last second, for the rate statistic.
    recent: VecDeque<Instant>,
    /// Counters and recordings.
    pub stats: SimStats,
    /// Items, stock and the inventory endpoints.
    pub(crate) inventory: Inventory,
}

impl SimState {
    pub(crate) fn new(
        timing: Timing,
        service_secret: String,
        license_key: String,
        license_expires_at: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
        search_lag: TimeDelta,
    ) -> Self {
        SimState {
            orders: BTreeMap::new(),
            timing,
            service_secret,
            licenses: vec![LicenseKey::issued(
                license_key,
                now - TimeDelta::days(1),
                license_expires_at,
            )],
            faults: Vec::new(),
            maintenance: false,
            next_basket_id: 10_746_401,
            next_item_detail_id: 100_001,
            next_shipping_detail_id: 15_401,
            next_sequence: 1,
            recent: VecDeque::new(),
            stats: SimStats::default(),
            inventory: Inventory::new(search_lag),
        }
    }

    pub(crate) fn order(&self, number: &str) -> Option<&OrderModel> {
        self.orders.get(number).map(|o| &o.order)
    }

    pub(crate) fn orders(&self) -> impl Iterator<Item = &OrderModel> {
        self.orders.values().map(|o| &o.order)
    }

    /// Applies every transition due by `now`.
    pub(crate) fn settle(&mut self, now: DateTime<FixedOffset>) {
        let timing = self.timing;
        for o in self.orders.values_mut() {
            while let Some((to, due)) = o.next {
                if due > now {
                    break;
                }
                enter(o, to, due, &timing);
            }
        }
    }

    // ---- Rakuten-side events (test hooks) ----

    /// A fresh order number of the shape `123456-YYYYMMDD-000000NN`.
    pub(crate) fn next_order_number(&mut self, now: DateTime<FixedOffset>) -> String {
        let seq = self.next_sequence;
        self.next_sequence += 1;
        format!("123456-{}-{seq:08}", now.format("%Y%m%d"))
    }

    /// An order appears (or replaces one of the same number); a test hook for
    /// lines without stock management at Rakuten.
    ///
    /// # Panics
    /// When Rakuten would refuse it for want of stock: use [`Self::try_place`].
    pub(crate) fn place(&mut self, new: NewOrder, now: DateTime<FixedOffset>) -> String {
        match self.try_place(new, now) {
            Ok(number) => number,
            Err(e) => panic!("the simulated Rakuten refuses this order ({e}): use try_place_order"),
        }
    }

    /// A buyer orders: lines of items with stock management take their units,
    /// and the order is refused past zero unless the variant takes back orders.
    pub(crate) fn try_place(
        &mut self,
        new: NewOrder,
        now: DateTime<FixedOffset>,
    ) -> Result<String, SoldOut> {
        let took = self.takes(&new);
        self.inventory.take(&took, now)?;
        // Rakuten's timestamps are whole seconds.
        let ordered_at = new.ordered_at.unwrap_or(now).trunc_subsecs(0);
        let new_packages = if new.packages.is_empty() {
            vec![NewPackage {
                recipient: None,
                items: Vec::new(),
            }]
        } else {
            new.packages
        };
        let mut packages = Vec::with_capacity(new_packages.len());
        for p in new_packages {
            let basket_id = self.next_basket_id;
            self.next_basket_id += 1;
            let items = p.items.iter().map(|i| self.new_item(i)).collect();
            packages.push(PackageModel {
                basket_id,
                // A recipient (SenderModel) has no email address.
                sender: p.recipient.unwrap_or_else(|| PersonModel {
                    email_address: None,
                    ..new.customer.clone()
                }),
                items,
                shipping: Vec::new(),
                package_delete_flag: false,
            });
        }
        let mut o = SimOrder {
            order: OrderModel {
                order_number: new.order_number.clone(),
                order_progress: OrderProgress::AwaitingConfirmation,
                order_datetime: ordered_at,
                shop_order_cfm_datetime: None,
                order_fix_datetime: None,
                goods_price: None,
                postage_price: new.postage,
                delivery_price: Some(new.delivery_fee),
                total_price: None,
                request_price: None,
                orderer: new.customer,
                settlement: SettlementModel {
                    settlement_method_code: new.settlement_method_code,
                    settlement_method: new.settlement_method,
                    rpay_settlement_flag: new.rpay_settlement_flag,
                },
                packages,
            },
            next: None,
            corrupt: false,
            shipping_reported_at: None,
            settled_at: None,
            took,
        };
        recompute_totals(&mut o.order);
        enter(&mut o, new.progress, now, &self.timing);
        self.orders.insert(new.order_number.clone(), o);
        Ok(new.order_number)
    }

    /// The stock each line of `new` takes at Rakuten (lines of items Rakuten
    /// keeps no stock for take none).
    fn takes(&self, new: &NewOrder) -> Vec<Take> {
        new.packages
            .iter()
            .flat_map(|p| &p.items)
            .filter_map(|i| {
                let manage = i.manage_number.as_deref()?;
                let variant = self.inventory.resolve(
                    manage,
                    i.variant_id.as_deref(),
                    i.merchant_defined_sku_id.as_deref(),
                )?;
                Some(Take {
                    manage_number: manage.to_ascii_lowercase(),
                    variant_id: variant,
                    units: i.units,
                })
            })
            .collect()
    }

    /// A line as getOrder shows it, with a fresh `itemDetailId` and the
    /// variant bought resolved against the shop's items.
    fn new_item(&mut self, i: &NewItem) -> ItemModel {
        let id = self.next_item_detail_id;
        self.next_item_detail_id += 1;
        let variant_id = i
            .manage_number
            .as_deref()
            .and_then(|m| {
                self.inventory.resolve(
                    m,
                    i.variant_id.as_deref(),
                    i.merchant_defined_sku_id.as_deref(),
                )
            })
            .or_else(|| i.variant_id.clone())
            .or_else(|| {
                i.merchant_defined_sku_id
                    .as_ref()
                    .map(|_| format!("sku-{id}"))
            });
        let skus = if variant_id.is_some() || i.merchant_defined_sku_id.is_some() {
            vec![SkuModel {
                variant_id,
                merchant_defined_sku_id: i.merchant_defined_sku_id.clone(),
            }]
        } else {
            Vec::new()
        };
        ItemModel {
            item_detail_id: id,
            item_name: i.name.clone(),
            item_number: i.item_number.clone(),
            manage_number: i.manage_number.clone(),
            price: i.price,
            units: i.units,
            skus,
            delete_item_flag: false,
        }
    }

    /// Forces a status (and schedules its natural continuation).
    pub(crate) fn set_progress(
        &mut self,
        number: &str,
        progress: OrderProgress,
        now: DateTime<FixedOffset>,
    ) -> bool {
        let timing = self.timing;
        match self.orders.get_mut(number) {
            Some(o) => {
                enter(o, progress, now, &timing);
                true
            }
            None => false,
        }
    }

    /// The customer or Rakuten cancels: 100/200/300 → 800 (→ 900 later).
    pub(crate) fn cancel(&mut self, number: &str, now: DateTime<FixedOffset>) -> bool {
        let timing = self.timing;
        let Some(o) = self.orders.get_mut(number) else {
            return false;
        };
        match o.order.order_progress {
            OrderProgress::AwaitingConfirmation
            | OrderProgress::RakutenProcessing
            | OrderProgress::AwaitingShipment => {
                enter(o, OrderProgress::AwaitingCancellation, now, &timing);
                let took = std::mem::take(&mut o.took);
                self.inventory.give_back(&took, now);
                true
            }
            OrderProgress::AwaitingChangeConfirmation
            | OrderProgress::Shipped
            | OrderProgress::PaymentInProgress
            | OrderProgress::PaymentDone
            | OrderProgress::AwaitingCancellation
            | OrderProgress::Cancelled => false,
        }
    }

    /// An RMS edit of a 300 order: 300 → 400 (→ 300 later). A deletion may
    /// also be made at 100, where the order stays.
    pub(crate) fn edit(
        &mut self,
        number: &str,
        edit: OrderEdit,
        now: DateTime<FixedOffset>,
    ) -> bool {
        let timing = self.timing;
        let new_item = match &edit {
            OrderEdit::AddItem { item, .. } => Some(self.new_item(item)),
            OrderEdit::SetUnits { .. }
            | OrderEdit::RemoveItem { .. }
            | OrderEdit::RemovePackage { .. } => None,
        };
        let Some(o) = self.orders.get_mut(number) else {
            return false;
        };
        let deletion = matches!(
            edit,
            OrderEdit::RemoveItem { .. } | OrderEdit::RemovePackage { .. }
        );
        let at_100 = o.order.order_progress == OrderProgress::AwaitingConfirmation;
        if o.order.order_progress != OrderProgress::AwaitingShipment && !(deletion && at_100) {
            return false;
        }
        let applied = apply_edit(&mut o.order, edit, new_item);
        if applied {
            recompute_totals(&mut o.order);
            if !at_100 {
                enter(o, OrderProgress::AwaitingChangeConfirmation, now, &timing);
            }
        }
        applied
    }

    /// The shop sets the postage in RMS (it was `-9999`).
    pub(crate) fn set_postage(&mut self, number: &str, postage: i64) -> bool {
        match self.orders.get_mut(number) {
            Some(o) => {
                o.order.postage_price = Some(postage);
                recompute_totals(&mut o.order);
                true
            }
            None => false,
        }
    }

    /// From now on getOrder renders this order in a shape no client can read.
    pub(crate) fn corrupt(&mut self, number: &str) -> bool {
        match self.orders.get_mut(number) {
            Some(o) => {
                o.corrupt = true;
                true
            }
            None => false,
        }
    }
}

/// Applies an RMS edit to the order; `false` when nothing matched (or the
/// line or destination was deleted already).
fn apply_edit(order: &mut OrderModel, edit: OrderEdit, new_item: Option<ItemModel>) -> bool {
    match edit {
        OrderEdit::SetUnits {
            item_detail_id,
            units,
        } => order
            .packages
            .iter_mut()
            .flat_map(|p| p.items.iter_mut())
            .find(|i| i.item_detail_id == item_detail_id)
            .map(|i| i.units = units)
            .is_some(),
        OrderEdit::RemoveItem { item_detail_id } => order
            .packages
            .iter_mut()
            .flat_map(|p| p.items.iter_mut())
            .find(|i| i.item_detail_id == item_detail_id)
            .is_some_and(|i| !std::mem::replace(&mut i.delete_item_flag, true)),
        OrderEdit::RemovePackage { basket_id } => order
            .packages
            .iter_mut()
            .find(|p| p.basket_id == basket_id)
            .is_some_and(|p| !std::mem::replace(&mut p.package_delete_flag, true)),
        OrderEdit::AddItem { basket_id, .. } => {
            let package = match basket_id {
                Some(id) => order.packages.iter_mut().find(|p| p.basket_id == id),
                None => order.packages.first_mut(),
            };
            match (package, new_item) {
                (Some(p), Some(item)) => {
                    p.items.push(item);
                    true
                }
                _ => false,
            }
        }
    }
}

/// Moves an order into `progress` at `at`, stamping dates and scheduling the
/// natural next step.
fn enter(o: &mut SimOrder, progress: OrderProgress, at: DateTime<FixedOffset>, timing: &Timing) {
    o.order.order_progress = progress;
    o.next = None;
    let order = &mut o.order;
    match progress {
        OrderProgress::AwaitingConfirmation => {
            // Left unconfirmed, Rakuten cancels it.
            o.next = Some((
                OrderProgress::AwaitingCancellation,
                order.order_datetime + TimeDelta::days(UNCONFIRMED_CANCEL_DAYS),
            ));
        }
        OrderProgress::Cancelled => {}
        OrderProgress::RakutenProcessing => {
            order.shop_order_cfm_datetime.get_or_insert(at);
            o.next = Some((OrderProgress::AwaitingShipment, at + timing.processing));
        }
        OrderProgress::AwaitingShipment => {
            order.shop_order_cfm_datetime.get_or_insert(at);
            order.order_fix_datetime.get_or_insert(at);
        }
        OrderProgress::AwaitingChangeConfirmation => {
            o.next = Some((OrderProgress::AwaitingShipment, at + timing.edit));
        }
        OrderProgress::Shipped => {
            order.shop_order_cfm_datetime.get_or_insert(at);
            order.order_fix_datetime.get_or_insert(at);
            o.next = timing
                .payment
                .map(|d| (OrderProgress::PaymentInProgress, at + d));
        }
        OrderProgress::PaymentInProgress => {
            o.next = timing.payment.map(|d| (OrderProgress::PaymentDone, at + d));
        }
        OrderProgress::PaymentDone => {
            o.settled_at.get_or_insert(at);
        }
        OrderProgress::AwaitingCancellation => {
            o.next = Some((OrderProgress::Cancelled, at + timing.cancel));
        }
    }
}

/// Goods from the lines not deleted; total and request price only once
/// postage is known.
fn recompute_totals(order: &mut OrderModel) {
    let goods: i64 = order
        .packages
        .iter()
        .filter(|p| !p.package_delete_flag)
        .flat_map(|p| &p.items)
        .filter(|i| !i.delete_item_flag)
        .map(|i| i.price.saturating_mul(i64::from(i.units)))
        .sum();
    let delivery = order.delivery_price.unwrap_or(0);
    order.goods_price = Some(goods);
    order.total_price = order.postage_price.map(|p| goods + p + delivery);
    order.request_price = order.total_price;
}

#[cfg(test)]
mod tests;
