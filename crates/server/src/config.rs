//! Configuration, layered: built-in defaults → an optional TOML file (`ORB_CONFIG`, default
//! `orb.toml` if present) → `ORB_*` environment variables (nested keys joined by `__`, e.g.
//! `ORB_JWT__SECRET`) → `DATABASE_URL`. Validated once at start-up; production mode refuses
//! development secrets.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The development JWT secret; production refuses to start with it.
pub const DEVELOPMENT_JWT_SECRET: &str = "orb-development-jwt-secret-do-not-use-in-production";
/// The development password of the runtime role; production refuses to start with it.
pub const DEVELOPMENT_RUNTIME_PASSWORD: &str = "orb-app-development-password";

/// Development (readable logs, development secrets allowed) or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A developer's machine or a test.
    #[default]
    Development,
    /// A real deployment.
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Which JWT algorithm signs access tokens. One is pinned; tokens with another are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret.
    #[default]
    HS256,
    /// Ed25519 signatures (asymmetric; verifiers need only public keys).
    EdDSA,
}

/// One JWT key. The signing key needs its secret (HS256) or private key (EdDSA); keys kept
/// only to verify tokens issued before a rotation need their secret or public key.
#[derive(Debug, Clone, Deserialize)]
pub struct JwtKey {
    /// Key id, sent in each token's header.
    pub kid: String,
    /// HS256 secret (at least 32 bytes).
    pub secret: Option<SecretString>,
    /// EdDSA private key, PEM (PKCS#8).
    pub private_key_pem: Option<SecretString>,
    /// EdDSA private key file.
    pub private_key_file: Option<PathBuf>,
    /// EdDSA public key, PEM.
    pub public_key_pem: Option<String>,
    /// EdDSA public key file.
    pub public_key_file: Option<PathBuf>,
    /// After this instant tokens signed with this key are refused (end of a rotation overlap).
    pub retire_after: Option<chrono::DateTime<chrono::Utc>>,
}

/// Token settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct JwtSettings {
    /// `iss` of issued tokens, required on presented ones.
    pub issuer: String,
    /// `aud` of issued tokens, required on presented ones.
    pub audience: String,
    /// The pinned algorithm.
    pub algorithm: JwtAlgorithm,
    /// Which key signs new tokens.
    pub signing_kid: String,
    /// Shortcut for one HS256 key named `signing_kid`.
    pub secret: Option<SecretString>,
    /// Keys, for rotation or EdDSA.
    pub keys: Vec<JwtKey>,
    /// Access token lifetime.
    pub access_ttl_seconds: u64,
    /// Refresh token lifetime.
    pub refresh_ttl_seconds: u64,
    /// Respondent token lifetime (a respondent resumes with it, or with their invitation code).
    pub respondent_ttl_seconds: u64,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            issuer: "orb".into(),
            audience: "orb-api".into(),
            algorithm: JwtAlgorithm::HS256,
            signing_kid: "development".into(),
            secret: None,
            keys: Vec::new(),
            access_ttl_seconds: 15 * 60,
            refresh_ttl_seconds: 30 * 24 * 3600,
            respondent_ttl_seconds: 14 * 24 * 3600,
            leeway_seconds: 30,
        }
    }
}

/// GraphQL protections.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GraphqlSettings {
    /// Whether introspection answers (turn off in production if front ends use the committed SDL).
    pub introspection: bool,
    /// Whether errors suggest field names.
    pub suggestions: bool,
    /// Deepest selection allowed.
    pub max_depth: usize,
    /// Highest complexity allowed (list fields weighted by page size).
    pub max_complexity: usize,
    /// Longest query text accepted, in bytes, checked before parsing.
    pub max_query_bytes: usize,
    /// Most fields, directives, operations and fragment definitions in one document, checked
    /// before validation (whose cost grows with the square of the fields).
    pub max_selections: usize,
    /// Automatic persisted queries kept in memory (least recently used out); 0 turns APQ off.
    pub persisted_queries: usize,
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        let defaults = orb_graphql::SchemaOptions::default();
        Self {
            introspection: defaults.introspection,
            suggestions: defaults.suggestions,
            max_depth: defaults.max_depth,
            max_complexity: defaults.max_complexity,
            max_query_bytes: defaults.max_query_bytes,
            max_selections: defaults.max_selections,
            persisted_queries: defaults.persisted_queries,
        }
    }
}

/// Per-client rate limits on doors open without an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Sign-in attempts per minute per client (IPv6: per /64); password changes count too,
    /// and are also limited to as many per minute per account.
    pub login_per_minute: u32,
    /// *Failed* survey and attendee code exchanges (`startResponse`, `messageTestByCode`,
    /// `giveMessageFeedbackByCode` with a malformed or unknown code) per minute per client
    /// (IPv6: per /64); past it the client waits before any exchange. Successful exchanges are
    /// not limited, so a room on one network is never throttled.
    pub code_exchange_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { login_per_minute: 10, code_exchange_per_minute: 30 }
    }
}

/// Everything the service reads at start-up.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Development or production.
    pub mode: Mode,
    /// Address to listen on.
    pub bind: String,
    /// PostgreSQL URL of the schema owner: runs migrations (and, in development, creates the
    /// database and sets up the runtime role).
    pub database_url: SecretString,
    /// PostgreSQL URL of the runtime role. When absent, derived from `database_url` with user
    /// `orb_app` and `runtime_database_password`.
    pub runtime_database_url: Option<SecretString>,
    /// Password set on `orb_app` when the runtime URL is derived.
    pub runtime_database_password: SecretString,
    /// Most runtime connections.
    pub database_pool_size: u32,
    /// How long a request waits for a database connection before failing fast.
    pub database_acquire_timeout_ms: u64,
    /// How many responses' frozen answers (closed or cut surveys) results keep in memory, so a
    /// comparison across every county does not reread them; 0 keeps none.
    pub results_cache_responses: usize,
    /// Longest a request may run; statements get the same limit as `statement_timeout`.
    pub request_timeout_ms: u64,
    /// Largest request body accepted (413 past it).
    pub body_limit_bytes: usize,
    /// Log format; JSON in production, pretty in development when unset.
    pub log_format: Option<LogFormat>,
    /// Log filter (`RUST_LOG` syntax), overridden by `RUST_LOG`.
    pub log_level: String,
    /// Where to send traces by OTLP over HTTP (`http://collector:4318/v1/traces`); none: no
    /// trace export. The standard `OTEL_*` variables tune the exporter and the batching.
    pub otlp_traces_endpoint: Option<String>,
    /// Origins allowed by CORS; empty means same-origin only.
    pub cors_origins: Vec<String>,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_grace_seconds: u64,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Whether `GET /metrics` answers (Prometheus text). Keep it off the public route at the
    /// proxy or ingress; turn it off where nothing scrapes it.
    pub metrics_enabled: bool,
    /// Reverse proxies (IP addresses or CIDR blocks) whose `X-Forwarded-For` is believed: only
    /// when the connection comes from one of them is the client taken from that header (the
    /// rightmost address that is not itself a trusted proxy). Empty: the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// Whether `GET /graphql` serves the GraphiQL page (pinned scripts with integrity hashes and
    /// a Content-Security-Policy). Unset: on in development and under `orb serve --demo`, off
    /// in production, where the page answers `NOT_FOUND`.
    pub graphiql: Option<bool>,
    /// GraphQL protections.
    pub graphql: GraphqlSettings,
    /// Tokens.
    pub jwt: JwtSettings,
    /// Per-client rate limits.
    pub rate_limits: RateLimitSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Development,
            bind: "127.0.0.1:8080".into(),
            database_url: SecretString::from("postgres://postgres@127.0.0.1:5432/orb"),
            runtime_database_url: None,
            runtime_database_password: SecretString::from(DEVELOPMENT_RUNTIME_PASSWORD),
            database_pool_size: 16,
            database_acquire_timeout_ms: 3_000,
            results_cache_responses: orb_store::frozen::DEFAULT_BUDGET,
            request_timeout_ms: 10_000,
            body_limit_bytes: 1024 * 1024,
            log_format: None,
            log_level: "info,sqlx=warn,sea_orm=warn".into(),
            otlp_traces_endpoint: None,
            cors_origins: Vec::new(),
            shutdown_grace_seconds: 30,
            workers: 0,
            metrics_enabled: true,
            trusted_proxies: Vec::new(),
            graphiql: None,
            graphql: GraphqlSettings::default(),
            jwt: JwtSettings::default(),
            rate_limits: RateLimitSettings::default(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type.
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// A value is present but unusable.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Reads the layered configuration from the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var("ORB_CONFIG").unwrap_or_else(|_| "orb.toml".into());
        let settings: Settings = Figment::new()
            .merge(Toml::file(file))
            .merge(Env::prefixed("ORB_").split("__").ignore(&["config", "demo_password"]))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values together; in production, refuses development secrets.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.bind.parse::<SocketAddr>().is_err() {
            return invalid("bind must be an address and port, e.g. 127.0.0.1:8080");
        }
        if self.database_pool_size == 0 {
            return invalid("database_pool_size must be at least 1");
        }
        if self.request_timeout_ms < 100 {
            return invalid("request_timeout_ms must be at least 100");
        }
        if self.body_limit_bytes < 1024 {
            return invalid("body_limit_bytes must be at least 1024");
        }
        if let Err(problem) = crate::client_address::TrustedProxies::parse(&self.trusted_proxies) {
            return Err(ConfigError::Invalid(problem));
        }
        if self.jwt.access_ttl_seconds == 0 || self.jwt.refresh_ttl_seconds == 0 {
            return invalid("token lifetimes must be positive");
        }
        if self.mode == Mode::Production {
            if self.uses_development_jwt_secret() {
                return invalid("production mode refuses the development JWT secret: set ORB_JWT__SECRET or jwt.keys");
            }
            if self.runtime_database_url.is_none()
                && self.runtime_database_password.expose_secret() == DEVELOPMENT_RUNTIME_PASSWORD
            {
                return invalid(
                    "production mode refuses the development runtime database password: set ORB_RUNTIME_DATABASE_URL or ORB_RUNTIME_DATABASE_PASSWORD",
                );
            }
        }
        Ok(())
    }

    /// Whether tokens would be signed with the published development secret.
    pub fn uses_development_jwt_secret(&self) -> bool {
        let configured_secret = self.jwt.secret.as_ref().map(|s| s.expose_secret() == DEVELOPMENT_JWT_SECRET);
        let key_secret =
            self.jwt.keys.iter().filter_map(|k| k.secret.as_ref()).any(|s| s.expose_secret() == DEVELOPMENT_JWT_SECRET);
        key_secret || configured_secret.unwrap_or(self.jwt.keys.is_empty() && self.jwt.algorithm == JwtAlgorithm::HS256)
    }

    /// The effective log format.
    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(match self.mode {
            Mode::Production => LogFormat::Json,
            Mode::Development => LogFormat::Pretty,
        })
    }

    /// Whether GraphiQL is served, for a service started with or without the demo.
    pub fn graphiql_enabled(&self, demo: bool) -> bool {
        self.graphiql.unwrap_or(demo || self.mode == Mode::Development)
    }

    /// The request time limit.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The GraphQL schema options.
    pub fn schema_options(&self) -> orb_graphql::SchemaOptions {
        orb_graphql::SchemaOptions {
            introspection: self.graphql.introspection,
            suggestions: self.graphql.suggestions,
            max_depth: self.graphql.max_depth,
            max_complexity: self.graphql.max_complexity,
            max_query_bytes: self.graphql.max_query_bytes,
            max_selections: self.graphql.max_selections,
            persisted_queries: self.graphql.persisted_queries,
            ..orb_graphql::SchemaOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_development_secrets() {
        let mut settings = Settings { mode: Mode::Production, ..Settings::default() };
        assert!(settings.validate().is_err(), "default JWT secret must be refused");
        settings.jwt.secret = Some(SecretString::from("a-real-secret-of-at-least-thirty-two-bytes!"));
        assert!(settings.validate().is_err(), "development runtime password must be refused");
        settings.runtime_database_password = SecretString::from("another-real-secret");
        assert!(settings.validate().is_ok());
        settings.jwt.secret = Some(SecretString::from(DEVELOPMENT_JWT_SECRET));
        assert!(settings.validate().is_err());
    }

    #[test]
    fn graphiql_is_on_in_development_and_the_demo_and_off_in_production_unless_set() {
        let production = Settings { mode: Mode::Production, ..Settings::default() };
        assert!(Settings::default().graphiql_enabled(false));
        assert!(!production.graphiql_enabled(false));
        assert!(production.graphiql_enabled(true), "orb serve --demo");
        let off = Settings { graphiql: Some(false), ..Settings::default() };
        assert!(!off.graphiql_enabled(true), "an explicit setting wins");
    }

    #[test]
    fn development_accepts_defaults() {
        assert!(Settings::default().validate().is_ok());
        assert!(Settings::default().uses_development_jwt_secret());
    }
}

#[cfg(test)]
mod example_file {
    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::*;

    #[test]
    fn the_shipped_example_configuration_is_valid() {
        let text = include_str!("../../../deploy/orb.example.toml");
        let settings: Settings = Figment::new().merge(Toml::string(text)).extract().expect("the example parses");
        settings.validate().expect("the example validates");
        assert_eq!(settings.mode, Mode::Production);
        assert_eq!(settings.jwt.algorithm, JwtAlgorithm::EdDSA);
        assert_eq!(settings.jwt.keys.len(), 2);
        assert!(!settings.uses_development_jwt_secret());
    }
}
