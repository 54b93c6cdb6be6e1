//! What every resolver reaches through the GraphQL context: the request's session and loaders.

use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use orb_domain::Error as Refusal;
use orb_domain::ids::parse_id;
use orb_store::{PageRequest, Session};

use crate::error::{ApiResult, IntoApi, coded};
use crate::loaders::Loaders;

/// The request's batched loaders.
pub type RequestLoader = DataLoader<Loaders>;

/// The request's session. Attached to every request by the server.
pub fn session<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<Session>> {
    ctx.data::<Arc<Session>>().map_err(|_| coded("internal error", "INTERNAL_SERVER_ERROR"))
}

/// The request's loaders.
pub fn loader<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestLoader> {
    ctx.data::<RequestLoader>().map_err(|_| coded("internal error", "INTERNAL_SERVER_ERROR"))
}

/// Parses an `ID` argument into a typed id, naming the field when malformed.
pub fn id<T: std::str::FromStr>(field: &str, raw: &async_graphql::ID) -> ApiResult<T> {
    parse_id::<T>(field, raw.as_str()).api()
}

/// Parses the `first`/`after` arguments of a connection.
pub fn page(first: Option<i32>, after: Option<String>) -> ApiResult<PageRequest> {
    PageRequest::parse(first, after.as_deref()).api()
}

/// A loaded row that must exist: its absence is `NOT_FOUND`.
pub fn found<T>(value: Option<T>, what: &'static str) -> ApiResult<T> {
    value.ok_or(Refusal::NotFound(what)).api()
}

/// Runs CPU-heavy work (password hashing) off the async executor.
pub async fn off_executor<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(|_| coded("internal error", "INTERNAL_SERVER_ERROR"))
}

/// A stored spelling read back as its domain value; the database's CHECK constraints make a
/// miss a bug, reported as an internal error.
pub fn stored<T>(value: Option<T>) -> ApiResult<T> {
    value.ok_or_else(|| {
        tracing::error!("a stored value has no domain meaning");
        crate::error::coded("internal error", "INTERNAL_SERVER_ERROR")
    })
}
