//! The orb service: actix-web over the GraphQL API, authentication, configuration, database
//! preparation and the `orb` command line. Built as a library so the binary's `main` stays thin
//! and the tests start exactly what production starts ([`startup::Application`]).

pub mod auth;
pub mod cli;
pub mod client_address;
pub mod config;
pub mod database;
pub mod demo;
pub mod exports;
pub mod graphiql;
pub mod graphql_http;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod rest_body;
pub mod rest_error;
pub mod spreadsheet;
pub mod startup;
pub mod telemetry;

pub use config::Settings;
pub use startup::{Application, StartOptions};
