//! orb's GraphQL API. Resolvers authorise through the domain's capabilities, read and write
//! through the store on the request's session, and turn every refusal into an error with
//! `extensions.code` in one place ([`error`]). The server attaches a session and loaders to
//! each request ([`attach`]); nothing here knows of HTTP.

pub mod arguments;
pub mod audit;
pub mod closing_the_loop;
pub mod cohorts;
pub mod collection;
pub mod connection;
pub mod context;
pub mod counties;
pub mod documents;
pub mod engagement;
pub mod error;
pub mod instruments;
pub mod loaders;
pub mod people;
pub mod results;
pub mod spans;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, MergedObject, Schema};
use futures::future::BoxFuture;
use orb_store::Session;

/// Every query field, grouped by area.
#[derive(MergedObject, Default)]
pub struct Query(
    people::PeopleQuery,
    counties::CountyQuery,
    cohorts::CohortQuery,
    audit::AuditQuery,
    instruments::InstrumentQuery,
    collection::CollectionQuery,
    results::ComparisonQuery,
    engagement::EngagementQuery,
    closing_the_loop::ClosingTheLoopQuery,
);

/// Every mutation, grouped by area.
#[derive(MergedObject, Default)]
pub struct Mutation(
    people::PeopleMutation,
    counties::CountyMutation,
    cohorts::CohortMutation,
    instruments::InstrumentMutation,
    collection::CollectionMutation,
    engagement::EngagementMutation,
    closing_the_loop::ClosingTheLoopMutation,
);

/// The schema type the server executes.
pub type OrbSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits and switches that protect the service from expensive or probing queries.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    /// Deepest selection allowed.
    pub max_depth: usize,
    /// Highest complexity allowed; list fields count once per requested row.
    pub max_complexity: usize,
    /// Deepest nesting the parser accepts (lists, objects, fragments).
    pub max_recursive_depth: usize,
    /// Most directives on one field.
    pub max_directives: usize,
    /// Longest query text accepted, in bytes, checked before parsing ([`documents`]).
    pub max_query_bytes: usize,
    /// Most fields, directives, operations and fragment definitions one document may hold,
    /// counted as written: bounds what validating a document costs ([`documents`]).
    pub max_selections: usize,
    /// Whether `__schema`/`__type` introspection answers.
    pub introspection: bool,
    /// Whether errors suggest similarly named fields.
    pub suggestions: bool,
    /// How many automatic persisted queries (APQ: a front end sends a query's SHA-256 instead
    /// of its text once registered) are kept in memory, least recently used out; 0 turns APQ off.
    pub persisted_queries: usize,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 5_000,
            max_recursive_depth: 32,
            max_directives: 8,
            max_query_bytes: 64 * 1024,
            max_selections: 2_000,
            introspection: true,
            suggestions: true,
            persisted_queries: 1_000,
        }
    }
}

/// Builds the schema with `options`.
pub fn build_schema(options: &SchemaOptions) -> OrbSchema {
    schema_builder(options).finish()
}

/// The schema's builder with `options` applied, for a server that adds its own extensions.
pub fn schema_builder(options: &SchemaOptions) -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(options.max_depth)
        .limit_complexity(options.max_complexity)
        .limit_recursive_depth(options.max_recursive_depth)
        .limit_directives(options.max_directives)
        .extension(documents::DocumentChecks {
            max_query_bytes: options.max_query_bytes,
            max_selections: options.max_selections,
            refuse_introspection: !options.introspection,
        });
    // Every extension is called around every field resolved (a boxed future each), so the
    // per-resolver spans are installed only when they would be recorded.
    if tracing::enabled!(tracing::Level::DEBUG) {
        builder = builder.extension(spans::ResolverSpans);
    }
    if !options.introspection {
        builder = builder.disable_introspection();
    }
    if !options.suggestions {
        builder = builder.disable_suggestions();
    }
    if let Some(capacity) = std::num::NonZeroUsize::new(options.persisted_queries) {
        use async_graphql::extensions::apollo_persisted_queries::{ApolloPersistedQueries, LruCacheStorage};
        builder = builder.extension(ApolloPersistedQueries::new(LruCacheStorage::new(capacity.get())));
    }
    builder
}

/// The SDL of the schema, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    build_schema(&SchemaOptions::default()).sdl()
}

/// Attaches the request's session and its loaders to a GraphQL request. `spawn` runs the
/// loaders' batches; the server tracks them so the transaction commits only after they end.
pub fn attach<S>(request: async_graphql::Request, session: Arc<Session>, spawn: S) -> async_graphql::Request
where
    S: Fn(BoxFuture<'static, ()>) + Send + Sync + 'static,
{
    let loader = DataLoader::new(loaders::Loaders::new(session.clone()), spawn);
    request.data(session).data(loader)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_schema_matches_the_code() {
        let committed = include_str!("../../../schema/schema.graphql");
        assert!(
            committed == super::sdl(),
            "schema/schema.graphql is out of date: run `cargo run -p orb-server -- schema > schema/schema.graphql`"
        );
    }
}
