//! The words of an alert: one notice as one message, several as a digest;
//! Japanese first (English beside it) unless the console speaks English.

use reqwest::Url;

use crate::config::Language;
use crate::domain::time;
use crate::store::alerts::Notice;

/// The most notices one message lists; the rest are counted.
pub const MAX_LISTED: u32 = 50;

/// A message to send, the same to every destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
}

/// What the words depend on besides the notices.
#[derive(Debug, Clone, Default)]
pub struct Words {
    pub language: Language,
    /// Which shop speaks (`[alerts] name`).
    pub name: Option<String>,
    /// The console, for links.
    pub console_url: Option<String>,
}

/// A kind of cause in the operator's words: (Japanese, English).
fn label(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "order" => ("要対応の受注", "Order needs attention"),
        "call" => ("失敗した送信", "Call failed"),
        "problem" => ("連携先が設定を拒否", "Provider refuses the configuration"),
        "rejected" => ("拒否した Webhook", "Webhooks refused"),
        "poller" => ("取り込みの遅れ", "Poller behind"),
        "licence" => ("ライセンスキーの期限", "Licence key expiring"),
        "item" => ("J-goods が受け付けない商品", "Item J-goods refuses"),
        "breach" => ("在庫の不整合", "Stock invariant broken"),
        _ => ("お知らせ", "Notice"),
    }
}

impl Words {
    fn both(&self, ja: &str, en: &str) -> String {
        match self.language {
            Language::Ja => format!("{ja} / {en}"),
            Language::En => en.to_string(),
        }
    }

    fn prefix(&self) -> String {
        match &self.name {
            Some(n) => format!("[ordersync {n}]"),
            None => "[ordersync]".to_string(),
        }
    }

    /// Where the console shows the cause. The order's channel and id are
    /// percent-encoded whole (all but letters, digits, `-` and `.`): a `|`,
    /// `>` or `)` in an order id would otherwise end the link in a chat.
    fn link(&self, cause: &str) -> Option<String> {
        let mut url = Url::parse(self.console_url.as_deref()?).ok()?;
        if url.cannot_be_a_base() {
            return None;
        }
        let base = url.path().trim_end_matches('/').to_string();
        let page = match cause.strip_prefix("order:").and_then(|r| r.split_once(':')) {
            Some((channel, id)) => format!("orders/{}/{}", encoded(channel), encoded(id)),
            None => "problems".to_string(),
        };
        url.set_path(&format!("{base}/console/{page}"));
        Some(url.to_string())
    }

    /// The message telling `notices` (the oldest first), of `total` owed.
    pub fn compose(&self, notices: &[Notice], total: i64, now: &str) -> Message {
        let opened = notices.iter().filter(|n| !n.cleared).count();
        let cleared = notices.len() - opened;
        let subject = match notices {
            [one] => {
                let (ja, en) = label(&one.alert.kind);
                let what = inert(&subject_of(&one.alert.cause));
                match one.cleared {
                    false => format!("{} {}: {what}", self.prefix(), self.both(ja, en)),
                    true => format!(
                        "{} {}: {what}",
                        self.prefix(),
                        self.both(&format!("解決 {ja}"), &format!("Resolved: {en}"))
                    ),
                }
            }
            _ => format!(
                "{} {}",
                self.prefix(),
                self.both(
                    &format!("新しい問題 {opened}件・解決 {cleared}件"),
                    &format!("{opened} new, {cleared} resolved"),
                )
            ),
        };
        let mut text = String::new();
        for (heading, cleared_ones) in [
            (self.both("新しい問題", "New"), false),
            (self.both("解決しました", "Resolved"), true),
        ] {
            let these: Vec<&Notice> = notices
                .iter()
                .filter(|n| n.cleared == cleared_ones)
                .collect();
            if these.is_empty() {
                continue;
            }
            text.push_str(&format!("■ {heading} ({})\n", these.len()));
            for n in these {
                let (ja, en) = label(&n.alert.kind);
                text.push_str(&format!(
                    "・{} — {}\n  {}\n",
                    self.both(ja, en),
                    inert(&subject_of(&n.alert.cause)),
                    inert(&n.alert.text)
                ));
                if let Some(link) = self.link(&n.alert.cause) {
                    text.push_str(&format!("  {link}\n"));
                }
            }
            text.push('\n');
        }
        let more = total - notices.len() as i64;
        if more > 0 {
            text.push_str(&self.both(
                &format!("ほか {more} 件はコンソールの「問題」でご覧ください"),
                &format!("{more} more: see the console's Problems page"),
            ));
            text.push('\n');
        }
        text.push_str(&format!("{} JST", time::shown(now)));
        Message { subject, text }
    }
}

/// Provider and order text as a chat shows it, inert: no receiver (Slack,
/// Mattermost, Teams, Discord, Google Chat) turns it into a mention or a
/// link. A word joiner (U+2060, invisible) goes after an `@` before a letter
/// (`@channel`, `@here`, `@all`, a user), inside `://` and `www.` (bare
/// URLs) and between `](` (a Markdown link). `<`, `>` and `&` are the Slack
/// sender's to escape.
pub fn inert(text: &str) -> String {
    const JOINER: char = '\u{2060}';
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let next = chars.peek().copied();
        let breaks = match (c, next) {
            ('@', Some(n)) => n.is_alphanumeric(),
            (':', Some('/')) => true,
            (']', Some('(')) => true,
            _ => false,
        };
        if breaks {
            out.push(JOINER);
        }
    }
    // `www.`, any case: a link to Slack and Mattermost even without a scheme.
    // One pass over the text, however many there are.
    let mut result = String::with_capacity(out.len());
    for (i, c) in out.char_indices() {
        result.push(c);
        let www = out
            .get(i.saturating_sub(2)..i + 2)
            .is_some_and(|w| i >= 2 && w.eq_ignore_ascii_case("www."));
        if www {
            result.push(JOINER);
        }
    }
    result
}

/// `part` percent-encoded but for ASCII letters, digits, `-` and `.`.
fn encoded(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What a cause is about, shortly: `jgoods JG-1`, `#12`, `rakuten_pay`.
fn subject_of(cause: &str) -> String {
    let (kind, rest) = cause.split_once(':').unwrap_or((cause, ""));
    match kind {
        "order" => rest.replacen(':', " ", 1),
        "call" => format!("#{rest}"),
        "rejected" => rest.replacen(':', " ", 1),
        _ => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::alerts::AlertRow;

    fn notice(id: i64, cause: &str, kind: &str, cleared: bool) -> Notice {
        Notice {
            id,
            alert: AlertRow {
                cause: cause.into(),
                kind: kind.into(),
                text: "在庫が足りません".into(),
            },
            cleared,
            created_at: String::new(),
        }
    }

    const NOW: &str = "2026-12-07T06:30:00+00:00";

    #[test]
    fn one_notice_is_one_message_with_a_link_to_its_order() {
        let words = Words {
            language: Language::Ja,
            name: Some("本店".into()),
            console_url: Some("http://192.0.2.10:8081/".into()),
        };
        let m = words.compose(&[notice(1, "order:jgoods:JG/1 x", "order", false)], 1, NOW);
        assert_eq!(
            m.subject,
            "[ordersync 本店] 要対応の受注 / Order needs attention: jgoods JG/1 x"
        );
        assert!(
            m.text
                .contains("http://192.0.2.10:8081/console/orders/jgoods/JG%2F1%20x"),
            "{}",
            m.text
        );
        assert!(m.text.contains("在庫が足りません"));
        assert!(m.text.ends_with("2026/12/07 15:30:00 JST"), "{}", m.text);
        let m = words.compose(&[notice(1, "call:12", "call", true)], 1, NOW);
        assert_eq!(
            m.subject,
            "[ordersync 本店] 解決 失敗した送信 / Resolved: Call failed: #12"
        );
        assert!(m.text.contains("/console/problems"));
    }

    /// A provider's error text or an order id cannot mention a channel or
    /// put a link in a chat, and the console link holds whatever the id is.
    #[test]
    fn provider_text_cannot_mention_or_link_and_the_console_link_holds() {
        let words = Words {
            language: Language::Ja,
            name: None,
            console_url: Some("http://192.0.2.10:8081/".into()),
        };
        let mut n = notice(1, "order:jgoods:JG|1>x@here", "order", false);
        n.alert.text = "@channel @here @All [押して](http://evil.example/a) \
                        https://evil.example WWW.evil.example"
            .into();
        let m = words.compose(&[n], 1, NOW);
        let words_of = |t: &str| t.to_lowercase();
        for (text, what) in [(&m.text, "text"), (&m.subject, "subject")] {
            let t = words_of(text);
            for bad in ["@channel", "@here", "@all", "](", "://evil", "www.evil"] {
                assert!(!t.contains(bad), "{what} carries {bad}: {text}");
            }
        }
        assert!(
            m.text
                .contains("http://192.0.2.10:8081/console/orders/jgoods/JG%7C1%3Ex%40here\n"),
            "{}",
            m.text
        );
        // What a person reads is unchanged but for the invisible joiners.
        assert!(
            m.text
                .replace('\u{2060}', "")
                .contains("[押して](http://evil.example/a)")
        );
        // An email address or a time keeps its look.
        assert_eq!(inert("a@b 10:30").replace('\u{2060}', ""), "a@b 10:30");
    }

    #[test]
    fn several_are_one_digest_that_counts_what_it_does_not_list() {
        let words = Words {
            language: Language::En,
            ..Words::default()
        };
        let notices = [
            notice(1, "order:jgoods:A", "order", false),
            notice(2, "order:jgoods:B", "order", false),
            notice(3, "poller:rakuten_pay", "poller", true),
        ];
        let m = words.compose(&notices, 10, NOW);
        assert_eq!(m.subject, "[ordersync] 2 new, 1 resolved");
        assert!(m.text.contains("■ New (2)") && m.text.contains("■ Resolved (1)"));
        assert!(m.text.contains("7 more"), "{}", m.text);
        assert!(!m.text.contains("新しい"));
    }
}
