//! The two text encodings Japanese ERPs read and write: UTF-8 and Shift_JIS.
//!
//! "Shift_JIS" here is what Windows software writes under that name: CP932
//! (Windows-31J), the superset with NEC and IBM extensions (①, ㈱, 髙…).
//! `encoding_rs::SHIFT_JIS` is the WHATWG definition, which is exactly that.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, EncoderResult, SHIFT_JIS};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A text encoding of a file exchanged with an ERP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// Shift_JIS as Windows writes it (CP932).
    ShiftJis,
}

impl TextEncoding {
    /// Reads the names operators and HTTP clients use: `utf8`, `utf-8`,
    /// `sjis`, `shift_jis`, `shift-jis`, `cp932`, `windows-31j`, `ms932`
    /// (any case).
    pub fn parse(name: &str) -> Option<TextEncoding> {
        match name.trim().trim_matches('"').to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Some(TextEncoding::Utf8),
            "sjis" | "shift_jis" | "shift-jis" | "x-sjis" | "cp932" | "windows-31j" | "ms932"
            | "ms_kanji" | "csshiftjis" => Some(TextEncoding::ShiftJis),
            _ => None,
        }
    }

    /// The name for a `charset=` parameter.
    pub fn charset(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::ShiftJis => "Shift_JIS",
        }
    }
}

/// Why bytes are not text in the expected encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    /// 1-based line of the first byte that is not valid text.
    pub line: usize,
    pub message: String,
}

/// Decodes a file. `None` detects: valid UTF-8 (with or without a BOM) is
/// UTF-8, anything else is read as Shift_JIS. A UTF-8 BOM is dropped.
pub fn decode(bytes: &[u8], encoding: Option<TextEncoding>) -> Result<Cow<'_, str>, DecodeError> {
    let without_bom = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    match encoding {
        Some(TextEncoding::Utf8) => decode_utf8(without_bom),
        Some(TextEncoding::ShiftJis) => decode_sjis(bytes),
        None => match std::str::from_utf8(without_bom) {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(_) => decode_sjis(bytes).map_err(|e| DecodeError {
                line: e.line,
                message: "neither UTF-8 nor Shift_JIS (CP932) text; \
                          name the encoding (--encoding, or charset= in Content-Type)"
                    .into(),
            }),
        },
    }
}

fn decode_utf8(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| DecodeError {
            line: line_of(bytes, e.valid_up_to()),
            message: "not UTF-8 text".into(),
        })
}

fn decode_sjis(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(Cow::Owned(text)),
        // The buffer was sized for the worst case, so this cannot happen; if
        // it did, refusing is safer than importing half a file.
        DecoderResult::OutputFull => Err(DecodeError {
            line: line_of(bytes, read),
            message: "Shift_JIS text could not be decoded whole".into(),
        }),
        DecoderResult::Malformed(bad, _) => Err(DecodeError {
            line: line_of(bytes, read.saturating_sub(usize::from(bad))),
            message: "not Shift_JIS (CP932) text".into(),
        }),
    }
}

/// Encodes text for an ERP. Characters Shift_JIS cannot hold (emoji, some
/// rare kanji) become 〓 (the geta mark Japanese systems print for "missing
/// character"); returns how many were replaced so the caller can warn.
pub fn encode(text: &str, encoding: TextEncoding) -> (Vec<u8>, usize) {
    match encoding {
        TextEncoding::Utf8 => {
            let mut out = UTF8_BOM.to_vec();
            out.extend_from_slice(text.as_bytes());
            (out, 0)
        }
        TextEncoding::ShiftJis => {
            let mut encoder = SHIFT_JIS.new_encoder();
            let mut out = Vec::with_capacity(text.len() * 2);
            let mut rest = text;
            let mut replaced = 0;
            loop {
                out.reserve(
                    encoder
                        .max_buffer_length_from_utf8_without_replacement(rest.len())
                        .unwrap_or(rest.len() * 4)
                        + 2,
                );
                let (result, read) =
                    encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
                rest = &rest[read..];
                match result {
                    EncoderResult::InputEmpty => break,
                    EncoderResult::OutputFull => continue,
                    EncoderResult::Unmappable(_) => {
                        replaced += 1;
                        // 〓 (U+3013) in Shift_JIS.
                        out.extend_from_slice(b"\x81\xAC");
                    }
                }
            }
            (out, replaced)
        }
    }
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_utf8_with_and_without_bom_and_falls_back_to_shift_jis() {
        assert_eq!(decode("商品,1".as_bytes(), None).unwrap(), "商品,1");
        assert_eq!(
            decode(b"\xEF\xBB\xBFA,1", None).unwrap(),
            "A,1",
            "the BOM is dropped"
        );
        let (sjis, _, _) = SHIFT_JIS.encode("商品コード,在庫数\n①㈱髙,3\n");
        assert_eq!(
            decode(&sjis, None).unwrap(),
            "商品コード,在庫数\n①㈱髙,3\n",
            "CP932 extensions decode"
        );
        assert_eq!(
            decode(&sjis, Some(TextEncoding::ShiftJis)).unwrap(),
            "商品コード,在庫数\n①㈱髙,3\n"
        );
        assert_eq!(decode(&sjis, Some(TextEncoding::Utf8)).unwrap_err().line, 1);
    }

    #[test]
    fn bad_bytes_name_their_line() {
        let e = decode(b"A,1\nB,2\n\x82\xFF,3\n", None).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("neither UTF-8 nor Shift_JIS"));
    }

    #[test]
    fn encodes_with_a_bom_or_shift_jis_replacing_what_it_cannot_hold() {
        assert_eq!(encode("A", TextEncoding::Utf8).0, b"\xEF\xBB\xBFA");
        let (bytes, replaced) = encode("急須😀ok", TextEncoding::ShiftJis);
        assert_eq!(replaced, 1);
        assert_eq!(
            decode(&bytes, Some(TextEncoding::ShiftJis)).unwrap(),
            "急須〓ok"
        );
    }

    #[test]
    fn names() {
        assert_eq!(TextEncoding::parse("SJIS"), Some(TextEncoding::ShiftJis));
        assert_eq!(
            TextEncoding::parse("Windows-31J"),
            Some(TextEncoding::ShiftJis)
        );
        assert_eq!(TextEncoding::parse("utf-8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::parse("euc-jp"), None);
    }
}
