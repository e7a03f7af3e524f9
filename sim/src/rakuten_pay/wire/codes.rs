//! Rakuten's code tables as the simulator answers with them: message codes
//! of the order API, the gateway's error codes and the carrier codes.
//!
//! Message codes are `ORDER_EXT_API_<ENDPOINT>_<TYPE>_<nnn>` (`rakuten-pay.md`,
//! Envelope and errors). The contract names `_009` (required item missing),
//! `_010` (empty value), `_011` (bad format), searchOrder's `INFO_102`,
//! confirmOrder's `INFO_101` / `ERROR_102` / `_103` / `_105` and
//! updateOrderShipping's `INFO_101` / `_102` / `ERROR_011` / `_102`; every
//! other code here is marked "[sim guess]" (the official table is behind the
//! RMS login) and clients must not depend on it.

use super::MessageType;

/// Gateway: bad key, a key not active yet, or a function not enabled for
/// the key (`rakuten-pay.md`, Envelope and errors).
pub const GATEWAY_UNAUTHORISED: &str = "ES01-01";
/// Gateway: an expired or revoked key (`rakuten-pay.md`, Corrections: "may
/// answer `401` with `GA0001`").
pub const GATEWAY_KEY_EXPIRED: &str = "GA0001";
/// Gateway: bad request (`rakuten-pay.md`, Envelope and errors).
pub const GATEWAY_BAD_REQUEST: &str = "ES04-01";

/// The order API's endpoints, as their message codes name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `searchOrder`.
    SearchOrder,
    /// `getOrder`.
    GetOrder,
    /// `confirmOrder`.
    ConfirmOrder,
    /// `updateOrderShipping` (one word in its codes: `UPDATE_ORDERSHIPPING`).
    UpdateOrderShipping,
}

impl Api {
    /// The endpoint's part of a message code.
    pub fn code_name(self) -> &'static str {
        match self {
            Api::SearchOrder => "SEARCH_ORDER",
            Api::GetOrder => "GET_ORDER",
            Api::ConfirmOrder => "CONFIRM_ORDER",
            Api::UpdateOrderShipping => "UPDATE_ORDERSHIPPING",
        }
    }
}

/// `ORDER_EXT_API_<ENDPOINT>_<TYPE>_<nnn>`.
pub fn message_code(api: Api, kind: MessageType, n: u16) -> String {
    format!("ORDER_EXT_API_{}_{}_{n:03}", api.code_name(), kind.as_str())
}

/// `_009`: a required item is missing.
pub const MISSING: u16 = 9;
/// `_010`: a required item is empty.
pub const EMPTY: u16 = 10;
/// `_011`: a value has a bad format.
pub const BAD_FORMAT: u16 = 11;

/// searchOrder found orders. [sim guess: the contract names only `INFO_102`]
pub const SEARCH_ORDER_FOUND: &str = "ORDER_EXT_API_SEARCH_ORDER_INFO_101";
/// searchOrder found none: `orderNumberList: []`, pagination `null`.
pub const SEARCH_ORDER_NO_HITS: &str = "ORDER_EXT_API_SEARCH_ORDER_INFO_102";
/// searchOrder: window over 63 days, or ending before it starts. [sim guess]
pub const SEARCH_ORDER_WINDOW: u16 = 12;
/// searchOrder: start more than 730 days ago. [sim guess]
pub const SEARCH_ORDER_TOO_OLD: u16 = 13;
/// searchOrder: more than 15,000 hits. [sim guess]
pub const SEARCH_ORDER_TOO_MANY: u16 = 14;
/// getOrder succeeded. [sim guess: the contract says "an INFO entry"]
pub const GET_ORDER_OK: &str = "ORDER_EXT_API_GET_ORDER_INFO_101";
/// getOrder / confirmOrder: more than 100 order numbers. [sim guess]
pub const TOO_MANY_ORDER_NUMBERS: u16 = 12;
/// confirmOrder: confirmed (100 → 200).
pub const CONFIRM_ORDER_CONFIRMED: &str = "ORDER_EXT_API_CONFIRM_ORDER_INFO_101";
/// confirmOrder: no such order. [sim guess]
pub const CONFIRM_ORDER_UNKNOWN: u16 = 101;
/// confirmOrder: the order is cancelled already.
pub const CONFIRM_ORDER_CANCELLED: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_102";
/// confirmOrder: the order is in another status than 100.
pub const CONFIRM_ORDER_OTHER_STATUS: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_103";
/// confirmOrder: the postage is not set.
pub const CONFIRM_ORDER_POSTAGE_NOT_SET: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_105";
/// updateOrderShipping: a row was added.
pub const SHIPPING_ADDED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_101";
/// updateOrderShipping: a row was updated.
pub const SHIPPING_UPDATED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_102";
/// updateOrderShipping: a row was deleted (`shippingDeleteFlag`). [sim guess]
pub const SHIPPING_DELETED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_103";
/// updateOrderShipping: a value has a bad format.
pub const SHIPPING_BAD_FORMAT: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_011";
/// updateOrderShipping: the order is cancelled.
pub const SHIPPING_ORDER_CANCELLED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_102";
/// updateOrderShipping: no such order. [sim guess]
pub const SHIPPING_UNKNOWN_ORDER: u16 = 101;
/// updateOrderShipping: the order has not reached 300. [sim guess]
pub const SHIPPING_TOO_EARLY: u16 = 103;
/// updateOrderShipping: no such `basketId` in the order. [sim guess]
pub const SHIPPING_UNKNOWN_BASKET: u16 = 104;
/// updateOrderShipping: more than 20 rows in a basket. [sim guess]
pub const SHIPPING_TOO_MANY_ROWS: u16 = 105;
/// updateOrderShipping: no such `shippingDetailId` in the basket. [sim guess]
pub const SHIPPING_UNKNOWN_ROW: u16 = 106;

/// `deliveryCompany` codes and their carriers (`rakuten-pay.md`,
/// updateOrderShipping).
pub const DELIVERY_COMPANIES: [(&str, &str); 32] = [
    ("1000", "その他"),
    ("1001", "ヤマト運輸"),
    ("1002", "佐川急便"),
    ("1003", "日本郵便"),
    ("1004", "西濃運輸"),
    ("1005", "セイノースーパーエクスプレス"),
    ("1006", "福山通運"),
    ("1007", "名鉄運輸"),
    ("1008", "トナミ運輸"),
    ("1009", "第一貨物"),
    ("1010", "新潟運輸"),
    ("1011", "中越運送"),
    ("1012", "岡山県貨物運送"),
    ("1013", "久留米運送"),
    ("1014", "山陽自動車運送"),
    ("1015", "NXトランスポート"),
    ("1016", "エコ配"),
    ("1017", "EMS"),
    ("1018", "DHL"),
    ("1019", "FedEx"),
    ("1020", "UPS"),
    ("1021", "日本通運"),
    ("1022", "TNT"),
    ("1023", "OCS"),
    ("1024", "USPS"),
    ("1025", "SFエクスプレス"),
    ("1026", "Aramex"),
    ("1027", "SGHグローバル・ジャパン"),
    ("1028", "Rakuten EXPRESS"),
    ("1029", "日本郵便 楽天倉庫出荷"),
    ("1030", "ヤマト運輸 クロネコゆうパケット"),
    ("1031", "名鉄NX運輸"),
];

/// Whether `code` is a carrier code of the contract.
pub fn is_delivery_company(code: &str) -> bool {
    DELIVERY_COMPANIES.iter().any(|(c, _)| *c == code)
}
