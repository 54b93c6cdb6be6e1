//! Instruments: versioned questionnaires (the state's ORB readiness assessment and the
//! counties' adaptations of it). A version is one document ([`document`]); drafts are edited
//! ([`edit`]), checked ([`validate`]), compared with the version they derive from ([`diff`]) and
//! brought up to date with the state's newer versions ([`merge`]).

pub mod diff;
pub mod document;
pub mod edit;
pub mod merge;
pub mod validate;

pub use document::{FORMAT, InstrumentDocument, Item, ItemKind, ResponseScale, Text};

#[cfg(test)]
mod tests;
