//! The orb domain: what counties, people, cohorts and pairings are, the rules their values
//! obey, and who may do what. Nothing here performs I/O or knows of HTTP, GraphQL or SQL,
//! so every rule can be tested on its own and every layer above shares one meaning.

pub mod access;
pub mod closing_the_loop;
pub mod collection;
pub mod comparison;
pub mod county;
pub mod engagement;
pub mod error;
pub mod ids;
pub mod instrument;
#[cfg(test)]
mod map_based;
pub mod people;
pub mod privacy;
pub mod raw_rows;
pub mod results;
pub mod scoring;
pub mod text;

pub use error::{Error, FieldProblem};
