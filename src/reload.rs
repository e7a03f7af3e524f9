//! What a SIGHUP reload may change. Pure: compares the running config with
//! the one just read and says what to apply now and what waits for a restart.
//!
//! Listeners, the data directory and the log format are set up once per
//! process; a changed value there is reported and the running one kept.
//! Everything else (secrets, the admin token, retry policy, safety stock,
//! poll intervals, provider URLs, enabling a provider) is applied live.

use crate::config_file::Config;
use crate::domain::Provider;

/// The outcome of comparing the running config with the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadPlan {
    /// The config to run from now on: the file's, except for the settings
    /// that need a restart, which keep their running values.
    pub effective: Config,
    /// Settings applied now (dotted keys or whole sections).
    pub applied: Vec<String>,
    /// Settings changed in the file that only a restart applies.
    pub need_restart: Vec<&'static str>,
}

/// Why a reload was refused although the file itself is valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadRefused {
    #[error(
        "daemon.admin_token: the admin listener {0} is not loopback and keeps running until a restart; it cannot run without a token"
    )]
    AdminTokenNeeded(std::net::SocketAddr),
}

/// Compares `running` with `file` (already validated by `Config::load`).
pub fn plan(running: &Config, file: &Config) -> Result<ReloadPlan, ReloadRefused> {
    let mut effective = file.clone();
    let mut need_restart = vec![];
    let (run_d, eff_d) = (&running.daemon, &mut effective.daemon);
    if eff_d.listen != run_d.listen {
        need_restart.push("daemon.listen");
        eff_d.listen = run_d.listen;
    }
    if eff_d.admin_listen != run_d.admin_listen {
        need_restart.push("daemon.admin_listen");
        eff_d.admin_listen = run_d.admin_listen;
    }
    if eff_d.data_dir != run_d.data_dir {
        need_restart.push("daemon.data_dir");
        eff_d.data_dir = run_d.data_dir.clone();
    }
    // The listeners were built with their limits.
    if (
        eff_d.header_read_timeout,
        eff_d.max_connections,
        eff_d.max_connections_per_source,
        eff_d.admin_max_connections,
        eff_d.admin_max_connections_per_source,
        eff_d.write_timeout,
        eff_d.max_requests_per_connection,
        &eff_d.trusted_proxies,
        eff_d.proxy_max_connections,
    ) != (
        run_d.header_read_timeout,
        run_d.max_connections,
        run_d.max_connections_per_source,
        run_d.admin_max_connections,
        run_d.admin_max_connections_per_source,
        run_d.write_timeout,
        run_d.max_requests_per_connection,
        &run_d.trusted_proxies,
        run_d.proxy_max_connections,
    ) {
        need_restart.push("daemon connection limits");
        eff_d.header_read_timeout = run_d.header_read_timeout;
        eff_d.max_connections = run_d.max_connections;
        eff_d.max_connections_per_source = run_d.max_connections_per_source;
        eff_d.admin_max_connections = run_d.admin_max_connections;
        eff_d.admin_max_connections_per_source = run_d.admin_max_connections_per_source;
        eff_d.write_timeout = run_d.write_timeout;
        eff_d.max_requests_per_connection = run_d.max_requests_per_connection;
        eff_d.trusted_proxies = run_d.trusted_proxies.clone();
        eff_d.proxy_max_connections = run_d.proxy_max_connections;
    }
    if eff_d.log_format != run_d.log_format {
        need_restart.push("daemon.log_format");
        eff_d.log_format = run_d.log_format;
    }
    // The file was validated against its own admin_listen; the one still
    // bound may be public, and a public admin API without a token is never
    // acceptable.
    if eff_d.admin_token.is_none() && !eff_d.admin_listen.ip().is_loopback() {
        return Err(ReloadRefused::AdminTokenNeeded(eff_d.admin_listen));
    }
    let mut applied = vec![];
    let mut note = |changed: bool, key: &'static str| {
        if changed {
            applied.push(key.to_string());
        }
    };
    note(
        file.daemon.admin_token != running.daemon.admin_token,
        "daemon.admin_token",
    );
    note(
        file.daemon.http_timeout != running.daemon.http_timeout,
        "daemon.http_timeout",
    );
    note(
        (
            file.daemon.max_provider_answer_mib,
            file.daemon.max_provider_page_mib,
        ) != (
            running.daemon.max_provider_answer_mib,
            running.daemon.max_provider_page_mib,
        ),
        "daemon.max_provider_answer_mib/max_provider_page_mib",
    );
    note(
        file.daemon.admin_hosts != running.daemon.admin_hosts,
        "daemon.admin_hosts",
    );
    note(file.inventory != running.inventory, "[inventory]");
    note(file.retry != running.retry, "[retry]");
    note(file.invoice != running.invoice, "[invoice]");
    for provider in Provider::ALL {
        if file.section_differs(running, provider) {
            applied.push(format!("[{provider}]"));
        }
    }
    Ok(ReloadPlan {
        effective,
        applied,
        need_restart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[daemon]
data_dir = "/var/lib/ordersync"
listen = "127.0.0.1:8080"
admin_listen = "127.0.0.1:8081"
admin_token = "first-token-0123456789abcdef0123456"

[retry]
give_up_after = "24h"
"#;

    fn config(text: &str) -> Config {
        Config::from_toml_str(text, std::path::Path::new("config.toml")).unwrap()
    }

    #[test]
    fn live_settings_apply_and_listeners_wait_for_a_restart() {
        let running = config(BASE);
        let file = config(
            &BASE
                .replace(
                    "first-token-0123456789abcdef0123456",
                    "second-token-0123456789abcdef012345",
                )
                .replace("24h", "2h")
                .replace("127.0.0.1:8080", "127.0.0.1:9090")
                .replace("/var/lib/ordersync", "/srv/ordersync"),
        );
        let plan = plan(&running, &file).unwrap();
        assert_eq!(plan.applied, vec!["daemon.admin_token", "[retry]"]);
        assert_eq!(plan.need_restart, vec!["daemon.listen", "daemon.data_dir"]);
        assert_eq!(plan.effective.daemon.listen, running.daemon.listen);
        assert_eq!(plan.effective.daemon.data_dir, running.daemon.data_dir);
        assert_eq!(plan.effective.daemon.admin_token, file.daemon.admin_token);
        assert_eq!(plan.effective.retry, file.retry);
    }

    #[test]
    fn an_unchanged_file_changes_nothing() {
        let running = config(BASE);
        let plan = plan(&running, &running.clone()).unwrap();
        assert!(plan.applied.is_empty() && plan.need_restart.is_empty());
        assert_eq!(plan.effective, running);
    }

    #[test]
    fn a_public_admin_listener_keeps_its_token() {
        let running = config(&BASE.replace("127.0.0.1:8081", "0.0.0.0:8081"));
        let file = config(&BASE.replace(
            "admin_token = \"first-token-0123456789abcdef0123456\"\n",
            "allow_no_admin_token = true\n",
        ));
        assert_eq!(
            plan(&running, &file),
            Err(ReloadRefused::AdminTokenNeeded(
                "0.0.0.0:8081".parse().unwrap()
            ))
        );
    }
}
