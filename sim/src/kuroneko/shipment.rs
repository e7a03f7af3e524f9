//! KAASL (shipment register, change, cancel) on the simulated back office,
//! after the common checks of [`SimState::handle`]: its own fields first
//! (processDiv, paymentNo with the check digit, shipYmd, beforePaymentNo),
//! then the state table and the three-orders-per-number rule.

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::codes::{KuronekoProcessDiv, KuronekoStatus, code};
use super::state::{MAX_ORDERS_PER_TRACKING_NUMBER, Reply, SimState, enter};
use super::text::yamato_check_digit_ok;
use super::wire::{self, Endpoint, Form, field, form_value};

impl SimState {
    /// KAASL: register, change or cancel the parcel's number.
    pub(super) fn shipment(
        &mut self,
        order_no: &str,
        form: &Form,
        now: DateTime<FixedOffset>,
    ) -> Result<Reply, String> {
        let e = Endpoint::Shipment;
        let ShipmentAsk {
            process,
            payment_no,
            ship_on,
            before,
        } = shipment_ask(order_no, form)?;
        let (payment_no, before) = (payment_no.as_str(), before.as_str());

        let shared_by = self
            .orders
            .values()
            .filter(|o| {
                o.snap.order_no != order_no
                    && o.snap.payment_no.as_deref() == Some(payment_no)
                    && o.snap.status != Some(KuronekoStatus::Cancelled)
            })
            .count();
        let timing = self.timing;
        let o = self.orders.get_mut(order_no).ok_or_else(|| code(e, 8))?;
        let status = o.snap.status.unwrap_or(KuronekoStatus::Cancelled);
        match process {
            KuronekoProcessDiv::RegisterYamato | KuronekoProcessDiv::RegisterOtherCarrier => {
                if !status.allows_shipment_registration() {
                    return Err(code(e, 20));
                }
            }
            KuronekoProcessDiv::Change | KuronekoProcessDiv::CancelRegistration => {
                if !status.allows_shipment_change() {
                    return Err(code(e, 22));
                }
            }
        }
        // The registered number, written with or without its hyphens.
        let unhyphenated: String = before.chars().filter(|c| *c != '-').collect();
        if process == KuronekoProcessDiv::Change
            && o.snap.payment_no.as_deref() != Some(before)
            && o.snap.payment_no.as_deref() != Some(unhyphenated.as_str())
        {
            return Err(code(e, 47));
        }
        let yamato_number = match process {
            KuronekoProcessDiv::RegisterYamato | KuronekoProcessDiv::Change => true,
            KuronekoProcessDiv::RegisterOtherCarrier | KuronekoProcessDiv::CancelRegistration => {
                false
            }
        };
        if yamato_number && shared_by >= MAX_ORDERS_PER_TRACKING_NUMBER {
            return Err(code(e, 45));
        }
        match process {
            KuronekoProcessDiv::RegisterYamato | KuronekoProcessDiv::RegisterOtherCarrier => {
                o.snap.payment_no = Some(payment_no.to_string());
                o.snap.shipment = Some(process);
                if let Some(date) = ship_on {
                    o.snap.ship_on = date;
                }
                if status != KuronekoStatus::NeedsInvestigation {
                    enter(o, KuronekoStatus::TrackingRegistered, now, &timing);
                }
            }
            KuronekoProcessDiv::Change => {
                o.snap.payment_no = Some(payment_no.to_string());
                if let Some(date) = ship_on {
                    o.snap.ship_on = date;
                }
            }
            KuronekoProcessDiv::CancelRegistration => {
                o.snap.payment_no = None;
                o.snap.shipment = None;
                enter(o, KuronekoStatus::Approved, now, &timing);
            }
        }
        Ok(Reply::ok())
    }
}

/// What a KAASL request asks, its fields checked.
struct ShipmentAsk {
    process: KuronekoProcessDiv,
    /// The number without hyphens (another carrier's: the orderNo).
    payment_no: String,
    /// The new shipment date (processDiv 9 only).
    ship_on: Option<NaiveDate>,
    /// The number a change replaces, as written.
    before: String,
}

/// The parcel's number as KAASL checks it: a Yamato number without its
/// hyphens, or another carrier's registration (the orderNo as written).
fn shipment_number(process: KuronekoProcessDiv, form: &Form) -> Result<String, String> {
    let e = Endpoint::Shipment;
    let written = form_value(form, field::PAYMENT_NO).unwrap_or_default();
    let needs_number = match process {
        KuronekoProcessDiv::RegisterYamato
        | KuronekoProcessDiv::Change
        | KuronekoProcessDiv::RegisterOtherCarrier => true,
        KuronekoProcessDiv::CancelRegistration => false,
    };
    if needs_number && written.is_empty() {
        return Err(code(e, 11));
    }
    // A Yamato number is `[0-9A-Za-z-]`, at most 12 without its
    // hyphens; another carrier's registration carries the orderNo.
    let digits: String = if process == KuronekoProcessDiv::RegisterOtherCarrier {
        written.to_string()
    } else {
        if !written
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(code(e, 12));
        }
        written.chars().filter(|c| *c != '-').collect()
    };
    if process != KuronekoProcessDiv::RegisterOtherCarrier && digits.len() > 12 {
        return Err(code(e, 10));
    }
    Ok(digits)
}

/// Checks KAASL's own fields (before the transaction is looked at).
fn shipment_ask(order_no: &str, form: &Form) -> Result<ShipmentAsk, String> {
    let e = Endpoint::Shipment;
    let process = form_value(form, field::PROCESS_DIV)
        .and_then(|v| v.parse::<u8>().ok())
        .and_then(KuronekoProcessDiv::from_code)
        .ok_or_else(|| code(e, 19))?;
    let digits = shipment_number(process, form)?;
    let payment_no = digits.as_str();
    // shipYmd goes with processDiv 1 only (Yamato's plugins send it so;
    // `031E` is the catalogue's refusal of one with 9, extended to 0
    // and 2 by the simulator).
    let ship_ymd = form_value(form, field::SHIP_YMD).filter(|v| !v.is_empty());
    let ship_on = match process {
        KuronekoProcessDiv::Change => Some(
            ship_ymd
                .and_then(wire::parse_ymd)
                .ok_or_else(|| code(e, 23))?,
        ),
        KuronekoProcessDiv::RegisterYamato
        | KuronekoProcessDiv::RegisterOtherCarrier
        | KuronekoProcessDiv::CancelRegistration => {
            if ship_ymd.is_some() {
                return Err(code(e, 31));
            }
            None
        }
    };
    let before = form_value(form, field::BEFORE_PAYMENT_NO).unwrap_or_default();
    match process {
        KuronekoProcessDiv::RegisterYamato => {
            if !yamato_check_digit_ok(payment_no) {
                return Err(code(e, 14));
            }
        }
        KuronekoProcessDiv::Change => {
            if before.is_empty() {
                return Err(code(e, 46));
            }
            if !yamato_check_digit_ok(payment_no) {
                return Err(code(e, 14));
            }
        }
        KuronekoProcessDiv::RegisterOtherCarrier => {
            if payment_no != order_no {
                return Err(code(e, 16));
            }
        }
        KuronekoProcessDiv::CancelRegistration => {}
    }
    Ok(ShipmentAsk {
        process,
        payment_no: payment_no.to_string(),
        ship_on,
        before: before.to_string(),
    })
}
