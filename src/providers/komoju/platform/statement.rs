//! A seller's statement (精算書) for a period: its sales, the merchant's
//! fees, the refunds, the transfers and the net, from ordersync's books
//! (each booked with KOMOJU's answer), as CSV (Shift_JIS, CRLF) and a
//! printable page. Pure: the caller reads the bookings.

use std::fmt::Write;

use quick_xml::escape::escape;

use crate::config::Language;
use crate::invoice::html::yen;
use crate::store::sellers::{Booking, Seller};

/// A seller's statement for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The seller.
    pub seller: Seller,
    /// First day (JST), `YYYY-MM-DD`.
    pub from: String,
    /// Last day (JST, included), `YYYY-MM-DD`.
    pub to: String,
    /// The bookings, oldest first.
    pub bookings: Vec<Booking>,
    /// 売上: the seller's shares of sales.
    pub sales: i64,
    /// 手数料: the merchant's fees on them, less fees returned by refunds.
    pub fees: i64,
    /// 返金: what refunds took back (negative or zero).
    pub refunds: i64,
    /// 振替: transfers to (positive) or from (negative) the seller.
    pub transfers: i64,
    /// 差引: what the seller's KOMOJU balance gained in the period.
    pub net: i64,
}

/// Sums the bookings (saturating: a statement of whole yen far below the
/// limits of `i64`).
pub fn statement(seller: Seller, from: &str, to: &str, bookings: Vec<Booking>) -> Statement {
    let (mut sales, mut fees, mut refunds, mut transfers) = (0i64, 0i64, 0i64, 0i64);
    for b in &bookings {
        match b.kind.as_str() {
            "sale" => sales = sales.saturating_add(b.amount),
            "refund" => refunds = refunds.saturating_add(b.amount),
            _ => transfers = transfers.saturating_add(b.amount),
        }
        fees = fees.saturating_add(b.fee);
    }
    let net = sales
        .saturating_add(refunds)
        .saturating_add(transfers)
        .saturating_sub(fees);
    Statement {
        seller,
        from: from.to_string(),
        to: to.to_string(),
        bookings,
        sales,
        fees,
        refunds,
        transfers,
        net,
    }
}

fn kind_word(lang: Language, kind: &str) -> &'static str {
    let (ja, en) = match kind {
        "sale" => ("売上", "sale"),
        "refund" => ("返金", "refund"),
        _ => ("振替", "transfer"),
    };
    crate::wording::say(lang, ja, en)
}

/// CSV text, CRLF line ends (encode it for the merchant's ERP).
pub fn csv(s: &Statement, lang: Language) -> String {
    let cell = |v: &str| {
        if v.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_string()
        }
    };
    let say = |ja, en| crate::wording::say(lang, ja, en);
    let mut out = String::new();
    let _ = write!(
        out,
        "{},{},{},{},{},{},{}\r\n",
        say("日時", "at"),
        say("区分", "kind"),
        say("受注番号", "order"),
        say("決済ID", "payment"),
        say("金額", "amount"),
        say("手数料", "fee"),
        say("摘要", "note"),
    );
    for b in &s.bookings {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{}\r\n",
            cell(&crate::domain::time::shown(&b.at)),
            kind_word(lang, &b.kind),
            cell(b.order_id.as_deref().unwrap_or("")),
            cell(b.payment_id.as_deref().unwrap_or("")),
            b.amount,
            b.fee,
            cell(b.reason.as_deref().unwrap_or("")),
        );
    }
    for (label, v) in totals(s, lang) {
        let _ = write!(out, ",{label},,,{v},,\r\n");
    }
    out
}

fn totals(s: &Statement, lang: Language) -> [(&'static str, i64); 5] {
    let say = |ja, en| crate::wording::say(lang, ja, en);
    [
        (say("売上合計", "sales"), s.sales),
        (say("手数料合計", "fees"), s.fees),
        (say("返金合計", "refunds"), s.refunds),
        (say("振替合計", "transfers"), s.transfers),
        (say("差引支払額", "net"), s.net),
    ]
}

/// A printable page.
pub fn html(s: &Statement, lang: Language) -> String {
    let say = |ja, en| crate::wording::say(lang, ja, en);
    let mut rows = String::new();
    for b in &s.bookings {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&crate::domain::time::shown(&b.at)),
            kind_word(lang, &b.kind),
            esc(b.order_id.as_deref().unwrap_or("")),
            yen(b.amount),
            yen(b.fee),
            esc(b.reason.as_deref().unwrap_or("")),
        );
    }
    let mut sums = String::new();
    for (label, v) in totals(s, lang) {
        let _ = write!(
            sums,
            "<tr><th>{label}</th><td class=\"n\">{}</td></tr>",
            yen(v)
        );
    }
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} {}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #999;padding:.2em .5em}}.n{{text-align:right}}</style></head><body>\
         <h1>{}</h1><p>{} {} ({})</p><p>{} {} 〜 {}</p>\
         <table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{rows}</table>\
         <h2>{}</h2><table>{sums}</table></body></html>",
        match lang {
            Language::Ja => "ja",
            Language::En => "en",
        },
        say("精算書", "Statement"),
        esc(&s.seller.code),
        say("精算書", "Statement"),
        say("出品者", "Seller"),
        esc(&s.seller.name),
        esc(&s.seller.code),
        say("対象期間", "Period"),
        esc(&s.from),
        esc(&s.to),
        say("日時", "At"),
        say("区分", "Kind"),
        say("受注番号", "Order"),
        say("金額", "Amount"),
        say("手数料", "Fee"),
        say("摘要", "Note"),
        say("合計", "Totals"),
    )
}

fn esc(s: &str) -> String {
    escape(s).into_owned()
}
