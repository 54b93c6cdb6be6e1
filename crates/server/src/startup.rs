//! Building and running the service: one function used by `orb serve` and by the tests alike.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_cors::Cors;
use actix_web::dev::{Server, Service};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpMessage, HttpServer, web};
use orb_store::Store;
use tracing_actix_web::{RequestId, TracingLogger};

pub use actix_web::dev::ServerHandle;

use crate::auth::handlers::{self, AuthService};
use crate::auth::tokens::AccessTokens;
use crate::client_address::TrustedProxies;
use crate::config::Settings;
use crate::database;
use crate::demo::{self, DemoSummary};
use crate::graphql_http::{self, GraphqlService};
use crate::health;
use crate::metrics::{self, Metrics};
use crate::rate_limit::RateLimits;
use crate::rest_error::RestError;

/// What to do before serving.
#[derive(Debug, Clone, Copy)]
pub struct StartOptions {
    /// Create the database if missing and apply pending migrations.
    pub migrate: bool,
    /// Load the demo data if absent.
    pub demo: bool,
}

/// A built service, bound to its port, not yet running.
pub struct Application {
    server: Server,
    port: u16,
    store: Store,
    demo: Option<DemoSummary>,
}

/// Prepares the database and opens the runtime store.
pub async fn prepare_store(settings: &Settings, migrate: bool) -> anyhow::Result<Store> {
    if migrate {
        database::ensure_database(&settings.database_url).await?;
        database::migrate(&settings.database_url).await?;
    }
    let runtime = database::runtime_url(settings).await?;
    database::check_runtime_role(&runtime).await?;
    Ok(database::open_store(settings, &runtime).await?)
}

impl Application {
    /// Prepares the database, loads the demo if asked, and binds the listener.
    pub async fn build(settings: Settings, options: StartOptions) -> anyhow::Result<Self> {
        let store = prepare_store(&settings, options.migrate).await?;
        let demo = if options.demo {
            let password = std::env::var("ORB_DEMO_PASSWORD").unwrap_or_else(|_| demo::DEFAULT_DEMO_PASSWORD.into());
            Some(demo::load(&store, &password).await?)
        } else {
            None
        };
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let graphiql = settings.graphiql_enabled(options.demo);
        let server = serve(listener, store.clone(), &settings, graphiql)?;
        Ok(Self { server, port, store, demo })
    }

    /// The port bound (useful when binding port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The demo loaded at start-up, if any.
    pub fn demo(&self) -> Option<&DemoSummary> {
        self.demo.as_ref()
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// A handle on the runtime store (for tests and tools).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until SIGTERM/SIGINT, then lets in-flight requests finish within the grace period.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Err(err) = self.store.close().await {
            tracing::warn!(error = %err, "closing the database pool failed");
        }
        result
    }
}

fn serve(listener: TcpListener, store: Store, settings: &Settings, graphiql: bool) -> anyhow::Result<Server> {
    let tokens = Arc::new(AccessTokens::from_settings(&settings.jwt)?);
    let limits =
        Arc::new(RateLimits::new(settings.rate_limits.login_per_minute, settings.rate_limits.code_exchange_per_minute));
    let idle = limits.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            idle.forget_idle();
        }
    });
    let metrics = Arc::new(Metrics::new()?);
    let trusted =
        web::Data::new(TrustedProxies::parse(&settings.trusted_proxies).map_err(crate::config::ConfigError::Invalid)?);
    let graphql = web::Data::new(GraphqlService {
        schema: orb_graphql::schema_builder(&settings.schema_options()).extension(metrics::OperationNames).finish(),
        store: store.clone(),
        tokens: tokens.clone(),
        timeout: settings.request_timeout(),
        respondent_tokens: tokens.clone(),
        limits: limits.clone(),
        metrics: metrics.clone(),
        graphiql: graphiql.then(|| Arc::new(crate::graphiql::Page::new())),
    });
    let auth = web::Data::new(AuthService {
        store: store.clone(),
        tokens: AccessTokens::from_settings(&settings.jwt)?,
        refresh_ttl: chrono::Duration::seconds(settings.jwt.refresh_ttl_seconds as i64),
        limits,
    });
    let exports = web::Data::new(crate::exports::ExportService { store: store.clone(), tokens: tokens.clone() });
    let store_data = web::Data::new(store);
    let body_limit = settings.body_limit_bytes;
    let cors_origins = settings.cors_origins.clone();
    let metrics_enabled = settings.metrics_enabled;
    let metrics_data = web::Data::from(metrics.clone());
    let mut server = HttpServer::new(move || {
        let observed = metrics.clone();
        App::new()
            .app_data(graphql.clone())
            .app_data(trusted.clone())
            .app_data(metrics_data.clone())
            .app_data(auth.clone())
            .app_data(store_data.clone())
            .app_data(exports.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(json_config(body_limit))
            // One resource per path, so a method it does not serve answers 405 with `Allow`.
            .service(
                web::resource("/graphql")
                    .route(web::post().to(graphql_http::execute))
                    .route(web::get().to(graphql_http::graphiql)),
            )
            .service(web::resource("/auth/login").route(web::post().to(handlers::login)))
            .service(web::resource("/auth/refresh").route(web::post().to(handlers::refresh)))
            .service(web::resource("/auth/logout").route(web::post().to(handlers::logout)))
            .service(
                web::resource("/exports/administrations/{id}/responses.csv")
                    .route(web::get().to(crate::exports::responses)),
            )
            .service(
                web::resource("/exports/administrations/{id}/dictionary.csv")
                    .route(web::get().to(crate::exports::dictionary)),
            )
            .service(
                web::resource("/exports/administrations/{id}/results.csv")
                    .route(web::get().to(crate::exports::results)),
            )
            .service(web::resource("/healthz").route(web::get().to(health::healthz)))
            .service(web::resource("/readyz").route(web::get().to(health::readyz)))
            .service(web::resource("/openapi.json").route(web::get().to(crate::openapi::openapi_json)))
            .configure(|app| {
                if metrics_enabled {
                    app.service(web::resource("/metrics").route(web::get().to(metrics::serve)));
                }
            })
            .wrap(security_headers())
            .wrap(cors(&cors_origins))
            .wrap_fn(|request, service| {
                let id = request.extensions().get::<RequestId>().map(|id| id.to_string());
                let response = service.call(request);
                async move {
                    let mut response = response.await?;
                    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
                    }
                    Ok(response)
                }
            })
            .wrap_fn(move |request, service| {
                let started = Instant::now();
                let method = request.method().clone();
                let response = service.call(request);
                let observed = observed.clone();
                async move {
                    let response = response.await;
                    match &response {
                        Ok(answered) => observed.observe_http(
                            &method,
                            answered.request().match_pattern().as_deref(),
                            answered.status().as_u16(),
                            started.elapsed(),
                        ),
                        Err(err) => observed.observe_http(
                            &method,
                            None,
                            err.as_response_error().status_code().as_u16(),
                            started.elapsed(),
                        ),
                    }
                    response
                }
            })
            .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
    })
    .shutdown_timeout(settings.shutdown_grace_seconds)
    .client_request_timeout(Duration::from_secs(10));
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    Ok(server.listen(listener)?.run())
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _| {
        let rest = match &err {
            actix_web::error::JsonPayloadError::Overflow { .. }
            | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => RestError::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_USER_INPUT",
                "the request body is too large",
            ),
            actix_web::error::JsonPayloadError::ContentType => {
                RestError::bad_input("send the body as Content-Type: application/json")
            }
            _ => RestError::bad_input(format!("the body is not the JSON this endpoint expects: {err}")),
        };
        rest.into()
    })
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
}

fn cors(origins: &[String]) -> Cors {
    origins.iter().fold(
        Cors::default()
            .allowed_methods(["GET", "POST"])
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(3600),
        |cors, origin| cors.allowed_origin(origin),
    )
}
