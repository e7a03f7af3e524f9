//! Where each key sits in the file.
//!
//! The typed parse (serde) knows what is wrong but only reports a byte span; the checks after
//! parsing know the key but not where it is. This spanned tree of the same text answers both
//! questions: "which key is at this byte?" and "on which line is this key?".

use std::ops::Range;

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

/// The spanned tree of a config file, kept beside the typed parse for error locations.
pub struct Document<'a> {
    text: &'a str,
    root: DeTable<'a>,
}

impl<'a> Document<'a> {
    /// Parses `text`, recovering from syntax errors so that even a broken file yields what
    /// could be read. The first syntax error, if any, is returned beside the tree.
    pub fn parse(text: &'a str) -> (Self, Option<toml::de::Error>) {
        let (root, errors) = DeTable::parse_recoverable(text);
        let doc = Self {
            text,
            root: root.into_inner(),
        };
        (doc, errors.into_iter().next())
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// Dotted path of the innermost key or value covering `offset`, e.g.
    /// `atobarai_com.fee_bands[1].min`.
    pub fn key_at(&self, offset: usize) -> Option<String> {
        find_in_table(&self.root, "", offset)
    }

    /// Span of the key at a dotted path (array elements as `name[i]`). A key that is absent
    /// yields the span of its closest present ancestor (a missing key is reported on its
    /// section's header), and `None` when not even the top-level section exists.
    pub fn span_of(&self, path: &str) -> Option<Range<usize>> {
        let mut table = &self.root;
        let mut found = None;
        for segment in path.split('.') {
            let (name, index) = split_index(segment);
            let Some((key, value)) = table.get_key_value(name) else {
                return found;
            };
            found = Some(key.span());
            let mut value = value;
            if let Some(i) = index {
                let Some(element) = value.get_ref().as_array().and_then(|a| a.get(i)) else {
                    return found;
                };
                found = Some(element.span());
                value = element;
            }
            match value.get_ref().as_table() {
                Some(inner) => table = inner,
                None => return found,
            }
        }
        found
    }

    /// 1-based line of the key at a dotted path (see [`Document::span_of`]).
    pub fn line_of_key(&self, path: &str) -> Option<usize> {
        self.span_of(path).map(|span| self.line_of(span.start))
    }

    /// Whether the value at a top-level-section path is a plain string (an inline secret).
    pub fn is_string(&self, path: &str) -> bool {
        let mut table = &self.root;
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let Some(value) = table.get(segment) else {
                return false;
            };
            if segments.peek().is_none() {
                return value.get_ref().is_str();
            }
            match value.get_ref().as_table() {
                Some(inner) => table = inner,
                None => return false,
            }
        }
        false
    }
}

/// Splits `fee_bands[2]` into `("fee_bands", Some(2))`.
fn split_index(segment: &str) -> (&str, Option<usize>) {
    if let Some((name, rest)) = segment.split_once('[')
        && let Some(Ok(index)) = rest.strip_suffix(']').map(str::parse)
    {
        return (name, Some(index));
    }
    (segment, None)
}

fn covers(span: Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn find_in_table(table: &DeTable<'_>, prefix: &str, offset: usize) -> Option<String> {
    for (key, value) in table.iter() {
        let path = join(prefix, key.get_ref());
        if covers(key.span(), offset) {
            return Some(path);
        }
        if let Some(found) = find_in_value(value, &path, offset) {
            return Some(found);
        }
    }
    None
}

/// Looks inside `value` first (a deeper match names the key more precisely), then at the
/// value itself. Tables are always searched: a `[section]` value's span is only its header,
/// while its keys live further down the file.
fn find_in_value(value: &Spanned<DeValue<'_>>, path: &str, offset: usize) -> Option<String> {
    match value.get_ref() {
        DeValue::Table(table) => {
            if let Some(found) = find_in_table(table, path, offset) {
                return Some(found);
            }
        }
        DeValue::Array(array) => {
            for (i, element) in array.iter().enumerate() {
                if let Some(found) = find_in_value(element, &format!("{path}[{i}]"), offset) {
                    return Some(found);
                }
            }
        }
        _ => {}
    }
    covers(value.span(), offset).then(|| path.to_owned())
}
