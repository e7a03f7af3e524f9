//! Kuroneko Atobarai on the wire: the function paths, the form field names,
//! the `<return>` XML and the error codes.
//!
//! Requests are forms (`application/x-www-form-urlencoded; charset=UTF-8`)
//! built only from the constants below, so a misspelt field is a test
//! failure rather than a silent "field missing" at Yamato. Answers are
//! always HTTP 200 with `<return>`; `returnCode` 1 carries an `errorCode`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;

use super::normalize::{NormalizedCredit, NormalizedParty};

/// Path prefix of every function under the configured host.
pub const API_PATH: &str = "/kuroneko-atobarai-api";
/// Credit request (order registration and scoring).
pub const FUNC_CREDIT: &str = "KAARA0010";
/// Re-query of the scoring result.
pub const FUNC_CREDIT_RESULT: &str = "KAARS0010";
/// Transaction status and warning flag.
pub const FUNC_STATUS: &str = "KAAST0010";
/// Shipment register / change / cancel.
pub const FUNC_SHIPMENT: &str = "KAASL0010";
/// Cancel the transaction.
pub const FUNC_CANCEL: &str = "KAACL0010";
/// Reduce the amount.
pub const FUNC_REDUCE: &str = "KAAKK0010";
/// Every function, for routing and tests.
pub const FUNCS: [&str; 6] = [
    FUNC_CREDIT,
    FUNC_CREDIT_RESULT,
    FUNC_STATUS,
    FUNC_SHIPMENT,
    FUNC_CANCEL,
    FUNC_REDUCE,
];

/// The content type of every request.
pub const FORM_UTF8: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// `returnCode` of a success.
pub const RETURN_OK: &str = "0";
/// `returnCode` of an error (`errorCode` says which).
pub const RETURN_ERROR: &str = "1";

/// The form field names.
pub mod field {
    /// 加盟店コード, 11 digits (every request).
    pub const STORE_CODE: &str = "ycfStrCode";
    /// API password (every request).
    pub const PASSWORD: &str = "password";
    /// The attempt's order number (every request).
    pub const ORDER_NO: &str = "orderNo";
    /// `yyyyMMddHHmmss` JST (every request).
    pub const REQUEST_DATE: &str = "requestDate";
    /// `yyyyMMdd`.
    pub const ORDER_YMD: &str = "orderYmd";
    /// `yyyyMMdd`.
    pub const SHIP_YMD: &str = "shipYmd";
    /// Buyer's name, full-width.
    pub const NAME: &str = "name";
    /// Buyer's reading, half-width katakana.
    pub const NAME_KANA: &str = "nameKana";
    /// Buyer's postcode.
    pub const POST_CODE: &str = "postCode";
    /// Address line 1, starting with the prefecture.
    pub const ADDRESS1: &str = "address1";
    /// Address line 2.
    pub const ADDRESS2: &str = "address2";
    /// Buyer's phone.
    pub const TEL_NUM: &str = "telNum";
    /// Buyer's email.
    pub const EMAIL: &str = "email";
    /// Σ `subTotal`.
    pub const TOTAL_AMOUNT: &str = "totalAmount";
    /// How the invoice is sent.
    pub const SEND_DIV: &str = "sendDiv";
    /// Prefix of `itemName1..10`.
    pub const ITEM_NAME: &str = "itemName";
    /// Prefix of `itemCount1..10`.
    pub const ITEM_COUNT: &str = "itemCount";
    /// Prefix of `unitPrice1..10`.
    pub const UNIT_PRICE: &str = "unitPrice";
    /// Prefix of `subTotal1..10`.
    pub const SUB_TOTAL: &str = "subTotal";
    /// Recipient's name (gift).
    pub const SEND_NAME: &str = "sendName";
    /// Recipient's postcode (gift).
    pub const SEND_POST_CODE: &str = "sendPostCode";
    /// Recipient's address line 1 (gift).
    pub const SEND_ADDRESS1: &str = "sendAddress1";
    /// Recipient's address line 2 (gift).
    pub const SEND_ADDRESS2: &str = "sendAddress2";
    /// Recipient's phone (gift).
    pub const SEND_TEL_NUM: &str = "sendTelNum";
    /// The cart system's code (not sent by this adapter).
    pub const CART_CODE: &str = "cartCode";
    /// Tracking number (processDiv 0/1) or the orderNo (processDiv 2).
    pub const PAYMENT_NO: &str = "paymentNo";
    /// What KAASL does.
    pub const PROCESS_DIV: &str = "processDiv";
    /// The tracking number being replaced (processDiv 1).
    pub const BEFORE_PAYMENT_NO: &str = "beforePaymentNo";
}

/// `{prefix}{n}` for item line `n` (1-based): `itemName3`.
pub fn item_field(prefix: &str, n: usize) -> String {
    format!("{prefix}{n}")
}

/// The path of a function: `/kuroneko-atobarai-api/KAARA0010APIAction_execute.action`.
pub fn func_path(func: &str) -> String {
    format!("{API_PATH}/{func}APIAction_execute.action")
}

/// A form: ordered name/value pairs.
pub type Form = Vec<(String, String)>;

/// `yyyyMMddHHmmss` in JST, as `requestDate` and `returnDate` are written.
pub fn format_request_date(at: &DateTime<FixedOffset>) -> String {
    at.with_timezone(&jst()).format("%Y%m%d%H%M%S").to_string()
}

/// `yyyyMMdd`.
pub fn format_ymd(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// Reads `yyyyMMdd` (exactly eight digits).
pub fn parse_ymd(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// Reads `yyyyMMddHHmmss` (exactly fourteen digits) as JST.
pub fn parse_request_date(s: &str) -> Option<DateTime<FixedOffset>> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S")
        .ok()?
        .and_local_timezone(jst())
        .single()
}

/// Japan Standard Time, the zone of every date Yamato reads or writes.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| unreachable!("9 h is a valid offset"))
}

/// The KAARA0010 fields after the common ones.
pub fn credit_form(credit: &NormalizedCredit) -> Form {
    let buyer = &credit.buyer;
    let mut form = vec![
        pair(field::ORDER_YMD, format_ymd(credit.ordered_on)),
        pair(field::SHIP_YMD, format_ymd(credit.ship_on)),
        pair(field::NAME, &buyer.name),
        pair(field::NAME_KANA, &buyer.name_kana),
        pair(field::POST_CODE, &buyer.post_code),
        pair(field::ADDRESS1, &buyer.address1),
        pair(field::ADDRESS2, &buyer.address2),
        pair(field::TEL_NUM, &buyer.tel_num),
        pair(field::EMAIL, buyer.email.as_deref().unwrap_or_default()),
        pair(field::TOTAL_AMOUNT, credit.total_amount.to_string()),
        pair(field::SEND_DIV, credit.send_div.code().to_string()),
    ];
    push_items(&mut form, credit);
    push_recipient(&mut form, credit.ship_to.as_ref());
    form
}

/// The KAAKK0010 fields after the common ones: the new address, lines,
/// total, ship date and invoice delivery in KAAKK's own codes
/// ([`super::InvoiceDelivery::reduce_code`]). KAAKK takes no `send*` recipient.
pub fn reduce_form(credit: &NormalizedCredit) -> Form {
    let buyer = &credit.buyer;
    let mut form = vec![
        pair(field::SHIP_YMD, format_ymd(credit.ship_on)),
        pair(field::POST_CODE, &buyer.post_code),
        pair(field::ADDRESS1, &buyer.address1),
        pair(field::ADDRESS2, &buyer.address2),
        pair(field::TOTAL_AMOUNT, credit.total_amount.to_string()),
        pair(field::SEND_DIV, credit.send_div.reduce_code().to_string()),
    ];
    push_items(&mut form, credit);
    form
}

/// The KAASL0010 fields after the common ones. `payment_no`, `ship_on` and
/// `before` are left out when `None`: `shipYmd` goes only with processDiv 1
/// (what Yamato's own plugins send), never with 0, 2 or 9.
pub fn shipment_form(
    process_div: u8,
    payment_no: Option<&str>,
    ship_on: Option<NaiveDate>,
    before: Option<&str>,
) -> Form {
    let mut form = Vec::with_capacity(4);
    if let Some(no) = payment_no {
        form.push(pair(field::PAYMENT_NO, no));
    }
    form.push(pair(field::PROCESS_DIV, process_div.to_string()));
    if let Some(date) = ship_on {
        form.push(pair(field::SHIP_YMD, format_ymd(date)));
    }
    if let Some(no) = before {
        form.push(pair(field::BEFORE_PAYMENT_NO, no));
    }
    form
}

fn push_items(form: &mut Form, credit: &NormalizedCredit) {
    for (i, line) in credit.items.iter().enumerate() {
        let n = i + 1;
        form.push((item_field(field::ITEM_NAME, n), line.name.clone()));
        form.push((item_field(field::ITEM_COUNT, n), line.count.to_string()));
        form.push((
            item_field(field::UNIT_PRICE, n),
            line.unit_price.to_string(),
        ));
        form.push((item_field(field::SUB_TOTAL, n), line.sub_total.to_string()));
    }
}

fn push_recipient(form: &mut Form, recipient: Option<&NormalizedParty>) {
    if let Some(to) = recipient {
        form.push(pair(field::SEND_NAME, &to.name));
        form.push(pair(field::SEND_POST_CODE, &to.post_code));
        form.push(pair(field::SEND_ADDRESS1, &to.address1));
        form.push(pair(field::SEND_ADDRESS2, &to.address2));
        if !to.tel_num.is_empty() {
            form.push(pair(field::SEND_TEL_NUM, &to.tel_num));
        }
    }
}

fn pair(name: &str, value: impl AsRef<str>) -> (String, String) {
    (name.to_string(), value.as_ref().to_string())
}

/// The `<return>` element, read leniently: every child is optional, unknown
/// children are ignored, `returnDate` and `requestDate` are both kept, and
/// `errorCode` may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct KuronekoReturn {
    /// Echo of the store code.
    #[serde(rename = "ycfStrCode", default)]
    pub store_code: Option<String>,
    /// Echo of the order number.
    #[serde(rename = "orderNo", default)]
    pub order_no: Option<String>,
    /// `0` success, `1` error.
    #[serde(rename = "returnCode", default)]
    pub return_code: Option<String>,
    /// KAARA/KAARS: the scoring result; KAAST: the transaction status.
    #[serde(default)]
    pub result: Option<String>,
    /// KAAST: the warning flag.
    #[serde(default)]
    pub warning: Option<String>,
    /// The error codes (usually one; empty on success).
    #[serde(rename = "errorCode", default)]
    pub error_codes: Vec<String>,
    /// When Yamato answered.
    #[serde(rename = "returnDate", default)]
    pub return_date: Option<String>,
    /// What some functions send instead of `returnDate`.
    #[serde(rename = "requestDate", default)]
    pub request_date: Option<String>,
}

/// What a `<return>` says, once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnOutcome {
    /// `returnCode` 0, with `result` and `warning` when present.
    Success {
        /// `result`, trimmed; `None` when absent or empty.
        result: Option<String>,
        /// `warning`, trimmed; `None` when absent or empty.
        warning: Option<String>,
    },
    /// `returnCode` 1 with the first non-empty `errorCode` (empty when none was sent).
    Error {
        /// e.g. `kaara040E`.
        code: String,
    },
}

impl KuronekoReturn {
    /// Success or error; `None` when `returnCode` is missing or neither 0 nor 1.
    pub fn outcome(&self) -> Option<ReturnOutcome> {
        let trimmed = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        match self.return_code.as_deref().map(str::trim) {
            Some(RETURN_OK) => Some(ReturnOutcome::Success {
                result: trimmed(&self.result),
                warning: trimmed(&self.warning),
            }),
            Some(RETURN_ERROR) => Some(ReturnOutcome::Error {
                code: self
                    .error_codes
                    .iter()
                    .map(|c| c.trim())
                    .find(|c| !c.is_empty())
                    .unwrap_or_default()
                    .to_string(),
            }),
            _ => None,
        }
    }

    /// `returnDate`, or `requestDate` when that is what was sent.
    pub fn date(&self) -> Option<&str> {
        self.return_date
            .as_deref()
            .or(self.request_date.as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// Why a body is not a readable `<return>`.
#[derive(Debug, thiserror::Error)]
pub enum ReturnError {
    /// Well-formed or not, the document's root is not `<return>` (an HTML
    /// maintenance page, a proxy's answer).
    #[error("the document's root is not <return>")]
    NotAReturn,
    /// The XML cannot be read into the `<return>` fields.
    #[error("unreadable <return>: {0}")]
    Xml(#[from] quick_xml::DeError),
}

/// Reads a `<return>` document: the root must be `<return>`; its children are
/// read leniently (see [`KuronekoReturn`]).
pub fn parse_return(xml: &str) -> Result<KuronekoReturn, ReturnError> {
    if root_name(xml).as_deref() != Some("return") {
        return Err(ReturnError::NotAReturn);
    }
    Ok(quick_xml::de::from_str(xml)?)
}

/// The name of the first element, after the declaration and any comments.
fn root_name(xml: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name();
                let name: &str = name.as_ref();
                return Some(name.to_string());
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Whether `code` is Yamato's own failure (`err0001`–`err0003`): retry later.
pub fn is_system_error(code: &str) -> bool {
    matches!(code, "err0001" | "err0002" | "err0003")
}

/// Whether `code` refuses the store code or password. Each function numbers
/// them its own way (Yamato's error catalogue): KAARA `002E`–`004E` and
/// `090E`–`092E`, KAARS `002E`–`004E`, `012E`/`013E`, KAAST the same and
/// `015E`, KAACL `002E`–`004E`, `013E`/`014E`, `017E`, KAASL `002E`–`004E`,
/// `036E`/`037E`, `041E`, KAAKK `001E`–`004E` and `059E`–`061E`.
pub fn is_credential_error(code: &str) -> bool {
    matches!(
        code_number(code),
        Some(("kaara", 2..=4 | 90..=92))
            | Some(("kaars", 2..=4 | 12 | 13))
            | Some(("kaast", 2..=4 | 12 | 13 | 15))
            | Some(("kaacl", 2..=4 | 13 | 14 | 17))
            | Some(("kaasl", 2..=4 | 36 | 37 | 41))
            | Some(("kaakk", 1..=4 | 59..=61))
    )
}

/// Whether `code` says the order is unknown: `008E` of KAARS (which also
/// means "already cancelled"), KAAST, KAASL, KAACL and KAAKK. KAARA's `008E`
/// is an orderNo too long, not this.
pub fn is_unknown_order(code: &str) -> bool {
    matches!(
        code_number(code),
        Some(("kaars" | "kaast" | "kaasl" | "kaacl" | "kaakk", 8))
    )
}

/// `kaara040E` → (`kaara`, 40).
fn code_number(code: &str) -> Option<(&str, u16)> {
    let body = code.strip_suffix('E')?;
    if body.len() != 8 || !body.is_ascii() {
        return None;
    }
    let (func, number) = body.split_at(5);
    if !func.starts_with("kaa") || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((func, number.parse().ok()?))
}

/// A readable English message for an error code. Codes the contract names
/// get their meaning; others get a generic message with the code, so a
/// person can look it up in Yamato's manual.
pub fn error_message(code: &str) -> String {
    let known = match code {
        "kaara009E" => Some("the orderNo was already used; a new attempt needs a new orderNo"),
        "kaara029E" => Some("the postcode does not exist"),
        "kaara034E" => Some("address1 does not start with a prefecture"),
        "kaara040E" => {
            Some("the phone number must have 10 (landline) or 11 (mobile) digits starting with 0")
        }
        "kaara049E" => Some("the total amount is outside 1..=999999 yen"),
        "kaara022E" | "kaara033E" | "kaara037E" | "kaara056E" | "kaara068E" | "kaara077E"
        | "kaara081E" | "kaakk024E" | "kaakk028E" | "kaakk033E" => Some(
            "a name, address or item name has a character outside Yamato's range (machine-dependent characters such as 髙, ①, ㈱ or emoji)",
        ),
        "kaara059E" | "kaakk037E" => Some("an item count has more than 4 digits (at most 9999)"),
        "kaakk054E" | "kaakk055E" => Some(
            "KAAKK's sendDiv must be 0 (mailed separately), or 1 only with an enclosed-invoice contract",
        ),
        "kaakk017E" | "kaasl042E" => {
            Some("the transaction is more than 90 days past its credit request")
        }
        "kaara101E" => Some("the total amount differs from the sum of the line subtotals"),
        "kaara103E" => Some("the address has no street number"),
        "kaasl014E" => Some("the Yamato tracking number has a wrong check digit"),
        "kaasl020E" => Some("a shipment cannot be registered in the transaction's status"),
        "kaasl022E" => {
            Some("the shipment cannot be changed or cancelled in the transaction's status")
        }
        "kaasl045E" => Some("the tracking number already covers 3 orders, the most allowed"),
        "kaacl009E" => Some("the transaction cannot be cancelled in its status"),
        "kaakk009E" => Some("the amount can only be changed when the credit result is OK"),
        "kaakk011E" => Some("the amount cannot be changed in the transaction's status"),
        "kaakk050E" => {
            Some("the amount can only go down; cancel and request a new credit to raise it")
        }
        _ => None,
    };
    if let Some(text) = known {
        return format!("{text} ({code})");
    }
    if is_system_error(code) {
        return format!("system error at Yamato; retry later ({code})");
    }
    if is_credential_error(code) {
        return format!(
            "the store code or password was refused; check [kuroneko] store_code and password ({code})"
        );
    }
    if code == "kaars008E" {
        return format!("Yamato does not know this orderNo or it is already cancelled ({code})");
    }
    if is_unknown_order(code) {
        return format!("Yamato does not know this orderNo ({code})");
    }
    if code.is_empty() {
        return "Yamato reported an error without an error code".to_string();
    }
    format!("Yamato refused the request with error {code}")
}

#[cfg(test)]
mod tests;
