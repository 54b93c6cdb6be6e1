//! Checks on a parsed document before it is validated, so what validation costs stays bounded
//! and a switched-off feature answers plainly.
//!
//! - **Length**: parsing costs time in proportion to the text (about half a second of a
//!   worker's CPU for a megabyte); a query text may be at most `max_query_bytes` long, refused
//!   before parsing.
//! - **Size**: validation compares fields pairwise (fields that share a response name must
//!   merge), so its work grows with the square of a document's fields; a 600 KB document
//!   repeating one field took seconds of a worker's CPU, which no request time limit interrupts.
//!   A document may hold at most `max_selections` fields, directives, operations and fragment
//!   definitions, counted as written.
//! - **Arguments**: no string may hold NUL, and a once-per-request mutation may not repeat
//!   ([`crate::arguments`]).
//! - **Introspection off**: async-graphql's switch answers `__schema` and `__type` with `null`
//!   and no error, which a client cannot tell from an empty schema; the operation is refused.
//!
//! The server also runs each request through here once without executing it
//! ([`validation_probe`]), to refuse what cannot run before taking a database connection.
//!
//! Either refusal is an error without a path, which gets `BAD_USER_INPUT` like every error in a
//! document ([`crate::error::ensure_codes`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery};
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError, ServerResult, Value, Variables};

/// Marks a request that is only parsed and validated, never executed ([`validation_probe`]).
struct ValidationProbe;

/// A copy of `request` that goes through parsing, the checks here and validation, and stops
/// before executing anything: the server runs it first, so a document that cannot run is
/// refused before a database connection is taken for it. Errors are the ones the real request
/// would get; an empty response means the request may run.
pub fn validation_probe(request: &Request) -> Request {
    let mut probe = Request::new(request.query.clone()).variables(request.variables.clone()).data(ValidationProbe);
    probe.operation_name = request.operation_name.clone();
    probe.extensions = request.extensions.clone();
    probe
}

/// Told by the validation probe whether the request is one operation that is a mutation of one
/// root field. The server then lets that mutation write into the request's transaction without
/// a savepoint (`Session::expect_one_change`): if it fails there is nothing else to keep.
#[derive(Debug, Clone, Default)]
pub struct OneMutation(Arc<AtomicBool>);

impl OneMutation {
    /// Whether the probed request is one mutation of one root field.
    pub fn found(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Whether `document` holds one operation, a mutation selecting one root field.
fn one_mutation(document: &ExecutableDocument) -> bool {
    let mut operations = document.operations.iter();
    match (operations.next(), operations.next()) {
        (Some((_, operation)), None) => {
            operation.node.ty == OperationType::Mutation
                && matches!(operation.node.selection_set.node.items.as_slice(),
                            [only] if matches!(only.node, Selection::Field(_)))
        }
        _ => false,
    }
}

/// Installs the checks on a schema.
pub struct DocumentChecks {
    /// Longest query text accepted, in bytes.
    pub max_query_bytes: usize,
    /// Most fields, directives, operations and fragment definitions in one document.
    pub max_selections: usize,
    /// Refuse documents selecting `__schema` or `__type`.
    pub refuse_introspection: bool,
}

impl ExtensionFactory for DocumentChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Checks {
            max_query_bytes: self.max_query_bytes,
            max_selections: self.max_selections,
            refuse_introspection: self.refuse_introspection,
        })
    }
}

struct Checks {
    max_query_bytes: usize,
    max_selections: usize,
    refuse_introspection: bool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Checks {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > self.max_query_bytes {
            return Err(ServerError::new(
                format!("the query is {} bytes long; at most {} are accepted", query.len(), self.max_query_bytes),
                None,
            ));
        }
        let document = next.run(ctx, query, variables).await?;
        let mut tally = Tally::default();
        for (_, operation) in document.operations.iter() {
            tally.definition(&operation.node.directives);
            tally.selections(&operation.node.selection_set.node);
        }
        for fragment in document.fragments.values() {
            tally.definition(&fragment.node.directives);
            tally.selections(&fragment.node.selection_set.node);
        }
        if tally.items > self.max_selections {
            return Err(ServerError::new(
                format!(
                    "the document holds {} fields, directives and definitions; at most {} are accepted",
                    tally.items, self.max_selections
                ),
                None,
            ));
        }
        if self.refuse_introspection && tally.introspection {
            return Err(ServerError::new(
                "introspection is turned off on this service; use the published schema (schema/schema.graphql)",
                None,
            ));
        }
        crate::arguments::refuse_nul(&ctx.schema_env.registry, &document, variables)?;
        crate::arguments::refuse_repeated_mutations(&document)?;
        if let Some(shape) = ctx.data_opt::<OneMutation>() {
            shape.0.store(one_mutation(&document), Ordering::Release);
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if ctx.data_opt::<ValidationProbe>().is_some() {
            return Response::new(Value::Null);
        }
        next.run(ctx, operation_name).await
    }
}

/// What a document holds, counted as written (a fragment spread counts once, not expanded).
#[derive(Default)]
struct Tally {
    items: usize,
    introspection: bool,
}

impl Tally {
    fn definition(&mut self, directives: &[Positioned<Directive>]) {
        self.items += 1 + directives.len();
    }

    /// The parser's nesting limit bounds the recursion.
    fn selections(&mut self, set: &SelectionSet) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    self.items += 1 + field.node.directives.len();
                    self.introspection |= matches!(field.node.name.node.as_str(), "__schema" | "__type");
                    self.selections(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    self.items += 1 + fragment.node.directives.len();
                    self.selections(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => self.items += 1 + spread.node.directives.len(),
            }
        }
    }
}
