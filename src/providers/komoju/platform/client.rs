//! The Platform Model's calls on the KOMOJU client: create and read a
//! sub-merchant, capture with a split.

use reqwest::Method;

use super::wire::{self, KomojuCreateMerchant, KomojuMerchant, KomojuPlatformDetails};
use crate::call::CallError;
use crate::providers::komoju::Payment;
use crate::providers::komoju::client::{
    ApiRequest, KomojuClient, checked_id, checked_idempotency_key, read_payment, to_json,
};

/// A sub-merchant as the daemon follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubMerchant {
    /// KOMOJU's id.
    pub id: String,
    /// The review state (`accepted`, `pending`, …).
    pub status: String,
    /// Whether KOMOJU pays it out.
    pub payouts_enabled: bool,
}

impl KomojuClient {
    /// `POST /merchants` `{name, platform_role: "payout"}`: a new seller.
    pub async fn create_submerchant(
        &self,
        name: &str,
        idempotency_key: &str,
    ) -> Result<SubMerchant, CallError> {
        let body = to_json(&KomojuCreateMerchant {
            name,
            platform_role: "payout",
        })?;
        let request = ApiRequest {
            method: Method::POST,
            url: self.url(&["merchants"]),
            body: Some(body),
            idempotency_key: Some(checked_idempotency_key(idempotency_key)?.to_string()),
        };
        read_merchant(None, &self.call(&request).await?.body)
    }

    /// `GET /merchants/{id}`: the seller's state now.
    pub async fn get_submerchant(&self, id: &str) -> Result<SubMerchant, CallError> {
        let request = ApiRequest::get(self.url(&["merchants", checked_id(id)?]));
        read_merchant(Some(id), &self.call(&request).await?.body)
    }

    /// `POST /payments/{id}/capture` `{platform_details}`: captures all of
    /// an authorized card payment, split as given.
    pub async fn capture_split(
        &self,
        id: &str,
        details: &KomojuPlatformDetails,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        self.post_split(id, "capture", details, idempotency_key)
            .await
    }

    /// `POST /payments/{id}/{action}` `{platform_details}`.
    async fn post_split(
        &self,
        id: &str,
        action: &str,
        details: &KomojuPlatformDetails,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        let body = to_json(&wire::KomojuSplit {
            platform_details: details,
        })?;
        let request = ApiRequest {
            method: Method::POST,
            url: self.url(&["payments", checked_id(id)?, action]),
            body: Some(body),
            idempotency_key: Some(checked_idempotency_key(idempotency_key)?.to_string()),
        };
        read_payment(id, &self.call(&request).await?)
    }
}

/// Most ledger pages read for one reconciliation (100 transactions each).
const MAX_LEDGER_PAGES: u32 = 1000;

impl KomojuClient {
    /// What an account's balance ledger (`GET /merchants/{id}/balances/JPY/
    /// transactions`) booked from `start` (inclusive) to `end` (exclusive),
    /// payouts (`settlement`) left out: the sum of `amount_cents`, read as
    /// signed (credits positive; the sign is \[guess\] in the contract).
    pub async fn ledger_net(
        &self,
        merchant_id: &str,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64, CallError> {
        let mut net = 0i64;
        for page in 1..=MAX_LEDGER_PAGES {
            let mut url = self.url(&[
                "merchants",
                checked_id(merchant_id)?,
                "balances",
                "JPY",
                "transactions",
            ]);
            url.query_pairs_mut()
                .append_pair(
                    "start_time",
                    &crate::providers::komoju::wire::format_time(start),
                )
                .append_pair(
                    "end_time",
                    &crate::providers::komoju::wire::format_time(end),
                )
                .append_pair("page", &page.to_string())
                .append_pair("per_page", "100");
            let request = ApiRequest::get(url);
            let answer = self.call(&request).await?;
            let list: wire::KomojuLedgerPage =
                serde_json::from_slice(&answer.body).map_err(|e| {
                    CallError::transient(format!("KOMOJU answered an unreadable ledger: {e}"))
                })?;
            for t in &list.data {
                if t.kind.as_deref() == Some("settlement") {
                    continue;
                }
                net = net
                    .checked_add(t.amount_cents.unwrap_or(0))
                    .ok_or_else(|| CallError::transient("the ledger's sum is too large"))?;
            }
            if list.data.is_empty() || list.last_page.is_none_or(|last| i64::from(page) >= last) {
                return Ok(net);
            }
        }
        Err(CallError::transient("the ledger has too many pages"))
    }

    /// `POST /merchants/{from}/balances/JPY/transfer` `{to, amount}`: moves
    /// `amount` yen from one KOMOJU balance to another (the merchant's and
    /// a seller's). KOMOJU answers no id: the idempotency key is what makes
    /// a retry safe.
    pub async fn transfer(
        &self,
        from: &str,
        to: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<(), CallError> {
        let body = to_json(&wire::KomojuTransfer { to, amount })?;
        let request = ApiRequest {
            method: Method::POST,
            url: self.url(&[
                "merchants",
                checked_id(from)?,
                "balances",
                "JPY",
                "transfer",
            ]),
            body: Some(body),
            idempotency_key: Some(checked_idempotency_key(idempotency_key)?.to_string()),
        };
        self.call(&request).await.map(|_| ())
    }

    /// `POST /payments/{id}/refund` `{platform_details}`: refunds what is
    /// left of a split payment, each seller giving back its entry.
    pub async fn refund_split(
        &self,
        id: &str,
        details: &KomojuPlatformDetails,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        self.post_split(id, "refund", details, idempotency_key)
            .await
    }
}

fn read_merchant(asked: Option<&str>, body: &[u8]) -> Result<SubMerchant, CallError> {
    let m: KomojuMerchant = serde_json::from_slice(body).map_err(|e| {
        CallError::transient(format!("KOMOJU answered an unreadable merchant: {e}"))
    })?;
    let id =
        m.id.clone()
            .filter(|id| checked_id(id).is_ok())
            .ok_or_else(|| CallError::transient("KOMOJU answered a merchant without an id"))?;
    if asked.is_some_and(|a| a != id) {
        return Err(CallError::transient(format!(
            "asked for merchant {asked:?}, KOMOJU answered {id:?}"
        )));
    }
    let (status, payouts_enabled) = wire::merchant_state(&m);
    Ok(SubMerchant {
        id,
        status,
        payouts_enabled,
    })
}
