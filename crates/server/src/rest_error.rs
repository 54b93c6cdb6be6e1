//! Errors of the REST endpoints (auth, health), in the same vocabulary as GraphQL's
//! `extensions.code`: `{"error": {"code": "UNAUTHENTICATED", "message": "…"}}`, with
//! `"field"` beside them when one body field is at fault.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use orb_store::StoreError;
use serde_json::json;

/// A REST error: an HTTP status, a code and a message safe to show.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RestError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after: Option<u64>,
}

impl RestError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, retry_after: None }
    }

    /// 429: too many attempts from this client; `Retry-After` says when to try again.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("too many attempts; try again in {retry_after} seconds"),
            )
        }
    }

    /// 401: the same answer for every failed sign-in, so it reveals nothing about accounts.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    }

    /// 400: malformed input.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message)
    }

    /// 400: malformed input in one body field, named in `error.field`.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Self { field: Some(field.clone()), ..Self::bad_input(format!("{field}: {}", message.into())) }
    }
}

impl From<StoreError> for RestError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Refused(refusal) => refusal.into(),
            StoreError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "the service is temporarily unavailable",
                )
            }
            StoreError::Timeout(cause) => {
                tracing::warn!(error = %cause, "statement cancelled by statement_timeout");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "TIMEOUT", "the request took too long and was stopped")
            }
            StoreError::Database(cause) => {
                tracing::error!(error = %cause, error.debug = ?cause, "unexpected database error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "internal error")
            }
        }
    }
}

impl From<orb_domain::Error> for RestError {
    fn from(refusal: orb_domain::Error) -> Self {
        use orb_domain::Error as Refusal;
        match refusal {
            Refusal::Unauthenticated => Self::unauthenticated("authentication required"),
            Refusal::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", why),
            Refusal::NotFound(what) => Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("{what} not found")),
            Refusal::Conflict { message, .. } => Self::new(StatusCode::CONFLICT, "CONFLICT", message),
            invalid @ Refusal::Invalid(_) => Self::bad_input(invalid.to_string()),
        }
    }
}

impl ResponseError for RestError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = &self.field {
            error["field"] = json!(field);
        }
        response.json(json!({ "error": error }))
    }
}
