//! The category master: code, name, parent. Read like the item master (CSV
//! with カテゴリコード, カテゴリ名, 親カテゴリ, or JSON), checked as a tree
//! (no duplicate, no cycle), sent parents first.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::{Category, MasterError};
use crate::domain::input::header_name;
use crate::text_encoding::{self, TextEncoding};

/// `a-z`, `0-9`, `-`, `_`, at most 32: what J-goods takes as a `category_code`.
pub fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

const CODE: &[&str] = &[
    "カテゴリコード",
    "カテゴリーコード",
    "code",
    "category_code",
];
const NAME: &[&str] = &["カテゴリ名", "カテゴリー名", "name"];
const PARENT: &[&str] = &[
    "親カテゴリ",
    "親カテゴリコード",
    "親カテゴリー",
    "parent",
    "parent_code",
];

fn fail(line: usize, column: &str, message: impl Into<String>) -> MasterError {
    MasterError {
        line,
        column: column.to_string(),
        message: message.into(),
    }
}

/// Parses a CSV category master; each row's line is kept for [`check_tree`].
pub fn parse_csv(
    bytes: &[u8],
    encoding: Option<TextEncoding>,
) -> Result<Vec<(usize, Category)>, MasterError> {
    let text = text_encoding::decode(bytes, encoding).map_err(|e| fail(e.line, "", e.message))?;
    let mut at: Option<[Option<usize>; 3]> = None;
    let mut out = Vec::new();
    for row in crate::spreadsheet::rows(&text) {
        let (line, record) =
            row.map_err(|e| fail(e.line, "", format!("unreadable CSV: {}", e.message)))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let Some([code, name, parent]) = at else {
            let find = |names: &[&str]| {
                record
                    .iter()
                    .position(|h| names.iter().any(|n| header_name(n) == header_name(h)))
            };
            let cols = [find(CODE), find(NAME), find(PARENT)];
            if cols[0].is_none() || cols[1].is_none() {
                return Err(fail(
                    line,
                    "",
                    "the header needs カテゴリコード and カテゴリ名 / 必須の列がありません",
                ));
            }
            at = Some(cols);
            continue;
        };
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|v| !v.is_empty());
        out.push((
            line,
            Category {
                code: get(code).unwrap_or_default().to_string(),
                name: get(name).unwrap_or_default().to_string(),
                parent_code: get(parent).map(str::to_string),
            },
        ));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCategory {
    #[serde(alias = "category_code")]
    code: String,
    name: String,
    #[serde(default, alias = "parent")]
    parent_code: Option<String>,
}

/// Parses the JSON form (an array); element `n` (1-based) is its "line".
pub fn parse_json(bytes: &[u8]) -> Result<Vec<(usize, Category)>, MasterError> {
    let values: Vec<serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| fail(0, "", format!("not a JSON array of categories: {e}")))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let c: JsonCategory =
                serde_json::from_value(v).map_err(|e| fail(i + 1, "", e.to_string()))?;
            Ok((
                i + 1,
                Category {
                    code: c.code,
                    name: c.name,
                    parent_code: c.parent_code.filter(|p| !p.is_empty()),
                },
            ))
        })
        .collect()
}

/// Checks the file's rows against themselves and against the categories
/// already stored (`existing`): valid codes and names, no code twice, every
/// parent known, no cycle in the tree they make together.
pub fn check_tree(rows: &[(usize, Category)], existing: &[Category]) -> Result<(), MasterError> {
    let mut tree: BTreeMap<&str, Option<&str>> = existing
        .iter()
        .map(|c| (c.code.as_str(), c.parent_code.as_deref()))
        .collect();
    let mut seen = HashSet::new();
    for (line, c) in rows {
        if !is_code(&c.code) {
            return Err(fail(
                *line,
                "カテゴリコード",
                format!(
                    "{:?}: use a-z, 0-9, - and _ (32 at most) / 英小文字・数字・-・_ で32文字まで",
                    c.code
                ),
            ));
        }
        if c.name.trim().is_empty() {
            return Err(fail(*line, "カテゴリ名", "empty / 空です"));
        }
        if !seen.insert(c.code.as_str()) {
            return Err(fail(
                *line,
                "カテゴリコード",
                format!("{} appears twice / 重複しています", c.code),
            ));
        }
        tree.insert(&c.code, c.parent_code.as_deref());
    }
    let mut reaches_top: HashSet<&str> = HashSet::new();
    for (line, c) in rows {
        let Some(parent) = c.parent_code.as_deref() else {
            continue;
        };
        if !tree.contains_key(parent) {
            return Err(fail(
                *line,
                "親カテゴリ",
                format!("{parent} is not a category / 親カテゴリがありません"),
            ));
        }
        // Up the parents until a category already known to reach the top:
        // each category is walked once, so a long chain costs its length.
        let mut path: HashSet<&str> = HashSet::from([c.code.as_str()]);
        let mut at = Some(parent);
        while let Some(p) = at {
            if reaches_top.contains(p) {
                break;
            }
            if !path.insert(p) {
                return Err(fail(
                    *line,
                    "親カテゴリ",
                    format!("{} is its own ancestor / 親子関係が循環しています", c.code),
                ));
            }
            at = tree.get(p).copied().flatten();
        }
        reaches_top.extend(path);
    }
    Ok(())
}

/// `categories` with every parent before its children (J-goods takes a
/// child only once its parent exists); `known` are already at J-goods. A
/// category whose parent is neither is sent last (J-goods answers
/// `PARENT_NOT_FOUND`); the master's tree has no cycle (see [`check_tree`]).
pub fn parents_first(categories: Vec<Category>, known: &HashSet<String>) -> Vec<Category> {
    let parent: std::collections::HashMap<&str, Option<&str>> = categories
        .iter()
        .map(|c| (c.code.as_str(), c.parent_code.as_deref()))
        .collect();
    // Depth among those sent: 0 when the parent is none, known or unsent.
    let mut depth: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for c in &categories {
        let mut path = Vec::new();
        let mut at = c.code.as_str();
        let base = loop {
            if let Some(d) = depth.get(at) {
                break *d + 1;
            }
            path.push(at);
            match parent.get(at).copied().flatten() {
                Some(p)
                    if parent.contains_key(p)
                        && !known.contains(p)
                        && path.len() <= parent.len() =>
                {
                    at = p
                }
                Some(p) if !parent.contains_key(p) && !known.contains(p) => break usize::MAX / 2,
                _ => break 0,
            }
        };
        for (i, code) in path.iter().rev().enumerate() {
            depth.insert(code, base + i);
        }
    }
    let depth_of = |c: &Category| depth.get(c.code.as_str()).copied().unwrap_or(0);
    let mut ordered: Vec<(usize, Category)> = categories
        .iter()
        .map(|c| (depth_of(c), c.clone()))
        .collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
    ordered.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(code: &str, parent: Option<&str>) -> Category {
        Category {
            code: code.into(),
            name: code.to_uppercase(),
            parent_code: parent.map(str::to_string),
        }
    }

    #[test]
    fn the_tree_is_checked_and_sent_parents_first() {
        let csv = "カテゴリコード,カテゴリ名,親カテゴリ\ntea-pot,急須,tea\ntea,お茶,\n";
        let rows = parse_csv(csv.as_bytes(), None).unwrap();
        assert_eq!(rows[0], (2, cat_named("tea-pot", "急須", Some("tea"))));
        check_tree(&rows, &[]).unwrap();
        let order: Vec<String> =
            parents_first(rows.into_iter().map(|(_, c)| c).collect(), &HashSet::new())
                .into_iter()
                .map(|c| c.code)
                .collect();
        assert_eq!(order, ["tea", "tea-pot"]);

        let cycle = [(2, cat("a", Some("b"))), (3, cat("b", Some("a")))];
        let e = check_tree(&cycle, &[]).unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (2, "親カテゴリ"));
        let e = check_tree(&[(4, cat("x", Some("nowhere")))], &[]).unwrap_err();
        assert_eq!(e.line, 4);
        // A parent stored before is a parent.
        check_tree(&[(2, cat("x", Some("tea")))], &[cat("tea", None)]).unwrap();
        let e = check_tree(&[(2, cat("Tea", None))], &[]).unwrap_err();
        assert_eq!(e.column, "カテゴリコード");
        let e = check_tree(&[(2, cat("a", None)), (3, cat("a", None))], &[]).unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn a_long_chain_is_checked_and_ordered_in_one_walk() {
        // c-19999 → … → c-0, listed children first: quadratic work would
        // take minutes here.
        let n = 20_000;
        let rows: Vec<(usize, Category)> = (0..n)
            .rev()
            .map(|i| {
                let parent = (i > 0).then(|| format!("c-{}", i - 1));
                (n - i + 1, cat(&format!("c-{i}"), parent.as_deref()))
            })
            .collect();
        check_tree(&rows, &[]).unwrap();
        let ordered = parents_first(rows.into_iter().map(|(_, c)| c).collect(), &HashSet::new());
        assert_eq!(ordered[0].code, "c-0");
        assert_eq!(ordered[n - 1].code, format!("c-{}", n - 1));
        let mut cycle: Vec<(usize, Category)> = (0..n)
            .map(|i| {
                (
                    i + 2,
                    cat(&format!("c-{i}"), Some(&format!("c-{}", (i + 1) % n))),
                )
            })
            .collect();
        cycle.push((n + 2, cat("top", None)));
        assert_eq!(check_tree(&cycle, &[]).unwrap_err().line, 2);
    }

    fn cat_named(code: &str, name: &str, parent: Option<&str>) -> Category {
        Category {
            name: name.into(),
            ..cat(code, parent)
        }
    }
}
