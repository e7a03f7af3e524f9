//! Shipping through the carrier's own label program (出荷ファイル): the
//! orders ready to ship as the import file of ヤマト B2クラウド, 佐川 e飛伝Ⅱ or
//! 日本郵便 ゆうパックプリントR (Shift_JIS CSV, CRLF), and the file the program
//! writes back after printing read as shipments, recorded exactly as
//! `orders ship` records them.
//!
//! - [`layout`]: the column tables (and the \[guess\] points, in one table).
//! - [`export`]: order → row, pure: a row that cannot be written right is
//!   refused with its reason rather than written wrong.
//! - [`import`]: file → (line, reference, tracking number, date), pure; any
//!   bad cell refuses the whole file, naming its line and column.
//! - [`store`]: what the export reads, the short references of long order
//!   ids, and the import as one transaction.

pub mod export;
pub mod import;
pub mod layout;
pub mod store;

#[cfg(test)]
mod tests;

use crate::config::Language;
use crate::domain::Carrier;

/// A label program's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CarrierFormat {
    /// ヤマト運輸 B2クラウド.
    YamatoB2,
    /// 佐川急便 e飛伝Ⅱ.
    SagawaEhiden,
    /// 日本郵便 ゆうパックプリントR.
    YupackPrintR,
}

impl CarrierFormat {
    /// Every format, in the order pages list them.
    pub const ALL: [CarrierFormat; 3] = [
        CarrierFormat::YamatoB2,
        CarrierFormat::SagawaEhiden,
        CarrierFormat::YupackPrintR,
    ];

    /// The name commands and URLs use (`--carrier yamato-b2`).
    pub fn as_str(self) -> &'static str {
        match self {
            CarrierFormat::YamatoB2 => "yamato-b2",
            CarrierFormat::SagawaEhiden => "sagawa-ehiden",
            CarrierFormat::YupackPrintR => "yupack-printr",
        }
    }

    /// Reads [`CarrierFormat::as_str`].
    pub fn parse(s: &str) -> Option<CarrierFormat> {
        CarrierFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim().to_ascii_lowercase())
    }

    /// The label program's name as the merchant knows it.
    pub fn program(self) -> &'static str {
        match self {
            CarrierFormat::YamatoB2 => "ヤマト運輸 B2クラウド",
            CarrierFormat::SagawaEhiden => "佐川急便 e飛伝Ⅱ",
            CarrierFormat::YupackPrintR => "日本郵便 ゆうパックプリントR",
        }
    }

    /// The carrier a shipment is recorded under.
    pub fn carrier(self) -> Carrier {
        match self {
            CarrierFormat::YamatoB2 => Carrier::Yamato,
            CarrierFormat::SagawaEhiden => Carrier::Sagawa,
            CarrierFormat::YupackPrintR => Carrier::JapanPost,
        }
    }

    /// The import file's columns.
    pub fn columns(self) -> &'static [layout::Column] {
        match self {
            CarrierFormat::YamatoB2 => layout::YAMATO_B2,
            CarrierFormat::SagawaEhiden => layout::SAGAWA_EHIDEN,
            CarrierFormat::YupackPrintR => layout::YUPACK_PRINTR,
        }
    }

    /// Whether the import file starts with a header line.
    pub fn header_line(self) -> bool {
        match self {
            CarrierFormat::YamatoB2 | CarrierFormat::YupackPrintR => true,
            CarrierFormat::SagawaEhiden => false,
        }
    }

    /// How a ship date is written in the import file.
    pub fn date_format(self) -> &'static str {
        match self {
            CarrierFormat::YamatoB2 => "%Y/%m/%d",
            CarrierFormat::SagawaEhiden | CarrierFormat::YupackPrintR => "%Y%m%d",
        }
    }

    /// How the file written back after printing is read.
    pub fn read_back(self) -> layout::ReadBack {
        let (_, r) = layout::READ_BACK
            .iter()
            .find(|(f, _)| *f == self)
            .copied()
            .unwrap_or(layout::READ_BACK[0]);
        r
    }

    /// A file name for the download.
    pub fn file_name(self, today: chrono::NaiveDate) -> String {
        format!("ordersync-{}-{}.csv", self.as_str(), today.format("%Y%m%d"))
    }
}

/// Why a format name is not one.
pub fn unknown_format(lang: Language, given: &str) -> String {
    let given: String = given.chars().take(40).collect();
    match lang {
        Language::Ja => format!(
            "配送会社の形式 {given:?} はありません。yamato-b2(B2クラウド)、sagawa-ehiden(e飛伝Ⅱ)、yupack-printr(ゆうパックプリントR)のどれかを指定してください。"
        ),
        Language::En => format!(
            "unknown carrier format {given:?}; use yamato-b2 (B2クラウド), sagawa-ehiden (e飛伝Ⅱ) or yupack-printr (ゆうパックプリントR)"
        ),
    }
}

/// The merchant's details printed as the sender (ご依頼主) and Yamato's
/// billing codes: `[carrier_files]` of the config.
pub use crate::config::CarrierFilesConfig as Sender;
