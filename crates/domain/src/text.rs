//! Short names and titles typed by people: trimmed, non-empty, bounded.

use crate::Error;

/// Trims `raw` and checks it holds between 1 and `max` characters.
pub fn bounded(field: &str, raw: &str, max: usize) -> Result<String, Error> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(Error::invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(bounded("name", "  El Monte Office ", 200), Ok("El Monte Office".into()));
        assert!(bounded("name", "   ", 200).is_err());
        assert!(bounded("name", &"x".repeat(201), 200).is_err());
        assert!(bounded("name", "a\u{0}b", 200).is_err());
    }
}
