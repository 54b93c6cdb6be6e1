//! Tests: people.
