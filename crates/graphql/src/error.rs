//! The one place where refusals and failures become GraphQL errors. Every error carries
//! `extensions.code`; input problems also carry `extensions.field` (the first) and
//! `extensions.problems` (all of them). Internal failures are logged here, once, with their
//! cause chain, and reach the client as an opaque message.

use async_graphql::{Error, ErrorExtensions};
use orb_domain::Error as Refusal;
use orb_store::StoreError;

/// The result type of every resolver.
pub type ApiResult<T> = Result<T, Error>;

/// Turns a store or domain result into a resolver result with the right error code.
/// Use `.api()?` rather than a bare `?`, which would lose the code.
pub trait IntoApi<T> {
    /// Maps the error to a GraphQL error.
    fn api(self) -> ApiResult<T>;
}

impl<T> IntoApi<T> for Result<T, StoreError> {
    fn api(self) -> ApiResult<T> {
        self.map_err(store_error)
    }
}

impl<T> IntoApi<T> for Result<T, Refusal> {
    fn api(self) -> ApiResult<T> {
        self.map_err(refusal)
    }
}

/// The GraphQL error for a refusal.
pub fn refusal(err: Refusal) -> Error {
    match err {
        Refusal::Unauthenticated => {
            coded("authentication required: sign in and send the access token", "UNAUTHENTICATED")
        }
        Refusal::Forbidden(why) => coded(why, "FORBIDDEN"),
        Refusal::NotFound(what) => coded(format!("{what} not found"), "NOT_FOUND"),
        Refusal::Conflict { message, field } => coded(message, "CONFLICT").extend_with(|_, ext| {
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
        }),
        Refusal::Invalid(problems) => {
            let message = problems
                .iter()
                .map(|p| if p.field.is_empty() { p.message.clone() } else { format!("{}: {}", p.field, p.message) })
                .collect::<Vec<_>>()
                .join("; ");
            coded(message, "BAD_USER_INPUT").extend_with(|_, ext| {
                if let Some(first) = problems.first() {
                    ext.set("field", first.field.as_str());
                }
                let list: Vec<async_graphql::Value> = problems
                    .iter()
                    .map(|p| {
                        let mut map = async_graphql::indexmap::IndexMap::new();
                        map.insert(async_graphql::Name::new("field"), async_graphql::Value::from(p.field.as_str()));
                        map.insert(async_graphql::Name::new("message"), async_graphql::Value::from(p.message.as_str()));
                        async_graphql::Value::Object(map)
                    })
                    .collect();
                ext.set("problems", async_graphql::Value::List(list));
            })
        }
    }
}

/// The GraphQL error for a store failure.
pub fn store_error(err: StoreError) -> Error {
    match err {
        StoreError::Refused(r) => refusal(r),
        StoreError::Unavailable(cause) => {
            tracing::error!(error = %cause, "database unavailable");
            coded("the service is temporarily unavailable; try again shortly", "SERVICE_UNAVAILABLE")
        }
        StoreError::Timeout(cause) => {
            tracing::warn!(error = %cause, "statement cancelled by statement_timeout");
            coded("the request took too long and was stopped", "TIMEOUT")
        }
        StoreError::Database(cause) => {
            tracing::error!(error = %cause, error.debug = ?cause, "unexpected database error");
            coded("internal error", "INTERNAL_SERVER_ERROR")
        }
    }
}

/// An error with a code and nothing else.
pub fn coded(message: impl Into<String>, code: &'static str) -> Error {
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// Gives every error of a finished response a code. Errors raised before execution (parse
/// errors, wrong argument types, depth and complexity limits) have no path and mean the request
/// itself is at fault: `BAD_USER_INPUT`; so do arguments that fail to parse as their type only
/// when the field runs (an `Int` literal out of range, a negative count), which async-graphql
/// reports with a path and the words `Failed to parse`. Any other resolver error without a code
/// is a bug: it is logged and reported as `INTERNAL_SERVER_ERROR`.
pub fn ensure_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let code = if error.path.is_empty() && error.message == "PersistedQueryNotFound" {
            // Apollo's APQ protocol: the client answers by sending the query with its hash.
            "PERSISTED_QUERY_NOT_FOUND"
        } else if error.path.is_empty() || error.message.starts_with("Failed to parse \"") {
            "BAD_USER_INPUT"
        } else {
            tracing::error!(graphql.error = %error.message, "resolver error without a code");
            error.message = "internal error".into();
            "INTERNAL_SERVER_ERROR"
        };
        error.extensions.get_or_insert_with(Default::default).set("code", code);
    }
}
