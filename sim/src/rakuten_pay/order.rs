//! What a test places at the simulated Rakuten: an order, its destinations and
//! lines, and the edits a customer-service agent makes in RMS.

use chrono::{DateTime, FixedOffset};

use super::wire::{OrderProgress, PersonModel};

/// An order as the customer placed it. Build with [`NewOrder::new`] and the
/// chained setters; ids (basket, line) are handed out by the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Opaque at Rakuten, e.g. `123456-20261122-00000101`; see
    /// [`RakutenSimHandle::next_order_number`](super::RakutenSimHandle::next_order_number).
    pub order_number: String,
    /// Where it starts (default 100); the machine continues from there.
    pub progress: OrderProgress,
    /// Default: the simulator's clock at placement.
    pub ordered_at: Option<DateTime<FixedOffset>>,
    /// 1 Rakuten-handled (共通決済), 0 shop-selected (選択制決済).
    pub rpay_settlement_flag: u8,
    /// Rakuten's payment-method code (1 card, 2 cash on delivery, 21 deferred…).
    pub settlement_method_code: i64,
    /// The payment method's name.
    pub settlement_method: String,
    /// `None`: postage not determined yet, shown as `-9999`, and confirmOrder
    /// answers `_ERROR_105` until [`set_postage`](super::RakutenSimHandle::set_postage).
    pub postage: Option<i64>,
    /// Cash-on-delivery fee (`deliveryPrice`).
    pub delivery_fee: i64,
    /// Who ordered (`OrdererModel`); also the recipient of packages that name
    /// none (without the email address).
    pub customer: PersonModel,
    /// One per destination; an order without any gets one empty package.
    pub packages: Vec<NewPackage>,
}

/// One destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPackage {
    /// Default: the customer.
    pub recipient: Option<PersonModel>,
    /// The lines going there.
    pub items: Vec<NewItem>,
}

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Item name (default `商品 <manageNumber>`).
    pub name: String,
    /// 商品番号; `None` renders as `""`, as Rakuten does for items without one.
    pub item_number: Option<String>,
    /// 商品管理番号.
    pub manage_number: Option<String>,
    /// Rendered in `SkuModelList[0]` (getOrder version 7 and later).
    pub merchant_defined_sku_id: Option<String>,
    /// SKU管理番号 of the variant bought; `None` finds it from the item's
    /// variants (by merchant SKU, or the only one).
    pub variant_id: Option<String>,
    /// Unit price in yen.
    pub price: i64,
    /// Quantity.
    pub units: u32,
}

impl NewOrder {
    /// A card-paid (Rakuten-handled) order in 100 with postage 0 and no lines yet.
    pub fn new(order_number: impl Into<String>) -> Self {
        NewOrder {
            order_number: order_number.into(),
            progress: OrderProgress::AwaitingConfirmation,
            ordered_at: None,
            rpay_settlement_flag: 1,
            settlement_method_code: 1,
            settlement_method: "クレジットカード".to_string(),
            postage: Some(0),
            delivery_fee: 0,
            customer: default_customer(),
            packages: Vec::new(),
        }
    }

    /// Any settlement: flag (1 Rakuten-handled, 0 shop-selected), code and name.
    pub fn settlement(mut self, flag: u8, code: i64, name: &str) -> Self {
        self.rpay_settlement_flag = flag;
        self.settlement_method_code = code;
        self.settlement_method = name.to_string();
        self
    }

    /// Cash on delivery: shop-selected (flag 0), code 2, a 330 yen fee.
    pub fn cash_on_delivery(mut self) -> Self {
        self.delivery_fee = 330;
        self.settlement(0, 2, "代金引換")
    }

    /// Rakuten's own deferred payment: Rakuten-handled (flag 1), code 21.
    pub fn rakuten_deferred(self) -> Self {
        self.settlement(1, 21, "後払い決済")
    }

    /// Places the order directly in this status (its dates are stamped).
    pub fn progress(mut self, progress: OrderProgress) -> Self {
        self.progress = progress;
        self
    }

    /// The order date (searchOrder's window and sort key).
    pub fn ordered_at(mut self, at: DateTime<FixedOffset>) -> Self {
        self.ordered_at = Some(at);
        self
    }

    /// `None` leaves the postage undetermined (`-9999`).
    pub fn postage(mut self, postage: Option<i64>) -> Self {
        self.postage = postage;
        self
    }

    /// Another customer than [`default_customer`].
    pub fn customer(mut self, customer: PersonModel) -> Self {
        self.customer = customer;
        self
    }

    /// Adds a line to the first destination (creating it).
    pub fn item(mut self, item: NewItem) -> Self {
        match self.packages.first_mut() {
            Some(first) => first.items.push(item),
            None => self.packages.push(NewPackage {
                recipient: None,
                items: vec![item],
            }),
        }
        self
    }

    /// Adds a destination (to the customer) with these lines.
    pub fn package(mut self, items: Vec<NewItem>) -> Self {
        self.packages.push(NewPackage {
            recipient: None,
            items,
        });
        self
    }
}

impl NewItem {
    /// A line; an empty `item_number` or `manage_number` means "not set".
    pub fn new(item_number: &str, manage_number: &str, price: i64, units: u32) -> Self {
        let set = |s: &str| (!s.is_empty()).then(|| s.to_string());
        NewItem {
            name: format!("商品 {manage_number}"),
            item_number: set(item_number),
            manage_number: set(manage_number),
            merchant_defined_sku_id: None,
            variant_id: None,
            price,
            units,
        }
    }

    /// The merchant's SKU (`merchantDefinedSkuId`).
    pub fn sku(mut self, sku: &str) -> Self {
        self.merchant_defined_sku_id = Some(sku.to_string());
        self
    }

    /// The variant bought (`variantId`).
    pub fn variant(mut self, variant_id: &str) -> Self {
        self.variant_id = Some(variant_id.to_string());
        self
    }

    /// The item's name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }
}

/// A change made in RMS. An order in 300 goes to 400 and back to 300 once the
/// change is confirmed (after `edit_delay`); a deletion may also be made while
/// the order waits at 100, where it stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEdit {
    /// A line's quantity changes.
    SetUnits {
        /// The line.
        item_detail_id: i64,
        /// Its new quantity.
        units: u32,
    },
    /// A line is deleted: it stays listed with `deleteItemFlag = 1`.
    RemoveItem {
        /// The line.
        item_detail_id: i64,
    },
    /// A destination is deleted: it stays listed with `packageDeleteFlag = 1`.
    RemovePackage {
        /// The destination.
        basket_id: i64,
    },
    /// A line is added to a destination (`None`: the first).
    AddItem {
        /// The destination; `None` is the first.
        basket_id: Option<i64>,
        /// The new line.
        item: NewItem,
    },
}

/// The customer of orders that do not say otherwise, as `OrdererModel`
/// carries a customer (the contract's example postal code, `480` `0305`).
pub fn default_customer() -> PersonModel {
    PersonModel {
        family_name: "山田".to_string(),
        first_name: "太郎".to_string(),
        family_name_kana: "ヤマダ".to_string(),
        first_name_kana: "タロウ".to_string(),
        zip_code1: "480".to_string(),
        zip_code2: "0305".to_string(),
        prefecture: "愛知県".to_string(),
        city: "春日井市".to_string(),
        sub_address: "坂下町1-2-3".to_string(),
        phone_number1: "052".to_string(),
        phone_number2: "123".to_string(),
        phone_number3: "4567".to_string(),
        email_address: Some("0a1b2c3d4e5f@pc.fw.rakuten.ne.jp".to_string()),
    }
}
