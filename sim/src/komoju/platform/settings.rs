//! Every \[guess\] of the contract's "Platform Model" section as a setting of
//! the simulated platform account. The defaults are the contract's most likely
//! reading; a test that depends on another reading sets it.

use chrono::NaiveDate;

/// What the sellers' `amount`s of a split must add up to (contract "Payment
/// split": "the total payment amount" \[pm-ppm\], read as `total` \[guess\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SplitBase {
    /// `amount + tax` of what is captured, without a payment-method fee.
    #[default]
    TotalWithoutMethodFee,
    /// `amount` before tax.
    Amount,
    /// Everything the customer pays, the method fee included.
    TotalWithMethodFee,
}

/// What a refund (or refund request) *without* `platform_details` does to the
/// balances of a split payment (reverse / non-reverse are undefined \[pm-pay\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefundWithoutSplit {
    /// "Non-reverse": the platform's cost; the sellers keep their shares.
    #[default]
    PlatformBears,
    /// "Reverse": each seller gives back a share in proportion to what it
    /// still holds of the payment, with the fee on it returned; rounding
    /// (down, per seller) leaves the rest to the platform.
    ProRata,
}

/// The sign of a ledger line's `amount_cents` (undocumented \[guess\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LedgerSign {
    /// Credits positive, debits negative: the ledger sums to the balance.
    #[default]
    Signed,
    /// Every amount positive; the `type` tells the direction.
    Unsigned,
}

/// The name of the balance's total (`total_balance_cents` in the SDK,
/// `balance_total` in the guide \[pm-manage\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BalanceField {
    /// Both names, the same value.
    #[default]
    Both,
    /// `total_balance_cents` only.
    TotalBalanceCents,
    /// `balance_total` only.
    BalanceTotal,
}

/// Which transfer path(s) the account takes \[pm-transfer\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransferPaths {
    /// `POST /merchants/{id}/balances/JPY/transfer` and `POST /balances/JPY/transfer`.
    #[default]
    Both,
    /// Only the per-merchant path.
    MerchantOnly,
    /// Only the older path, from the authenticated (platform) account.
    LegacyOnly,
}

/// What a seller account's event carries as its `merchant` ("Webhooks":
/// the seller's name, where it sits \[guess\]; the simulator puts it at the
/// top of the event body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventMerchant {
    /// The seller's `name` \[pm-webhooks\].
    #[default]
    Name,
    /// The seller's id.
    Id,
}

/// The error codes of the platform calls (all undocumented \[guess\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCodes {
    /// A `platform_details` that does not add up or names a bad seller.
    pub invalid_split: &'static str,
    /// A transfer or refund the sender's balance does not cover.
    pub insufficient_balance: &'static str,
    /// A currency other than JPY.
    pub unsupported_currency: &'static str,
    /// A review state the application cannot move to.
    pub invalid_status: &'static str,
}

impl Default for PlatformCodes {
    fn default() -> Self {
        PlatformCodes {
            invalid_split: "invalid_platform_details",
            insufficient_balance: "insufficient_balance",
            unsupported_currency: "unsupported_currency",
            invalid_status: "invalid_status",
        }
    }
}

/// The bank fee of one payout: `small` below `threshold`, else `large`
/// \[h-fee\] (220 / 410 JPY under / from 30,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankFee {
    /// Payouts below this pay `small`.
    pub threshold: i64,
    /// The fee below the threshold.
    pub small: i64,
    /// The fee from the threshold up.
    pub large: i64,
}

impl Default for BankFee {
    fn default() -> Self {
        BankFee {
            threshold: 30_000,
            small: 220,
            large: 410,
        }
    }
}

impl BankFee {
    /// The fee on a payout of `net` yen.
    pub fn on(&self, net: i64) -> i64 {
        if net < self.threshold {
            self.small
        } else {
            self.large
        }
    }
}

/// The platform account's settings where the contract guesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSettings {
    /// The platform's own merchant id (balances, transfers, settlements).
    pub platform_id: String,
    /// The platform's name (its events' `merchant`).
    pub platform_name: String,
    /// What a split's amounts add up to.
    pub split_base: SplitBase,
    /// A seller may appear once per split (a second entry is refused).
    pub one_entry_per_seller: bool,
    /// A split may only name sellers whose `payouts_enabled` is true.
    pub payouts_enabled_required: bool,
    /// Split amounts may be strings of digits (the guide quotes them so
    /// \[pm-ppm\]); by default only JSON integers are taken.
    pub string_amounts: bool,
    /// A split given on the create of a `capture:false` payment is taken
    /// (used when the capture names none); by default it is refused, the
    /// split belonging on the capture \[pm-spm\].
    pub manual_split_on_create: bool,
    /// KOMOJU's processing fee, charged to the platform at capture on what
    /// was captured, in basis points, rounded down (rate \[guess\]).
    pub processing_fee_bps: i64,
    /// What a refund without `platform_details` does.
    pub refund_without_split: RefundWithoutSplit,
    /// A seller's refund share (less the fee returned) must be covered by
    /// its balance, else 422.
    pub seller_refund_needs_balance: bool,
    /// The ledger's amount sign.
    pub ledger_sign: LedgerSign,
    /// The balance total's field name(s).
    pub balance_field: BalanceField,
    /// Transfer paths accepted.
    pub transfer_paths: TransferPaths,
    /// Error codes.
    pub codes: PlatformCodes,
    /// `settlement_minimum_amount` of a new account.
    pub default_settlement_minimum: i64,
    /// The bank fee per payout.
    pub bank_fee: BankFee,
    /// Whether sellers' payouts pay the bank fee too (\[h-fee\] is about
    /// merchants; for sellers \[guess\]).
    pub bank_fee_for_sellers: bool,
    /// Weeks between a weekly payout's Friday and the Friday its period ends
    /// ("from the Saturday of the prior week to the last Friday": 1).
    pub weekly_lag_weeks: i64,
    /// Japanese holidays that move a payout to the next business day (a
    /// small list \[guess\]; weekends always do).
    pub holidays: Vec<NaiveDate>,
    /// What a seller's events carry as `merchant`.
    pub event_merchant: EventMerchant,
    /// The sub-merchants created are `live` (else test merchants, which
    /// `simulate_status` may move).
    pub live_merchants: bool,
    /// The fields a new live application requests (dotted keys).
    pub requested_fields: Vec<String>,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        PlatformSettings {
            platform_id: "platformsimulated00000000".to_string(),
            platform_name: "Simulated Marketplace".to_string(),
            split_base: SplitBase::default(),
            one_entry_per_seller: true,
            payouts_enabled_required: true,
            string_amounts: false,
            manual_split_on_create: false,
            processing_fee_bps: 360,
            refund_without_split: RefundWithoutSplit::default(),
            seller_refund_needs_balance: true,
            ledger_sign: LedgerSign::default(),
            balance_field: BalanceField::default(),
            transfer_paths: TransferPaths::default(),
            codes: PlatformCodes::default(),
            default_settlement_minimum: 0,
            bank_fee: BankFee::default(),
            bank_fee_for_sellers: true,
            weekly_lag_weeks: 1,
            holidays: japanese_holidays(),
            event_merchant: EventMerchant::default(),
            live_merchants: false,
            requested_fields: [
                "company_information.name",
                "company_information.address",
                "representative_director_information.name",
                "bank_account_information.zengin_bank_code",
                "bank_account_information.zengin_branch_code",
                "bank_account_information.zengin_account_number",
                "bank_account_information.zengin_account_holder_name",
            ]
            .map(str::to_string)
            .to_vec(),
        }
    }
}

/// A short list of Japanese national holidays (2026–2027) and the bank
/// holidays of the year end and start.
fn japanese_holidays() -> Vec<NaiveDate> {
    const DAYS: [(i32, u32, u32); 36] = [
        (2026, 1, 1),
        (2026, 1, 2),
        (2026, 1, 3),
        (2026, 1, 12),
        (2026, 2, 11),
        (2026, 2, 23),
        (2026, 3, 20),
        (2026, 4, 29),
        (2026, 5, 4),
        (2026, 5, 5),
        (2026, 5, 6),
        (2026, 7, 20),
        (2026, 8, 11),
        (2026, 9, 21),
        (2026, 9, 22),
        (2026, 9, 23),
        (2026, 10, 12),
        (2026, 11, 3),
        (2026, 11, 23),
        (2026, 12, 31),
        (2027, 1, 1),
        (2027, 1, 2),
        (2027, 1, 3),
        (2027, 1, 11),
        (2027, 2, 11),
        (2027, 2, 23),
        (2027, 3, 21),
        (2027, 3, 22),
        (2027, 4, 29),
        (2027, 5, 3),
        (2027, 5, 4),
        (2027, 5, 5),
        (2027, 7, 19),
        (2027, 8, 11),
        (2027, 9, 20),
        (2027, 9, 23),
    ];
    DAYS.iter()
        .filter_map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
        .collect()
}
