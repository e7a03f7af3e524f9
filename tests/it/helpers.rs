//! `spawn_app()`: the real daemon on port 0 with a fresh SQLite file, J-goods
//! replaced by its simulator on another port, and request helpers.

use std::path::Path;
use std::time::Duration;

use ordersync::app::Daemon;
use ordersync::config_file::Config;
use ordersync::sim::atobarai_com::AtobaraiSimSettings;
use ordersync::sim::komoju::KomojuSimSettings as _;
use ordersync::sim::kuroneko::KuronekoSimSettings;
use ordersync::sim::rakuten_pay::RakutenPaySimSettings;
use ordersync_sim::atobarai_com::{self as atobarai_sim, AtobaraiSimConfig, AtobaraiSimHandle};
use ordersync_sim::jgoods::{
    self as sim, JgoodsSimConfig, JgoodsSimHandle, SimWebhookAuth, signature,
};
use ordersync_sim::komoju::{self as komoju_sim, KomojuSimConfig, KomojuSimHandle};
use ordersync_sim::kuroneko::{self as kuroneko_sim, KuronekoSimConfig, KuronekoSimHandle};
use ordersync_sim::rakuten_pay::{self as rakuten_sim, RakutenSimConfig, RakutenSimHandle};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
pub const WEBHOOK_SECRET: &str = "sim-webhook-secret";
/// Generous: CI machines are slow, and a passing test never waits this long.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub daemon: Option<Daemon>,
    pub sim: JgoodsSimHandle,
    pub rakuten: Option<RakutenSimHandle>,
    pub komoju: Option<KomojuSimHandle>,
    pub kuroneko: Option<KuronekoSimHandle>,
    pub atobarai: Option<AtobaraiSimHandle>,
    pub admin_url: String,
    pub webhook_url: String,
    pub http: reqwest::Client,
    /// Kept so the data directory lives as long as the app.
    pub _dir: tempfile::TempDir,
}

/// Knobs a test may turn before the app starts.
pub struct Options {
    pub sim: JgoodsSimConfig,
    /// Extra lines appended to the `[jgoods]` section.
    pub jgoods_extra: String,
    pub retry: (&'static str, &'static str, &'static str),
    pub safety_stock: u32,
    /// Start the Rakuten Pay simulator and enable `[rakuten_pay]`.
    pub rakuten: Option<RakutenSimConfig>,
    /// Extra lines appended to the `[rakuten_pay]` section.
    pub rakuten_extra: String,
    /// Orders Rakuten already has when the daemon starts.
    pub rakuten_orders: Vec<rakuten_sim::NewOrder>,
    /// Items the shop has in RMS (in `items.search`) when the daemon starts.
    pub rakuten_items: Vec<rakuten_sim::CatalogItem>,
    /// Extra lines appended to the `[daemon]` section.
    pub daemon_extra: String,
    /// Run without an admin token (`allow_no_admin_token = true`).
    pub no_admin_token: bool,
    /// Start the KOMOJU simulator and enable `[komoju]`.
    pub komoju: Option<KomojuSimConfig>,
    /// Start the Kuroneko Atobarai simulator and enable `[kuroneko]`.
    pub kuroneko: Option<KuronekoSimConfig>,
    /// Start the Atobarai.com simulator and enable `[atobarai_com]`.
    pub atobarai: Option<AtobaraiSimConfig>,
    /// Extra lines appended to the `[kuroneko]` / `[atobarai_com]` sections.
    pub kuroneko_extra: String,
    pub atobarai_extra: String,
    /// Append [`INVOICE_SECTION`] (the merchant's invoice details).
    pub invoice: bool,
    /// More sections appended to the config as they are (`[alerts]`, …).
    pub sections: String,
    /// `token_url` names this page of the J-goods simulator's web site
    /// instead of its token endpoint.
    pub wrong_token_url: Option<sim::WrongTokenUrl>,
}

impl Options {
    /// Retries of milliseconds, given up after 300 ms: a call that keeps
    /// failing turns dead within a test's patience.
    pub fn fast_retries() -> Options {
        Options {
            retry: ("20ms", "50ms", "300ms"),
            ..Options::default()
        }
    }
}

/// An `[invoice]` section whose text needs HTML escaping.
pub const INVOICE_SECTION: &str = "\n[invoice]\nissuer_name = \"株式会社テスト商店\"\nregistration_number = \"T1234567890123\"\naddressee = \"<J-goods> & 御中\"\nbank_account = \"テスト銀行 本店 普通 7654321\"\n";

impl Options {
    /// Rakuten Pay enabled on its simulator; `extra` goes in `[rakuten_pay]`.
    pub fn rakuten(extra: &str) -> Options {
        Options {
            rakuten: Some(RakutenSimConfig::default()),
            rakuten_extra: extra.into(),
            ..Options::default()
        }
    }

    /// KOMOJU enabled on its simulator.
    pub fn komoju() -> Options {
        Options {
            komoju: Some(KomojuSimConfig::default()),
            ..Options::default()
        }
    }

    /// Kuroneko Atobarai enabled on its simulator; `extra` goes in `[kuroneko]`.
    pub fn kuroneko(extra: &str) -> Options {
        Options {
            kuroneko: Some(KuronekoSimConfig::default()),
            kuroneko_extra: extra.into(),
            ..Options::default()
        }
    }

    /// Atobarai.com enabled on its simulator; `extra` goes in `[atobarai_com]`.
    pub fn atobarai(extra: &str) -> Options {
        Options {
            atobarai: Some(AtobaraiSimConfig::default()),
            atobarai_extra: extra.into(),
            ..Options::default()
        }
    }

    /// `extra` appended to the `[daemon]` section.
    pub fn daemon(mut self, extra: &str) -> Options {
        self.daemon_extra = extra.into();
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sim: JgoodsSimConfig::default(),
            jgoods_extra: String::new(),
            retry: ("20ms", "200ms", "60s"),
            safety_stock: 0,
            rakuten: None,
            rakuten_extra: String::new(),
            rakuten_orders: Vec::new(),
            rakuten_items: Vec::new(),
            daemon_extra: String::new(),
            no_admin_token: false,
            komoju: None,
            kuroneko: None,
            atobarai: None,
            kuroneko_extra: String::new(),
            atobarai_extra: String::new(),
            invoice: false,
            sections: String::new(),
            wrong_token_url: None,
        }
    }
}

/// An app with the Rakuten simulator beside J-goods.
pub async fn rakuten_app() -> TestApp {
    spawn_app_with(Options {
        rakuten: Some(RakutenSimConfig::default()),
        ..Options::default()
    })
    .await
}

/// A card-paid Rakuten order of `units` × `sku` (its `itemNumber`); returns its number.
pub fn card_order(app: &TestApp, sku: &str, units: u32) -> String {
    let r = app.rakuten();
    let number = r.next_order_number();
    r.place_order(
        rakuten_sim::NewOrder::new(&number)
            .item(rakuten_sim::NewItem::new(sku, "manage-x", 1100, units)),
    );
    number
}

/// The `[rakuten_pay]` section pointing at a Rakuten simulator.
pub fn rakuten_section(r: &RakutenSimHandle, extra: &str) -> String {
    format!(
        "{}poll_interval = \"1h\"\nrequest_interval = \"0s\"\n{extra}\n",
        r.config_section()
    )
}

/// A loopback port free right now (for a daemon run as a child process).
/// A free port for a daemon that is restarted on the same address. It is
/// taken below Linux's ephemeral range (32768 and up), so the outgoing
/// connections of other tests (the flood tests open hundreds) cannot land on
/// it while the daemon is down between a kill and its restart.
pub async fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Processes running at once start at different places of 20000..32000.
    let start = (std::process::id() % 1_000) as u16 * 12;
    loop {
        let port = 20_000 + (start + NEXT.fetch_add(1, Ordering::Relaxed) % 12_000) % 12_000;
        if TcpListener::bind(("127.0.0.1", port)).await.is_ok() {
            return port;
        }
    }
}

pub fn config_text(
    dir: &Path,
    sim: &JgoodsSimHandle,
    o: &Options,
    listen: &str,
    admin: &str,
) -> String {
    let secret = match &o.sim.webhook_auth {
        SimWebhookAuth::Hmac { secret } | SimWebhookAuth::Bearer { secret } => secret.clone(),
    };
    format!(
        r#"
[daemon]
data_dir = "{dir}"
listen = "{listen}"
admin_listen = "{admin}"
{admin_auth}
log_format = "text"
{daemon_extra}

[inventory]
safety_stock = {safety}

[retry]
initial_delay = "{r0}"
max_delay = "{r1}"
give_up_after = "{r2}"

[jgoods]
enabled = true
order_api_base_url = "{order}"
item_api_base_url = "{item}"
category_api_base_url = "{category}"
token_url = "{token}"
client_id = "{client_id}"
client_secret = "{client_secret}"
webhook_secret = "{secret}"
{extra}
"#,
        dir = dir.display(),
        admin_auth = if o.no_admin_token {
            "allow_no_admin_token = true".to_string()
        } else {
            format!("admin_token = \"{ADMIN_TOKEN}\"")
        },
        safety = o.safety_stock,
        r0 = o.retry.0,
        r1 = o.retry.1,
        r2 = o.retry.2,
        order = sim.order_api_base_url(),
        item = sim.item_api_base_url(),
        category = sim.category_api_base_url(),
        token = o
            .wrong_token_url
            .map_or_else(|| sim.token_url(), |kind| sim.wrong_token_url(kind)),
        client_id = o.sim.client_id,
        client_secret = o.sim.client_secret,
        extra = o.jgoods_extra,
        // Japanese, the merchant's default, whatever the machine's locale,
        // unless the test asks for English.
        daemon_extra = if o.daemon_extra.contains("language") {
            o.daemon_extra.clone()
        } else {
            format!("language = \"ja\"\n{}", o.daemon_extra)
        },
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(o: Options) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        o.sim.clone(),
    )
    .await
    .unwrap();
    let rakuten = match &o.rakuten {
        Some(cfg) => Some(
            rakuten_sim::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), cfg.clone())
                .await
                .unwrap(),
        ),
        None => None,
    };
    let mut text = config_text(dir.path(), &sim, &o, "127.0.0.1:0", "127.0.0.1:0");
    if let Some(r) = &rakuten {
        text.push_str(&rakuten_section(r, &o.rakuten_extra));
        for order in &o.rakuten_orders {
            r.place_order(order.clone());
        }
        for item in &o.rakuten_items {
            r.list_item(item.clone());
        }
    }
    let komoju = match &o.komoju {
        Some(cfg) => Some(
            komoju_sim::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), cfg.clone())
                .await
                .unwrap(),
        ),
        None => None,
    };
    if let Some(k) = &komoju {
        text.push_str(&k.config_section());
    }
    let kuroneko = match &o.kuroneko {
        Some(cfg) => Some(
            kuroneko_sim::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), cfg.clone())
                .await
                .unwrap(),
        ),
        None => None,
    };
    if let Some(k) = &kuroneko {
        text.push_str(&format!("{}{}\n", k.config_section(), o.kuroneko_extra));
    }
    let atobarai = match &o.atobarai {
        Some(cfg) => Some(
            atobarai_sim::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), cfg.clone())
                .await
                .unwrap(),
        ),
        None => None,
    };
    if let Some(a) = &atobarai {
        text.push_str(&format!("{}{}\n", a.config_section(), o.atobarai_extra));
    }
    if o.invoice {
        text.push_str(INVOICE_SECTION);
    }
    text.push_str(&o.sections);
    // Written too, so a test can run the command line on the daemon's config.
    std::fs::write(dir.path().join("config.toml"), &text).unwrap();
    let daemon = daemon_on(&dir.path().join("config.toml")).await;
    let webhook_url = format!("http://{}/webhooks/jgoods", daemon.webhook_addr);
    sim.set_webhook_url(webhook_url.clone());
    if let Some(k) = &komoju {
        k.set_webhook_url(format!("http://{}/webhooks/komoju", daemon.webhook_addr));
    }
    TestApp {
        admin_url: format!("http://{}", daemon.admin_addr),
        webhook_url,
        daemon: Some(daemon),
        sim,
        rakuten,
        komoju,
        kuroneko,
        atobarai,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

/// A daemon (in this process) on the config at `path`, on free ports.
async fn daemon_on(path: &Path) -> Daemon {
    let text = std::fs::read_to_string(path).unwrap();
    let config = Config::from_toml_str(&text, path).unwrap();
    Daemon::start(
        &config,
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap()
}

impl TestApp {
    /// Runs the `ordersync` binary on this app's config (its store, while the
    /// daemon runs, as an operator would).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
            .arg("--config")
            .arg(self._dir.path().join("config.toml"))
            .args(args)
            .env("SUDO_USER", "operator")
            .output()
            .unwrap()
    }

    /// The status page (`GET /` on the admin listener) as text.
    pub async fn status_page(&self) -> String {
        self.admin_text("/").await
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> String {
        self.admin_text("/metrics").await
    }

    /// An admin-listener page without the token, as text.
    pub async fn admin_text(&self, path: &str) -> String {
        let url = format!("{}{path}", self.admin_url);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.admin_url))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.admin(reqwest::Method::GET, path, None).await
    }

    /// Waits until the change feed carries an event of `kind` (poking the
    /// pollers meanwhile when `poke`); answers the feed.
    pub async fn wait_event(&self, kind: &str, poke: bool) -> Value {
        eventually(Duration::from_millis(50), || async move {
            let (_, feed) = self.get("/api/v1/events?after=0&limit=1000").await;
            let seen = feed["events"]
                .as_array()
                .is_some_and(|events| events.iter().any(|e| e["kind"] == kind));
            if seen {
                return Ok(feed);
            }
            if poke {
                self.daemon().poll_now();
            }
            Err(format!("no {kind} event: {feed}"))
        })
        .await
    }

    /// `POST path` on the admin API with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn set_stock(&self, sku: &str, on_hand: i64) {
        let (status, body) = self
            .admin(
                reqwest::Method::PUT,
                &format!("/api/v1/stock/{sku}"),
                Some(json!({"on_hand": on_hand})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    pub async fn stock(&self, sku: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/stock/{sku}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn order(&self, id: &str) -> Option<Value> {
        let (status, body) = self.get(&format!("/api/v1/orders/jgoods/{id}")).await;
        (status == 200).then_some(body)
    }

    /// Waits until the order satisfies `pred`; panics with the last state after the deadline.
    pub async fn wait_order(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let pred = &pred;
        eventually(Duration::from_millis(10), || async move {
            match self.order(id).await {
                Some(o) if pred(&o) => Ok(o),
                o => Err(format!("order {id} never matched; last: {o:?}")),
            }
        })
        .await
    }

    pub async fn wait_state(&self, id: &str, state: &str, payment: &str) -> Value {
        self.wait_order(id, |o| o["state"] == state && o["payment_state"] == payment)
            .await
    }

    /// Sends a raw webhook body signed like J-goods (or with the given headers).
    pub async fn post_webhook(&self, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
        let mut req = self
            .http
            .post(&self.webhook_url)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post_signed(&self, body: &[u8], delivery: &str) -> (u16, Value) {
        let headers = signed_headers(
            body,
            delivery,
            WEBHOOK_SECRET,
            chrono::Utc::now().timestamp(),
        );
        self.post_webhook(body, &headers).await
    }

    /// Stops the daemon and starts a new one on the same config and store
    /// (new ports; the simulators are told where it listens now).
    pub async fn restart(&mut self) {
        if let Some(d) = self.daemon.take() {
            d.stop(Duration::from_secs(5)).await;
        }
        let daemon = daemon_on(&self._dir.path().join("config.toml")).await;
        self.admin_url = format!("http://{}", daemon.admin_addr);
        self.webhook_url = format!("http://{}/webhooks/jgoods", daemon.webhook_addr);
        self.sim.set_webhook_url(self.webhook_url.clone());
        if let Some(k) = &self.komoju {
            k.set_webhook_url(format!("http://{}/webhooks/komoju", daemon.webhook_addr));
        }
        self.daemon = Some(daemon);
    }

    pub async fn stop(mut self) {
        if let Some(d) = self.daemon.take() {
            d.stop(Duration::from_secs(5)).await;
        }
        self.sim.shutdown().await;
        if let Some(r) = &self.rakuten {
            r.shutdown().await;
        }
        if let Some(k) = &self.komoju {
            k.shutdown().await;
        }
        if let Some(k) = &self.kuroneko {
            k.shutdown().await;
        }
        if let Some(a) = &self.atobarai {
            a.shutdown().await;
        }
    }

    pub fn komoju(&self) -> &KomojuSimHandle {
        self.komoju
            .as_ref()
            .expect("this app has no KOMOJU simulator")
    }

    /// Waits until the direct order satisfies `pred`.
    pub async fn wait_direct(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.direct_when(id, &pred, false).await
    }

    async fn direct_when(&self, id: &str, pred: &dyn Fn(&Value) -> bool, poke: bool) -> Value {
        let every = Duration::from_millis(if poke { 30 } else { 10 });
        eventually(every, || async move {
            if poke {
                self.daemon().poll_now();
            }
            match self.get(&format!("/api/v1/orders/direct/{id}")).await {
                (200, o) if pred(&o) => Ok(o),
                (_, o) => Err(format!("direct order {id} never matched; last: {o}")),
            }
        })
        .await
    }

    pub fn rakuten(&self) -> &RakutenSimHandle {
        self.rakuten
            .as_ref()
            .expect("this app has no Rakuten simulator")
    }

    pub fn daemon(&self) -> &Daemon {
        self.daemon.as_ref().expect("the daemon is stopped")
    }

    /// The channel-wide problem of `provider` (its fix) once one is recorded.
    pub async fn wait_provider_problem(&self, provider: &str) -> String {
        eventually(Duration::from_millis(20), || async move {
            self.problem(provider)
                .await
                .ok_or_else(|| format!("no {provider} problem recorded"))
        })
        .await
    }

    /// The channel-wide problem of `provider` now, if any.
    async fn problem(&self, provider: &str) -> Option<String> {
        let key = ordersync::problems::key(
            ordersync::domain::Provider::parse(provider).expect("a provider name"),
        );
        self.daemon()
            .store
            .read(move |c| ordersync::store::kv::get(c, &key))
            .await
            .unwrap()
    }

    /// Waits until the channel-wide problem of `provider` is cleared.
    pub async fn wait_problem_cleared(&self, provider: &str) {
        eventually(Duration::from_millis(20), || async move {
            match self.problem(provider).await {
                None => Ok(()),
                Some(_) => Err(format!("the {provider} problem never cleared")),
            }
        })
        .await
    }

    /// Pokes the pollers until the direct order satisfies `pred`.
    pub async fn poll_direct(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            self.daemon().poll_now();
            let (status, o) = self.get(&format!("/api/v1/orders/direct/{id}")).await;
            if status == 200 && pred(&o) {
                return o;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "direct order {id} never matched; last: {o}"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    pub async fn rakuten_order(&self, id: &str) -> Option<Value> {
        let (status, body) = self.get(&format!("/api/v1/orders/rakuten/{id}")).await;
        (status == 200).then_some(body)
    }

    /// Pokes the pollers and waits until a whole Rakuten poll has finished
    /// after the poke (its success time moves on).
    pub async fn poll_complete(&self) {
        let store = self.daemon().store.clone();
        let last = || {
            let store = store.clone();
            async move {
                store
                    .read(|c| ordersync::store::kv::get(c, "poll.rakuten_pay.last_success"))
                    .await
                    .unwrap()
            }
        };
        let until = tokio::time::Instant::now() + DEADLINE;
        // The start-up poll first.
        while last().await.is_none() {
            assert!(
                tokio::time::Instant::now() < until,
                "no Rakuten poll finished"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let before = last().await;
        self.daemon().poll_now();
        while last().await == before {
            assert!(
                tokio::time::Instant::now() < until,
                "the poked Rakuten poll never finished"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Pokes the pollers and waits until the Rakuten order satisfies `pred`.
    pub async fn poll_until(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let pred = &pred;
        eventually(Duration::from_millis(50), || async move {
            self.daemon().poll_now();
            match self.rakuten_order(id).await {
                Some(o) if pred(&o) => Ok(o),
                o => Err(format!("Rakuten order {id} never matched; last: {o:?}")),
            }
        })
        .await
    }
}

pub fn signed_headers(
    body: &[u8],
    delivery: &str,
    secret: &str,
    ts: i64,
) -> Vec<(&'static str, String)> {
    vec![
        ("x-jgoods-delivery", delivery.to_string()),
        ("x-jgoods-timestamp", ts.to_string()),
        (
            "x-jgoods-signature",
            signature::sign(secret.as_bytes(), ts, body),
        ),
    ]
}

/// A webhook body for a paid order (承認待ち, reserved_qty empty).
pub fn paid_order_body(order_no: &str, lines: &[(&str, u32)]) -> Vec<u8> {
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, qty))| {
            json!({"line_no": i + 1, "item_code": sku, "item_name": "品物", "qty": qty, "reserved_qty": null, "unit_price": 1100})
        })
        .collect();
    serde_json::to_vec(&json!({
        "order_no": order_no,
        "status": "承認待ち",
        "status_changed_at": "2026-11-22T10:15:00+09:00",
        "parent_order_no": null,
        "ship_to": {"name": "J-goods 物流センター", "postal_code": "5300001", "address": "大阪府大阪市北区梅田1-1-1", "phone": "0612345678"},
        "items": items
    }))
    .unwrap()
}

/// Looks at `probe` every `every` until it answers `Ok`; after the deadline,
/// panics with what its last `Err` said. Tests wait on conditions, never on
/// bare sleeps.
pub async fn eventually<T, F>(every: Duration, mut probe: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = Result<T, String>>,
{
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) => assert!(tokio::time::Instant::now() < until, "{last}"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The config file of a daemon run as a child process: on free ports, its
/// data in `dir/data`, `extra` appended. `(config file, listen, admin_listen)`.
pub async fn child_config(
    dir: &Path,
    sim: &JgoodsSimHandle,
    o: &Options,
    extra: &str,
) -> (std::path::PathBuf, String, String) {
    let (listen, admin) = (
        format!("127.0.0.1:{}", free_port().await),
        format!("127.0.0.1:{}", free_port().await),
    );
    let mut text = config_text(&dir.join("data"), sim, o, &listen, &admin);
    text.push_str(extra);
    let config = dir.join("config.toml");
    std::fs::write(&config, text).unwrap();
    (config, listen, admin)
}

/// Starts `ordersync run` on `config` as a child process (killed on drop) and
/// waits until its admin listener `admin` answers `/healthz`. Its log goes to
/// `daemon.log` beside the config (appended across restarts), not into the
/// test's output.
pub async fn start_daemon(config: &std::path::Path, admin: &str) -> tokio::process::Child {
    start_daemon_logging(config, admin, "warn").await
}

/// [`start_daemon`] with `RUST_LOG` set to `filter` (what a test greps the log for).
pub async fn start_daemon_logging(
    config: &std::path::Path,
    admin: &str,
    filter: &str,
) -> tokio::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(config.with_file_name("daemon.log"))
        .unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("RUST_LOG", filter)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Ok(r) = http.get(format!("http://{admin}/healthz")).send().await
            && r.status().is_success()
        {
            return child;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "daemon did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
