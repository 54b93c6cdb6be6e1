//! Logging: one subscriber for the process, JSON in production and readable lines in
//! development. Fields are dotted with units (`user.id`, `timeout_ms`); no password, token,
//! invitation code or survey answer is ever a field.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{LogFormat, Settings};

/// Installs the global subscriber. `RUST_LOG` overrides the configured filter. Calling it
/// twice is harmless (the second call does nothing), which tests rely on.
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log_level));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match settings.log_format() {
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true).with_current_span(true).with_span_list(false))
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact().with_target(false)).try_init(),
    };
}
