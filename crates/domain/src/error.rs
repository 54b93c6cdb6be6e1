//! The ways a request can be refused. Each layer above maps these once, at its edge
//! (GraphQL `extensions.code`, HTTP status), so the meaning stays the same on every path.

/// One problem with one input field, named by its path (for example `input.slug`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Path of the field at fault, as the caller spelled it.
    pub field: String,
    /// What is wrong, in words a front end can show.
    pub message: String,
}

impl FieldProblem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Why orb refused to do something. Internal failures are not here: they belong to the
/// layer that met them and are never described to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The caller did not say who they are, or their credentials are no longer valid.
    #[error("authentication required")]
    Unauthenticated,
    /// The caller is known but their roles do not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request clashes with the current state (a duplicate, an immutable record).
    #[error("{message}")]
    Conflict {
        /// What clashed, for the caller.
        message: String,
        /// The input field at fault, when one is.
        field: Option<String>,
    },
    /// The input is malformed. Every problem found is listed, not just the first.
    #[error("invalid input: {}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldProblem>),
}

impl Error {
    /// A refusal for a caller whose roles do not cover the action.
    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::Forbidden(why.into())
    }

    /// A clash with existing state, blamed on one input field.
    pub fn conflict_on(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into(), field: Some(field.into()) }
    }

    /// A clash with existing state that no single field caused.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into(), field: None }
    }

    /// Invalid input in one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldProblem::new(field, message)])
    }
}

/// Collects the problems of a whole input so the caller hears of all of them at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldProblem>);

impl Problems {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of `result`, or records its problems and gives `None`.
    pub fn take<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(Error::Invalid(problems)) => {
                self.0.extend(problems);
                None
            }
            Err(other) => {
                self.0.push(FieldProblem::new("", other.to_string()));
                None
            }
        }
    }

    /// Records a problem directly.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem::new(field, message));
    }

    /// `Ok(())` when nothing was recorded, otherwise every problem as one error.
    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::Invalid(self.0)) }
    }
}
