//! Every secret of the file, for `credentials init` and the checks that
//! none is ever printed.

use super::Config;
use crate::config::Secret;
use crate::domain::Provider;

impl Config {
    /// Every secret of the file with its key, enabled sections or not.
    pub fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        let mut all = Vec::new();
        if let Some(t) = &self.daemon.admin_token {
            all.push(("daemon.admin_token", t));
        }
        for provider in Provider::ALL {
            if let Some(section) = self.section(provider) {
                all.extend(section.secrets());
            }
        }
        if let Some(a) = &self.alerts {
            if let Some(p) = a.email.as_ref().and_then(|e| e.password.as_ref()) {
                all.push(("alerts.email.password", p));
            }
            if let Some(w) = &a.webhook {
                all.push(("alerts.webhook.url", &w.url));
            }
        }
        all
    }
}
