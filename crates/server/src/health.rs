//! Probes for orchestrators: `/healthz` says the process is alive; `/readyz` says it can serve
//! (PostgreSQL answers and every migration this build knows is applied).

use actix_web::{HttpResponse, web};
use orb_store::Store;
use serde_json::json;

/// SQLSTATE `undefined_table`.
const UNDEFINED_TABLE: &str = "42P01";

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", tag = "probes", responses(
    (status = 200, description = "The process is alive", body = crate::openapi::Status),
))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`.
#[utoipa::path(get, path = "/readyz", tag = "probes", responses(
    (status = 200, description = "Ready: the database answers and every migration is applied", body = crate::openapi::Status),
    (status = 503, description = "`database unavailable`, or `migrations pending` with the list", body = crate::openapi::Status),
))]
pub async fn readyz(store: web::Data<Store>) -> HttpResponse {
    match store.applied_migrations().await {
        Ok(applied) => {
            let missing: Vec<&str> =
                orb_migration::names().into_iter().filter(|m| !applied.iter().any(|a| a == m)).collect();
            if missing.is_empty() {
                HttpResponse::Ok().json(json!({ "status": "ready" }))
            } else {
                HttpResponse::ServiceUnavailable().json(json!({ "status": "migrations pending", "pending": missing }))
            }
        }
        // No migration table at all: the database answers but was never migrated.
        Err(orb_store::StoreError::Database(err))
            if orb_store::error::sqlstate(&err).as_deref() == Some(UNDEFINED_TABLE) =>
        {
            tracing::warn!("readiness check: the database has no migrations applied");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "migrations pending", "pending": orb_migration::names() }))
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "database unavailable" }))
        }
    }
}
