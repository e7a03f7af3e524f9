//! `ordersync stock …`: the inventory mirror, on the store directly.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use super::{Language, lang, pad, parse_encoding, say};
use crate::domain::time;
use crate::store::{Store, restock, stock};
use crate::text_encoding::TextEncoding;

#[derive(Subcommand, Debug)]
pub enum StockCommand {
    /// Set the absolute on-hand quantity of a SKU.
    Set {
        sku: String,
        /// The count: 1200, 1,200 or １２００.
        #[arg(value_parser = crate::domain::input::parse_amount, allow_negative_numbers = true)]
        qty: i64,
        /// When the ERP counted it: RFC 3339, or 2026/11/23 10:00 (Japan time).
        #[arg(long)]
        as_of: Option<String>,
        /// Consumption-tax rate of the SKU on J-goods invoices: 8 (reduced) or 10 (standard,
        /// the default); kept when not given.
        #[arg(long)]
        tax_rate: Option<i64>,
    },
    /// Import a CSV (`sku,on_hand[,as_of]`, or columns named by a header such
    /// as 商品コード,在庫数) or JSON file in one transaction.
    Import {
        file: PathBuf,
        /// Text encoding of a CSV file: utf8 or sjis (Shift_JIS/CP932).
        /// Default: detected (valid UTF-8 is UTF-8, anything else Shift_JIS).
        #[arg(long, value_parser = parse_encoding)]
        encoding: Option<TextEncoding>,
    },
    /// List every SKU with on hand, reserved and available.
    List,
}

pub(super) async fn run(command: StockCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        StockCommand::Set {
            sku,
            qty,
            as_of,
            tax_rate,
        } => {
            let mut level = crate::inventory_import::level(1, &sku, qty, as_of.as_deref())
                .map_err(|e| anyhow::anyhow!(e.message))?;
            level.tax_rate = crate::inventory_import::validate_tax_rate(1, tax_rate)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let row = store
                .write(move |tx| {
                    let now = time::rfc3339(time::now());
                    restock::set_levels(tx, std::slice::from_ref(&level), &now)?;
                    stock::get(tx, &level.sku)
                })
                .await?;
            if let Some(r) = row {
                print_stock(&[r]);
            }
        }
        StockCommand::Import { file, encoding } => {
            let n = import_file(store, &file, encoding).await?;
            match lang() {
                Language::Ja => outln!("{} から {n} SKU の在庫を取り込みました", file.display()),
                Language::En => outln!("imported {n} SKUs from {}", file.display()),
            }
        }
        StockCommand::List => print_stock(&store.read(stock::list).await?),
    }
    Ok(())
}

/// Imports a stock file (CSV or JSON by extension/content) in one transaction.
pub async fn import_file(
    store: &Store,
    file: &Path,
    encoding: Option<TextEncoding>,
) -> anyhow::Result<usize> {
    let bytes = std::fs::read(file).with_context(|| {
        format!(
            "{}: {}",
            file.display(),
            say("読めません", "cannot read it")
        )
    })?;
    let json = file.extension().is_some_and(|e| e == "json") || bytes.first() == Some(&b'[');
    let levels = if json {
        crate::inventory_import::parse_json(&bytes)
    } else {
        crate::inventory_import::parse_csv_as(&bytes, encoding)
    }
    .map_err(|e| {
        anyhow::anyhow!(
            "{}:{}: {}; {}",
            file.display(),
            e.line,
            e.message,
            say("何も取り込んでいません", "nothing was imported")
        )
    })?;
    Ok(crate::store::stock_import::import(store, levels).await?)
}

fn print_stock(rows: &[stock::StockRow]) {
    outln!(
        "{} {} {} {}  {}",
        pad("SKU", 20),
        pad(say("実在庫", "ON HAND"), 8),
        pad(say("引当済み", "RESERVED"), 8),
        pad(say("有効在庫", "AVAILABLE"), 9),
        say("更新日時", "UPDATED")
    );
    for r in rows {
        outln!(
            "{} {:>8} {:>8} {:>9}  {}",
            pad(&super::one_line(&r.sku), 20),
            r.on_hand,
            r.reserved,
            r.available,
            time::shown(&r.updated_at)
        );
    }
}
