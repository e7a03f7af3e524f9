//! From the file's text to a validated [`Config`]: every section read with
//! one [`SectionReader`], so each error is located at its key's line.

use std::path::Path;

use super::Config;
use super::raw::RawConfig;
use crate::config::document::Document;
use crate::config::reader::inventory;
use crate::config::{ConfigError, Environment, SectionReader, Sources};
use crate::providers::credit::{atobarai_com, kuroneko};
use crate::providers::{jgoods, komoju, rakuten_pay};

type Result<T> = std::result::Result<T, ConfigError>;

/// Parses, resolves and validates `text`; see [`Config::from_toml_str`].
pub(super) fn build(
    text: &str,
    path: &Path,
    env: &dyn Environment,
    credentials_dir: &Path,
) -> Result<Config> {
    build_with(text, path, env, credentials_dir, false)
}

/// [`build`]; with `strict`, what would stop the daemon from serving (a
/// missing admin token, a secret of an enabled section that cannot be read)
/// is an error here rather than kept for [`Config::check_serving`].
pub(super) fn build_with(
    text: &str,
    path: &Path,
    env: &dyn Environment,
    credentials_dir: &Path,
    strict: bool,
) -> Result<Config> {
    let (doc, syntax_error) = Document::parse(text);
    let sources = Sources {
        env,
        base_dir: path.parent().unwrap_or(Path::new("")),
        credentials_dir,
    };
    let ctx = SectionReader::new(&doc, path, sources, strict);
    if let Some(e) = syntax_error {
        return Err(ctx.toml_error(&e));
    }
    let raw: RawConfig = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;

    let daemon = ctx.daemon(raw.daemon)?;
    let config = Config {
        daemon,
        inventory: inventory(raw.inventory),
        retry: ctx.retry(raw.retry)?,
        jgoods: raw
            .jgoods
            .map(|r| jgoods::config::read(&ctx, r))
            .transpose()?,
        rakuten_pay: raw
            .rakuten_pay
            .map(|r| rakuten_pay::config::read(&ctx, r))
            .transpose()?,
        kuroneko: raw
            .kuroneko
            .map(|r| kuroneko::config::read(&ctx, r))
            .transpose()?,
        atobarai_com: (raw.atobarai_com)
            .map(|r| atobarai_com::config::read(&ctx, r))
            .transpose()?,
        komoju: raw
            .komoju
            .map(|r| komoju::config::read(&ctx, r))
            .transpose()?,
        yahoo_shopping: (raw.yahoo_shopping)
            .map(|r| crate::providers::yahoo_shopping::config::read(&ctx, r))
            .transpose()?,
        invoice: raw.invoice.map(|r| ctx.invoice(r)).transpose()?,
        alerts: raw.alerts.map(|r| ctx.alerts(r, path)).transpose()?,
        carrier_files: (raw.carrier_files)
            .map(|r| ctx.carrier_files(r))
            .transpose()?,
        source: path.to_path_buf(),
        credentials_dir: credentials_dir.to_path_buf(),
        warnings: Vec::new(),
        refusals: Vec::new(),
    };
    let (warnings, refusals) = ctx.findings();
    Ok(Config {
        warnings,
        refusals,
        ..config
    })
}
