//! Issuing: a new number, a re-issue, or a refusal. Pure: the caller loads the recorded
//! invoices and writes the outcome in one transaction.
//!
//! - The same period as a recorded invoice re-issues that invoice: same number, same amounts
//!   (the recorded ones), marked 再発行. J-goods must never receive two numbers for one claim.
//! - A period that overlaps a recorded one is refused: the orders in the overlap would be
//!   claimed twice. `force` issues it anyway, under a new number (for a corrected invoice that
//!   replaces one J-goods rejected); that includes the exact same period.

use chrono::NaiveDate;

use super::Period;

/// What is known of an invoice already issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedHead {
    /// Position in the store's numbering (1, 2, …).
    pub seq: i64,
    pub number: String,
    pub period: Period,
    pub issued_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueDecision {
    /// Show the recorded invoice of this number again.
    Reissue { number: String },
    /// Record a new invoice.
    New { seq: i64, number: String },
    /// Overlaps these recorded invoices; nothing is recorded.
    Refused { overlapping: Vec<IssuedHead> },
}

/// Decides what a request to invoice `period` does, given every invoice already recorded.
pub fn decide(period: Period, force: bool, prefix: &str, recorded: &[IssuedHead]) -> IssueDecision {
    if !force
        && let Some(same) = recorded
            .iter()
            .filter(|r| r.period == period)
            .max_by_key(|r| r.seq)
    {
        return IssueDecision::Reissue {
            number: same.number.clone(),
        };
    }
    let overlapping: Vec<IssuedHead> = recorded
        .iter()
        .filter(|r| r.period.overlaps(&period))
        .cloned()
        .collect();
    if !force && !overlapping.is_empty() {
        return IssueDecision::Refused { overlapping };
    }
    let seq = recorded.iter().map(|r| r.seq).max().unwrap_or(0) + 1;
    IssueDecision::New {
        seq,
        number: number(prefix, seq),
    }
}

/// `INV-000042`: the prefix and a zero-padded sequence, so numbers sort as text.
pub fn number(prefix: &str, seq: i64) -> String {
    format!("{prefix}{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn period(a: u32, b: u32) -> Period {
        Period::new(day(a), day(b)).unwrap()
    }

    fn head(seq: i64, a: u32, b: u32) -> IssuedHead {
        IssuedHead {
            seq,
            number: number("INV-", seq),
            period: period(a, b),
            issued_on: day(b),
        }
    }

    #[test]
    fn the_first_invoice_is_number_one() {
        assert_eq!(
            decide(period(1, 15), false, "INV-", &[]),
            IssueDecision::New {
                seq: 1,
                number: "INV-000001".into()
            }
        );
    }

    #[test]
    fn the_same_period_is_a_reissue() {
        let recorded = [head(1, 1, 15), head(2, 16, 30)];
        assert_eq!(
            decide(period(16, 30), false, "INV-", &recorded),
            IssueDecision::Reissue {
                number: "INV-000002".into()
            }
        );
    }

    #[test]
    fn an_overlap_is_refused_unless_forced() {
        let recorded = [head(1, 1, 15)];
        match decide(period(15, 30), false, "INV-", &recorded) {
            IssueDecision::Refused { overlapping } => assert_eq!(overlapping, recorded),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decide(period(15, 30), true, "X-", &recorded),
            IssueDecision::New {
                seq: 2,
                number: "X-000002".into()
            }
        );
    }

    #[test]
    fn forcing_the_same_period_issues_a_new_number() {
        let recorded = [head(1, 1, 15)];
        assert!(matches!(
            decide(period(1, 15), true, "INV-", &recorded),
            IssueDecision::New { seq: 2, .. }
        ));
    }

    #[test]
    fn adjacent_periods_do_not_overlap() {
        let recorded = [head(1, 1, 15)];
        assert!(matches!(
            decide(period(16, 16), false, "INV-", &recorded),
            IssueDecision::New { seq: 2, .. }
        ));
    }
}
