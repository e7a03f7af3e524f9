//! `ordersync demo`: the real daemon against the built-in J-goods simulator on
//! loopback, playing a scripted day of orders and printing what happens.
//! Needs no config and no network.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use ordersync_sim::jgoods::{
    self as sim, CustomerDecision, Endpoint, Fault, JgoodsSimConfig, JgoodsSimHandle,
    SimWebhookAuth, Status,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::app::Daemon;
use crate::config_file::Config;
use crate::domain::time;
use crate::sim::komoju::KomojuSimSettings as _;
use crate::sim::kuroneko::KuronekoSimSettings;
use crate::sim::rakuten_pay::RakutenPaySimSettings;
use ordersync_sim::komoju::{self as komoju_sim, CaptureMode, KomojuSimConfig, KomojuSimHandle};
use ordersync_sim::kuroneko::{
    self as kuroneko_sim, FlipRule, KuronekoSimConfig, KuronekoSimHandle,
};
use ordersync_sim::rakuten_pay::{
    self as rakuten_sim, CatalogItem, NewItem, NewOrder, OrderProgress, RakutenSimConfig,
    RakutenSimHandle,
};

mod catalog;
mod erp;
use erp::*;

mod scripts;
use scripts::*;
mod rakuten_refusal;
mod yahoo;

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
    let sims = Sims::start(&secret).await?;
    let (yahoo, yahoo_section) = yahoo::start(dir.path()).await?;
    let config_text = sims.config_text(dir.path(), &secret, &admin_token) + &yahoo_section;
    let config = Config::from_toml_str(&config_text, &dir.path().join("demo.toml"))
        .map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    let daemon = Daemon::start(
        &config,
        TcpListener::bind("127.0.0.1:0").await?,
        TcpListener::bind("127.0.0.1:0").await?,
    )
    .await?;
    let Sims {
        sim,
        sim_cfg: _,
        rakuten,
        komoju,
        kuroneko,
    } = sims;
    sim.set_webhook_url(format!("http://{}/webhooks/jgoods", daemon.webhook_addr));
    komoju.set_webhook_url(format!("http://{}/webhooks/komoju", daemon.webhook_addr));
    let erp = Erp {
        base: format!("http://{}", daemon.admin_addr),
        token: admin_token,
        http: reqwest::Client::new(),
    };

    let (hooks, admin, jgoods, rakuten_url, store) = (
        daemon.webhook_addr,
        daemon.admin_addr,
        sim.base_url(),
        rakuten.base_url(),
        dir.path().display(),
    );
    println!(
        "{}\n",
        crate::wording::say(
            lang(),
            &format!(
                "ordersync デモ: デーモンは {hooks}(Webhook)と {admin}(管理 API)、模擬の J-goods は {jgoods}、楽天ペイは {rakuten_url}、ストアは {store}"
            ),
            &format!(
                "ordersync demo: the daemon on {hooks} (webhooks) and {admin} (admin API),\na simulated J-goods on {jgoods} and Rakuten Pay on {rakuten_url}, the store in {store}"
            ),
        )
    );
    let started = Instant::now();
    let feed = tokio::spawn(print_timeline(erp.clone(), started));
    let result = async {
        catalog::catalog_script(&sim, &daemon, &erp).await?;
        script(&sim, &erp).await?;
        rakuten_script(&rakuten, &daemon, &erp).await?;
        rakuten_stock_script(&sim, &rakuten, &erp).await?;
        rakuten_refusal::rakuten_refusal_script(&rakuten, &daemon, &erp).await?;
        komoju_script(&komoju, &erp).await?;
        credit_script(&kuroneko, &daemon, &erp).await?;
        yahoo::yahoo_script(&yahoo, &daemon, &erp).await?;
        settlement_script(&erp).await
    }
    .await;
    // Let the last events reach the timeline.
    tokio::time::sleep(Duration::from_millis(300)).await;
    feed.abort();
    if result.is_ok() {
        print_summary(&erp, &sim, &rakuten).await?;
    }
    daemon.stop(Duration::from_secs(5)).await;
    sim.shutdown().await;
    rakuten.shutdown().await;
    komoju.shutdown().await;
    kuroneko.shutdown().await;
    yahoo.shutdown().await;
    if args.keep {
        let kept = dir.keep();
        let kept = kept.display();
        println!(
            "{}",
            crate::wording::say(
                lang(),
                &format!("データは {kept} に残しました"),
                &format!("data kept in {kept}"),
            )
        );
    }
    result
}

/// The simulated providers the demo runs against.
struct Sims {
    sim: JgoodsSimHandle,
    sim_cfg: JgoodsSimConfig,
    rakuten: RakutenSimHandle,
    komoju: KomojuSimHandle,
    kuroneko: KuronekoSimHandle,
}

impl Sims {
    /// Starts every simulator on a loopback port of its own.
    async fn start(secret: &str) -> anyhow::Result<Sims> {
        let sim_cfg = JgoodsSimConfig {
            webhook_auth: SimWebhookAuth::Hmac {
                secret: secret.to_string(),
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
        // The shop's cast-iron kettle is listed at Rakuten too (in items.search).
        rakuten.list_item(CatalogItem::new("tetsubin", &[("t1", "SKU-007")]));
        for (manage, variant, sku) in rakuten_refusal::ITEMS {
            rakuten.list_item(CatalogItem::new(manage, &[(variant, sku)]));
        }
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
        Ok(Sims {
            sim,
            sim_cfg,
            rakuten,
            komoju,
            kuroneko,
        })
    }

    /// The demo's config file, pointing at the simulators.
    fn config_text(&self, data: &std::path::Path, secret: &str, admin_token: &str) -> String {
        let (sim, sim_cfg) = (&self.sim, &self.sim_cfg);
        format!(
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
category_api_base_url = "{category}"
catalog_sync_interval = "1s"
{rakuten}poll_interval = "1h"
request_interval = "50ms"
stock_push_interval = "1s"
{komoju}{kuroneko}settle_delay = "0s"
poll_interval = "1h"
[invoice]
issuer_name = "株式会社デモ商店"
registration_number = "T1234567890123"
addressee = "J-goods株式会社 御中"
bank_account = "デモ銀行 本店営業部 普通 1234567 カ）デモショウテン"
"#,
            rakuten = self.rakuten.config_section(),
            komoju = self.komoju.config_section(),
            kuroneko = self.kuroneko.config_section(),
            data = data.display(),
            order = sim.order_api_base_url(),
            item = sim.item_api_base_url(),
            category = sim.category_api_base_url(),
            token = sim.token_url(),
            client_id = sim_cfg.client_id,
            client_secret = sim_cfg.client_secret,
        )
    }
}

/// What the simulators saw, the stock and the orders, after the scripts.
async fn print_summary(
    erp: &Erp,
    sim: &JgoodsSimHandle,
    rakuten: &RakutenSimHandle,
) -> anyhow::Result<()> {
    print_stock(erp).await?;
    print_orders(erp).await?;
    let stats = sim.stats();
    let say = |ja: String, en: String| println!("{}", crate::wording::say(lang(), &ja, &en));
    let (attempts, acked, tokens) = (
        stats.webhooks.attempts,
        stats.webhooks.acked,
        stats.token_requests,
    );
    let postbacks = stats.put_bodies.values().map(Vec::len).sum::<usize>();
    println!();
    say(
        format!(
            "J-goods: Webhook の送信 {attempts} 回(受付 {acked} 回)、在庫引当の返信 {postbacks} 回、トークン要求 {tokens} 回。"
        ),
        format!(
            "J-goods saw {attempts} webhook attempts ({acked} acknowledged), {postbacks} allocation post-backs, {tokens} token requests."
        ),
    );
    let pushed: Vec<String> = stats
        .stock
        .iter()
        .map(|(sku, n)| format!("{sku} = {n}"))
        .collect();
    let (calls, pushed) = (stats.item_stock_calls.len(), pushed.join(", "));
    say(
        format!(
            "J-goods には有効在庫を {calls} 回の商品 API への送信で伝えました(SKU ごとに 1 秒に 1 回まで)。最後に伝えた値: {pushed}。"
        ),
        format!(
            "J-goods was told the available stock in {calls} item-API calls (at most once a second per SKU); it last heard {pushed}."
        ),
    );
    let rk = rakuten.stats();
    let (search, get, confirm, ship) = (
        rk.search_order,
        rk.get_order,
        rk.confirm_order,
        rk.update_order_shipping,
    );
    say(
        format!(
            "楽天ペイ: searchOrder {search} 回、getOrder {get} 回、confirmOrder {confirm} 回、updateOrderShipping {ship} 回。"
        ),
        format!(
            "Rakuten saw {search} searchOrder, {get} getOrder, {confirm} confirmOrder and {ship} updateOrderShipping calls."
        ),
    );
    let inv = rakuten.inventory_stats();
    let (upserts, relative, gets, searches) =
        (inv.upserts, inv.relative_entries, inv.gets, inv.searches);
    say(
        format!(
            "楽天には有効在庫を bulk-upsert {upserts} 回(RELATIVE {relative} 件)で伝え、bulk-get {gets} 回と items.search {searches} 回で読み返しました。"
        ),
        format!(
            "Rakuten was told the available stock in {upserts} bulk-upsert calls ({relative} RELATIVE), read back with {gets} bulk-get and {searches} items.search calls."
        ),
    );
    print_invoice(erp).await?;
    Ok(())
}
