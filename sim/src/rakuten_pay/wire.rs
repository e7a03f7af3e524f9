//! The order API's JSON in Rakuten's own names, written from the contract
//! (`rakuten-pay.md`): the order model getOrder answers with, the message
//! envelope every order call answers with, and the gateway's error body.
//!
//! Every key is renamed explicitly (`rakuten-pay.md`, Transport: "Rename each
//! field explicitly; no blanket `rename_all`"): objects and lists are
//! capitalised (`PackageModelList`, `OrdererModel`), scalars lowerCamel
//! (`orderNumber`, `basketId`). The Rust names are those keys in snake case;
//! lists are named by what they hold (`packages` for `PackageModelList`).
//!
//! The simulator holds its orders in this shape, so what a test reads with
//! [`RakutenSimHandle::order`](super::RakutenSimHandle::order) is what getOrder
//! sends. The simulator only writes these: nothing here is parsed.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Serialize, Serializer};

pub mod codes;
pub mod dates;

/// The amount Rakuten sends while a price is not determined yet
/// (`rakuten-pay.md`, Transport: "`-9999` means not yet determined").
pub const AMOUNT_UNDETERMINED: i64 = -9999;

/// `orderProgress` (`rakuten-pay.md`, "orderProgress"), with Rakuten's label
/// of each status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderProgress {
    /// 100 注文確認待ち: the shop has not confirmed the order yet.
    AwaitingConfirmation,
    /// 200 楽天処理中: Rakuten processes it (payment authorisation, prepayment).
    RakutenProcessing,
    /// 300 発送待ち: ready to ship.
    AwaitingShipment,
    /// 400 変更確定待ち: an edit of the order awaits confirmation.
    AwaitingChangeConfirmation,
    /// 500 発送済: every destination has its shipping rows.
    Shipped,
    /// 600 支払手続き中.
    PaymentInProgress,
    /// 700 支払手続き済.
    PaymentDone,
    /// 800 キャンセル確定待ち.
    AwaitingCancellation,
    /// 900 キャンセル確定.
    Cancelled,
}

/// Code and label of every status, in the contract's order.
const PROGRESS_TABLE: [(OrderProgress, u16, &str); 9] = [
    (OrderProgress::AwaitingConfirmation, 100, "注文確認待ち"),
    (OrderProgress::RakutenProcessing, 200, "楽天処理中"),
    (OrderProgress::AwaitingShipment, 300, "発送待ち"),
    (
        OrderProgress::AwaitingChangeConfirmation,
        400,
        "変更確定待ち",
    ),
    (OrderProgress::Shipped, 500, "発送済"),
    (OrderProgress::PaymentInProgress, 600, "支払手続き中"),
    (OrderProgress::PaymentDone, 700, "支払手続き済"),
    (
        OrderProgress::AwaitingCancellation,
        800,
        "キャンセル確定待ち",
    ),
    (OrderProgress::Cancelled, 900, "キャンセル確定"),
];

impl OrderProgress {
    fn row(self) -> (OrderProgress, u16, &'static str) {
        PROGRESS_TABLE
            .into_iter()
            .find(|(p, _, _)| *p == self)
            .unwrap_or((self, 0, ""))
    }

    /// The wire code (`orderProgress`, `orderProgressList`).
    pub fn code(self) -> u16 {
        self.row().1
    }

    /// Rakuten's label, as RMS shows it (`注文確認待ち` …).
    pub fn label(self) -> &'static str {
        self.row().2
    }

    /// The status of a wire code; `None` outside the contract.
    pub fn from_code(code: u64) -> Option<OrderProgress> {
        PROGRESS_TABLE
            .into_iter()
            .find(|(_, c, _)| u64::from(*c) == code)
            .map(|(p, _, _)| p)
    }
}

impl Serialize for OrderProgress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.code())
    }
}

/// One order (`OrderModel`, `rakuten-pay.md`, getOrder): the fields the
/// contract lists. What Rakuten adds beyond them (and the shape of each
/// `version`) is added when getOrder answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderModel {
    /// Opaque, e.g. `123456-20261122-00068801`.
    #[serde(rename = "orderNumber")]
    pub order_number: String,
    /// Where the order stands.
    #[serde(rename = "orderProgress")]
    pub order_progress: OrderProgress,
    /// When the customer ordered: searchOrder's `dateType` 1 and sort key.
    #[serde(rename = "orderDatetime", serialize_with = "jst_datetime")]
    pub order_datetime: DateTime<FixedOffset>,
    /// When the shop confirmed it (100 → 200); `null` before.
    #[serde(rename = "shopOrderCfmDatetime", serialize_with = "opt_jst_datetime")]
    pub shop_order_cfm_datetime: Option<DateTime<FixedOffset>>,
    /// When Rakuten fixed it (reaching 300); `null` before.
    #[serde(rename = "orderFixDatetime", serialize_with = "opt_jst_datetime")]
    pub order_fix_datetime: Option<DateTime<FixedOffset>>,
    /// Sum of the lines not deleted; `None` is sent as `-9999`, as are the
    /// other amounts.
    #[serde(rename = "goodsPrice", serialize_with = "amount")]
    pub goods_price: Option<i64>,
    /// Postage; `None` until the shop sets it.
    #[serde(rename = "postagePrice", serialize_with = "amount")]
    pub postage_price: Option<i64>,
    /// Cash-on-delivery fee.
    #[serde(rename = "deliveryPrice", serialize_with = "amount")]
    pub delivery_price: Option<i64>,
    /// Goods, postage and fee; `None` while the postage is not set.
    #[serde(rename = "totalPrice", serialize_with = "amount")]
    pub total_price: Option<i64>,
    /// What the customer is billed.
    #[serde(rename = "requestPrice", serialize_with = "amount")]
    pub request_price: Option<i64>,
    /// The customer.
    #[serde(rename = "OrdererModel")]
    pub orderer: PersonModel,
    /// How the customer pays.
    #[serde(rename = "SettlementModel")]
    pub settlement: SettlementModel,
    /// One per destination.
    #[serde(rename = "PackageModelList")]
    pub packages: Vec<PackageModel>,
}

impl OrderModel {
    /// Whether every destination has a complete shipping row: what moves
    /// an order to 500 (`rakuten-pay.md`, updateOrderShipping).
    pub fn fully_shipped(&self) -> bool {
        self.packages
            .iter()
            .all(|p| p.shipping.iter().any(ShippingModel::is_complete))
    }
}

/// `OrdererModel` (the customer) and `SenderModel` (a recipient): only the
/// orderer has an email address (a masked relay).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonModel {
    /// 姓.
    #[serde(rename = "familyName")]
    pub family_name: String,
    /// 名.
    #[serde(rename = "firstName")]
    pub first_name: String,
    /// 姓 in katakana.
    #[serde(rename = "familyNameKana")]
    pub family_name_kana: String,
    /// 名 in katakana.
    #[serde(rename = "firstNameKana")]
    pub first_name_kana: String,
    /// The postal code's first three digits (`480`).
    #[serde(rename = "zipCode1")]
    pub zip_code1: String,
    /// Its last four (`0305`).
    #[serde(rename = "zipCode2")]
    pub zip_code2: String,
    /// 都道府県.
    #[serde(rename = "prefecture")]
    pub prefecture: String,
    /// 市区町村.
    #[serde(rename = "city")]
    pub city: String,
    /// The rest of the address.
    #[serde(rename = "subAddress")]
    pub sub_address: String,
    /// The phone number in three parts (`052`, `123`, `4567`).
    #[serde(rename = "phoneNumber1")]
    pub phone_number1: String,
    /// The phone number's second part.
    #[serde(rename = "phoneNumber2")]
    pub phone_number2: String,
    /// Its third part.
    #[serde(rename = "phoneNumber3")]
    pub phone_number3: String,
    /// The orderer's masked relay address; absent on a recipient.
    #[serde(rename = "emailAddress", skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
}

/// `SettlementModel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementModel {
    /// 1 card, 2 cash on delivery, 21 Rakuten's deferred payment, …
    #[serde(rename = "settlementMethodCode")]
    pub settlement_method_code: i64,
    /// The method's name (`クレジットカード`, `代金引換`).
    #[serde(rename = "settlementMethod")]
    pub settlement_method: String,
    /// 1 Rakuten-handled (共通決済), 0 shop-selected (選択制決済).
    #[serde(rename = "rpaySettlementFlag")]
    pub rpay_settlement_flag: u8,
}

/// `PackageModel`: one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageModel {
    /// The key of shipping updates.
    #[serde(rename = "basketId")]
    pub basket_id: i64,
    /// The recipient.
    #[serde(rename = "SenderModel")]
    pub sender: PersonModel,
    /// The lines going there.
    #[serde(rename = "ItemModelList")]
    pub items: Vec<ItemModel>,
    /// `null` while there is none.
    #[serde(rename = "ShippingModelList", serialize_with = "null_if_empty")]
    pub shipping: Vec<ShippingModel>,
    /// The destination was deleted in RMS (`rakuten-pay.md`, Corrections):
    /// it stays listed, with its lines.
    #[serde(rename = "packageDeleteFlag", serialize_with = "flag")]
    pub package_delete_flag: bool,
}

/// `ItemModel`: one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemModel {
    /// Stable across edits of the order.
    #[serde(rename = "itemDetailId")]
    pub item_detail_id: i64,
    /// The item's name as the customer saw it.
    #[serde(rename = "itemName")]
    pub item_name: String,
    /// 商品番号; an item without one is sent as `""`.
    #[serde(rename = "itemNumber", serialize_with = "empty_if_none")]
    pub item_number: Option<String>,
    /// 商品管理番号.
    #[serde(rename = "manageNumber")]
    pub manage_number: Option<String>,
    /// Unit price in yen.
    #[serde(rename = "price")]
    pub price: i64,
    /// Quantity ordered.
    #[serde(rename = "units")]
    pub units: u32,
    /// getOrder version 7 and later; `null` when the line has no SKU data.
    #[serde(rename = "SkuModelList", serialize_with = "null_if_empty")]
    pub skus: Vec<SkuModel>,
    /// The line was deleted in RMS (`rakuten-pay.md`, Corrections): it stays
    /// listed.
    #[serde(rename = "deleteItemFlag", serialize_with = "flag")]
    pub delete_item_flag: bool,
}

/// `SkuModel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SkuModel {
    /// SKU管理番号.
    #[serde(rename = "variantId")]
    pub variant_id: Option<String>,
    /// システム連携用SKU番号, usually the merchant's own SKU.
    #[serde(rename = "merchantDefinedSkuId")]
    pub merchant_defined_sku_id: Option<String>,
}

/// `ShippingModel`: one shipping row of a destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShippingModel {
    /// Rakuten's id of the row; given back to update it.
    #[serde(rename = "shippingDetailId")]
    pub shipping_detail_id: i64,
    /// A carrier code of [`codes::DELIVERY_COMPANIES`].
    #[serde(rename = "deliveryCompany")]
    pub delivery_company: String,
    /// The tracking number.
    #[serde(rename = "shippingNumber")]
    pub shipping_number: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(rename = "shippingDate", serialize_with = "opt_date")]
    pub shipping_date: Option<NaiveDate>,
}

impl ShippingModel {
    /// Carrier, number and date are all there.
    pub fn is_complete(&self) -> bool {
        !self.delivery_company.is_empty()
            && self
                .shipping_number
                .as_deref()
                .is_some_and(|n| !n.trim().is_empty())
            && self.shipping_date.is_some()
    }
}

/// `messageType` (`rakuten-pay.md`, Envelope and errors): what decides
/// success, not the HTTP status. The simulator never sends `WARNING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MessageType {
    /// Success.
    #[serde(rename = "INFO")]
    Info,
    /// Refusal, whatever the HTTP status.
    #[serde(rename = "ERROR")]
    Error,
}

impl MessageType {
    /// As it appears in message codes.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Info => "INFO",
            MessageType::Error => "ERROR",
        }
    }
}

/// One entry of `MessageModelList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageModel {
    /// `INFO` or `ERROR`.
    #[serde(rename = "messageType")]
    pub message_type: MessageType,
    /// `ORDER_EXT_API_<ENDPOINT>_<TYPE>_<nnn>` ([`codes`]).
    #[serde(rename = "messageCode")]
    pub message_code: String,
    /// Japanese, for people.
    #[serde(rename = "message")]
    pub message: String,
    /// On confirmOrder's per-order answers.
    #[serde(rename = "orderNumber", skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// updateOrderShipping: the row's 1-based position across the request.
    #[serde(rename = "dataNumber", skip_serializing_if = "Option::is_none")]
    pub data_number: Option<u32>,
    /// updateOrderShipping: the row's id (the new one on add).
    #[serde(rename = "shippingDetailId", skip_serializing_if = "Option::is_none")]
    pub shipping_detail_id: Option<i64>,
}

impl MessageModel {
    /// A message without the per-endpoint fields.
    pub fn new(message_type: MessageType, code: &str, text: &str) -> MessageModel {
        MessageModel {
            message_type,
            message_code: code.to_string(),
            message: text.to_string(),
            order_number: None,
            data_number: None,
            shipping_detail_id: None,
        }
    }

    /// An `INFO` message.
    pub fn info(code: &str, text: &str) -> MessageModel {
        MessageModel::new(MessageType::Info, code, text)
    }

    /// An `ERROR` message.
    pub fn error(code: &str, text: &str) -> MessageModel {
        MessageModel::new(MessageType::Error, code, text)
    }
}

/// The API gateway's error body (`rakuten-pay.md`, Envelope and errors):
/// `{"Results": {"errorCode": "ES01-01", "message": "Un-Authorised"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayError {
    /// The error.
    #[serde(rename = "Results")]
    pub results: GatewayResults,
}

/// The inside of [`GatewayError`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayResults {
    /// [`codes::GATEWAY_UNAUTHORISED`], [`codes::GATEWAY_KEY_EXPIRED`], …
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// `Un-Authorised`, `Bad Request`.
    #[serde(rename = "message")]
    pub message: String,
}

impl GatewayError {
    /// The body for `code`.
    pub fn new(code: &str, message: &str) -> GatewayError {
        GatewayError {
            results: GatewayResults {
                error_code: code.to_string(),
                message: message.to_string(),
            },
        }
    }
}

// ---- how values are written ----

fn jst_datetime<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&dates::format_jst(t))
}

fn opt_jst_datetime<S: Serializer>(
    t: &Option<DateTime<FixedOffset>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => jst_datetime(t, s),
        None => s.serialize_none(),
    }
}

fn opt_date<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&dates::format_date(*d)),
        None => s.serialize_none(),
    }
}

fn amount<S: Serializer>(a: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(a.unwrap_or(AMOUNT_UNDETERMINED))
}

fn flag<S: Serializer>(set: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(u8::from(*set))
}

/// Rakuten sends `null` for an empty list (`rakuten-pay.md`, Transport).
fn null_if_empty<S: Serializer, T: Serialize>(list: &[T], s: S) -> Result<S::Ok, S::Error> {
    if list.is_empty() {
        s.serialize_none()
    } else {
        s.collect_seq(list)
    }
}

fn empty_if_none<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or(""))
}
