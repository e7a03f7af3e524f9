//! An event of the change feed as a sentence for a person: the demo's
//! timeline and `ordersync orders show` tell an order's story with these.

use serde_json::Value;

use crate::config::Language;

/// The sentence in `lang` (Japanese where written, else English).
pub fn describe_in(lang: Language, e: &Value) -> String {
    match lang {
        Language::Ja => super::sentences_ja::describe(e).unwrap_or_else(|| describe(e)),
        Language::En => describe(e),
    }
}

/// A sentence for a person, from an event of the change feed.
pub fn describe(e: &Value) -> String {
    let kind = e["kind"].as_str().unwrap_or("");
    if kind.starts_with("order.") {
        describe_order(kind, e)
    } else {
        describe_other(kind, e)
    }
}

/// The sentence of an `order.*` event.
fn describe_order(kind: &str, e: &Value) -> String {
    let d = &e["detail"];
    // " (SKU-001 3/3)", or nothing when the event names no line.
    let lines = || match reserved_of(&d["lines"]) {
        l if l.is_empty() => String::new(),
        l => format!(" ({l})"),
    };
    let units = |v: &Value| crate::wording::units(Language::En, v.as_i64().unwrap_or(0));
    let yahoo = e["channel"] == "yahoo";
    match kind {
        "order.imported" if yahoo => "imported from Yahoo! Shopping".into(),
        "order.held" if yahoo => {
            "stock held; the ERP gets it after the buyer's 10-minute cancel window (prepaid: once paid)".into()
        }
        "order.paid" if yahoo => "paid (settled at Yahoo! Shopping)".into(),
        "order.confirmed" if yahoo => "marked seen (処理中) at Yahoo! Shopping".into(),
        "order.changed" if yahoo => "changed at Yahoo! Shopping; lines re-held".into(),
        "order.shipment_reported" if yahoo => format!(
            "shipment reported to Yahoo! Shopping (carrier code {})",
            d["ship_company_code"].as_str().unwrap_or("?")
        ),
        "order.imported" => format!("imported from Rakuten at {}", d["progress"]),
        "order.held" => format!(
            "held at Rakuten's {} (shop-collected payment): stock reserved, confirmed next; the ERP imports it at 300",
            d["progress"]
        ),
        "order.topped_up" => format!(
            "topped up from stock that arrived{}",
            if d["complete"] == true {
                ": complete"
            } else {
                ""
            }
        ),
        "order.lines_deleted" => "lines deleted at Rakuten; their stock is back".into(),
        "order.paid" => "paid (settled by Rakuten)".into(),
        "order.shipped" => format!(
            "shipped: {} {}",
            d["carrier"].as_str().unwrap_or(""),
            d["tracking_no"].as_str().unwrap_or("")
        ),
        "order.shipment_reported" => format!(
            "shipment reported to Rakuten (carrier code {})",
            d["delivery_company"].as_str().unwrap_or("?")
        ),
        "order.changed" => "changed at Rakuten; lines re-imported".into(),
        "order.registered" => format!(
            "registered by the ERP, paid by {}",
            d["payment"].as_str().unwrap_or("?")
        ),
        "order.allocated" if e["channel"] == "jgoods" => {
            format!("allocated in full{}; telling J-goods", lines())
        }
        "order.short" if e["channel"] == "jgoods" => {
            format!("short{}; telling J-goods what we have", lines())
        }
        "order.allocated" => format!("allocated in full{}", lines()),
        "order.short" => format!("short{}", lines()),
        "order.awaiting_reply" => "J-goods is asking the customer about the shortage".into(),
        "order.partial_accepted" => {
            "the customer accepted the partial quantities; confirming".into()
        }
        "order.confirmed" if e["channel"] == "jgoods" => {
            "J-goods accepted: confirmed; J-goods pays against the invoice".into()
        }
        "order.confirmed" => "confirmed".into(),
        "order.cancelled" => format!(
            "cancelled by {}; {} back in stock",
            who(Language::En, d["by"].as_str().unwrap_or("?")),
            units(&d["released"])
        ),
        "order.received" => "order seen before payment".into(),
        "order.status" => format!(
            "J-goods status is now {}",
            d["status"].as_str().unwrap_or("?")
        ),
        "order.attention" => format!(
            "NEEDS ATTENTION: {}",
            crate::wording::pick(Language::En, d["reason"].as_str().unwrap_or(""))
        ),
        "order.reposted" => "our answer is sent to J-goods again".into(),
        "order.acknowledged" => format!(
            "{} acknowledged the attention ({}){}",
            d["by"].as_str().unwrap_or("?"),
            d["attention"].as_str().unwrap_or(""),
            match d["note"].as_str() {
                Some(n) if !n.is_empty() => format!(": {n}"),
                _ => String::new(),
            }
        ),
        other => format!("{other} {d}"),
    }
}

/// The sentence of a payment, credit, call or webhook event.
fn describe_other(kind: &str, e: &Value) -> String {
    let d = &e["detail"];
    match kind {
        "payment.authorized" if d["awaiting_customer"] == true => format!(
            "KOMOJU: awaiting the customer's {} payment until {} JST; not shippable until paid",
            d["method"].as_str().unwrap_or("?"),
            crate::domain::time::shown(d["payment_deadline"].as_str().unwrap_or("-"))
        ),
        "payment.authorized" => "KOMOJU: payment authorized; ready to ship".into(),
        "payment.captured" => "KOMOJU: payment captured".into(),
        "payment.refunded" => "KOMOJU: payment refunded".into(),
        "payment.refund" => format!("KOMOJU: refund of {} yen", d["amount"]),
        "payment.expired" | "payment.failed" | "payment.cancelled" => {
            format!("KOMOJU: {}", e["kind"].as_str().unwrap_or(""))
        }
        "webhook.repeat" => "the same state again; nothing to do".into(),
        "webhook.stale" => "an out-of-date delivery; re-reading the order from J-goods".into(),
        "call.dead" | "call.refused" => format!("post-back failed: {}", d),
        "call.retried" => "a person retried a failed call".into(),
        "call.dropped" => format!(
            "{} dropped the failed call {}: {}; it will never be made",
            d["by"].as_str().unwrap_or("?"),
            d["kind"].as_str().unwrap_or("?"),
            d["reason"].as_str().unwrap_or("")
        ),
        "credit.requested" => format!(
            "credit requested ({}): {}",
            d["reference"].as_str().unwrap_or("?"),
            d["result"].as_str().unwrap_or("?")
        ),
        "credit.ok" => "credit OK: released for shipping".into(),
        "credit.ng" => format!(
            "credit refused; {} back in stock",
            crate::wording::units(Language::En, d["released"].as_i64().unwrap_or(0))
        ),
        "credit.over_limit" => format!(
            "credit refused: over the buyer's limit; {} back in stock",
            crate::wording::units(Language::En, d["released"].as_i64().unwrap_or(0))
        ),
        "credit.shipment_registered" => format!(
            "tracking number {} registered with the deferred-payment provider",
            d["tracking_no"].as_str().unwrap_or("?")
        ),
        "credit.cancelled" => "deferred payment cancelled at the provider".into(),
        other => format!("{other} {d}"),
    }
}

/// Who cancelled an order (`by` of `order.cancelled`), in `lang`.
pub fn who(lang: Language, by: &str) -> String {
    use crate::wording::say;
    match by {
        "merchant" => say(lang, "店舗", "the merchant").to_string(),
        "jgoods" => "J-goods".to_string(),
        "rakuten" => say(lang, "楽天", "Rakuten").to_string(),
        "yahoo" => say(lang, "Yahoo!ショッピング", "Yahoo! Shopping").to_string(),
        "komoju" => "KOMOJU".to_string(),
        "customer" | "buyer" => say(lang, "お客様", "the customer").to_string(),
        other => other.to_string(),
    }
}

/// `SKU-001 3/3, SKU-002 4/6`: reserved of ordered, per line.
pub fn reserved_of(lines: &Value) -> String {
    lines
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            format!(
                "{} {}/{}",
                l["sku"].as_str().unwrap_or("?"),
                l["reserved_qty"],
                l["qty"]
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
