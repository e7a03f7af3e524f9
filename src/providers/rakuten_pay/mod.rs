//! Rakuten Pay order API (楽天ペイ受注API) adapter.
//!
//! - [`wire`]: the JSON exactly as Rakuten sends and expects it (capitalised
//!   model keys, `+0900` datetimes, `null` lists, `-9999` amounts) and the
//!   conversion of an order into [`RakutenOrder`].
//! - [`client`]: the ESA-authenticated client for `searchOrder`, `getOrder`,
//!   `confirmOrder`, `updateOrderShipping` and the license-key expiry.
//!
//! The rest of the crate sees only the neutral types below: no wire names, no
//! Japanese labels, no `-9999`.

pub mod apply;
pub mod calls;
pub mod client;
pub mod config;
pub mod inventory;
pub mod licence;
pub mod poller;
pub mod recent;
pub mod refusals;
pub mod rules;
pub mod skus;
pub mod stock_push;
pub mod wire;
pub mod wiring;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::domain::Carrier;
use crate::providers::rakuten_pay::config::SkuSource;

/// Where an order stands at Rakuten (`orderProgress`). Unknown codes are kept
/// as [`Progress::Unknown`] so that a new upstream status reaches a person
/// instead of being mistaken for a known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Progress {
    /// 100: the shop has not confirmed the order yet (`confirmOrder` moves it on).
    AwaitingConfirmation,
    /// 200: Rakuten is processing (payment authorisation, prepayment); up to 14 days.
    RakutenProcessing,
    /// 300: ready to ship; for Rakuten-handled settlement the order is paid.
    AwaitingShipment,
    /// 400: the order was changed and the change awaits confirmation.
    AwaitingChangeConfirmation,
    /// 500: every destination has its shipping rows.
    Shipped,
    /// 600: Rakuten is settling the payment.
    PaymentInProgress,
    /// 700: settlement done.
    PaymentDone,
    /// 800: a cancellation awaits confirmation; stock is about to come back.
    AwaitingCancellation,
    /// 900: cancelled for good.
    Cancelled,
    /// A code this adapter does not know.
    Unknown(u16),
}

impl Progress {
    /// The statuses of the contract, in order.
    pub const KNOWN: [Progress; 9] = [
        Progress::AwaitingConfirmation,
        Progress::RakutenProcessing,
        Progress::AwaitingShipment,
        Progress::AwaitingChangeConfirmation,
        Progress::Shipped,
        Progress::PaymentInProgress,
        Progress::PaymentDone,
        Progress::AwaitingCancellation,
        Progress::Cancelled,
    ];

    /// The wire code (`orderProgress`, `orderProgressList`).
    pub fn code(self) -> u16 {
        match self {
            Progress::AwaitingConfirmation => 100,
            Progress::RakutenProcessing => 200,
            Progress::AwaitingShipment => 300,
            Progress::AwaitingChangeConfirmation => 400,
            Progress::Shipped => 500,
            Progress::PaymentInProgress => 600,
            Progress::PaymentDone => 700,
            Progress::AwaitingCancellation => 800,
            Progress::Cancelled => 900,
            Progress::Unknown(code) => code,
        }
    }

    /// The status for a wire code; anything outside the contract is `Unknown`.
    pub fn from_code(code: u16) -> Progress {
        Progress::KNOWN
            .into_iter()
            .find(|p| p.code() == code)
            .unwrap_or(Progress::Unknown(code))
    }

    /// A stable ASCII name for storing the last status seen and for logs.
    pub fn name(self) -> &'static str {
        match self {
            Progress::AwaitingConfirmation => "awaiting_confirmation",
            Progress::RakutenProcessing => "rakuten_processing",
            Progress::AwaitingShipment => "awaiting_shipment",
            Progress::AwaitingChangeConfirmation => "awaiting_change_confirmation",
            Progress::Shipped => "shipped",
            Progress::PaymentInProgress => "payment_in_progress",
            Progress::PaymentDone => "payment_done",
            Progress::AwaitingCancellation => "awaiting_cancellation",
            Progress::Cancelled => "cancelled",
            Progress::Unknown(_) => "unknown",
        }
    }

    /// 800 or 900: the order will not ship and its stock should be released.
    pub fn is_cancelling(self) -> bool {
        match self {
            Progress::AwaitingCancellation | Progress::Cancelled => true,
            Progress::AwaitingConfirmation
            | Progress::RakutenProcessing
            | Progress::AwaitingShipment
            | Progress::AwaitingChangeConfirmation
            | Progress::Shipped
            | Progress::PaymentInProgress
            | Progress::PaymentDone
            | Progress::Unknown(_) => false,
        }
    }
}

/// One Rakuten order as the core sees it: validated, amounts resolved, SKU
/// candidates kept so that [`sku_for`] can apply the merchant's preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RakutenOrder {
    /// Opaque order number (`123456-20261122-00068801`): the channel's order id.
    pub order_number: String,
    /// Where the order stands; drives import, payment and cancellation.
    pub progress: Progress,
    /// When the customer ordered (JST); the search window and sort key.
    pub ordered_at: DateTime<FixedOffset>,
    /// When the shop confirmed it (100 → 200); `None` before.
    pub confirmed_at: Option<DateTime<FixedOffset>>,
    /// When Rakuten fixed it (注文確定, reaching 300); `None` before.
    pub fixed_at: Option<DateTime<FixedOffset>>,
    /// `rpaySettlementFlag == 1`: Rakuten handles the payment (card, bank
    /// transfer, prepay, Rakuten's deferred payment), so 300 means paid.
    /// `false`: the shop collects (cash on delivery, its own deferred payment);
    /// import only at 300 and never mark paid on Rakuten's word.
    pub rakuten_settlement: bool,
    /// Rakuten's code of the payment method (e.g. 1 card, 2 cash on delivery,
    /// 21 Rakuten deferred payment); `None` when absent. Informative only: the
    /// decision is made on [`RakutenOrder::rakuten_settlement`].
    pub settlement_method_code: Option<i64>,
    /// The payment method's name as Rakuten shows it to the shop.
    pub settlement_method: String,
    /// Who ordered (the email is Rakuten's masked relay address).
    pub customer: Person,
    /// Amounts, for the ERP's invoice and for cash-on-delivery collection.
    pub totals: Totals,
    /// One package per destination; at least one.
    pub packages: Vec<Package>,
}

impl RakutenOrder {
    /// Every line of every package, with its package's basket id.
    pub fn items(&self) -> impl Iterator<Item = (i64, &Item)> {
        self.packages
            .iter()
            .flat_map(|p| p.items.iter().map(move |i| (p.basket_id, i)))
    }

    /// Whether every package has at least one complete shipping row, which is
    /// what moves the order to 500 at Rakuten.
    pub fn fully_shipped(&self) -> bool {
        self.packages
            .iter()
            .all(|p| p.shipping.iter().any(ShippingRow::is_complete))
    }
}

/// A customer or a recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// 姓.
    pub family_name: String,
    /// 名.
    pub first_name: String,
    /// Reading of the family name (katakana), for labels and sorting.
    pub family_name_kana: String,
    /// Reading of the first name.
    pub first_name_kana: String,
    /// Seven digits without a hyphen (`4800305`), as the ERP stores it.
    pub postal_code: String,
    /// 都道府県.
    pub prefecture: String,
    /// 市区町村.
    pub city: String,
    /// The rest of the address (street, building).
    pub sub_address: String,
    /// The three wire parts joined with `-` (`052-123-4567`); empty when none.
    pub phone: String,
    /// Only for the customer; a masked relay address.
    pub email: Option<String>,
}

impl Person {
    /// Family name, a space, first name (the way a label is printed).
    pub fn full_name(&self) -> String {
        join_nonempty(&[&self.family_name, &self.first_name], " ")
    }

    /// The kana reading in the same order.
    pub fn full_name_kana(&self) -> String {
        join_nonempty(&[&self.family_name_kana, &self.first_name_kana], " ")
    }

    /// Prefecture, city and the rest, concatenated as Japanese addresses are.
    pub fn address(&self) -> String {
        join_nonempty(&[&self.prefecture, &self.city, &self.sub_address], "")
    }
}

/// The order's amounts in yen; `None` where Rakuten says "not determined yet"
/// (`-9999`), e.g. postage the shop still has to set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Sum of the lines (`goodsPrice`).
    pub goods: Option<i64>,
    /// Shipping fee (`postagePrice`).
    pub postage: Option<i64>,
    /// Cash-on-delivery fee (`deliveryPrice`).
    pub delivery: Option<i64>,
    /// Total of the order (`totalPrice`).
    pub total: Option<i64>,
    /// What the customer is billed after points and coupons (`requestPrice`).
    pub request: Option<i64>,
}

/// One destination (`PackageModel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// `basketId`: the key `updateOrderShipping` needs.
    pub basket_id: i64,
    /// Where it goes.
    pub recipient: Person,
    /// The lines shipped to this destination.
    pub items: Vec<Item>,
    /// Shipping rows already registered at Rakuten; compared before resending
    /// a shipment after a crash so that rows are not added twice.
    pub shipping: Vec<ShippingRow>,
    /// `packageDeleteFlag = 1`: the destination was deleted from the order;
    /// its lines are [`Item::deleted`] too.
    pub deleted: bool,
}

/// One order line (`ItemModel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Rakuten's id of the line; stable across edits of the order.
    pub item_detail_id: i64,
    /// Item name as the customer saw it.
    pub name: String,
    /// 商品番号 (shop-visible item number), when set.
    pub item_number: Option<String>,
    /// 商品管理番号 (the item's URL key), when set.
    pub manage_number: Option<String>,
    /// The merchant's own SKU of the variant (`SkuModelList[0]`), when set.
    pub merchant_defined_sku_id: Option<String>,
    /// Rakuten's variant id (`SkuModelList[0].variantId`), when set.
    pub variant_id: Option<String>,
    /// Unit price in yen.
    pub price: i64,
    /// Quantity ordered; what is allocated from stock unless deleted.
    pub units: u32,
    /// `deleteItemFlag = 1`, or its package deleted: the line stays in the
    /// order's list but is no longer part of it (never allocated; released
    /// when it becomes deleted).
    pub deleted: bool,
}

/// One shipping row of a package (`ShippingModel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingRow {
    /// Rakuten's id of the row; given back to update it.
    pub shipping_detail_id: i64,
    /// Carrier code (`1001` …, see [`delivery_company`]); empty when none was sent.
    pub delivery_company: String,
    /// Tracking number.
    pub shipping_number: Option<String>,
    /// The day the parcel left.
    pub shipping_date: Option<NaiveDate>,
}

impl ShippingRow {
    /// Carrier, number and date are all there: what Rakuten needs for 500.
    pub fn is_complete(&self) -> bool {
        !self.delivery_company.is_empty()
            && self
                .shipping_number
                .as_deref()
                .is_some_and(|n| !n.trim().is_empty())
            && self.shipping_date.is_some()
    }
}

/// The merchant's SKU of a line: the first non-empty field in `preference`
/// order (config `sku_preference`, default merchantDefinedSkuId, itemNumber,
/// manageNumber). `None` when none of them is set: the line needs a person.
pub fn sku_for(item: &Item, preference: &[SkuSource]) -> Option<String> {
    preference.iter().find_map(|source| {
        let candidate = match source {
            SkuSource::MerchantDefinedSkuId => item.merchant_defined_sku_id.as_deref(),
            SkuSource::ItemNumber => item.item_number.as_deref(),
            SkuSource::ManageNumber => item.manage_number.as_deref(),
        };
        candidate
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })
}

/// Rakuten's `deliveryCompany` code for a neutral carrier.
pub fn delivery_company(carrier: Carrier) -> &'static str {
    match carrier {
        Carrier::Other => "1000",
        Carrier::Yamato => "1001",
        Carrier::Sagawa => "1002",
        Carrier::JapanPost => "1003",
        Carrier::Seino => "1004",
        Carrier::Fukuyama => "1006",
        Carrier::Meitetsu => "1007",
        Carrier::Tonami => "1008",
        Carrier::Ecohai => "1016",
        Carrier::Nittsu => "1021",
    }
}

fn join_nonempty(parts: &[&str], sep: &str) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sku: Option<&str>, number: Option<&str>, manage: Option<&str>) -> Item {
        Item {
            item_detail_id: 1,
            name: "item".into(),
            item_number: number.map(Into::into),
            manage_number: manage.map(Into::into),
            merchant_defined_sku_id: sku.map(Into::into),
            variant_id: None,
            price: 100,
            units: 1,
            deleted: false,
        }
    }

    #[test]
    fn sku_follows_the_preference_and_skips_blanks() {
        use SkuSource::*;
        let all = [MerchantDefinedSkuId, ItemNumber, ManageNumber];
        let full = item(Some("SKU-1"), Some("NUM-1"), Some("man-1"));
        assert_eq!(sku_for(&full, &all).as_deref(), Some("SKU-1"));
        assert_eq!(
            sku_for(&full, &[ManageNumber, ItemNumber]).as_deref(),
            Some("man-1")
        );
        let blank_sku = item(Some("  "), Some("NUM-1"), Some("man-1"));
        assert_eq!(sku_for(&blank_sku, &all).as_deref(), Some("NUM-1"));
        let only_manage = item(None, None, Some(" man-1 "));
        assert_eq!(sku_for(&only_manage, &all).as_deref(), Some("man-1"));
        assert_eq!(sku_for(&only_manage, &[MerchantDefinedSkuId]), None);
        assert_eq!(sku_for(&full, &[]), None);
    }

    #[test]
    fn carriers_map_to_the_contract_codes() {
        let want = [
            ("yamato", "1001"),
            ("sagawa", "1002"),
            ("japanpost", "1003"),
            ("seino", "1004"),
            ("fukuyama", "1006"),
            ("meitetsu", "1007"),
            ("tonami", "1008"),
            ("nittsu", "1021"),
            ("ecohai", "1016"),
            ("other", "1000"),
        ];
        for (name, code) in want {
            let carrier = Carrier::parse(name).unwrap();
            assert_eq!(delivery_company(carrier), code, "{name}");
            assert!(wire::DELIVERY_COMPANY_CODES.contains(&code));
        }
        assert_eq!(want.len(), Carrier::ALL.len());
    }

    #[test]
    fn progress_codes_round_trip() {
        for p in Progress::KNOWN {
            assert_eq!(Progress::from_code(p.code()), p);
        }
        assert_eq!(Progress::from_code(150), Progress::Unknown(150));
        assert_eq!(Progress::Unknown(150).code(), 150);
        assert!(Progress::Cancelled.is_cancelling());
        assert!(!Progress::Shipped.is_cancelling());
    }

    #[test]
    fn person_helpers_skip_empty_parts() {
        let p = Person {
            family_name: "山田".into(),
            first_name: "太郎".into(),
            prefecture: "愛知県".into(),
            city: "愛知郡東郷町".into(),
            sub_address: "春木台1-2-3".into(),
            ..Person::default()
        };
        assert_eq!(p.full_name(), "山田 太郎");
        assert_eq!(p.full_name_kana(), "");
        assert_eq!(p.address(), "愛知県愛知郡東郷町春木台1-2-3");
    }
}
