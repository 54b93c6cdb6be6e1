//! A debug-level span per resolver, so a slow field can be found in the logs without paying for
//! spans in production (where the level is `info`): the schema installs it only when the debug
//! level is on at start.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{ServerResult, Value};
use tracing::Instrument;

/// Installs [`ResolverSpan`] on a schema.
pub struct ResolverSpans;

impl ExtensionFactory for ResolverSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ResolverSpan)
    }
}

/// Wraps each field's resolution in a `resolve` span carrying the field's path.
struct ResolverSpan;

#[async_graphql::async_trait::async_trait]
impl Extension for ResolverSpan {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if !tracing::enabled!(tracing::Level::DEBUG) || info.is_for_introspection {
            return next.run(ctx, info).await;
        }
        let span = tracing::debug_span!(
            "resolve",
            graphql.parent = info.parent_type,
            graphql.field = info.name,
            graphql.path = %info.path_node,
        );
        next.run(ctx, info).instrument(span).await
    }
}
