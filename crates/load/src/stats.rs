//! What one scenario measured: latencies in a histogram (so percentiles are exact to three
//! significant figures at any count), successes, and failures by error code.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies are kept in microseconds, up to a minute.
const HIGHEST_MICROS: u64 = 60_000_000;

/// One client's (or a whole scenario's) record of requests.
#[derive(Debug, Clone)]
pub struct Recorder {
    latencies: Histogram<u64>,
    failures: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty record.
    pub fn new() -> Self {
        #[expect(clippy::expect_used, reason = "the bounds are constants that hdrhistogram accepts")]
        let latencies = Histogram::new_with_bounds(1, HIGHEST_MICROS, 3).expect("valid histogram bounds");
        Self { latencies, failures: BTreeMap::new() }
    }

    /// A request that succeeded after `took`.
    pub fn success(&mut self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(HIGHEST_MICROS).clamp(1, HIGHEST_MICROS);
        self.latencies.saturating_record(micros);
    }

    /// A request that failed with `code` (a GraphQL `extensions.code`, or how the transport failed).
    pub fn failure(&mut self, code: &str) {
        *self.failures.entry(code.to_owned()).or_default() += 1;
    }

    /// Adds another record to this one.
    pub fn merge(&mut self, other: &Recorder) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latencies.add(&other.latencies);
        for (code, n) in &other.failures {
            *self.failures.entry(code.clone()).or_default() += n;
        }
    }

    /// Requests that succeeded.
    pub fn successes(&self) -> u64 {
        self.latencies.len()
    }

    /// The latency in milliseconds under which `quantile` of the successes fell (0 with none).
    pub fn percentile_ms(&self, quantile: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        self.latencies.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// Failures by code.
    pub fn failures(&self) -> &BTreeMap<String, u64> {
        &self.failures
    }

    /// The summary of a scenario that ran `clients` for `elapsed`.
    pub fn summary(&self, scenario: &str, clients: usize, elapsed: Duration) -> Summary {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        Summary {
            scenario: scenario.to_owned(),
            clients,
            successes: self.successes(),
            per_second: self.successes() as f64 / seconds,
            p50_ms: self.percentile_ms(0.50),
            p95_ms: self.percentile_ms(0.95),
            p99_ms: self.percentile_ms(0.99),
            failures: self.failures.clone(),
        }
    }
}

/// A scenario's figures, as the table prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// What ran.
    pub scenario: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Requests (or flows) that succeeded.
    pub successes: u64,
    /// Successes per second of the scenario's wall time.
    pub per_second: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 95th percentile latency.
    pub p95_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Failures by code.
    pub failures: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_spread() {
        let mut recorder = Recorder::new();
        for ms in 1..=100 {
            recorder.success(Duration::from_millis(ms));
        }
        assert_eq!(recorder.successes(), 100);
        // Three significant figures: 50 ms is recorded as 50.0 ± 0.05 ms.
        assert!((recorder.percentile_ms(0.50) - 50.0).abs() < 0.1, "{}", recorder.percentile_ms(0.5));
        assert!((recorder.percentile_ms(0.95) - 95.0).abs() < 0.1);
        assert!((recorder.percentile_ms(0.99) - 99.0).abs() < 0.1);
    }

    #[test]
    fn merged_clients_add_up() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        a.success(Duration::from_millis(10));
        b.success(Duration::from_millis(30));
        b.failure("CONFLICT");
        a.failure("CONFLICT");
        a.failure("TRANSPORT");
        a.merge(&b);
        assert_eq!(a.successes(), 2);
        assert_eq!(a.failures().get("CONFLICT"), Some(&2));
        assert_eq!(a.failures().get("TRANSPORT"), Some(&1));
        let summary = a.summary("x", 2, Duration::from_secs(2));
        assert!((summary.per_second - 1.0).abs() < 1e-9);
        assert!((summary.p99_ms - 30.0).abs() < 0.1);
    }

    #[test]
    fn no_successes_report_zero_not_a_panic() {
        let summary = Recorder::new().summary("empty", 1, Duration::ZERO);
        assert_eq!(summary.successes, 0);
        assert_eq!(summary.p99_ms, 0.0);
    }
}
