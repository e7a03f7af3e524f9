//! The mixed load: customers order on every channel and pay by every method,
//! the ERP pushes stock, ships what is confirmed and cancels some direct
//! orders. Everything given to the daemon, and everything it acknowledged,
//! goes into the [`Ledger`] the checks read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{Value, json};

use super::erp::Erp;
use super::world::{SKUS, World};
use ordersync::domain::time;
use ordersync_sim::komoju::CaptureMode;
use ordersync_sim::rakuten_pay::{NewItem, NewOrder};

/// A direct order as the ERP registered it.
#[derive(Debug, Clone)]
pub struct Direct {
    /// `kuroneko`, `atobarai_com` or `komoju`.
    pub method: &'static str,
    /// The KOMOJU payment.
    pub payment_id: Option<String>,
}

/// What the soak gave the daemon, and what the daemon acknowledged.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Orders placed at J-goods (each pushes a webhook).
    pub jgoods: Vec<String>,
    /// Orders placed at Rakuten (the daemon must find them by polling).
    pub rakuten: Vec<String>,
    /// Direct orders the daemon acknowledged (201/200).
    pub direct: BTreeMap<String, Direct>,
    /// Payments customers authorized at KOMOJU (each pushes a webhook).
    pub komoju_authorized: usize,
    /// Acknowledged shipments: (channel, id) → tracking number.
    pub shipped: BTreeMap<(String, String), String>,
    /// Acknowledged cancels.
    pub cancelled: BTreeSet<(String, String)>,
    /// The last acknowledged stock level per SKU: (on_hand, as_of).
    pub stock: BTreeMap<String, (i64, String)>,
    /// Acknowledged stock pushes.
    pub stock_puts: usize,
    /// Orders the ERP has shipped or cancelled (or is about to): never both.
    pub touched: BTreeSet<(String, String)>,
    /// Commands the daemon refused with a 4xx (a race the ERP lost, as in life).
    pub refused: usize,
}

impl Ledger {
    /// Inputs the daemon owed an outcome for.
    pub fn inputs(&self) -> usize {
        self.jgoods.len()
            + self.rakuten.len()
            + self.direct.len()
            + self.komoju_authorized
            + self.shipped.len()
            + self.cancelled.len()
            + self.stock_puts
    }

    /// Every order key the soak knows, in a stable order.
    fn orders(&self) -> Vec<(String, String)> {
        let jg = self
            .jgoods
            .iter()
            .map(|id| ("jgoods".to_string(), id.clone()));
        let rk = self
            .rakuten
            .iter()
            .map(|id| ("rakuten".to_string(), id.clone()));
        let dr = self
            .direct
            .keys()
            .map(|id| ("direct".to_string(), id.clone()));
        jg.chain(rk).chain(dr).collect()
    }
}

#[derive(Clone, Default)]
pub struct SharedLedger(Arc<Mutex<Ledger>>);

impl SharedLedger {
    pub fn lock(&self) -> MutexGuard<'_, Ledger> {
        // A task that panicked mid-update is reported by its join; the
        // ledger itself is plain data and stays readable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stops the load's tasks between two actions.
#[derive(Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Customers and the ERP's clerks working at once.
const WORKERS: u64 = 4;

/// Runs the load until `stop`; returns when every started command is answered.
pub async fn run(
    world: Arc<World>,
    erp: Erp,
    ledger: SharedLedger,
    seed: u64,
    stop: Stop,
) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let actor = Actor {
            world: world.clone(),
            erp: erp.clone(),
            ledger: ledger.clone(),
            rng: StdRng::seed_from_u64(seed.wrapping_add(w)),
            worker: w,
            serial: 0,
        };
        tasks.spawn(actor.work(stop.clone()));
    }
    let stock = Actor {
        world,
        erp,
        ledger,
        rng: StdRng::seed_from_u64(seed.wrapping_add(WORKERS)),
        worker: WORKERS,
        serial: 0,
    };
    tasks.spawn(stock.restock(stop));
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

struct Actor {
    world: Arc<World>,
    erp: Erp,
    ledger: SharedLedger,
    rng: StdRng,
    worker: u64,
    serial: u64,
}

impl Actor {
    async fn work(mut self, stop: Stop) -> anyhow::Result<()> {
        while !stop.stopped() {
            match self.rng.random_range(0..100) {
                0..25 => self.jgoods_order(),
                25..37 => self.rakuten_order(),
                37..47 => self.deferred_order("kuroneko").await?,
                47..57 => self.deferred_order("atobarai_com").await?,
                57..67 => self.komoju_order().await?,
                67..90 => self.ship().await?,
                _ => self.cancel().await?,
            }
            let pause = self.rng.random_range(2..25);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        Ok(())
    }

    /// One ERP clerk keeps the stock levels: it counts a SKU, then pushes the
    /// count with the time it started counting (`as_of`), one push at a time.
    async fn restock(mut self, stop: Stop) -> anyhow::Result<()> {
        for sku in SKUS {
            self.put_stock(sku, 100).await?;
        }
        while !stop.stopped() {
            let sku = SKUS[self.rng.random_range(0..SKUS.len())];
            let counted_at = time::rfc3339(time::now());
            let now = self.erp.get(&format!("/api/v1/stock/{sku}")).await?;
            let on_hand = now["on_hand"].as_i64().unwrap_or(0);
            let delivery = self.rng.random_range(0..30);
            self.put_stock_as_of(sku, on_hand + delivery, counted_at)
                .await?;
            let pause = self.rng.random_range(20..120);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        Ok(())
    }

    async fn put_stock(&mut self, sku: &str, on_hand: i64) -> anyhow::Result<()> {
        self.put_stock_as_of(sku, on_hand, time::rfc3339(time::now()))
            .await
    }

    async fn put_stock_as_of(
        &mut self,
        sku: &str,
        on_hand: i64,
        as_of: String,
    ) -> anyhow::Result<()> {
        let body = json!({"on_hand": on_hand, "as_of": as_of});
        let (status, answer) = self
            .erp
            .send(Method::PUT, &format!("/api/v1/stock/{sku}"), Some(&body))
            .await?;
        anyhow::ensure!(status == 200, "PUT stock {sku}: {status} {answer}");
        let mut l = self.ledger.lock();
        l.stock.insert(sku.to_string(), (on_hand, as_of));
        l.stock_puts += 1;
        Ok(())
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}{}-{:05}", self.worker, self.serial)
    }

    /// 1–2 lines of 1–2 units each, over distinct SKUs.
    fn lines(&mut self) -> Vec<(&'static str, u32, i64)> {
        let first = self.rng.random_range(0..SKUS.len());
        let n = self.rng.random_range(1..=2);
        (0..n)
            .map(|i| {
                let sku = SKUS[(first + i) % SKUS.len()];
                let qty = self.rng.random_range(1..=2);
                let price = self.rng.random_range(5..=30) * 100;
                (sku, qty, price)
            })
            .collect()
    }

    fn jgoods_order(&mut self) {
        let id = self.next_id("JG");
        let lines = self.lines();
        self.world.jgoods.place_order(&id, &lines);
        self.ledger.lock().jgoods.push(id);
    }

    fn rakuten_order(&mut self) {
        let lines = self.lines();
        let r = &self.world.rakuten;
        let number = r.next_order_number();
        let mut order = NewOrder::new(&number);
        for (sku, qty, price) in lines {
            order = order.item(NewItem::new(sku, "", price, qty));
        }
        r.place_order(order);
        self.ledger.lock().rakuten.push(number);
    }

    /// A direct order's registration, its payment still to be set, and
    /// what the customer pays in all.
    fn direct_body(&mut self, id: &str) -> (Value, i64) {
        let lines = self.lines();
        let shipping_fee = 800;
        let total = shipping_fee + lines.iter().map(|(_, q, p)| i64::from(*q) * p).sum::<i64>();
        let lines: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, qty, price))| {
                json!({"line_no": i + 1, "sku": sku, "name": format!("商品 {sku}"), "qty": qty, "unit_price": price})
            })
            .collect();
        let body = json!({
            "channel": "direct", "id": id, "ordered_at": time::rfc3339(time::now()),
            "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                         "address": format!("東京都千代田区千代田1-{}", self.serial),
                         "phone": "0312345678", "email": "taro@example.jp"},
            "lines": lines, "shipping_fee": shipping_fee, "fee": 0,
            "payment": null, "allocate": true,
        });
        (body, total)
    }

    /// Registers a direct order until the daemon answers; anything but
    /// 201/200 is a fault of the soak or the daemon.
    async fn register(&mut self, body: &Value, direct: Direct) -> anyhow::Result<()> {
        let (status, answer) = self
            .erp
            .send(Method::POST, "/api/v1/orders", Some(body))
            .await?;
        let id = body["id"].as_str().unwrap_or_default().to_string();
        anyhow::ensure!(
            matches!(status, 200 | 201),
            "POST /api/v1/orders {id}: {status} {answer}"
        );
        self.ledger.lock().direct.insert(id, direct);
        Ok(())
    }

    async fn deferred_order(&mut self, method: &'static str) -> anyhow::Result<()> {
        let id = self.next_id(if method == "kuroneko" { "KN" } else { "AT" });
        let (mut body, _) = self.direct_body(&id);
        body["payment"] = json!({"method": method});
        let direct = Direct {
            method,
            payment_id: None,
        };
        self.register(&body, direct).await
    }

    /// Card payment with capture on shipment: created at checkout, the order
    /// registered, then the customer's card is authorized (a webhook).
    async fn komoju_order(&mut self) -> anyhow::Result<()> {
        let id = self.next_id("KJ");
        let (mut body, total) = self.direct_body(&id);
        let payment = self.world.komoju.create_payment(
            total,
            0,
            Some(&id),
            "credit_card",
            CaptureMode::Manual,
        );
        body["payment"] = json!({"method": "komoju", "payment_id": payment});
        let direct = Direct {
            method: "komoju",
            payment_id: Some(payment.clone()),
        };
        self.register(&body, direct).await?;
        if self.world.komoju.authorize(&payment) {
            self.ledger.lock().komoju_authorized += 1;
        }
        Ok(())
    }

    /// A random known order not yet touched by the ERP.
    fn pick(&mut self, direct_only: bool) -> Option<(String, String)> {
        let l = self.ledger.lock();
        let all: Vec<(String, String)> = l
            .orders()
            .into_iter()
            .filter(|k| !l.touched.contains(k) && (!direct_only || k.0 == "direct"))
            .collect();
        drop(l);
        (!all.is_empty()).then(|| all[self.rng.random_range(0..all.len())].clone())
    }

    /// Ships an order the daemon shows as ready, as a warehouse would.
    async fn ship(&mut self) -> anyhow::Result<()> {
        let Some((channel, id)) = self.pick(false) else {
            return Ok(());
        };
        let (status, order) = self
            .erp
            .send(Method::GET, &format!("/api/v1/orders/{channel}/{id}"), None)
            .await?;
        let ready = status == 200
            && order["state"] == "confirmed"
            && match order["payment"]["method"].as_str() {
                Some("komoju") => order["payment_state"] == "authorized",
                Some("kuroneko" | "atobarai_com") => order["credit"]["result"] == "ok",
                _ => true,
            };
        if !ready {
            return Ok(());
        }
        let key = (channel.clone(), id.clone());
        if !self.ledger.lock().touched.insert(key.clone()) {
            return Ok(());
        }
        self.serial += 1;
        let tracking = yamato_tracking(self.worker * 10_000_000 + self.serial);
        let body = json!({"carrier": "yamato", "tracking_no": tracking,
                          "shipped_on": time::now().format("%Y-%m-%d").to_string()});
        let (status, _) = self
            .erp
            .send(
                Method::POST,
                &format!("/api/v1/orders/{channel}/{id}/shipment"),
                Some(&body),
            )
            .await?;
        let mut l = self.ledger.lock();
        if status == 202 {
            l.shipped.insert(key, tracking);
        } else {
            l.refused += 1;
        }
        Ok(())
    }

    /// The customer calls the shop to cancel a direct order not yet shipped.
    async fn cancel(&mut self) -> anyhow::Result<()> {
        let Some((channel, id)) = self.pick(true) else {
            return Ok(());
        };
        let key = (channel.clone(), id.clone());
        if !self.ledger.lock().touched.insert(key.clone()) {
            return Ok(());
        }
        let body = json!({"reason": "the customer changed their mind"});
        let (status, _) = self
            .erp
            .send(
                Method::POST,
                &format!("/api/v1/orders/{channel}/{id}/cancel"),
                Some(&body),
            )
            .await?;
        let mut l = self.ledger.lock();
        if status == 202 {
            l.cancelled.insert(key);
        } else {
            l.refused += 1;
        }
        Ok(())
    }
}

/// A Yamato tracking number: 11 digits and their remainder mod 7.
pub fn yamato_tracking(n: u64) -> String {
    let base = 30_000_000_000 + n % 10_000_000_000;
    format!("{base}{}", base % 7)
}
