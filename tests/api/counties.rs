//! Tests: counties.
