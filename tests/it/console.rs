//! The operator's console over real HTTP, as a browser uses it (cookies,
//! form posts, redirects followed by hand): log in with the admin token,
//! find an order that needs a person, open it, drop its dead call,
//! acknowledge its attention, ship it; the page and the store agree after
//! each step. Hostile order ids are escaped; a post from another site, a
//! stale form and a forged cookie are refused.

use ordersync_sim::jgoods::{Endpoint, Fault};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};

use crate::helpers::*;

/// A browser without redirects followed, holding the session cookie.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    pub(crate) cookie: Option<String>,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.admin_url.clone(),
            cookie: None,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String, Option<String>) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        let r = req.send().await.unwrap();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        (r.status(), r.text().await.unwrap(), location)
    }

    /// Posts a form from the console's own origin.
    pub(crate) async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, Option<String>) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(ORIGIN, &self.base)
            .form(form);
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        let r = req.send().await.unwrap();
        if let Some(set) = r.headers().get(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = Some(pair);
        }
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        (r.status(), r.text().await.unwrap(), location)
    }
}

/// The value of the first `form_token` field of a page.
pub(crate) fn form_token(page: &str) -> String {
    let at = page
        .find("name=\"form_token\" value=\"")
        .expect("a form token")
        + 25;
    page[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn an_operator_finds_a_stuck_order_and_acts_on_it() {
    let app = spawn_app_with(Options::fast_retries()).await;
    app.set_stock("A", 10).await;
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 1000);
    // No `/`: the test's own API helper puts the id in a path as it is.
    let hostile = "<b>x&\"'";
    app.sim.place_order(hostile, &[("A", 1, 100)]);
    app.wait_order(hostile, |o| !o["attention"].is_null()).await;
    let mut b = Browser::new(&app);

    // Not logged in: the login page, then back.
    let (status, _, to) = b.get("/console/orders?attention=1").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        to.as_deref().unwrap().starts_with("/console/login?next="),
        "{to:?}"
    );
    let (status, _, to) = b
        .post(
            "/console/login",
            &[("token", "wrong"), ("next", "/console/orders")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.unwrap().contains("failed=1"));
    assert!(b.cookie.is_none());
    let (status, _, to) = b
        .post(
            "/console/login",
            &[("token", ADMIN_TOKEN), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(
        (status, to.as_deref()),
        (StatusCode::SEE_OTHER, Some("/console/")),
        "an outside next is ignored: the home"
    );
    assert!(b.cookie.is_some());

    // The search finds it, escaped, in Japanese.
    let (status, list, _) = b.get("/console/orders?attention=1").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(list.contains("要対応") && list.contains("検索"), "{list}");
    assert!(!list.contains("<b>x"), "the hostile id is escaped: {list}");
    assert!(list.contains("&lt;b&gt;x&amp;&quot;&#39;"), "{list}");
    let href = "/console/orders/jgoods/%3Cb%3Ex%26%22%27";
    assert!(list.contains(href), "{list}");

    // The order page: history, the dead call with its forms.
    let (status, page, _) = b.get(href).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("id=\"history\"") && page.contains("id=\"calls\""),
        "{page}"
    );
    assert!(!page.contains("<b>x"), "{page}");
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    let call = dead["outbox"][0]["id"].as_i64().unwrap();
    assert!(
        page.contains(&format!("/console/outbox/{call}/drop")),
        "{page}"
    );
    let token = form_token(&page);

    // A stale form and a post from another site are refused.
    let (status, _, _) = b
        .post(
            &format!("/console/outbox/{call}/drop?back=jgoods/x"),
            &[("form_token", "stale"), ("reason", "r")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let cross = b
        .http
        .post(format!("{}/console/outbox/{call}/drop", b.base))
        .header(ORIGIN, "https://evil.example")
        .header(COOKIE, b.cookie.clone().unwrap())
        .form(&[("form_token", token.as_str()), ("reason", "r")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/outbox?state=dead").await.1["outbox"][0]["id"],
        call
    );

    // Drop the call: the page shows it dropped and the order says it was never made.
    let back = "jgoods/%3Cb%3Ex%26%22%27";
    let (status, _, to) = b
        .post(
            &format!("/console/outbox/{call}/drop?back={back}"),
            &[("form_token", &token), ("reason", "J-goods で手入力")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some(href));
    let o = app.order(hostile).await.unwrap();
    assert!(
        o["attention"]
            .as_str()
            .unwrap()
            .contains("送信していません"),
        "{o}"
    );
    let (_, page, _) = b.get(href).await;
    assert!(page.contains("を取り下げました"), "{page}");

    // Acknowledge the attention: cleared in the store, gone from the page.
    let (status, _, _) = b
        .post(
            &format!("{href}/ack"),
            &[("form_token", &token), ("note", "手入力済み")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(app.order(hostile).await.unwrap()["attention"].is_null());
    let (_, page, _) = b.get(href).await;
    assert!(
        !page.contains("id=\"attention\"") && page.contains("手入力済み"),
        "{page}"
    );

    // A confirmed order ships from its page: a carrier from the list, a date as people type it.
    app.sim.clear_faults();
    app.sim.place_order("JGOK1", &[("A", 1, 100)]);
    app.wait_state("JGOK1", "confirmed", "deferred").await;
    let (_, page, _) = b.get("/console/orders/jgoods/JGOK1").await;
    assert!(
        page.contains("id=\"ship\"") && page.contains("<option value=\"yamato\">"),
        "{page}"
    );
    let (status, body, _) = b
        .post(
            "/console/orders/jgoods/JGOK1/ship",
            &[
                ("form_token", &token),
                ("carrier", "yamato"),
                ("tracking", "1234-5678-9012"),
                ("date", "2026/12/03"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let o = app.order("JGOK1").await.unwrap();
    assert_eq!(o["state"], "shipped", "{o}");
    assert_eq!(o["shipments"][0]["shipped_on"], "2026-12-03");
    let (_, page, _) = b.get("/console/orders/jgoods/JGOK1").await;
    assert!(
        page.contains("1234-5678-9012") && !page.contains("id=\"ship\""),
        "{page}"
    );

    // Logging out ends the session; the old cookie opens nothing.
    let (status, _, _) = b.post("/console/logout", &[("form_token", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = b.get("/console/orders").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    b.cookie = Some("ordersync_console=forged".into());
    let (status, _, _) = b.get("/console/orders").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.stop().await;
}

/// The search pages newest first and filters by state and id.
#[tokio::test]
async fn the_order_search_pages_newest_first() {
    let app = spawn_app().await;
    app.set_stock("A", 100).await;
    for i in 0..60 {
        app.sim.place_order(&format!("P{i:03}"), &[("A", 1, 100)]);
    }
    app.wait_state("P059", "confirmed", "deferred").await;
    for i in 0..60 {
        app.wait_state(&format!("P{i:03}"), "confirmed", "deferred")
            .await;
    }
    let mut b = Browser::new(&app);
    b.post("/console/login", &[("token", ADMIN_TOKEN)]).await;
    let (_, first, _) = b.get("/console/orders?state=confirmed").await;
    let ids = |page: &str| -> Vec<String> {
        page.match_indices(">P0")
            .map(|(i, _)| page[i + 1..i + 5].to_string())
            .collect()
    };
    let page1 = ids(&first);
    assert_eq!(page1.len(), 50, "{first}");
    let at = first.find("before=").expect("a next page");
    let next: String = first[at..].split('"').next().unwrap().replace("&amp;", "&");
    let (_, second, _) = b.get(&format!("/console/orders?{next}")).await;
    let page2 = ids(&second);
    assert_eq!(page2.len(), 10, "{second}");
    assert!(
        page1
            .iter()
            .chain(&page2)
            .collect::<std::collections::HashSet<_>>()
            .len()
            == 60
    );
    let (_, one, _) = b.get("/console/orders?id=P007").await;
    assert_eq!(ids(&one), ["P007"]);
    // By SKU, and by the day they arrived (as people type a date).
    app.set_stock("B", 5).await;
    app.sim.place_order("PB01", &[("B", 1, 100)]);
    app.wait_state("PB01", "confirmed", "deferred").await;
    let (_, by_sku, _) = b.get("/console/orders?sku=B").await;
    assert!(
        by_sku.contains(">PB01<") && ids(&by_sku).is_empty(),
        "{by_sku}"
    );
    let today = ordersync::domain::time::now().date_naive();
    let (_, today_page, _) = b
        .get(&format!(
            "/console/orders?from={}&to={}",
            today.format("%Y/%m/%d"),
            today.format("%Y-%m-%d")
        ))
        .await;
    assert_eq!(
        ids(&today_page).len(),
        49,
        "50 a page, PB01 first: {today_page}"
    );
    let yesterday = today - chrono::Days::new(1);
    let (_, before, _) = b.get(&format!("/console/orders?to={yesterday}")).await;
    assert!(before.contains("該当する受注はありません"), "{before}");
    let (status, _, _) = b.get("/console/orders?from=2026-13-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, none, _) = b.get("/console/orders?state=shipped").await;
    assert!(none.contains("該当する受注はありません"), "{none}");
    let (status, _, _) = b.get("/console/orders?state=bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A script may send the admin token itself, as to the API.
    let scripted = app
        .http
        .get(format!("{}/console/orders?id=P007", app.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status(), StatusCode::OK);
    let wrong = Browser::new(&app)
        .http
        .get(format!("{}/console/orders", app.admin_url))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.status(),
        StatusCode::SEE_OTHER,
        "a wrong token is sent to the login"
    );
    app.stop().await;
}

/// The Problems page gathers what needs a person; the Stock page shows the
/// mirror, the low SKUs and what each channel is still owed.
#[tokio::test]
async fn problems_and_stock_pages_show_what_needs_a_person() {
    let app = spawn_app_with(Options::fast_retries()).await;
    let mut b = Browser::new(&app);
    b.post("/console/login", &[("token", ADMIN_TOKEN)]).await;
    let (_, calm, _) = b.get("/console/problems").await;
    assert!(calm.contains("対応が必要なものはありません"), "{calm}");

    app.set_stock("A", 3).await;
    app.set_stock("ZZZ-9", 50).await;
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 1000);
    app.sim.place_order("JGP1", &[("A", 2, 100)]);
    app.wait_order("JGP1", |o| !o["attention"].is_null()).await;
    let forged = [
        (
            "X-JGoods-Timestamp",
            chrono::Utc::now().timestamp().to_string(),
        ),
        ("X-JGoods-Signature", format!("v1={}", "0".repeat(64))),
    ];
    for _ in 0..3 {
        app.post_webhook(br#"{"order_no":"JGP1"}"#, &forged).await;
    }
    // The refused deliveries show on the order they name, with why.
    let (_, order, _) = b.get("/console/orders/jgoods/JGP1").await;
    let received = &order[order.find("id=\"webhooks\"").unwrap()..];
    assert!(
        received.contains("拒否") && received.contains("unauthorized"),
        "{order}"
    );
    let (status, page, _) = b.get("/console/problems").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("href=\"/console/orders/jgoods/JGP1\""),
        "{page}"
    );
    assert!(
        page.contains("jgoods_put_order") && page.contains("J-goods secret mismatch?"),
        "{page}"
    );

    let (_, stock, _) = b.get("/console/stock").await;
    assert!(
        stock.contains("<td>A</td><td>3</td><td>2</td><td>1</td>"),
        "{stock}"
    );
    assert!(
        stock.contains("ZZZ-9") && stock.contains("id=\"low\""),
        "{stock}"
    );
    let (_, from, _) = b.get("/console/stock?from=ZZZ").await;
    let table = &from[from.find("id=\"stock\"").unwrap()..];
    assert!(
        table.contains("ZZZ-9") && !table.contains("<td>A</td>"),
        "{from}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_poller_behind_shows_on_the_problems_page() {
    let app = spawn_app().await;
    // After the sweep's first turn at start-up, its last success is made
    // old: the next turn is 10 minutes away.
    eventually(std::time::Duration::from_millis(20), || async {
        let seen = app
            .daemon()
            .store
            .read(|c| ordersync::store::kv::get(c, "poll.jgoods.last_success"))
            .await
            .unwrap();
        seen.map(drop).ok_or_else(|| "no sweep yet".to_string())
    })
    .await;
    app.daemon()
        .store
        .write(|tx| {
            ordersync::store::kv::set(
                tx,
                "poll.jgoods.last_success",
                "2026-01-01T00:00:00+09:00",
                "2026-01-01T00:00:00+09:00",
            )
        })
        .await
        .unwrap();
    let (_, page) = app
        .admin(reqwest::Method::GET, "/console/problems", None)
        .await;
    let page = page.as_str().unwrap_or_default();
    assert!(
        page.contains("id=\"pollers\"") && page.contains("jgoods"),
        "{page}"
    );
    app.stop().await;
}

/// The address the READMEs give, `/console/`, leads to the console as
/// `/console` does; the status page links to it; a page the listener does
/// not have answers a browser with a page and a way home, the API with JSON.
#[tokio::test]
async fn the_console_is_found_where_the_guides_say() {
    let app = spawn_app().await;
    let b = Browser::new(&app);
    let (status, _, location) = b.get("/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/console/"));
    let (status, _, location) = b.get("/console/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some("/console/login?next=%2Fconsole%2F")
    );
    let (status, page, _) = b.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/console/\""), "{page}");

    let http = reqwest::Client::new();
    let asked = |path: &str, accept: &str| {
        http.get(format!("{}{path}", app.admin_url))
            .header(reqwest::header::ACCEPT, accept.to_string())
            .send()
    };
    let html = "text/html,application/xhtml+xml,*/*;q=0.8";
    let r = asked("/console/nope", html).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("ページが見つかりません") && page.contains("href=\"/\""),
        "{page}"
    );
    for (path, accept) in [("/api/v1/nope", html), ("/nope", "application/json")] {
        let r = asked(path, accept).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error"].is_object() || body["error"].is_string(),
            "{path}: {body}"
        );
    }
}

/// The home at `/console/`: today's orders per channel counted by the
/// Japanese day (an order at 23:59:59 the day before is not today's, one at
/// 00:00:00 is), an order that needs a person linked to where it is
/// handled, a waiting call's age, and the chart's 24 bars with their numbers.
#[tokio::test]
async fn the_home_shows_today_what_needs_a_person_and_what_waits() {
    let app = spawn_app_with(Options::fast_retries()).await;
    app.set_stock("A", 10).await;
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 1000);
    app.sim.place_order("JG-STUCK-1", &[("A", 1, 100)]);
    app.wait_order("JG-STUCK-1", |o| !o["attention"].is_null())
        .await;

    let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    let now = chrono::Utc::now().with_timezone(&jst);
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(jst)
        .unwrap();
    let at = |t: chrono::DateTime<chrono::FixedOffset>| {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let (yesterday, today) = (at(midnight - chrono::Duration::seconds(1)), at(midnight));
    // Orders written as the daemon writes them, at times the clock cannot
    // be asked for; and a call first due two hours ago, next tried tomorrow.
    let waiting_since = now.timestamp_millis() - 2 * 3600 * 1000 - 5 * 60 * 1000;
    app.daemon()
        .store
        .write(move |tx| {
            for (id, created) in [("R-LATE", &yesterday), ("R-EARLY", &today)] {
                tx.execute(
                    "INSERT INTO orders (channel, id, state, payment_state, created_at, updated_at)
                     VALUES ('rakuten', ?1, 'new', 'unpaid', ?2, ?2)",
                    rusqlite::params![id, created],
                )?;
            }
            tx.execute(
                "INSERT INTO outbox (provider, kind, payload, state, next_attempt_ms, budget_from_ms,
                                     created_at, updated_at)
                 VALUES ('komoju', 'komoju_capture', '{}', 'pending', ?1, ?2, ?3, ?3)",
                rusqlite::params![waiting_since + 86_400_000 * 2, waiting_since, today],
            )?;
            Ok(())
        })
        .await
        .unwrap();

    let mut b = Browser::new(&app);
    let (status, _, to) = b.get("/console/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    assert!(to.starts_with("/console/login?next="), "{to}");
    let (_, _, landed) = b
        .post(
            "/console/login",
            &[("token", ADMIN_TOKEN), ("next", "/console/")],
        )
        .await;
    assert_eq!(landed.as_deref(), Some("/console/"));
    let (status, home, _) = b.get("/console/").await;
    assert_eq!(status, StatusCode::OK, "{home}");

    // Today's orders per channel, by the Japanese day.
    let count_of = |channel: &str| -> Option<i64> {
        let li = home
            .split(&format!("<li data-channel=\"{channel}\">"))
            .nth(1)?;
        let n = li
            .split("<span class=\"count\">")
            .nth(1)?
            .split('<')
            .next()?;
        n.parse().ok()
    };
    assert_eq!(count_of("rakuten"), Some(1), "{home}");
    assert_eq!(count_of("jgoods"), Some(1), "{home}");
    assert!(home.contains("本日の受注"), "{home}");

    // What needs a person, linked to where it is handled.
    assert!(
        home.contains("href=\"/console/orders?attention=1\">要対応の受注 1件</a>"),
        "{home}"
    );
    assert!(home.contains("href=\"/console/problems#dead\""), "{home}");

    // The waiting call and its age.
    let oldest = home.split("id=\"oldest-call\">").nth(1).unwrap_or_default();
    assert!(
        oldest.starts_with("最も古いものは <strong>2時間5分</strong>"),
        "{home}"
    );

    // The last contact: the order's webhook from J-goods.
    assert!(home.contains("data-provider=\"jgoods\""), "{home}");

    // The chart: inline SVG with a title, 24 bars, each with its number.
    let svg = home
        .split("<svg")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert!(svg.contains("<title id=\"chart-title\">"), "{svg}");
    assert_eq!(svg.matches("<rect class=\"bar\"").count(), 24, "{svg}");
    let midnight_bar = svg
        .split("<title>0時台: ")
        .nth(1)
        .and_then(|s| s.split('件').next())
        .and_then(|n| n.parse::<i64>().ok());
    assert!(midnight_bar.is_some_and(|n| n >= 1), "{svg}");
    assert!(!home.contains("<script"), "{home}");
    app.stop().await;
}
