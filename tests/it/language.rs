//! What a merchant reads is in `[daemon] language`, once, in the trade's
//! words: the commands, the status page and the console, Japanese by
//! default and English with `language = "en"`; a refused credit check is
//! not shown 引当済み with nothing held, and a J-goods order (which J-goods
//! cancels) has no cancel button.

use ordersync_sim::kuroneko::KuronekoSimConfig;
use serde_json::Value;

use crate::console::Browser;
use crate::credit::order;
use crate::helpers::*;

/// A daemon with Kuroneko Atobarai, a refused credit check (K-NG) and a
/// J-goods order, in `language`.
async fn app_in(language: &str) -> TestApp {
    let app = spawn_app_with(Options {
        kuroneko: Some(KuronekoSimConfig::default()),
        kuroneko_extra: "settle_delay = \"0s\"\npoll_interval = \"1h\"".into(),
        daemon_extra: format!("language = \"{language}\"\nhttp_timeout = \"1s\""),
        ..Options::default()
    })
    .await;
    app.set_stock("CR-A", 10).await;
    app.set_stock("A", 10).await;
    let (status, o) = app
        .post(
            "/api/v1/orders",
            order("K-NG", "kuroneko", "NG 花子", 5500, true),
        )
        .await;
    assert_eq!(status, 201, "{o}");
    app.wait_direct("K-NG", |o| o["credit"]["result"] == "ng")
        .await;
    app.sim.place_order("JG-L1", &[("A", 1, 1100)]);
    app.wait_state("JG-L1", "confirmed", "deferred").await;
    app
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

async fn logged_in(app: &TestApp) -> Browser {
    let mut b = Browser::new(app);
    b.post(
        "/console/login",
        &[("token", ADMIN_TOKEN), ("next", "/console/orders")],
    )
    .await;
    assert!(b.cookie.is_some());
    b
}

#[tokio::test]
async fn a_japanese_merchant_reads_japanese_once_and_only_what_is_true() {
    let app = app_in("ja").await;
    let list = stdout(&app.cli(&["orders", "list"]));
    let ng_row = list.lines().find(|l| l.contains("K-NG")).unwrap();
    // Nothing is held after the refusal: not 引当済み.
    assert!(
        ng_row.contains("引当なし") && ng_row.contains("与信NG"),
        "{list}"
    );
    assert!(!ng_row.contains("引当済み"), "{list}");
    let jg_row = list.lines().find(|l| l.contains("JG-L1")).unwrap();
    // J-goods paying against the invoice is not the buyer's 後払い.
    assert!(
        jg_row.contains("確定") && jg_row.contains("J-goods 精算"),
        "{list}"
    );
    for english in [
        "allocated",
        "credit_ng",
        "deferred",
        "CHANNEL",
        "credit NG",
        " / ",
    ] {
        assert!(!list.contains(english), "{english:?} in {list}");
    }
    let show = stdout(&app.cli(&["orders", "show", "direct", "K-NG"]));
    assert!(show.contains("与信NG。1点を在庫に戻しました"), "{show}");
    let attention = show.lines().find(|l| l.starts_with("要対応")).unwrap();
    assert!(!attention.contains(" / "), "said once: {attention}");
    let status = stdout(&app.cli(&["status"]));
    assert!(status.starts_with("受注:"), "{status}");
    assert!(
        !status.contains("outbox") && !status.contains("orders:"),
        "{status}"
    );

    let page = app.status_page().await;
    assert!(
        page.contains("<html lang=\"ja\">") && page.contains("要対応"),
        "{page}"
    );
    assert!(!page.contains("Needs attention"), "{page}");

    // The console offers a cancel only where it would be taken.
    let b = logged_in(&app).await;
    let (_, jgoods, _) = b.get("/console/orders/jgoods/JG-L1").await;
    assert!(jgoods.contains("id=\"actions\""), "{jgoods}");
    assert!(
        !jgoods.contains("id=\"cancel\""),
        "J-goods cancels its own: {jgoods}"
    );
    assert!(jgoods.contains("J-goods 精算"), "{jgoods}");
    let (_, direct, _) = b.get("/console/orders/direct/K-NG").await;
    assert!(direct.contains("id=\"cancel\""), "{direct}");
    assert!(direct.contains("引当なし"), "{direct}");
    app.stop().await;
}

#[tokio::test]
async fn language_en_speaks_english_alone() {
    let app = app_in("en").await;
    let list = stdout(&app.cli(&["orders", "list"]));
    assert!(
        list.contains("nothing held") && list.contains("credit refused"),
        "{list}"
    );
    assert!(list.contains("settled by J-goods"), "{list}");
    // The attention is shown on its English side; no Japanese anywhere.
    assert!(!has_japanese(&list), "{list}");
    let show = stdout(&app.cli(&["orders", "show", "direct", "K-NG"]));
    assert!(
        show.contains("credit refused; 1 unit back in stock"),
        "{show}"
    );
    let status = stdout(&app.cli(&["status"]));
    assert!(
        status.starts_with("orders:") && !has_japanese(&status),
        "{status}"
    );
    let page = app.status_page().await;
    assert!(page.contains("<html lang=\"en\">") && page.contains("Needs attention"));
    let (_, o): (u16, Value) = app.get("/api/v1/orders/direct/K-NG").await;
    // The API keeps its codes whatever the language.
    assert_eq!(o["payment_state"], "credit_ng", "{o}");
    app.stop().await;
}
