//! Yahoo!ショッピング end to end: the real daemon polls the Yahoo!
//! simulator over loopback, logged in through the simulator's own
//! authorization page and token endpoint.

use std::time::Duration;

use ordersync::sim::yahoo_shopping::YahooSimSettings;
use ordersync_sim::yahoo_shopping::{
    self as yahoo_sim, Endpoint, NewItem, NewOrder, Settings, YahooSimConfig, YahooSimHandle,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::*;

struct Yahoo {
    app: TestApp,
    sim: YahooSimHandle,
    _keys: tempfile::TempDir,
}

/// The contract's settings, without the per-second limit (the adapter is
/// told not to pace either) and with a wide signature skew, so a test may
/// move the simulator's clock past the cancel window.
fn settings() -> Settings {
    Settings {
        per_url_interval: Duration::ZERO,
        signature_skew: Duration::from_secs(7200),
        ..Settings::default()
    }
}

async fn start_sim(settings: Settings) -> YahooSimHandle {
    yahoo_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        YahooSimConfig {
            settings,
            ..YahooSimConfig::default()
        },
    )
    .await
    .unwrap()
}

/// A person's login at the simulator and key version `key`'s PEM in a
/// directory: the section that reaches it, with `extra` keys.
async fn logged_in(sim: &YahooSimHandle, key: u32, extra: &str) -> (tempfile::TempDir, String) {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("yahoo.pem");
    sim.write_key(key, &key_file).unwrap();
    let token = sim.login().await.unwrap();
    let section = format!(
        "{}request_interval = \"0s\"\n{extra}\n",
        sim.config_section(&token, &key_file)
    );
    (keys, section)
}

/// The daemon on a simulator, logged in, key version `key`; `extra` goes in
/// `[yahoo_shopping]`.
async fn yahoo_app_on(sim: YahooSimHandle, key: u32, extra: &str) -> Yahoo {
    let (keys, section) = logged_in(&sim, key, &format!("poll_interval = \"1h\"\n{extra}")).await;
    let app = spawn_app_with(Options {
        sections: section,
        ..Options::default()
    })
    .await;
    Yahoo {
        app,
        sim,
        _keys: keys,
    }
}

async fn yahoo_app() -> Yahoo {
    yahoo_app_on(start_sim(settings()).await, 1, "").await
}

impl Yahoo {
    async fn order(&self, id: &str) -> Option<Value> {
        let (status, body) = self.app.get(&format!("/api/v1/orders/yahoo/{id}")).await;
        (status == 200).then_some(body)
    }

    /// Pokes the poller until the order satisfies `pred`.
    async fn poll_until(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let pred = &pred;
        eventually(Duration::from_millis(50), || async move {
            self.app.daemon().poll_now();
            match self.order(id).await {
                Some(o) if pred(&o) => Ok(o),
                o => Err(format!("Yahoo! order {id} never matched; last: {o:?}")),
            }
        })
        .await
    }

    /// Pokes the poller and waits until a whole poll finished after the poke.
    async fn poll_complete(&self) {
        let store = self.app.daemon().store.clone();
        let last = || {
            let store = store.clone();
            async move {
                store
                    .read(|c| ordersync::store::kv::get(c, "poll.yahoo_shopping.last_success"))
                    .await
                    .unwrap()
            }
        };
        let before = last().await;
        eventually(Duration::from_millis(20), || async {
            self.app.daemon().poll_now();
            match last().await {
                now if now.is_some() && now != before => Ok(()),
                _ => Err("no Yahoo! poll finished".to_string()),
            }
        })
        .await;
    }

    /// An order of `qty` × `code` out of its cancel window and 処理中 here.
    async fn confirmed_order(&self, code: &str, qty: u32) -> String {
        self.app.set_stock(code, 2).await;
        self.sim.register_item(code, Some(2));
        let id = self.place(code, "", qty);
        self.sim.advance_clock(Duration::from_secs(11 * 60));
        self.poll_until(&id, |o| o["state"] == "confirmed").await;
        id
    }

    /// The ERP ships the order.
    async fn ship(&self, id: &str, carrier: &str, tracking_no: &str) {
        let parcel =
            json!({"carrier": carrier, "tracking_no": tracking_no, "shipped_on": "2026-12-03"});
        let (status, body) = self
            .app
            .post(&format!("/api/v1/orders/yahoo/{id}/shipment"), parcel)
            .await;
        assert_eq!(status, 202, "{body}");
    }

    fn place(&self, code: &str, sub: &str, qty: u32) -> String {
        self.sim
            .place_order(NewOrder::new(vec![NewItem::new(code, sub, qty, 1500)]))
    }
}

#[tokio::test]
async fn an_order_is_polled_allocated_and_set_in_process_at_yahoo() {
    let y = yahoo_app().await;
    y.app.set_stock("tee:red", 5).await;
    y.sim.register_item("tee:red", Some(5));
    let id = y.place("tee", "red", 2);
    // Inside the buyer's 10-minute window the stock is held at once, but
    // the order is neither announced to the ERP nor marked seen.
    let o = y.poll_until(&id, |o| o["state"] == "allocated").await;
    assert_eq!(o["lines"][0]["reserved_qty"], 2);
    assert_eq!(o["lines"][0]["sku"], "tee:red");
    assert_eq!(y.app.stock("tee:red").await["available"], 3);
    assert!(!y.sim.order(&id).unwrap().is_seen);
    let (_, feed) = y.app.get("/api/v1/events?after=0&limit=1000").await;
    let kinds: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["order_id"] == json!(id))
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"order.held"), "{kinds:?}");
    assert!(!kinds.contains(&"order.imported"), "{kinds:?}");
    // The window ends: announced, marked seen (処理中) through the outbox.
    y.sim.advance_clock(Duration::from_secs(11 * 60));
    let o = y.poll_until(&id, |o| o["state"] == "confirmed").await;
    assert_eq!(o["payment_state"], "paid");
    assert!(
        y.sim
            .wait_until(DEADLINE, |v| v.order(&id).is_some_and(|o| o.is_seen))
            .await
    );
    assert_eq!(y.sim.order(&id).unwrap().status, 2);
    y.app.wait_event("order.imported", false).await;
    assert_eq!(
        y.sim.stats().calls.get(&Endpoint::OrderChange).copied(),
        Some(1),
        "marked seen once"
    );
    y.app.stop().await;
}

#[tokio::test]
async fn a_cancel_inside_the_window_releases_the_stock() {
    let y = yahoo_app().await;
    y.app.set_stock("mug", 3).await;
    y.sim.register_item("mug", Some(3));
    let id = y.place("mug", "", 3);
    y.poll_until(&id, |o| o["state"] == "allocated").await;
    assert_eq!(y.app.stock("mug").await["available"], 0);
    assert!(y.sim.buyer_cancel(&id));
    y.poll_until(&id, |o| o["state"] == "cancelled").await;
    assert_eq!(y.app.stock("mug").await["available"], 3);
    y.app.stop().await;
}

#[tokio::test]
async fn the_erp_shipment_is_reported_once_as_shipped_never_completed() {
    let y = yahoo_app().await;
    let id = y.confirmed_order("cap", 1).await;
    y.ship(&id, "yamato", "123456789012").await;
    assert!(
        y.sim
            .wait_until(DEADLINE, |v| v
                .order(&id)
                .is_some_and(|o| o.ship_status == 3))
            .await
    );
    y.app.wait_event("order.shipment_reported", false).await;
    let o = y.sim.order(&id).unwrap();
    assert_eq!(o.ship_company_code, "1001");
    assert_eq!(o.ship_invoice_number1, "123456789012");
    assert_eq!(
        o.status, 2,
        "完了 is never set unless complete_orders is on"
    );
    y.app.stop().await;
}

#[tokio::test]
async fn an_answer_without_an_accepted_key_is_a_problem_at_once() {
    // The daemon is given key version 1's PEM but told version 2: Yahoo!
    // cannot decrypt it, gives no error, and leaves out the authorize status.
    let sim = start_sim(settings()).await;
    sim.issue_key().unwrap();
    let (_keys, section) = logged_in(&sim, 1, "poll_interval = \"1h\"").await;
    let app = spawn_app_with(Options {
        sections: section.replace("public_key_version = 1", "public_key_version = 2"),
        ..Options::default()
    })
    .await;
    let store = app.daemon().store.clone();
    let reason = eventually(Duration::from_millis(20), || {
        let store = store.clone();
        async move {
            store
                .read(|c| ordersync::store::kv::get(c, "attention.yahoo_shopping.public_key"))
                .await
                .unwrap()
                .ok_or_else(|| "no key problem recorded".to_string())
        }
    })
    .await;
    assert!(
        reason.contains("公開鍵") && reason.contains("12時間"),
        "{reason}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refused_refresh_is_one_problem_not_a_retry_loop() {
    let sim = start_sim(settings()).await;
    let (_keys, section) = logged_in(&sim, 1, "poll_interval = \"1s\"").await;
    // The person revokes the consent: every refresh is `invalid_grant`.
    sim.revoke();
    let app = spawn_app_with(Options {
        sections: section,
        ..Options::default()
    })
    .await;
    let reason = app.wait_provider_problem("yahoo_shopping").await;
    assert!(reason.contains("ordersync yahoo authorize"), "{reason}");
    // A poll each second is configured, but a refusal only a person can
    // mend backs the poller off: no loop of refused refreshes.
    let refreshes = sim.stats().refreshes_with_signature;
    let looped = sim
        .wait_until(Duration::from_secs(3), |v| {
            v.stats().refreshes_with_signature > refreshes
        })
        .await;
    assert!(!looped, "the refused refresh was retried");
    assert!(refreshes <= 2, "{refreshes}");
    assert!(
        sim.stats().calls.is_empty(),
        "no store call without a token"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_call_made_again() {
    let y = yahoo_app().await;
    y.app.set_stock("pen", 4).await;
    y.sim.register_item("pen", Some(4));
    let first = y.place("pen", "", 1);
    y.poll_until(&first, |o| o["state"] == "allocated").await;
    let refreshes = y.sim.stats().refreshes_with_signature;
    // The simulator's hour passes: the cached token is refused (401
    // invalid_token); the client refreshes once and the poll goes on.
    y.sim.advance_clock(Duration::from_secs(3700));
    // Placed at the daemon's now, inside its search window.
    let second = y.sim.place_order(NewOrder {
        order_time: Some(chrono::Utc::now().fixed_offset()),
        ..NewOrder::new(vec![NewItem::new("pen", "", 2, 1500)])
    });
    y.poll_until(&second, |o| o["state"] == "confirmed").await;
    assert_eq!(y.sim.stats().refreshes_with_signature, refreshes + 1);
    y.app.stop().await;
}

/// `ordersync yahoo authorize` as an operator runs it: the URL printed, the
/// browser's address pasted, the refresh token written to its credential
/// file and the login's time recorded.
#[tokio::test(flavor = "multi_thread")]
async fn authorize_prints_the_login_url_and_stores_the_refresh_token() {
    use std::io::{BufRead, Write};
    let sim = start_sim(settings()).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("yahoo.pem");
    sim.write_key(1, &key_file).unwrap();
    let section = sim.config_section("unused", &key_file).replace(
        "refresh_token = \"unused\"",
        "refresh_token = { credential = \"yahoo-refresh-token\" }",
    );
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ndata_dir = \"{}\"\nlanguage = \"ja\"\n{section}",
            dir.path().display()
        ),
    )
    .unwrap();
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("--config")
        .arg(&config)
        .arg("--credentials-dir")
        .arg(&creds)
        .args(["yahoo", "authorize"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    while !url.starts_with("http") {
        url.clear();
        assert_ne!(out.read_line(&mut url).unwrap(), 0, "no URL printed");
    }
    // The person logs in; the browser lands on the callback.
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url.trim())
        .send()
        .await
        .unwrap();
    let landed = page.headers()["location"].to_str().unwrap().to_string();
    writeln!(child.stdin.take().unwrap(), "{landed}").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("認可を保存しました"), "{rest}");
    let token = std::fs::read_to_string(creds.join("yahoo-refresh-token")).unwrap();
    assert!(!token.trim().is_empty());
    assert!(!rest.contains(token.trim()), "the token is never printed");
    let store = ordersync::store::Store::open_in(dir.path(), 0).unwrap();
    let at = store
        .read(|c| ordersync::store::kv::get(c, "yahoo_shopping.authorized_at"))
        .await
        .unwrap();
    assert!(at.is_some());
}

/// A fraud hold released days after the order shows up by
/// `PublicationTime`, outside the `OrderTime` window.
#[tokio::test]
async fn a_fraud_hold_released_later_is_found_by_its_publication_time() {
    let y = yahoo_app().await;
    y.app.set_stock("bag", 2).await;
    y.sim.register_item("bag", Some(2));
    let id = y.sim.place_order(NewOrder {
        order_time: Some(chrono::Utc::now().fixed_offset() - chrono::TimeDelta::days(6)),
        fraud_hold: true,
        ..NewOrder::new(vec![NewItem::new("bag", "", 1, 9800)])
    });
    // Held: orderList does not show it.
    y.poll_complete().await;
    assert!(y.order(&id).await.is_none());
    assert!(y.sim.release_hold(&id));
    let o = y.poll_until(&id, |o| o["state"] == "confirmed").await;
    assert_eq!(o["lines"][0]["reserved_qty"], 1);
    y.app.stop().await;
}

#[tokio::test]
async fn an_erp_count_reaches_yahoos_quantity_and_an_unknown_code_is_reported_once() {
    let y = yahoo_app_on(
        start_sim(settings()).await,
        1,
        "stock_push_interval = \"1s\"",
    )
    .await;
    y.sim.register_item("tee:blue", Some(1));
    y.app.set_stock("tee:blue", 7).await;
    y.app.set_stock("ghost-1", 3).await;
    assert!(
        y.sim
            .wait_until(DEADLINE, |v| v
                .stock("tee:blue")
                .is_some_and(|s| s.quantity == Some(7)))
            .await
    );
    // A Yahoo! sale of 2 held here: Yahoo! is told 5 (absolute).
    let id = y.place("tee", "blue", 2);
    y.poll_until(&id, |o| o["state"] == "allocated").await;
    assert!(
        y.sim
            .wait_until(DEADLINE, |v| v
                .stock("tee:blue")
                .is_some_and(|s| s.quantity == Some(5)))
            .await
    );
    // setStock took the unknown code with a 200; getStock's read-back
    // tells, and the push reports it once.
    assert_eq!(y.sim.unbound_stock("ghost-1").unwrap().quantity, Some(3));
    let store = y.app.daemon().store.clone();
    let summary = eventually(Duration::from_millis(50), || {
        let store = store.clone();
        async move {
            let all = store
                .read(|c| ordersync::store::stock_push::summary(c, 10))
                .await
                .unwrap();
            all.into_iter()
                .find(|s| s.channel == ordersync::domain::Channel::Yahoo && !s.unknown.is_empty())
                .ok_or_else(|| "no unknown Yahoo! code recorded".to_string())
        }
    })
    .await;
    assert_eq!(summary.unknown[0].0, "ghost-1");
    let reads = y.sim.stats().calls.get(&Endpoint::GetStock).copied();
    // A later change of the known code is not read back again.
    y.app.set_stock("tee:blue", 9).await;
    assert!(
        y.sim
            .wait_until(DEADLINE, |v| v
                .stock("tee:blue")
                .is_some_and(|s| s.quantity == Some(7)))
            .await
    );
    assert_eq!(y.sim.stats().calls.get(&Endpoint::GetStock).copied(), reads);
    y.app.stop().await;
}

#[tokio::test]
async fn the_login_and_the_key_are_warned_before_they_end_in_status() {
    let expires = (chrono::Utc::now() + chrono::TimeDelta::days(20)).date_naive();
    let y = yahoo_app_on(
        start_sim(settings()).await,
        1,
        &format!("public_key_expires = \"{expires}\""),
    )
    .await;
    // The login was made 22 days ago: 6 days are left of its 28.
    let at = (chrono::Utc::now() - chrono::TimeDelta::days(22)).fixed_offset();
    let text = ordersync::domain::time::rfc3339(at);
    y.app
        .daemon()
        .store
        .write(move |tx| {
            ordersync::store::kv::set(tx, "yahoo_shopping.authorized_at", &text, &text)
        })
        .await
        .unwrap();
    y.poll_complete().await;
    y.poll_complete().await;
    let out = y.app.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Yahoo!の認可は") && text.contains("ordersync yahoo authorize"),
        "{text}"
    );
    assert!(text.contains(&format!("公開鍵は {expires}")), "{text}");
    assert_eq!(out.status.code(), Some(1), "a warning needs a person");
    y.app.stop().await;
}

#[tokio::test]
async fn with_complete_orders_the_shipment_is_followed_by_completion() {
    let y = yahoo_app_on(start_sim(settings()).await, 1, "complete_orders = true").await;
    let id = y.confirmed_order("cup", 1).await;
    y.ship(&id, "sagawa", "4455667788").await;
    assert!(y.sim.wait_for_status(&id, 5, DEADLINE).await);
    let o = y.sim.order(&id).unwrap();
    assert_eq!((o.ship_status, o.ship_company_code.as_str()), (3, "1002"));
    y.app.stop().await;
}

/// The daemon as a child process, killed with SIGKILL while it polls, reads
/// and marks Yahoo! orders seen, then restarted: every order is held
/// exactly once, and every one ends 処理中 at Yahoo! and here.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_while_polling_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let jgoods = ordersync_sim::jgoods::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        Default::default(),
    )
    .await
    .unwrap();
    let sim = start_sim(settings()).await;
    let (_keys, section) = logged_in(&sim, 1, "poll_interval = \"1s\"").await;
    let (config, _listen, admin) =
        child_config(dir.path(), &jgoods, &Options::default(), &section).await;
    let mut daemon = start_daemon(&config, &admin).await;
    let http = reqwest::Client::new();
    let r = http
        .put(format!("http://{admin}/api/v1/stock/A"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"on_hand": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sim.register_item("A", Some(100));
    const ORDERS: usize = 40;
    let mut ids = vec![];
    for i in 0..ORDERS {
        // Stamped with the daemon's clock: the simulator's runs ahead below.
        ids.push(sim.place_order(NewOrder {
            order_time: Some(chrono::Utc::now().fixed_offset()),
            ..NewOrder::new(vec![NewItem::new("A", "", 1, 500)])
        }));
        if i % 10 == 9 {
            // Out of the cancel window: mark-seen calls go out too.
            sim.advance_clock(Duration::from_secs(11 * 60));
            tokio::time::sleep(Duration::from_millis(200 + (i as u64 % 7) * 90)).await;
            daemon.start_kill().unwrap();
            daemon.wait().await.unwrap();
            daemon = start_daemon(&config, &admin).await;
        }
    }
    let confirmed = eventually(Duration::from_millis(100), || {
        let (http, admin, ids) = (&http, &admin, &ids);
        async move {
            for id in ids {
                let o: Value = http
                    .get(format!("http://{admin}/api/v1/orders/yahoo/{id}"))
                    .bearer_auth(ADMIN_TOKEN)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                if o["state"] != "confirmed" {
                    return Err(format!("{id}: {o}"));
                }
            }
            Ok(())
        }
    })
    .await;
    let () = confirmed;
    assert!(
        sim.wait_until(DEADLINE, |v| ids
            .iter()
            .all(|id| v.order(id).is_some_and(|o| o.is_seen)))
            .await
    );
    daemon.start_kill().unwrap();
    daemon.wait().await.unwrap();
    let db = rusqlite::Connection::open(dir.path().join("data").join("ordersync.sqlite")).unwrap();
    let (reserved, held, most): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT reserved FROM stock WHERE sku = 'A'),
                    (SELECT SUM(qty) FROM allocations WHERE sku = 'A' AND state = 'reserved'),
                    (SELECT MAX(n) FROM (SELECT SUM(qty) AS n FROM allocations
                       WHERE state = 'reserved' GROUP BY order_id))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((reserved, held, most), (ORDERS as i64, ORDERS as i64, 1));
    let imported: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'order.imported'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(imported, ORDERS as i64, "each order announced once");
    jgoods.shutdown().await;
}

/// With Yahoo!'s one query a second per URL enforced (and its 60 s
/// lock-out), the default spacing keeps every call inside the limit.
#[tokio::test]
async fn the_default_pacing_stays_inside_one_query_a_second_per_url() {
    let sim = start_sim(Settings {
        signature_skew: Duration::from_secs(7200),
        ..Settings::default()
    })
    .await;
    let (keys, section) = logged_in(&sim, 1, "poll_interval = \"1h\"").await;
    let app = spawn_app_with(Options {
        sections: section.replace("request_interval = \"0s\"\n", ""),
        ..Options::default()
    })
    .await;
    let y = Yahoo {
        app,
        sim,
        _keys: keys,
    };
    y.app.set_stock("pin", 3).await;
    y.sim.register_item("pin", Some(3));
    let first = y.place("pin", "", 1);
    let second = y.place("pin", "", 1);
    y.sim.advance_clock(Duration::from_secs(11 * 60));
    y.poll_until(&second, |o| o["state"] == "confirmed").await;
    y.poll_until(&first, |o| o["state"] == "confirmed").await;
    assert!(
        y.sim
            .wait_until(DEADLINE, |v| v.order(&first).is_some_and(|o| o.is_seen)
                && v.order(&second).is_some_and(|o| o.is_seen))
            .await
    );
    assert_eq!(y.sim.stats().throttled, 0);
    y.app.stop().await;
}

/// A prepaid order the warehouse ships before Yahoo! has the payment is
/// reported once Yahoo! lets it ship, not given up.
#[tokio::test]
async fn a_shipment_before_the_prepayment_waits_for_it() {
    let y = yahoo_app().await;
    y.app.set_stock("box", 2).await;
    y.sim.register_item("box", Some(2));
    let id = y
        .sim
        .place_order(NewOrder::new(vec![NewItem::new("box", "", 1, 3000)]).prepaid());
    y.sim.advance_clock(Duration::from_secs(11 * 60));
    y.poll_until(&id, |o| o["state"] == "confirmed").await;
    y.ship(&id, "japanpost", "123456789012").await;
    let shipped = |v: &yahoo_sim::SimView<'_>| v.order(&id).is_some_and(|o| o.ship_status == 3);
    assert!(!y.sim.wait_until(Duration::from_millis(500), shipped).await);
    assert!(y.sim.pay(&id));
    assert!(y.sim.wait_until(DEADLINE, shipped).await);
    assert_eq!(y.sim.order(&id).unwrap().ship_company_code, "1003");
    y.app.stop().await;
}
