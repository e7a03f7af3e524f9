//! Which config file to read, and whether its permissions are safe.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where the config lives when neither `--config` nor [`CONFIG_ENV_VAR`] says otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/ordersync/config.toml";

/// Environment variable naming the config file, for containers and test setups where a
/// flag is awkward.
pub const CONFIG_ENV_VAR: &str = "ORDERSYNC_CONFIG";

/// The config file to use: the `--config` flag, else `$ORDERSYNC_CONFIG` (when non-empty),
/// else `/etc/ordersync/config.toml`.
pub fn resolve_path(flag: Option<PathBuf>) -> PathBuf {
    resolve_path_with(flag, std::env::var_os(CONFIG_ENV_VAR))
}

pub fn resolve_path_with(flag: Option<PathBuf>, env: Option<OsString>) -> PathBuf {
    flag.or_else(|| env.filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH))
}

/// Warnings about the config file's permissions, for the daemon to log at start and for
/// `check-config` to print: a world-writable file (anyone could redirect orders and
/// payments), a world-writable directory without the sticky bit (anyone could replace the
/// file), and a world-readable file holding inline secrets (`inline`: their keys). Empty
/// when the file cannot be inspected (loading it reports that) or on non-Unix systems.
pub fn permission_warnings(path: &Path, inline: &[&str]) -> Vec<String> {
    #[cfg(unix)]
    {
        unix_warnings(path, inline)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, inline);
        Vec::new()
    }
}

#[cfg(unix)]
fn unix_warnings(path: &Path, inline: &[&str]) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;

    let mut warnings = Vec::new();
    let Ok(meta) = std::fs::metadata(path) else {
        return warnings;
    };
    let mode = meta.permissions().mode() & 0o7777;
    let shown = path.display();
    if mode & 0o002 != 0 {
        warnings.push(format!(
            "{shown} is world-writable (mode {mode:04o}): anyone on this machine can change \
             where orders and payments go; run `chmod o-w {shown}`"
        ));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent
        && let Ok(dir_meta) = std::fs::metadata(dir)
    {
        let dir_mode = dir_meta.permissions().mode() & 0o7777;
        if dir_mode & 0o002 != 0 && dir_mode & 0o1000 == 0 {
            warnings.push(format!(
                "directory {} is world-writable (mode {dir_mode:04o}): anyone on this \
                     machine can replace the config file",
                dir.display()
            ));
        }
    }
    if mode & 0o004 != 0 && !inline.is_empty() {
        warnings.push(format!(
            "{shown} is world-readable (mode {mode:04o}) and holds inline secrets ({}): \
             move them to {{ credential = \"...\" }} (a file 0600 in \
             /etc/ordersync/credentials/, which systemd reads as root for the unit). \
             Keep the config readable: the service runs as a dynamic user \
             (DynamicUser=yes) that can read only what everyone may read",
            inline.join(", ")
        ));
    }
    warnings
}

/// How a config file is read.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Where `{ credential = "x" }` reads the file `x` when systemd did not
    /// set `CREDENTIALS_DIRECTORY` (a shell, cron); default
    /// [`default_credentials_dir`] of the config file.
    pub credentials_dir: Option<PathBuf>,
}

/// The credentials directory of a config file outside systemd, matching the
/// units' `LoadCredential=` lines: `/etc/ordersync/credentials` beside
/// `config.toml`, `/etc/ordersync/credentials/<name>` beside `<name>.toml`
/// (the `ordersync@<name>` instances).
pub fn default_credentials_dir(config: &Path) -> PathBuf {
    let dir = config.parent().unwrap_or(Path::new("")).join("credentials");
    match config.file_stem().and_then(|s| s.to_str()) {
        Some("config") | None => dir,
        Some(name) => dir.join(name),
    }
}
