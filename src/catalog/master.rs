//! Reading the item master as an ERP exports it: CSV (UTF-8 or Shift_JIS)
//! with a header row in Japanese (商品コード, 商品名, 販売価格(税込), …) or
//! English, or a JSON array. All or nothing: the first bad value rejects
//! the file with its line and column.

use std::collections::HashSet;

use serde::Deserialize;

use super::{Item, MasterError};
use crate::domain::input::amount;
use crate::domain::input::header_name;
use crate::text_encoding::{self, TextEncoding};

/// A column of the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Sku,
    Name,
    Price,
    TaxRate,
    Jan,
    Weight,
    Category,
    Description,
    Images,
    Used,
    OnSale,
    Seller,
}

/// Header names (normalised as the stock import does: no spaces, ASCII
/// case and full-width letters folded).
const NAMES: &[(&str, Field)] = &[
    ("商品コード", Field::Sku),
    ("sku", Field::Sku),
    ("item_code", Field::Sku),
    ("品番", Field::Sku),
    ("商品名", Field::Name),
    ("name", Field::Name),
    ("item_name", Field::Name),
    ("販売価格(税込)", Field::Price),
    ("販売価格（税込）", Field::Price),
    ("税込価格", Field::Price),
    ("販売価格", Field::Price),
    ("price", Field::Price),
    ("税率", Field::TaxRate),
    ("tax_rate", Field::TaxRate),
    ("janコード", Field::Jan),
    ("jan", Field::Jan),
    ("jan_code", Field::Jan),
    ("重量(g)", Field::Weight),
    ("重量（g）", Field::Weight),
    ("重量", Field::Weight),
    ("weight_g", Field::Weight),
    ("カテゴリ", Field::Category),
    ("カテゴリー", Field::Category),
    ("カテゴリコード", Field::Category),
    ("category_code", Field::Category),
    ("商品説明", Field::Description),
    ("説明", Field::Description),
    ("description", Field::Description),
    ("画像url", Field::Images),
    ("images", Field::Images),
    ("中古", Field::Used),
    ("used", Field::Used),
    ("販売中", Field::OnSale),
    ("on_sale", Field::OnSale),
    ("出品者コード", Field::Seller),
    ("出品者", Field::Seller),
    ("seller", Field::Seller),
];

/// Longest item name J-goods takes.
const MAX_NAME: usize = 255;
const MAX_IMAGES: usize = 10;
/// Longest description ordersync keeps and sends (a long product page's
/// text; more is a file pasted by mistake or an attempt to fill the store).
pub const MAX_DESCRIPTION: usize = 10_000;

/// Parses a CSV master (the encoding detected when `None`).
pub fn parse_csv(bytes: &[u8], encoding: Option<TextEncoding>) -> Result<Vec<Item>, MasterError> {
    let text = text_encoding::decode(bytes, encoding).map_err(|e| MasterError {
        line: e.line,
        column: String::new(),
        message: e.message,
    })?;
    let mut header: Option<Vec<(Option<Field>, String)>> = None;
    let mut rows = Vec::new();
    for row in crate::spreadsheet::rows(&text) {
        let (line, record) = row.map_err(|e| MasterError {
            line: e.line,
            column: String::new(),
            message: format!("unreadable CSV / CSVとして読めません: {}", e.message),
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let Some(columns) = &header else {
            let named: Vec<(Option<Field>, String)> = record
                .iter()
                .map(|h| {
                    let n = header_name(h);
                    (
                        NAMES
                            .iter()
                            .find(|(name, _)| header_name(name) == n)
                            .map(|(_, f)| *f),
                        h.to_string(),
                    )
                })
                .collect();
            for needed in [Field::Sku, Field::Name, Field::Price] {
                if !named.iter().any(|(f, _)| *f == Some(needed)) {
                    return Err(MasterError {
                        line,
                        column: String::new(),
                        message: format!(
                            "the header lacks a column for {needed:?} (商品コード, 商品名, 販売価格(税込) are required) / 必須の列がありません"
                        ),
                    });
                }
            }
            header = Some(named);
            continue;
        };
        let mut row = Row::default();
        for ((field, name), value) in columns.iter().zip(record.iter()) {
            if let Some(f) = field {
                row.set(*f, name, value);
            }
        }
        rows.push((line, row));
    }
    build(rows)
}

/// One row's values by field, with the header each came under.
#[derive(Default)]
struct Row {
    values: Vec<(Field, String, String)>,
}

impl Row {
    fn set(&mut self, f: Field, column: &str, value: &str) {
        self.values.push((f, column.to_string(), value.to_string()));
    }

    fn get(&self, f: Field) -> Option<(&str, &str)> {
        self.values
            .iter()
            .find(|(field, _, v)| *field == f && !v.is_empty())
            .map(|(_, c, v)| (c.as_str(), v.as_str()))
    }
}

fn build(rows: Vec<(usize, Row)>) -> Result<Vec<Item>, MasterError> {
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let fail = |column: &str, message: String| MasterError {
            line,
            column: column.to_string(),
            message,
        };
        let required = |f: Field, what: &str| {
            row.get(f)
                .ok_or_else(|| fail(what, format!("{what} is empty / 空です")))
        };
        let (_, sku) = required(Field::Sku, "商品コード")?;
        let (_, name) = required(Field::Name, "商品名")?;
        let (price_col, price) = required(Field::Price, "販売価格(税込)")?;
        let item = Item {
            sku: sku.to_string(),
            name: name.to_string(),
            price: whole(
                price,
                price_col,
                &fail,
                "a whole number of yen / 円単位の整数",
            )?,
            tax_rate: match row.get(Field::TaxRate) {
                None => 10,
                Some((c, v)) => tax_rate(v).ok_or_else(|| {
                    fail(
                        c,
                        format!("{v:?}: the tax rate is 8 or 10 / 税率は 8 か 10 です"),
                    )
                })?,
            },
            jan_code: row.get(Field::Jan).map(|(_, v)| v.to_string()),
            weight_g: match row.get(Field::Weight) {
                None => None,
                Some((c, v)) => Some(whole(
                    v,
                    c,
                    &fail,
                    "a whole number of grams / グラムの整数",
                )?),
            },
            category_code: row.get(Field::Category).map(|(_, v)| v.to_string()),
            description: row.get(Field::Description).map(|(_, v)| v.to_string()),
            images: row
                .get(Field::Images)
                .map(|(_, v)| {
                    v.split(|c: char| c.is_whitespace() || c == '|' || c == ';' || c == ',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            used: flag(&row, Field::Used, false, &fail)?,
            on_sale: flag(&row, Field::OnSale, true, &fail)?,
            seller: row.get(Field::Seller).map(|(_, v)| v.trim().to_string()),
        };
        check(&item).map_err(|(column, message)| fail(column, message))?;
        if !seen.insert(item.sku.clone()) {
            return Err(fail(
                "商品コード",
                format!("{} appears twice / 商品コードが重複しています", item.sku),
            ));
        }
        items.push(item);
    }
    Ok(items)
}

fn whole(
    v: &str,
    column: &str,
    fail: &dyn Fn(&str, String) -> MasterError,
    what: &str,
) -> Result<u32, MasterError> {
    amount(v)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| fail(column, format!("{v:?} is not {what}")))
}

fn tax_rate(v: &str) -> Option<u8> {
    match v.trim().trim_end_matches(['%', '％']) {
        "8" | "８" | "0.08" => Some(8),
        "10" | "１０" | "0.1" | "0.10" => Some(10),
        _ => None,
    }
}

/// はい/いいえ, 1/0, true/false, ○/×, and for 中古 the words 中古/新品.
fn flag(
    row: &Row,
    f: Field,
    default: bool,
    fail: &dyn Fn(&str, String) -> MasterError,
) -> Result<bool, MasterError> {
    let Some((column, v)) = row.get(f) else {
        return Ok(default);
    };
    match header_name(v).as_str() {
        "はい" | "1" | "true" | "yes" | "○" | "中古" | "販売中" | "y" => Ok(true),
        "いいえ" | "0" | "false" | "no" | "×" | "新品" | "停止" | "n" => Ok(false),
        _ => Err(fail(
            column,
            format!(
                "{v:?} is not one of はい/いいえ, 1/0, true/false / はい・いいえで書いてください"
            ),
        )),
    }
}

/// What J-goods would refuse, refused here first with the column to fix.
fn check(item: &Item) -> Result<(), (&'static str, String)> {
    if !crate::domain::input::is_sku(&item.sku) {
        return Err((
            "商品コード",
            "1 to 128 characters, no control or direction characters / \
             128文字まで、制御文字・表示方向の制御文字は使えません"
                .into(),
        ));
    }
    if item
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err((
            "商品説明",
            format!("longer than {MAX_DESCRIPTION} characters / {MAX_DESCRIPTION}文字までです"),
        ));
    }
    if item.name.chars().count() > MAX_NAME {
        return Err((
            "商品名",
            format!("longer than {MAX_NAME} characters / {MAX_NAME}文字までです"),
        ));
    }
    if item.images.len() > MAX_IMAGES {
        return Err((
            "画像URL",
            format!("at most {MAX_IMAGES} images / 画像は{MAX_IMAGES}枚までです"),
        ));
    }
    if let Some(bad) = item.images.iter().find(|u| !is_https(u)) {
        return Err((
            "画像URL",
            format!("{bad:?} is not an https:// URL / https:// のURLにしてください"),
        ));
    }
    if let Some(jan) = &item.jan_code
        && !(matches!(jan.len(), 8 | 13) && jan.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err((
            "JANコード",
            format!("{jan:?} is not 8 or 13 digits / JANコードは8桁か13桁です"),
        ));
    }
    if let Some(s) = &item.seller
        && (s.is_empty()
            || s.len() > 32
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err((
            "出品者コード",
            format!(
                "{s:?} is not a seller code (letters, digits, - or _, 32 at most) / 出品者コードの形式が違います"
            ),
        ));
    }
    if let Some(c) = &item.category_code
        && !super::categories::is_code(c)
    {
        return Err((
            "カテゴリ",
            format!(
                "{c:?} is not a category code (a-z 0-9 - _, 32 at most) / カテゴリコードの形式が違います"
            ),
        ));
    }
    Ok(())
}

fn is_https(u: &str) -> bool {
    reqwest::Url::parse(u)
        .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
}

/// The JSON form: an array of items with the English names.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonItem {
    #[serde(alias = "item_code")]
    sku: String,
    #[serde(alias = "item_name")]
    name: String,
    price: u32,
    #[serde(default = "ten")]
    tax_rate: u8,
    jan_code: Option<String>,
    weight_g: Option<u32>,
    category_code: Option<String>,
    description: Option<String>,
    #[serde(default)]
    images: Vec<String>,
    #[serde(default)]
    used: bool,
    #[serde(default = "yes")]
    on_sale: bool,
    seller: Option<String>,
}

fn ten() -> u8 {
    10
}

fn yes() -> bool {
    true
}

/// Parses the JSON form; element `n` (1-based) is its "line".
pub fn parse_json(bytes: &[u8]) -> Result<Vec<Item>, MasterError> {
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| MasterError {
            line: 0,
            column: String::new(),
            message: format!("not a JSON array of items / JSONの配列ではありません: {e}"),
        })?;
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        let fail = |column: &str, message: String| MasterError {
            line: i + 1,
            column: column.to_string(),
            message,
        };
        let j: JsonItem = serde_json::from_value(v).map_err(|e| fail("", e.to_string()))?;
        if j.tax_rate != 8 && j.tax_rate != 10 {
            return Err(fail(
                "tax_rate",
                "the tax rate is 8 or 10 / 税率は 8 か 10 です".into(),
            ));
        }
        if j.price == 0 || j.weight_g == Some(0) {
            return Err(fail(
                if j.price == 0 { "price" } else { "weight_g" },
                "must be at least 1".into(),
            ));
        }
        let item = Item {
            sku: j.sku,
            name: j.name,
            price: j.price,
            tax_rate: j.tax_rate,
            jan_code: j.jan_code,
            weight_g: j.weight_g,
            category_code: j.category_code,
            description: j.description,
            images: j.images,
            used: j.used,
            on_sale: j.on_sale,
            seller: j.seller,
        };
        if item.sku.trim().is_empty() || item.name.trim().is_empty() {
            return Err(fail("sku", "sku and name must not be empty".into()));
        }
        check(&item).map_err(|(column, message)| fail(column, message))?;
        if !seen.insert(item.sku.clone()) {
            return Err(fail(
                "sku",
                format!("{} appears twice / 商品コードが重複しています", item.sku),
            ));
        }
        items.push(item);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "商品コード,商品名,販売価格(税込),税率,JANコード,重量(g),カテゴリ,商品説明,画像URL,中古,販売中,仕入先";

    #[test]
    fn a_shift_jis_master_as_an_erp_writes_it() {
        let text = format!(
            "{HEADER}\nSKU-001,南部鉄器 急須 0.6L,\"5,500\",10%,4901234567894,1200,tea,岩手県産,https://shop.example.jp/a.jpg https://shop.example.jp/b.jpg,いいえ,はい,盛岡鋳造\nSKU-002,煎茶,1080円,8,,150,,,,新品,,\n"
        );
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
        let items = parse_csv(&sjis, None).unwrap();
        assert_eq!(items.len(), 2);
        let a = &items[0];
        assert_eq!((a.price, a.tax_rate, a.weight_g), (5500, 10, Some(1200)));
        assert_eq!(a.images.len(), 2);
        assert_eq!(a.category_code.as_deref(), Some("tea"));
        assert!(!a.used && a.on_sale);
        let b = &items[1];
        assert_eq!(
            (b.price, b.tax_rate, b.jan_code.as_deref()),
            (1080, 8, None)
        );
        assert!(b.on_sale, "an empty 販売中 is on sale");
    }

    #[test]
    fn a_bad_value_rejects_the_file_at_its_line_and_column() {
        let good = "A,急須,5500,10,,1200,,,,いいえ,はい,";
        let cases = [
            ("A,急須,5500,10,,1200,,,,たぶん,はい,", "中古"),
            ("A,急須,5500.5,10,,1200,,,,いいえ,はい,", "販売価格(税込)"),
            ("A,急須,5500,10,,1.2kg,,,,いいえ,はい,", "重量(g)"),
            ("A,急須,5500,5,,1200,,,,いいえ,はい,", "税率"),
            (
                "A,急須,5500,10,,1200,,,http://x.example/a.jpg,いいえ,はい,",
                "画像URL",
            ),
            ("A,急須,5500,10,123,1200,,,,いいえ,はい,", "JANコード"),
            ("A,急須,5500,10,,1200,Tea Pots,,,いいえ,はい,", "カテゴリ"),
            (",急須,5500,10,,1200,,,,いいえ,はい,", "商品コード"),
            ("A,急須,5500,10,,1200,,,,いいえ,はい,", "商品コード"),
        ];
        for (row, column) in cases {
            let text = format!("{HEADER}\n{good}\n{row}\n");
            let text = if row == good {
                text
            } else {
                text.replacen(
                    &format!("{good}\n"),
                    &format!("{}\n", good.replacen('A', "Z", 1)),
                    1,
                )
            };
            // Excel and Japanese ERPs write CRLF: the same line either way.
            for text in [text.clone(), text.replace('\n', "\r\n")] {
                let e = parse_csv(text.as_bytes(), None).unwrap_err();
                assert_eq!((e.line, e.column.as_str()), (3, column), "{row}: {e}");
            }
        }
        let e = parse_csv("商品コード,商品名\nA,急須\n".as_bytes(), None).unwrap_err();
        assert_eq!(e.line, 1, "{e}");
    }

    /// A SKU with a line feed, an ESC or a direction control, or a
    /// description beyond the cap, is refused at its line and column.
    #[test]
    fn hostile_skus_and_oversized_descriptions_are_refused() {
        for sku in [
            "A\u{1b}[2J",
            "A\u{202E}gpj.exe",
            "\"A\nB\"",
            &"X".repeat(129),
        ] {
            let text = format!("{HEADER}\n{sku},急須,5500,10,,1200,,,,いいえ,はい,\n");
            let e = parse_csv(text.as_bytes(), None).unwrap_err();
            assert_eq!(e.column, "商品コード", "{sku:?}: {e}");
        }
        let long = "説".repeat(MAX_DESCRIPTION + 1);
        let text = format!("{HEADER}\nA,急須,5500,10,,1200,,{long},,いいえ,はい,\n");
        let e = parse_csv(text.as_bytes(), None).unwrap_err();
        assert_eq!(e.column, "商品説明", "{e}");
        let json = r#"[{"sku": "A\u202e", "name": "x", "price": 1}]"#;
        assert_eq!(
            parse_json(json.as_bytes()).unwrap_err().column,
            "商品コード"
        );
    }

    #[test]
    fn the_json_form_names_the_element() {
        let items = parse_json(
            r#"[{"sku": "A", "name": "急須", "price": 5500, "weight_g": 1200}]"#.as_bytes(),
        )
        .unwrap();
        assert_eq!((items[0].tax_rate, items[0].on_sale), (10, true));
        let e = parse_json(br#"[{"sku": "A", "name": "x", "price": 1}, {"sku": "B", "name": "x", "price": 1, "colour": "red"}]"#)
            .unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e =
            parse_json(br#"[{"sku": "A", "name": "x", "price": 1, "images": ["ftp://x/a.jpg"]}]"#)
                .unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (1, "画像URL"));
    }
}
