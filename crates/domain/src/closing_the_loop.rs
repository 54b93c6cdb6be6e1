//! Closing the loop: the SO WHAT? planning matrix (per domain of the wave it came from: what we
//! learned, so what, now what, an owner, a due date and a status whose changes are kept), and the
//! county testing profile (the seed's sections a–g and the buddy county's reflections, drafted,
//! shared with the buddy and faculty, then published to everyone signed in).
//!
//! The rules here are pure: which status may follow which, and what a row or a profile's text
//! may hold. Who may do what lives in [`crate::access`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::county::stored_enum;
use crate::engagement::optional_text;
use crate::error::{Error, Problems};
use crate::text::bounded;

stored_enum!(
    /// Where a planned action stands.
    ActionStatus {
        /// Agreed, not started.
        Planned => "PLANNED",
        /// Under way.
        InProgress => "IN_PROGRESS",
        /// Done: final.
        Done => "DONE",
        /// Given up (overtaken, no longer relevant): final.
        Dropped => "DROPPED",
    }
);

impl ActionStatus {
    /// Whether the status is final: a done or dropped action is a record of what happened and
    /// is not reopened (a new action is planned instead, so the history stays readable).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Dropped)
    }

    /// Checks a change of status: `PLANNED → IN_PROGRESS → DONE`, and either of the first two
    /// may be `DROPPED`. Anything else (a final status left, a step skipped or taken back, no
    /// change at all) is a conflict with the action's state.
    pub fn transition(self, to: Self) -> Result<Self, Error> {
        use ActionStatus::{Done, Dropped, InProgress, Planned};
        match (self, to) {
            (Planned, InProgress) | (Planned, Dropped) | (InProgress, Done) | (InProgress, Dropped) => Ok(to),
            (from, to) if from == to => Err(Error::conflict_on("status", format!("the action is already {from}"))),
            (from, _) if from.is_final() => {
                Err(Error::conflict_on("status", format!("the action is {from}, which is final; plan a new action")))
            }
            (Planned, Done) => {
                Err(Error::conflict_on("status", "start the action (IN_PROGRESS) before marking it DONE"))
            }
            (from, to) => Err(Error::conflict_on("status", format!("an action cannot go from {from} back to {to}"))),
        }
    }
}

/// Most characters in the long texts of an action.
pub const MAX_ACTION_TEXT: usize = 4000;

/// A planning matrix's title: short text.
pub fn matrix_title(field: &str, raw: &str) -> Result<String, Error> {
    bounded(field, raw, 200)
}

/// One row of the planning matrix as the lead writes it. The domain must be one of the linked
/// administration's version (checked by the store, which knows the version), the owner a member
/// of the county (also checked there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionText {
    /// The domain's code in the linked wave's instrument version.
    pub domain: String,
    /// What we learned.
    pub learned: String,
    /// So what: why it matters.
    pub so_what: String,
    /// Now what: the action.
    pub now_what: String,
    /// When it is due, if set.
    pub due_on: Option<NaiveDate>,
    /// Working notes (the county's own).
    pub notes: Option<String>,
}

impl ActionText {
    /// Parses a row's text; fields are named under `prefix` (`input`).
    pub fn parse(
        prefix: &str,
        domain: &str,
        learned: &str,
        so_what: &str,
        now_what: &str,
        due_on: Option<NaiveDate>,
        notes: Option<&str>,
    ) -> Result<Self, Error> {
        let mut problems = Problems::new();
        let domain = problems.take(domain_code(&format!("{prefix}.domain"), domain));
        let learned = problems.take(required(&format!("{prefix}.learned"), learned, MAX_ACTION_TEXT));
        let so_what = problems.take(required(&format!("{prefix}.soWhat"), so_what, MAX_ACTION_TEXT));
        let now_what = problems.take(required(&format!("{prefix}.nowWhat"), now_what, MAX_ACTION_TEXT));
        let notes = problems.take(optional_text(&format!("{prefix}.notes"), notes, MAX_ACTION_TEXT));
        if due_on.is_some_and(|d| !(2000..=2100).contains(&chrono::Datelike::year(&d))) {
            problems.push(format!("{prefix}.dueOn"), "must be a date between 2000 and 2100");
        }
        problems.finish()?;
        match (domain, learned, so_what, now_what, notes) {
            (Some(domain), Some(learned), Some(so_what), Some(now_what), Some(notes)) => {
                Ok(Self { domain, learned, so_what, now_what, due_on, notes })
            }
            _ => Err(Error::invalid(prefix, "is invalid")),
        }
    }
}

fn domain_code(field: &str, raw: &str) -> Result<String, Error> {
    let code = raw.trim();
    if code.is_empty() || code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(Error::invalid(field, "must be a domain code of the linked wave's instrument (FIT, LEAD, …)"));
    }
    Ok(code.to_owned())
}

fn required(field: &str, raw: &str, max: usize) -> Result<String, Error> {
    optional_text(field, Some(raw), max)?.ok_or_else(|| Error::invalid(field, "must not be empty"))
}

stored_enum!(
    /// Who can read a testing profile.
    ProfileStatus {
        /// The county's members only.
        Draft => "DRAFT",
        /// Also the county's active buddies and state faculty.
        Shared => "SHARED",
        /// Every signed-in user.
        Published => "PUBLISHED",
    }
);

impl ProfileStatus {
    /// Checks a change of status: one step at a time, forward (`DRAFT → SHARED → PUBLISHED`)
    /// or back (a county may withdraw what it shared or published). No change is a conflict.
    pub fn transition(self, to: Self) -> Result<Self, Error> {
        use ProfileStatus::{Draft, Published, Shared};
        match (self, to) {
            (Draft, Shared) | (Shared, Published) | (Published, Shared) | (Shared, Draft) => Ok(to),
            (from, to) if from == to => Err(Error::conflict_on("status", format!("the profile is already {from}"))),
            (from, to) => Err(Error::conflict_on(
                "status",
                format!("a profile moves one step at a time, not from {from} to {to}"),
            )),
        }
    }
}

/// Most characters in one section of a profile or reflection (Markdown).
pub const MAX_SECTION: usize = 8000;

/// A testing profile's sections, as in the seed (each Markdown, optional while drafting).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSections {
    /// a. County description.
    pub description: Option<String>,
    /// b. What was tested, how and why.
    pub tested: Option<String>,
    /// c. What we learned.
    pub learned: Option<String>,
    /// d. What worked.
    pub worked: Option<String>,
    /// e. What we would do differently.
    pub differently: Option<String>,
    /// f. Where next.
    pub next_steps: Option<String>,
    /// g. Guiding thoughts for other counties.
    pub guidance: Option<String>,
}

impl ProfileSections {
    /// Parses the sections, in the seed's order a–g; fields are named under `prefix`. Blank means
    /// not written yet.
    pub fn parse(prefix: &str, sections: [Option<&str>; 7]) -> Result<Self, Error> {
        const FIELDS: [&str; 7] =
            ["description", "tested", "learned", "worked", "differently", "nextSteps", "guidance"];
        let [a, b, c, d, e, f, g] = parse_sections(prefix, FIELDS, sections)?;
        Ok(Self { description: a, tested: b, learned: c, worked: d, differently: e, next_steps: f, guidance: g })
    }
}

/// The buddy county's reflections on a testing profile (each Markdown, optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reflections {
    /// What was it like?
    pub experience: Option<String>,
    /// What did you learn?
    pub learned: Option<String>,
    /// What will you take?
    pub take_away: Option<String>,
    /// What would you share?
    pub share: Option<String>,
}

impl Reflections {
    /// Parses the four reflections; fields are named under `prefix`.
    pub fn parse(prefix: &str, reflections: [Option<&str>; 4]) -> Result<Self, Error> {
        const FIELDS: [&str; 4] = ["experience", "learned", "takeAway", "share"];
        let [experience, learned, take_away, share] = parse_sections(prefix, FIELDS, reflections)?;
        Ok(Self { experience, learned, take_away, share })
    }
}

fn parse_sections<const N: usize>(
    prefix: &str,
    fields: [&str; N],
    raw: [Option<&str>; N],
) -> Result<[Option<String>; N], Error> {
    let mut problems = Problems::new();
    let parsed = fields.map(|f| f.to_owned());
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for (i, (field, text)) in parsed.iter().zip(raw).enumerate() {
        if let Some(Some(text)) = problems.take(optional_text(&format!("{prefix}.{field}"), text, MAX_SECTION)) {
            out[i] = Some(text);
        }
    }
    problems.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: Result<impl fmt::Debug, Error>) -> Vec<String> {
        match err {
            Err(Error::Invalid(problems)) => problems.into_iter().map(|p| p.field).collect(),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn actions_go_forward_and_final_statuses_stay_final() {
        use ActionStatus::*;
        assert_eq!(Planned.transition(InProgress), Ok(InProgress));
        assert_eq!(Planned.transition(Dropped), Ok(Dropped));
        assert_eq!(InProgress.transition(Done), Ok(Done));
        assert_eq!(InProgress.transition(Dropped), Ok(Dropped));
        for (from, to) in [
            (Planned, Planned),
            (Planned, Done),
            (InProgress, Planned),
            (Done, InProgress),
            (Done, Dropped),
            (Dropped, Planned),
            (Dropped, Dropped),
        ] {
            assert!(
                matches!(from.transition(to), Err(Error::Conflict { field: Some(ref f), .. }) if f == "status"),
                "{from} → {to} must be refused"
            );
        }
        assert!(Done.is_final() && Dropped.is_final() && !Planned.is_final() && !InProgress.is_final());
    }

    #[test]
    fn profiles_move_one_step_either_way() {
        use ProfileStatus::*;
        assert_eq!(Draft.transition(Shared), Ok(Shared));
        assert_eq!(Shared.transition(Published), Ok(Published));
        assert_eq!(Published.transition(Shared), Ok(Shared));
        assert_eq!(Shared.transition(Draft), Ok(Draft));
        assert!(matches!(Draft.transition(Published), Err(Error::Conflict { .. })));
        assert!(matches!(Published.transition(Draft), Err(Error::Conflict { .. })));
        assert!(matches!(Shared.transition(Shared), Err(Error::Conflict { .. })));
    }

    #[test]
    fn an_action_names_every_problem() {
        let ok = ActionText::parse(
            "input",
            " LEAD ",
            "Staff feel unheard.",
            "Trust drops.",
            "Listening tours.",
            None,
            Some(" "),
        );
        assert_eq!(ok.map(|a| (a.domain, a.notes)), Ok(("LEAD".into(), None)));
        let late = NaiveDate::from_ymd_opt(2300, 1, 1);
        assert_eq!(
            fields(ActionText::parse("input", "not a code", "", " ", &"x".repeat(4001), late, None)),
            ["input.domain", "input.learned", "input.soWhat", "input.nowWhat", "input.dueOn"]
        );
    }

    #[test]
    fn sections_are_optional_bounded_markdown() {
        let sections = ProfileSections::parse(
            "input",
            [Some("# Calaveras\n\nSmall, rural."), None, Some(""), None, None, None, None],
        );
        assert_eq!(
            sections.map(|s| (s.description.is_some(), s.learned)),
            Ok((true, None)),
            "blank is not written yet"
        );
        let long = "x".repeat(MAX_SECTION + 1);
        assert_eq!(
            fields(ProfileSections::parse("input", [None, Some(&long), None, None, None, None, Some("a\u{0}b")])),
            ["input.tested", "input.guidance"]
        );
        assert_eq!(fields(Reflections::parse("input", [None, None, Some(&long), None])), ["input.takeAway"]);
    }
}
