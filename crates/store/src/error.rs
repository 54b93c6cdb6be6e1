//! Store failures: a refusal the caller can act on, or a database fault they cannot.

use std::ops::Deref;

use orb_domain::Error as Refusal;
use sea_orm::{DbErr, RuntimeErr};

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The request was refused for a reason the caller can understand and fix.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// PostgreSQL could not be reached (no connection could be had from the pool).
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// A statement ran past the request's time limit and was cancelled.
    #[error("the database did not answer in time")]
    Timeout(#[source] DbErr),
    /// Anything else: a bug or a fault to log, never to describe to the caller.
    #[error("database error")]
    Database(#[source] DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable(err),
            _ => match sqlstate(&err).as_deref() {
                // query_canceled: statement_timeout fired.
                Some("57014") => Self::Timeout(err),
                // insufficient_privilege, incl. a row refused by a row-level security policy:
                // the service's own checks should have refused first; the database is the second wall.
                Some("42501") => {
                    tracing::warn!(error = %err, "row-level security refused a write the service allowed");
                    Self::Refused(Refusal::forbidden("not allowed"))
                }
                // object_not_in_prerequisite_state: a database guard refused to change a record
                // that is no longer editable (a published instrument version).
                Some("55000") => Self::Refused(Refusal::conflict(
                    database_error(&err)
                        .map(|e| e.message().to_owned())
                        .unwrap_or_else(|| "the record can no longer change".into()),
                )),
                // admin_shutdown, cannot_connect_now, connection failures.
                Some("57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" | "08001" | "08004") => {
                    Self::Unavailable(err)
                }
                _ if is_io_failure(&err) => Self::Unavailable(err),
                _ => Self::Database(err),
            },
        }
    }
}

/// The SQLSTATE PostgreSQL gave for a failed statement, if any.
pub fn sqlstate(err: &DbErr) -> Option<String> {
    database_error(err).and_then(|e| e.code().map(|c| c.into_owned()))
}

/// The name of the constraint a failed statement violated, if any.
pub fn violated_constraint(err: &DbErr) -> Option<String> {
    database_error(err).and_then(|e| e.constraint().map(str::to_owned))
}

fn database_error(err: &DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.deref() {
            sea_orm::sqlx::Error::Database(db) => Some(db.as_ref()),
            _ => None,
        },
        _ => None,
    }
}

fn is_io_failure(err: &DbErr) -> bool {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            e.deref(),
            sea_orm::sqlx::Error::Io(_)
                | sea_orm::sqlx::Error::PoolTimedOut
                | sea_orm::sqlx::Error::PoolClosed
                | sea_orm::sqlx::Error::WorkerCrashed
        ),
        _ => false,
    }
}

/// SQLSTATE of a unique-constraint violation.
pub(crate) const UNIQUE_VIOLATION: &str = "23505";
/// SQLSTATE of a foreign-key violation: a row still referenced, or a reference to nothing.
pub(crate) const FOREIGN_KEY_VIOLATION: &str = "23503";

/// Maps a violation with SQLSTATE `code` to the refusal `refused` gives; other errors pass through.
pub(crate) fn refuse_on(code: &'static str, refused: impl Fn() -> Refusal) -> impl Fn(DbErr) -> StoreError {
    move |err| {
        if sqlstate(&err).as_deref() == Some(code) { StoreError::Refused(refused()) } else { StoreError::from(err) }
    }
}

/// Maps a unique-constraint violation to a `CONFLICT` on `field`; other errors pass through.
pub(crate) fn conflict_on(field: &'static str, message: &'static str) -> impl Fn(DbErr) -> StoreError {
    refuse_on(UNIQUE_VIOLATION, move || Refusal::conflict_on(field, message))
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;
