//! Atobarai.com's wire as the simulated service reads and writes it, written
//! from the contract (`providers/atobarai-com.md`) and not from ordersync's
//! adapter: the services and their paths, the form keys, the error codes and
//! the two status tables (the credit result of `order`/`status` and the
//! DataStatus of `detail`), with the service's Japanese labels.

use std::fmt;

// ---------------------------------------------------------------------------
// Services ("Services" table)
// ---------------------------------------------------------------------------

/// One API of the service: `POST {base}/api/<segment>/rest`; its two-digit
/// number is the middle of its error codes (`E04301`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AtobaraiService {
    /// 00 `order`: registers an order and runs the credit check.
    Order,
    /// 01 `status`: credit status of up to 100 orders.
    Status,
    /// 02 `delivlist`: the carrier master.
    DelivList,
    /// 03 `idmap`: merchant order number → system order id.
    IdMap,
    /// 04 `shipping`: registers a tracking number (伝票番号登録).
    Shipping,
    /// 05 `cancel`: cancel request for up to 100 orders.
    Cancel,
    /// 08 `jnummod`: corrects a registered tracking number (not simulated).
    JnumMod,
    /// 09 `detail`: order detail.
    Detail,
    /// 11 `ordermod`: modification before shipment (not simulated).
    OrderMod,
}

impl AtobaraiService {
    /// Every service of the contract's table.
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

    /// `(number, path segment)` as the contract's table gives them.
    fn row(self) -> (&'static str, &'static str) {
        match self {
            AtobaraiService::Order => ("00", "order"),
            AtobaraiService::Status => ("01", "status"),
            AtobaraiService::DelivList => ("02", "delivlist"),
            AtobaraiService::IdMap => ("03", "idmap"),
            AtobaraiService::Shipping => ("04", "shipping"),
            AtobaraiService::Cancel => ("05", "cancel"),
            AtobaraiService::JnumMod => ("08", "jnummod"),
            AtobaraiService::Detail => ("09", "detail"),
            AtobaraiService::OrderMod => ("11", "ordermod"),
        }
    }

    /// The two-digit service number of its error codes.
    pub fn number(self) -> &'static str {
        self.row().0
    }

    /// The path segment: `/api/<segment>/rest`.
    pub fn segment(self) -> &'static str {
        self.row().1
    }

    /// `/api/<segment>/rest`.
    pub fn path(self) -> String {
        format!("/api/{}/rest", self.segment())
    }

    /// This service's code for a common suffix: `E04` + `101`.
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
// Form keys (case-sensitive; a key the service does not know is ignored)
// ---------------------------------------------------------------------------

/// The form keys the service reads, exactly as the contract spells them.
pub mod keys {
    /// 00: the day the buyer ordered, `yyyy/mm/dd`.
    pub const O_RECEIPT_ORDER_DATE: &str = "O_ReceiptOrderDate";
    /// 00: 事業者ID.
    pub const O_ENTERPRISE_ID: &str = "O_EnterpriseId";
    /// 00: サイトID.
    pub const O_SITE_ID: &str = "O_SiteId";
    /// 00: APIユーザID.
    pub const O_API_USER_ID: &str = "O_ApiUserId";
    /// 00: the merchant's order number (≤ 100).
    pub const O_ENT_ORDER_ID: &str = "O_Ent_OrderId";
    /// 00: the billed total, integer yen.
    pub const O_USE_AMOUNT: &str = "O_UseAmount";
    /// 00: `1` = the delivery address is in the `D_*` keys.
    pub const O_ANOTHER_DELI_FLG: &str = "O_AnotherDeliFlg";
    /// 00: `1` = a test order.
    pub const O_TEST_ORDER_FLG: &str = "O_TestOrderFlg";
    /// 00: a test order's result: 0 OK, 1 NG, 2 pending.
    pub const O_TEST_CREDIT_RESULT: &str = "O_TestCreditResult";

    /// 00: buyer's postcode.
    pub const C_POSTAL_CODE: &str = "C_PostalCode";
    /// 00: buyer's whole address (≤ 100).
    pub const C_UNITING_ADDRESS: &str = "C_UnitingAddress";
    /// 00: buyer's name in kanji.
    pub const C_NAME_KJ: &str = "C_NameKj";
    /// 00: buyer's name in kana.
    pub const C_NAME_KN: &str = "C_NameKn";
    /// 00: buyer's phone.
    pub const C_PHONE: &str = "C_Phone";
    /// 00: buyer's mail address.
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

    /// 00: line `<n>`'s item name: `I_ItemNameKj_1`.
    pub const I_ITEM_NAME_KJ: &str = "I_ItemNameKj_";
    /// 00: line `<n>`'s unit price (negative for discounts).
    pub const I_UNIT_PRICE: &str = "I_UnitPrice_";
    /// 00: line `<n>`'s quantity (> 0).
    pub const I_ITEM_NUM: &str = "I_ItemNum_";
    /// 00: line `<n>`'s tax rate: blank, 0, 8 or 10.
    pub const I_TAX_RATE: &str = "I_TaxRate_";
    /// The per-line prefixes, which take the line number after them.
    pub const LINE_PREFIXES: [&str; 4] = [I_ITEM_NAME_KJ, I_UNIT_PRICE, I_ITEM_NUM, I_TAX_RATE];
    /// 00: shipping.
    pub const I_ITEM_CARRIAGE: &str = "I_ItemCarriage";
    /// 00: the shop's fee (where the merchant's 後払い fee goes).
    pub const I_ITEM_CHARGE: &str = "I_ItemCharge";
    /// 00: tax of tax-exclusive merchants.
    pub const I_OUTSIDE_TAX: &str = "I_OutsideTax";

    /// 01–09: 事業者ID.
    pub const ENTERPRISE_ID: &str = "EnterpriseId";
    /// 01–09: APIユーザID.
    pub const API_USER_ID: &str = "ApiUserId";
    /// 04: one system order id.
    pub const ORDER_ID: &str = "OrderId";
    /// 01, 05, 09: system order ids, PHP's array syntax (the key repeated).
    pub const ORDER_IDS: &str = "OrderId[]";
    /// 05: cancel reasons, by position with `OrderId[]`.
    pub const REASONS: &str = "Reason[]";
    /// 04: the carrier id from `delivlist`.
    pub const DELIV_ID: &str = "DelivId";
    /// 04: the tracking number.
    pub const JOURNAL_NUM: &str = "JournalNum";
    /// 09 (and, as the simulator reads it, 03): merchant order numbers.
    /// The contract names no key for `idmap`; this one is the simulator's
    /// guess, the same as `detail`'s.
    pub const ENT_ORDER_IDS: &str = "Ent_OrderId[]";

    /// The key of line `n` (from 1) for one of the `I_*_` prefixes.
    pub fn line(prefix: &str, n: u32) -> String {
        format!("{prefix}{n}")
    }
}

// ---------------------------------------------------------------------------
// Error codes ("Transport" and each service's section)
// ---------------------------------------------------------------------------

/// Common suffix `101`: the caller's address is not on the allow-list.
pub const IP_NOT_ALLOWED: &str = "101";
/// Common suffix `102`: the ids are invalid or not linked.
pub const BAD_IDS: &str = "102";
/// Common suffix `201`: a required field is empty.
pub const REQUIRED: &str = "201";
/// Common suffix `202`: a field has a bad format.
pub const BAD_FORMAT: &str = "202";
/// Common suffix `204`: a bad date.
pub const BAD_DATE: &str = "204";
/// Common suffix `901`: system failure.
pub const SYSTEM_FAILURE: &str = "901";
/// Common suffix `902`: maintenance.
pub const MAINTENANCE: &str = "902";

/// 00: an item line is invalid.
pub const E_ORDER_BAD_LINE: &str = "E00203";
/// 00: no item line.
pub const E_ORDER_NO_LINES: &str = "E00302";
/// 00: `O_UseAmount` ≠ Σ (UnitPrice × ItemNum) + ItemCarriage + ItemCharge (+ OutsideTax).
pub const E_ORDER_AMOUNT: &str = "E00303";
/// 00: the order date is more than 60 days ago (first Corrections).
pub const E_ORDER_TOO_OLD: &str = "E00306";
/// 00: the address has no street number.
pub const E_ORDER_NO_STREET_NUMBER: &str = "E00307";
/// 00: the postcode is unknown.
pub const E_ORDER_UNKNOWN_POSTCODE: &str = "E00308";
/// 00: the merchant order number is already registered.
pub const E_ORDER_DUPLICATE: &str = "E00309";
/// 01: none of the ids asked is known; the results are listed all the same
/// (first Corrections).
pub const E_STATUS_UNKNOWN_IDS: &str = "E01202";
/// 03, per merchant number: no order at 与信OK under it (対応注文なし).
pub const E_IDMAP_NOT_FOUND: &str = "E001";
/// 03, per merchant number: several orders at 与信OK under it (複数注文該当).
pub const E_IDMAP_SEVERAL: &str = "E002";
/// 03: none of the numbers was mapped (top message, results listed).
pub const E_IDMAP_NONE_MAPPED: &str = "E03202";
/// 04: carrier not allowed or tracking number invalid.
pub const E_SHIPPING_BAD_CARRIER_OR_NUMBER: &str = "E04202";
/// 04: the order is not credit-OK and awaiting a tracking number.
pub const E_SHIPPING_NOT_ALLOWED: &str = "E04301";
/// 05, per order: no such order (対応注文なし).
pub const E_CANCEL_NOT_FOUND: &str = "E001";
/// 05, per order: the order cannot be cancelled in its state.
pub const E_CANCEL_NOT_CANCELLABLE: &str = "E002";
/// 05, per order: the card processor (SBPS) refused, with its message.
pub const E_CANCEL_CARD_PROCESSOR: &str = "E003";
/// 05, per order: any other failure.
pub const E_CANCEL_OTHER: &str = "E999";
/// 05, top message when nothing was cancelled and at least one order could
/// not be: キャンセル可能な注文がありませんでした.
pub const E_CANCEL_NONE_CANCELLABLE: &str = "E05301";
/// 05, top message when nothing was cancelled because no order was found:
/// 有効な注文IDが指定されていません.
pub const E_CANCEL_NONE_FOUND: &str = "E05202";

/// The server's text of `E..101` (it does not name the cause).
pub const TEXT_IP_NOT_ALLOWED: &str =
    "不正なリクエストと判定されました。サポートセンターまでお問合せください。";
/// The server's text of `E..102`.
pub const TEXT_BAD_IDS: &str = "不正なリクエストと判定されました。サポートセンターまでお問合せください。WEB-APIの利用申請が行なわれていない場合は、サポートセンターまでお問合せください。";

// ---------------------------------------------------------------------------
// Statuses ("00", "01", "09")
// ---------------------------------------------------------------------------

/// The credit result `order` (00) and `status` (01) write as
/// `<orderStatus cd="1">与信OK</orderStatus>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditStatus {
    /// cd 0 与信中: under review (also 保留).
    UnderReview,
    /// cd 1 与信OK, and every later state.
    Ok,
    /// cd 2 与信NG.
    Ng,
    /// cd 3 (01 only): cancel requested or cancelled.
    Cancelled,
    /// cd -1 (01 only): the id is unknown.
    Unknown,
}

impl CreditStatus {
    /// The `cd` attribute.
    pub fn cd(self) -> i32 {
        match self {
            CreditStatus::UnderReview => 0,
            CreditStatus::Ok => 1,
            CreditStatus::Ng => 2,
            CreditStatus::Cancelled => 3,
            CreditStatus::Unknown => -1,
        }
    }

    /// The element's text. The contract names no label for 3 and -1;
    /// キャンセル and an empty text are the simulator's.
    pub fn label(self) -> &'static str {
        match self {
            CreditStatus::UnderReview => "与信中",
            CreditStatus::Ok => "与信OK",
            CreditStatus::Ng => "与信NG",
            CreditStatus::Cancelled => "キャンセル",
            CreditStatus::Unknown => "",
        }
    }
}

/// Where an order stands (the service's DataStatus), as `detail` (09) writes
/// it: `<orderStatus orderStatusName="請求書発行待ち">2</orderStatus>`, the
/// code as the text and the label as an attribute (first Corrections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataStatus {
    /// 0 与信中.
    UnderReview,
    /// 1 伝票番号入力待ち: credit OK, the tracking number (`JournalNum`) awaited.
    AwaitingJournalNumber,
    /// 2 請求書発行待ち: tracking number registered, invoice not out yet.
    AwaitingInvoice,
    /// 3 入金確認待ち: invoiced, payment awaited.
    AwaitingPayment,
    /// 4 一部入金済み.
    PartlyPaid,
    /// 9 クローズ.
    Closed,
    /// 10 キャンセル申請中.
    CancelRequested,
    /// 11 キャンセル済.
    Cancelled,
    /// 99 与信NG.
    CreditNg,
}

impl DataStatus {
    /// Every state, in code order.
    pub const ALL: [DataStatus; 9] = [
        DataStatus::UnderReview,
        DataStatus::AwaitingJournalNumber,
        DataStatus::AwaitingInvoice,
        DataStatus::AwaitingPayment,
        DataStatus::PartlyPaid,
        DataStatus::Closed,
        DataStatus::CancelRequested,
        DataStatus::Cancelled,
        DataStatus::CreditNg,
    ];

    /// `detail`'s code for it (-1, an unknown order, is not a state).
    pub fn code(self) -> i32 {
        match self {
            DataStatus::UnderReview => 0,
            DataStatus::AwaitingJournalNumber => 1,
            DataStatus::AwaitingInvoice => 2,
            DataStatus::AwaitingPayment => 3,
            DataStatus::PartlyPaid => 4,
            DataStatus::Closed => 9,
            DataStatus::CancelRequested => 10,
            DataStatus::Cancelled => 11,
            DataStatus::CreditNg => 99,
        }
    }

    /// The service's label (`orderStatusName`).
    pub fn label(self) -> &'static str {
        match self {
            DataStatus::UnderReview => "与信中",
            DataStatus::AwaitingJournalNumber => "伝票番号入力待ち",
            DataStatus::AwaitingInvoice => "請求書発行待ち",
            DataStatus::AwaitingPayment => "入金確認待ち",
            DataStatus::PartlyPaid => "一部入金済み",
            DataStatus::Closed => "クローズ",
            DataStatus::CancelRequested => "キャンセル申請中",
            DataStatus::Cancelled => "キャンセル済",
            DataStatus::CreditNg => "与信NG",
        }
    }

    /// What `status` (01) says of an order in this state: 1 for every state
    /// after a positive decision, 3 once a cancel was requested.
    pub fn credit_status(self) -> CreditStatus {
        match self {
            DataStatus::UnderReview => CreditStatus::UnderReview,
            DataStatus::AwaitingJournalNumber
            | DataStatus::AwaitingInvoice
            | DataStatus::AwaitingPayment
            | DataStatus::PartlyPaid
            | DataStatus::Closed => CreditStatus::Ok,
            DataStatus::CancelRequested | DataStatus::Cancelled => CreditStatus::Cancelled,
            DataStatus::CreditNg => CreditStatus::Ng,
        }
    }
}

/// Why an order reached 9 クローズ (the server's `CloseReason`; second
/// Corrections): `detail` shows it only through `isReceiptConfirmed`, set
/// for a paid close alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// 1: the buyer paid in full.
    Paid,
    /// 4: written off as a bad debt.
    BadDebt,
    /// 6: 立替精算戻し, the merchant's advance taken back with no payment.
    AdvanceTakenBack,
    /// Any other reason the service records.
    Other(u8),
}

impl CloseReason {
    /// The server's number for it.
    pub fn code(self) -> u8 {
        match self {
            CloseReason::Paid => 1,
            CloseReason::BadDebt => 4,
            CloseReason::AdvanceTakenBack => 6,
            CloseReason::Other(n) => n,
        }
    }
}

// ---------------------------------------------------------------------------
// Forms ("Transport": `application/x-www-form-urlencoded`, UTF-8)
// ---------------------------------------------------------------------------

/// A form as received: `(key, value)` pairs in order, keys possibly repeated
/// (`OrderId[]`).
pub type Form = Vec<(String, String)>;

/// Decodes `application/x-www-form-urlencoded` as PHP fills `$_POST`: `+` is
/// a space, `%XX` a byte, UTF-8; order and repeated keys kept; a `%` not
/// followed by two hex digits stays as it is.
pub fn decode_form(raw: &str) -> Form {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_table_is_the_contracts() {
        let rows: Vec<(String, String)> = AtobaraiService::ALL
            .iter()
            .map(|s| (s.code("101"), s.path()))
            .collect();
        let want = [
            ("E00101", "/api/order/rest"),
            ("E01101", "/api/status/rest"),
            ("E02101", "/api/delivlist/rest"),
            ("E03101", "/api/idmap/rest"),
            ("E04101", "/api/shipping/rest"),
            ("E05101", "/api/cancel/rest"),
            ("E08101", "/api/jnummod/rest"),
            ("E09101", "/api/detail/rest"),
            ("E11101", "/api/ordermod/rest"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(c, p)| (c.to_string(), p.to_string()))
            .collect();
        assert_eq!(rows, want);
    }

    #[test]
    fn the_status_tables_are_the_contracts() {
        let detail: Vec<(i32, &str)> = DataStatus::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect();
        assert_eq!(
            detail,
            [
                (0, "与信中"),
                (1, "伝票番号入力待ち"),
                (2, "請求書発行待ち"),
                (3, "入金確認待ち"),
                (4, "一部入金済み"),
                (9, "クローズ"),
                (10, "キャンセル申請中"),
                (11, "キャンセル済"),
                (99, "与信NG"),
            ]
        );
        let credit: Vec<i32> = DataStatus::ALL
            .iter()
            .map(|s| s.credit_status().cd())
            .collect();
        assert_eq!(credit, [0, 1, 1, 1, 1, 1, 3, 3, 2]);
        assert_eq!(CreditStatus::Unknown.cd(), -1);
        assert_eq!(CreditStatus::Ok.label(), "与信OK");
    }

    #[test]
    fn forms_decode_like_php() {
        let form = decode_form("a=1&b%5B%5D=x+y&b%5B%5D=%E9%89%84&c&=z&d=%ZZ");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("a", "1"),
                ("b[]", "x y"),
                ("b[]", "鉄"),
                ("c", ""),
                ("", "z"),
                ("d", "%ZZ")
            ]
        );
    }
}
