//! Tests: cohorts.
