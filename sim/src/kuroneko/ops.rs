//! KAARA (credit), KAARS (credit result), KAAST (status), KAACL (cancel)
//! and KAAKK (reduce) on the simulated back office, each after the common
//! checks of [`SimState::handle`]: field rules, relations, then the state
//! table of the contract ("State rules").

use chrono::{DateTime, FixedOffset};

use super::codes::{self, KuronekoCreditResult, KuronekoStatus, KuronekoWarning, code};
use super::fields::{Content, read_content};
use super::state::{OrderSnapshot, Reply, Review, SimOrder, SimState, warning_of};
use super::text::{self, EMAIL_MAX, NAME_MAX, full_width_within, phone_ok};
use super::wire::{self, Endpoint, Form, field, form_value};

impl SimState {
    /// The deterministic scoring: the result, a review's outcome and end,
    /// and when an OK turns NG (several orders to one address).
    fn score(
        &self,
        name: &str,
        content: &Content,
        now: DateTime<FixedOffset>,
    ) -> (
        KuronekoCreditResult,
        Option<Review>,
        Option<DateTime<FixedOffset>>,
    ) {
        let scoring = &self.scoring;
        let address_key = format!("{}{}", content.post_code, content.address);
        let (credit, review) = if name.contains(&scoring.review_marker) {
            let outcome = if name.contains(&scoring.ng_marker) {
                KuronekoCreditResult::Ng
            } else {
                KuronekoCreditResult::Ok
            };
            (
                KuronekoCreditResult::UnderReview,
                Some((outcome, now + scoring.review_delay)),
            )
        } else if name.contains(&scoring.ng_marker) {
            (KuronekoCreditResult::Ng, None)
        } else if content.total_amount > scoring.over_limit_amount {
            (KuronekoCreditResult::OverLimit, None)
        } else {
            (KuronekoCreditResult::Ok, None)
        };
        let flip_at = match credit {
            KuronekoCreditResult::Ok => scoring.flip.and_then(|(orders, window, after)| {
                let earlier = self
                    .orders
                    .values()
                    .filter(|o| {
                        format!("{}{}", o.snap.post_code, o.snap.address) == address_key
                            && o.snap.credited_at >= now - window
                    })
                    .count();
                (earlier + 1 >= orders).then_some(now + after)
            }),
            KuronekoCreditResult::Ng
            | KuronekoCreditResult::OverLimit
            | KuronekoCreditResult::UnderReview => None,
        };
        (credit, review, flip_at)
    }

    pub(super) fn credit(
        &mut self,
        form: &Form,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, String> {
        let e = Endpoint::Credit;
        let ordered_on = form_value(form, field::ORDER_YMD)
            .and_then(wire::parse_ymd)
            .ok_or_else(|| code(e, 10))?;
        let content = read_content(
            e,
            form,
            now.date_naive(),
            Some(ordered_on),
            self.enclosed_invoice,
        )?;
        let name = check_buyer(form)?;
        // Relations are checked in `read_content`; the state table is one rule here.
        let order_no = form_value(form, field::ORDER_NO).unwrap_or_default();
        if self.orders.contains_key(order_no) {
            return Err(code(e, 9));
        }
        let (credit, review, flip_at) = self.score(name, &content, now);
        let status = match credit {
            KuronekoCreditResult::Ok => Some(KuronekoStatus::Approved),
            KuronekoCreditResult::Ng | KuronekoCreditResult::OverLimit => {
                Some(KuronekoStatus::Cancelled)
            }
            KuronekoCreditResult::UnderReview => None,
        };
        let snap = OrderSnapshot {
            order_no: order_no.to_string(),
            credit,
            status,
            warning: KuronekoWarning::None,
            ordered_on,
            ship_on: content.ship_on,
            name: name.to_string(),
            post_code: content.post_code,
            address: content.address,
            total_amount: content.total_amount,
            items: content.items,
            send_div: content.send_div,
            payment_no: None,
            shipment: None,
            credited_at: now,
        };
        self.orders.insert(
            order_no.to_string(),
            SimOrder {
                snap,
                review,
                flip_at,
                next: None,
                warning: None,
                cancelled: false,
            },
        );
        Ok(Reply::result(credit.code()))
    }

    pub(super) fn credit_result(&self, order_no: &str) -> Result<Reply, String> {
        // `008E`: "an existing orderNo not cancelled" (the catalogue).
        let o = self
            .orders
            .get(order_no)
            .filter(|o| !o.cancelled)
            .ok_or_else(|| code(Endpoint::CreditResult, 8))?;
        Ok(Reply::result(o.snap.credit.code()))
    }

    pub(super) fn status(
        &self,
        order_no: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, String> {
        let e = Endpoint::Status;
        let o = self.orders.get(order_no).ok_or_else(|| code(e, 8))?;
        let status = o.snap.status.ok_or_else(|| code(e, 10))?;
        Ok(Reply {
            error: None,
            result: Some(status.code()),
            warning: Some(warning_of(o, now).code()),
        })
    }

    /// KAASL: register, change or cancel the parcel's number.
    pub(super) fn cancel(&mut self, order_no: &str) -> Result<Reply, String> {
        let e = Endpoint::Cancel;
        let o = self.orders.get_mut(order_no).ok_or_else(|| code(e, 8))?;
        let allowed = match o.snap.status {
            // Under review: the buyer may still withdraw the order.
            None => true,
            Some(s) => s.allows_cancel_or_reduce(),
        };
        if !allowed {
            return Err(code(e, 9));
        }
        o.review = None;
        o.flip_at = None;
        o.next = None;
        o.snap.status = Some(KuronekoStatus::Cancelled);
        o.cancelled = true;
        Ok(Reply::ok())
    }

    pub(super) fn reduce(
        &mut self,
        order_no: &str,
        form: &Form,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, String> {
        let e = Endpoint::Reduce;
        let ordered_on = self.orders.get(order_no).map(|o| o.snap.ordered_on);
        let content = read_content(e, form, now.date_naive(), ordered_on, self.enclosed_invoice)?;
        let o = self.orders.get_mut(order_no).ok_or_else(|| code(e, 8))?;
        if o.snap
            .status
            .is_some_and(|status| !status.allows_cancel_or_reduce())
        {
            return Err(code(e, 11));
        }
        if o.snap.credit != KuronekoCreditResult::Ok {
            return Err(code(e, 9));
        }
        if content.total_amount >= o.snap.total_amount {
            return Err(code(e, 50));
        }
        o.snap.total_amount = content.total_amount;
        o.snap.items = content.items;
        o.snap.ship_on = content.ship_on;
        o.snap.post_code = content.post_code;
        o.snap.address = content.address;
        o.snap.send_div = content.send_div;
        Ok(Reply::ok())
    }
}

/// KAARA's buyer fields (name, kana, phone, e-mail); answers the name.
fn check_buyer(form: &Form) -> Result<&str, String> {
    let e = Endpoint::Credit;
    let name = form_value(form, field::NAME).unwrap_or_default();
    if !full_width_within(name, NAME_MAX, false) {
        return Err(code(e, 20));
    }
    if !text::in_range(name) {
        return Err(code(e, codes::NAME_OUT_OF_RANGE));
    }
    let kana = form_value(form, field::NAME_KANA).unwrap_or_default();
    if !text::is_half_width_kana_text(kana) {
        return Err(code(e, 21));
    }
    let tel = form_value(form, field::TEL_NUM).unwrap_or_default();
    if !phone_ok(tel) {
        return Err(code(e, 40));
    }
    let email = form_value(form, field::EMAIL).unwrap_or_default();
    if email.chars().count() > EMAIL_MAX {
        return Err(code(e, 42));
    }
    Ok(name)
}
