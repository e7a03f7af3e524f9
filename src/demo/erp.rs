//! The demo's ERP: an admin API client, and the timeline, stock and orders it prints.

use super::*;

pub(super) fn step(text: &str) {
    println!("\n▶ {text}");
}

/// The ERP's view: the admin API over HTTP, as a real ERP integration uses it.
#[derive(Clone)]
pub(super) struct Erp {
    pub(super) base: String,
    pub(super) token: String,
    pub(super) http: reqwest::Client,
}

impl Erp {
    pub(super) async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await.context("admin API answered non-JSON")?;
        if !status.is_success() {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }

    pub(super) async fn import_stock(&self, csv: &str) -> anyhow::Result<()> {
        let resp = self
            .http
            .post(format!("{}/api/v1/stock/import", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("stock import failed: {}", resp.text().await?);
        }
        Ok(())
    }

    pub(super) async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub(super) async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::PUT, path, body).await
    }

    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let resp = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await.context("admin API answered non-JSON")?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {body}");
        }
        Ok(body)
    }

    pub(super) async fn wait(
        &self,
        channel: &str,
        id: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let until = Instant::now() + STEP_DEADLINE;
        loop {
            if let Ok(o) = self.get(&format!("/api/v1/orders/{channel}/{id}")).await
                && pred(&o)
            {
                return Ok(o);
            }
            if Instant::now() > until {
                bail!("order {id} did not reach the expected state in time");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Follows the change feed (long poll) and prints each event as it happens.
pub(super) async fn print_timeline(erp: Erp, started: Instant) {
    let mut after = 0;
    loop {
        let Ok(page) = erp
            .get(&format!("/api/v1/events?after={after}&wait=5"))
            .await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        for e in page["events"].as_array().into_iter().flatten() {
            println!(
                "  {:>7.3}s  {:<24} {:<25} {}",
                started.elapsed().as_secs_f64(),
                e["kind"].as_str().unwrap_or(""),
                e["order_id"].as_str().unwrap_or("-"),
                describe(e)
            );
        }
        after = page["next_after"].as_i64().unwrap_or(after);
    }
}

/// A sentence for a person, from an event of the change feed.
pub(super) fn describe(e: &Value) -> String {
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
    let lines = || reserved_of(&d["lines"]);
    match kind {
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
            format!("allocated in full ({}); telling J-goods", lines())
        }
        "order.short" if e["channel"] == "jgoods" => {
            format!("short ({}); telling J-goods what we have", lines())
        }
        "order.allocated" => format!("allocated in full ({})", lines()),
        "order.short" => format!("short ({})", lines()),
        "order.awaiting_reply" => "J-goods is asking the customer about the shortage".into(),
        "order.partial_accepted" => {
            "the customer accepted the partial quantities; confirming".into()
        }
        "order.confirmed" if e["channel"] == "jgoods" => {
            "J-goods accepted: confirmed, payment deferred (後払い)".into()
        }
        "order.confirmed" => "confirmed".into(),
        "order.cancelled" => format!(
            "cancelled by {}; {} units back in stock",
            d["by"].as_str().unwrap_or("?"),
            d["released"]
        ),
        "order.received" => "order seen before payment".into(),
        "order.status" => format!(
            "J-goods status is now {}",
            d["status"].as_str().unwrap_or("?")
        ),
        "order.attention" => format!("NEEDS ATTENTION: {}", d["reason"].as_str().unwrap_or("")),
        "order.reposted" => "our answer is sent to J-goods again".into(),
        other => format!("{other} {d}"),
    }
}

/// The sentence of a payment, credit, call or webhook event.
fn describe_other(kind: &str, e: &Value) -> String {
    let d = &e["detail"];
    match kind {
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
        "credit.requested" => format!(
            "credit requested ({}): {}",
            d["reference"].as_str().unwrap_or("?"),
            d["result"].as_str().unwrap_or("?")
        ),
        "credit.ok" => "credit OK: released for shipping".into(),
        "credit.ng" | "credit.over_limit" => format!(
            "credit refused ({}); {} units back in stock",
            e["kind"].as_str().unwrap_or(""),
            d["released"]
        ),
        "credit.shipment_registered" => format!(
            "tracking number {} registered with the deferred-payment provider",
            d["tracking_no"].as_str().unwrap_or("?")
        ),
        "credit.cancelled" => "deferred payment cancelled at the provider".into(),
        other => format!("{other} {d}"),
    }
}

pub(super) async fn print_stock(erp: &Erp) -> anyhow::Result<()> {
    let stock = erp.get("/api/v1/stock").await?;
    println!(
        "\n  {:<10} {:>8} {:>9} {:>10}",
        "SKU", "on hand", "reserved", "available"
    );
    for s in stock["stock"].as_array().into_iter().flatten() {
        println!(
            "  {:<10} {:>8} {:>9} {:>10}",
            s["sku"].as_str().unwrap_or(""),
            s["on_hand"].as_i64().unwrap_or(0),
            s["reserved"].as_i64().unwrap_or(0),
            s["available"].as_i64().unwrap_or(0)
        );
    }
    Ok(())
}

pub(super) async fn print_orders(erp: &Erp) -> anyhow::Result<()> {
    let list = erp.get("/api/v1/orders?limit=100").await?;
    println!(
        "\n  {:<8} {:<25} {:<10} {:<9} reserved / ordered",
        "channel", "order", "state", "payment"
    );
    for o in list["orders"].as_array().into_iter().flatten() {
        let lines = reserved_of(&o["lines"]);
        println!(
            "  {:<8} {:<25} {:<10} {:<9} {}",
            o["channel"].as_str().unwrap_or(""),
            o["id"].as_str().unwrap_or(""),
            o["state"].as_str().unwrap_or(""),
            o["payment_state"].as_str().unwrap_or(""),
            lines
        );
    }
    Ok(())
}

/// `SKU-001 3/3, SKU-002 4/6`: reserved of ordered, per line.
pub(super) fn reserved_of(lines: &Value) -> String {
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

pub(super) fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}
