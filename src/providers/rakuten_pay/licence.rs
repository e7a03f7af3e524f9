//! The Rakuten licence key's expiry, watched beside the order poll, never in
//! its way.
//!
//! Reading the expiry is an RMS permission of its own
//! (`license.expiryDate.get`), which many shops leave off: without it the call
//! is refused while the order API works. So the check is best effort: it runs
//! in its own task, an order poll never waits for it or fails on it, and a
//! refusal is recorded once with the fix (shown by `status`, the status page
//! and `/metrics`) instead of being mistaken for a bad key. Whether the key
//! itself works is the order poll's to say.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::poller::RakutenApi;
use crate::call::CallError;
use crate::domain::Provider;
use crate::domain::time;
use crate::metrics::Metrics;
use crate::store::{Store, kv};

const PROVIDER: Provider = Provider::RakutenPay;
/// How often the expiry is read once known (or once refused).
const CHECK_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// How often the watcher looks whether a check is due (a failed attempt is
/// tried again at the next look).
const LOOK_EVERY: Duration = Duration::from_secs(15 * 60);
/// Warn this long before the key expires.
pub const WARN_DAYS: i64 = 14;
/// Key of the licence expiry (RFC 3339).
pub const EXPIRY_KEY: &str = "rakuten_pay.license_expiry";
/// Key of the refusal of the expiry check: the fix, while Rakuten refuses it.
pub const REFUSED_KEY: &str = "rakuten_pay.license_check_refused";
const CHECKED_KEY: &str = "rakuten_pay.license_checked_at";

/// What the merchant reads while the expiry cannot be read.
pub const REFUSED_FIX: &str = "楽天ライセンスキーの有効期限を取得できません。\
RMSの「WEB API サービス」でこのキーに license.expiryDate.get(ライセンス有効期限の取得)を許可すると、\
期限の14日前から警告します(受注の取り込みには影響しません) / Rakuten does not let this key read its \
expiry date: enable license.expiryDate.get for the key in RMS to be warned 14 days before it \
expires (orders are imported either way)";

/// The expiry check, with the client and pacing it shares with the poller.
#[derive(Clone)]
pub struct LicenceWatch {
    pub store: Store,
    pub api: Arc<RakutenApi>,
    pub metrics: Arc<Metrics>,
}

impl LicenceWatch {
    /// Checks when due until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.check_if_due().await {
                tracing::debug!(error = %e, "Rakuten licence expiry not read; tried again later");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(LOOK_EVERY) => {}
            }
        }
    }

    /// Reads the expiry unless it was read (or refused) within a day. `Err`
    /// only for an attempt to repeat soon: an outage, a timeout, the store.
    pub async fn check_if_due(&self) -> Result<(), CallError> {
        let checked = self.store.read(|c| kv::get(c, CHECKED_KEY)).await?;
        let due = checked
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .is_none_or(|t| time::now() - t >= CHECK_EVERY);
        if !due {
            return Ok(());
        }
        self.api.pacer.wait().await;
        let answer = self
            .metrics
            .timed(PROVIDER, self.api.client.license_expiry())
            .await;
        let now = time::rfc3339(time::now());
        match answer {
            Ok(expiry) => {
                let days_left = (expiry - time::now()).num_days();
                if days_left <= WARN_DAYS {
                    tracing::warn!(expiry = %expiry, days_left, "the Rakuten licence key expires soon: issue a new one in RMS");
                }
                let expiry = time::rfc3339(expiry);
                self.store
                    .write(move |tx| {
                        kv::set(tx, EXPIRY_KEY, &expiry, &now)?;
                        kv::delete(tx, REFUSED_KEY)?;
                        kv::set(tx, CHECKED_KEY, &now, &now)
                    })
                    .await
                    .map_err(CallError::from)
            }
            Err(e @ CallError::Transient { .. }) => Err(e),
            Err(e) => {
                let already = self
                    .store
                    .read(|c| kv::get(c, REFUSED_KEY))
                    .await?
                    .is_some();
                if !already {
                    tracing::warn!(error = %e, "{REFUSED_FIX}");
                }
                self.store
                    .write(move |tx| {
                        kv::set(tx, REFUSED_KEY, REFUSED_FIX, &now)?;
                        kv::set(tx, CHECKED_KEY, &now, &now)
                    })
                    .await
                    .map_err(CallError::from)
            }
        }
    }
}

/// Days until `expiry` (RFC 3339, as stored), from `now`.
pub fn days_left(expiry: &str, now: chrono::DateTime<chrono::FixedOffset>) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(expiry)
        .ok()
        .map(|t| (t - now).num_days())
}

/// What is known of the licence key, as `status`, the status page and
/// `/metrics` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Licence {
    /// The expiry last read (RFC 3339), if ever.
    pub expires_at: Option<String>,
    pub days_left: Option<i64>,
    /// The fix, while Rakuten refuses the expiry check.
    pub check_refused: Option<String>,
}

impl Licence {
    /// Reads what the watcher recorded.
    pub fn read(
        conn: &rusqlite::Connection,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> crate::store::Result<Licence> {
        let expires_at = kv::get(conn, EXPIRY_KEY)?;
        Ok(Licence {
            days_left: expires_at.as_deref().and_then(|e| days_left(e, now)),
            expires_at,
            check_refused: kv::get(conn, REFUSED_KEY)?,
        })
    }

    /// The key expires within [`WARN_DAYS`]: a person must issue a new one.
    pub fn expiring(&self) -> bool {
        self.days_left.is_some_and(|d| d <= WARN_DAYS)
    }
}
