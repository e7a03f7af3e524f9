//! The label program's import file from the orders ready to ship: one row
//! per order, every cell checked against its column. A row that cannot be
//! written right (no ship-to stored, a character Shift_JIS cannot hold, an
//! address longer than the columns) is refused with its reason, never cut
//! or replaced: a wrong label is a lost parcel.

use encoding_rs::SHIFT_JIS;
use serde::Deserialize;

use super::layout::{Column, Field};
use super::{CarrierFormat, Sender};
use crate::config::Language;
use crate::domain::Channel;

/// Where an order goes, as the channel stored it (`orders.ship_to`): J-goods'
/// warehouse, Rakuten's recipient, a direct order's `ship_to` or customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ShipTo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    /// Rakuten: how many destinations the order has when more than one
    /// (one label each; not a row of this file).
    #[serde(default)]
    pub packages: Option<u32>,
}

/// One order to write.
#[derive(Debug, Clone)]
pub struct ExportOrder {
    pub channel: Channel,
    pub id: String,
    /// What goes in the customer-management-number column.
    pub reference: String,
    /// `None` when the channel stored no ship-to for it.
    pub ship_to: Option<ShipTo>,
    /// The first line's name, for 品名.
    pub item_name: String,
}

/// An order left out of the file, and why (in the merchant's language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub channel: Channel,
    pub id: String,
    pub reason: String,
}

/// The file and what it left out.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Shift_JIS, CRLF.
    pub bytes: Vec<u8>,
    /// Orders written, in order.
    pub written: Vec<(Channel, String)>,
    pub refused: Vec<Refused>,
}

/// Writes `orders` in `format`, shipping on `today`.
pub fn render(
    format: CarrierFormat,
    orders: &[ExportOrder],
    sender: &Sender,
    today: chrono::NaiveDate,
    lang: Language,
) -> Rendered {
    let columns = format.columns();
    let mut out = Rendered::default();
    if format.header_line() {
        let header: Vec<String> = columns.iter().map(|c| c.header.to_string()).collect();
        push_line(&mut out.bytes, &header);
    }
    let date = today.format(format.date_format()).to_string();
    for o in orders {
        match row(columns, o, sender, &date, lang) {
            Ok(cells) => {
                push_line(&mut out.bytes, &cells);
                out.written.push((o.channel, o.id.clone()));
            }
            Err(reason) => out.refused.push(Refused {
                channel: o.channel,
                id: o.id.clone(),
                reason,
            }),
        }
    }
    out
}

/// Appends one CSV line in Shift_JIS. Every cell was checked to encode.
fn push_line(out: &mut Vec<u8>, cells: &[String]) {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('"');
        line.push_str(&cell.replace('"', "\"\""));
        line.push('"');
    }
    line.push_str("\r\n");
    let (bytes, _, _) = SHIFT_JIS.encode(&line);
    out.extend_from_slice(&bytes);
}

fn row(
    columns: &[Column],
    o: &ExportOrder,
    sender: &Sender,
    date: &str,
    lang: Language,
) -> Result<Vec<String>, String> {
    let ja = lang == Language::Ja;
    let Some(to) = o.ship_to.as_ref().filter(|t| t.packages.is_none()) else {
        return Err(match (o.ship_to.as_ref().and_then(|t| t.packages), ja) {
            (Some(n), true) => {
                format!("送付先が{n}か所あります。1か所ずつ送り状を作ってください。")
            }
            (Some(n), false) => {
                format!("the order goes to {n} addresses; make their labels one by one")
            }
            (None, true) => "お届け先が保存されていません。".to_string(),
            (None, false) => "no ship-to is stored for this order".to_string(),
        });
    };
    let address = split(
        columns,
        &to.address,
        |f| matches!(f, Field::Address(_)),
        ("お届け先住所", "address"),
        lang,
    )?;
    let name = split(
        columns,
        &to.name,
        |f| matches!(f, Field::Name(_)),
        ("お届け先名", "name"),
        lang,
    )?;
    let sender_address = split(
        columns,
        &sender.address,
        |f| matches!(f, Field::SenderAddress(_)),
        ("ご依頼主住所", "sender's address"),
        lang,
    )?;
    let sender_name = split(
        columns,
        &sender.name,
        |f| matches!(f, Field::SenderName(_)),
        ("ご依頼主名", "sender's name"),
        lang,
    )?;
    let mut cells = Vec::with_capacity(columns.len());
    for c in columns {
        let value = match c.field {
            Field::Blank => String::new(),
            Field::Fixed(v) => v.to_string(),
            Field::OrderRef => o.reference.clone(),
            Field::ShipDate => date.to_string(),
            Field::Phone => phone(&to.phone),
            Field::Postal => postal(&to.postal_code),
            Field::SenderPhone => phone(&sender.phone),
            Field::SenderPostal => postal(&sender.postal_code),
            Field::Address(n) => part(&address, n),
            Field::Name(n) => part(&name, n),
            Field::SenderAddress(n) => part(&sender_address, n),
            Field::SenderName(n) => part(&sender_name, n),
            // What is in the parcel is a description: cut to fit, never refused.
            Field::ItemName => cut(&o.item_name, c.max_bytes),
            Field::YamatoBillingCode => sender.yamato_billing_code.clone(),
            Field::YamatoFreightCode => sender.yamato_freight_code.clone(),
        };
        check(c, &value, lang)?;
        cells.push(value);
    }
    Ok(cells)
}

/// A column's value checked: present when required, Shift_JIS, not too long.
fn check(c: &Column, value: &str, lang: Language) -> Result<(), String> {
    let ja = lang == Language::Ja;
    if c.required && value.trim().is_empty() {
        let configured = matches!(
            c.field,
            Field::SenderName(_)
                | Field::SenderAddress(_)
                | Field::SenderPhone
                | Field::SenderPostal
                | Field::YamatoBillingCode
                | Field::YamatoFreightCode
        );
        return Err(match (ja, configured) {
            (true, true) => format!(
                "「{}」が空です。設定ファイルの [carrier_files] に書いてください。",
                c.header
            ),
            (true, false) => format!("「{}」が空です。", c.header),
            (false, true) => format!(
                "{} is empty: set it in [carrier_files] of the config",
                c.header
            ),
            (false, false) => format!("{} is empty", c.header),
        });
    }
    if let Some(bad) = value.chars().find(|ch| !encodes(*ch)) {
        return Err(if ja {
            format!(
                "「{}」の文字「{bad}」はShift_JISで書けません。受注の内容を直してください。",
                c.header
            )
        } else {
            format!(
                "{}: {bad:?} has no Shift_JIS form; correct the order",
                c.header
            )
        });
    }
    let len = sjis_len(value);
    if len > c.max_bytes {
        return Err(if ja {
            format!(
                "「{}」が長すぎます({len}バイト、{}バイトまで)。",
                c.header, c.max_bytes
            )
        } else {
            format!(
                "{} is too long ({len} bytes, at most {})",
                c.header, c.max_bytes
            )
        });
    }
    Ok(())
}

/// Whether Shift_JIS (CP932) holds the character; line breaks never belong in a cell.
fn encodes(ch: char) -> bool {
    if ch.is_control() {
        return false;
    }
    let mut buf = [0u8; 4];
    let (_, _, unmappable) = SHIFT_JIS.encode(ch.encode_utf8(&mut buf));
    !unmappable
}

/// Length in Shift_JIS bytes (a character it cannot hold counts two: it is
/// refused anyway).
pub fn sjis_len(s: &str) -> usize {
    s.chars()
        .map(|ch| {
            let mut buf = [0u8; 4];
            let (bytes, _, bad) = SHIFT_JIS.encode(ch.encode_utf8(&mut buf));
            if bad { 2 } else { bytes.len() }
        })
        .sum()
}

/// The longest start of `s` within `max` Shift_JIS bytes, without the
/// characters Shift_JIS cannot hold.
fn cut(s: &str, max: usize) -> String {
    let holdable: String = s.chars().filter(|ch| encodes(*ch)).collect();
    take_bytes(holdable.trim(), max).0.to_string()
}

/// `text` cut, at character boundaries, into the columns `is_part` picks
/// (in their order); refused when it is longer than all of them together.
fn split(
    columns: &[Column],
    text: &str,
    is_part: impl Fn(Field) -> bool,
    what: (&str, &str),
    lang: Language,
) -> Result<Vec<String>, String> {
    let sizes: Vec<usize> = columns
        .iter()
        .filter(|c| is_part(c.field))
        .map(|c| c.max_bytes)
        .collect();
    let text = text.trim();
    let mut parts = Vec::with_capacity(sizes.len());
    let mut rest = text;
    for size in &sizes {
        let (head, tail) = take_bytes(rest, *size);
        parts.push(head.to_string());
        rest = tail;
    }
    if rest.is_empty() {
        return Ok(parts);
    }
    let (len, room) = (sjis_len(text), sizes.iter().sum::<usize>());
    Err(match lang {
        Language::Ja => format!("{}が長すぎます({len}バイト、{room}バイトまで)。", what.0),
        Language::En => format!("the {} is too long ({len} bytes, at most {room})", what.1),
    })
}

/// The longest start of `s` within `max` Shift_JIS bytes, and the rest.
fn take_bytes(s: &str, max: usize) -> (&str, &str) {
    let mut used = 0;
    for (i, ch) in s.char_indices() {
        used += sjis_len(ch.encode_utf8(&mut [0u8; 4]));
        if used > max {
            return s.split_at(i);
        }
    }
    (s, "")
}

/// Part `n` of a split value (empty past its end).
fn part(parts: &[String], n: u8) -> String {
    parts.get(usize::from(n)).cloned().unwrap_or_default()
}

/// A phone as label programs read it: half-width digits and hyphens.
fn phone(s: &str) -> String {
    half_width(s)
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '-')
        .collect()
}

/// A postcode as `NNN-NNNN` when it has seven digits; as given otherwise
/// (and then refused by its column's check if it is wrong).
fn postal(s: &str) -> String {
    let digits: String = half_width(s).chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 7 {
        format!("{}-{}", &digits[..3], &digits[3..])
    } else {
        s.trim().to_string()
    }
}

/// Full-width ASCII (０-９, －) as half-width.
fn half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            'ー' | '‐' | '−' | '―' => '-',
            _ => c,
        })
        .collect()
}
