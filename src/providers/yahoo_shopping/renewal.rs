//! The two renewals a person must make: the login (the refresh token works
//! 28 days from it, never extended) and the store key (one year). Yahoo!
//! has no API that tells either date: the login's is recorded by `ordersync
//! yahoo authorize`, the key's is `public_key_expires`. Each is a problem
//! of its own (`yahoo_shopping.login`, `yahoo_shopping.key`) from 7 days
//! (the key: 30 days) before, shown on every surface a person reads.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};

use super::auth::REFRESH_TOKEN_LIFETIME;
use super::config::YahooShoppingConfig;
use crate::domain::{Provider, time};
use crate::problems::ProviderProblems;
use crate::store::{Store, kv};

/// Where `ordersync yahoo authorize` records when the person logged in.
pub const AUTHORIZED_AT_KEY: &str = "yahoo_shopping.authorized_at";
/// The login is warned this long before it ends.
pub const LOGIN_WARNING: TimeDelta = TimeDelta::days(7);
/// The key is warned this long before it ends.
pub const KEY_WARNING: TimeDelta = TimeDelta::days(30);

fn jst_text(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&time::jst())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The login's warning at `now`, `None` while more than 7 days remain.
pub fn login_warning(
    authorized_at: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Option<String> {
    let ends = authorized_at + REFRESH_TOKEN_LIFETIME;
    if now + LOGIN_WARNING < ends {
        return None;
    }
    let at = jst_text(ends);
    Some(if now >= ends {
        format!(
            "Yahoo!の認可が {at} (JST) に切れました。受注を取り込めません。`ordersync yahoo authorize` で\
             ログインし直し、`systemctl reload ordersync` してください / the Yahoo! authorization ended \
             on {at} JST: run `ordersync yahoo authorize`, then reload"
        )
    } else {
        format!(
            "Yahoo!の認可は {at} (JST) に切れます。それまでに `ordersync yahoo authorize` でログインし直し、\
             `systemctl reload ordersync` してください / the Yahoo! authorization ends on {at} JST: run \
             `ordersync yahoo authorize` before, then reload"
        )
    })
}

/// The key's warning on `today`, `None` while more than 30 days remain.
pub fn key_warning(expires: NaiveDate, today: NaiveDate) -> Option<String> {
    if today + KEY_WARNING < expires {
        return None;
    }
    Some(format!(
        "Yahoo!の公開鍵は {expires} に期限切れになります。ストアクリエイターProの暗号鍵管理で次の鍵を発行し、\
         public_key_file・public_key_version・public_key_expires を書き換えて再読み込みしてください / \
         the Yahoo! store key expires on {expires}: issue the next key in 暗号鍵管理 and configure it"
    ))
}

/// Flags or clears both problems from the recorded login and the config.
pub async fn check(store: &Store, problems: &ProviderProblems, cfg: &YahooShoppingConfig) {
    let now = time::now();
    let recorded = store.read(|c| kv::get(c, AUTHORIZED_AT_KEY)).await;
    let login = match recorded {
        Ok(Some(at)) => DateTime::parse_from_rfc3339(&at)
            .ok()
            .and_then(|at| login_warning(at, now)),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read when the Yahoo! login was made");
            return;
        }
    };
    let key = cfg
        .public_key_expires
        .and_then(|d| key_warning(d, now.with_timezone(&time::jst()).date_naive()));
    for (part, warning) in [("login", login), ("key", key)] {
        match warning {
            Some(text) => {
                problems
                    .flag_part(Provider::YahooShopping, part, &text)
                    .await
            }
            None => problems.clear_part(Provider::YahooShopping, part).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_is_warned_from_seven_days_before_its_28() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00+09:00").unwrap();
        assert_eq!(login_warning(at, at + TimeDelta::days(20)), None);
        let soon = login_warning(at, at + TimeDelta::days(21) + TimeDelta::minutes(1)).unwrap();
        assert!(
            soon.contains("2026-12-29 10:00") && soon.contains("ログインし直し"),
            "{soon}"
        );
        let over = login_warning(at, at + TimeDelta::days(29)).unwrap();
        assert!(over.contains("切れました"), "{over}");
    }

    #[test]
    fn the_key_is_warned_from_thirty_days_before() {
        let expires = NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
        assert_eq!(
            key_warning(expires, NaiveDate::from_ymd_opt(2027, 5, 1).unwrap()),
            None
        );
        let w = key_warning(expires, NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()).unwrap();
        assert!(w.contains("2027-06-30") && w.contains("暗号鍵管理"), "{w}");
    }
}
