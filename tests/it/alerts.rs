//! Alerts as the operator receives them: mail through a local SMTP server
//! (STARTTLS, AUTH, the server's own authority in `ca_file`) and a local
//! Slack-style webhook receiver. Each cause is told once, clearing is told,
//! several causes go in one digest, the hourly limit holds, and a restart
//! neither loses what was owed nor repeats what was told.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::attention::order_with_a_dead_call;
use crate::helpers::*;
use crate::mail_server::{HookReceiver, MailServer};

const SMTP_USER: &str = "alerts@example.jp";
const SMTP_PASSWORD: &str = "smtp-pass-9f2c";

struct Receivers {
    smtp: MailServer,
    hook: HookReceiver,
    _dir: tempfile::TempDir,
    section: String,
}

/// Both receivers and the `[alerts]` section that points at them; `extra`
/// goes in `[alerts]`.
async fn receivers(extra: &str) -> Receivers {
    receivers_accepting(extra, SMTP_PASSWORD).await
}

/// [`receivers`] whose mail server accepts `password` (the config always
/// gives [`SMTP_PASSWORD`]).
async fn receivers_accepting(extra: &str, password: &str) -> Receivers {
    let smtp = MailServer::start(SMTP_USER, password).await;
    let hook = HookReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("mail-ca.pem");
    std::fs::write(&ca, &smtp.ca_pem).unwrap();
    let section = format!(
        r#"
[alerts]
enabled = true
name = "テスト店"
check_interval = "100ms"
console_url = "http://console.example:8081"
{extra}

[alerts.email]
smtp_host = "localhost"
smtp_port = {port}
username = "{SMTP_USER}"
password = "{SMTP_PASSWORD}"
from = "ordersync <ordersync@example.jp>"
to = ["tenchou@example.jp"]
ca_file = "{ca}"

[alerts.webhook]
url = "{url}"
"#,
        port = smtp.port,
        ca = ca.display(),
        url = hook.url(),
    );
    Receivers {
        smtp,
        hook,
        _dir: dir,
        section,
    }
}

async fn app_told_by(r: &Receivers) -> TestApp {
    spawn_app_with(Options {
        sections: r.section.clone(),
        ..Options::fast_retries()
    })
    .await
}

/// The line a message gives a cause: `— jgoods JGA1` for an order, `— #5`
/// for a call.
fn told(texts: &[String], subject: &str) -> usize {
    let line = format!("— {subject}\n");
    texts.iter().map(|t| t.matches(&line).count()).sum()
}

fn mail_texts(r: &Receivers) -> Vec<String> {
    r.smtp
        .mails()
        .iter()
        .map(|m| format!("{}\n{}", m.subject(), m.body()))
        .collect()
}

/// Waits until both destinations have told `subject` at least once.
async fn wait_told(r: &Receivers, subject: &str) {
    eventually(Duration::from_millis(50), || async {
        let (mail, hook) = (mail_texts(r), r.hook.texts());
        match (told(&mail, subject), told(&hook, subject)) {
            (0, _) | (_, 0) => Err(format!(
                "{subject} not told by both: mail {mail:#?} webhook {hook:#?}"
            )),
            _ => Ok(()),
        }
    })
    .await
}

#[tokio::test]
async fn each_cause_is_told_once_by_mail_and_webhook_and_its_end_is_told_too() {
    let r = receivers(r#"digest_interval = "0s""#).await;
    let app = app_told_by(&r).await;
    let call = order_with_a_dead_call(&app, "JGA1").await;
    wait_told(&r, "jgoods JGA1").await;
    wait_told(&r, &format!("#{call}")).await;

    let mail = &r.smtp.mails()[0];
    assert_eq!(mail.user, SMTP_USER, "sent after AUTH, over STARTTLS");
    assert_eq!(mail.rcpt, ["<tenchou@example.jp>"]);
    assert!(
        mail.subject().starts_with("[ordersync テスト店] "),
        "{}",
        mail.subject()
    );
    let body = mail_texts(&r).join("\n");
    assert!(
        body.contains("http://console.example:8081/console/orders/jgoods/JGA1"),
        "{body}"
    );
    assert!(
        body.contains("要対応の受注 / Order needs attention"),
        "{body}"
    );

    // A second cause is told, and by then the first was looked at again
    // many times without being told again.
    let second = order_with_a_dead_call(&app, "JGA2").await;
    wait_told(&r, "jgoods JGA2").await;
    wait_told(&r, &format!("#{second}")).await;
    for texts in [mail_texts(&r), r.hook.texts()] {
        assert_eq!(told(&texts, "jgoods JGA1"), 1, "{texts:#?}");
        assert_eq!(told(&texts, &format!("#{call}")), 1, "{texts:#?}");
    }

    // The operator answers: the call made after all, the order acknowledged.
    app.sim.clear_faults();
    let (status, body) = app
        .admin(Method::POST, &format!("/api/v1/outbox/{call}/retry"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_millis(50), || async {
        let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
        match dead["outbox"].as_array().map(Vec::len) {
            Some(1) => Ok(()),
            _ => Err(format!("the retried call is still dead: {dead}")),
        }
    })
    .await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/v1/orders/jgoods/JGA1/ack",
            Some(json!({"note": "J-goods に電話で確認", "by": "山田"})),
        )
        .await;
    assert!(status == 200 || status == 409, "{status} {body}");
    eventually(Duration::from_millis(50), || async {
        let (mail, hook) = (mail_texts(&r), r.hook.texts());
        let resolved = |texts: &[String], s: &str| {
            texts
                .iter()
                .filter(|t| t.contains("Resolved"))
                .any(|t| t.contains(&format!("— {s}\n")))
        };
        let call = format!("#{call}");
        match ["jgoods JGA1", call.as_str()]
            .iter()
            .all(|s| resolved(&mail, s) && resolved(&hook, s))
        {
            true => Ok(()),
            false => Err(format!("not told resolved: {mail:#?} {hook:#?}")),
        }
    })
    .await;

    let (status, report) = app.get("/api/v1/alerts").await;
    assert_eq!(status, 200);
    let open: Vec<&str> = report["open"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["cause"].as_str())
        .collect();
    assert!(open.contains(&"order:jgoods:JGA2"), "{report}");
    assert!(!open.contains(&"order:jgoods:JGA1"), "{report}");
    let sent_to = |d: &str| {
        report["sent"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["destination"] == d)
    };
    assert!(sent_to("email") && sent_to("webhook"), "{report}");
    let listed = app.cli(&["alerts", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("order:jgoods:JGA2"), "{listed}");
    assert!(listed.starts_with("未解決の問題 (2):"), "{listed}");
    assert!(listed.contains("送った通知(新しい順):"), "{listed}");
    app.stop().await;
}

#[tokio::test]
async fn a_restart_neither_loses_what_is_owed_nor_repeats_what_was_told() {
    let r = receivers(r#"digest_interval = "0s""#).await;
    r.hook.fail(true);
    let mut app = app_told_by(&r).await;
    order_with_a_dead_call(&app, "JGR1").await;
    eventually(Duration::from_millis(50), || async {
        let mailed = told(&mail_texts(&r), "jgoods JGR1");
        let status = app.cli(&["status"]);
        let status = String::from_utf8_lossy(&status.stdout).to_string();
        match (mailed, r.hook.refused(), status.contains("alerts.webhook")) {
            (1, 1.., true) => Ok(()),
            other => Err(format!("{other:?}: {status}")),
        }
    })
    .await;

    app.restart().await;
    r.hook.fail(false);
    wait_told(&r, "jgoods JGR1").await;
    order_with_a_dead_call(&app, "JGR2").await;
    wait_told(&r, "jgoods JGR2").await;
    assert_eq!(
        told(&mail_texts(&r), "jgoods JGR1"),
        1,
        "not repeated by mail"
    );
    assert_eq!(told(&r.hook.texts(), "jgoods JGR1"), 1, "owed, told once");
    // The webhook works again: its problem is over.
    eventually(Duration::from_millis(50), || async {
        let status = app.cli(&["status"]);
        let status = String::from_utf8_lossy(&status.stdout).to_string();
        match status.contains("alerts.webhook") {
            false => Ok(()),
            true => Err(status),
        }
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn many_causes_go_in_one_digest_and_the_hourly_limit_holds() {
    let r = receivers("digest_interval = \"0s\"\nmax_per_hour = 2").await;
    r.hook.fail(true);
    let app = app_told_by(&r).await;
    let orders = ["JGD1", "JGD2", "JGD3", "JGD4", "JGD5"];
    for o in orders {
        order_with_a_dead_call(&app, o).await;
    }
    wait_open(&app, "order:jgoods:JGD5").await;
    r.hook.fail(false);
    let digest = eventually(Duration::from_millis(50), || async {
        let texts = r.hook.texts();
        match texts.first() {
            Some(t) => Ok(t.clone()),
            None => Err("nothing received".to_string()),
        }
    })
    .await;
    for o in orders {
        assert!(digest.contains(&format!("— jgoods {o}\n")), "{o}: {digest}");
    }
    assert!(digest.contains("新しい問題"), "{digest}");

    // One more message fits in the hour; after it, what opens is owed.
    order_with_a_dead_call(&app, "JGD6").await;
    eventually(Duration::from_millis(50), || async {
        match r.hook.texts().len() {
            2 => Ok(()),
            n => Err(format!("{n} messages")),
        }
    })
    .await;
    order_with_a_dead_call(&app, "JGD7").await;
    wait_open(&app, "order:jgoods:JGD7").await;
    order_with_a_dead_call(&app, "JGD8").await;
    let report = wait_open(&app, "order:jgoods:JGD8").await;
    assert_eq!(r.hook.texts().len(), 2, "the limit holds: {report}");
    let owed = report["owed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["destination"] == "webhook")
        .map(|o| o["notices"].as_i64().unwrap_or(0));
    assert!(owed.unwrap_or(0) >= 2, "JGD7 is owed: {report}");
    assert!(!r.hook.texts().concat().contains("JGD7"));
    app.stop().await;
}

// Several threads: the command waits for the receivers this test serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_test_reaches_each_destination_or_says_why_not() {
    let r = receivers("").await;
    let app = app_told_by(&r).await;
    let out = app.cli(&["alerts", "test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("送信しました: email") && stdout.contains("送信しました: webhook"),
        "{stdout}"
    );
    assert_eq!(
        r.smtp.mails()[0].subject(),
        "[ordersync テスト店] テスト / Test"
    );
    assert!(r.hook.texts()[0].contains("This is a test"));

    r.hook.fail(true);
    let out = app.cli(&["alerts", "test"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("送れませんでした: webhook") && stderr.contains("500"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("T0KEN"),
        "the webhook URL is a secret: {stderr}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_refused_mail_login_shows_on_status_and_the_webhook_tells_it() {
    let r = receivers_accepting(r#"digest_interval = "0s""#, "the-server-wants-another").await;
    let app = app_told_by(&r).await;
    order_with_a_dead_call(&app, "JGM1").await;
    eventually(Duration::from_millis(50), || async {
        let texts = r.hook.texts();
        let status = app.cli(&["status"]);
        let status = String::from_utf8_lossy(&status.stdout).to_string();
        match (
            told(&texts, "alerts.email") > 0,
            status.contains("alerts.email"),
        ) {
            (true, true) => Ok(()),
            other => Err(format!("{other:?}: {status} {texts:#?}")),
        }
    })
    .await;
    assert!(r.smtp.mails().is_empty());
    assert_eq!(app.cli(&["status"]).status.code(), Some(1));
    app.stop().await;
}

/// Waits until `cause` is open; the report.
async fn wait_open(app: &TestApp, cause: &str) -> Value {
    eventually(Duration::from_millis(50), || async {
        let (_, report) = app.get("/api/v1/alerts").await;
        let open = report["open"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["cause"] == cause);
        match open {
            true => Ok(report),
            false => Err(format!("{cause} not open: {report}")),
        }
    })
    .await
}
