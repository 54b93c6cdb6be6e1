//! Prometheus metrics, served as text at `GET /metrics`.
//!
//! Every label has a bounded set of values, so a client cannot grow the series without end:
//! HTTP routes are the matched patterns (`/exports/administrations/{id}/responses.csv`, never
//! the raw path; `unmatched` for 404s), methods outside the usual few are `OTHER`, GraphQL
//! operations are labelled by the name in the document (`anonymous` when unnamed) for the first
//! [`MAX_OPERATION_NAMES`] distinct names seen since start-up and `other` after that, and error
//! codes are the fixed `extensions.code` vocabulary. No label carries a user, a county or a code.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `orb_http_requests_total` | counter | `method`, `route`, `status` |
//! | `orb_http_request_duration_seconds` | histogram | `method`, `route`, `status` |
//! | `orb_graphql_operations_total` | counter | `operation` |
//! | `orb_graphql_operation_duration_seconds` | histogram | `operation` |
//! | `orb_graphql_operation_statements` | histogram (SQL statements per operation) | `operation` |
//! | `orb_graphql_errors_total` | counter | `code` |
//! | `orb_db_pool_connections` | gauge | `state` = `in_use` / `idle` |
//! | `orb_db_pool_max_connections` | gauge | |
//! | `orb_submissions_accepted_total` | counter | `kind` = `response` / `paper_form` |

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use orb_store::Store;
use orb_store::statements::StatementCount;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Distinct GraphQL operation names given their own label; later new names count as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

/// Label of operations without a name.
pub const ANONYMOUS_OPERATION: &str = "anonymous";

/// Label of operations past the first [`MAX_OPERATION_NAMES`] distinct names.
pub const OTHER_OPERATION: &str = "other";

const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// SQL statements per operation: a page of a list should stay in the first few buckets however
/// long the list is; an operation far out to the right is issuing one query per row.
const STATEMENT_BUCKETS: &[f64] = &[2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// The service's metrics, shared by every worker.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    graphql_operations: IntCounterVec,
    graphql_duration: HistogramVec,
    graphql_statements: HistogramVec,
    graphql_errors: IntCounterVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    submissions: IntCounterVec,
    operation_names: Mutex<HashSet<String>>,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new("orb_http_requests_total", "HTTP requests answered, by method, route pattern and status"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "orb_http_request_duration_seconds",
                "HTTP request latency, by method, route and status",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route", "status"],
        )?;
        let graphql_operations = IntCounterVec::new(
            Opts::new("orb_graphql_operations_total", "GraphQL operations executed, by operation name"),
            &["operation"],
        )?;
        let graphql_duration = HistogramVec::new(
            HistogramOpts::new(
                "orb_graphql_operation_duration_seconds",
                "GraphQL operation latency including the commit, by operation name",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["operation"],
        )?;
        let graphql_statements = HistogramVec::new(
            HistogramOpts::new(
                "orb_graphql_operation_statements",
                "SQL statements a GraphQL operation issued (transaction control not counted), by operation name",
            )
            .buckets(STATEMENT_BUCKETS.to_vec()),
            &["operation"],
        )?;
        let graphql_errors = IntCounterVec::new(
            Opts::new("orb_graphql_errors_total", "GraphQL errors answered, by extensions.code"),
            &["code"],
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new("orb_db_pool_connections", "Runtime database connections, in use by requests or idle"),
            &["state"],
        )?;
        let pool_max = IntGauge::new("orb_db_pool_max_connections", "The most runtime database connections allowed")?;
        let submissions = IntCounterVec::new(
            Opts::new(
                "orb_submissions_accepted_total",
                "Submissions acknowledged after their transaction committed: respondents' responses and paper forms",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(graphql_operations.clone()))?;
        registry.register(Box::new(graphql_duration.clone()))?;
        registry.register(Box::new(graphql_statements.clone()))?;
        registry.register(Box::new(graphql_errors.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(submissions.clone()))?;
        // Series that exist from the start, so dashboards show zero rather than nothing.
        for kind in ["response", "paper_form"] {
            submissions.with_label_values(&[kind]);
        }
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            graphql_operations,
            graphql_duration,
            graphql_statements,
            graphql_errors,
            pool_connections,
            pool_max,
            submissions,
            operation_names: Mutex::new(HashSet::new()),
        })
    }

    /// Records one answered HTTP request. `route` is the matched pattern, if any.
    pub fn observe_http(&self, method: &actix_web::http::Method, route: Option<&str>, status: u16, elapsed: Duration) {
        use actix_web::http::Method;
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::HEAD => "HEAD",
            Method::OPTIONS => "OPTIONS",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::PATCH => "PATCH",
            _ => "OTHER",
        };
        let status = status.to_string();
        let labels = [method, route.unwrap_or("unmatched"), status.as_str()];
        self.http_requests.with_label_values(&labels).inc();
        self.http_duration.with_label_values(&labels).observe(elapsed.as_secs_f64());
    }

    /// The label for an operation name: bounded as the module documentation says.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return ANONYMOUS_OPERATION.into();
        };
        let Ok(mut seen) = self.operation_names.lock() else {
            return OTHER_OPERATION.into();
        };
        if seen.contains(name) {
            return name.to_owned();
        }
        if seen.len() < MAX_OPERATION_NAMES {
            seen.insert(name.to_owned());
            return name.to_owned();
        }
        OTHER_OPERATION.into()
    }

    /// Records one executed GraphQL operation, its errors' codes, and the submissions it
    /// acknowledged (only once its transaction has committed: pass zero otherwise).
    pub fn observe_graphql(&self, tally: &RequestTally, codes: &[String], elapsed: Duration) {
        let operation = self.operation_label(tally.operation_name().as_deref());
        self.graphql_operations.with_label_values(&[operation.as_str()]).inc();
        self.graphql_duration.with_label_values(&[operation.as_str()]).observe(elapsed.as_secs_f64());
        self.graphql_statements.with_label_values(&[operation.as_str()]).observe(tally.statements.get() as f64);
        self.observe_errors(codes);
    }

    /// Counts errors answered by `extensions.code`.
    pub fn observe_errors(&self, codes: &[String]) {
        for code in codes {
            self.graphql_errors.with_label_values(&[code.as_str()]).inc();
        }
    }

    /// Counts the submissions of a request whose transaction committed.
    pub fn observe_committed(&self, tally: &RequestTally) {
        let responses = tally.responses.load(Ordering::Relaxed);
        let paper = tally.paper_forms.load(Ordering::Relaxed);
        if responses > 0 {
            self.submissions.with_label_values(&["response"]).inc_by(responses);
        }
        if paper > 0 {
            self.submissions.with_label_values(&["paper_form"]).inc_by(paper);
        }
    }

    /// The text exposition, with the pool gauges read now.
    pub fn render(&self, store: &Store) -> Result<String, prometheus::Error> {
        let pool = store.pool_status();
        self.pool_connections.with_label_values(&["in_use"]).set(i64::from(pool.in_use()));
        self.pool_connections.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max));
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// What one GraphQL request did, for the metrics: the operation's name (from the document), the
/// SQL statements it issued and the submissions its resolvers acknowledged.
#[derive(Default)]
pub struct RequestTally {
    operation: Mutex<Option<String>>,
    statements: Arc<StatementCount>,
    responses: AtomicU64,
    paper_forms: AtomicU64,
}

impl RequestTally {
    /// The executed operation's name, if it had one.
    pub fn operation_name(&self) -> Option<String> {
        self.operation.lock().ok().and_then(|name| name.clone())
    }

    /// The request's statement count, to run its work under ([`orb_store::statements::counted`]).
    pub fn statements(&self) -> Arc<StatementCount> {
        Arc::clone(&self.statements)
    }

    /// Sets the operation's name when the request says it (before parsing).
    pub fn set_operation_name(&self, name: &str) {
        if let Ok(mut slot) = self.operation.lock() {
            *slot = Some(name.to_owned());
        }
    }
}

impl orb_graphql::collection::SubmissionTally for RequestTally {
    fn responses_submitted(&self, count: u64) {
        self.responses.fetch_add(count, Ordering::Relaxed);
    }

    fn paper_forms_stored(&self, count: u64) {
        self.paper_forms.fetch_add(count, Ordering::Relaxed);
    }
}

/// A schema extension that tells the request's [`RequestTally`] which operation ran.
pub struct OperationNames;

impl ExtensionFactory for OperationNames {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationName)
    }
}

struct OperationName;

#[async_graphql::async_trait::async_trait]
impl Extension for OperationName {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        if let (Some(name), Some(tally)) = (operation_name, ctx.data_opt::<Arc<RequestTally>>()) {
            tally.set_operation_name(name);
        }
        next.run(ctx, operation_name).await
    }
}

/// `GET /metrics`: the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text format (absent when `metrics_enabled` is false)", content_type = "text/plain", body = String),
))]
pub async fn serve(metrics: web::Data<Metrics>, store: web::Data<Store>) -> HttpResponse {
    match metrics.render(&store) {
        Ok(text) => HttpResponse::Ok().content_type(prometheus::TEXT_FORMAT).body(text),
        Err(err) => {
            tracing::error!(error = %err, "could not render the metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        let metrics = Metrics::new().unwrap_or_else(|e| panic!("metrics register: {e}"));
        assert_eq!(metrics.operation_label(None), ANONYMOUS_OPERATION);
        assert_eq!(metrics.operation_label(Some("")), ANONYMOUS_OPERATION);
        for n in 0..MAX_OPERATION_NAMES {
            assert_eq!(metrics.operation_label(Some(&format!("Op{n}"))), format!("Op{n}"));
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), OTHER_OPERATION);
        assert_eq!(metrics.operation_label(Some("Op0")), "Op0", "names seen before keep their label");
    }
}
