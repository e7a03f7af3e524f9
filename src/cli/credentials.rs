//! `ordersync credentials init`: the credentials directory the unit's
//! `LoadCredential=` lines read, made ready before the first start.
//!
//! systemd refuses to start a unit whose `LoadCredential=` file is missing
//! (status 243/CREDENTIALS), so every name the unit loads gets a file, empty
//! until the merchant writes the secret in it: an empty credential is read
//! as "not set", which matters only to an enabled section. The admin token
//! is generated, so the console and the admin API are protected from the
//! first start.

use std::path::Path;

use anyhow::Context;

use super::{lang, say};
use crate::config::Language;
use crate::config_file::{Config, unit_credentials};

const ADMIN_TOKEN: &str = "admin-token";

/// Creates `dir` (0700) and, for each credential the unit loads or the
/// config names, an empty file (0600) where there is none; writes a random
/// admin token where there is none or it is empty. Never overwrites a value.
pub fn init(config: &Config, dir: &Path) -> anyhow::Result<()> {
    crate::private_files::create_dir(dir)
        .with_context(|| super::about_file(super::FileVerb::Create, dir))?;
    let mut names: Vec<&str> = unit_credentials();
    for (key, secret) in config.secrets() {
        if let Some(name) = secret.credential_name()
            && !names.contains(&name)
        {
            names.push(name);
            let path = dir.join(name);
            let path = path.display();
            match lang() {
                Language::Ja => outln!(
                    "注意: {key} の {name} はユニットの LoadCredential= にありません。`LoadCredential={name}:{path}` を追加してください"
                ),
                Language::En => outln!(
                    "{key} names credential {name}, which the unit does not load: add `LoadCredential={name}:{path}` to it"
                ),
            }
        }
    }
    let mut to_fill = Vec::new();
    for name in names {
        let path = dir.join(name);
        let empty = std::fs::metadata(&path).map(|m| m.len() == 0).ok();
        match (name, empty) {
            (ADMIN_TOKEN, None | Some(true)) => {
                write_private(
                    &path,
                    &format!("{}\n", hex::encode(rand::random::<[u8; 32]>())),
                )?;
                outln!(
                    "{} {}",
                    say(
                        "管理トークンを作成しました(ランダム):",
                        "created the admin token (random):"
                    ),
                    path.display()
                );
            }
            (_, None) => {
                write_private(&path, "")?;
                outln!(
                    "{} {}",
                    say("空のファイルを作成しました:", "created, empty:"),
                    path.display()
                );
                to_fill.push(name);
            }
            (_, Some(true)) => to_fill.push(name),
            (_, Some(false)) => {}
        }
    }
    if !to_fill.is_empty() {
        outln!(
            "{} {}",
            say(
                "有効にする連携の秘密情報を書き込んでください(空のファイルは「未設定」):",
                "write the secrets of the sections you enable into (an empty file means not set):"
            ),
            to_fill.join(", ")
        );
    }
    Ok(())
}

/// Writes `text` to `path` as a 0600 file (whatever the umask).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::private_files::write_atomic(path, text.as_bytes())
        .with_context(|| super::about_file(super::FileVerb::Write, path))
}
