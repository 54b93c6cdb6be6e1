//! Counties, their org units, cohorts and buddy pairings: the shape of the state's programme.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problems};
use crate::ids::{CountyId, OrgUnitId};
use crate::text::bounded;

/// A county's short name in URLs and logins: lower-case words joined by hyphens (`los-angeles`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountySlug(String);

impl CountySlug {
    /// Parses a slug, naming `field` when it is malformed.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let s = raw.trim();
        let well_formed = !s.is_empty()
            && s.len() <= 64
            && s.split('-')
                .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
            && s.as_bytes()[0].is_ascii_lowercase();
        if well_formed {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(
                field,
                "must be lower-case letters and digits in words joined by single hyphens, starting with a letter (e.g. `los-angeles`)",
            ))
        }
    }

    /// The slug a county's name gives: `Los Angeles` → `los-angeles`.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        let words: Vec<String> = name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        Self::parse("name", &words.join("-"))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CountySlug {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("slug", &value)
    }
}

impl From<CountySlug> for String {
    fn from(slug: CountySlug) -> Self {
        slug.0
    }
}

impl fmt::Display for CountySlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a closed set of values stored as text, with its stored spelling.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads the stored spelling back.
            pub fn from_stored(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_enum;

stored_enum!(
    /// The CWDA region a county belongs to.
    Region {
        /// Bay Area counties (Alameda, San Francisco, Santa Clara, Sonoma, …).
        BayArea => "BAY_AREA",
        /// Central counties (Calaveras, Kings, Sacramento, Stanislaus, …).
        Central => "CENTRAL",
        /// Los Angeles, a region of its own.
        LosAngeles => "LOS_ANGELES",
        /// Northern counties (Shasta, …).
        Northern => "NORTHERN",
        /// Southern counties (Orange, Ventura, …).
        Southern => "SOUTHERN",
    }
);

stored_enum!(
    /// How large a county's child welfare agency is; sets expectations for group sizes.
    SizeClass {
        /// Up to about 100 child welfare staff (Calaveras has 20).
        Small => "SMALL",
        /// About 100 to 500 staff.
        Medium => "MEDIUM",
        /// About 500 to 2,000 staff (Sacramento has about 800).
        Large => "LARGE",
        /// Thousands of staff (Los Angeles).
        VeryLarge => "VERY_LARGE",
    }
);

stored_enum!(
    /// What an org unit is inside its county.
    UnitKind {
        /// A division under a deputy director.
        Division => "DIVISION",
        /// A regional or satellite office (El Monte Office).
        Office => "OFFICE",
        /// A section under a section manager.
        Section => "SECTION",
        /// A unit under a supervisor.
        Unit => "UNIT",
        /// A team (implementation team, design team).
        Team => "TEAM",
        /// Anything else.
        Other => "OTHER",
    }
);

/// A county as an operator registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCounty {
    /// URL-safe short name, unique.
    pub slug: CountySlug,
    /// Display name (`Los Angeles`).
    pub name: String,
    /// CWDA region.
    pub region: Region,
    /// Size class.
    pub size_class: SizeClass,
    /// Number of child welfare staff, when known (response rates use it).
    pub staff_count: Option<i32>,
}

impl NewCounty {
    /// Parses a county from what an operator typed; every problem is reported at once.
    pub fn parse(
        slug: Option<&str>,
        name: &str,
        region: Region,
        size_class: SizeClass,
        staff_count: Option<i32>,
    ) -> Result<Self, Error> {
        let mut problems = Problems::new();
        let name = problems.take(county_name("input.name", name));
        let slug = match (slug, &name) {
            (Some(raw), _) => problems.take(CountySlug::parse("input.slug", raw)),
            (None, Some(name)) => problems.take(CountySlug::from_name(name)),
            (None, None) => None,
        };
        let staff_count = problems.take(staff(staff_count));
        problems.finish()?;
        match (slug, name, staff_count) {
            (Some(slug), Some(name), Some(staff_count)) => Ok(Self { slug, name, region, size_class, staff_count }),
            _ => Err(Error::invalid("input", "is incomplete")),
        }
    }
}

/// A county's display name.
pub fn county_name(field: &str, raw: &str) -> Result<String, Error> {
    bounded(field, raw, 200)
}

fn staff(count: Option<i32>) -> Result<Option<i32>, Error> {
    match count {
        Some(n) if n < 0 => Err(Error::invalid("input.staffCount", "must not be negative")),
        other => Ok(other),
    }
}

/// A county's staff count as edited later.
pub fn staff_count(field: &str, count: i32) -> Result<i32, Error> {
    if count < 0 { Err(Error::invalid(field, "must not be negative")) } else { Ok(count) }
}

/// An org unit's name.
pub fn unit_name(field: &str, raw: &str) -> Result<String, Error> {
    bounded(field, raw, 200)
}

/// A cohort's name ("ORB Development Circle 2017–18").
pub fn cohort_name(field: &str, raw: &str) -> Result<String, Error> {
    bounded(field, raw, 200)
}

/// Checks a cohort's period runs forwards.
pub fn cohort_period(starts_on: Option<NaiveDate>, ends_on: Option<NaiveDate>) -> Result<(), Error> {
    match (starts_on, ends_on) {
        (Some(start), Some(end)) if end < start => Err(Error::invalid("input.endsOn", "must not be before startsOn")),
        _ => Ok(()),
    }
}

/// Checks that moving `unit` under `new_parent` keeps the hierarchy a tree: `ancestors` are
/// the new parent's ancestors, nearest first.
pub fn check_unit_move(unit: OrgUnitId, new_parent: OrgUnitId, ancestors: &[OrgUnitId]) -> Result<(), Error> {
    if unit == new_parent || ancestors.contains(&unit) {
        Err(Error::invalid("input.parentId", "would put the unit inside itself"))
    } else {
        Ok(())
    }
}

/// Checks a pairing joins two different counties.
pub fn check_pairing(testing: CountyId, buddy: CountyId) -> Result<(), Error> {
    if testing == buddy {
        Err(Error::invalid("input.buddyCountyId", "a county cannot be its own buddy"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        assert!(CountySlug::parse("slug", "los-angeles").is_ok());
        assert!(CountySlug::parse("slug", "calaveras").is_ok());
        for bad in ["", "Los-Angeles", "los--angeles", "-kings", "kings-", "1kings", "san francisco", "ñ"] {
            assert!(CountySlug::parse("slug", bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn slug_from_name() {
        assert_eq!(CountySlug::from_name("Los Angeles").map(String::from), Ok("los-angeles".into()));
        assert_eq!(CountySlug::from_name("San Francisco").map(String::from), Ok("san-francisco".into()));
    }

    #[test]
    fn new_county_reports_every_problem() {
        let Err(Error::Invalid(problems)) =
            NewCounty::parse(Some("Bad Slug"), " ", Region::Central, SizeClass::Small, Some(-1))
        else {
            panic!("expected invalid input");
        };
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["input.name", "input.slug", "input.staffCount"]);
    }

    #[test]
    fn a_unit_cannot_move_inside_itself() {
        let (a, b, c) = (OrgUnitId::new(), OrgUnitId::new(), OrgUnitId::new());
        assert!(check_unit_move(a, a, &[]).is_err());
        assert!(check_unit_move(a, c, &[b, a]).is_err());
        assert!(check_unit_move(a, c, &[b]).is_ok());
    }

    #[test]
    fn stored_spellings_round_trip() {
        for region in Region::ALL {
            assert_eq!(Region::from_stored(region.as_str()), Some(*region));
        }
        for kind in UnitKind::ALL {
            assert_eq!(UnitKind::from_stored(kind.as_str()), Some(*kind));
        }
    }
}
