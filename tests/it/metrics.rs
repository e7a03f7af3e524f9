//! `GET /metrics`: the exposition parses line by line and carries every
//! metric family once there has been traffic.

use ordersync_sim::jgoods::{Endpoint, Fault};

use crate::helpers::*;

/// One sample line: `name{label="value",...} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `key="value",...` (values may hold escaped quotes).
fn parse_labels(mut s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = vec![];
    while !s.is_empty() {
        let (key, rest) = s.split_once("=\"").ok_or(format!("no =\" in {s:?}"))?;
        if !is_metric_name(key) {
            return Err(format!("bad label name {key:?}"));
        }
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err("dangling escape".into()),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated value in {s:?}")),
            }
        };
        out.push((key.to_string(), value));
        s = &rest[end + 1..];
        s = s.strip_prefix(',').unwrap_or(s);
    }
    Ok(out)
}

/// Checks every line of an OpenMetrics text exposition: a `# HELP`, `# TYPE`,
/// `# UNIT` comment, the closing `# EOF`, or a sample with a numeric value.
fn parse_exposition(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = vec![];
    let mut saw_eof = false;
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if saw_eof {
            return Err(at("content after # EOF".into()));
        }
        if line == "# EOF" {
            saw_eof = true;
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name) = (parts.next(), parts.next());
            if !matches!(kind, Some("HELP" | "TYPE" | "UNIT")) || !name.is_some_and(is_metric_name)
            {
                return Err(at("unknown comment".into()));
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or_else(|| at("no value".into()))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().map_err(|_| at(format!("value {v:?}")))?,
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .ok_or_else(|| at("unclosed {".into()))?;
                (name, parse_labels(inner).map_err(at)?)
            }
            None => (series, vec![]),
        };
        if !is_metric_name(name) {
            return Err(at(format!("bad name {name:?}")));
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    if !saw_eof {
        return Err("no # EOF".into());
    }
    Ok(samples)
}

#[test]
fn the_parser_refuses_what_is_not_an_exposition() {
    assert!(parse_exposition("a 1\n# EOF\n").is_ok());
    assert!(parse_exposition("a{b=\"c\\\"d\",e=\"f\"} 1.5\n# EOF").is_ok());
    for bad in [
        "a 1\n",
        "a one\n# EOF",
        "a{b=c} 1\n# EOF",
        "# NOTE a\n# EOF",
        "1a 2\n# EOF",
    ] {
        assert!(parse_exposition(bad).is_err(), "{bad:?}");
    }
}

/// Before any event, the series alerts and `rate()` look at are there at 0.
#[tokio::test]
async fn the_series_known_in_advance_are_there_at_start_up() {
    let app = spawn_app().await;
    let text = app.metrics().await;
    let samples = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let zero = |name: &str, labels: &[(&str, &str)]| {
        let found = samples
            .iter()
            .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)));
        assert_eq!(
            found.map(|s| s.value),
            Some(0.0),
            "{name} {labels:?} in\n{text}"
        );
    };
    for provider in ["jgoods", "komoju"] {
        for result in ["processed", "duplicate", "unauthorized"] {
            zero(
                "ordersync_webhooks_total",
                &[("provider", provider), ("result", result)],
            );
        }
    }
    zero("ordersync_decisions_total", &[("kind", "order.allocated")]);
    zero("ordersync_provider_problem", &[("provider", "rakuten_pay")]);
    zero(
        "ordersync_provider_call_errors_total",
        &[("provider", "jgoods"), ("code", "transient")],
    );
    zero(
        "ordersync_stock_push_calls_total",
        &[("channel", "rakuten"), ("result", "error")],
    );
    zero("ordersync_stock_push_owed", &[("channel", "jgoods")]);
    assert!(
        !samples
            .iter()
            .any(|s| s.name == "ordersync_rakuten_license_days_left"),
        "no made-up licence expiry"
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_parse_and_cover_every_family_after_traffic() {
    let app = spawn_app().await;
    app.set_stock("A", 5).await;
    app.set_stock("B", 2).await;
    // One post-back fails once (a provider error), then goes through.
    app.sim.inject(Endpoint::PutOrder, Fault::Status(503), 1);
    app.sim.place_order("MX1", &[("A", 2, 100)]);
    app.wait_state("MX1", "confirmed", "deferred").await;
    let (status, _) = app
        .post_webhook(b"{}", &[("X-Jgoods-Signature", "sha256=00".into())])
        .await;
    assert!(
        (400..500).contains(&status),
        "unsigned webhook got {status}"
    );

    let resp = app
        .http
        .get(format!("{}/metrics", app.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let samples = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let find = |name: &str, pred: &dyn Fn(&Sample) -> bool| -> &Sample {
        samples
            .iter()
            .find(|s| s.name == name && pred(s))
            .unwrap_or_else(|| panic!("no {name} sample as expected in\n{text}"))
    };
    let jgoods = |s: &Sample| s.label("provider") == Some("jgoods");
    // The order's webhook, and J-goods' own after its status changed.
    assert!(
        find("ordersync_webhooks_total", &|s| jgoods(s)
            && s.label("result") == Some("processed"))
        .value
            >= 1.0
    );
    find("ordersync_webhooks_total", &|s| {
        jgoods(s) && !matches!(s.label("result"), Some("processed" | "duplicate"))
    });
    assert!(
        samples
            .iter()
            .any(|s| s.name == "ordersync_decisions_total" && s.value >= 1.0),
        "decisions are counted"
    );
    assert_eq!(find("ordersync_outbox_pending", &|_| true).value, 0.0);
    assert_eq!(find("ordersync_outbox_dead", &|_| true).value, 0.0);
    find("ordersync_outbox_oldest_pending_seconds", &|_| true);
    find("ordersync_orders_attention", &|_| true);
    assert!(
        find("ordersync_provider_call_duration_seconds_count", &jgoods).value >= 2.0,
        "the failed and the successful PUT are timed"
    );
    find("ordersync_provider_call_duration_seconds_bucket", &|s| {
        jgoods(s) && s.label("le") == Some("+Inf")
    });
    assert_eq!(
        find("ordersync_provider_call_errors_total", &|s| jgoods(s)
            && s.label("code") == Some("transient"))
        .value,
        1.0
    );
    find("ordersync_poll_last_success_age_seconds", &jgoods);
    // Without a known expiry there is no days-left series (a made-up 0 would page someone).
    assert!(
        !samples
            .iter()
            .any(|s| s.name == "ordersync_rakuten_license_days_left"),
        "{text}"
    );
    assert_eq!(
        find("ordersync_rakuten_license_check_refused", &|_| true).value,
        0.0
    );
    assert_eq!(find("ordersync_provider_problem", &jgoods).value, 0.0);
    assert_eq!(
        find("ordersync_stock_available", &|s| s.label("sku")
            == Some("A"))
        .value,
        3.0
    );
    assert_eq!(
        find("ordersync_stock_available", &|s| s.label("sku")
            == Some("B"))
        .value,
        2.0
    );
    // The store writer: every write above shared a commit, and the commit
    // (the fsync) is part of the writer's busy time.
    let commits = find("ordersync_store_commits_total", &|_| true).value;
    let writes = find("ordersync_store_writes_total", &|_| true).value;
    assert!(commits >= 3.0, "stock twice and the order: {commits}");
    assert!(writes >= commits, "{writes} writes in {commits} commits");
    let commit = find("ordersync_store_commit_seconds_total", &|_| true).value;
    let busy = find("ordersync_store_writer_busy_seconds_total", &|_| true).value;
    assert!(
        commit > 0.0 && busy >= commit,
        "commit {commit} s, busy {busy} s"
    );
    app.stop().await;
}
