//! `ordersync shipments …`: the label programs' files (出荷ファイル): the
//! orders ready to ship out as B2クラウド, e飛伝Ⅱ or ゆうパックプリントR's
//! import file, and the file they write after printing back in as shipments.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::carrier_files::{self, CarrierFormat, import, store as files};
use crate::config::Language;
use crate::config_file::Config;
use crate::store::Store;

#[derive(Subcommand, Debug)]
pub enum ShipmentsCommand {
    /// Write the orders ready to ship as the label program's import file
    /// (Shift_JIS CSV, CRLF).
    Export {
        /// yamato-b2 (B2クラウド), sagawa-ehiden (e飛伝Ⅱ) or yupack-printr (ゆうパックプリントR).
        #[arg(long)]
        carrier: String,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Record the shipments of the file the label program wrote after
    /// printing (all or nothing; the same file again changes nothing).
    Import {
        /// yamato-b2, sagawa-ehiden or yupack-printr.
        #[arg(long)]
        carrier: String,
        /// The file.
        file: PathBuf,
    },
}

pub(super) async fn run(
    command: ShipmentsCommand,
    store: &Store,
    config: &Config,
) -> anyhow::Result<()> {
    let lang = config.daemon.language;
    let ja = lang == Language::Ja;
    let policy = crate::app::payment_policy(config);
    match command {
        ShipmentsCommand::Export { carrier, output } => {
            let format = parse(&carrier, lang)?;
            let sender = config.carrier_files.clone().unwrap_or_default();
            let file = files::export(store, format, policy, sender, lang).await?;
            for r in &file.refused {
                errln!(
                    "{} {} {}: {}",
                    r.channel.as_str(),
                    r.id,
                    if ja { "は書けません" } else { "left out" },
                    r.reason
                );
            }
            match &output {
                Some(path) => {
                    crate::private_files::write_atomic(path, &file.bytes)
                        .with_context(|| super::about_file(super::FileVerb::Write, path))?;
                    errln!(
                        "{}",
                        match ja {
                            true => format!(
                                "{} 件の受注を {} に書きました(書けなかった受注 {} 件)。",
                                file.written.len(),
                                path.display(),
                                file.refused.len()
                            ),
                            false => format!(
                                "wrote {} orders to {} ({} left out)",
                                file.written.len(),
                                path.display(),
                                file.refused.len()
                            ),
                        }
                    );
                }
                None => std::io::Write::write_all(&mut std::io::stdout().lock(), &file.bytes)?,
            }
        }
        ShipmentsCommand::Import { carrier, file } => {
            let format = parse(&carrier, lang)?;
            let mut bytes = Vec::new();
            std::fs::File::open(&file)
                .with_context(|| super::about_file(super::FileVerb::Open, &file))?
                .take(import::MAX_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .with_context(|| super::about_file(super::FileVerb::Read, &file))?;
            let problems = match import::parse(format, &bytes, lang) {
                Ok(labels) => match files::import(store, format, labels, policy, lang).await? {
                    Ok(done) => {
                        outln!(
                            "{}",
                            match ja {
                                true => format!(
                                    "出荷を {} 件記録しました(記録済みで変更なし {} 件)。",
                                    done.shipped, done.unchanged
                                ),
                                false => format!(
                                    "recorded {} shipments ({} already recorded, unchanged)",
                                    done.shipped, done.unchanged
                                ),
                            }
                        );
                        return Ok(());
                    }
                    Err(problems) => problems,
                },
                Err(problems) => problems,
            };
            for p in &problems {
                errln!("{}: {}", file.display(), p.describe(lang));
            }
            anyhow::bail!(
                "{}",
                match ja {
                    true => "ファイルに誤りがあるため、何も記録していません。",
                    false => "nothing was recorded: the file has errors",
                }
            );
        }
    }
    Ok(())
}

fn parse(s: &str, lang: Language) -> anyhow::Result<CarrierFormat> {
    CarrierFormat::parse(s).ok_or_else(|| anyhow::anyhow!(carrier_files::unknown_format(lang, s)))
}
