//! Logging: human text on a terminal, JSON or journald under systemd.
//! Secrets are never passed to tracing (they are `SecretString`s).

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

use crate::config::LogFormat;

/// Log timestamps in Japan time with their offset, as the CLI and the API
/// show times: `2026-12-03T10:15:00.123+09:00`.
struct Jst;

impl tracing_subscriber::fmt::time::FormatTime for Jst {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{}",
            crate::domain::time::now().format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        )
    }
}

/// The output layer, swappable once the config names a format.
type Output = Box<dyn Layer<Registry> + Send + Sync>;

/// The handle that swaps the output layer of the installed subscriber.
static OUTPUT: OnceLock<reload::Handle<Output, Registry>> = OnceLock::new();

/// Installs the global subscriber before the config is read, in the format
/// `auto` resolves to, so a config error reaches the journal like any other
/// log line. `RUST_LOG` overrides the default level. [`init`] later switches
/// to the configured format.
pub fn init_early() {
    let (output, handle) = reload::Layer::new(output_layer(resolved(LogFormat::Auto)));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Already installed (tests start several daemons in one process): keep it.
    if tracing_subscriber::registry()
        .with(output)
        .with(filter)
        .try_init()
        .is_ok()
    {
        let _ = OUTPUT.set(handle);
    }
}

/// Logs in `format` from now on (installing the subscriber if
/// [`init_early`] did not).
pub fn init(format: LogFormat) {
    init_early();
    if let Some(handle) = OUTPUT.get()
        && resolved(format) != resolved(LogFormat::Auto)
    {
        let _ = handle.reload(output_layer(resolved(format)));
    }
}

/// `format` as this process resolves it (see [`resolve`]).
fn resolved(format: LogFormat) -> LogFormat {
    resolve(
        format,
        std::env::var_os("JOURNAL_STREAM").is_some(),
        std::io::stderr().is_terminal(),
    )
}

/// The layer that writes in `format` (journald falls back to JSON on stderr
/// when the journal socket cannot be opened).
fn output_layer(format: LogFormat) -> Output {
    let json = || {
        tracing_subscriber::fmt::layer()
            .json()
            .with_timer(Jst)
            .with_writer(std::io::stderr)
            .boxed()
    };
    match format {
        LogFormat::Journald => match tracing_journald::layer() {
            Ok(layer) => layer.boxed(),
            Err(_) => json(),
        },
        LogFormat::Json => json(),
        _ => tracing_subscriber::fmt::layer()
            .with_timer(Jst)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .boxed(),
    }
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
        .with(
            tracing_subscriber::fmt::layer()
                .with_timer(Jst)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
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
