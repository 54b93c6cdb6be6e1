//! Logging: one subscriber for the process, JSON in production and readable lines in
//! development. Fields are dotted with units (`user.id`, `timeout_ms`); no password, token,
//! invitation code or survey answer is ever a field. Optionally, the same spans go out as
//! OpenTelemetry traces over OTLP/HTTP (`otlp_traces_endpoint`), off unless configured.

use std::sync::OnceLock;

use actix_web::HttpMessage;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt};

use crate::config::{LogFormat, Settings};

/// The trace pipeline, kept to flush what is batched when the process stops.
static TRACES: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber. `RUST_LOG` overrides the configured filter. Calling it
/// twice is harmless (the second call does nothing), which tests rely on.
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log_level));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match settings.log_format() {
        LogFormat::Json => {
            fmt::layer().json().flatten_event(true).with_current_span(true).with_span_list(false).boxed()
        }
        LogFormat::Pretty => fmt::layer().compact().with_target(false).boxed(),
    };
    let traces = settings.otlp_traces_endpoint.as_deref().and_then(trace_pipeline).map(|provider| {
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("orb"));
        let _ = TRACES.set(provider);
        layer
    });
    let _ = tracing_subscriber::registry().with(logs).with(traces).with(filter).try_init();
}

/// Sends what traces are still batched; called as the process stops.
pub fn flush() {
    if let Some(provider) = TRACES.get()
        && let Err(e) = provider.shutdown()
    {
        eprintln!("orb: traces not all sent: {e}");
    }
}

/// The OTLP/HTTP exporter and its batching. Built on a thread of its own: its blocking HTTP
/// client may not be made on an async runtime's thread.
fn trace_pipeline(endpoint: &str) -> Option<SdkTracerProvider> {
    let endpoint = endpoint.to_owned();
    let built =
        std::thread::spawn(move || SpanExporter::builder().with_http().with_endpoint(endpoint).build()).join().ok()?;
    match built {
        Ok(exporter) => Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name("orb").build())
                .build(),
        ),
        Err(e) => {
            eprintln!("orb: trace export is off: {e}");
            None
        }
    }
}

/// The span of each HTTP request. Unlike the library's default, the client address is the one
/// the trusted-proxy rule gives (`trusted_proxies`): a forwarded header from anyone else is not
/// believed, in logs and traces as in rate limits. Only the path is kept, never the query.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use tracing::field::Empty;
        let client = crate::client_address::client_of_service_request(request).map(|ip| ip.to_string());
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".into());
        let request_id = {
            let extensions = request.extensions();
            extensions.get::<tracing_actix_web::RequestId>().map(ToString::to_string).unwrap_or_default()
        };
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.client_ip = %client.unwrap_or_default(),
            http.target = %request.path(),
            http.status_code = Empty,
            otel.name = %format!("{} {route}", request.method()),
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
