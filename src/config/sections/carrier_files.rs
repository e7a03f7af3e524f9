//! `[carrier_files]`: the sender (ご依頼主) printed on the labels of the
//! shipping files (出荷ファイル), and Yamato's billing codes.

use serde::{Deserialize, Serialize};

use super::*;

/// `[carrier_files]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCarrierFiles {
    pub sender_name: Option<String>,
    pub sender_postal_code: Option<String>,
    pub sender_address: Option<String>,
    pub sender_phone: Option<String>,
    pub yamato_billing_code: Option<String>,
    pub yamato_freight_code: Option<String>,
}

/// The merchant as the sender of its parcels, for the label programs' files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CarrierFilesConfig {
    /// ご依頼主名: the shop's name as printed on the label.
    pub name: String,
    /// ご依頼主郵便番号, seven digits (a hyphen allowed).
    pub postal_code: String,
    /// ご依頼主住所.
    pub address: String,
    /// ご依頼主電話番号.
    pub phone: String,
    /// B2クラウド's 請求先顧客コード (the Yamato contract's customer code,
    /// 10 or 12 digits); empty when the merchant does not use B2クラウド.
    pub yamato_billing_code: String,
    /// B2クラウド's 運賃管理番号 (default `01`).
    pub yamato_freight_code: String,
}

impl SectionReader<'_> {
    /// Reads `[carrier_files]`.
    pub fn carrier_files(&self, raw: RawCarrierFiles) -> Result<CarrierFilesConfig> {
        let postal_code =
            self.required_text("carrier_files.sender_postal_code", raw.sender_postal_code)?;
        let digits: String = postal_code.chars().filter(|c| *c != '-').collect();
        if digits.len() != 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(
                "carrier_files.sender_postal_code",
                "must be a postcode of 7 digits (1000001 or 100-0001) / 郵便番号は7桁です",
            ));
        }
        let phone = self.required_text("carrier_files.sender_phone", raw.sender_phone)?;
        if !phone.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return Err(self.err(
                "carrier_files.sender_phone",
                "must be half-width digits and hyphens / 半角数字とハイフンで書いてください",
            ));
        }
        let billing = raw.yamato_billing_code.unwrap_or_default();
        if !billing.bytes().all(|b| b.is_ascii_digit()) || billing.len() > 12 {
            return Err(self.err(
                "carrier_files.yamato_billing_code",
                "must be up to 12 digits (請求先顧客コード)",
            ));
        }
        let freight = raw.yamato_freight_code.unwrap_or_else(|| "01".to_string());
        if freight.len() != 2 || !freight.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(
                "carrier_files.yamato_freight_code",
                "must be 2 digits (運賃管理番号, usually 01)",
            ));
        }
        Ok(CarrierFilesConfig {
            name: self.required_text("carrier_files.sender_name", raw.sender_name)?,
            postal_code,
            address: self.required_text("carrier_files.sender_address", raw.sender_address)?,
            phone,
            yamato_billing_code: billing,
            yamato_freight_code: freight,
        })
    }
}
