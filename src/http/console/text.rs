//! The console's words in the operator's language (`[daemon] language`),
//! and times as people read them: "3分前" / "3 min ago", "2026-12-03 10:15" (JST).

use chrono::{DateTime, FixedOffset};

use crate::config::Language;
use crate::domain::time;

/// The Japanese or the English text.
pub fn t(lang: Language, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Ja => ja,
        Language::En => en,
    }
}

/// A stored RFC 3339 time as "2026-12-03 10:15" in Japan time, with how
/// long ago when it is within a day; text that is not a time as it is.
pub fn when(lang: Language, rfc3339: &str, now: DateTime<FixedOffset>) -> String {
    let Ok(at) = DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_string();
    };
    let shown = at
        .with_timezone(&time::jst())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let ago = (now - at).num_seconds();
    let relative = match (ago, lang) {
        (..0, _) => None,
        (0..60, Language::Ja) => Some("たった今".to_string()),
        (0..60, Language::En) => Some("just now".to_string()),
        (60..3600, Language::Ja) => Some(format!("{}分前", ago / 60)),
        (60..3600, Language::En) => Some(format!("{} min ago", ago / 60)),
        (3600..86400, Language::Ja) => Some(format!("{}時間前", ago / 3600)),
        (3600..86400, Language::En) => Some(format!("{} h ago", ago / 3600)),
        _ => None,
    };
    match relative {
        Some(r) => format!("{r} ({shown})"),
        None => shown,
    }
}

/// An order state in the operator's words.
pub fn state(lang: Language, s: &str) -> String {
    let ja = match s {
        "new" => "新規",
        "allocated" => "引当済み",
        "short" => "在庫不足",
        "confirmed" => "確定",
        "shipped" => "出荷済み",
        "cancelled" => "キャンセル",
        _ => return s.to_string(),
    };
    labelled(lang, ja, s)
}

/// `ja (name)` in Japanese, the stored name alone in English.
fn labelled(lang: Language, ja: &str, name: &str) -> String {
    match lang {
        Language::Ja => format!("{ja} ({name})"),
        Language::En => name.to_string(),
    }
}

/// A payment state in the operator's words.
pub fn payment(lang: Language, s: &str) -> String {
    let ja = match s {
        "unpaid" => "未決済",
        "deferred" => "後払い",
        "pending" => "支払い待ち",
        "paid" => "支払い済み",
        "credit_pending" => "与信審査中",
        "credit_ok" => "与信OK",
        "credit_ng" => "与信NG",
        "authorized" => "オーソリ済み",
        "captured" => "売上確定",
        "refunded" => "返金済み",
        _ => return s.to_string(),
    };
    labelled(lang, ja, s)
}

/// A call's or a received webhook's state in the operator's words.
pub fn call_state(lang: Language, s: &str) -> String {
    let ja = match s {
        "pending" => "送信待ち",
        "done" => "完了",
        "dead" => "断念",
        "dropped" => "取り下げ",
        "cancelled" => "取消",
        "processed" => "処理済み",
        "rejected" => "拒否",
        _ => return s.to_string(),
    };
    labelled(lang, ja, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_people_say_them() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:15:00+09:00").unwrap();
        assert_eq!(
            when(Language::Ja, "2026-12-03T10:12:00+09:00", now),
            "3分前 (2026-12-03 10:12)"
        );
        assert_eq!(
            when(Language::En, "2026-12-03T01:12:00Z", now),
            "3 min ago (2026-12-03 10:12)"
        );
        assert_eq!(
            when(Language::Ja, "2026-11-01T09:00:00+09:00", now),
            "2026-11-01 09:00"
        );
        assert_eq!(when(Language::Ja, "<not a time>", now), "<not a time>");
        assert_eq!(state(Language::Ja, "short"), "在庫不足 (short)");
        assert_eq!(payment(Language::Ja, "deferred"), "後払い (deferred)");
        assert_eq!(payment(Language::En, "deferred"), "deferred");
    }
}
