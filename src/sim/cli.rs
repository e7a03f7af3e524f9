//! `ordersync sim`: the five simulators alone, so a real config can be
//! pointed at them. It prints the config sections that reach them, and takes
//! orders on a small control endpoint, e.g.
//!
//! ```text
//! curl -X POST 127.0.0.1:9099/_sim/jgoods/orders -d '{"order_no":"JG1","lines":[["SKU-001",3,5500]]}'
//! ```
//!
//! The control endpoint reads JSON whatever the `Content-Type` (curl's `-d`
//! sends a form type), so the printed examples work as they are.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use clap::Args;

use crate::config_file::credentials_of;
use crate::domain::Provider;
use crate::private_files;
use crate::sim::atobarai_com::AtobaraiSimSettings;
use crate::sim::komoju::KomojuSimSettings;
use crate::sim::kuroneko::KuronekoSimSettings;
use crate::sim::rakuten_pay::RakutenPaySimSettings;
use crate::sim::yahoo_shopping::YahooSimSettings;
use ordersync_sim::jgoods::{
    self, CustomerDecision, JgoodsSimConfig, JgoodsSimHandle, SimWebhookAuth,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::net::TcpListener;

use ordersync_sim::rakuten_pay::{self, NewItem, NewOrder, RakutenSimConfig, RakutenSimHandle};
use ordersync_sim::{atobarai_com, komoju, kuroneko};

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
    /// Address of the simulated Kuroneko Atobarai API.
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub kuroneko_listen: SocketAddr,
    /// Address of the simulated Atobarai.com API.
    #[arg(long, default_value = "127.0.0.1:9093")]
    pub atobarai_listen: SocketAddr,
    /// Address of the simulated KOMOJU API.
    #[arg(long, default_value = "127.0.0.1:9094")]
    pub komoju_listen: SocketAddr,
    /// Where KOMOJU webhooks go (the daemon's `listen` + /webhooks/komoju).
    #[arg(long, default_value = "http://127.0.0.1:8080/webhooks/komoju")]
    pub komoju_webhook_url: String,
    /// Address of the simulated Yahoo!ショッピング APIs.
    #[arg(long, default_value = "127.0.0.1:9095")]
    pub yahoo_listen: SocketAddr,
    /// Control endpoint for placing orders and scripting customers.
    #[arg(long, default_value = "127.0.0.1:9099")]
    pub control_listen: SocketAddr,
    /// Where the simulators' secrets are written, one credential file each
    /// (give it to the daemon as `--credentials-dir`).
    #[arg(long, default_value = "sim-credentials")]
    pub credentials_out: PathBuf,
    /// The control endpoint's address once bound (a port 0 made real).
    #[arg(skip)]
    pub control_listen_bound: Option<SocketAddr>,
}

/// The running simulators.
struct Sims {
    jgoods: Arc<JgoodsSimHandle>,
    jgoods_cfg: JgoodsSimConfig,
    rakuten: Arc<RakutenSimHandle>,
    kuroneko: kuroneko::KuronekoSimHandle,
    atobarai: atobarai_com::AtobaraiSimHandle,
    komoju: Arc<komoju::KomojuSimHandle>,
    yahoo: ordersync_sim::yahoo_shopping::YahooSimHandle,
    /// Its section: the login made and the key written at start.
    yahoo_section: String,
}

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let sims = start(&args).await?;
    let listener = TcpListener::bind(args.control_listen).await?;
    let args = SimArgs {
        control_listen_bound: Some(listener.local_addr()?),
        ..args
    };
    print_config(&args, &sims)?;
    let control = Router::new()
        .route("/_sim/jgoods/orders", post(place))
        .with_state(sims.jgoods.clone())
        .merge(
            Router::new()
                .route("/_sim/rakuten/orders", post(place_rakuten))
                .with_state(sims.rakuten.clone()),
        )
        .merge(
            Router::new()
                .route("/_sim/komoju/payments", post(create_payment))
                .route("/_sim/komoju/authorize", post(authorize))
                .with_state(sims.komoju.clone()),
        );
    axum::serve(listener, control)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    sims.jgoods.shutdown().await;
    sims.rakuten.shutdown().await;
    sims.kuroneko.shutdown().await;
    sims.atobarai.shutdown().await;
    sims.komoju.shutdown().await;
    sims.yahoo.shutdown().await;
    Ok(())
}

async fn start(args: &SimArgs) -> anyhow::Result<Sims> {
    let jgoods_cfg = JgoodsSimConfig {
        webhook_url: Some(args.jgoods_webhook_url.clone()),
        webhook_auth: SimWebhookAuth::Hmac {
            secret: args.jgoods_webhook_secret.clone(),
        },
        ..JgoodsSimConfig::realistic()
    };
    let bind = |addr| TcpListener::bind(addr);
    let yahoo = ordersync_sim::yahoo_shopping::start(
        bind(args.yahoo_listen).await?,
        ordersync_sim::yahoo_shopping::YahooSimConfig::default(),
    )
    .await?;
    let refresh_token = yahoo.login().await?;
    private_files::create_dir(&args.credentials_out)?;
    let key_file = std::path::absolute(args.credentials_out.join("yahoo-public-key.pem"))?;
    yahoo.write_key(1, &key_file)?;
    let yahoo_section = format!(
        "{}poll_interval = \"5s\"\nlookback = \"2d\"\n",
        yahoo.config_section(&refresh_token, &key_file)
    );
    Ok(Sims {
        yahoo,
        yahoo_section,
        jgoods: Arc::new(jgoods::start(bind(args.jgoods_listen).await?, jgoods_cfg.clone()).await?),
        jgoods_cfg,
        rakuten: Arc::new(
            rakuten_pay::start(
                bind(args.rakuten_listen).await?,
                RakutenSimConfig::realistic(),
            )
            .await?,
        ),
        kuroneko: kuroneko::start(
            bind(args.kuroneko_listen).await?,
            kuroneko::KuronekoSimConfig::realistic(),
        )
        .await?,
        atobarai: atobarai_com::start(
            bind(args.atobarai_listen).await?,
            atobarai_com::AtobaraiSimConfig::realistic(),
        )
        .await?,
        komoju: Arc::new(
            komoju::start(
                bind(args.komoju_listen).await?,
                komoju::KomojuSimConfig {
                    webhook_url: Some(args.komoju_webhook_url.clone()),
                    ..komoju::KomojuSimConfig::realistic()
                },
            )
            .await?,
        ),
    })
}

/// The config sections that reach the simulators (their secrets written as
/// credential files), and how to drive them.
fn print_config(args: &SimArgs, s: &Sims) -> anyhow::Result<()> {
    let control = args.control_listen_bound.unwrap_or(args.control_listen);
    let creds = &args.credentials_out;
    let mut files = Vec::new();
    let sections: Vec<String> = Provider::ALL
        .into_iter()
        .map(|p| with_credentials(p, &section(p, args, s), &mut files))
        .collect();
    write_credentials(creds, &files)?;
    println!("# ordersync sim: paste these sections into a config (with [daemon] listen on the");
    println!("# port the webhook URLs name), then run");
    println!(
        "#   ordersync --config FILE --credentials-dir {} run",
        creds.display()
    );
    println!("# (the simulators' secrets are in that directory, one file each).");
    for section in sections {
        print!("{section}");
    }
    println!("{END_OF_CONFIG}");
    println!("# J-goods webhooks go to {}", args.jgoods_webhook_url);
    println!("# KOMOJU webhooks go to {}", args.komoju_webhook_url);
    println!("# a J-goods order:");
    println!(
        "#   curl -X POST http://{control}/_sim/jgoods/orders -d '{{\"order_no\":\"JG1\",\"lines\":[[\"SKU-001\",3,5500]],\"decision\":\"accept\"}}'"
    );
    println!("# a Rakuten order:");
    println!(
        "#   curl -X POST http://{control}/_sim/rakuten/orders -d '{{\"sku\":\"SKU-001\",\"units\":2,\"price\":5500}}'"
    );
    println!("# a KOMOJU payment (its id goes in the order's payment_id), then the customer pays:");
    println!(
        "#   curl -X POST http://{control}/_sim/komoju/payments -d '{{\"amount\":5000,\"tax\":500,\"external_order_num\":\"SHOP-1\"}}'"
    );
    println!(
        "#   curl -X POST http://{control}/_sim/komoju/authorize -d '{{\"payment_id\":\"<id>\"}}'"
    );
    println!("# a credit check refused on purpose (与信NG): a buyer whose name contains");
    println!(
        "#   \"{}\" at 後払い.com (\"{}\": under review, then refused)",
        atobarai_com::MARKER_NG,
        atobarai_com::MARKER_REVIEW_NG
    );
    Ok(())
}

/// The line after the last config section (what a script reads up to).
pub const END_OF_CONFIG: &str = "# end of config";

/// The JSON body of a control request, whatever its `Content-Type`.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// 400 naming why the body is not what the endpoint reads.
fn bad_body(e: serde_json::Error) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": format!("not the expected JSON: {e}")})),
    )
        .into_response()
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

async fn place(State(sim): State<Arc<JgoodsSimHandle>>, bytes: Bytes) -> Response {
    let req: PlaceOrder = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return bad_body(e),
    };
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
    Json(json!({"placed": req.order_no})).into_response()
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

async fn place_rakuten(State(sim): State<Arc<RakutenSimHandle>>, bytes: Bytes) -> Response {
    let req: PlaceRakutenOrder = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return bad_body(e),
    };
    let number = sim.next_order_number();
    let mut order =
        NewOrder::new(&number).item(NewItem::new(&req.sku, "", req.price, req.units).sku(&req.sku));
    if req.cash_on_delivery {
        order = order.cash_on_delivery();
    }
    Json(json!({"placed": sim.place_order(order)})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePayment {
    amount: i64,
    #[serde(default)]
    tax: i64,
    #[serde(default)]
    external_order_num: Option<String>,
}

async fn create_payment(State(sim): State<Arc<komoju::KomojuSimHandle>>, bytes: Bytes) -> Response {
    let req: CreatePayment = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return bad_body(e),
    };
    let id = sim.create_payment(
        req.amount,
        req.tax,
        req.external_order_num.as_deref(),
        "credit_card",
        komoju::CaptureMode::Manual,
    );
    Json(json!({"payment_id": id})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Authorize {
    payment_id: String,
}

/// The customer pays: the payment is authorized and KOMOJU's webhook sent.
async fn authorize(State(sim): State<Arc<komoju::KomojuSimHandle>>, bytes: Bytes) -> Response {
    let req: Authorize = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return bad_body(e),
    };
    match sim.authorize(&req.payment_id) {
        true => Json(json!({"authorized": req.payment_id})).into_response(),
        false => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no pending payment with that id"})),
        )
            .into_response(),
    }
}

/// The config section that reaches `provider`'s simulator, secrets inline
/// (the same text the tests start a daemon with), and the polling pace that
/// lets one watch an order arrive. A new [`Provider`] does not compile until
/// its simulator has its section here.
fn section(provider: Provider, args: &SimArgs, s: &Sims) -> String {
    match provider {
        Provider::Jgoods => format!(
            "\n[jgoods]\nenabled = true\norder_api_base_url = \"{}\"\nitem_api_base_url = \"{}\"\n\
             category_api_base_url = \"{}\"\ntoken_url = \"{}\"\ntoken_auth = \"{}\"\nclient_id = \"{}\"\n\
             client_secret = \"{}\"\nwebhook_secret = \"{}\"\nsweep_interval = \"30s\"\n",
            s.jgoods.order_api_base_url(),
            s.jgoods.item_api_base_url(),
            s.jgoods.category_api_base_url(),
            s.jgoods.token_url(),
            match s.jgoods.client_auth() {
                jgoods::ClientAuth::ClientSecretBasic => "basic",
                jgoods::ClientAuth::ClientSecretPost => "post",
            },
            s.jgoods_cfg.client_id,
            s.jgoods_cfg.client_secret,
            args.jgoods_webhook_secret,
        ),
        // A few seconds, so an order placed below shows up while one watches.
        Provider::RakutenPay => format!(
            "{}poll_interval = \"5s\"\nlookback = \"1d\"\n",
            s.rakuten.config_section()
        ),
        Provider::Kuroneko => format!("{}poll_interval = \"30s\"\n", s.kuroneko.config_section()),
        Provider::AtobaraiCom => {
            format!("{}poll_interval = \"30s\"\n", s.atobarai.config_section())
        }
        Provider::Komoju => s.komoju.config_section(),
        Provider::YahooShopping => s.yahoo_section.clone(),
    }
}

/// The keys of `provider`'s secrets, in the order of their credential names
/// ([`credentials_of`]).
fn secret_keys(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Jgoods => &["client_secret", "webhook_secret"],
        Provider::RakutenPay => &["service_secret", "license_key"],
        Provider::Kuroneko => &["password"],
        Provider::Komoju => &["secret_key", "webhook_secret"],
        Provider::AtobaraiCom => &[],
        Provider::YahooShopping => &["client_secret", "refresh_token"],
    }
}

/// `section` with each secret read from its credential file instead, as an
/// installed config reads it; the files to write are added to `files`.
fn with_credentials(
    provider: Provider,
    section: &str,
    files: &mut Vec<(&'static str, String)>,
) -> String {
    let mut out = String::new();
    for line in section.lines() {
        let secret = secret_keys(provider)
            .iter()
            .zip(credentials_of(provider))
            .find_map(|(key, file)| {
                let value = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
                let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
                Some((key, file, value))
            });
        match secret {
            Some((key, file, value)) => {
                files.push((file, value.to_string()));
                out.push_str(&format!("{key} = {{ credential = \"{file}\" }}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Writes the simulators' secrets as credential files (a private directory,
/// files only its owner reads), as `credentials init` lays them out.
fn write_credentials(dir: &Path, files: &[(&'static str, String)]) -> anyhow::Result<()> {
    private_files::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, value) in files {
        let path = dir.join(name);
        private_files::write_atomic(&path, value.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
