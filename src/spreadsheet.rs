//! CSV cells a spreadsheet opens safely. A cell that starts with `=`, `+`,
//! `-`, `@`, TAB or CR is a formula to Excel and LibreOffice
//! (`=HYPERLINK(...)` in an item name would run on the operator's machine), so
//! it gets a leading `'`, as OWASP advises; plain numbers (`-1200`) stay
//! numbers.

use std::borrow::Cow;

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
}
