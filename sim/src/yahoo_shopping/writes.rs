//! The order write calls (`yahoo-shopping.md`, "Write calls"):
//! `orderChange` (mark seen), `orderStatusChange` with the transition table
//! and its refusals, `orderShipStatusChange` with the company codes and
//! invoice rules (a card order's capture on 3), `orderPayStatusChange` for
//! the store's own payment methods. A call that changes nothing answers
//! `OK` with the warning `od91705`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;

use super::order::{Order, is_card, is_store_handled};
use super::orders::{Book, Outcome, bad_parameter, refuse};
use super::settings::{
    API_UPDATE_PERSON, ILLEGAL_OPERATION_CODE, Settings, illegal_operation_message,
};
use super::xml::{self, Doc};

/// `ShipCompanyCode`s \[doc\].
pub const SHIP_COMPANY_CODES: &[&str] = &[
    "1000", "1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009", "1010", "1011",
    "1012", "1013", "1014", "1015", "1016", "1017", "1018", "1019", "1020", "1021", "1022", "1023",
    "1024", "1025", "1026", "1027", "1028", "1029", "5000", "5001",
];

const YAMATO: &str = "1001";
const JAPAN_POST: &str = "1003";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WriteReq {
    target: Option<Target>,
    order: Option<OrderPart>,
    seller_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Target {
    order_id: Option<String>,
    is_point_fix: Option<String>,
    operation_user: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrderPart {
    order_status: Option<String>,
    cancel_reason: Option<String>,
    cancel_reason_detail: Option<String>,
    is_seen: Option<String>,
    ship: Option<ShipPart>,
    pay: Option<PayPart>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShipPart {
    ship_status: Option<String>,
    ship_company_code: Option<String>,
    ship_invoice_number1: Option<String>,
    ship_invoice_number2: Option<String>,
    ship_invoice_number_empty_reason: Option<String>,
    ship_date: Option<String>,
    ship_url: Option<String>,
    ship_method: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PayPart {
    pay_status: Option<String>,
    pay_date: Option<String>,
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Which write call a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// `orderChange`.
    Change,
    /// `orderStatusChange`.
    Status,
    /// `orderShipStatusChange`.
    Ship,
    /// `orderPayStatusChange`.
    Pay,
}

/// A warning of a write answer: code, message, detail.
type Warning = (&'static str, &'static str, String);

fn ok(warnings: &[Warning]) -> Outcome {
    let mut doc = Doc::new();
    doc.open("ResultSet", &[("ok", "1".into()), ("ng", "0".into())])
        .open("Result", &[])
        .leaf("Status", "OK");
    for (code, message, detail) in warnings {
        doc.open("Warning", &[])
            .leaf("Code", code)
            .leaf("Message", message)
            .leaf("Detail", detail)
            .close("Warning");
    }
    let body = doc.close("Result").close("ResultSet").finish();
    Outcome { status: 200, body }
}

fn no_change() -> Warning {
    ("od91705", "Already in that status.", String::new())
}

fn illegal(settings: &Settings, target_status: u8) -> Outcome {
    refuse(
        settings,
        settings.illegal_operation_status,
        ILLEGAL_OPERATION_CODE,
        &illegal_operation_message(target_status),
    )
}

/// `IsPointFix`: required, `true` or `false`.
fn point_fix(settings: &Settings, target: &Target) -> Result<bool, Outcome> {
    match text(&target.is_point_fix) {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(bad_parameter(settings, "IsPointFix")),
    }
}

/// Whether `from → to` is in the table \[doc\], for this order.
fn legal(order: &Order, to: u8, today: NaiveDate) -> bool {
    let prank_refused = order.prank && (to == 5 || matches!((order.status, to), (3, 2) | (5, 4)));
    let in_table = match (order.status, to) {
        (1, 4) | (1, 5) | (2, 3) | (2, 4) | (2, 5) | (3, 2) | (3, 4) | (3, 5) | (5, 4) => true,
        (3, 1) => order.release_date.is_some_and(|d| d > today),
        (5, 2) => is_card(&order.pay_method) || is_store_handled(&order.pay_method),
        _ => false,
    };
    in_table && !prank_refused
}

/// An invoice number as `company` takes it \[doc\].
fn valid_invoice(company: &str, number: &str) -> bool {
    match company {
        YAMATO => number.len() <= 14 && number.bytes().all(|b| b.is_ascii_digit() || b == b'-'),
        JAPAN_POST => (11..=13).contains(&number.chars().count()) && !number.contains('-'),
        _ => {
            number.len() <= 30
                && number
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }
    }
}

impl Book {
    /// One of the write calls on `body`.
    pub(crate) fn write(
        &mut self,
        call: Write,
        settings: &Settings,
        body: &str,
        now: DateTime<FixedOffset>,
    ) -> Outcome {
        let Ok(req) = quick_xml::de::from_str::<WriteReq>(body) else {
            return bad_parameter(settings, "Req");
        };
        if let Some(refusal) = self.seller_check(settings, req.seller_id.as_deref()) {
            return refusal;
        }
        let Some(target) = req.target else {
            return bad_parameter(settings, "Target");
        };
        let order = match self.find(settings, text(&target.order_id)) {
            Ok(order) => order.clone(),
            Err(refusal) => return refusal,
        };
        let part = req.order.unwrap_or_default();
        let window = chrono::TimeDelta::from_std(settings.cancel_window).unwrap_or_default();
        if settings.read_only_refuses_writes && order.is_read_only(now, window) {
            return illegal(settings, order.status);
        }
        let person = text(&target.operation_user)
            .unwrap_or(API_UPDATE_PERSON)
            .to_string();
        let planned = match call {
            Write::Change => plan_seen(settings, &part),
            Write::Status => plan_status(settings, &order, &target, &part, now),
            Write::Ship => plan_ship(settings, &order, &target, &part),
            Write::Pay => plan_pay(settings, &order, &part),
        };
        let (apply, mut warnings) = match planned {
            Ok(plan) => plan,
            Err(refusal) => return refusal,
        };
        match self.change(&order.order_id, &person, now, apply) {
            Some(true) => {}
            Some(false) if warnings.is_empty() => warnings.push(no_change()),
            Some(false) => {}
            None => return super::orders::unknown_order(settings),
        }
        ok(&warnings)
    }
}

/// What a write does to the order, and its warnings.
type Plan = Result<(Box<dyn FnOnce(&mut Order)>, Vec<Warning>), Outcome>;

fn plan_seen(settings: &Settings, part: &OrderPart) -> Plan {
    let seen = match text(&part.is_seen) {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(bad_parameter(settings, "IsSeen")),
    };
    Ok((Box::new(move |o: &mut Order| o.is_seen = seen), Vec::new()))
}

fn plan_status(
    settings: &Settings,
    order: &Order,
    target: &Target,
    part: &OrderPart,
    now: DateTime<FixedOffset>,
) -> Plan {
    let fix = point_fix(settings, target)?;
    let to = match text(&part.order_status).map(str::parse::<u8>) {
        Some(Ok(s @ 1..=5)) => s,
        _ => return Err(bad_parameter(settings, "OrderStatus")),
    };
    if to == 5 && !fix {
        return Err(bad_parameter(settings, "IsPointFix"));
    }
    let reason = match text(&part.cancel_reason).map(str::parse::<u16>) {
        None => 210,
        Some(Ok(r)) => r,
        Some(Err(_)) => return Err(bad_parameter(settings, "CancelReason")),
    };
    let detail = text(&part.cancel_reason_detail).unwrap_or("").to_string();
    if to == 4 && reason == 230 && !(10..=200).contains(&detail.chars().count()) {
        return Err(bad_parameter(settings, "CancelReasonDetail"));
    }
    if order.status == to {
        return Ok((Box::new(|_: &mut Order| {}), vec![no_change()]));
    }
    if !legal(order, to, now.date_naive()) {
        return Err(illegal(settings, to));
    }
    let apply = move |o: &mut Order| {
        o.status = to;
        if to == 4 {
            o.cancel_reason = Some(reason);
            o.cancel_reason_detail = detail;
            o.buyer_mails = o.buyer_mails.saturating_add(1);
        }
        if to == 5 {
            o.points_fixed = true;
        }
    };
    Ok((Box::new(apply), Vec::new()))
}

fn plan_ship(settings: &Settings, order: &Order, target: &Target, part: &OrderPart) -> Plan {
    if !point_fix(settings, target)? {
        return Err(bad_parameter(settings, "IsPointFix"));
    }
    let ship = part
        .ship
        .as_ref()
        .ok_or_else(|| bad_parameter(settings, "Ship"))?;
    let to = match text(&ship.ship_status).map(str::parse::<u8>) {
        Some(Ok(s @ 0..=4)) => s,
        _ => return Err(bad_parameter(settings, "ShipStatus")),
    };
    let company = text(&ship.ship_company_code).map(str::to_string);
    if company
        .as_deref()
        .is_some_and(|c| !SHIP_COMPANY_CODES.contains(&c))
    {
        return Err(bad_parameter(settings, "ShipCompanyCode"));
    }
    let company_now = company
        .clone()
        .unwrap_or_else(|| order.ship_company_code.clone());
    let invoices = [
        text(&ship.ship_invoice_number1),
        text(&ship.ship_invoice_number2),
    ];
    for (n, invoice) in invoices.iter().enumerate() {
        if invoice.is_some_and(|i| !valid_invoice(&company_now, i)) {
            return Err(bad_parameter(
                settings,
                &format!("ShipInvoiceNumber{}", n + 1),
            ));
        }
    }
    let empty_reason = text(&ship.ship_invoice_number_empty_reason).map(str::to_string);
    if let Some(reason) = &empty_reason {
        let in_range = reason
            .parse::<u16>()
            .is_ok_and(|r| (101..=105).contains(&r));
        if !in_range || invoices.iter().any(Option::is_some) {
            return Err(bad_parameter(settings, "ShipInvoiceNumberEmptyReason"));
        }
    }
    let ship_date = match text(&ship.ship_date) {
        None => None,
        Some(d) => Some(xml::parse_date(d).ok_or_else(|| bad_parameter(settings, "ShipDate"))?),
    };
    let url = text(&ship.ship_url).map(str::to_string);
    if url.as_ref().is_some_and(|u| u.len() > 100) {
        return Err(bad_parameter(settings, "ShipUrl"));
    }
    if order.status == 4
        || (settings.refuse_ship_from_unshippable && order.ship_status == 0 && to >= 3)
    {
        return Err(refuse(
            settings,
            settings.illegal_operation_status,
            ILLEGAL_OPERATION_CODE,
            "Cannot Be Operated : ChangeShipStatus ShipStatus",
        ));
    }
    let mut warnings = Vec::new();
    let capture = to == 3 && order.ship_status != 3 && is_card(&order.pay_method);
    if capture && order.captured {
        warnings.push(("od91113", "Card payment already captured.", String::new()));
    } else if capture && order.capture_expired {
        warnings.push(("od91115", "Card capture period is over.", String::new()));
    }
    if order.ship_status == to {
        warnings.push(no_change());
    }
    let (inv1, inv2) = (
        invoices[0].map(str::to_string),
        invoices[1].map(str::to_string),
    );
    let method = text(&ship.ship_method).map(str::to_string);
    let apply = move |o: &mut Order| {
        o.ship_status = to;
        if let Some(c) = company {
            o.ship_company_code = c;
        }
        if let Some(i) = inv1 {
            o.ship_invoice_number1 = i;
        }
        if let Some(i) = inv2 {
            o.ship_invoice_number2 = i;
        }
        if let Some(r) = empty_reason {
            o.ship_invoice_empty_reason = r;
        }
        if ship_date.is_some() {
            o.ship_date = ship_date;
        }
        if let Some(u) = url {
            o.ship_url = u;
        }
        if let Some(m) = method {
            o.ship_method = m;
        }
        if capture && !o.capture_expired {
            o.captured = true;
        }
    };
    Ok((Box::new(apply), warnings))
}

fn plan_pay(settings: &Settings, order: &Order, part: &OrderPart) -> Plan {
    let pay = part
        .pay
        .as_ref()
        .ok_or_else(|| bad_parameter(settings, "Pay"))?;
    let status = match text(&pay.pay_status) {
        Some("0") => 0,
        Some("1") => 1,
        _ => return Err(bad_parameter(settings, "PayStatus")),
    };
    let date = match text(&pay.pay_date) {
        None => None,
        Some(d) => Some(xml::parse_date(d).ok_or_else(|| bad_parameter(settings, "PayDate"))?),
    };
    if !is_store_handled(&order.pay_method) {
        return Err(refuse(
            settings,
            settings.illegal_operation_status,
            ILLEGAL_OPERATION_CODE,
            "Cannot Be Operated : ChangePayStatus PayMethod",
        ));
    }
    let apply = move |o: &mut Order| {
        o.pay_status = status;
        o.pay_date = date;
        if status == 1 && o.ship_status == 0 {
            o.ship_status = 1;
        }
    };
    Ok((Box::new(apply), Vec::new()))
}
