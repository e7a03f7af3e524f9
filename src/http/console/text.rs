//! The console's words in the operator's language (`[daemon] language`),
//! and times as people read them: "3分前" / "3 min ago", "2026-12-03 10:15" (JST).

use chrono::{DateTime, FixedOffset};

use crate::config::Language;
use crate::domain::time;

/// The Japanese or the English text.
pub fn t(lang: Language, ja: &'static str, en: &'static str) -> &'static str {
    crate::wording::say(lang, ja, en)
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

/// A payment state in the operator's words.
pub fn payment(lang: Language, s: &str) -> String {
    match crate::domain::PaymentState::parse(s) {
        Some(p) => crate::wording::payment_state(lang, p).to_string(),
        None => s.to_string(),
    }
}

/// A call's or a received webhook's state in the operator's words.
pub fn call_state(lang: Language, s: &str) -> String {
    crate::wording::call_state(lang, s)
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
        assert_eq!(payment(Language::Ja, "deferred"), "J-goods 精算");
        assert_eq!(payment(Language::En, "paid"), "paid");
    }
}
