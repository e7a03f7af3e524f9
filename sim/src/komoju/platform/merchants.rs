//! Sub-merchants and their live application (contract "Sub-merchants"):
//! create, list with filters, show, patch; the application's requested
//! fields, its submission and review (`simulate_status` for test merchants,
//! a hook for any), and the `submerchant.application.*` events.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::wire::{self as pw, Paging};
use super::{ApplicationStatus, Platform, SubMerchant};
use crate::komoju::state::random_id;
use crate::komoju::wire::ApiError;

/// Longest merchant name taken (KOMOJU publishes none; assumed).
const MAX_NAME: usize = 100;

/// The roles a sub-merchant may have \[pm-gloss\].
const ROLES: [&str; 2] = ["payout", "seller"];

/// The bank fields of an application and how many digits each has
/// (Zengin: bank 4, branch 3, account 7).
const DIGIT_FIELDS: [(&str, usize); 3] = [
    ("bank_account_information.zengin_bank_code", 4),
    ("bank_account_information.zengin_branch_code", 3),
    ("bank_account_information.zengin_account_number", 7),
];

impl Platform {
    /// `POST /merchants` `{name, platform_role}`.
    pub(crate) fn create_merchant(
        &mut self,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let name = match body.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= MAX_NAME => {
                s.trim().to_string()
            }
            None | Some(Value::Null) => return Err(ApiError::missing("name")),
            Some(_) => {
                return Err(ApiError::invalid(
                    "name",
                    format!("name must be 1 to {MAX_NAME} characters"),
                ));
            }
        };
        let role = match body.get("platform_role") {
            None | Some(Value::Null) => return Err(ApiError::missing("platform_role")),
            Some(v) => v.as_str().filter(|r| ROLES.contains(r)).ok_or_else(|| {
                ApiError::invalid("platform_role", "platform_role must be payout or seller")
            })?,
        };
        let id = loop {
            let id = random_id(25);
            if !self.is_account(&id) {
                break id;
            }
        };
        self.next_seq += 1;
        let m = SubMerchant {
            id: id.clone(),
            name,
            platform_role: role.to_string(),
            live: self.settings.live_merchants,
            status: ApplicationStatus::NotApplied,
            payments_enabled: false,
            payouts_enabled: false,
            emails: BTreeMap::new(),
            expiry_settings: Value::Array(Vec::new()),
            active_payment_methods: Vec::new(),
            publishable_key: format!("pk_test_{}", random_id(24)),
            created_at: now,
            updated_at: now,
            submitted: BTreeSet::new(),
            errored_fields: Vec::new(),
            seq: self.next_seq,
        };
        let json = pw::merchant(&m, &self.settings.platform_id);
        self.merchants.insert(id.clone(), m);
        self.account_mut(&id);
        Ok(json)
    }

    /// `GET /merchants` with its filters, newest first.
    pub(crate) fn list_merchants(
        &self,
        query: &HashMap<String, String>,
    ) -> Result<Value, ApiError> {
        let start = pw::time_param(query, "start_time")?;
        let end = pw::time_param(query, "end_time")?;
        let live = pw::bool_param(query, "live")?;
        let payments = pw::bool_param(query, "payments_enabled")?;
        let payouts = pw::bool_param(query, "payouts_enabled")?;
        let role = query.get("platform_role").filter(|s| !s.is_empty());
        let status = query.get("status").filter(|s| !s.is_empty());
        let paging = Paging::read(query)?;
        let mut hits: Vec<&SubMerchant> = self
            .merchants
            .values()
            .filter(|m| start.is_none_or(|s| m.created_at >= s))
            .filter(|m| end.is_none_or(|e| m.created_at < e))
            .filter(|m| live.is_none_or(|l| m.live == l))
            .filter(|m| payments.is_none_or(|p| m.payments_enabled == p))
            .filter(|m| payouts.is_none_or(|p| m.payouts_enabled == p))
            .filter(|m| role.is_none_or(|r| &m.platform_role == r))
            .filter(|m| status.is_none_or(|s| m.status.as_str() == s))
            .collect();
        hits.sort_by_key(|m| std::cmp::Reverse((m.created_at, m.seq)));
        let (data, mut page) = paging.page(&hits, |m| pw::merchant_item(m));
        page.insert("resource".into(), "list".into());
        page.insert("data".into(), Value::Array(data));
        Ok(Value::Object(page))
    }

    /// `GET /merchants/{id}`.
    pub(crate) fn show_merchant(&self, id: &str) -> Result<Value, ApiError> {
        let m = self.sub(id)?;
        Ok(pw::merchant(m, &self.settings.platform_id))
    }

    /// `PATCH /merchants/{id}`: `payments_enabled`, `payouts_enabled`,
    /// `send_payment_*_email`, `expiry_settings`; nothing else. Payouts are
    /// enabled only once the application is accepted \[guess\].
    pub(crate) fn patch_merchant(
        &mut self,
        id: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let mut m = self.sub(id)?.clone();
        for (key, value) in body {
            match key.as_str() {
                "payments_enabled" | "payouts_enabled" => {
                    let Some(on) = value.as_bool() else {
                        return Err(ApiError::invalid(
                            "enabled",
                            format!("{key} must be true or false"),
                        ));
                    };
                    if on && m.status != ApplicationStatus::Accepted {
                        return Err(ApiError::new_422(
                            self.settings.codes.invalid_status,
                            format!("{key} needs an accepted live application"),
                        ));
                    }
                    if key == "payments_enabled" {
                        m.payments_enabled = on;
                    } else {
                        m.payouts_enabled = on;
                    }
                }
                "expiry_settings" if value.is_array() => m.expiry_settings = value.clone(),
                k if k.starts_with("send_payment_") && k.ends_with("_email") && k.len() < 64 => {
                    let Some(on) = value.as_bool() else {
                        return Err(ApiError::invalid(
                            "email",
                            format!("{key} must be true or false"),
                        ));
                    };
                    m.emails.insert(k.to_string(), on);
                }
                _ => {
                    return Err(ApiError::invalid(
                        "merchant",
                        "Only payments_enabled, payouts_enabled, send_payment_*_email and expiry_settings can be changed",
                    ));
                }
            }
        }
        m.updated_at = now;
        let json = pw::merchant(&m, &self.settings.platform_id);
        self.merchants.insert(id.to_string(), m);
        Ok(json)
    }

    /// `GET /live_application/{id}`.
    pub(crate) fn application(&self, id: &str) -> Result<Value, ApiError> {
        let m = self.sub(id)?;
        Ok(pw::application(m, &self.requested(m), &[]))
    }

    /// `PATCH /live_application/{id}`: dotted keys. Values are checked (bank
    /// digits) but not kept; when every requested field is given the
    /// application is submitted (`pending`), before that `incomplete`.
    pub(crate) fn patch_application(
        &mut self,
        id: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let mut m = self.sub(id)?.clone();
        if m.status == ApplicationStatus::Accepted {
            return Err(ApiError::new_422(
                self.settings.codes.invalid_status,
                "The live application is already accepted",
            ));
        }
        if body.len() > 200 {
            return Err(ApiError::invalid("live_application", "Too many fields"));
        }
        let before = self.requested(&m);
        for (key, value) in body {
            if key.len() > 200 || !key.contains('.') {
                return Err(ApiError::invalid(
                    "live_application",
                    "Fields are dotted keys such as company_information.name",
                ));
            }
            let given = match value {
                Value::String(s) => !s.trim().is_empty(),
                Value::Number(_) | Value::Bool(_) => true,
                _ => false,
            };
            let digits_ok = DIGIT_FIELDS
                .iter()
                .find(|(f, _)| f == key)
                .is_none_or(|(_, n)| {
                    let text = match value {
                        Value::String(s) => s.trim().to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => String::new(),
                    };
                    text.len() == *n && text.bytes().all(|b| b.is_ascii_digit())
                });
            m.errored_fields.retain(|f| f != key);
            if given && digits_ok {
                m.submitted.insert(key.clone());
            } else {
                m.submitted.remove(key);
                m.errored_fields.push(key.clone());
            }
        }
        let requested = self.requested(&m);
        m.status = if requested.is_empty() && m.errored_fields.is_empty() {
            ApplicationStatus::Pending
        } else {
            ApplicationStatus::Incomplete
        };
        m.updated_at = now;
        let newly: Vec<String> = requested
            .iter()
            .filter(|f| !before.contains(f))
            .cloned()
            .collect();
        let json = pw::application(&m, &requested, &newly);
        self.merchants.insert(id.to_string(), m);
        Ok(json)
    }

    /// `PATCH /live_application/{id}/simulate_status` `{status}`: test
    /// merchants only; `accepted` for a `seller` needs an approved payment
    /// method \[node:Apis/PlatformModelApi\], for any needs a submitted
    /// application.
    pub(crate) fn simulate_status(
        &mut self,
        id: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, ApiError> {
        let status = pw::status_field(body)?;
        let m = self.sub(id)?;
        let refuse = |message: &str| {
            Err(ApiError::new_422(
                self.settings.codes.invalid_status,
                message.to_string(),
            ))
        };
        if m.live {
            return refuse("simulate_status is for test merchants");
        }
        if status == ApplicationStatus::Accepted {
            if m.status != ApplicationStatus::Pending {
                return refuse("Only a submitted (pending) application can be accepted");
            }
            if m.platform_role == "seller" && m.active_payment_methods.is_empty() {
                return refuse("accepted needs an approved payment method");
            }
        }
        Ok(self.review(id, status, now).unwrap_or(Value::Null))
    }

    /// Moves the application to `status` (KOMOJU's review); an accepted
    /// `payout` seller may receive payouts, a `seller` take payments too.
    /// `submerchant.application.accepted|declined` goes to the seller's
    /// events. `None` for an unknown merchant.
    pub(crate) fn review(
        &mut self,
        id: &str,
        status: ApplicationStatus,
        now: DateTime<Utc>,
    ) -> Option<Value> {
        let m = self.merchants.get_mut(id)?;
        m.status = status;
        m.updated_at = now;
        match status {
            ApplicationStatus::Accepted => {
                m.payouts_enabled = true;
                m.payments_enabled = m.platform_role == "seller";
            }
            ApplicationStatus::Declined => {
                m.payouts_enabled = false;
                m.payments_enabled = false;
            }
            _ => {}
        }
        let m = m.clone();
        let json = pw::application(&m, &self.requested(&m), &[]);
        let event = match status {
            ApplicationStatus::Accepted => Some("submerchant.application.accepted"),
            ApplicationStatus::Declined => Some("submerchant.application.declined"),
            _ => None,
        };
        if let Some(kind) = event {
            let merchant = self.event_merchant(id);
            self.emit(kind, &merchant, json.clone(), now);
        }
        Some(json)
    }

    /// The requested fields not given yet.
    fn requested(&self, m: &SubMerchant) -> Vec<String> {
        (self.settings.requested_fields.iter())
            .filter(|f| !m.submitted.contains(*f))
            .cloned()
            .collect()
    }

    /// A sub-merchant, or 404.
    fn sub(&self, id: &str) -> Result<&SubMerchant, ApiError> {
        self.merchants.get(id).ok_or_else(|| {
            ApiError::not_found(format!("The requested merchant {id:?} could not be found"))
        })
    }
}
