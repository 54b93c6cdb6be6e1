//! Rules on a request's arguments that hold for every operation, checked once on the parsed
//! document before validation ([`crate::documents`] calls them), so no resolver has to repeat
//! them and none can forget:
//!
//! - **No NUL character** in any string: an argument written in the document, a variable, an
//!   input object's field or key, at any depth. PostgreSQL cannot store NUL in text, and a
//!   string holding one answered 500 (`county(slug:)`, `users(search:)`) or was echoed back
//!   (`compareCounties(domain:)`). The refusal is `BAD_USER_INPUT` naming the argument's path
//!   (`slug`, `input.title`, `codes[2]`). `JSON` values are left to the validators of the
//!   documents and answers they carry, which name the place inside them
//!   (`items[FIT1].prompt.en`, `answers.FIT_HELP`).
//! - **One `changePassword` per request**: each one runs a full password hash over the current
//!   password, so aliases would multiply the guesses one rate-limited request may make.

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationType, Selection, SelectionSet, VariableDefinition,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Name, ServerError, Value, Variables};
use orb_domain::Error as Refusal;

/// The refusal of a string holding NUL, naming where.
const NUL: &str = "must not contain the NUL character";

/// The mutations of which one request may hold at most one.
const ONE_PER_REQUEST: &[&str] = &["changePassword"];

/// Refuses a request any of whose strings holds NUL (see the module documentation).
pub fn refuse_nul(
    registry: &Registry,
    document: &ExecutableDocument,
    variables: &Variables,
) -> Result<(), ServerError> {
    let mut walk = Walk { registry, found: None };
    let definitions: Vec<&VariableDefinition> =
        document.operations.iter().flat_map(|(_, op)| op.node.variable_definitions.iter().map(|d| &d.node)).collect();
    for (name, value) in variables.iter() {
        let declared = definitions.iter().find(|d| d.name.node == *name).map(|d| d.var_type.node.to_string());
        walk.value(declared.as_deref().map(MetaTypeName::concrete_typename), value, name.as_str());
    }
    for definition in &definitions {
        if let Some(default) = &definition.default_value {
            let ty = definition.var_type.node.to_string();
            walk.value(Some(MetaTypeName::concrete_typename(&ty)), &default.node, definition.name.node.as_str());
        }
    }
    for (_, operation) in document.operations.iter() {
        let root = match operation.node.ty {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        walk.directives(&operation.node.directives);
        walk.selections(root, &operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        walk.directives(&fragment.node.directives);
        walk.selections(Some(fragment.node.type_condition.node.on.node.as_str()), &fragment.node.selection_set.node);
    }
    match walk.found {
        None => Ok(()),
        Some(field) => Err(crate::error::refusal(Refusal::invalid(field, NUL)).into_server_error(Default::default())),
    }
}

/// Refuses a request asking for a once-per-request mutation more than once (under aliases or
/// through fragments).
pub fn refuse_repeated_mutations(document: &ExecutableDocument) -> Result<(), ServerError> {
    for (_, operation) in document.operations.iter() {
        if operation.node.ty != OperationType::Mutation {
            continue;
        }
        let mut names = Vec::new();
        root_fields(document, &operation.node.selection_set.node, &mut names, 0);
        for once in ONE_PER_REQUEST {
            if names.iter().filter(|n| n == once).count() > 1 {
                let refused = crate::error::refusal(Refusal::invalid(
                    *once,
                    format!("at most one `{once}` may be sent per request"),
                ));
                return Err(refused.into_server_error(Default::default()));
            }
        }
    }
    Ok(())
}

/// The names of the root fields a selection set asks for, fragments expanded (their nesting
/// bounded, since validation, which refuses cycles, has not run yet).
fn root_fields(document: &ExecutableDocument, set: &SelectionSet, names: &mut Vec<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => names.push(field.node.name.node.to_string()),
            Selection::InlineFragment(fragment) => {
                root_fields(document, &fragment.node.selection_set.node, names, depth + 1);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    root_fields(document, &fragment.node.selection_set.node, names, depth + 1);
                }
            }
        }
    }
}

/// A value written in the document stands for its variables with `null`: the variables are
/// checked as the request's variables.
fn variable_as_null(_: Name) -> Result<Value, std::convert::Infallible> {
    Ok(Value::Null)
}

/// A walk over a document's values, keeping the first place a NUL was found.
struct Walk<'a> {
    registry: &'a Registry,
    found: Option<String>,
}

impl Walk<'_> {
    /// `ty` is the value's named type when known: `JSON` values are skipped, input objects give
    /// their fields' types; an unknown type is walked all the same.
    fn value(&mut self, ty: Option<&str>, value: &Value, path: &str) {
        if self.found.is_some() || ty == Some("JSON") {
            return;
        }
        match value {
            Value::String(text) if text.contains('\0') => self.found = Some(path.to_owned()),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.value(ty, item, &format!("{path}[{i}]"));
                }
            }
            Value::Object(fields) => {
                let input_fields = match ty.and_then(|t| self.registry.types.get(t)) {
                    Some(MetaType::InputObject { input_fields, .. }) => Some(input_fields),
                    _ => None,
                };
                for (key, field) in fields {
                    let at = format!("{path}.{}", key.as_str().replace('\0', "\\0"));
                    if key.contains('\0') {
                        self.found = Some(at);
                        return;
                    }
                    let field_ty = input_fields.and_then(|f| f.get(key.as_str())).map(|f| f.ty.as_str());
                    self.value(field_ty.map(MetaTypeName::concrete_typename), field, &at);
                }
            }
            _ => {}
        }
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) {
        for directive in directives {
            for (name, value) in &directive.node.arguments {
                let constant = value.node.clone().into_const_with(variable_as_null);
                self.value(None, &constant.unwrap_or_default(), name.node.as_str());
            }
        }
    }

    /// Walks the arguments of a selection set on the type `parent` (when known).
    fn selections(&mut self, parent: Option<&str>, set: &SelectionSet) {
        for selection in &set.items {
            if self.found.is_some() {
                return;
            }
            match &selection.node {
                Selection::Field(field) => {
                    let meta = parent
                        .and_then(|p| self.registry.types.get(p))
                        .and_then(|t| t.field_by_name(field.node.name.node.as_str()));
                    for (name, value) in &field.node.arguments {
                        let ty = meta.and_then(|m| m.args.get(name.node.as_str())).map(|a| a.ty.as_str());
                        let constant = value.node.clone().into_const_with(variable_as_null);
                        let ty = ty.map(MetaTypeName::concrete_typename);
                        self.value(ty, &constant.unwrap_or_default(), name.node.as_str());
                    }
                    self.directives(&field.node.directives);
                    let child = meta.map(|m| MetaTypeName::concrete_typename(&m.ty));
                    self.selections(child, &field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.directives);
                    let on = fragment.node.type_condition.as_ref().map(|c| c.node.on.node.as_str()).or(parent);
                    self.selections(on, &fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => self.directives(&spread.node.directives),
            }
        }
    }
}
