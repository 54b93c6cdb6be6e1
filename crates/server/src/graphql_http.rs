//! `POST /graphql` executes one operation in one transaction; `GET /graphql` serves GraphiQL and
//! never executes anything.
//!
//! The response is sent only after the transaction commits, so an acknowledged write is never
//! lost; a failed commit turns the whole answer into an error.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use orb_graphql::OrbSchema;
use orb_store::{Session, Store, StoreError};
use serde_json::json;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::auth::caller_of;
use crate::auth::tokens::AccessTokens;
use crate::metrics::RequestTally;

/// What the GraphQL endpoint needs.
pub struct GraphqlService {
    /// The schema.
    pub schema: OrbSchema,
    /// The runtime store.
    pub store: Store,
    /// Access token keys.
    pub tokens: Arc<AccessTokens>,
    /// The request time limit.
    pub timeout: Duration,
    /// Signs respondent tokens for `startResponse`.
    pub respondent_tokens: Arc<dyn orb_graphql::collection::RespondentTokens>,
    /// Per-client rate limits.
    pub limits: Arc<crate::rate_limit::RateLimits>,
    /// The service's metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The GraphiQL page, when the `graphiql` setting serves it.
    pub graphiql: Option<Arc<crate::graphiql::Page>>,
}

/// A GraphQL-shaped error response with a code.
fn error_response(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
}

/// Serves the GraphiQL page where it is turned on ([`crate::graphiql`]). A GraphQL client sending an operation over GET (asking for JSON,
/// not a page) is told plainly that operations go by POST, rather than handed HTML it would
/// take for an answer; nothing sent over GET is ever executed.
#[utoipa::path(get, path = "/graphql", tag = "graphql", responses(
    (status = 200, description = "The GraphiQL page (pinned scripts with integrity, a Content-Security-Policy); never executes an operation", content_type = "text/html", body = String),
    (status = 404, description = "`NOT_FOUND`: GraphiQL is turned off (`graphiql = false`; the default in production)", body = Object),
    (status = 405, description = "`BAD_REQUEST`: an operation sent over GET by a client asking for JSON", body = Object),
))]
pub async fn graphiql(service: web::Data<GraphqlService>, request: HttpRequest) -> HttpResponse {
    if wants_json(&request) && carries_operation(&request) {
        let mut refused = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_REQUEST",
            "operations are executed only over POST with Content-Type: application/json",
        );
        refused
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, actix_web::http::header::HeaderValue::from_static("POST"));
        return refused;
    }
    let Some(page) = &service.graphiql else {
        return error_response(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "GraphiQL is turned off on this service; send operations by POST",
        );
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CONTENT_SECURITY_POLICY, page.content_security_policy.as_str()))
        .body(page.html.clone())
}

/// Whether the client asks for JSON (a GraphQL client) rather than a page (a browser).
fn wants_json(request: &HttpRequest) -> bool {
    let accept = request.headers().get(actix_web::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let accept = accept.to_ascii_lowercase();
    !accept.contains("text/html")
        && (accept.contains("application/json") || accept.contains("application/graphql-response+json"))
}

/// Whether a GET carries an operation in its query string (`?query=…`).
fn carries_operation(request: &HttpRequest) -> bool {
    request.query_string().split('&').any(|pair| pair.split('=').next() == Some("query"))
}

/// Executes one GraphQL operation.
#[utoipa::path(post, path = "/graphql", tag = "graphql",
    request_body(content = Object, content_type = "application/json",
        description = "`{query, operationName, variables, extensions}`: one operation; APQ via `extensions.persistedQuery`"),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A GraphQL response; errors carry `extensions.code`", body = Object),
        (status = 400, description = "Not a GraphQL request, or a batch", body = Object),
        (status = 401, description = "The access token is invalid or expired", body = Object),
        (status = 415, description = "Not sent as application/json", body = Object),
        (status = 429, description = "A rate limit refused the operation (Retry-After)", body = Object),
        (status = 503, description = "`SERVICE_UNAVAILABLE` or `TIMEOUT`", body = Object),
    ))]
pub async fn execute(service: web::Data<GraphqlService>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "operations must be sent as POST with Content-Type: application/json",
        );
    }
    let graphql_request: async_graphql::Request = match body.first() {
        Some(b'[') => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "batched operations are not supported; send one per request",
            );
        }
        _ => match serde_json::from_slice(&body) {
            Ok(parsed) => parsed,
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "the body is not a GraphQL request (expected {\"query\": …})",
                );
            }
        },
    };
    let caller = match caller_of(&request, &service.tokens) {
        Ok(caller) => caller,
        Err(_) => {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the access token is invalid or expired",
            );
        }
    };
    let request_id = request.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string());
    let client = crate::client_address::client_of(&request);
    let operation = graphql_request.operation_name.clone().unwrap_or_default();
    let span = tracing::info_span!("graphql", graphql.operation = %operation);
    let started = std::time::Instant::now();
    let tally = Arc::new(RequestTally::default());
    if !operation.is_empty() {
        tally.set_operation_name(&operation);
    }
    // A document that cannot run is refused before it takes a database connection, so a flood
    // of abusive documents cannot hold the pool while they are parsed and validated.
    let one_mutation = orb_graphql::documents::OneMutation::default();
    let mut probe = service
        .schema
        .execute(orb_graphql::documents::validation_probe(&graphql_request).data(one_mutation.clone()))
        .await;
    if !probe.errors.is_empty() {
        orb_graphql::error::ensure_codes(&mut probe);
        let codes: Vec<String> = probe
            .errors
            .iter()
            .filter_map(|e| match e.extensions.as_ref().and_then(|x| x.get("code")) {
                Some(async_graphql::Value::String(code)) => Some(code.clone()),
                _ => None,
            })
            .collect();
        service.metrics.observe_graphql(&tally, &codes, started.elapsed());
        return HttpResponse::Ok().json(probe);
    }
    let (response, codes) = match tokio::time::timeout(
        service.timeout,
        orb_store::statements::counted(
            tally.statements(),
            run(&service, graphql_request, caller, request_id, client, one_mutation.found(), tally.clone()),
        )
        .instrument(span),
    )
    .await
    {
        Ok(answered) => answered,
        Err(_) => {
            tracing::warn!(graphql.operation = %operation, timeout_ms = service.timeout.as_millis() as u64, "request timed out");
            (
                error_response(StatusCode::SERVICE_UNAVAILABLE, "TIMEOUT", "the request took too long and was stopped"),
                vec!["TIMEOUT".to_owned()],
            )
        }
    };
    service.metrics.observe_graphql(&tally, &codes, started.elapsed());
    response
}

async fn run(
    service: &GraphqlService,
    graphql_request: async_graphql::Request,
    caller: orb_store::Caller,
    request_id: Option<String>,
    client: Option<std::net::IpAddr>,
    one_mutation: bool,
    tally: Arc<RequestTally>,
) -> (HttpResponse, Vec<String>) {
    let session = match service.store.begin(caller, request_id).await {
        Ok(mut session) => {
            if one_mutation {
                session.expect_one_change();
            }
            Arc::new(session)
        }
        Err(StoreError::Refused(orb_domain::Error::Unauthenticated)) => {
            return (
                error_response(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    "the account is disabled or no longer exists",
                ),
                vec!["UNAUTHENTICATED".to_owned()],
            );
        }
        Err(err) => return store_failure(err),
    };
    let batches = TaskTracker::new();
    let spawner = batches.clone();
    let statements = tally.statements();
    let mut prepared = orb_graphql::attach(graphql_request, session.clone(), move |batch| {
        spawner.spawn(orb_store::statements::counted(Arc::clone(&statements), batch));
    })
    .data(service.respondent_tokens.clone())
    .data(tally.clone() as Arc<dyn orb_graphql::collection::SubmissionTally>)
    .data(tally.clone());
    if let Some(client) = client {
        let limits: Arc<dyn orb_graphql::collection::ClientLimits> =
            Arc::new(crate::rate_limit::ClientCodeExchange::new(service.limits.clone(), client));
        prepared = prepared.data(limits);
    }
    let mut response = service.schema.execute(prepared).await;
    orb_graphql::error::ensure_codes(&mut response);
    batches.close();
    batches.wait().await;
    let session = match reclaim(session).await {
        Some(session) => session,
        None => {
            tracing::error!("the request's session was still shared after execution; rolled back");
            return (
                error_response(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "internal error"),
                vec!["INTERNAL_SERVER_ERROR".to_owned()],
            );
        }
    };
    if session.spoiled() {
        // The one mutation wrote without a savepoint and was not kept: roll everything back.
        // Its error is the answer; without one, nothing may be acknowledged either.
        if let Err(err) = session.rollback().await {
            tracing::warn!(error = %err, "rolling back a refused mutation failed");
        }
        if response.errors.is_empty() {
            tracing::error!("a mutation answered without error left its change unfinished; rolled back");
            return (
                error_response(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "internal error"),
                vec!["INTERNAL_SERVER_ERROR".to_owned()],
            );
        }
    } else if let Err(err) = session.commit().await {
        return store_failure(err);
    } else {
        service.metrics.observe_committed(&tally);
    }
    let codes = response
        .errors
        .iter()
        .map(|e| match e.extensions.as_ref().and_then(|x| x.get("code")) {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => "INTERNAL_SERVER_ERROR".to_owned(),
        })
        .collect();
    let answer = match retry_after(&response) {
        Some(seconds) => HttpResponse::TooManyRequests()
            .insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()))
            .json(response),
        None => HttpResponse::Ok().json(response),
    };
    (answer, codes)
}

/// The wait a rate-limited operation asks for, if one was refused for that reason.
fn retry_after(response: &async_graphql::Response) -> Option<u64> {
    response.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        match (ext.get("code"), ext.get("retryAfter")) {
            (Some(async_graphql::Value::String(code)), Some(async_graphql::Value::Number(n)))
                if code == "RATE_LIMITED" =>
            {
                n.as_u64()
            }
            _ => None,
        }
    })
}

/// Takes back sole ownership of the session once the loaders' batches have ended. A batch's
/// task may release its handle a moment after its tracker does, so allow a few yields.
async fn reclaim(mut session: Arc<Session>) -> Option<Session> {
    for _ in 0..100 {
        match Arc::try_unwrap(session) {
            Ok(owned) => return Some(owned),
            Err(shared) => {
                session = shared;
                tokio::task::yield_now().await;
            }
        }
    }
    None
}

fn store_failure(err: StoreError) -> (HttpResponse, Vec<String>) {
    let graphql_error = orb_graphql::error::store_error(err);
    let code = graphql_error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .map(|v| v.to_string().trim_matches('"').to_owned())
        .unwrap_or_else(|| "INTERNAL_SERVER_ERROR".into());
    let status = match code.as_str() {
        "SERVICE_UNAVAILABLE" | "TIMEOUT" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (error_response(status, &code, &graphql_error.message), vec![code])
}
