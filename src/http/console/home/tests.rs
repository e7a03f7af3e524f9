use super::*;
use crate::store::stock_push::PushSummary;

fn ctx(lang: Language) -> Ctx {
    Ctx {
        lang,
        now: chrono::DateTime::parse_from_rfc3339("2026-12-08T10:30:00+09:00").unwrap(),
        form_token: String::new(),
    }
}

fn home() -> Home {
    Home {
        status: Status {
            attention: 2,
            calls_pending: 3,
            oldest_call_seconds: Some(2 * 3600 + 5 * 60),
            problems: vec![("rakuten".into(), "<script>x</script>".into())],
            stock_push: vec![PushSummary {
                channel: Channel::Rakuten,
                owed: 4,
                unknown: Vec::new(),
            }],
            ..Default::default()
        },
        short: 1,
        today: vec![("jgoods".into(), 5), ("rakuten".into(), 2)],
        hours: vec![("2026-12-08T00".into(), 3), ("2026-12-08T10".into(), 4)],
        // 90 minutes before `now`.
        owed_since: vec![("rakuten".into(), Some(1_796_693_400_000 - 90 * 60_000))],
        contacts: vec![Contact {
            provider: Provider::Komoju,
            poll: None,
            call: Some("2026-12-08T10:27:00+09:00".into()),
            webhook: Some("2026-12-08T10:20:00+09:00".into()),
        }],
        behind: Vec::new(),
    }
}

#[test]
fn the_home_reads_in_the_operators_language() {
    let ja = render(&ctx(Language::Ja), &home());
    for part in [
        "本日の受注 <span class=\"muted\">2026-12-08</span>",
        "href=\"/console/orders?channel=jgoods&amp;from=2026-12-08&amp;to=2026-12-08\">J-goods</a>: <span class=\"count\">5</span>件",
        ">要対応の受注 2件</a>",
        ">在庫不足で引当できない受注 1件</a>",
        "最も古いものは <strong>2時間5分</strong>待っています。",
        "楽天市場</a>: 4 SKU (最も古いもの 1時間30分)",
        "KOMOJU: 3分前 (2026-12-08 10:27) <span class=\"muted\">(送信)</span>",
        "<title>0時台: 3件</title>",
        "<title>10時台: 4件</title>",
    ] {
        assert!(ja.contains(part), "no {part:?} in {ja}");
    }
    assert!(!ja.contains("<script>"), "escaped: {ja}");

    let en = render(&ctx(Language::En), &home());
    for part in [
        ">Orders needing attention: 2</a>",
        "Rakuten</a>: 4 SKUs (oldest 1 h 30 min)",
        "<title>10:00: 4</title>",
    ] {
        assert!(en.contains(part), "no {part:?} in {en}");
    }
    // Nothing of the English page is Japanese but what came from outside.
    let outside_removed = en.replace("<script>x</script>", "");
    assert!(
        !outside_removed
            .chars()
            .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)
                || ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{en}"
    );
}

#[test]
fn ages_read_as_people_say_them() {
    assert_eq!(age(Language::Ja, 30), "1分未満");
    assert_eq!(age(Language::Ja, 7 * 60), "7分");
    assert_eq!(age(Language::Ja, 2 * 3600 + 5 * 60), "2時間5分");
    assert_eq!(age(Language::Ja, 3 * 86_400 + 4 * 3600), "3日4時間");
    assert_eq!(age(Language::En, 2 * 3600 + 5 * 60), "2 h 5 min");
    assert_eq!(age(Language::En, -5), "under a minute");
}
