//! CSV cells a spreadsheet opens safely. A cell that starts with `=`, `+`,
//! `-`, `@`, TAB or CR is a formula to Excel and LibreOffice
//! (`=HYPERLINK(...)` in an item name would run on the operator's machine), so
//! it gets a leading `'`, as OWASP advises; plain numbers (`-1200`) stay
//! numbers.

use std::borrow::Cow;

use csv::StringRecord;

/// The rows of a CSV file as ordersync reads every file a merchant gives it
/// (no header assumed, rows of any width, cells trimmed), each with the
/// 1-based line of the file where it starts.
///
/// The line comes from the row's byte offset: `csv::Position::line` counts a
/// CRLF file (what Japanese ERPs and Excel write) one line short per row, so
/// an error would name the wrong row.
pub fn rows(text: &str) -> Rows<'_> {
    let records = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
        .into_records();
    Rows {
        text,
        records,
        counted_to: 0,
        line: 1,
    }
}

/// A row the CSV reader could not read, at its line.
#[derive(Debug)]
pub struct UnreadableRow {
    /// 1-based line of the file.
    pub line: usize,
    /// What the CSV reader said.
    pub message: String,
}

/// See [`rows`].
pub struct Rows<'a> {
    text: &'a str,
    records: csv::StringRecordsIntoIter<&'a [u8]>,
    /// Byte offset up to which `line` counts the line feeds (rows come in
    /// order, so the counting is linear in the file, not quadratic).
    counted_to: usize,
    line: usize,
}

impl Rows<'_> {
    /// The line of the row the reader began at `byte`. The reader's offset is
    /// where it began looking, before the line ending of the row above (a
    /// CRLF's LF) and any blank lines it skipped: the row starts after them.
    fn line_at(&mut self, byte: u64) -> usize {
        let bytes = self.text.as_bytes();
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while matches!(bytes.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        if byte > self.counted_to {
            let seen = &bytes[self.counted_to..byte];
            self.line += seen.iter().filter(|&&b| b == b'\n').count();
            self.counted_to = byte;
        }
        self.line
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<(usize, StringRecord), UnreadableRow>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.records.next()?;
        Some(match record {
            Ok(record) => {
                let byte = record.position().map_or(0, csv::Position::byte);
                Ok((self.line_at(byte), record))
            }
            Err(e) => {
                let line = match e.position() {
                    Some(p) => self.line_at(p.byte()),
                    None => self.line,
                };
                Err(UnreadableRow {
                    line,
                    message: e.to_string(),
                })
            }
        })
    }
}

/// `value` as a cell no spreadsheet reads as a formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    let starts_formula = value
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if starts_formula && !is_number(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A plain decimal number: an optional sign, digits, at most one point.
fn is_number(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    let mut points = 0;
    !digits.is_empty()
        && digits.chars().all(|c| {
            points += usize::from(c == '.');
            c.is_ascii_digit() || (c == '.' && points == 1)
        })
        && digits.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1+1",
            "-1+1",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-",
        ] {
            assert_eq!(cell(bad), format!("'{bad}"), "{bad:?}");
        }
        for ok in ["-1200", "+3", "10.5", "SKU-1", "南部鉄器", "", "a=b"] {
            assert_eq!(cell(ok), ok, "{ok:?}");
        }
    }

    fn lines(text: &str) -> Vec<(usize, String)> {
        rows(text)
            .map(|r| r.map(|(line, rec)| (line, rec.iter().collect::<Vec<_>>().join("|"))))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn rows_carry_the_file_s_line_numbers_for_both_line_endings() {
        let lf = "商品コード,実在庫数\nSKU-001,5\n\nSKU-002,abc\n";
        let crlf = lf.replace('\n', "\r\n");
        for text in [lf, crlf.as_str()] {
            assert_eq!(
                lines(text),
                [
                    (1, "商品コード|実在庫数".to_string()),
                    (2, "SKU-001|5".to_string()),
                    (4, "SKU-002|abc".to_string()),
                ],
                "{text:?}"
            );
        }
        // A quoted cell over two lines: the next row is on the line after it.
        let multi = "A,\"x\r\ny\"\r\nB,2\r\n";
        assert_eq!(lines(multi)[1].0, 3);
    }
}
