//! `ordersync yahoo authorize`: the login a person makes every 28 days. It
//! prints the login URL, reads the code (or the whole address) the browser
//! lands on, exchanges it, writes the refresh token to its credential file
//! (as `credentials init` writes credentials) and records when, so the
//! daemon warns 7 days before the next login is due.

use std::io::{BufRead as _, Read as _};

use anyhow::Context as _;
use clap::Subcommand;

use super::say;
use crate::config_file::Config;
use crate::domain::time;
use crate::providers::yahoo_shopping::{auth, renewal};
use crate::store::{Store, kv};

#[derive(Subcommand, Debug)]
pub enum YahooCommand {
    /// Log in to Yahoo! JAPAN for the store (every 28 days): prints the URL,
    /// reads the code, stores the refresh token.
    Authorize,
}

/// Runs a `yahoo` command.
pub async fn run(command: YahooCommand, store: &Store, config: &Config) -> anyhow::Result<()> {
    match command {
        YahooCommand::Authorize => authorize(store, config).await,
    }
}

async fn authorize(store: &Store, config: &Config) -> anyhow::Result<()> {
    let Some(y) = config.yahoo_shopping.as_ref() else {
        anyhow::bail!(
            "{}",
            say(
                "設定ファイルに [yahoo_shopping] がありません",
                "the config has no [yahoo_shopping] section"
            )
        );
    };
    let Some(name) = y.refresh_token.credential_name() else {
        anyhow::bail!(
            "{}",
            say(
                "refresh_token を { credential = \"yahoo-refresh-token\" } にしてください(取得したトークンを書き込む先です)",
                "set refresh_token = { credential = \"yahoo-refresh-token\" }: the token is written there"
            )
        );
    };
    let secret = y.client_secret.expose()?;
    let login = auth::login(&y.auth_base_url, &y.client_id, &y.redirect_uri)?;
    outln!(
        "{}",
        say(
            "1. ストアのスタッフとして登録した Yahoo! JAPAN ID で、次の URL をブラウザで開いてログインしてください:",
            "1. Open this URL in a browser and log in with the Yahoo! JAPAN ID that is staff of the store:"
        )
    );
    outln!("{}", login.url);
    outln!(
        "{}",
        say(
            "2. 移動先のアドレス(または code の値)を貼り付けて Enter を押してください(10分以内):",
            "2. Paste the address the browser lands on (or its code) and press Enter (within 10 minutes):"
        )
    );
    let mut pasted = String::new();
    std::io::stdin()
        .lock()
        .take(8 * 1024)
        .read_line(&mut pasted)
        .context("stdin")?;
    let code = auth::code_from_paste(&pasted, &login.state).map_err(|e| anyhow::anyhow!(e))?;
    let limits = crate::call::HttpLimits::of(&config.daemon);
    let http = crate::providers::http_client::build(limits)?;
    let answer = auth::token_call(
        &http,
        limits.answer_bytes,
        &y.auth_base_url,
        &y.client_id,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &y.redirect_uri),
            ("code_verifier", &login.verifier),
        ],
        &[],
    )
    .await?;
    let token = answer
        .refresh_token
        .context("Yahoo! answered without a refresh token")?;
    let path = config.credentials_dir.join(name);
    crate::private_files::write_atomic(&path, format!("{token}\n").as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let now = time::rfc3339(time::now());
    store
        .write(move |tx| kv::set(tx, renewal::AUTHORIZED_AT_KEY, &now, &now))
        .await?;
    let ends = (time::now() + auth::REFRESH_TOKEN_LIFETIME)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    match super::lang() {
        crate::config::Language::Ja => {
            outln!("認可を保存しました: {}", path.display());
            outln!("有効期限は {ends} (JST) です。7日前から警告します。");
            outln!("次に: systemctl reload ordersync");
        }
        crate::config::Language::En => {
            outln!("authorization stored in {}", path.display());
            outln!("it ends on {ends} JST; warned 7 days before");
            outln!("next: systemctl reload ordersync");
        }
    }
    Ok(())
}
