//! The OpenAPI document of the HTTP endpoints beside GraphQL's operations (auth, probes,
//! exports, metrics), generated from the handlers' annotations and served at
//! `GET /openapi.json`. The GraphQL contract itself is `schema/schema.graphql`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The body of every REST error: `{"error": {"code": "…", "message": "…"}}`.
#[derive(utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A REST error's code (the GraphQL `extensions.code` vocabulary) and a message safe to show.
#[derive(utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`, `RATE_LIMITED`, …
    pub code: String,
    /// For people.
    pub message: String,
    /// With `BAD_USER_INPUT`: the body field at fault (`email`), when one is.
    pub field: Option<String>,
}

/// A probe's answer.
#[derive(utoipa::ToSchema)]
pub struct Status {
    /// `ok`, `ready`, `database unavailable` or `migrations pending`.
    pub status: String,
    /// With `migrations pending`: the migrations this build knows that are not applied.
    pub pending: Option<Vec<String>>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "orb", description = "REST endpoints of orb; the API itself is GraphQL at /graphql."),
    paths(
        crate::graphql_http::execute,
        crate::graphql_http::graphiql,
        crate::auth::handlers::login,
        crate::auth::handlers::refresh,
        crate::auth::handlers::logout,
        crate::exports::responses,
        crate::exports::dictionary,
        crate::exports::results,
        crate::health::healthz,
        crate::health::readyz,
        crate::metrics::serve,
        openapi_json,
    ),
    components(schemas(ErrorBody, ErrorDetail, Status)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses(
    (status = 200, description = "This document", content_type = "application/json", body = Object),
))]
pub async fn openapi_json() -> HttpResponse {
    match ApiDoc::openapi().to_json() {
        Ok(json) => HttpResponse::Ok().content_type("application/json").body(json),
        Err(err) => {
            tracing::error!(error = %err, "could not render the OpenAPI document");
            HttpResponse::InternalServerError().finish()
        }
    }
}
