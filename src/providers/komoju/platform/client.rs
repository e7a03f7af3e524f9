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
        let request = ApiRequest {
            method: Method::GET,
            url: self.url(&["merchants", checked_id(id)?]),
            body: None,
            idempotency_key: None,
        };
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
        let body = to_json(&wire::KomojuSplitCapture {
            platform_details: details,
        })?;
        let request = ApiRequest {
            method: Method::POST,
            url: self.url(&["payments", checked_id(id)?, "capture"]),
            body: Some(body),
            idempotency_key: Some(checked_idempotency_key(idempotency_key)?.to_string()),
        };
        read_payment(id, &self.call(&request).await?)
    }
}

impl KomojuClient {
    /// `POST /payments/{id}/refund` `{platform_details}`: refunds what is
    /// left of a split payment, each seller giving back its entry.
    pub async fn refund_split(
        &self,
        id: &str,
        details: &KomojuPlatformDetails,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        let body = to_json(&wire::KomojuSplitRefund {
            platform_details: details,
        })?;
        let request = ApiRequest {
            method: Method::POST,
            url: self.url(&["payments", checked_id(id)?, "refund"]),
            body: Some(body),
            idempotency_key: Some(checked_idempotency_key(idempotency_key)?.to_string()),
        };
        read_payment(id, &self.call(&request).await?)
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
