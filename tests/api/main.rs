//! Black-box tests of the running service. One binary (linking is the slow part of a build);
//! one module per area.

#![expect(clippy::expect_used, reason = "test code: a failed expectation is the test failing, with its message")]

mod access_matrix;
mod auth;
mod catalogue;
mod cli;
mod closing_the_loop;
mod cohorts;
mod collection;
mod counties;
mod crash_reconciliation;
mod engagement;
mod exactly_once;
mod exports;
mod graphql_abuse;
mod hostile_input;
mod instruments;
mod operations;
mod passwords;
mod people;
mod protocol;
mod results;
mod row_level_security;
mod secrets_in_logs;
mod token_attacks;
