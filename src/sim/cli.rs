//! `ordersync sim`: the simulators alone, so a real config can be pointed at
//! them. J-goods orders are placed through a small control endpoint:
//!
//! ```text
//! curl -X POST localhost:9090/_sim/orders -d '{"order_no":"JG1","lines":[["SKU-001",3,5500]]}'
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use clap::Args;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

use super::jgoods::{self, CustomerDecision, JgoodsSimConfig, JgoodsSimHandle, SimWebhookAuth};
use super::rakuten_pay::{self, NewItem, NewOrder, RakutenSimConfig, RakutenSimHandle};

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Address of the simulated J-goods APIs.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub jgoods_listen: SocketAddr,
    /// Where J-goods webhooks go (the daemon's `listen` + /webhooks/jgoods).
    #[arg(long, default_value = "http://127.0.0.1:8080/webhooks/jgoods")]
    pub jgoods_webhook_url: String,
    /// HMAC secret the simulated J-goods signs webhooks with (`[jgoods] webhook_secret`).
    #[arg(long, default_value = "sim-webhook-secret")]
    pub jgoods_webhook_secret: String,
    /// Address of the simulated Rakuten Pay APIs.
    #[arg(long, default_value = "127.0.0.1:9091")]
    pub rakuten_listen: SocketAddr,
    /// Control endpoint for placing orders and scripting customers.
    #[arg(long, default_value = "127.0.0.1:9099")]
    pub control_listen: SocketAddr,
}

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let cfg = JgoodsSimConfig {
        webhook_url: Some(args.jgoods_webhook_url.clone()),
        webhook_auth: SimWebhookAuth::Hmac {
            secret: args.jgoods_webhook_secret.clone(),
        },
        ..JgoodsSimConfig::realistic()
    };
    let sim =
        Arc::new(jgoods::start(TcpListener::bind(args.jgoods_listen).await?, cfg.clone()).await?);
    println!(
        "J-goods simulator on {}; point the daemon's config at it:\n",
        sim.base_url()
    );
    println!("[jgoods]");
    println!("order_api_base_url = \"{}\"", sim.order_api_base_url());
    println!("item_api_base_url = \"{}\"", sim.item_api_base_url());
    println!("token_url = \"{}\"", sim.token_url());
    println!("client_id = \"{}\"", cfg.client_id);
    println!("client_secret = \"{}\"", cfg.client_secret);
    println!("webhook_secret = \"{}\"\n", args.jgoods_webhook_secret);
    println!("webhooks go to {}", args.jgoods_webhook_url);
    println!(
        "place an order: curl -X POST http://{}/_sim/jgoods/orders -d '{{\"order_no\":\"JG1\",\"lines\":[[\"SKU-001\",3,5500]],\"decision\":\"accept\"}}'",
        args.control_listen
    );
    let rakuten = Arc::new(
        rakuten_pay::start(
            TcpListener::bind(args.rakuten_listen).await?,
            RakutenSimConfig::realistic(),
        )
        .await?,
    );
    println!("\nRakuten Pay simulator on {}:\n", rakuten.base_url());
    println!("[rakuten_pay]\nenabled = true");
    println!("api_base_url = \"{}\"", rakuten.api_base_url());
    println!("license_api_url = \"{}\"", rakuten.license_api_url());
    println!("service_secret = \"{}\"", rakuten.service_secret());
    println!("license_key = \"{}\"\n", rakuten.license_key());
    println!(
        "place a Rakuten order: curl -X POST http://{}/_sim/rakuten/orders -d '{{\"sku\":\"SKU-001\",\"units\":2,\"price\":5500}}'",
        args.control_listen
    );
    let control = Router::new()
        .route("/_sim/jgoods/orders", post(place))
        .with_state(sim.clone())
        .merge(
            Router::new()
                .route("/_sim/rakuten/orders", post(place_rakuten))
                .with_state(rakuten.clone()),
        );
    let listener = TcpListener::bind(args.control_listen).await?;
    axum::serve(listener, control)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    sim.shutdown().await;
    rakuten.shutdown().await;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceOrder {
    order_no: String,
    lines: Vec<(String, u32, i64)>,
    /// `accept` (default), `decline` or `no_reply`: what the customer answers to a shortage.
    #[serde(default)]
    decision: Option<String>,
}

async fn place(
    State(sim): State<Arc<JgoodsSimHandle>>,
    Json(req): Json<PlaceOrder>,
) -> Json<serde_json::Value> {
    let decision = match req.decision.as_deref() {
        Some("decline") => CustomerDecision::Decline,
        Some("no_reply") => CustomerDecision::NoReply,
        _ => CustomerDecision::Accept,
    };
    sim.set_decision(&req.order_no, decision);
    let lines: Vec<(&str, u32, i64)> = req
        .lines
        .iter()
        .map(|(s, q, p)| (s.as_str(), *q, *p))
        .collect();
    sim.place_order(&req.order_no, &lines);
    Json(json!({"placed": req.order_no}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceRakutenOrder {
    sku: String,
    units: u32,
    price: i64,
    /// `true` for a shop-selected settlement (cash on delivery), imported only at 300.
    #[serde(default)]
    cash_on_delivery: bool,
}

async fn place_rakuten(
    State(sim): State<Arc<RakutenSimHandle>>,
    Json(req): Json<PlaceRakutenOrder>,
) -> Json<serde_json::Value> {
    let number = sim.next_order_number();
    let mut order =
        NewOrder::new(&number).item(NewItem::new(&req.sku, "", req.price, req.units).sku(&req.sku));
    if req.cash_on_delivery {
        order = order.cash_on_delivery();
    }
    Json(json!({"placed": sim.place_order(order)}))
}
