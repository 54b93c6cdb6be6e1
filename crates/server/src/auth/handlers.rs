//! `POST /auth/login`, `POST /auth/refresh`, `POST /auth/logout`.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use orb_domain::people::verify_password;
use orb_store::{Caller, Store, auth};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tokens::{AccessTokens, new_refresh_token, refresh_token_hash};
use crate::rest_error::RestError;

/// What the auth endpoints share.
pub struct AuthService {
    /// The runtime store.
    pub store: Store,
    /// Access token keys.
    pub tokens: AccessTokens,
    /// Refresh token lifetime.
    pub refresh_ttl: chrono::Duration,
    /// Per-client limits on sign-in attempts.
    pub limits: std::sync::Arc<crate::rate_limit::RateLimits>,
}

/// A sign-in attempt.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// A refresh token presented for rotation or logout.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// A pair of tokens.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
}

const BAD_CREDENTIALS: &str = "email or password is incorrect";
const BAD_REFRESH: &str = "the refresh token is invalid, expired or already used";

/// Exchanges email and password for tokens. Every failure gets the same answer, after the same
/// amount of password-hashing work, so it reveals nothing about which accounts exist.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in", body = TokenPair),
    (status = 400, description = "The body is not this JSON object, or not sent as application/json", body = crate::openapi::ErrorBody),
    (status = 413, description = "The body is larger than `body_limit_bytes`", body = crate::openapi::ErrorBody),
    (status = 401, description = "Email or password is incorrect", body = crate::openapi::ErrorBody),
    (status = 429, description = "Too many attempts from this client (Retry-After)", body = crate::openapi::ErrorBody),
    (status = 503, description = "The database is unavailable", body = crate::openapi::ErrorBody),
))]
pub async fn login(
    service: web::Data<AuthService>,
    request: actix_web::HttpRequest,
    body: crate::rest_body::CheckedJson<LoginRequest>,
) -> Result<HttpResponse, RestError> {
    if let Some(client) = crate::client_address::client_of(&request) {
        service.limits.check_login(client).map_err(RestError::rate_limited)?;
    }
    let LoginRequest { email, password } = body.into_inner();
    let email = email.trim().to_lowercase();
    let session = service.store.begin(Caller::Anonymous, None).await?;
    let credentials = auth::credentials(&session, &email).await?;
    drop(session);
    let stored_hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
    let verified = web::block(move || verify_password(&password, stored_hash.as_deref()))
        .await
        .map_err(|_| RestError::unauthenticated(BAD_CREDENTIALS))?;
    let user = match credentials {
        Some(c) if verified && !c.disabled => c.user_id,
        _ => {
            tracing::info!("sign-in refused");
            return Err(RestError::unauthenticated(BAD_CREDENTIALS));
        }
    };
    let pair = start_family(&service, user, Uuid::now_v7()).await?;
    tracing::info!(user.id = %user, "signed in");
    Ok(HttpResponse::Ok().json(pair))
}

/// Rotates a refresh token: the presented one is spent and a new pair issued. Presenting a
/// spent token again means it leaked: the whole family is revoked.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "A new pair; the presented refresh token is spent", body = TokenPair),
    (status = 401, description = "Invalid, expired or reused (the family is revoked)", body = crate::openapi::ErrorBody),
    (status = 400, description = "The body is not this JSON object, or not sent as application/json", body = crate::openapi::ErrorBody),
    (status = 413, description = "The body is larger than `body_limit_bytes`", body = crate::openapi::ErrorBody),
    (status = 503, description = "The database is unavailable", body = crate::openapi::ErrorBody),
))]
pub async fn refresh(
    service: web::Data<AuthService>,
    body: crate::rest_body::CheckedJson<RefreshRequest>,
) -> Result<HttpResponse, RestError> {
    let hash = refresh_token_hash(body.0.refresh_token.trim());
    let session = service.store.begin(Caller::Anonymous, None).await?;
    let stored = auth::refresh_token_by_hash(&session, &hash).await?;
    drop(session);
    let Some(stored) = stored else {
        return Err(RestError::unauthenticated(BAD_REFRESH));
    };
    if stored.revoked_at.is_some() || stored.expires_at < Utc::now() {
        return Err(RestError::unauthenticated(BAD_REFRESH));
    }
    let session = service.store.begin(Caller::User(stored.user_id), None).await?;
    let spent_now = stored.used_at.is_none() && auth::consume_refresh_token(&session, stored.id).await?;
    if !spent_now {
        let revoked = auth::revoke_family(session.db(), stored.family_id).await?;
        session.commit().await?;
        tracing::warn!(user.id = %stored.user_id, tokens.revoked = revoked, "refresh token reused: family revoked");
        return Err(RestError::unauthenticated(BAD_REFRESH));
    }
    let pair = issue_pair(&service, &session, stored.user_id, stored.family_id).await?;
    session.commit().await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Ends the login a refresh token belongs to. Always answers 204.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "The login is ended (for any well-formed request)"),
    (status = 400, description = "The body is not this JSON object, or not sent as application/json", body = crate::openapi::ErrorBody),
    (status = 413, description = "The body is larger than `body_limit_bytes`", body = crate::openapi::ErrorBody),
    (status = 503, description = "The database is unavailable", body = crate::openapi::ErrorBody),
))]
pub async fn logout(
    service: web::Data<AuthService>,
    body: crate::rest_body::CheckedJson<RefreshRequest>,
) -> Result<HttpResponse, RestError> {
    let hash = refresh_token_hash(body.0.refresh_token.trim());
    let session = service.store.begin(Caller::Anonymous, None).await?;
    let stored = auth::refresh_token_by_hash(&session, &hash).await?;
    drop(session);
    if let Some(stored) = stored
        && let Ok(session) = service.store.begin(Caller::User(stored.user_id), None).await
    {
        auth::revoke_family(session.db(), stored.family_id).await?;
        session.commit().await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn start_family(
    service: &AuthService,
    user: orb_domain::ids::UserId,
    family: Uuid,
) -> Result<TokenPair, RestError> {
    let session = service.store.begin(Caller::User(user), None).await?;
    let pair = issue_pair(service, &session, user, family).await?;
    session.commit().await?;
    Ok(pair)
}

async fn issue_pair(
    service: &AuthService,
    session: &orb_store::Session,
    user: orb_domain::ids::UserId,
    family: Uuid,
) -> Result<TokenPair, RestError> {
    let (refresh_token, hash) = new_refresh_token();
    auth::store_refresh_token(session, family, user, hash, Utc::now() + service.refresh_ttl).await?;
    let access_token = service.tokens.issue(user).map_err(|e| {
        tracing::error!(error = %e, "could not sign an access token");
        RestError::new(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "internal error")
    })?;
    Ok(TokenPair { access_token, refresh_token, token_type: "Bearer", expires_in: service.tokens.ttl().as_secs() })
}
