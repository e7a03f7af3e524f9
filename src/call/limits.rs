//! What bounds every outbound call to a provider, from `[daemon]`.

use std::time::Duration;

use crate::config::DaemonConfig;

/// What bounds every call to a provider: `[daemon] http_timeout` for the
/// whole request, `max_provider_answer_mib` for any answer and
/// `max_provider_page_mib` for the largest documented pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Whole-request timeout (the connection within at most 10 s of it).
    pub timeout: Duration,
    /// Most bytes read of an answer.
    pub answer_bytes: usize,
    /// Most bytes read of the largest documented pages: Rakuten's `getOrder`
    /// (100 whole orders) and `items/search` (100 items with their variants).
    pub page_bytes: usize,
}

impl HttpLimits {
    /// The default caps with another timeout (tests, the simulators' glue).
    pub fn with_timeout(timeout: Duration) -> HttpLimits {
        HttpLimits {
            timeout,
            ..HttpLimits::of(&DaemonConfig::default())
        }
    }

    /// The limits `[daemon]` sets.
    pub fn of(daemon: &DaemonConfig) -> HttpLimits {
        const MIB: usize = 1024 * 1024;
        HttpLimits {
            timeout: daemon.http_timeout,
            answer_bytes: daemon.max_provider_answer_mib.saturating_mul(MIB),
            page_bytes: daemon.max_provider_page_mib.saturating_mul(MIB),
        }
    }
}
