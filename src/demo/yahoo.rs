//! The demo's Yahoo!ショッピング part: a person's login at the simulator,
//! then one order held during the buyer's cancel window, marked seen
//! (処理中) after it, shipped by the ERP and reported as 出荷済み.

use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use ordersync_sim::yahoo_shopping::{
    self as yahoo_sim, NewItem, NewOrder, Settings, YahooSimConfig, YahooSimHandle,
};
use serde_json::json;
use tokio::net::TcpListener;

use super::STEP_DEADLINE;
use super::erp::{Erp, step};
use crate::app::Daemon;
use crate::domain::time;
use crate::sim::yahoo_shopping::YahooSimSettings;

/// Starts the simulator, logs in and writes the store key in `dir`: the
/// handle and the `[yahoo_shopping]` section.
pub(super) async fn start(dir: &Path) -> anyhow::Result<(YahooSimHandle, String)> {
    let yahoo = yahoo_sim::start(
        TcpListener::bind("127.0.0.1:0").await?,
        YahooSimConfig {
            // The demo moves the simulator's clock past the cancel window.
            settings: Settings {
                per_url_interval: Duration::ZERO,
                signature_skew: Duration::from_secs(3600),
                ..Settings::default()
            },
            ..YahooSimConfig::default()
        },
    )
    .await?;
    let token = yahoo.login().await?;
    let key = dir.join("yahoo-public-key.pem");
    yahoo.write_key(1, &key)?;
    let section = format!(
        "{}poll_interval = \"1h\"\nrequest_interval = \"50ms\"\nstock_push_interval = \"1s\"\n",
        yahoo.config_section(&token, &key)
    );
    Ok((yahoo, section))
}

pub(super) async fn yahoo_script(
    yahoo: &YahooSimHandle,
    daemon: &Daemon,
    erp: &Erp,
) -> anyhow::Result<()> {
    step(
        "Yahoo!ショッピング: SKU-010 × 1 → キャンセル受付の10分間も在庫を確保。ERP にはまだ渡しません",
        "Yahoo! Shopping: 1 × SKU-010 → stock held during the buyer's 10-minute cancel window; not yet the ERP's",
    );
    erp.import_stock("sku,on_hand\nSKU-010,3\n").await?;
    yahoo.register_item("SKU-010", Some(3));
    let id = yahoo.place_order(NewOrder::new(vec![NewItem::new("SKU-010", "", 1, 4400)]));
    daemon.poll_now();
    erp.wait("yahoo", &id, |o| o["state"] == "allocated")
        .await?;
    step(
        "10分が過ぎる → ERP に渡し、Yahoo!で処理中に(送信待ちの呼び出しで)",
        "Ten minutes later → the ERP's, and 処理中 at Yahoo! (through the outbox)",
    );
    yahoo.advance_clock(Duration::from_secs(11 * 60));
    daemon.poll_now();
    erp.wait("yahoo", &id, |o| o["state"] == "confirmed")
        .await?;
    step(
        "ERP が出荷 → Yahoo!に出荷済みを報告(配送会社コード 1001、伝票番号つき)。完了にはしません",
        "The ERP ships → 出荷済み reported to Yahoo! (carrier code 1001, tracking number); never 完了",
    );
    let parcel = json!({"carrier": "yamato", "tracking_no": "223344556677",
                        "shipped_on": time::now().format("%Y-%m-%d").to_string()});
    erp.post(&format!("/api/v1/orders/yahoo/{id}/shipment"), parcel)
        .await?;
    if !yahoo
        .wait_until(STEP_DEADLINE, |v| {
            v.order(&id).is_some_and(|o| o.ship_status == 3)
        })
        .await
    {
        bail!("the Yahoo! shipment was not reported");
    }
    if !yahoo
        .wait_until(STEP_DEADLINE, |v| {
            v.stock("SKU-010").is_some_and(|s| s.quantity == Some(2))
        })
        .await
    {
        bail!("Yahoo! was not told SKU-010's count");
    }
    println!("           Yahoo! shows 2 of SKU-010 (setStock, absolute)");
    Ok(())
}
