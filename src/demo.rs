//! `ordersync demo`: the real daemon against the built-in J-goods simulator on
//! loopback, playing a scripted day of orders and printing what happens.
//! Needs no config and no network.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::app::Daemon;
use crate::channels::jgoods::Status;
use crate::channels::rakuten_pay::Progress;
use crate::config::Config;
use crate::domain::time;
use crate::sim::jgoods::{
    self as sim, CustomerDecision, Endpoint, Fault, JgoodsSimConfig, JgoodsSimHandle,
    SimWebhookAuth,
};
use crate::sim::komoju::{self as komoju_sim, CaptureMode, KomojuSimConfig, KomojuSimHandle};
use crate::sim::kuroneko::{self as kuroneko_sim, FlipRule, KuronekoSimConfig, KuronekoSimHandle};
use crate::sim::rakuten_pay::{
    self as rakuten_sim, NewItem, NewOrder, RakutenSimConfig, RakutenSimHandle,
};

#[derive(Args, Debug, Default)]
pub struct DemoArgs {
    /// Keep the demo's data directory (its path is printed) instead of deleting it.
    #[arg(long)]
    pub keep: bool,
}

/// Each step waits at most this long for the daemon and the simulator.
const STEP_DEADLINE: Duration = Duration::from_secs(30);

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    // The timeline tells the story; only errors are logged beside it.
    crate::logging::init_with_default("error");
    let dir = tempfile::Builder::new()
        .prefix("ordersync-demo-")
        .tempdir()?;
    let secret = random_token();
    let admin_token = random_token();
    let sim_cfg = JgoodsSimConfig {
        webhook_auth: SimWebhookAuth::Hmac {
            secret: secret.clone(),
        },
        reply_delay: Duration::from_millis(400),
        webhook_retry_initial: Duration::from_millis(200),
        ..JgoodsSimConfig::default()
    };
    let sim = sim::start(TcpListener::bind("127.0.0.1:0").await?, sim_cfg.clone()).await?;
    let rakuten = rakuten_sim::start(
        TcpListener::bind("127.0.0.1:0").await?,
        RakutenSimConfig::default(),
    )
    .await?;
    let komoju = komoju_sim::start(
        TcpListener::bind("127.0.0.1:0").await?,
        KomojuSimConfig::default(),
    )
    .await?;
    // Deferred payment: reviews and the OK→NG flip happen on the simulator's
    // clock, which the script moves forward.
    let kuroneko = kuroneko_sim::start(
        TcpListener::bind("127.0.0.1:0").await?,
        KuronekoSimConfig {
            flip: Some(FlipRule {
                orders: 2,
                window: Duration::from_secs(3600),
                after: Duration::from_secs(60),
            }),
            ..KuronekoSimConfig::default()
        },
    )
    .await?;
    let config_text = format!(
        r#"
[daemon]
data_dir = "{data}"
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
admin_token = "{admin_token}"
[retry]
initial_delay = "200ms"
max_delay = "1s"
give_up_after = "1h"
[jgoods]
order_api_base_url = "{order}"
item_api_base_url = "{item}"
token_url = "{token}"
client_id = "{client_id}"
client_secret = "{client_secret}"
webhook_secret = "{secret}"
stock_push_interval = "1s"
{rakuten}poll_interval = "1h"
request_interval = "50ms"
{komoju}{kuroneko}settle_delay = "0s"
poll_interval = "1h"
[invoice]
issuer_name = "株式会社デモ商店"
registration_number = "T1234567890123"
addressee = "J-goods株式会社 御中"
bank_account = "デモ銀行 本店営業部 普通 1234567 カ）デモショウテン"
"#,
        rakuten = rakuten.config_section(),
        komoju = komoju.config_section(),
        kuroneko = kuroneko.config_section(),
        data = dir.path().display(),
        order = sim.order_api_base_url(),
        item = sim.item_api_base_url(),
        token = sim.token_url(),
        client_id = sim_cfg.client_id,
        client_secret = sim_cfg.client_secret,
    );
    let config = Config::from_toml_str(&config_text, &dir.path().join("demo.toml"))
        .map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    let daemon = Daemon::start(
        &config,
        TcpListener::bind("127.0.0.1:0").await?,
        TcpListener::bind("127.0.0.1:0").await?,
    )
    .await?;
    sim.set_webhook_url(format!("http://{}/webhooks/jgoods", daemon.webhook_addr));
    komoju.set_webhook_url(format!("http://{}/webhooks/komoju", daemon.webhook_addr));
    let erp = Erp {
        base: format!("http://{}", daemon.admin_addr),
        token: admin_token,
        http: reqwest::Client::new(),
    };

    println!(
        "ordersync demo: the daemon on {} (webhooks) and {} (admin API),",
        daemon.webhook_addr, daemon.admin_addr
    );
    println!(
        "a simulated J-goods on {} and Rakuten Pay on {}, the store in {}\n",
        sim.base_url(),
        rakuten.base_url(),
        dir.path().display()
    );
    let started = Instant::now();
    let feed = tokio::spawn(print_timeline(erp.clone(), started));

    let result = match script(&sim, &erp).await {
        Ok(()) => match rakuten_script(&rakuten, &daemon, &erp).await {
            Ok(()) => match komoju_script(&komoju, &erp).await {
                Ok(()) => match credit_script(&kuroneko, &daemon, &erp).await {
                    Ok(()) => settlement_script(&erp).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    // Let the last events reach the timeline.
    tokio::time::sleep(Duration::from_millis(300)).await;
    feed.abort();
    if result.is_ok() {
        print_stock(&erp).await?;
        print_orders(&erp).await?;
        let stats = sim.stats();
        println!(
            "\nJ-goods saw {} webhook attempts ({} acknowledged), {} allocation post-backs, {} token requests.",
            stats.webhooks.attempts,
            stats.webhooks.acked,
            stats.put_bodies.values().map(Vec::len).sum::<usize>(),
            stats.token_requests
        );
        let pushed: Vec<String> = stats
            .stock
            .iter()
            .map(|(sku, n)| format!("{sku} = {n}"))
            .collect();
        println!(
            "J-goods was told the available stock in {} item-API calls (at most once a second per SKU); it last heard {}.",
            stats.item_stock_calls.len(),
            pushed.join(", ")
        );
        let rk = rakuten.stats();
        println!(
            "Rakuten saw {} searchOrder, {} getOrder, {} confirmOrder and {} updateOrderShipping calls.",
            rk.search_order, rk.get_order, rk.confirm_order, rk.update_order_shipping
        );
        print_invoice(&erp).await?;
    }
    daemon.stop(Duration::from_secs(5)).await;
    sim.shutdown().await;
    rakuten.shutdown().await;
    komoju.shutdown().await;
    kuroneko.shutdown().await;
    if args.keep {
        let kept = dir.keep();
        println!("data kept in {}", kept.display());
    }
    result
}

async fn script(sim: &JgoodsSimHandle, erp: &Erp) -> anyhow::Result<()> {
    // The items the merchant lists on J-goods (SKU-005 is sold only in the shop).
    for item in ["SKU-001", "SKU-002", "SKU-003", "SKU-004"] {
        sim.register_item(item);
    }
    step("The ERP loads the morning's stock through the admin API");
    erp.import_stock(
        "sku,on_hand\nSKU-001,10\nSKU-002,4\nSKU-003,1\nSKU-004,0\nSKU-005,4\nSKU-006,10\n",
    )
    .await?;
    print_stock(erp).await?;

    step(
        "JG-1001: 3 × SKU-001, all in stock → allocated, J-goods confirms, payment becomes deferred",
    );
    sim.place_order("JG-1001", &[("SKU-001", 3, 5500)]);
    erp.wait("jgoods", "JG-1001", |o| o["state"] == "confirmed")
        .await?;

    step("JG-1002: 6 × SKU-002 (4 free) and 1 × SKU-003 → short; the customer accepts 4");
    sim.set_decision("JG-1002", CustomerDecision::Accept);
    sim.place_order("JG-1002", &[("SKU-002", 6, 2200), ("SKU-003", 1, 3300)]);
    erp.wait("jgoods", "JG-1002", |o| o["state"] == "confirmed")
        .await?;

    step("JG-1003: 9 × SKU-001 (7 free) → short; the customer declines, the stock goes back");
    sim.set_decision("JG-1003", CustomerDecision::Decline);
    sim.place_order("JG-1003", &[("SKU-001", 9, 5500)]);
    erp.wait("jgoods", "JG-1003", |o| o["state"] == "cancelled")
        .await?;

    step("JG-1004: 2 × SKU-004, out of stock → 0 allocated; the customer declines");
    sim.set_decision("JG-1004", CustomerDecision::Decline);
    sim.place_order("JG-1004", &[("SKU-004", 2, 1800)]);
    erp.wait("jgoods", "JG-1004", |o| o["state"] == "cancelled")
        .await?;

    step(
        "J-goods delivers JG-1001's webhook again with the same delivery id → recognised, nothing changes",
    );
    let acked_before = sim.stats().webhooks.acked;
    sim.resend_webhook("JG-1001", true);
    if !sim
        .wait_until(STEP_DEADLINE, |v| v.stats().webhooks.acked > acked_before)
        .await
    {
        bail!("the duplicate delivery was not acknowledged");
    }
    println!("           (acknowledged as a duplicate; stock unchanged)");

    step(
        "J-goods is down (503 three times) while JG-1005 (2 × SKU-001) arrives → retried with backoff",
    );
    sim.inject(Endpoint::PutOrder, Fault::Status(503), 3);
    sim.place_order("JG-1005", &[("SKU-001", 2, 5500)]);
    erp.wait("jgoods", "JG-1005", |o| o["state"] == "confirmed")
        .await?;
    if !sim
        .wait_for_status("JG-1005", Status::AwaitingArrival, STEP_DEADLINE)
        .await
    {
        bail!("JG-1005 did not reach J-goods");
    }
    Ok(())
}

async fn rakuten_script(
    rakuten: &RakutenSimHandle,
    daemon: &Daemon,
    erp: &Erp,
) -> anyhow::Result<()> {
    step(
        "Rakuten Pay: a card order for 2 × SKU-001 → imported, allocated from the same stock, confirmed at Rakuten",
    );
    let first = rakuten.next_order_number();
    rakuten.place_order(
        NewOrder::new(&first).item(
            NewItem::new("SKU-001", "", 5500, 2)
                .sku("SKU-001")
                .name("南部鉄器 急須"),
        ),
    );
    daemon.poll_now();
    erp.wait("rakuten", &first, |o| o["state"] == "confirmed")
        .await?;

    step(
        "Rakuten Pay: cash on delivery (代金引換), 1 × SKU-006 → stock held and confirmed at 100 (Rakuten cancels orders left unconfirmed for 14 days); the ERP hears of it at 300",
    );
    let cod = rakuten.next_order_number();
    rakuten.place_order(
        NewOrder::new(&cod)
            .cash_on_delivery()
            .item(NewItem::new("SKU-006", "", 3300, 1).sku("SKU-006")),
    );
    daemon.poll_now();
    erp.wait("rakuten", &cod, |o| o["state"] == "confirmed")
        .await?;

    step(
        "Rakuten Pay: 1 × SKU-002, all taken by J-goods → short, not confirmed; its attention gives Rakuten's auto-cancel deadline",
    );
    let second = rakuten.next_order_number();
    rakuten.place_order(
        NewOrder::new(&second).item(NewItem::new("SKU-002", "", 2200, 1).sku("SKU-002")),
    );
    daemon.poll_now();
    let short = erp
        .wait("rakuten", &second, |o| o["state"] == "short")
        .await?;
    println!(
        "           attention: {}",
        short["attention"].as_str().unwrap_or("")
    );

    step(
        "The ERP counts SKU-002 again (5 on hand): the free unit goes to the waiting Rakuten order in the same transaction; the next poll confirms it",
    );
    erp.import_stock("sku,on_hand\nSKU-002,5\n").await?;
    daemon.poll_now();
    erp.wait("rakuten", &second, |o| o["state"] == "confirmed")
        .await?;

    step("Rakuten finishes processing (300): the card payment is settled → paid");
    rakuten.advance_clock(Duration::from_secs(600));
    daemon.poll_now();
    erp.wait("rakuten", &first, |o| o["payment_state"] == "paid")
        .await?;

    step(
        "The ERP ships JG-1001 and the Rakuten order → stock leaves on_hand; Rakuten gets 発送完了報告 (carrier 1001)",
    );
    let parcel = |carrier: &str, no: &str| json!({"carrier": carrier, "tracking_no": no, "shipped_on": time::now().format("%Y-%m-%d").to_string()});
    erp.post(
        "/api/v1/orders/jgoods/JG-1001/shipment",
        parcel("sagawa", "400012345678"),
    )
    .await?;
    erp.post(
        &format!("/api/v1/orders/rakuten/{first}/shipment"),
        parcel("yamato", "123456789012"),
    )
    .await?;
    if !rakuten
        .wait_for_progress(&first, Progress::Shipped, STEP_DEADLINE)
        .await
    {
        bail!("the Rakuten shipment was not reported");
    }
    Ok(())
}

async fn komoju_script(komoju: &KomojuSimHandle, erp: &Erp) -> anyhow::Result<()> {
    let order = |id: &str, qty: u32, payment_id: &str| {
        json!({"channel": "direct", "id": id, "ordered_at": time::rfc3339(time::now()),
            "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                         "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
            "lines": [{"line_no": 1, "sku": "SKU-005", "name": "風呂敷", "qty": qty, "unit_price": 2000}],
            "shipping_fee": 800, "fee": 0, "payment": {"method": "komoju", "payment_id": payment_id}, "allocate": true})
    };
    step(
        "The shop's own order SHOP-1001 (1 × SKU-005), card via KOMOJU: authorized → shipped → captured",
    );
    let card = komoju.create_payment(
        2800,
        0,
        Some("SHOP-1001"),
        "credit_card",
        CaptureMode::Manual,
    );
    erp.post("/api/v1/orders", order("SHOP-1001", 1, &card))
        .await?;
    komoju.authorize(&card);
    erp.wait("direct", "SHOP-1001", |o| {
        o["payment_state"] == "authorized"
    })
    .await?;
    let parcel = json!({"carrier": "japanpost", "tracking_no": "123412341234", "shipped_on": time::now().format("%Y-%m-%d").to_string()});
    erp.post("/api/v1/orders/direct/SHOP-1001/shipment", parcel)
        .await?;
    erp.wait("direct", "SHOP-1001", |o| o["payment_state"] == "captured")
        .await?;

    step(
        "SHOP-1003 (1 × SKU-005), paid by card at once; the customer cancels → refunded in full, stock back",
    );
    let refunded =
        komoju.create_payment(2800, 0, Some("SHOP-1003"), "credit_card", CaptureMode::Auto);
    erp.post("/api/v1/orders", order("SHOP-1003", 1, &refunded))
        .await?;
    komoju.authorize(&refunded);
    erp.wait("direct", "SHOP-1003", |o| o["payment_state"] == "captured")
        .await?;
    erp.post(
        "/api/v1/orders/direct/SHOP-1003/cancel",
        json!({"reason": "customer changed their mind"}),
    )
    .await?;
    erp.wait("direct", "SHOP-1003", |o| o["payment_state"] == "refunded")
        .await?;

    step("SHOP-1002 (2 × SKU-005) to be paid at a konbini, never paid → expired, stock back");
    let konbini = komoju.create_payment(4800, 0, Some("SHOP-1002"), "konbini", CaptureMode::Auto);
    erp.post("/api/v1/orders", order("SHOP-1002", 2, &konbini))
        .await?;
    komoju.expire(&konbini);
    erp.wait("direct", "SHOP-1002", |o| o["state"] == "cancelled")
        .await?;
    Ok(())
}

async fn credit_script(
    kuroneko: &KuronekoSimHandle,
    daemon: &Daemon,
    erp: &Erp,
) -> anyhow::Result<()> {
    let order = |id: &str, name: &str, address: &str, qty: u32| {
        json!({"channel": "direct", "id": id, "ordered_at": time::rfc3339(time::now()),
            "customer": {"name": name, "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                         "address": address, "phone": "0312345678", "email": "taro@example.jp"},
            "lines": [{"line_no": 1, "sku": "SKU-006", "name": "南部鉄器 急須", "qty": qty, "unit_price": 5500}],
            "shipping_fee": 800, "fee": 0, "payment": {"method": "kuroneko"}, "allocate": true})
    };
    let credit_is = |v: &'static str| move |o: &Value| o["credit"]["result"] == v;
    let today = time::now().format("%Y-%m-%d").to_string();
    // Past the simulated Yamato's pause after a credit request.
    let settle = || kuroneko.advance_clock(Duration::from_secs(120));

    step(
        "SHOP-2001, Kuroneko Atobarai: credit OK → shipped with Yamato → tracking number registered",
    );
    erp.post(
        "/api/v1/orders",
        order("SHOP-2001", "山田 太郎", "東京都千代田区千代田1-1", 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2001", credit_is("ok")).await?;
    settle();
    erp.post(
        "/api/v1/orders/direct/SHOP-2001/shipment",
        json!({"carrier": "yamato", "tracking_no": "123456789013", "shipped_on": today}),
    )
    .await?;
    erp.wait("direct", "SHOP-2001", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await?;

    step("SHOP-2002: credit NG → needs attention, its stock given back");
    erp.post(
        "/api/v1/orders",
        order("SHOP-2002", "NG 花子", "東京都港区芝公園4-2-8", 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2002", credit_is("ng")).await?;

    step("SHOP-2003: under review (審査中), polled until Yamato answers OK half an hour later");
    erp.post(
        "/api/v1/orders",
        order("SHOP-2003", "審査 次郎", "大阪府大阪市北区梅田1-1-1", 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2003", |o| {
        o["payment"]["reference"].is_string()
    })
    .await?;
    kuroneko.advance_clock(Duration::from_secs(31 * 60));
    daemon.poll_now();
    erp.wait("direct", "SHOP-2003", credit_is("ok")).await?;

    step(
        "SHOP-2004 and SHOP-2005 to one address: the second OK turns NG, caught before its shipment is registered",
    );
    let address = "愛知県名古屋市中村区名駅1-1-4";
    erp.post(
        "/api/v1/orders",
        order("SHOP-2004", "佐藤 一郎", address, 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2004", credit_is("ok")).await?;
    erp.post(
        "/api/v1/orders",
        order("SHOP-2005", "佐藤 一郎", address, 1),
    )
    .await?;
    erp.wait("direct", "SHOP-2005", credit_is("ok")).await?;
    settle();
    erp.post(
        "/api/v1/orders/direct/SHOP-2005/shipment",
        json!({"carrier": "sagawa", "tracking_no": "400012345678", "shipped_on": today}),
    )
    .await?;
    erp.wait("direct", "SHOP-2005", credit_is("ng")).await?;

    step("SHOP-2004 is cancelled by the customer → cancelled at Yamato, stock back");
    erp.post(
        "/api/v1/orders/direct/SHOP-2004/cancel",
        json!({"reason": "customer changed their mind"}),
    )
    .await?;
    erp.wait("direct", "SHOP-2004", |o| {
        o["credit"]["transaction"] == "cancelled"
    })
    .await?;
    Ok(())
}

async fn settlement_script(erp: &Erp) -> anyhow::Result<()> {
    step(
        "The ERP marks SKU-003 (green tea) as reduced-rate (8%) and ships JG-1002 (4 × SKU-002, 1 × SKU-003) with ¥1,200 domestic shipping",
    );
    erp.put(
        "/api/v1/stock/SKU-003",
        json!({"on_hand": 1, "tax_rate": 8}),
    )
    .await?;
    let today = time::now().format("%Y-%m-%d").to_string();
    erp.post(
        "/api/v1/orders/jgoods/JG-1002/shipment",
        json!({"carrier": "yamato", "tracking_no": "987654321098", "shipped_on": today, "shipping_cost": 1200}),
    )
    .await?;
    Ok(())
}

/// The day's J-goods invoice, as `ordersync jgoods invoice` would issue it (the API only
/// previews, so the demo records nothing).
async fn print_invoice(erp: &Erp) -> anyhow::Result<()> {
    use crate::invoice::html::yen;
    let today = time::now().format("%Y-%m-%d").to_string();
    let inv = erp
        .get(&format!(
            "/api/v1/jgoods/invoice?from={today}&to={today}&format=json"
        ))
        .await?;
    println!(
        "
Invoice to J-goods for {today} (適格請求書, preview; `ordersync jgoods invoice --from {today} --to {today}` issues it):"
    );
    let amount = |v: &Value| yen(v.as_i64().unwrap_or(0));
    for o in inv["orders"].as_array().into_iter().flatten() {
        for l in o["lines"].as_array().into_iter().flatten() {
            println!(
                "  {:<8} {:<8} {:>3} × {:>7} {:>9}  {}%",
                o["order_id"].as_str().unwrap_or(""),
                l["item_code"].as_str().unwrap_or(""),
                l["qty"],
                amount(&l["unit_price"]),
                amount(&l["amount"]),
                l["tax_rate"]
            );
        }
    }
    for s in inv["shipping"].as_array().into_iter().flatten() {
        println!(
            "  {:<8} shipping {:<13} {:>9}  10%",
            s["order_id"].as_str().unwrap_or(""),
            s["tracking_no"].as_str().unwrap_or(""),
            amount(&s["cost"])
        );
    }
    for r in inv["by_rate"].as_array().into_iter().flatten() {
        println!(
            "  {:>2}% total {:>9}, consumption tax {:>7} (rounded once per rate)",
            r["rate"],
            amount(&r["total"]),
            amount(&r["tax"])
        );
    }
    println!(
        "  total {}; J-goods keeps an expected service fee of {} (10% of {} tax excluded) and transfers {}",
        amount(&inv["grand_total"]),
        amount(&inv["service_fee"]),
        amount(&inv["tax_excluded_total"]),
        amount(&inv["expected_transfer"])
    );
    Ok(())
}

fn step(text: &str) {
    println!("\n▶ {text}");
}

/// The ERP's view: the admin API over HTTP, as a real ERP integration uses it.
#[derive(Clone)]
struct Erp {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Erp {
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
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

    async fn import_stock(&self, csv: &str) -> anyhow::Result<()> {
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

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::POST, path, body).await
    }

    async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::PUT, path, body).await
    }

    async fn send(
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

    async fn wait(
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
async fn print_timeline(erp: Erp, started: Instant) {
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
fn describe(e: &Value) -> String {
    let d = &e["detail"];
    let lines = || reserved_of(&d["lines"]);
    match e["kind"].as_str().unwrap_or("") {
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
        "payment.authorized" => "KOMOJU: payment authorized; ready to ship".into(),
        "payment.captured" => "KOMOJU: payment captured".into(),
        "payment.refunded" => "KOMOJU: payment refunded".into(),
        "payment.refund" => format!("KOMOJU: refund of {} yen", d["amount"]),
        "payment.expired" | "payment.failed" | "payment.cancelled" => {
            format!("KOMOJU: {}", e["kind"].as_str().unwrap_or(""))
        }
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

async fn print_stock(erp: &Erp) -> anyhow::Result<()> {
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

async fn print_orders(erp: &Erp) -> anyhow::Result<()> {
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
fn reserved_of(lines: &Value) -> String {
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

fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}
