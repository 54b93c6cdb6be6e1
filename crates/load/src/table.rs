//! The one table a run prints: every scenario with its figures, how it compares with the
//! ceiling or the peer, and whether the target is met. Markdown, so the README can hold
//! it as printed.

use std::fmt::Write as _;

use crate::stats::Summary;

/// A scenario's line: its figures and, where it has one, its comparison.
#[derive(Debug, Clone)]
pub struct Row {
    /// The figures.
    pub summary: Summary,
    /// The comparison, e.g. `0.42× ceiling` (blank for the ceiling and the peer themselves).
    pub compared: String,
    /// The target, e.g. `≥ 0.60× ceiling`.
    pub target: String,
    /// Whether the target is met; `None` where there is no target.
    pub met: Option<bool>,
}

impl Row {
    /// A line with no comparison (a ceiling, a peer, or a scenario without a target).
    pub fn plain(summary: Summary) -> Self {
        Self { summary, compared: String::new(), target: String::new(), met: None }
    }
}

/// `n` with thousands separated by commas.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn failures(summary: &Summary) -> String {
    if summary.failures.is_empty() {
        return "0".into();
    }
    summary.failures.iter().map(|(code, n)| format!("{code} {n}")).collect::<Vec<_>>().join(", ")
}

/// The table in Markdown.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | clients | ok | per s | p50 ms | p95 ms | p99 ms | errors | compared | target | met |\n\
         |---|---:|---:|---:|---:|---:|---:|---|---|---|---|\n",
    );
    for row in rows {
        let s = &row.summary;
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} |",
            s.scenario,
            s.clients,
            thousands(s.successes),
            s.per_second,
            s.p50_ms,
            s.p95_ms,
            s.p99_ms,
            failures(s),
            row.compared,
            row.target,
            met
        );
    }
    out
}

/// `a / b`, or `None` when `b` measured nothing.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn summary(name: &str) -> Summary {
        Summary {
            scenario: name.into(),
            clients: 200,
            successes: 12_345,
            per_second: 411.5,
            p50_ms: 3.25,
            p95_ms: 9.0,
            p99_ms: 20.04,
            failures: BTreeMap::from([("CONFLICT".to_owned(), 2), ("TRANSPORT".to_owned(), 1)]),
        }
    }

    #[test]
    fn a_row_prints_its_figures_errors_and_verdict() {
        let row = Row {
            summary: summary("orb: submit responses"),
            compared: "0.42× ceiling".into(),
            target: "≥ 0.60× ceiling".into(),
            met: Some(false),
        };
        let table = render(&[row, Row::plain(summary("ceiling"))]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert_eq!(
            lines[2],
            "| orb: submit responses | 200 | 12,345 | 411.5 | 3.2 | 9.0 | 20.0 | CONFLICT 2, TRANSPORT 1 | 0.42× ceiling | ≥ 0.60× ceiling | **no** |"
        );
        assert!(lines[3].ends_with("|  |  |  |"), "{}", lines[3]);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_361), "100,361");
    }

    #[test]
    fn a_ratio_to_nothing_is_none() {
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
    }
}
