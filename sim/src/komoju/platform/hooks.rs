//! The simulator handle's Platform Model hooks, for the daemon's tests:
//! create sellers and split payments, force a review, read balances and
//! ledgers, run payouts on the simulator's clock, check that money is
//! conserved, and change a \[guess\] setting on the fly.

use serde_json::Value;

use super::{Account, ApplicationStatus, Conservation, PlatformSettings, Settlement, SubMerchant};
use crate::komoju::{CaptureMode, KomojuSimHandle, Payment, PaymentType};

impl KomojuSimHandle {
    /// The platform's own merchant id.
    pub fn platform_id(&self) -> String {
        self.shared
            .lock()
            .state
            .platform
            .settings
            .platform_id
            .clone()
    }

    /// Changes the Platform Model's settings from now on.
    pub fn set_platform_settings(&self, f: impl FnOnce(&mut PlatformSettings)) {
        self.shared.with_state(|s, _| f(&mut s.platform.settings));
    }

    /// Creates a `payout` seller as `POST /merchants` would; its id.
    pub fn create_seller(&self, name: &str) -> Result<String, String> {
        let body = serde_json::json!({"name": name, "platform_role": "payout"});
        self.shared.with_state(|s, now| {
            let body = body.as_object().cloned().unwrap_or_default();
            s.platform
                .create_merchant(&body, now)
                .map(|m| m["id"].as_str().unwrap_or_default().to_string())
                .map_err(|e| e.message)
        })
    }

    /// KOMOJU's review decides: the application (and the merchant) moves to
    /// `status`, whatever it was; `accepted` enables payouts and sends
    /// `submerchant.application.accepted`, `declined` disables them and sends
    /// `submerchant.application.declined`. `false` for an unknown merchant.
    pub fn force_review(&self, merchant_id: &str, status: ApplicationStatus) -> bool {
        self.shared
            .with_state(|s, now| s.platform.review(merchant_id, status, now))
            .is_some()
    }

    /// A created seller, accepted at once: its id.
    pub fn accepted_seller(&self, name: &str) -> Result<String, String> {
        let id = self.create_seller(name)?;
        self.force_review(&id, ApplicationStatus::Accepted);
        Ok(id)
    }

    /// The sub-merchant as KOMOJU has it now.
    pub fn seller(&self, id: &str) -> Option<SubMerchant> {
        self.shared.lock().state.platform.merchant(id).cloned()
    }

    /// The checkout creates a payment with `platform_details` (the create
    /// call's JSON field), checked as KOMOJU checks it; the error is the
    /// API's message. Otherwise as [`KomojuSimHandle::create_payment_with_fee`].
    #[allow(clippy::too_many_arguments)]
    pub fn create_split_payment(
        &self,
        amount: i64,
        tax: i64,
        payment_method_fee: i64,
        external_order_num: Option<&str>,
        payment_type: impl Into<PaymentType>,
        capture: CaptureMode,
        platform_details: &Value,
    ) -> Result<Payment, String> {
        let payment_type = payment_type.into();
        self.shared
            .with_state(|s, now| {
                s.create_split_payment(
                    amount,
                    tax,
                    payment_method_fee,
                    external_order_num,
                    payment_type,
                    capture,
                    platform_details,
                    now,
                )
            })
            .map_err(|e| e.message)
    }

    /// The balance of an account (the platform's id or a seller's).
    pub fn balance(&self, merchant_id: &str) -> i64 {
        self.shared.lock().state.platform.balance(merchant_id)
    }

    /// An account's ledger and payouts, if it has any.
    pub fn account(&self, merchant_id: &str) -> Option<Account> {
        self.shared
            .lock()
            .state
            .platform
            .account(merchant_id)
            .cloned()
    }

    /// Runs the payouts due on the simulator's day (advance the clock to
    /// the day first): the settlements made, with `settlement.created` and
    /// `payout.created` sent.
    pub fn run_payouts(&self) -> Vec<Settlement> {
        self.shared.with_state(|s, now| s.platform.run_payouts(now))
    }

    /// The money check: all balances + KOMOJU's fees + payouts against what
    /// payments captured less refunds ([`Conservation::holds`]).
    pub fn conservation(&self) -> Conservation {
        let core = self.shared.lock();
        core.state.platform.conservation(core.state.payments())
    }
}
