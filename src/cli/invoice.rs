//! `ordersync jgoods invoice`: issue (or re-issue) the invoice to J-goods for a period.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{Language, lang};
use crate::config_file::Config;
use crate::flows::invoice;
use crate::invoice::csv::{self, Encoding};
use crate::invoice::{Issue, Period, html};
use crate::store::Store;

#[derive(Args, Debug)]
pub struct InvoiceArgs {
    /// First shipment date invoiced: 2026-11-01 or 2026/11/01 (JST).
    #[arg(long, value_parser = crate::domain::input::parse_date)]
    pub from: String,
    /// Last shipment date invoiced, included: 2026-11-30 or 2026/11/30 (JST).
    #[arg(long, value_parser = crate::domain::input::parse_date)]
    pub to: String,
    #[arg(long, value_enum, default_value_t = InvoiceFormat::Html)]
    pub format: InvoiceFormat,
    /// Write the document here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// CSV encoding: UTF-8 with a byte-order mark, or Shift_JIS.
    #[arg(long, value_enum, default_value_t = CsvEncoding::Utf8)]
    pub encoding: CsvEncoding,
    /// Issue even though the period overlaps an invoice already issued (a corrected
    /// invoice; the same period then gets a new number), or has not ended yet.
    #[arg(long)]
    pub force: bool,
    /// Print what the invoice would be; issue nothing, record nothing.
    #[arg(long)]
    pub preview: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceFormat {
    /// The printable qualified invoice.
    Html,
    /// One row per line, parcel and total.
    Csv,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvEncoding {
    Utf8,
    Sjis,
}

/// Issues the invoice, writes the document and says on standard error what was done.
pub async fn run(args: InvoiceArgs, config: &Config, store: &Store) -> anyhow::Result<()> {
    let invoice_config = config.invoice.as_ref().with_context(|| {
        let file = config.source.display();
        match super::lang() {
            crate::config::Language::Ja => format!(
                "{file} に [invoice] がありません。請求書を発行するには issuer_name、registration_number、addressee、bank_account を書いてください"
            ),
            crate::config::Language::En => format!(
                "{file} has no [invoice] section; add issuer_name, registration_number, addressee \
                 and bank_account to issue invoices"
            ),
        }
    })?;
    anyhow::ensure!(
        args.format == InvoiceFormat::Csv || args.encoding == CsvEncoding::Utf8,
        "--encoding sjis applies to --format csv only"
    );
    let period = Period::parse(&args.from, &args.to)?;
    let today = crate::domain::time::now().date_naive();
    let prepared = if args.preview {
        invoice::preview(store, invoice_config, period).await?
    } else {
        // Issuing locks the period's number: a month still running would
        // miss the shipments of its last days.
        anyhow::ensure!(
            period.to < today || args.force,
            "the period ends {} and has not ended yet (today is {today} in Japan): its later \
             shipments would be missing. Look at it with --preview, or issue it anyway with --force \
             / 期間が終わっていません。--preview で確認するか、--force で発行してください",
            period.to
        );
        invoice::issue(store, invoice_config, period, args.force).await?
    };
    let doc = &prepared.doc;
    let bytes = match args.format {
        InvoiceFormat::Html => html::render(doc).into_bytes(),
        InvoiceFormat::Csv => {
            let encoding = match args.encoding {
                CsvEncoding::Utf8 => Encoding::Utf8Bom,
                CsvEncoding::Sjis => Encoding::ShiftJis,
            };
            csv::render(doc, encoding)?
        }
    };
    match &args.output {
        Some(path) => crate::private_files::write_atomic(path, &bytes)
            .with_context(|| super::about_file(super::FileVerb::Write, path))?,
        None => std::io::stdout().write_all(&bytes).context(super::say(
            "請求書を標準出力に書けません",
            "cannot write the invoice to standard output",
        ))?,
    }
    let inv = &doc.invoice;
    let ja = lang() == Language::Ja;
    let what = match (&doc.issue, ja) {
        (Issue::Issued { number, .. }, true) => format!("{number} を発行しました"),
        (Issue::Issued { number, .. }, false) => format!("issued {number}"),
        (
            Issue::Reissued {
                number, issued_on, ..
            },
            true,
        ) => format!("{number} を再発行しました(初回発行 {issued_on})"),
        (
            Issue::Reissued {
                number, issued_on, ..
            },
            false,
        ) => format!("re-issued {number} (first issued {issued_on})"),
        (Issue::Preview, true) => "下書きを表示しました".to_string(),
        (Issue::Preview, false) => "previewed".to_string(),
    };
    let (orders, total, tax, fee, transfer) = (
        inv.orders.len(),
        html::yen(inv.grand_total),
        html::yen(inv.tax_total),
        html::yen(inv.service_fee),
        html::yen(inv.expected_transfer),
    );
    let (from, to) = (&period.from, &period.to);
    if ja {
        errln!(
            "ordersync: J-goods への請求書 {from} 〜 {to}: {what}。受注 {orders} 件、合計 {total}(うち消費税 {tax})、見込みの手数料 {fee}、見込みの入金額 {transfer}"
        );
    } else {
        errln!(
            "ordersync: {what} for {from} to {to}: {orders} orders, total {total} (tax {tax}), expected service fee {fee}, expected transfer {transfer}"
        );
    }
    if prepared.changed_since_issue {
        match lang() {
            Language::Ja => errln!(
                "ordersync: 警告: 発行後にこの期間の出荷か税率が変わりました。再発行は発行時の内容で表示します。\
                 訂正した請求書が必要なら --force で発行してください"
            ),
            Language::En => errln!(
                "ordersync: warning: shipments or tax rates of this period changed since it was issued; \
                 the re-issue shows the invoice as issued. Issue a corrected one with --force if needed."
            ),
        }
    }
    Ok(())
}
