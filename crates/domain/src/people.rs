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

/// A password as typed, checked against the password policy; never logged or displayed.
///
/// The policy follows NIST SP 800-63B (rev. 4, §3.1.1.2) for a password that is the only
/// factor: at least [`Password::MIN_CHARS`] characters, no composition rules, and refused when
/// it is blank, repetitive (`aaaaaaaaaaaaaaa`), sequential (`123456789012345`), a common
/// password or one made of them (`passwordpassword`), or built from the context — the
/// account's email or its local part, the service's name (`orb`, `organizational
/// readiness`) or the published demo password. Guessability is estimated with `zxcvbn` given
/// that context; a password must score at least [`Password::MIN_SCORE`] (of 4).
pub struct Password(String);

impl Password {
    /// Fewest characters a password may have (NIST SP 800-63B rev. 4 for a single factor).
    pub const MIN_CHARS: usize = 15;
    /// Most characters a password may have (bounds hashing work).
    pub const MAX_CHARS: usize = 256;
    /// Least `zxcvbn` score accepted: 3, "safely unguessable" (about 10^10 guesses).
    pub const MIN_SCORE: u8 = 3;
    /// Words of this service an attacker tries first, beside the account's own email.
    const SERVICE_WORDS: &'static [&'static str] =
        &["orb", "organizational readiness", "readiness", "orb-demo-password", "demo", "survey"];
    /// The longest prefix estimated: `zxcvbn`'s work grows quickly with length, and a password
    /// whose first 64 characters are hard to guess is hard to guess.
    const ESTIMATED_CHARS: usize = 64;

    /// Checks a new password for the account with `email` against the policy.
    pub fn parse(field: &str, raw: &str, email: &str) -> Result<Self, Error> {
        let n = raw.chars().count();
        if raw.trim().is_empty() {
            return Err(Error::invalid(field, "must not be blank"));
        }
        if n < Self::MIN_CHARS {
            return Err(Error::invalid(field, format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        if n > Self::MAX_CHARS {
            return Err(Error::invalid(field, format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        let email = email.trim().to_lowercase();
        let local = email.split('@').next().unwrap_or_default().to_owned();
        let mut context: Vec<&str> = Self::SERVICE_WORDS.to_vec();
        context.extend([email.as_str(), local.as_str()]);
        context.extend(local.split(['.', '_', '-', '+']));
        context.retain(|word| !word.is_empty());
        let lower = raw.to_lowercase();
        let holds_local = local.chars().count() >= 4 && lower.contains(&local);
        if holds_local || Self::SERVICE_WORDS.iter().any(|word| lower.trim() == *word) {
            return Err(Error::invalid(field, "must not contain your email or be a word of this service"));
        }
        let estimated: String = raw.chars().take(Self::ESTIMATED_CHARS).collect();
        let entropy = zxcvbn::zxcvbn(&estimated, &context);
        if u8::from(entropy.score()) < Self::MIN_SCORE {
            let why = entropy.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
            return Err(Error::invalid(
                field,
                format!(
                    "is too easy to guess{why}; use a longer phrase of unrelated words, not your email, \
                     the service's name, a common password, a repeat or a sequence"
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The demo's accounts' password, which is published (README, `orb demo`) and so is not
    /// held to the policy: only its length is checked. Demo data only; never for a real
    /// account, whose passwords go through [`Password::parse`].
    pub fn demo_data(field: &str, raw: &str) -> Result<Self, Error> {
        let n = raw.chars().count();
        if raw.trim().is_empty() || !(12..=Self::MAX_CHARS).contains(&n) {
            return Err(Error::invalid(field, format!("must be 12 to {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(raw.to_owned()))
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
        let password = Password::parse("password", "correct horse battery staple", "a@b.org").expect("strong");
        let hash = password.hash();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", Some(&hash)));
        assert!(!verify_password("wrong horse battery staple", Some(&hash)));
        assert!(!verify_password("correct horse battery staple", None));
        assert!(!verify_password("correct horse battery staple", Some("not a hash")));
        assert!(Password::parse("password", "short", "a@b.org").is_err());
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }

    #[test]
    fn roles_parse() {
        assert_eq!(AnyRole::parse("role", "Lead"), Ok(AnyRole::County(CountyRole::Lead)));
        assert_eq!(AnyRole::parse("role", "faculty"), Ok(AnyRole::Global(GlobalRole::Faculty)));
        assert!(AnyRole::parse("role", "respondent").is_err());
    }

    #[test]
    fn the_password_policy_refuses_what_an_attacker_tries_first() {
        let email = "jordan.lee@sacramento.demo.orb";
        for weak in [
            "            ",
            "               ",
            "aaaaaaaaaaaa",
            "aaaaaaaaaaaaaaaaaaaa",
            "123456789012",
            "123456789012345678",
            "abcdefghijklmnopqrs",
            "passwordpassword",
            "password12345678",
            "qwertyuiopasdfgh",
            "orb-demo-password",
            "jordan.lee@sacramento.demo.orb",
            "jordan.lee2024!!",
            "orborborborborborb",
            "organizational readiness",
        ] {
            assert!(Password::parse("newPassword", weak, email).is_err(), "{weak:?} is refused");
        }
        for strong in ["correct horse battery staple", "velvet tractor museum ninety", "w7#Lq9!zR2@pX4&v"] {
            assert!(Password::parse("newPassword", strong, email).is_ok(), "{strong:?} is accepted");
        }
        match Password::parse("newPassword", "passwordpassword", email) {
            Err(Error::Invalid(problems)) => assert_eq!(problems[0].field, "newPassword", "the field is named"),
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
        let long = format!("{}{}", "correct horse battery staple ", "z".repeat(300));
        assert!(Password::parse("p", &long, email).is_err(), "at most MAX_CHARS");
        let slow = "correct horse battery staple ".repeat(8);
        let started = std::time::Instant::now();
        assert!(Password::parse("p", &slow, email).is_ok());
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "the estimate stays quick on a long password");
    }

    #[test]
    fn the_published_demo_password_is_demo_data_only() {
        assert!(Password::demo_data("ORB_DEMO_PASSWORD", "orb-demo-password").is_ok());
        assert!(Password::demo_data("ORB_DEMO_PASSWORD", "short").is_err());
        assert!(Password::parse("password", "orb-demo-password", "lead@sacramento.demo.orb").is_err());
    }
}
