//! Licence keys (`rakuten-pay.md`, License key and Corrections;
//! `rakuten-inventory.md`, Corrections 2026-12-07): the ESA check every call
//! passes, keys that expire and keys that take a while to start working, and
//! the API functions the shop ticked for each key in RMS (利用機能編集).
//!
//! Permissions are per function: a function that is not ticked answers
//! `401 ES01-01 Un-Authorised`, the same answer as a bad key. Each endpoint
//! is one function here ([guess]: whether RMS ticks `inventories.*` as one
//! box or each call on its own is not published, so the finest grain is
//! modelled and a test unticks what it needs).

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

use super::{Answer, Endpoint, SimState};
use crate::rakuten_pay::esa;
use crate::rakuten_pay::wire::{GatewayError, codes, dates};

/// A license key and when it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LicenseKey {
    key: String,
    /// A new key takes 10 to 90 minutes to start working.
    active_from: DateTime<FixedOffset>,
    expires_at: DateTime<FixedOffset>,
    /// The functions not ticked for this key: each answers `401 ES01-01`
    /// while the others work (`license.expiryDate.get` is often left off).
    unticked: HashSet<Endpoint>,
}

impl LicenseKey {
    /// A key that works from `active_from` until `expires_at`, with every
    /// function ticked.
    pub(super) fn issued(
        key: String,
        active_from: DateTime<FixedOffset>,
        expires_at: DateTime<FixedOffset>,
    ) -> LicenseKey {
        LicenseKey {
            key,
            active_from,
            expires_at,
            unticked: HashSet::new(),
        }
    }
}

/// Why the gateway refuses a request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No such secret or key, or a key not active yet: `ES01-01`.
    Unknown,
    /// A key past its expiry: `GA0001`, as teams calling the live API report.
    Expired,
}

impl Refusal {
    /// The gateway's `errorCode` for it.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Refusal::Unknown => codes::GATEWAY_UNAUTHORISED,
            Refusal::Expired => codes::GATEWAY_KEY_EXPIRED,
        }
    }
}

impl SimState {
    /// Changes the expiry of the configured (first) key.
    pub(crate) fn set_license_expiry(&mut self, at: DateTime<FixedOffset>) {
        if let Some(first) = self.licenses.first_mut() {
            first.expires_at = at;
        }
    }

    /// Issues another key; the old one keeps working until its own expiry.
    pub(crate) fn add_license_key(
        &mut self,
        key: String,
        active_from: DateTime<FixedOffset>,
        expires_at: DateTime<FixedOffset>,
    ) {
        self.licenses.retain(|l| l.key != key);
        self.licenses
            .push(LicenseKey::issued(key, active_from, expires_at));
    }

    /// Ticks or unticks the function behind `endpoint` for the configured
    /// (first) key (`Endpoint::Any` is no function: nothing changes).
    pub(crate) fn set_permission(&mut self, endpoint: Endpoint, allowed: bool) {
        let Some(first) = self.licenses.first_mut() else {
            return;
        };
        if endpoint == Endpoint::Any {
            return;
        }
        if allowed {
            first.unticked.remove(&endpoint);
        } else {
            first.unticked.insert(endpoint);
        }
    }

    /// The license key of a valid `ESA base64(serviceSecret:licenseKey)`
    /// header, or why it is refused (`401`).
    pub(crate) fn authorize(
        &self,
        header: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<String, Refusal> {
        let (secret, key) = header.and_then(esa::credentials).ok_or(Refusal::Unknown)?;
        if secret != self.service_secret {
            return Err(Refusal::Unknown);
        }
        let l = self
            .licenses
            .iter()
            .find(|l| l.key == key && l.active_from <= now)
            .ok_or(Refusal::Unknown)?;
        if now >= l.expires_at {
            return Err(Refusal::Expired);
        }
        Ok(l.key.clone())
    }

    /// Whether the authorized `key` may call the function behind `endpoint`.
    pub(crate) fn may_use(&self, key: &str, endpoint: Endpoint) -> bool {
        self.licenses
            .iter()
            .any(|l| l.key == key && !l.unticked.contains(&endpoint))
    }

    /// `GET …/license-key/expiry-date?licenseKey=`. The live answer carries
    /// no offset (`2026-11-28T23:59:59`, JST); a key Rakuten does not know is
    /// a bad request (a guess).
    pub(crate) fn license_expiry(&self, queried: Option<&str>) -> Answer {
        match queried.and_then(|k| self.licenses.iter().find(|l| l.key == k)) {
            Some(l) => Answer {
                status: 200,
                body: json!({ "expiryDate": dates::format_jst_without_offset(&l.expires_at) }),
            },
            None => Answer {
                status: 400,
                body: serde_json::to_value(GatewayError::new(
                    codes::GATEWAY_BAD_REQUEST,
                    "Bad Request",
                ))
                .unwrap_or(Value::Null),
            },
        }
    }
}
