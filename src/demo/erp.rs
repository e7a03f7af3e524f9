//! The demo's ERP: an admin API client, and the timeline, stock and orders it prints.

use super::*;

/// The demo's language: the locale's (Japanese unless an `en…` locale), as
/// `[daemon] language` would default on this machine.
pub(super) fn lang() -> crate::config::Language {
    crate::config::Language::from_locale(|v| std::env::var(v).ok())
}

/// A step of the story, in the demo's language.
pub(super) fn step(ja: &str, en: &str) {
    println!("\n▶ {}", crate::wording::say(lang(), ja, en));
}

/// A line under a step, in the demo's language.
pub(super) fn note(ja: impl AsRef<str>, en: impl AsRef<str>) {
    println!(
        "           {}",
        crate::wording::say(lang(), ja.as_ref(), en.as_ref())
    );
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
        self.upload("/api/v1/stock/import", "text/csv", csv.as_bytes().to_vec())
            .await
            .map(drop)
    }

    /// Posts a file to the admin API; its JSON answer.
    pub(super) async fn upload(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Value> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("POST {path} failed: {}", resp.text().await?);
        }
        Ok(resp.json().await?)
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
        let lang = lang();
        for e in page["events"].as_array().into_iter().flatten() {
            println!(
                "  {:>7.3}s  {:<25} {}",
                started.elapsed().as_secs_f64(),
                e["order_id"].as_str().unwrap_or("-"),
                crate::engine::sentences::describe_in(lang, e)
            );
        }
        after = page["next_after"].as_i64().unwrap_or(after);
    }
}

pub(super) async fn print_stock(erp: &Erp) -> anyhow::Result<()> {
    use crate::wording::pad;
    let stock = erp.get("/api/v1/stock").await?;
    let say = |ja, en| crate::wording::say(lang(), ja, en);
    println!(
        "\n  {:<10} {}{}{}",
        "SKU",
        pad(&format!("{:>8}", say("実在庫", "on hand")), 9),
        pad(&format!("{:>9}", say("引当済み", "reserved")), 10),
        say("有効在庫", "available")
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
    use crate::domain::order::{Channel, OrderState, PaymentState};
    use crate::wording;
    use crate::wording::pad;
    let list = erp.get("/api/v1/orders?limit=100").await?;
    let lang = lang();
    let say = |ja, en| wording::say(lang, ja, en);
    println!(
        "\n  {}{}{}{}{}",
        pad(say("販売先", "channel"), 13),
        pad(say("受注番号", "order"), 26),
        pad(say("状態", "state"), 11),
        pad(say("支払い", "payment"), 14),
        say("引当 / 注文数", "reserved / ordered")
    );
    // The API's codes, in the merchant's words (the code itself when new).
    let shown = |v: &Value, word: &dyn Fn(&Value) -> Option<&'static str>| {
        word(v).map_or_else(|| v.as_str().unwrap_or("").to_string(), str::to_string)
    };
    for o in list["orders"].as_array().into_iter().flatten() {
        let lines = crate::engine::sentences::reserved_of(&o["lines"]);
        let channel = shown(&o["channel"], &|v| {
            serde_json::from_value::<Channel>(v.clone())
                .ok()
                .map(|c| wording::channel(lang, c))
        });
        let state = shown(&o["state"], &|v| {
            serde_json::from_value::<OrderState>(v.clone())
                .ok()
                .map(|s| wording::order_state(lang, s))
        });
        let payment = shown(&o["payment_state"], &|v| {
            serde_json::from_value::<PaymentState>(v.clone())
                .ok()
                .map(|s| wording::payment_state(lang, s))
        });
        println!(
            "  {}{}{}{}{}",
            pad(&channel, 13),
            pad(o["id"].as_str().unwrap_or(""), 26),
            pad(&state, 11),
            pad(&payment, 14),
            lines
        );
    }
    Ok(())
}

pub(super) fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}
