//! The file a label program writes after printing, read as shipments: per
//! line the order's reference, the tracking number and the ship date. Any
//! bad cell refuses the whole file; every problem names its line and column
//! (1-based, as a spreadsheet shows them), in the merchant's language.

use chrono::NaiveDate;

use super::CarrierFormat;
use crate::config::Language;
use crate::text_encoding;

/// Largest file read (a day's labels are a few hundred kilobytes).
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// Most rows one file may hold.
pub const MAX_ROWS: usize = 20_000;
/// Problems listed before the rest are only counted.
pub const MAX_PROBLEMS: usize = 50;

/// One printed label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// 1-based line in the file.
    pub line: usize,
    /// The customer-management number: the order's reference.
    pub reference: String,
    /// Digits only (hyphens dropped).
    pub tracking_no: String,
    /// The ship date the file gives, if it has one.
    pub shipped_on: Option<NaiveDate>,
}

/// A problem of one cell (or one line when `column` is 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Problem {
    /// "3行目 4列: …" / "line 3, column 4: …".
    pub fn describe(&self, lang: Language) -> String {
        match (lang, self.column) {
            (Language::Ja, 0) => format!("{}行目: {}", self.line, self.message),
            (Language::Ja, c) => format!("{}行目 {c}列: {}", self.line, self.message),
            (Language::En, 0) => format!("line {}: {}", self.line, self.message),
            (Language::En, c) => format!("line {}, column {c}: {}", self.line, self.message),
        }
    }
}

fn problem(line: usize, column: usize, lang: Language, ja: String, en: String) -> Problem {
    Problem {
        line,
        column,
        message: match lang {
            Language::Ja => ja,
            Language::En => en,
        },
    }
}

/// Reads a written-back file: Shift_JIS (or UTF-8), CRLF or LF, with or
/// without a header line.
pub fn parse(
    format: CarrierFormat,
    bytes: &[u8],
    lang: Language,
) -> Result<Vec<Label>, Vec<Problem>> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![problem(
            0,
            0,
            lang,
            format!("ファイルが大きすぎます({}バイトまで)。", MAX_FILE_BYTES),
            format!("the file is larger than {MAX_FILE_BYTES} bytes"),
        )]);
    }
    let text = text_encoding::decode(bytes, None).map_err(|e| {
        vec![problem(
            e.line,
            0,
            lang,
            "Shift_JISの文字として読めません。".into(),
            "not Shift_JIS text".into(),
        )]
    })?;
    let rb = format.read_back();
    let needed = [
        Some(rb.order_column),
        Some(rb.tracking_column),
        rb.date_column,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(1);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut labels = Vec::new();
    let mut problems = Vec::new();
    // The column count every line must have: the first line's.
    let mut width: Option<usize> = None;
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(i + 1, |p| line_at(&text, p.byte()));
                problems.push(problem(
                    line,
                    0,
                    lang,
                    "CSVとして読めません(引用符が閉じていません)。".into(),
                    format!("not CSV: {e}"),
                ));
                break;
            }
        };
        let line = record
            .position()
            .map_or(i + 1, |p| line_at(&text, p.byte()));
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if i == 0 {
            let first = record.get(rb.order_column - 1).unwrap_or("").trim();
            if rb.order_headers.contains(&first) {
                width = Some(record.len());
                continue;
            }
        }
        if labels.len() + problems.len() >= MAX_ROWS {
            problems.push(problem(
                line,
                0,
                lang,
                format!("行が多すぎます({MAX_ROWS}行まで)。ファイルを分けてください。"),
                format!("more than {MAX_ROWS} rows; split the file"),
            ));
            break;
        }
        let expected = *width.get_or_insert(record.len());
        if record.len() != expected || record.len() < needed {
            problems.push(problem(
                line,
                0,
                lang,
                format!(
                    "列の数が{}です({}列のはずです)。",
                    record.len(),
                    expected.max(needed)
                ),
                format!(
                    "{} columns where {} were expected",
                    record.len(),
                    expected.max(needed)
                ),
            ));
            continue;
        }
        match label(format, &record, line, lang) {
            Ok(l) => labels.push(l),
            Err(p) => problems.push(p),
        }
    }
    if labels.is_empty() && problems.is_empty() {
        problems.push(problem(
            1,
            0,
            lang,
            "送り状の行がありません。".into(),
            "the file has no labels".into(),
        ));
    }
    match problems.is_empty() {
        true => Ok(labels),
        false => Err(problems),
    }
}

fn label(
    format: CarrierFormat,
    record: &csv::StringRecord,
    line: usize,
    lang: Language,
) -> Result<Label, Problem> {
    let rb = format.read_back();
    let cell = |c: usize| record.get(c - 1).unwrap_or("").trim();
    let reference = cell(rb.order_column);
    if reference.is_empty() || reference.chars().count() > 64 {
        return Err(problem(
            line,
            rb.order_column,
            lang,
            "お客様管理番号が空か長すぎます。".into(),
            "the customer-management number is empty or too long".into(),
        ));
    }
    let raw = cell(rb.tracking_column);
    let digits: String = raw.chars().filter(|c| *c != '-').collect();
    let (min, max) = rb.tracking_digits;
    if !(min..=max).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let shown: String = raw.chars().take(30).collect();
        let want = match min == max {
            true => format!("{min}"),
            false => format!("{min}〜{max}"),
        };
        return Err(problem(
            line,
            rb.tracking_column,
            lang,
            format!("送り状番号「{shown}」は数字{want}桁ではありません。"),
            format!("tracking number {shown:?} is not {want} digits"),
        ));
    }
    let shipped_on = match rb.date_column {
        None => None,
        Some(c) => parse_date(cell(c)).map_err(|_| {
            let shown: String = cell(c).chars().take(30).collect();
            problem(
                line,
                c,
                lang,
                format!("出荷日「{shown}」は日付ではありません(2026/12/03 または 20261203)。"),
                format!("ship date {shown:?} is not a date (2026/12/03 or 20261203)"),
            )
        })?,
    };
    Ok(Label {
        line,
        reference: reference.to_string(),
        tracking_no: digits,
        shipped_on,
    })
}

/// The 1-based line of a record starting at byte `at` (a quoted cell may
/// span lines, so a record's index is not its line). After a CR the reader
/// starts the next record on the LF of the CRLF, hence the byte at `at` counts.
fn line_at(text: &str, at: u64) -> usize {
    let end = usize::try_from(at)
        .unwrap_or(usize::MAX)
        .saturating_add(1)
        .min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// `2026/12/03`, `2026-12-03` or `20261203`; empty is no date.
fn parse_date(s: &str) -> Result<Option<NaiveDate>, ()> {
    if s.is_empty() {
        return Ok(None);
    }
    ["%Y/%m/%d", "%Y-%m-%d", "%Y%m%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .map(Some)
        .ok_or(())
}
