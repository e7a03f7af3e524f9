//! Atobarai.com on the wire: form keys, request forms, the XML `<response>`
//! and the error codes.
//!
//! The service reads `application/x-www-form-urlencoded` keys
//! case-sensitively and **silently ignores keys it does not know**, so a typo
//! does not fail loudly: it drops the value (and at best trips a "required"
//! error). Every key is therefore a constant here, and the forms are built only
//! from them (tests check the exact key sets).
//!
//! Every answer is HTTP 200 with a `<response>` whose `<status>` says
//! `success` or `error`; errors carry `<messages><message cd="E00303">`.
//! Codes are `E` + two-digit service number + three digits; the common ones
//! (`EXX101` …) share their last three digits across services.

use std::fmt;

use serde::Deserialize;

use super::{OrderRegistration, Party};

// ---------------------------------------------------------------------------
// Form keys
// ---------------------------------------------------------------------------

/// 00: the day the buyer ordered, `yyyy/mm/dd`.
pub const O_RECEIPT_ORDER_DATE: &str = "O_ReceiptOrderDate";
/// 00: 事業者ID.
pub const O_ENTERPRISE_ID: &str = "O_EnterpriseId";
/// 00: サイトID.
pub const O_SITE_ID: &str = "O_SiteId";
/// 00: APIユーザID.
pub const O_API_USER_ID: &str = "O_ApiUserId";
/// 00: the merchant's order number (≤ 100 characters).
pub const O_ENT_ORDER_ID: &str = "O_Ent_OrderId";
/// 00: the billed total, integer yen; must equal the lines (`E00303`).
pub const O_USE_AMOUNT: &str = "O_UseAmount";
/// 00: `1` when the delivery address is in the `D_*` keys.
pub const O_ANOTHER_DELI_FLG: &str = "O_AnotherDeliFlg";
/// 00: `1` for a test order.
pub const O_TEST_ORDER_FLG: &str = "O_TestOrderFlg";
/// 00: the forced result of a test order: 0 OK, 1 NG, 2 pending.
pub const O_TEST_CREDIT_RESULT: &str = "O_TestCreditResult";

/// 00: buyer's postcode.
pub const C_POSTAL_CODE: &str = "C_PostalCode";
/// 00: buyer's whole address (≤ 100 characters).
pub const C_UNITING_ADDRESS: &str = "C_UnitingAddress";
/// 00: buyer's name in kanji.
pub const C_NAME_KJ: &str = "C_NameKj";
/// 00: buyer's name in kana.
pub const C_NAME_KN: &str = "C_NameKn";
/// 00: buyer's phone.
pub const C_PHONE: &str = "C_Phone";
/// 00: buyer's e-mail address.
pub const C_MAIL_ADDRESS: &str = "C_MailAddress";

/// 00: delivery postcode.
pub const D_POSTAL_CODE: &str = "D_PostalCode";
/// 00: delivery address.
pub const D_UNITING_ADDRESS: &str = "D_UnitingAddress";
/// 00: recipient's name in kanji.
pub const D_DEST_NAME_KJ: &str = "D_DestNameKj";
/// 00: recipient's name in kana.
pub const D_DEST_NAME_KN: &str = "D_DestNameKn";
/// 00: recipient's phone.
pub const D_PHONE: &str = "D_Phone";

/// 00: item name of line `<n>` (from 1): `I_ItemNameKj_1`.
pub const I_ITEM_NAME_KJ: &str = "I_ItemNameKj_";
/// 00: unit price of line `<n>` (negative for discounts).
pub const I_UNIT_PRICE: &str = "I_UnitPrice_";
/// 00: quantity of line `<n>` (> 0).
pub const I_ITEM_NUM: &str = "I_ItemNum_";
/// 00: tax rate of line `<n>`: blank, 0, 8 or 10.
pub const I_TAX_RATE: &str = "I_TaxRate_";
/// 00: shipping fee.
pub const I_ITEM_CARRIAGE: &str = "I_ItemCarriage";
/// 00: the shop's fee (where the buyer-facing deferred-payment fee goes).
pub const I_ITEM_CHARGE: &str = "I_ItemCharge";
/// 00: consumption tax of tax-exclusive merchants.
pub const I_OUTSIDE_TAX: &str = "I_OutsideTax";

/// 01–09: 事業者ID.
pub const ENTERPRISE_ID: &str = "EnterpriseId";
/// 01–09: APIユーザID.
pub const API_USER_ID: &str = "ApiUserId";
/// 04: one system order id.
pub const ORDER_ID: &str = "OrderId";
/// 01, 05, 09: a list of system order ids (PHP array syntax, repeated).
pub const ORDER_IDS: &str = "OrderId[]";
/// 05: the cancel reasons, position by position with `OrderId[]`.
pub const REASONS: &str = "Reason[]";
/// 04: the carrier id from `delivlist`.
pub const DELIV_ID: &str = "DelivId";
/// 04: the tracking number.
pub const JOURNAL_NUM: &str = "JournalNum";
/// 03, 09: a list of merchant order numbers.
pub const ENT_ORDER_IDS: &str = "Ent_OrderId[]";

/// The key of line `n` (1-based) for one of the `I_*_` prefixes.
pub fn item_key(prefix: &str, n: usize) -> String {
    format!("{prefix}{n}")
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------

/// One of the service's APIs: `POST {base}/api/<path>/rest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AtobaraiService {
    /// 00 order registration and credit check.
    Order,
    /// 01 credit status.
    Status,
    /// 02 carrier list.
    DelivList,
    /// 03 merchant order number → system order id.
    IdMap,
    /// 04 tracking-number registration.
    Shipping,
    /// 05 cancel request.
    Cancel,
    /// 08 tracking-number correction (not used by the daemon yet).
    JnumMod,
    /// 09 order detail.
    Detail,
    /// 11 order modification before shipment (not used by the daemon yet).
    OrderMod,
}

impl AtobaraiService {
    /// Every service of the contract.
    pub const ALL: [AtobaraiService; 9] = [
        AtobaraiService::Order,
        AtobaraiService::Status,
        AtobaraiService::DelivList,
        AtobaraiService::IdMap,
        AtobaraiService::Shipping,
        AtobaraiService::Cancel,
        AtobaraiService::JnumMod,
        AtobaraiService::Detail,
        AtobaraiService::OrderMod,
    ];

    /// The path segment: `/api/<segment>/rest`.
    pub fn segment(self) -> &'static str {
        match self {
            AtobaraiService::Order => "order",
            AtobaraiService::Status => "status",
            AtobaraiService::DelivList => "delivlist",
            AtobaraiService::IdMap => "idmap",
            AtobaraiService::Shipping => "shipping",
            AtobaraiService::Cancel => "cancel",
            AtobaraiService::JnumMod => "jnummod",
            AtobaraiService::Detail => "detail",
            AtobaraiService::OrderMod => "ordermod",
        }
    }

    /// The two-digit number in the service's error codes (`E04301`).
    pub fn number(self) -> &'static str {
        match self {
            AtobaraiService::Order => "00",
            AtobaraiService::Status => "01",
            AtobaraiService::DelivList => "02",
            AtobaraiService::IdMap => "03",
            AtobaraiService::Shipping => "04",
            AtobaraiService::Cancel => "05",
            AtobaraiService::JnumMod => "08",
            AtobaraiService::Detail => "09",
            AtobaraiService::OrderMod => "11",
        }
    }

    /// `/api/<segment>/rest`.
    pub fn path(self) -> String {
        format!("/api/{}/rest", self.segment())
    }

    /// The service's code for a common error suffix: `Shipping.code(IP_NOT_ALLOWED)` is `E04101`.
    pub fn code(self, suffix: &str) -> String {
        format!("E{}{suffix}", self.number())
    }
}

impl fmt::Display for AtobaraiService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.segment())
    }
}

// ---------------------------------------------------------------------------
// Request forms
// ---------------------------------------------------------------------------

/// A form as sent: ordered `(key, value)` pairs, keys possibly repeated
/// (`OrderId[]`).
pub type Form = Vec<(String, String)>;

/// Who the caller is; the service has no secret, only these ids and an IP
/// allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtobaraiIds {
    /// 事業者ID.
    pub enterprise_id: u64,
    /// サイトID (order registration only).
    pub site_id: u64,
    /// APIユーザID.
    pub api_user_id: u64,
}

fn push(form: &mut Form, key: &str, value: impl Into<String>) {
    form.push((key.to_string(), value.into()));
}

/// The form of order registration (00). `O_UseAmount` is computed from the
/// lines. Optional keys are left out rather than sent blank.
pub fn order_form(ids: AtobaraiIds, order: &OrderRegistration) -> Form {
    let mut form = Form::new();
    push(
        &mut form,
        O_RECEIPT_ORDER_DATE,
        order.ordered_on.format("%Y/%m/%d").to_string(),
    );
    push(&mut form, O_ENTERPRISE_ID, ids.enterprise_id.to_string());
    push(&mut form, O_SITE_ID, ids.site_id.to_string());
    push(&mut form, O_API_USER_ID, ids.api_user_id.to_string());
    push(&mut form, O_ENT_ORDER_ID, order.ent_order_id.trim());
    push(&mut form, O_USE_AMOUNT, order.use_amount().to_string());
    push(
        &mut form,
        O_ANOTHER_DELI_FLG,
        if order.delivery.is_some() { "1" } else { "0" },
    );
    if let Some(test) = order.test {
        push(&mut form, O_TEST_ORDER_FLG, "1");
        push(&mut form, O_TEST_CREDIT_RESULT, test.code().to_string());
    }
    push_party(
        &mut form,
        &order.buyer,
        [
            C_POSTAL_CODE,
            C_UNITING_ADDRESS,
            C_NAME_KJ,
            C_NAME_KN,
            C_PHONE,
        ],
    );
    if let Some(mail) = order
        .buyer
        .email
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        push(&mut form, C_MAIL_ADDRESS, mail);
    }
    if let Some(delivery) = &order.delivery {
        push_party(
            &mut form,
            delivery,
            [
                D_POSTAL_CODE,
                D_UNITING_ADDRESS,
                D_DEST_NAME_KJ,
                D_DEST_NAME_KN,
                D_PHONE,
            ],
        );
    }
    for (i, line) in order.lines.iter().enumerate() {
        let n = i + 1;
        form.push((item_key(I_ITEM_NAME_KJ, n), line.name.trim().to_string()));
        form.push((item_key(I_UNIT_PRICE, n), line.unit_price.to_string()));
        form.push((item_key(I_ITEM_NUM, n), line.qty.to_string()));
        if let Some(rate) = line.tax_rate {
            form.push((item_key(I_TAX_RATE, n), rate.to_string()));
        }
    }
    push(&mut form, I_ITEM_CARRIAGE, order.carriage.to_string());
    push(&mut form, I_ITEM_CHARGE, order.charge.to_string());
    if let Some(tax) = order.outside_tax {
        push(&mut form, I_OUTSIDE_TAX, tax.to_string());
    }
    form
}

/// Postcode, address, name, kana, phone under the given keys.
fn push_party(form: &mut Form, party: &Party, keys: [&str; 5]) {
    let [postal, address, name, kana, phone] = keys;
    push(form, postal, party.postal_code.trim());
    push(form, address, party.address.trim());
    push(form, name, party.name.trim());
    if !party.name_kana.trim().is_empty() {
        push(form, kana, party.name_kana.trim());
    }
    push(form, phone, party.phone.trim());
}

fn caller(ids: AtobaraiIds) -> Form {
    vec![
        (ENTERPRISE_ID.to_string(), ids.enterprise_id.to_string()),
        (API_USER_ID.to_string(), ids.api_user_id.to_string()),
    ]
}

/// The form of `status` (01).
pub fn status_form(ids: AtobaraiIds, system_order_ids: &[String]) -> Form {
    let mut form = caller(ids);
    for id in system_order_ids {
        push(&mut form, ORDER_IDS, id.trim());
    }
    form
}

/// The form of `delivlist` (02).
pub fn delivlist_form(ids: AtobaraiIds) -> Form {
    caller(ids)
}

/// The form of `idmap` (03).
pub fn idmap_form(ids: AtobaraiIds, ent_order_ids: &[String]) -> Form {
    let mut form = caller(ids);
    for id in ent_order_ids {
        push(&mut form, ENT_ORDER_IDS, id.trim());
    }
    form
}

/// The form of `shipping` (04).
pub fn shipping_form(
    ids: AtobaraiIds,
    system_order_id: &str,
    deliv_id: u32,
    journal_num: &str,
) -> Form {
    let mut form = caller(ids);
    push(&mut form, ORDER_ID, system_order_id.trim());
    push(&mut form, DELIV_ID, deliv_id.to_string());
    push(&mut form, JOURNAL_NUM, journal_num.trim());
    form
}

/// The form of `cancel` (05): `OrderId[]` and `Reason[]` pair up by position.
pub fn cancel_form(ids: AtobaraiIds, orders: &[(String, String)]) -> Form {
    let mut form = caller(ids);
    for (id, reason) in orders {
        push(&mut form, ORDER_IDS, id.trim());
        push(&mut form, REASONS, reason.trim());
    }
    form
}

/// The form of `detail` (09).
pub fn detail_form(
    ids: AtobaraiIds,
    system_order_ids: &[String],
    ent_order_ids: &[String],
) -> Form {
    let mut form = caller(ids);
    for id in system_order_ids {
        push(&mut form, ORDER_IDS, id.trim());
    }
    for id in ent_order_ids {
        push(&mut form, ENT_ORDER_IDS, id.trim());
    }
    form
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// `<status>` of a successful answer.
pub const STATUS_SUCCESS: &str = "success";
/// `<status>` of a refused one.
pub const STATUS_ERROR: &str = "error";

/// Every `<response>` the services send, as one lenient shape: each service
/// fills the elements it has and the rest stay empty. Unknown elements are
/// ignored, so an answer with more fields than the contract names still reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename = "response")]
pub struct AtobaraiResponse {
    /// `success` or `error`.
    #[serde(default)]
    pub status: String,
    /// The error (or notice) messages.
    #[serde(default)]
    pub messages: AtobaraiMessages,
    /// 00: the merchant order number echoed; 04: the system order id.
    #[serde(rename = "orderId", default)]
    pub order_id: Option<String>,
    /// 00: the new system order id.
    #[serde(rename = "systemOrderId", default)]
    pub system_order_id: Option<String>,
    /// 00: the credit result.
    #[serde(rename = "orderStatus", default)]
    pub order_status: Option<AtobaraiCode>,
    /// 04: the carrier recorded, with its name as an attribute.
    #[serde(rename = "delivId", default)]
    pub deliv_id: Option<AtobaraiDelivId>,
    /// 04: the tracking number recorded.
    #[serde(rename = "journalNum", default)]
    pub journal_num: Option<String>,
    /// 01, 02, 03, 05, 09: one `<result>` per order or carrier.
    #[serde(default)]
    pub results: AtobaraiResults,
}

/// `<messages>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AtobaraiMessages {
    /// Each `<message cd="…">text</message>`.
    #[serde(rename = "message", default)]
    pub messages: Vec<AtobaraiMessage>,
}

/// `<message cd="E00303">…</message>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AtobaraiMessage {
    /// The error code.
    #[serde(rename = "@cd", default)]
    pub code: String,
    /// The service's (Japanese) text.
    #[serde(rename = "$text", default)]
    pub text: String,
}

/// A coded element. Most services put the code in a `cd` attribute and a
/// label in the text (`<orderStatus cd="1">与信OK</orderStatus>`,
/// `<error cd="E05301">…</error>`); `detail` puts the code in the text and
/// the label in an attribute (`<orderStatus orderStatusName="請求書発行待ち">2</orderStatus>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AtobaraiCode {
    /// The code, where it is an attribute.
    #[serde(rename = "@cd", default)]
    pub cd: String,
    /// The label, or (`detail`) the code.
    #[serde(rename = "$text", default)]
    pub label: String,
    /// `detail`: the status's name.
    #[serde(rename = "@orderStatusName", default)]
    pub status_name: Option<String>,
}

impl AtobaraiCode {
    /// The numeric code (`orderStatus`): the `cd` attribute where there is
    /// one, else the element's text.
    pub fn number(&self) -> Option<i32> {
        let cd = self.cd.trim();
        if cd.is_empty() {
            self.label.trim().parse().ok()
        } else {
            cd.parse().ok()
        }
    }
}

/// `<delivId name="ヤマト運輸">1</delivId>` (04), `<delivId>1</delivId>` (02)
/// or `<deliveryId deliveryName="佐川急便">1</deliveryId>` (09).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AtobaraiDelivId {
    /// The carrier's name, when given as an attribute.
    #[serde(rename = "@name", alias = "@deliveryName", default)]
    pub name: Option<String>,
    /// The id.
    #[serde(rename = "$text", default)]
    pub id: String,
}

impl AtobaraiDelivId {
    /// The numeric id.
    pub fn number(&self) -> Option<u32> {
        self.id.trim().parse().ok()
    }
}

/// `<results>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AtobaraiResults {
    /// Each `<result>`.
    #[serde(rename = "result", default)]
    pub results: Vec<AtobaraiResult>,
}

/// One `<result>`: the union of what status, delivlist, idmap, cancel and
/// detail put in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AtobaraiResult {
    /// 01, 03, 05, 09: the system order id.
    #[serde(rename = "orderId", default)]
    pub order_id: Option<String>,
    /// 01, 03, 09: the merchant order number.
    #[serde(rename = "entOrderId", default)]
    pub ent_order_id: Option<String>,
    /// 01, 09: the status code.
    #[serde(rename = "orderStatus", default)]
    pub order_status: Option<AtobaraiCode>,
    /// 05: `success` or `error`.
    #[serde(rename = "cancelStatus", default)]
    pub cancel_status: Option<String>,
    /// 05: why the cancel was refused.
    #[serde(default)]
    pub error: Option<AtobaraiCode>,
    /// 02: the carrier id.
    #[serde(rename = "delivId", default)]
    pub deliv_id: Option<AtobaraiDelivId>,
    /// 02: the carrier's name.
    #[serde(default)]
    pub name: Option<String>,
    /// 02: the carrier's short name.
    #[serde(rename = "shortName", default)]
    pub short_name: Option<String>,
    /// 09: `1` once a tracking number is registered.
    #[serde(rename = "isShipped", default)]
    pub is_shipped: Option<String>,
    /// 09: the carrier id of the registered tracking number, its name as an attribute.
    #[serde(rename = "deliveryId", default)]
    pub delivery_id: Option<AtobaraiDelivId>,
    /// 09: the registered tracking number.
    #[serde(rename = "journalNumber", default)]
    pub journal_number: Option<String>,
    /// 09: `1` once the carrier confirmed delivery.
    #[serde(rename = "isArrivalConfirmed", default)]
    pub is_arrival_confirmed: Option<String>,
    /// 09: `1` once the buyer paid.
    #[serde(rename = "isReceiptConfirmed", default)]
    pub is_receipt_confirmed: Option<String>,
}

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable Atobarai.com answer: {0}")]
pub struct ParseError(pub String);

/// Parses a `<response>` document, skipping any text printed before it.
pub fn parse_response(body: &str) -> Result<AtobaraiResponse, ParseError> {
    // The cancel controller forces PHP's display_errors on, so a warning can
    // stand in front of the XML: read from the first `<?xml` / `<response`.
    let start = ["<?xml", "<response"]
        .iter()
        .filter_map(|tag| body.find(tag))
        .min()
        .unwrap_or(0);
    let xml = &body[start..];
    let response: AtobaraiResponse =
        quick_xml::de::from_str(xml).map_err(|e| ParseError(e.to_string()))?;
    if response.status.trim().is_empty() {
        return Err(ParseError("no <status>".to_string()));
    }
    Ok(response)
}

/// A flag as the service may write it: `1`/`true` is set; anything else,
/// absence included, is not.
pub fn flag(value: Option<&str>) -> bool {
    matches!(
        value.map(str::trim),
        Some("1") | Some("true") | Some("TRUE") | Some("True")
    )
}

/// A text element's value, trimmed; `None` when absent or blank.
pub fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests;

mod codes;
pub use codes::*;
