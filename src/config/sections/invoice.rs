//! `[invoice]`: the merchant's details on the invoices to J-goods.

use super::*;

/// The `[invoice]` samples of `config.example.toml`: an invoice must never
/// go out under them.
const SAMPLE_ISSUER_NAME: &str = "株式会社サンプル商店";
const SAMPLE_REGISTRATION_NUMBER: &str = "T0000000000000";

impl SectionReader<'_> {
    pub fn invoice(&self, raw: RawInvoice) -> Result<InvoiceConfig> {
        let registration_number =
            self.required("invoice.registration_number", raw.registration_number)?;
        let digits = registration_number.strip_prefix('T').unwrap_or("");
        if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(
                "invoice.registration_number",
                "must be `T` followed by 13 digits (適格請求書発行事業者登録番号)",
            ));
        }
        if registration_number == SAMPLE_REGISTRATION_NUMBER {
            return Err(self.err(
                "invoice.registration_number",
                "is the example's sample; write your own 登録番号 / 例の番号のままです",
            ));
        }
        let issuer_name = self.required_text("invoice.issuer_name", raw.issuer_name)?;
        if issuer_name == SAMPLE_ISSUER_NAME {
            return Err(self.err(
                "invoice.issuer_name",
                "is the example's sample; write your registered name / 例の名前のままです",
            ));
        }
        Ok(InvoiceConfig {
            issuer_name,
            registration_number,
            addressee: self.required_text("invoice.addressee", raw.addressee)?,
            bank_account: self.required_text("invoice.bank_account", raw.bank_account)?,
            number_prefix: raw
                .number_prefix
                .unwrap_or_else(|| INVOICE_NUMBER_PREFIX.to_owned()),
        })
    }
}
