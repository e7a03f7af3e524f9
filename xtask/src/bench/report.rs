//! The figures a benchmark run produced, printed as one Markdown table.

use std::fmt::Write;

/// One figure: what was measured, its value, and the goal it is held to.
struct Row {
    benchmark: &'static str,
    metric: String,
    value: String,
    goal: Option<(String, bool)>,
}

#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// A figure with no goal (context for the others).
    pub fn note(&mut self, benchmark: &'static str, metric: impl Into<String>, value: String) {
        self.rows.push(Row {
            benchmark,
            metric: metric.into(),
            value,
            goal: None,
        });
    }

    /// A figure held to a goal; `met` says whether this run reached it.
    pub fn goal(
        &mut self,
        benchmark: &'static str,
        metric: impl Into<String>,
        value: String,
        goal: impl Into<String>,
        met: bool,
    ) {
        self.rows.push(Row {
            benchmark,
            metric: metric.into(),
            value,
            goal: Some((goal.into(), met)),
        });
    }

    pub fn markdown(&self) -> String {
        let mut out =
            String::from("| benchmark | figure | value | goal | met |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            let (goal, met) = match &r.goal {
                Some((g, true)) => (g.as_str(), "yes"),
                Some((g, false)) => (g.as_str(), "**no**"),
                None => ("", ""),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.benchmark, r.metric, r.value, goal, met
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_marks_missed_goals() {
        let mut r = Report::default();
        r.note("ingest", "raw commits", "5000/s".into());
        r.goal("ingest", "p99 ack", "12.0 ms".into(), "≤ 10 ms", false);
        let md = r.markdown();
        assert!(
            md.contains("| ingest | raw commits | 5000/s |  |  |"),
            "{md}"
        );
        assert!(
            md.contains("| ingest | p99 ack | 12.0 ms | ≤ 10 ms | **no** |"),
            "{md}"
        );
    }
}
