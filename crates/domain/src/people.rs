//! People: accounts, their roles, and the passwords that let them in.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};

use crate::county::stored_enum;
use crate::error::Error;
use crate::text::bounded;

/// An email address used as a login, kept in lower case so it is unique however it is typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// Parses an address, naming `field` when it is not one.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid { Ok(Self(s)) } else { Err(Error::invalid(field, "is not an email address")) }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name as shown to colleagues.
pub fn display_name(field: &str, raw: &str) -> Result<String, Error> {
    bounded(field, raw, 200)
}

stored_enum!(
    /// A role inside one county.
    CountyRole {
        /// Answers administrations, gives message feedback, reads shared results.
        Staff => "staff",
        /// The county's implementation lead: runs the county's readiness work.
        Lead => "lead",
    }
);

stored_enum!(
    /// A role held at state level, outside any county.
    GlobalRole {
        /// State faculty: coach counties, manage cohorts, compare aggregates.
        Faculty => "faculty",
        /// Operator: creates counties and accounts; reads no survey data by virtue of the role.
        Admin => "admin",
    }
);

/// Any role a user can be given: the four of DOMAIN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyRole {
    /// A county role; needs a county.
    County(CountyRole),
    /// A global role; takes no county.
    Global(GlobalRole),
}

impl AnyRole {
    /// Reads `staff`, `lead`, `faculty` or `admin`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let lower = raw.trim().to_ascii_lowercase();
        CountyRole::from_stored(&lower)
            .map(Self::County)
            .or_else(|| GlobalRole::from_stored(&lower).map(Self::Global))
            .ok_or_else(|| Error::invalid(field, "must be one of staff, lead, faculty, admin"))
    }
}

/// A password as typed, checked against the length rule; never logged or displayed.
pub struct Password(String);

impl Password {
    /// Fewest characters a password may have.
    pub const MIN_CHARS: usize = 12;
    /// Most characters a password may have (bounds hashing work).
    pub const MAX_CHARS: usize = 256;

    /// Checks a new password against the rules.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            Err(Error::invalid(field, format!("must be at least {} characters", Self::MIN_CHARS)))
        } else if n > Self::MAX_CHARS {
            Err(Error::invalid(field, format!("must be at most {} characters", Self::MAX_CHARS)))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    /// Hashes the password with argon2id and a fresh salt, for storage. CPU-heavy: call it
    /// off the async executor.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut OsRng);
        match Argon2::default().hash_password(self.0.as_bytes(), &salt) {
            Ok(hash) => hash.to_string(),
            // Only reachable with invalid argon2 parameters, which are fixed here.
            Err(e) => unreachable!("argon2 with default parameters failed: {e}"),
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Checks a login attempt against a stored hash. A missing or unreadable hash never matches,
/// but costs the same as a real check so that timing does not reveal whether an account exists.
pub fn verify_password(attempt: &str, stored_hash: Option<&str>) -> bool {
    match stored_hash.and_then(|h| PasswordHash::new(h).ok()) {
        Some(hash) => Argon2::default().verify_password(attempt.as_bytes(), &hash).is_ok(),
        None => {
            if let Ok(decoy) = PasswordHash::new(decoy_hash()) {
                let _ = Argon2::default().verify_password(attempt.as_bytes(), &decoy);
            }
            false
        }
    }
}

fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| Password("decoy password for unknown accounts".into()).hash())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("email", " Lead@Calaveras.Demo.ORB ").map(|e| e.0),
            Ok("lead@calaveras.demo.orb".into())
        );
        for bad in ["", "no-at-sign", "a@b", "a@@b.c", "a b@c.d", "@c.d", "a@.c", "a@c."] {
            assert!(Email::parse("email", bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let password = Password::parse("password", "correct horse battery").expect("long enough");
        let hash = password.hash();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("wrong horse battery", Some(&hash)));
        assert!(!verify_password("correct horse battery", None));
        assert!(!verify_password("correct horse battery", Some("not a hash")));
        assert!(Password::parse("password", "short").is_err());
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }

    #[test]
    fn roles_parse() {
        assert_eq!(AnyRole::parse("role", "Lead"), Ok(AnyRole::County(CountyRole::Lead)));
        assert_eq!(AnyRole::parse("role", "faculty"), Ok(AnyRole::Global(GlobalRole::Faculty)));
        assert!(AnyRole::parse("role", "respondent").is_err());
    }
}
