//! Yahoo!'s XML, as the contract spells it: answers read into a small tree
//! (values trimmed, `CDATA` taken as text, namespaces ignored) and the
//! fields the daemon reads taken from it; requests written with every value
//! escaped. Bounded: an answer nested deeper than [`MAX_DEPTH`] or with more
//! than [`MAX_NODES`] elements is refused, not followed.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use quick_xml::Reader;
use quick_xml::events::Event;

/// Deepest nesting read (the contract's deepest answer has five levels).
pub const MAX_DEPTH: usize = 16;
/// Most elements read from one answer (a page of 2000 orders of 14 fields
/// is 32,000).
pub const MAX_NODES: usize = 200_000;

/// One element: its local name, its text (trimmed), its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The element's name without a namespace prefix.
    pub name: String,
    /// Its text and CDATA, joined and trimmed.
    pub text: String,
    /// Its child elements, in order.
    pub children: Vec<Node>,
}

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable XML answer: {0}")]
pub struct XmlError(pub String);

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first element named `name` below this one, depth first.
    pub fn find(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }

    /// The text of the first element named `name` below, `""` when none.
    pub fn text_of(&self, name: &str) -> &str {
        self.find(name).map_or("", |n| n.text.as_str())
    }
}

/// Reads an answer into its root element.
pub fn parse(body: &[u8]) -> Result<Node, XmlError> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut nodes = 0usize;
    let mut buf = Vec::new();
    let open = |stack: &mut Vec<Node>, nodes: &mut usize, local: &str| {
        *nodes += 1;
        if stack.len() > MAX_DEPTH || *nodes > MAX_NODES {
            return Err(XmlError("too deep or too large".into()));
        }
        stack.push(Node {
            name: local.to_string(),
            ..Node::default()
        });
        Ok(())
    };
    let close = |stack: &mut Vec<Node>| {
        let mut done = stack.pop().ok_or_else(|| XmlError("unbalanced".into()))?;
        done.text = done.text.trim().to_string();
        stack
            .last_mut()
            .ok_or_else(|| XmlError("unbalanced".into()))?
            .children
            .push(done);
        Ok::<(), XmlError>(())
    };
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| XmlError(e.to_string()))?;
        match event {
            Event::Start(e) => open(&mut stack, &mut nodes, e.local_name().into_inner())?,
            Event::Empty(e) => {
                open(&mut stack, &mut nodes, e.local_name().into_inner())?;
                close(&mut stack)?;
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(XmlError("unbalanced".into()));
                }
                close(&mut stack)?;
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let text = quick_xml::escape::unescape(&format!("&{name};"))
                    .map_err(|e| XmlError(e.to_string()))?
                    .into_owned();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if stack.len() != 1 {
        return Err(XmlError("unclosed element".into()));
    }
    stack
        .pop()
        .and_then(|top| top.children.into_iter().next())
        .ok_or_else(|| XmlError("empty document".into()))
}

/// An error an answer carries: `<Error><Message/><Code/></Error>` as the root
/// or inside `<Result><Status>NG</Status>`. `code` may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// `px-04102`, `od91801`, … (empty when Yahoo! sent none).
    pub code: String,
    /// The message, for logs.
    pub message: String,
}

/// The error of an answer, if it is one.
pub fn error_of(root: &Node) -> Option<WireError> {
    let error = if root.name == "Error" {
        Some(root)
    } else {
        root.find("Error")
    }?;
    Some(WireError {
        code: error.text_of("Code").to_string(),
        message: error.text_of("Message").to_string(),
    })
}

/// `YYYYMMDDHHMMSS` in JST, the form of the search conditions.
pub fn condition_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&crate::domain::time::jst())
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// A time as Yahoo! writes it (`2026-12-01T10:15:30`, with `+09:00`, or
/// `20261201101530`), read as JST when it has no offset.
pub fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S"))
        .ok()?;
    crate::domain::time::jst()
        .from_local_datetime(&naive)
        .single()
}

/// `YYYYMMDD`, the form of `ShipDate` sent.
pub fn ship_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// `<name>value</name>` with the value escaped.
pub fn element(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", quick_xml::escape::escape(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_with_cdata_whitespace_and_namespaces() {
        let root = parse(
            b"<?xml version=\"1.0\"?><ResultSet xmlns=\"urn:yahoo:jp\"><Result><Status> OK </Status>\
              <OrderInfo><OrderId><![CDATA[ s-1 ]]></OrderId><Title>A &amp; B</Title><Empty/></OrderInfo>\
              </Result></ResultSet>",
        )
        .unwrap();
        assert_eq!(root.name, "ResultSet");
        assert_eq!(root.text_of("Status"), "OK");
        assert_eq!(root.text_of("OrderId"), "s-1");
        assert_eq!(root.text_of("Title"), "A & B");
        assert!(root.find("Empty").is_some());
        assert!(error_of(&root).is_none());
    }

    #[test]
    fn both_error_shapes_are_read_by_their_code() {
        for body in [
            "<Error xmlns=\"urn:yahoo:api\"><Message>m</Message><Code>px-04102</Code></Error>",
            "<Result><Status>NG</Status><Error><Code>px-04102</Code><Message>m</Message></Error></Result>",
        ] {
            let e = error_of(&parse(body.as_bytes()).unwrap()).unwrap();
            assert_eq!((e.code.as_str(), e.message.as_str()), ("px-04102", "m"));
        }
        let e = error_of(
            &parse(b"<Error><Message>Your Request was Forbidden</Message></Error>").unwrap(),
        )
        .unwrap();
        assert_eq!(e.code, "");
    }

    #[test]
    fn hostile_answers_are_refused_not_followed() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<a>").is_err());
    }

    #[test]
    fn the_three_time_forms_are_jst() {
        let want = parse_time("2026-12-01T10:15:30+09:00").unwrap();
        assert_eq!(parse_time("2026-12-01T10:15:30"), Some(want));
        assert_eq!(parse_time("20261201101530"), Some(want));
        assert_eq!(condition_time(want), "20261201101530");
        assert_eq!(parse_time("yesterday"), None);
    }
}
