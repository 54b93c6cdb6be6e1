//! Authentication over REST: login, refresh-token rotation with reuse detection, logout; and
//! the bearer-token check every GraphQL request goes through.

pub mod handlers;
pub mod tokens;

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use orb_store::Caller;

use crate::rest_error::RestError;
use tokens::AccessTokens;

/// Who an HTTP request says it is: anonymous without an `Authorization` header, a user or a
/// respondent with a valid bearer token, refused otherwise (a bad token is never treated as
/// anonymous).
pub fn caller_of(request: &HttpRequest, tokens: &AccessTokens) -> Result<Caller, RestError> {
    let Some(header) = request.headers().get(AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let value = header.to_str().map_err(|_| RestError::unauthenticated("malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| RestError::unauthenticated("expected `Authorization: Bearer <access token>`"))?;
    let token = token.trim();
    match tokens.verify(token) {
        Ok(user) => Ok(Caller::User(user)),
        Err(as_user) => match tokens.verify_respondent(token) {
            Ok(scope) => Ok(Caller::Respondent(scope)),
            Err(_) => {
                tracing::info!(reason = %as_user, "access token refused");
                Err(RestError::unauthenticated("the access token is invalid or expired"))
            }
        },
    }
}
