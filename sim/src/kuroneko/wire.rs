//! Kuroneko Atobarai's wire as the contract's "Transport" section writes it:
//! one form POST per function under `/kuroneko-atobarai-api/`, and always an
//! HTTP 200 `<return>` XML answer. Written from the contract, not from the
//! adapter, so that a field the adapter names wrong reads here as missing.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::jst;

/// The path prefix of every function (contract, Transport).
pub const API_PATH: &str = "/kuroneko-atobarai-api";

/// The content type a client sends (contract, Transport); the simulator
/// takes any `application/x-www-form-urlencoded`, whatever its charset says.
pub const FORM_UTF8: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// The content type of every answer (contract, Transport: "XML, UTF-8").
pub const XML_UTF8: &str = "text/xml; charset=UTF-8";

/// Which function a request calls (contract, Functions), and which one a
/// fault applies to and the stats count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// KAARA0010: credit request (order registration and scoring).
    Credit,
    /// KAARS0010: the scoring result again.
    CreditResult,
    /// KAAST0010: transaction status and warning flag.
    Status,
    /// KAASL0010: shipment register, change or cancel.
    Shipment,
    /// KAACL0010: cancel the transaction.
    Cancel,
    /// KAAKK0010: reduce the amount.
    Reduce,
    /// Whichever of the above is called next (faults only).
    Any,
}

impl Endpoint {
    /// The six functions.
    pub const FUNCS: [Endpoint; 6] = [
        Endpoint::Credit,
        Endpoint::CreditResult,
        Endpoint::Status,
        Endpoint::Shipment,
        Endpoint::Cancel,
        Endpoint::Reduce,
    ];

    /// The FUNC name (`KAARA0010`); empty for `Any`.
    pub fn func(self) -> &'static str {
        match self {
            Endpoint::Credit => "KAARA0010",
            Endpoint::CreditResult => "KAARS0010",
            Endpoint::Status => "KAAST0010",
            Endpoint::Shipment => "KAASL0010",
            Endpoint::Cancel => "KAACL0010",
            Endpoint::Reduce => "KAAKK0010",
            Endpoint::Any => "",
        }
    }

    /// `/kuroneko-atobarai-api/<FUNC>APIAction_execute.action`.
    pub fn path(self) -> String {
        format!("{API_PATH}/{}APIAction_execute.action", self.func())
    }

    /// The prefix of the function's error codes (`kaara` of `kaara040E`).
    pub fn prefix(self) -> &'static str {
        match self {
            Endpoint::Credit => "kaara",
            Endpoint::CreditResult => "kaars",
            Endpoint::Status => "kaast",
            Endpoint::Shipment => "kaasl",
            Endpoint::Cancel => "kaacl",
            Endpoint::Reduce => "kaakk",
            Endpoint::Any => "kaa",
        }
    }

    /// Whether the answer carries `requestDate` instead of `returnDate`
    /// (the contract says some functions do; the simulator picks these two
    /// so that clients are tested against both).
    pub fn answers_request_date(self) -> bool {
        match self {
            Endpoint::Status | Endpoint::Shipment => true,
            Endpoint::Credit
            | Endpoint::CreditResult
            | Endpoint::Cancel
            | Endpoint::Reduce
            | Endpoint::Any => false,
        }
    }

    /// Whether calls right after the credit request fail (the seed names
    /// payment changes, shipment registration and cancellation).
    pub(crate) fn settles_after_credit(self) -> bool {
        match self {
            Endpoint::Shipment | Endpoint::Cancel | Endpoint::Reduce => true,
            Endpoint::Credit | Endpoint::CreditResult | Endpoint::Status | Endpoint::Any => false,
        }
    }
}

/// The request fields, as the contract spells them (Transport and Functions).
pub mod field {
    /// 加盟店コード, 11 digits (every request).
    pub const STORE_CODE: &str = "ycfStrCode";
    /// Up to 8 letters or digits (every request).
    pub const PASSWORD: &str = "password";
    /// 1–20 of `[0-9A-Za-z_-]`, unique per merchant (every request).
    pub const ORDER_NO: &str = "orderNo";
    /// `yyyyMMddHHmmss`, JST (every request).
    pub const REQUEST_DATE: &str = "requestDate";
    /// KAARA: `yyyyMMdd`.
    pub const ORDER_YMD: &str = "orderYmd";
    /// KAARA, KAAKK, KAASL (processDiv 1): `yyyyMMdd`.
    pub const SHIP_YMD: &str = "shipYmd";
    /// KAARA: the buyer, full-width, ≤ 30.
    pub const NAME: &str = "name";
    /// KAARA: the buyer's reading, half-width kana.
    pub const NAME_KANA: &str = "nameKana";
    /// KAARA, KAAKK: 7 digits or `NNN-NNNN`, existing.
    pub const POST_CODE: &str = "postCode";
    /// KAARA, KAAKK: full-width, ≤ 25, starts with a prefecture.
    pub const ADDRESS1: &str = "address1";
    /// KAARA, KAAKK: full-width, ≤ 25.
    pub const ADDRESS2: &str = "address2";
    /// KAARA: 10 or 11 digits starting with 0, hyphens allowed.
    pub const TEL_NUM: &str = "telNum";
    /// KAARA: ≤ 64.
    pub const EMAIL: &str = "email";
    /// KAARA, KAAKK: 1..999999, Σ `subTotal`.
    pub const TOTAL_AMOUNT: &str = "totalAmount";
    /// KAARA, KAAKK: how the invoice is sent (each its own code set).
    pub const SEND_DIV: &str = "sendDiv";
    /// Prefix of `itemName1..10`.
    pub const ITEM_NAME: &str = "itemName";
    /// Prefix of `itemCount1..10`.
    pub const ITEM_COUNT: &str = "itemCount";
    /// Prefix of `unitPrice1..10`.
    pub const UNIT_PRICE: &str = "unitPrice";
    /// Prefix of `subTotal1..10`.
    pub const SUB_TOTAL: &str = "subTotal";
    /// KAARA gift: the recipient's name.
    pub const SEND_NAME: &str = "sendName";
    /// KAARA gift: the recipient's postcode.
    pub const SEND_POST_CODE: &str = "sendPostCode";
    /// KAARA gift: the recipient's address line 1.
    pub const SEND_ADDRESS1: &str = "sendAddress1";
    /// KAARA gift: the recipient's address line 2.
    pub const SEND_ADDRESS2: &str = "sendAddress2";
    /// KAARA gift: the recipient's phone.
    pub const SEND_TEL_NUM: &str = "sendTelNum";
    /// KAASL: the tracking number, or the orderNo for another carrier.
    pub const PAYMENT_NO: &str = "paymentNo";
    /// KAASL: 0 register, 1 change, 2 other carrier, 9 cancel.
    pub const PROCESS_DIV: &str = "processDiv";
    /// KAASL processDiv 1: the number being replaced.
    pub const BEFORE_PAYMENT_NO: &str = "beforePaymentNo";
}

/// Item lines one request carries (`itemName1..10`).
pub const MAX_LINES: usize = 10;

/// `{prefix}{n}` for item line `n` (1-based): `itemName3`.
pub fn item_field(prefix: &str, n: usize) -> String {
    format!("{prefix}{n}")
}

/// A form as it arrived: name/value pairs in order, repeats kept.
pub type Form = Vec<(String, String)>;

/// The value of `name` in a form (the first one).
pub fn form_value<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Decodes `application/x-www-form-urlencoded` UTF-8 (`+` is a space,
/// `%XX` a byte; a broken escape is kept as it is; invalid UTF-8 is replaced).
pub fn decode_form(body: &[u8]) -> Form {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let name = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            (decode_component(name), decode_component(value))
        })
        .collect()
}

fn decode_component(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a form as a client sends it (UTF-8; unreserved characters kept,
/// everything else `%XX`), for tests that speak raw HTTP to the simulator.
pub fn encode_form(form: &Form) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    form.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `yyyyMMddHHmmss` in JST, as `requestDate` and `returnDate` are written.
pub fn format_datetime(at: &DateTime<FixedOffset>) -> String {
    at.with_timezone(&jst()).format("%Y%m%d%H%M%S").to_string()
}

/// `yyyyMMdd` (`orderYmd`, `shipYmd`).
pub fn format_ymd(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// Reads `yyyyMMdd`: exactly eight digits of a real date.
pub fn parse_ymd(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// Reads `yyyyMMddHHmmss` (exactly fourteen digits) as JST.
pub fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S")
        .ok()?
        .and_local_timezone(jst())
        .single()
}

/// `returnCode` of a success (contract, Transport).
pub const RETURN_OK: &str = "0";
/// `returnCode` of an error, which carries an `errorCode`.
pub const RETURN_ERROR: &str = "1";

/// `<return>` in the contract's order: `ycfStrCode`, `orderNo`,
/// `returnCode`, `result`, (`warning`), `errorCode`, then `returnDate` or
/// `requestDate`.
#[derive(Debug, Serialize)]
#[serde(rename = "return")]
pub(crate) struct XmlReturn<'a> {
    #[serde(rename = "ycfStrCode")]
    pub store_code: &'a str,
    #[serde(rename = "orderNo")]
    pub order_no: &'a str,
    #[serde(rename = "returnCode")]
    pub return_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    #[serde(rename = "errorCode")]
    pub error_code: &'a str,
    #[serde(rename = "returnDate", skip_serializing_if = "Option::is_none")]
    pub return_date: Option<String>,
    #[serde(rename = "requestDate", skip_serializing_if = "Option::is_none")]
    pub request_date: Option<String>,
}

impl XmlReturn<'_> {
    /// The document with its declaration.
    pub(crate) fn to_xml(&self) -> Result<String, quick_xml::SeError> {
        let body = quick_xml::se::to_string(self)?;
        Ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"
        ))
    }
}
