//! Rakuten Pay wire format: the JSON exactly as Rakuten sends and expects it.
//!
//! Every field is renamed explicitly, because Rakuten mixes capitalised model
//! keys (`MessageModelList`, `BasketidModelList` with a lowercase "id") with
//! lowerCamel scalars (`orderNumber`); a blanket `rename_all` would get one of
//! them wrong. Responses are read tolerantly: unknown fields are ignored, a
//! `null` list is an empty list, an absent optional is `None`. Requests are
//! written strictly (`yyyy-MM-ddTHH:mm:ss+0900`, codes as strings).
//!
//! The rest of the crate sees only [`super::RakutenOrder`]; the conversion (and
//! the validation of untrusted input) is [`order_from_value`].
//!
//! A field means what Rakuten's key (its `rename`) means; only the
//! non-obvious ones carry a comment.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

mod convert;
mod dates;

pub use convert::{order_from_value, order_from_wire, order_to_wire};
pub use dates::*;

/// The amount Rakuten sends while a price is not determined yet.
pub const AMOUNT_UNDETERMINED: i64 = -9999;

/// Every `deliveryCompany` code of the contract (1000 その他 … 1031 名鉄NX運輸).
pub const DELIVERY_COMPANY_CODES: [&str; 32] = [
    "1000", "1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009", "1010", "1011",
    "1012", "1013", "1014", "1015", "1016", "1017", "1018", "1019", "1020", "1021", "1022", "1023",
    "1024", "1025", "1026", "1027", "1028", "1029", "1030", "1031",
];

/// `messageType` of a success.
pub const MESSAGE_INFO: &str = "INFO";
/// `messageType` of a warning: the call succeeded.
pub const MESSAGE_WARNING: &str = "WARNING";
/// `messageType` of a refusal, whatever the HTTP status.
pub const MESSAGE_ERROR: &str = "ERROR";

/// searchOrder found orders.
pub const SEARCH_ORDER_FOUND: &str = "ORDER_EXT_API_SEARCH_ORDER_INFO_101";
/// searchOrder found none (list `[]`, pagination `null`).
pub const SEARCH_ORDER_NO_HITS: &str = "ORDER_EXT_API_SEARCH_ORDER_INFO_102";
/// getOrder: success.
pub const GET_ORDER_OK: &str = "ORDER_EXT_API_GET_ORDER_INFO_101";
/// confirmOrder: confirmed (100 → 200).
pub const CONFIRM_ORDER_CONFIRMED: &str = "ORDER_EXT_API_CONFIRM_ORDER_INFO_101";
/// confirmOrder: the order is cancelled.
pub const CONFIRM_ORDER_CANCELLED: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_102";
/// confirmOrder: the order is past 100 already (treat as done).
pub const CONFIRM_ORDER_OTHER_STATUS: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_103";
/// confirmOrder: postage must be set first.
pub const CONFIRM_ORDER_POSTAGE_NOT_SET: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_105";
/// updateOrderShipping: a row was added (new `shippingDetailId`).
pub const SHIPPING_ADDED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_101";
/// updateOrderShipping: a row was updated.
pub const SHIPPING_UPDATED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_102";
/// updateOrderShipping: a row was deleted (`shippingDeleteFlag`).
pub const SHIPPING_DELETED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_103";
/// updateOrderShipping: a value has a bad format (carrier code, date…).
pub const SHIPPING_BAD_FORMAT: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_011";
/// updateOrderShipping: the order is cancelled.
pub const SHIPPING_ORDER_CANCELLED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_102";
/// Gateway: bad or expired key, or the function is not enabled (a credential problem).
pub const GATEWAY_UNAUTHORISED: &str = "ES01-01";
/// Gateway: an expired or revoked key, as teams calling the live API see it
/// (`401`, "Un-Authorised"); the same credential problem as `ES01-01`.
pub const GATEWAY_UNAUTHORISED_KEY: &str = "GA0001";
/// Gateway: bad request.
pub const GATEWAY_BAD_REQUEST: &str = "ES04-01";

// ---------------------------------------------------------------------------
// Envelope and errors
// ---------------------------------------------------------------------------

/// One entry of `MessageModelList`. The optional fields appear on some
/// endpoints only: `orderNumber` on confirmOrder, `dataNumber` and
/// `shippingDetailId` on updateOrderShipping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenMessage {
    /// `INFO`, `WARNING` or `ERROR`: what decides success, not the HTTP status.
    #[serde(rename = "messageType", default, deserialize_with = "null_as_default")]
    pub message_type: String,
    /// `ORDER_EXT_API_<ENDPOINT>_<TYPE>_<nnn>`.
    #[serde(rename = "messageCode", default, deserialize_with = "null_as_default")]
    pub message_code: String,
    /// Japanese text, for people.
    #[serde(rename = "message", default, deserialize_with = "null_as_default")]
    pub message: String,
    #[serde(
        rename = "orderNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_number: Option<String>,
    /// 1-based position of the shipping row across the request.
    #[serde(
        rename = "dataNumber",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_u32"
    )]
    pub data_number: Option<u32>,
    /// The row's id: the new one on add, the given one on update.
    #[serde(
        rename = "shippingDetailId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_i64"
    )]
    pub shipping_detail_id: Option<i64>,
}

impl RakutenMessage {
    /// A message as tests build them.
    pub fn new(message_type: &str, code: &str, text: &str) -> Self {
        RakutenMessage {
            message_type: message_type.to_string(),
            message_code: code.to_string(),
            message: text.to_string(),
            order_number: None,
            data_number: None,
            shipping_detail_id: None,
        }
    }

    pub fn is_error(&self) -> bool {
        self.message_type.eq_ignore_ascii_case(MESSAGE_ERROR)
    }

    pub fn is_warning(&self) -> bool {
        self.message_type.eq_ignore_ascii_case(MESSAGE_WARNING)
    }
}

/// A response reduced to its envelope: enough to judge it before reading the
/// endpoint's own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenEnvelope {
    #[serde(
        rename = "MessageModelList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub messages: Vec<RakutenMessage>,
}

/// The API gateway's own error body: `{"Results": {"errorCode", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenGatewayError {
    #[serde(rename = "Results")]
    pub results: RakutenGatewayResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenGatewayResult {
    /// `ES01-01` bad or expired key / function not enabled, `ES04-01` bad request.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    #[serde(rename = "message", default, deserialize_with = "null_as_default")]
    pub message: String,
}

impl RakutenGatewayError {
    pub fn new(code: &str, message: &str) -> Self {
        RakutenGatewayError {
            results: RakutenGatewayResult {
                error_code: code.to_string(),
                message: message.to_string(),
            },
        }
    }
}

// ---------------------------------------------------------------------------
// searchOrder
// ---------------------------------------------------------------------------

/// `POST /searchOrder/` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenSearchOrderRequest {
    /// 1 order date, 2 confirm date, 3 fix date, 4 ship date, 5 shipping-report
    /// date, 6 settlement date.
    #[serde(rename = "dateType")]
    pub date_type: u8,
    /// `yyyy-MM-ddTHH:mm:ss+0900` ([`format_jst`]).
    #[serde(rename = "startDatetime")]
    pub start_datetime: String,
    #[serde(rename = "endDatetime")]
    pub end_datetime: String,
    #[serde(
        rename = "orderProgressList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_progress_list: Option<Vec<u16>>,
    #[serde(
        rename = "PaginationRequestModel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pagination: Option<RakutenPaginationRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenPaginationRequest {
    /// Results per page, at most 1000.
    #[serde(rename = "requestRecordsAmount")]
    pub request_records_amount: u32,
    /// 1-based.
    #[serde(rename = "requestPage")]
    pub request_page: u32,
    #[serde(
        rename = "SortModelList",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sort_model_list: Vec<RakutenSort>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenSort {
    /// 1 = order datetime (the only column).
    #[serde(rename = "sortColumn")]
    pub sort_column: u8,
    /// 1 ascending, 2 descending.
    #[serde(rename = "sortDirection")]
    pub sort_direction: u8,
}

/// `searchOrder` answer. On zero hits the list is `[]` and the three
/// pagination fields are `null`; on errors both may be `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenSearchOrderResponse {
    #[serde(
        rename = "orderNumberList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub order_number_list: Vec<String>,
    #[serde(
        rename = "MessageModelList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub messages: Vec<RakutenMessage>,
    #[serde(rename = "PaginationResponseModel", default)]
    pub pagination: Option<RakutenPaginationResponse>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenPaginationResponse {
    #[serde(
        rename = "totalRecordsAmount",
        default,
        deserialize_with = "lenient_u64"
    )]
    pub total_records_amount: Option<u64>,
    #[serde(rename = "totalPages", default, deserialize_with = "lenient_u32")]
    pub total_pages: Option<u32>,
    #[serde(rename = "requestPage", default, deserialize_with = "lenient_u32")]
    pub request_page: Option<u32>,
}

// ---------------------------------------------------------------------------
// getOrder
// ---------------------------------------------------------------------------

/// `POST /getOrder/` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenGetOrderRequest {
    /// At most 100.
    #[serde(rename = "orderNumberList")]
    pub order_number_list: Vec<String>,
    /// Required; 7 adds the SKU models.
    #[serde(rename = "version")]
    pub version: u32,
}

/// `getOrder` answer. Orders stay raw JSON here so that each one is parsed on
/// its own and a bad one can be named by its order number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RakutenGetOrderResponse {
    #[serde(
        rename = "MessageModelList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub messages: Vec<RakutenMessage>,
    #[serde(
        rename = "OrderModelList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub orders: Vec<Value>,
    #[serde(rename = "version", default)]
    pub version: Option<Value>,
}

/// One order (`OrderModel`), only the fields the daemon uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenOrderModel {
    #[serde(rename = "orderNumber")]
    pub order_number: String,
    #[serde(rename = "orderProgress")]
    pub order_progress: u16,
    #[serde(rename = "orderDatetime")]
    pub order_datetime: String,
    #[serde(rename = "shopOrderCfmDatetime", default)]
    pub shop_order_cfm_datetime: Option<String>,
    #[serde(rename = "orderFixDatetime", default)]
    pub order_fix_datetime: Option<String>,
    #[serde(rename = "goodsPrice", default)]
    pub goods_price: Option<i64>,
    #[serde(rename = "postagePrice", default)]
    pub postage_price: Option<i64>,
    #[serde(rename = "deliveryPrice", default)]
    pub delivery_price: Option<i64>,
    #[serde(rename = "totalPrice", default)]
    pub total_price: Option<i64>,
    #[serde(rename = "requestPrice", default)]
    pub request_price: Option<i64>,
    #[serde(rename = "OrdererModel", default)]
    pub orderer: Option<RakutenPersonModel>,
    #[serde(rename = "SettlementModel", default)]
    pub settlement: Option<RakutenSettlementModel>,
    #[serde(
        rename = "PackageModelList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub packages: Vec<RakutenPackageModel>,
}

/// `OrdererModel` (the customer) and `SenderModel` (a recipient) share these
/// fields; only the orderer has an email address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenPersonModel {
    /// First three digits of the postal code (`480`).
    #[serde(rename = "zipCode1", default, deserialize_with = "lenient_string")]
    pub zip_code1: Option<String>,
    /// Last four digits (`0305`).
    #[serde(rename = "zipCode2", default, deserialize_with = "lenient_string")]
    pub zip_code2: Option<String>,
    #[serde(rename = "prefecture", default)]
    pub prefecture: Option<String>,
    #[serde(rename = "city", default)]
    pub city: Option<String>,
    #[serde(rename = "subAddress", default)]
    pub sub_address: Option<String>,
    #[serde(rename = "familyName", default)]
    pub family_name: Option<String>,
    #[serde(rename = "firstName", default)]
    pub first_name: Option<String>,
    #[serde(rename = "familyNameKana", default)]
    pub family_name_kana: Option<String>,
    #[serde(rename = "firstNameKana", default)]
    pub first_name_kana: Option<String>,
    #[serde(rename = "phoneNumber1", default, deserialize_with = "lenient_string")]
    pub phone_number1: Option<String>,
    #[serde(rename = "phoneNumber2", default, deserialize_with = "lenient_string")]
    pub phone_number2: Option<String>,
    #[serde(rename = "phoneNumber3", default, deserialize_with = "lenient_string")]
    pub phone_number3: Option<String>,
    #[serde(
        rename = "emailAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub email_address: Option<String>,
}

/// `SettlementModel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenSettlementModel {
    #[serde(rename = "settlementMethodCode", default)]
    pub settlement_method_code: Option<i64>,
    #[serde(rename = "settlementMethod", default)]
    pub settlement_method: Option<String>,
    /// 1 = Rakuten-handled (共通決済), 0 = shop-selected (選択制決済).
    #[serde(rename = "rpaySettlementFlag", default)]
    pub rpay_settlement_flag: Option<i64>,
}

/// `PackageModel`: one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenPackageModel {
    #[serde(rename = "basketId")]
    pub basket_id: i64,
    #[serde(rename = "SenderModel", default)]
    pub sender: Option<RakutenPersonModel>,
    #[serde(
        rename = "ItemModelList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub items: Vec<RakutenItemModel>,
    #[serde(
        rename = "ShippingModelList",
        default,
        deserialize_with = "null_as_default"
    )]
    pub shipping: Vec<RakutenShippingModel>,
    /// `1`: the destination was deleted from the order (its lines with it).
    /// Read only: Rakuten sets it, the shop never sends it.
    #[serde(rename = "packageDeleteFlag", default, skip_serializing)]
    pub package_delete_flag: Option<i64>,
}

/// `ItemModel`: one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenItemModel {
    #[serde(rename = "itemDetailId")]
    pub item_detail_id: i64,
    #[serde(rename = "itemName", default)]
    pub item_name: Option<String>,
    #[serde(rename = "itemId", default)]
    pub item_id: Option<i64>,
    #[serde(rename = "itemNumber", default, deserialize_with = "lenient_string")]
    pub item_number: Option<String>,
    #[serde(rename = "manageNumber", default, deserialize_with = "lenient_string")]
    pub manage_number: Option<String>,
    #[serde(rename = "price", default)]
    pub price: Option<i64>,
    #[serde(rename = "units", default)]
    pub units: Option<i64>,
    /// Present from `version` 7; absent before.
    #[serde(
        rename = "SkuModelList",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub skus: Vec<RakutenSkuModel>,
    /// `1`: the line was deleted from the order; it stays listed. Read only.
    #[serde(rename = "deleteItemFlag", default, skip_serializing)]
    pub delete_item_flag: Option<i64>,
}

/// `SkuModel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenSkuModel {
    #[serde(rename = "variantId", default, deserialize_with = "lenient_string")]
    pub variant_id: Option<String>,
    #[serde(
        rename = "merchantDefinedSkuId",
        default,
        deserialize_with = "lenient_string"
    )]
    pub merchant_defined_sku_id: Option<String>,
}

/// `ShippingModel` as getOrder answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenShippingModel {
    #[serde(rename = "shippingDetailId", deserialize_with = "required_i64")]
    pub shipping_detail_id: i64,
    #[serde(
        rename = "shippingNumber",
        default,
        deserialize_with = "lenient_string"
    )]
    pub shipping_number: Option<String>,
    /// A code string; read leniently in case a number arrives.
    #[serde(
        rename = "deliveryCompany",
        default,
        deserialize_with = "lenient_string"
    )]
    pub delivery_company: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(rename = "shippingDate", default)]
    pub shipping_date: Option<String>,
}

// ---------------------------------------------------------------------------
// confirmOrder, updateOrderShipping, license expiry
// ---------------------------------------------------------------------------

/// `POST /confirmOrder/` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenConfirmOrderRequest {
    /// At most 100.
    #[serde(rename = "orderNumberList")]
    pub order_number_list: Vec<String>,
}

/// `POST /updateOrderShipping/` body: one order per call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenUpdateShippingRequest {
    #[serde(rename = "orderNumber")]
    pub order_number: String,
    #[serde(rename = "BasketidModelList")]
    pub baskets: Vec<RakutenBasketShipping>,
}

/// `BasketidModel`: the rows of one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenBasketShipping {
    #[serde(rename = "basketId")]
    pub basket_id: i64,
    /// At most 20 per basket.
    #[serde(rename = "ShippingModelList")]
    pub rows: Vec<RakutenShippingInput>,
}

/// A shipping row to add (no id) or update (with the id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenShippingInput {
    #[serde(
        rename = "shippingDetailId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_detail_id: Option<i64>,
    #[serde(rename = "deliveryCompany")]
    pub delivery_company: String,
    #[serde(rename = "shippingNumber")]
    pub shipping_number: String,
    /// `YYYY-MM-DD`.
    #[serde(rename = "shippingDate")]
    pub shipping_date: String,
}

/// Answer of confirmOrder and updateOrderShipping: messages only.
pub type RakutenMessagesResponse = RakutenEnvelope;

/// `GET /license-key/expiry-date` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RakutenLicenseExpiry {
    #[serde(rename = "expiryDate")]
    pub expiry_date: String,
}

// ---------------------------------------------------------------------------
// Tolerant deserialisers
// ---------------------------------------------------------------------------

/// `null` (or absent, with `#[serde(default)]`) → `T::default()`: Rakuten sends
/// `null` for empty lists.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string that may arrive as a number (`"1001"` or `1001`, `"480"` or `480`).
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => {
            return Err(serde::de::Error::custom("expected a string"));
        }
    })
}

fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i128>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
        Some(Value::String(s)) => s.trim().parse::<i128>().ok(),
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => None,
    })
}

/// A count that may be `null`, a number or a digit string; anything else is `None`.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient_number(d)?.and_then(|n| u64::try_from(n).ok()))
}

fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(lenient_number(d)?.and_then(|n| u32::try_from(n).ok()))
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(lenient_number(d)?.and_then(|n| i64::try_from(n).ok()))
}

/// An id that must be there, as a number or a digit string.
fn required_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    lenient_i64(d)?.ok_or_else(|| serde::de::Error::custom("expected a whole-number id"))
}

#[cfg(test)]
mod tests;
