//! Every lifetime, limit and thinly evidenced rule of the simulated store in
//! one place, each with the contract's value as its default, so that a
//! correction of `yahoo-shopping.md` is one line here. Values the contract
//! marks \[guess\] say so.

use std::time::Duration;

/// Where the contract's evidence is thin, or where a test wants another
/// value than Yahoo!'s, the simulated store's behaviour is one of these.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long an authorization code can be exchanged: 600 s \[integrator\].
    pub code_lifetime: Duration,
    /// How long an access token works: 3600 s \[doc\].
    pub access_token_lifetime: Duration,
    /// How long a refresh token works, counted from the authorization (a
    /// refresh never extends it): 4 weeks, 2,419,200 s \[doc FAQ\].
    pub refresh_token_lifetime: Duration,
    /// How long order calls work after the authorization without an
    /// accepted public-key header: 12 hours \[doc\].
    pub unsigned_session_lifetime: Duration,
    /// How long a new order stays read-only (`IsReadOnly=1`), the buyer's
    /// cancel window: 10 minutes \[doc\].
    pub cancel_window: Duration,
    /// Whether an order never held for fraud review carries its `OrderTime`
    /// as `PublicationTime` (rather than none): yes \[guess\].
    pub unheld_publication_is_order_time: bool,
    /// How far the time in `X-sws-signature` may be from the store's clock,
    /// either way: ±600 s \[guess\].
    pub signature_skew: Duration,
    /// How long a public key works after it is issued: 1 year \[integrator\].
    pub key_lifetime: Duration,
    /// The spacing Yahoo! asks for between two calls to the same URL: one
    /// query a second \[doc\]. `Duration::ZERO` turns the limit off.
    pub per_url_interval: Duration,
    /// How long a URL stays refused after a call came too soon: 60 s
    /// \[guess\].
    pub per_url_lockout: Duration,
    /// Calls a day per Client ID, reset at 00:00 JST: 50,000 \[doc\].
    pub daily_quota: u32,
    /// The HTTP status of an illegal order-status transition: `400`
    /// \[guess\]; the code is [`ILLEGAL_OPERATION_CODE`].
    pub illegal_operation_status: u16,
    /// The HTTP status of a whole stock request refused (`st-021xx`): `400`
    /// \[guess\].
    pub stock_request_error_status: u16,
    /// The HTTP status of a maintenance answer (`ed-00002`), stock and order
    /// APIs alike: `503` \[guess\].
    pub maintenance_status: u16,
    /// The HTTP status of `px-14303` (a signature sent without its key
    /// version): `403`, as `px-04307` with the same message \[guess\].
    pub missing_key_version_status: u16,
    /// The HTTP status of `px-04303` (the Client ID has no order-API
    /// application): `403` \[guess\].
    pub unregistered_app_status: u16,
    /// The HTTP status of `px-14304` (a `sellerId` the token's store is not):
    /// `403` \[guess\].
    pub seller_not_allowed_status: u16,
    /// Whether `orderShipStatusChange` refuses 0 (出荷不可) → 3 (出荷済み),
    /// as for an unpaid prepaid order: yes \[guess\].
    pub refuse_ship_from_unshippable: bool,
    /// Whether the write calls refuse an order still inside the buyer's
    /// 10-minute cancel window (`IsReadOnly=1`) with the illegal-operation
    /// answer: yes \[guess\].
    pub read_only_refuses_writes: bool,
    /// Whether order-API errors come wrapped as
    /// `<Result><Status>NG</Status><Error>…</Error></Result>` rather than as a
    /// bare `<Error>` root: the contract names both \[integrator\]; bare by
    /// default.
    pub wrap_order_errors: bool,
    /// Whether a platform `<Error>` root carries `xmlns="urn:yahoo:api"`:
    /// "sometimes" \[client\]; without by default.
    pub error_namespace: bool,
    /// How `OrderTime` and `PublicationTime` are written: the contract lists
    /// three forms, all to be read as JST \[doc\]\[client\].
    pub order_time_format: OrderTimeFormat,
    /// Whether orderList refuses a `Field` it does not know (`od90101`)
    /// rather than leaving it out: refuses \[guess\].
    pub refuse_unknown_fields: bool,
    /// Whether orderList refuses `Result` above 2000 (`od90101`) rather than
    /// answering 2000: refuses \[guess\].
    pub refuse_result_over_cap: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            code_lifetime: Duration::from_secs(600),
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(2_419_200),
            unsigned_session_lifetime: Duration::from_secs(12 * 3600),
            cancel_window: Duration::from_secs(600),
            unheld_publication_is_order_time: true,
            signature_skew: Duration::from_secs(600),
            key_lifetime: Duration::from_secs(365 * 24 * 3600),
            per_url_interval: Duration::from_secs(1),
            per_url_lockout: Duration::from_secs(60),
            daily_quota: 50_000,
            illegal_operation_status: 400,
            stock_request_error_status: 400,
            maintenance_status: 503,
            missing_key_version_status: 403,
            unregistered_app_status: 403,
            seller_not_allowed_status: 403,
            refuse_ship_from_unshippable: true,
            read_only_refuses_writes: true,
            wrap_order_errors: false,
            error_namespace: false,
            order_time_format: OrderTimeFormat::IsoOffset,
            refuse_unknown_fields: true,
            refuse_result_over_cap: true,
        }
    }
}

/// The forms `OrderTime` comes in \[doc\]\[client\].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderTimeFormat {
    /// `2026-12-01T10:15:30`.
    Iso,
    /// `2026-12-01T10:15:30+09:00`.
    IsoOffset,
    /// `20261201101530` (old answers).
    Compact,
}

/// The code of an illegal transition ("Cannot Be Operated …"): unpublished,
/// `od99999` \[guess\].
pub const ILLEGAL_OPERATION_CODE: &str = "od99999";

/// The code orderChangeHistory answers a missing or malformed `orderId`
/// with: the contract names `od90166` for that call without its trigger
/// \[guess\].
pub const HISTORY_PARAMETER_CODE: &str = "od90166";

/// The message of an illegal transition: `Cannot Be Operated : <operation>
/// OrderStatus`; the contract shows `CancelOrder`, the other operations'
/// names are \[guess\].
pub fn illegal_operation_message(target_status: u8) -> String {
    let operation = match target_status {
        1 => "ReserveOrder",
        2 => "ProcessOrder",
        3 => "HoldOrder",
        4 => "CancelOrder",
        5 => "CompleteOrder",
        _ => "ChangeOrder",
    };
    format!("Cannot Be Operated : {operation} OrderStatus")
}

/// `FraudHoldStatus` of an order under fraud review; the contract names the
/// field without its values \[guess\].
pub const FRAUD_HOLD_HELD: &str = "1";

/// `FraudHoldStatus` of an order never held or released \[guess\].
pub const FRAUD_HOLD_NONE: &str = "0";

/// `CancelReason` of a buyer's cancel inside the 10-minute window: one of
/// the buyer's 100–199 \[guess\].
pub const BUYER_CANCEL_REASON: u16 = 100;

/// `UpdatePerson` of a change the store's API client made: the contract
/// says "a name, an ID or system" \[guess\].
pub const API_UPDATE_PERSON: &str = "store-api";

/// The message of an expired or unknown access token's `401` body
/// \[integrator\]; the rest of the text is unpublished.
pub const INVALID_TOKEN_MESSAGE: &str = "Please provide valid credentials.";

/// The message of a call without any access token \[integrator\].
pub const NO_TOKEN_MESSAGE: &str = "Authentication parameters in your request incompleted.";

/// The message of `px-04306` (source address not registered): unpublished
/// \[guess\].
pub const IP_REFUSED_MESSAGE: &str = "Access from this IP address is not permitted.";
