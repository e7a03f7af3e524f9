//! Money back (contract "Payments", "Refund request"): `/refund` for the
//! types that take it, `/refund_request` with the customer's bank account for
//! konbini, bank transfer and Pay-easy, and KOMOJU's hand processing of a
//! request (the complete and reject hooks).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::SimState;
use crate::komoju::model::{
    Payment, PaymentStatus, Refund, RefundRequest, RefundRequestStatus, RefundRoute,
};
use crate::komoju::wire::{self, ApiError, EventType, KomojuRefundRequest, RefundBody};

/// Longest text field of a refund request taken (KOMOJU publishes none; assumed).
const MAX_TEXT: usize = 100;

impl SimState {
    /// `POST /payments/{id}/refund`: only from `captured`, only for the types
    /// refunded this way, at most what is left (and what the unsettled
    /// balance allows); `payment.refund.created`, plus `payment.refunded`
    /// when nothing is left.
    pub(crate) fn refund(
        &mut self,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Payment, ApiError> {
        let request: RefundBody = wire::read_body(body)?;
        let fields: Map<String, Value> = wire::read_body(body)?;
        let refund_id = self.fresh_id();
        let balance = self.unsettled_balance;
        let p = self.payment_mut(id)?;
        if p.payment_type.refund_route() != RefundRoute::Refund {
            return Err(ApiError::wrong_type("refunded", &p.payment_type));
        }
        if p.status != PaymentStatus::Captured {
            return Err(ApiError::wrong_status("refunded", p.status));
        }
        let left = p.refundable();
        let amount = match request.amount {
            None => left,
            Some(a) if a >= 1 && a <= left => a,
            Some(a) => {
                return Err(ApiError::invalid(
                    "amount",
                    format!("amount {a} must be between 1 and the refundable {left}"),
                ));
            }
        };
        check_balance(balance, amount)?;
        let (split, booking) = self.plan_refund_split(id, &fields, amount, 0)?;
        self.platform.book(id, booking, now);
        let p = self.payment_mut(id)?;
        p.refunds.push(Refund {
            id: refund_id,
            amount,
            description: request.description,
            created_at: now,
            chargeback: false,
            platform_details: split,
        });
        p.amount_refunded = p.amount_refunded.saturating_add(amount);
        let full = p.amount_refunded >= p.total;
        if full {
            p.status = PaymentStatus::Refunded;
        }
        self.take_balance(amount);
        self.stats.payment_mut(id).refunds += 1;
        self.emit(id, EventType::RefundCreated, now);
        if full {
            self.emit(id, EventType::Refunded, now);
        }
        self.get(id)
    }

    /// `POST /payments/{id}/refund_request`: only for a `captured` payment of
    /// a type paid in cash, with every field checked; the request is
    /// `pending` until KOMOJU processes it by hand. Answers nothing.
    pub(crate) fn refund_request(
        &mut self,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let fields: Map<String, Value> = wire::read_body(body)?;
        let request_id = self.fresh_id();
        let balance = self.unsettled_balance;
        let account_types = self.behaviour.account_types.clone();
        let p = self.payment_mut(id)?;
        if p.payment_type.refund_route() != RefundRoute::RefundRequest {
            return Err(ApiError::wrong_type(
                "refunded to a bank account",
                &p.payment_type,
            ));
        }
        if p.status != PaymentStatus::Captured {
            return Err(ApiError::wrong_status("refunded", p.status));
        }
        let f = Fields(&fields);
        let left = p.requestable();
        let amount = match f.get("amount") {
            None => return Err(ApiError::missing("amount")),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(a) if a >= 1 && a <= left => a,
                _ => {
                    return Err(ApiError::invalid(
                        "amount",
                        format!("amount must be a whole number from 1 to the requestable {left}"),
                    ));
                }
            },
            Some(_) => return Err(ApiError::invalid("amount", "amount must be an integer")),
        };
        check_balance(balance, amount)?;
        let (split, _) = self.plan_refund_split(id, &fields, amount, 0)?;
        let p = self.payment_mut(id)?;
        let f = Fields(&fields);
        let customer_name = f.text("customer_name", true)?.unwrap_or_default();
        if !customer_name.chars().all(zengin_char) {
            return Err(ApiError::invalid(
                "customer_name",
                "customer_name must be half-width katakana as registered at the bank",
            ));
        }
        let account_type = f.text("account_type", true)?.unwrap_or_default();
        if !account_types.contains(&account_type) {
            return Err(ApiError::invalid(
                "account_type",
                format!("account_type must be one of {}", account_types.join(", ")),
            ));
        }
        let request = RefundRequest {
            id: request_id,
            amount,
            include_payment_method_fee: match f.get("include_payment_method_fee") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(ApiError::invalid(
                        "include_payment_method_fee",
                        "include_payment_method_fee must be true or false",
                    ));
                }
            },
            customer_name,
            bank_name: f.text("bank_name", true)?.unwrap_or_default(),
            bank_code: f.digits("bank_code", 4, false)?,
            branch_name: f.text("branch_name", false)?,
            branch_number: f.digits("branch_number", 3, true)?.unwrap_or_default(),
            account_type,
            account_number: f.digits("account_number", 7, true)?.unwrap_or_default(),
            description: f.text("description", false)?,
            status: RefundRequestStatus::Pending,
            created_at: now,
            platform_details: split,
        };
        p.refund_requests.push(request);
        self.stats.payment_mut(id).refund_requests += 1;
        Ok(())
    }

    /// KOMOJU transferred the money of the payment's oldest pending request:
    /// `completed`, a refund entry \[guess\], `refund_request.updated` and
    /// `payment.refund.created`, and `refunded` (with `payment.refunded`)
    /// once nothing is left to ask.
    pub(crate) fn complete_refund_request(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Option<RefundRequest> {
        let refund_id = self.fresh_id();
        let p = self.payment(id)?;
        let pending =
            (p.refund_requests.iter()).find(|r| r.status == RefundRequestStatus::Pending)?;
        let fee = if pending.include_payment_method_fee {
            p.payment_method_fee
        } else {
            0
        };
        // The split is booked when the money moves; a split the balances no
        // longer allow leaves the request pending [guess].
        let booking = self
            .platform
            .plan_refund(id, pending.amount, pending.platform_details.as_ref(), fee)
            .ok()?;
        self.platform.book(id, booking, now);
        let p = &mut self.payments.get_mut(id)?.payment;
        let r =
            (p.refund_requests.iter_mut()).find(|r| r.status == RefundRequestStatus::Pending)?;
        r.status = RefundRequestStatus::Completed;
        let done = r.clone();
        let amount = done.amount.saturating_add(fee);
        p.refunds.push(Refund {
            id: refund_id,
            amount,
            description: done.description.clone(),
            created_at: now,
            chargeback: false,
            platform_details: done.platform_details.clone(),
        });
        p.amount_refunded = p.amount_refunded.saturating_add(amount);
        let pending = (p.refund_requests.iter()).any(|r| r.status == RefundRequestStatus::Pending);
        let full = p.requestable() == 0 && !pending;
        if full {
            p.status = PaymentStatus::Refunded;
        }
        self.take_balance(amount);
        self.emit_refund_request(id, &done, now);
        self.emit(id, EventType::RefundCreated, now);
        if full {
            self.emit(id, EventType::Refunded, now);
        }
        Some(done)
    }

    /// KOMOJU refused the payment's oldest pending request (wrong bank data):
    /// `rejected` and `refund_request.updated`; the merchant files again.
    pub(crate) fn reject_refund_request(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Option<RefundRequest> {
        let p = &mut self.payments.get_mut(id)?.payment;
        let r =
            (p.refund_requests.iter_mut()).find(|r| r.status == RefundRequestStatus::Pending)?;
        r.status = RefundRequestStatus::Rejected;
        let done = r.clone();
        self.emit_refund_request(id, &done, now);
        Some(done)
    }

    fn emit_refund_request(&mut self, payment_id: &str, r: &RefundRequest, now: DateTime<Utc>) {
        let data = serde_json::to_value(KomojuRefundRequest::from_request(r, payment_id))
            .unwrap_or(Value::Null);
        let event = super::render_event(
            EventType::RefundRequestUpdated,
            Some(payment_id.to_string()),
            data,
            now,
        );
        self.effects.push(super::Effect::Webhook(event));
    }

    fn take_balance(&mut self, amount: i64) {
        if let Some(b) = self.unsettled_balance.as_mut() {
            *b = b.saturating_sub(amount);
        }
    }
}

/// A refund above the unsettled balance (net of fees) is refused \[h-refund\]
/// (status and code \[guess\]).
fn check_balance(balance: Option<i64>, amount: i64) -> Result<(), ApiError> {
    match balance {
        Some(b) if amount > b => Err(ApiError::new_422(
            "insufficient_balance",
            format!("The unsettled balance ({b}) is below the refund ({amount})"),
        )),
        _ => Ok(()),
    }
}

/// Characters a Zengin account name may hold: half-width katakana and their
/// marks, upper-case letters, digits, space and `( ) . - /`.
fn zengin_char(c: char) -> bool {
    matches!(c, '\u{FF66}'..='\u{FF9F}' | 'A'..='Z' | '0'..='9' | ' ' | '(' | ')' | '.' | '-' | '/')
}

/// The request's fields, read one by one so each error names its field.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string of 1 to [`MAX_TEXT`] characters; `required` fails on absence.
    fn text(&self, name: &'static str, required: bool) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None if required => Err(ApiError::missing(name)),
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= MAX_TEXT => {
                Ok(Some(s.trim().to_string()))
            }
            Some(_) => Err(ApiError::invalid(
                name,
                format!("{name} must be a string of 1 to {MAX_TEXT} characters"),
            )),
        }
    }

    /// Up to `width` digits, as a string or an integer (the request schema
    /// types `account_number` as an integer \[guess\]), left-padded with zeros.
    fn digits(
        &self,
        name: &'static str,
        width: usize,
        required: bool,
    ) -> Result<Option<String>, ApiError> {
        let raw = match self.get(name) {
            None if required => return Err(ApiError::missing(name)),
            None => return Ok(None),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            Some(_) => String::new(),
        };
        if raw.is_empty() || raw.len() > width || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid(
                name,
                format!("{name} must be {width} digits"),
            ));
        }
        Ok(Some(format!("{raw:0>width$}")))
    }
}
