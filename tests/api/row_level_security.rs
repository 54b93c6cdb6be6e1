//! Tests: row_level_security.
