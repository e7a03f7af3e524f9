//! What is wrong now, as causes of alerts: read in one store snapshot,
//! then turned into causes and compared with the open ones (pure).

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::config_file::Config;
use crate::status::{self, Detail, Status};
use crate::store::alerts::{self, AlertRow, Change, DeadCall};
use crate::store::{self};

/// The longest text kept for a cause: an attention or an error a provider
/// wrote is bounded before it is mailed to anyone.
const MAX_TEXT: usize = 500;
/// Rakuten entries set aside that become causes at most.
const REFUSED_LIMIT: u32 = 50;

/// What one look at the store saw.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// `(channel, id, attention)` of every order that needs a person.
    pub attention: Vec<(String, String, String)>,
    pub dead: Vec<DeadCall>,
    pub status: Status,
}

impl Observed {
    /// Reads it inside one read transaction.
    pub fn read(c: &Connection) -> store::Result<Observed> {
        let mut status = Status::read(c, Detail::Brief)?;
        // Of the full summary, only what makes causes: the breaches (their
        // cost follows the open reservations, not the orders stored) and the
        // items J-goods refused.
        status.breaches = crate::store::stock::invariant_breaches(c)?;
        status.catalog = crate::store::catalog::summary(c)?;
        // Rakuten stock entries set aside after a refusal, like J-goods'
        // refused items (the rest of the SKU map's report is not a cause).
        let refused = crate::store::rakuten_skus::refused_pairs(c, REFUSED_LIMIT)?;
        if !refused.is_empty() {
            status.rakuten_skus = Some(crate::store::rakuten_skus::MapReport {
                refused,
                ..Default::default()
            });
        }
        Ok(Observed {
            attention: alerts::attention_orders(c)?,
            dead: alerts::dead_calls(c)?,
            status,
        })
    }
}

/// A cause as found now; `quiet` causes change their text (a count, days
/// left) without anyone being told again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub row: AlertRow,
    pub quiet: bool,
}

fn cause(cause: String, kind: &str, text: String, quiet: bool) -> Cause {
    Cause {
        row: AlertRow {
            cause,
            kind: kind.to_string(),
            text: bounded(&text),
        },
        quiet,
    }
}

/// The causes in `seen`: orders that need a person, dead calls, channel-wide
/// problems, refused webhooks at or above `rejected_per_hour` in the last
/// hour, pollers behind, items J-goods refuses, Rakuten stock entries set
/// aside after a refusal, a broken stock invariant,
/// the licence key within 14 days of its end.
pub fn causes(seen: &Observed, config: &Config, rejected_per_hour: u32) -> Vec<Cause> {
    let mut all = Vec::new();
    for (channel, id, attention) in &seen.attention {
        all.push(cause(
            format!("order:{channel}:{id}"),
            "order",
            attention.clone(),
            false,
        ));
    }
    for call in &seen.dead {
        let order = match (&call.channel, &call.order_id) {
            (Some(c), Some(o)) => format!(" (受注 / order {c} {o})"),
            _ => String::new(),
        };
        let error = call.last_error.as_deref().unwrap_or("");
        all.push(cause(
            format!("call:{}", call.id),
            "call",
            format!("#{} {}{order}: {error}", call.id, call.kind),
            false,
        ));
    }
    let s = &seen.status;
    for (what, reason) in &s.problems {
        all.push(cause(
            format!("problem:{what}"),
            "problem",
            reason.clone(),
            false,
        ));
    }
    for r in &s.rejected {
        if r.last_hour >= i64::from(rejected_per_hour) {
            let hint = status::rejected_hint(r);
            all.push(cause(
                format!("rejected:{}:{}", r.provider, r.code),
                "rejected",
                format!(
                    "{} {}: 直近1時間に{}件 / {} in the last hour. {hint}",
                    r.provider, r.code, r.last_hour, r.last_hour
                ),
                true,
            ));
        }
    }
    for poll in &s.polls {
        if Status::is_behind(poll, config) {
            all.push(cause(
                format!("poller:{}", poll.provider),
                "poller",
                format!(
                    "{}: 最後に成功した取得 / last success {}",
                    poll.provider,
                    crate::domain::time::shown(&poll.at)
                ),
                true,
            ));
        }
    }
    if let Some(c) = &s.catalog {
        for (sku, why) in &c.refused {
            all.push(cause(format!("item:{sku}"), "item", why.clone(), false));
        }
    }
    for r in s.rakuten_skus.iter().flat_map(|m| &m.refused) {
        let p = &r.pair;
        all.push(cause(
            format!("rakuten-entry:{}/{}", p.manage_number, p.variant_id),
            "item",
            format!(
                "楽天 / Rakuten {} ({} / {}): {}",
                p.sku, p.manage_number, p.variant_id, r.fix
            ),
            false,
        ));
    }
    if !s.breaches.is_empty() {
        all.push(cause(
            "breach:stock".into(),
            "breach",
            format!(
                "在庫の整合性が崩れています。`ordersync status` を確認してください / a stock invariant does not hold: {}",
                s.breaches.join("; ")
            ),
            true,
        ));
    }
    if s.licence.expiring() {
        let days = s.licence.days_left.unwrap_or_default();
        all.push(cause(
            "licence:rakuten".into(),
            "licence",
            format!(
                "楽天のライセンスキーはあと{days}日で期限です (RMS で新しいキーを発行し rakuten-license-key に書いてください) / \
                 the Rakuten licence key expires in {days} days: issue a new one in RMS"
            ),
            true,
        ));
    }
    all
}

/// How the open alerts change to match `now`: new causes (and those whose
/// text changed, unless quiet) open, causes gone clear.
pub fn diff(open: &[AlertRow], now: &[Cause]) -> Vec<Change> {
    let mut was: BTreeMap<&str, &AlertRow> = open.iter().map(|a| (a.cause.as_str(), a)).collect();
    let mut changes = Vec::new();
    for c in now {
        match was.remove(c.row.cause.as_str()) {
            None => changes.push(Change::Opened(c.row.clone())),
            Some(old) if old.text == c.row.text => {}
            Some(_) if c.quiet => changes.push(Change::Updated(c.row.clone())),
            Some(_) => changes.push(Change::Opened(c.row.clone())),
        }
    }
    changes.extend(was.into_values().map(|a| Change::Cleared(a.clone())));
    changes
}

/// At most [`MAX_TEXT`] characters, control characters as spaces.
fn bounded(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_TEXT)
        .collect();
    if text.chars().count() > MAX_TEXT {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::alerts::order_row as row;

    fn now(cause: &str, text: &str, quiet: bool) -> Cause {
        Cause {
            row: row(cause, text),
            quiet,
        }
    }

    #[test]
    fn a_cause_opens_once_changes_loudly_or_quietly_and_clears_when_gone() {
        let open = [row("a", "x"), row("b", "y"), row("c", "z")];
        let changes = diff(
            &open,
            &[
                now("a", "x", false),
                now("b", "y2", true),
                now("d", "w", false),
            ],
        );
        assert_eq!(
            changes,
            vec![
                Change::Updated(row("b", "y2")),
                Change::Opened(row("d", "w")),
                Change::Cleared(row("c", "z")),
            ]
        );
        let changes = diff(&[row("a", "x")], &[now("a", "other reason", false)]);
        assert_eq!(changes, vec![Change::Opened(row("a", "other reason"))]);
        assert!(
            diff(
                &open,
                &[
                    now("a", "x", false),
                    now("b", "y", false),
                    now("c", "z", true)
                ]
            )
            .is_empty()
        );
    }

    #[test]
    fn texts_are_bounded_and_have_no_control_characters() {
        let long = "長".repeat(600);
        assert_eq!(bounded(&long).chars().count(), MAX_TEXT + 1);
        assert_eq!(bounded("a\r\nSubject: x"), "a  Subject: x");
    }

    #[test]
    fn every_kind_of_cause_is_found() {
        use crate::providers::rakuten_pay::licence::Licence;
        use crate::store::inbox::RejectedSummary;
        let config = Config::from_toml_str(
            "[daemon]\nallow_no_admin_token = true\n",
            std::path::Path::new("/etc/ordersync/config.toml"),
        )
        .unwrap();
        let seen = Observed {
            attention: vec![("jgoods".into(), "JG:1".into(), "在庫不足".into())],
            dead: vec![DeadCall {
                id: 7,
                kind: "jgoods_put_order".into(),
                channel: Some("jgoods".into()),
                order_id: Some("JG:1".into()),
                last_error: Some("503".into()),
            }],
            status: Status {
                problems: vec![("rakuten_pay".into(), "key refused".into())],
                breaches: vec!["A: reserved 2 but open allocations sum to 1".into()],
                rejected: vec![
                    RejectedSummary {
                        provider: "jgoods".into(),
                        code: "unauthorized".into(),
                        count: 3,
                        last_hour: 3,
                        last_at: String::new(),
                    },
                    RejectedSummary {
                        provider: "jgoods".into(),
                        code: "invalid_body".into(),
                        count: 2,
                        last_hour: 2,
                        last_at: String::new(),
                    },
                ],
                licence: Licence {
                    days_left: Some(5),
                    ..Licence::default()
                },
                rakuten_skus: Some(crate::store::rakuten_skus::MapReport {
                    refused: vec![crate::store::rakuten_skus::RefusedPair {
                        pair: crate::store::rakuten_skus::SkuPair {
                            sku: "SKU-Y".into(),
                            manage_number: "yoyaku".into(),
                            variant_id: "y1".into(),
                        },
                        code: "IE1101".into(),
                        fix: "予約商品".into(),
                        since: String::new(),
                    }],
                    ..Default::default()
                }),
                ..Status::default()
            },
        };
        let keys: Vec<String> = causes(&seen, &config, 3)
            .into_iter()
            .map(|c| c.row.cause)
            .collect();
        assert_eq!(
            keys,
            [
                "order:jgoods:JG:1",
                "call:7",
                "problem:rakuten_pay",
                "rejected:jgoods:unauthorized",
                "rakuten-entry:yoyaku/y1",
                "breach:stock",
                "licence:rakuten"
            ]
        );
    }
}
