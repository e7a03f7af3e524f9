//! The column layouts of the three label programs, as tables: what each
//! column is called, how long it may be (counted as the carrier counts:
//! Shift_JIS bytes, a full-width character being two) and what ordersync puts
//! there. `/work/shared/providers/carriers.md` gives each table's public
//! source; the points the sources leave open are in [`READ_BACK`] and
//! marked \[guess\] there, so a correction is one line.

use super::CarrierFormat;

/// What ordersync writes into a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Left empty.
    Blank,
    /// A constant the layout prescribes (送り状種類 0 = 発払).
    Fixed(&'static str),
    /// The order's reference (its id, or a short reference when the id does
    /// not fit the column): what the written-back file carries back.
    OrderRef,
    /// The planned ship date (today in Japan), in the layout's date format.
    ShipDate,
    /// The recipient's phone, half-width digits and hyphens.
    Phone,
    /// The recipient's postcode as `NNN-NNNN`.
    Postal,
    /// Part `n` of the recipient's address: the address is cut, at character
    /// boundaries, into the address columns in order.
    Address(u8),
    /// Part `n` of the recipient's name, cut the same way.
    Name(u8),
    /// The sender's (ご依頼主, the merchant's) details from `[carrier_files]`.
    SenderPhone,
    SenderPostal,
    SenderAddress(u8),
    SenderName(u8),
    /// What is in the parcel: the first line's name (cut to the column).
    ItemName,
    /// Yamato's 請求先顧客コード and 運賃管理番号 from `[carrier_files]`.
    YamatoBillingCode,
    YamatoFreightCode,
}

/// One column of a label program's import file.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    /// Longest value in Shift_JIS bytes.
    pub max_bytes: usize,
    /// Whether the label program refuses the row without it.
    pub required: bool,
    pub field: Field,
}

const fn col(header: &'static str, max_bytes: usize, required: bool, field: Field) -> Column {
    Column {
        header,
        max_bytes,
        required,
        field,
    }
}

use Field::*;

/// ヤマト B2クラウド 外部データ取込 (基本レイアウト): header line, then one
/// row per parcel. Columns 1–42; the card-payment and notification columns
/// after them are left out.
pub const YAMATO_B2: &[Column] = &[
    col("お客様管理番号", 20, false, OrderRef),
    col("送り状種類", 1, true, Fixed("0")),
    col("クール区分", 1, false, Blank),
    col("伝票番号", 12, false, Blank),
    col("出荷予定日", 10, true, ShipDate),
    col("お届け予定日", 10, false, Blank),
    col("配達時間帯", 4, false, Blank),
    col("お届け先コード", 20, false, Blank),
    col("お届け先電話番号", 15, true, Phone),
    col("お届け先電話番号枝番", 2, false, Blank),
    col("お届け先郵便番号", 8, true, Postal),
    col("お届け先住所", 64, true, Address(0)),
    col("お届け先アパートマンション名", 32, false, Address(1)),
    col("お届け先会社・部門１", 50, false, Blank),
    col("お届け先会社・部門２", 50, false, Blank),
    col("お届け先名", 32, true, Name(0)),
    col("お届け先名(ｶﾅ)", 50, false, Blank),
    col("敬称", 4, false, Fixed("様")),
    col("ご依頼主コード", 20, false, Blank),
    col("ご依頼主電話番号", 15, true, SenderPhone),
    col("ご依頼主電話番号枝番", 2, false, Blank),
    col("ご依頼主郵便番号", 8, true, SenderPostal),
    col("ご依頼主住所", 64, true, SenderAddress(0)),
    col("ご依頼主アパートマンション", 32, false, SenderAddress(1)),
    col("ご依頼主名", 32, true, SenderName(0)),
    col("ご依頼主名(ｶﾅ)", 50, false, Blank),
    col("品名コード１", 30, false, Blank),
    col("品名１", 50, true, ItemName),
    col("品名コード２", 30, false, Blank),
    col("品名２", 50, false, Blank),
    col("荷扱い１", 20, false, Blank),
    col("荷扱い２", 20, false, Blank),
    col("記事", 44, false, Blank),
    col("ｺﾚｸﾄ代金引換額(税込)", 7, false, Blank),
    col("内消費税額等", 7, false, Blank),
    col("止置き", 1, false, Blank),
    col("営業所コード", 6, false, Blank),
    col("発行枚数", 2, false, Blank),
    col("個数口表示フラグ", 1, false, Blank),
    col("請求先顧客コード", 12, true, YamatoBillingCode),
    col("請求先分類コード", 3, false, Blank),
    col("運賃管理番号", 2, true, YamatoFreightCode),
];

/// 佐川 e飛伝Ⅱ 出荷データ取込 (標準パターン): no header line. Addresses
/// and names are 16 full-width characters a column.
pub const SAGAWA_EHIDEN: &[Column] = &[
    col("住所録コード", 12, false, Blank),
    col("お届け先電話番号", 14, true, Phone),
    col("お届け先郵便番号", 8, true, Postal),
    col("お届け先住所1", 32, true, Address(0)),
    col("お届け先住所2", 32, false, Address(1)),
    col("お届け先住所3", 32, false, Address(2)),
    col("お届け先名称1", 32, true, Name(0)),
    col("お届け先名称2", 32, false, Name(1)),
    col("お客様管理ナンバー", 16, false, OrderRef),
    col("お客様コード", 12, false, Blank),
    col("部署・担当者", 32, false, Blank),
    col("荷送人電話番号", 14, false, SenderPhone),
    col("荷送人郵便番号", 8, false, SenderPostal),
    col("荷送人住所1", 32, false, SenderAddress(0)),
    col("荷送人住所2", 32, false, SenderAddress(1)),
    col("荷送人名称1", 32, false, SenderName(0)),
    col("荷送人名称2", 32, false, SenderName(1)),
    col("荷姿コード", 3, false, Blank),
    col("品名1", 32, false, ItemName),
];

/// 日本郵便 ゆうパックプリントR: the columns of its import filter for
/// ゆうパック (郵便種別 0, 元払い 0), header line.
pub const YUPACK_PRINTR: &[Column] = &[
    col("お客様側管理番号", 15, false, OrderRef),
    col("発送予定日", 8, true, ShipDate),
    col("発送予定時間区分", 2, false, Blank),
    col("出荷期限日", 8, false, Blank),
    col("到着期限日", 8, false, Blank),
    col("郵便種別", 1, true, Fixed("0")),
    col("保冷種別", 1, false, Fixed("0")),
    col("元/着払/代引", 1, true, Fixed("0")),
    col("書留/セキュリティ/特定記録種別", 1, false, Blank),
    col("配達時間帯指定郵便種別", 1, false, Blank),
    col("送り状種別", 20, false, Blank),
    col("お届け先 コード", 15, false, Blank),
    col("お届け先 郵便番号", 8, true, Postal),
    col("お届け先 住所1", 50, true, Address(0)),
    col("お届け先 住所2", 50, false, Address(1)),
    col("お届け先 住所3", 50, false, Address(2)),
    col("お届け先 名称1", 50, true, Name(0)),
    col("お届け先 名称2", 50, false, Name(1)),
    col("お届け先 敬称", 10, false, Fixed("様")),
    col("お届け先 電話番号", 20, true, Phone),
    col("ご依頼主 郵便番号", 8, false, SenderPostal),
    col("ご依頼主 住所1", 50, false, SenderAddress(0)),
    col("ご依頼主 住所2", 50, false, SenderAddress(1)),
    col("ご依頼主 名称1", 50, false, SenderName(0)),
    col("ご依頼主 電話番号", 20, false, SenderPhone),
    col("品名", 50, false, ItemName),
];

/// How each label program's file after printing is read: where the order's
/// reference and the tracking number are. The evidence for these is the
/// thinnest of this module (\[guess\] in the contract): correct them here.
#[derive(Debug, Clone, Copy)]
pub struct ReadBack {
    /// 1-based column of the order's reference.
    pub order_column: usize,
    /// 1-based column of the tracking number.
    pub tracking_column: usize,
    /// 1-based column of the ship date, when the file has one.
    pub date_column: Option<usize>,
    /// Headers a first line may carry in the reference column (then it is a
    /// header line and is skipped).
    pub order_headers: &'static [&'static str],
    /// Digits of a tracking number (hyphens ignored).
    pub tracking_digits: (usize, usize),
}

/// One [`ReadBack`] per format, in [`CarrierFormat::ALL`]'s order.
pub const READ_BACK: [(CarrierFormat, ReadBack); 3] = [
    // B2クラウド 発行済データ: the import layout, 伝票番号 (column 4) filled.
    (
        CarrierFormat::YamatoB2,
        ReadBack {
            order_column: 1,
            tracking_column: 4,
            date_column: Some(5),
            order_headers: &["お客様管理番号"],
            tracking_digits: (12, 12),
        },
    ),
    // e飛伝Ⅱ 出荷実績: お問合せ送り状No first, お客様管理ナンバー second,
    // 出荷日 third [guess].
    (
        CarrierFormat::SagawaEhiden,
        ReadBack {
            order_column: 2,
            tracking_column: 1,
            date_column: Some(3),
            order_headers: &["お客様管理ナンバー", "お客様管理番号"],
            tracking_digits: (12, 12),
        },
    ),
    // ゆうパックプリントR 出力フィルタ as the README has the merchant set it
    // up: お客様側管理番号, お問い合わせ番号, 発送予定日.
    (
        CarrierFormat::YupackPrintR,
        ReadBack {
            order_column: 1,
            tracking_column: 2,
            date_column: Some(3),
            order_headers: &["お客様側管理番号"],
            tracking_digits: (11, 12),
        },
    ),
];
