//! `[daemon]`: the listeners, the admin token and the network limits.

use super::*;
use crate::config::Secret;

impl SectionReader<'_> {
    /// `[daemon]`; why the admin API must not be served as configured is
    /// kept with the refusals.
    pub fn daemon(&self, raw: Option<RawDaemon>) -> Result<DaemonConfig> {
        let d = DaemonConfig::default();
        let raw = raw.unwrap_or_default();
        let data_dir = raw.data_dir.unwrap_or(d.data_dir);
        if data_dir.as_os_str().is_empty() {
            return Err(self.err("daemon.data_dir", "must not be empty"));
        }
        let listen = raw.listen.unwrap_or(d.listen);
        let admin_listen = raw.admin_listen.unwrap_or(d.admin_listen);
        let admin_token = match raw.admin_token {
            Some(spec) => Some(self.secret("daemon.admin_token", Some(spec), true)?),
            None => None,
        };
        // A missing token matters only to whoever serves the admin API (the
        // daemon, check-config): other commands of a shell run without it.
        match self.check_admin_token(
            admin_listen,
            admin_token.as_ref(),
            raw.allow_no_admin_token.unwrap_or(false),
        ) {
            Err(e) if admin_token.is_none() && admin_listen.ip().is_loopback() => self.refuse(e)?,
            other => other?,
        }
        if conflicts(listen, admin_listen) {
            return Err(self.err(
                "daemon.admin_listen",
                format!("{admin_listen} collides with daemon.listen ({listen})"),
            ));
        }
        let daemon = DaemonConfig {
            data_dir,
            listen,
            admin_listen,
            admin_token,
            log_format: raw.log_format.unwrap_or(d.log_format),
            language: raw.language.unwrap_or_else(|| {
                crate::config::Language::from_locale(|v| {
                    self.sources
                        .env
                        .var_os(v)
                        .and_then(|s| s.into_string().ok())
                })
            }),
            http_timeout: self.duration(
                "daemon.http_timeout",
                raw.http_timeout,
                d.http_timeout,
                NON_ZERO,
            )?,
            request_timeout: self.duration(
                "daemon.request_timeout",
                raw.request_timeout,
                d.request_timeout,
                NON_ZERO,
            )?,
            allow_no_admin_token: raw.allow_no_admin_token.unwrap_or(false),
            admin_hosts: self.admin_hosts(raw.admin_hosts)?,
            header_read_timeout: self.duration(
                "daemon.header_read_timeout",
                raw.header_read_timeout,
                d.header_read_timeout,
                NON_ZERO,
            )?,
            max_connections: self.count(
                "daemon.max_connections",
                raw.max_connections,
                d.max_connections,
            )?,
            max_connections_per_source: self.count(
                "daemon.max_connections_per_source",
                raw.max_connections_per_source,
                d.max_connections_per_source,
            )?,
            admin_max_connections: self.count(
                "daemon.admin_max_connections",
                raw.admin_max_connections,
                d.admin_max_connections,
            )?,
            admin_max_connections_per_source: self.count(
                "daemon.admin_max_connections_per_source",
                raw.admin_max_connections_per_source,
                d.admin_max_connections_per_source,
            )?,
            write_timeout: self.duration(
                "daemon.write_timeout",
                raw.write_timeout,
                d.write_timeout,
                NON_ZERO,
            )?,
            max_requests_per_connection: self.between(
                "daemon.max_requests_per_connection",
                raw.max_requests_per_connection,
                d.max_requests_per_connection,
                1_000_000,
            )?,
            refused_webhooks_per_minute: self.between(
                "daemon.refused_webhooks_per_minute",
                raw.refused_webhooks_per_minute.map(|n| n as usize),
                d.refused_webhooks_per_minute as usize,
                100_000,
            )? as u32,
            trusted_proxies: self.networks("daemon.trusted_proxies", raw.trusted_proxies)?,
            proxy_max_connections: self.count(
                "daemon.proxy_max_connections",
                raw.proxy_max_connections,
                d.proxy_max_connections,
            )?,
            max_provider_answer_mib: self.between(
                "daemon.max_provider_answer_mib",
                raw.max_provider_answer_mib,
                d.max_provider_answer_mib,
                1024,
            )?,
            max_provider_page_mib: self.between(
                "daemon.max_provider_page_mib",
                raw.max_provider_page_mib,
                d.max_provider_page_mib,
                1024,
            )?,
        };
        // More per source than in all means the total.
        let daemon = DaemonConfig {
            admin_max_connections_per_source: daemon
                .admin_max_connections_per_source
                .min(daemon.admin_max_connections),
            proxy_max_connections: daemon.proxy_max_connections.min(daemon.max_connections),
            max_provider_page_mib: daemon
                .max_provider_page_mib
                .max(daemon.max_provider_answer_mib),
            ..daemon
        };
        Ok(daemon)
    }

    /// A list of addresses and CIDR networks at `key`.
    fn networks(&self, key: &str, texts: Option<Vec<String>>) -> Result<Vec<ipnet::IpNet>> {
        let texts = texts.unwrap_or_default();
        let mut nets = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            let net = crate::config::reader::parse_network(text).ok_or_else(|| {
                self.err(
                    &format!("{key}[{i}]"),
                    format!(
                        "`{text}` is not an IP address or a network in CIDR notation (10.0.0.0/8)"
                    ),
                )
            })?;
            nets.push(net);
        }
        Ok(nets)
    }

    /// A connection count: at least 1, at most 60,000 (file descriptors).
    fn count(&self, key: &str, value: Option<usize>, default: usize) -> Result<usize> {
        self.between(key, value, default, 60_000)
    }

    /// A count of at least 1 and at most `max`.
    fn between(
        &self,
        key: &str,
        value: Option<usize>,
        default: usize,
        max: usize,
    ) -> Result<usize> {
        match value.unwrap_or(default) {
            n if (1..=max).contains(&n) => Ok(n),
            _ => Err(self.err(key, format!("must be between 1 and {max}"))),
        }
    }

    /// The admin token: long enough to resist guessing, and present unless
    /// the operator opted out on a loopback listener.
    fn check_admin_token(
        &self,
        admin_listen: SocketAddr,
        token: Option<&Secret>,
        allow_none: bool,
    ) -> Result<()> {
        match token {
            Some(token) if token.expose().is_ok_and(|t| t.len() < MIN_ADMIN_TOKEN) => Err(self.err(
                "daemon.admin_token",
                format!(
                    "must be at least {MIN_ADMIN_TOKEN} bytes (create one with `openssl rand -hex 32`) / \
                     管理トークンは{MIN_ADMIN_TOKEN}バイト以上にしてください"
                ),
            )),
            Some(_) => Ok(()),
            None if !admin_listen.ip().is_loopback() => Err(self.err(
                "daemon.admin_listen",
                format!(
                    "{admin_listen} is not a loopback address, so daemon.admin_token is \
                     required (the admin API changes stock and cancels orders)"
                ),
            )),
            None if !allow_none => Err(self.err(
                "daemon.admin_token",
                "is required: without it any web page opened on this machine could change stock \
                 and cancel orders through the browser. Set one (`openssl rand -hex 32`), or set \
                 daemon.allow_no_admin_token = true to accept that on this loopback listener / \
                 管理トークンを設定してください(未設定を許す場合は allow_no_admin_token = true)",
            )),
            None => Ok(()),
        }
    }

    /// `admin_hosts`: names the admin listener answers to besides IP literals.
    fn admin_hosts(&self, hosts: Option<Vec<String>>) -> Result<Vec<String>> {
        let hosts = hosts.unwrap_or_else(|| vec!["localhost".to_string()]);
        for host in &hosts {
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !valid {
                return Err(self.err(
                    "daemon.admin_hosts",
                    format!("{host:?} is not a host name (no port, no scheme)"),
                ));
            }
        }
        Ok(hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect())
    }
}

/// Shortest admin token accepted, in bytes.
pub const MIN_ADMIN_TOKEN: usize = 32;
