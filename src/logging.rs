//! Logging: human text on a terminal, JSON or journald under systemd.
//! Secrets are never passed to tracing (they are `SecretString`s).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let format = resolve(
        format,
        std::env::var_os("JOURNAL_STREAM").is_some(),
        std::io::stderr().is_terminal(),
    );
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Journald => match tracing_journald::layer() {
            Ok(layer) => registry.with(layer).try_init(),
            Err(_) => registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .json()
                        .with_writer(std::io::stderr),
                )
                .try_init(),
        },
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        _ => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
    // Already installed (tests start several daemons in one process): keep it.
    let _ = result;
}

/// What `auto` means here: journald when systemd connected stderr to the
/// journal (`JOURNAL_STREAM`), text on a terminal, JSON for anything else (a
/// log shipper, a container runtime).
fn resolve(format: LogFormat, journal_stream: bool, stderr_is_terminal: bool) -> LogFormat {
    match format {
        LogFormat::Auto if journal_stream => LogFormat::Journald,
        LogFormat::Auto if stderr_is_terminal => LogFormat::Text,
        LogFormat::Auto => LogFormat::Json,
        chosen => chosen,
    }
}

/// For `demo` and `bench`: text logs at `level` (unless `RUST_LOG` says
/// otherwise), so their own output stays readable.
pub fn init_with_default(level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_journald_under_systemd_then_text_on_a_terminal_then_json() {
        assert_eq!(resolve(LogFormat::Auto, true, true), LogFormat::Journald);
        assert_eq!(resolve(LogFormat::Auto, false, true), LogFormat::Text);
        assert_eq!(resolve(LogFormat::Auto, false, false), LogFormat::Json);
        assert_eq!(resolve(LogFormat::Text, true, false), LogFormat::Text);
        assert_eq!(resolve(LogFormat::Json, false, true), LogFormat::Json);
    }
}
