//! Communication for engagement: the state's key messages and counties' adaptations of them,
//! message tests (where a county tried which messages on whom), and the feedback attendees give
//! on each message — with its aggregation under the same small-group rule as results.
//!
//! Feedback is aggregated as a tree per county and theme (the state message a message is, or
//! adapts): each message of each test, inside each audience (the county's tests for that
//! audience), inside the county's total for the theme. A group below the minimum is withheld,
//! and so is whatever would let it be worked out by subtraction ([`suppress_figures`]). The tree
//! depends on the county's own feedback only, so every reader (the county, its buddy, faculty)
//! sees the same decisions; across counties, faculty pool only the county totals released.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::county::stored_enum;
use crate::error::{Error, Problems};
use crate::privacy::{Sum, suppress_figures};
use crate::results::{Released, Withheld};
use crate::text::bounded;

stored_enum!(
    /// Whom a county tested messages on.
    Audience {
        /// The county's Board of Supervisors.
        BoardOfSupervisors => "BOARD_OF_SUPERVISORS",
        /// The executive team.
        ExecutiveTeam => "EXECUTIVE_TEAM",
        /// Managers.
        Managers => "MANAGERS",
        /// Supervisors (a supervisors' meeting).
        Supervisors => "SUPERVISORS",
        /// Line staff (social workers).
        LineStaff => "LINE_STAFF",
        /// Clerical and support staff.
        Clerical => "CLERICAL",
        /// Community partners.
        CommunityPartners => "COMMUNITY_PARTNERS",
        /// Educators.
        Educators => "EDUCATORS",
        /// Youth and families.
        YouthAndFamilies => "YOUTH_AND_FAMILIES",
        /// Anyone else.
        Other => "OTHER",
    }
);

stored_enum!(
    /// How the messages were delivered.
    MessageFormat {
        /// A formal presentation.
        Presentation => "PRESENTATION",
        /// A dialogue (what worked best in the seven testing counties).
        Dialogue => "DIALOGUE",
        /// A video.
        Video => "VIDEO",
        /// An elevator speech.
        ElevatorSpeech => "ELEVATOR_SPEECH",
        /// A focus group.
        FocusGroup => "FOCUS_GROUP",
        /// An email.
        Email => "EMAIL",
        /// Anything else.
        Other => "OTHER",
    }
);

stored_enum!(
    /// Orange County's five questions about a message.
    FeedbackQuestion {
        /// Does it work?
        Works => "works",
        /// Is it clear and understandable?
        Clear => "clear",
        /// Does it promote conversation?
        PromotesConversation => "promotes_conversation",
        /// Could it be altered for other audiences?
        Adaptable => "adaptable",
        /// Is it engaging?
        Engaging => "engaging",
    }
);

stored_enum!(
    /// Who gave a piece of feedback.
    FeedbackSource {
        /// A member of the county, signed in (one feedback per message per test, revisable).
        Staff => "staff",
        /// An attendee without an account, through the test's code.
        Attendee => "attendee",
    }
);

/// Lowest and highest rating.
pub const RATING_SCALE: std::ops::RangeInclusive<i32> = 1..=5;
/// Most characters in a comment.
pub const MAX_COMMENT: usize = 2000;
/// Most detail points a message has.
pub const MAX_DETAILS: usize = 30;

/// A key message's text: its theme (a short title), the big-theme statement and its detail
/// points, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageText {
    /// A short title ("Hope for children and families").
    pub theme: String,
    /// The big-theme statement.
    pub big_theme: String,
    /// The detail points, in order.
    pub details: Vec<String>,
}

impl MessageText {
    /// Parses a message's text; fields are named under `prefix` (`input`).
    pub fn parse(prefix: &str, theme: &str, big_theme: &str, details: &[String]) -> Result<Self, Error> {
        let mut problems = Problems::new();
        let theme = problems.take(bounded(&format!("{prefix}.theme"), theme, 200));
        let big_theme = problems.take(long_text(&format!("{prefix}.bigTheme"), big_theme, 2000));
        if details.len() > MAX_DETAILS {
            problems.push(format!("{prefix}.details"), format!("at most {MAX_DETAILS} points"));
        }
        let details: Vec<Option<String>> = details
            .iter()
            .enumerate()
            .map(|(i, d)| problems.take(long_text(&format!("{prefix}.details[{i}]"), d, 1000)))
            .collect();
        problems.finish()?;
        match (theme, big_theme) {
            (Some(theme), Some(big_theme)) => {
                Ok(Self { theme, big_theme, details: details.into_iter().flatten().collect() })
            }
            _ => Err(Error::invalid(prefix, "is invalid")),
        }
    }
}

/// Text people write in sentences: trimmed, non-empty, bounded; line breaks allowed.
fn long_text(field: &str, raw: &str, max: usize) -> Result<String, Error> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(Error::invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// An optional comment or note: blank means none.
pub fn optional_text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => long_text(field, text, max).map(Some),
    }
}

/// What a lead records about one message test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTestDetails {
    /// When it took place.
    pub held_on: NaiveDate,
    /// Whom it addressed.
    pub audience: Audience,
    /// How.
    pub format: MessageFormat,
    /// How many people it reached, if counted.
    pub reached: Option<i32>,
    /// The lead's notes.
    pub notes: Option<String>,
}

impl MessageTestDetails {
    /// Checks a message test's details and the number of messages used (at least one, none
    /// twice: `messages` are the ids as given).
    pub fn parse(
        held_on: NaiveDate,
        audience: Audience,
        format: MessageFormat,
        reached: Option<i32>,
        notes: Option<&str>,
        messages: &[String],
    ) -> Result<Self, Error> {
        let mut problems = Problems::new();
        if reached.is_some_and(|n| !(0..=1_000_000).contains(&n)) {
            problems.push("input.reached", "must be between 0 and 1,000,000");
        }
        let notes = problems.take(optional_text("input.notes", notes, 4000));
        if messages.is_empty() {
            problems.push("input.messages", "name at least one message used");
        }
        for (i, m) in messages.iter().enumerate() {
            if messages[..i].contains(m) {
                problems.push(format!("input.messages[{i}]"), "is listed twice");
            }
        }
        problems.finish()?;
        Ok(Self { held_on, audience, format, reached, notes: notes.flatten() })
    }
}

/// Answers to the five questions, each on the 1–5 scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratings([i32; 5]);

impl Ratings {
    /// Checks five ratings given in [`FeedbackQuestion::ALL`] order; fields are named under
    /// `prefix` (`feedback[0]`).
    pub fn parse(prefix: &str, values: [i32; 5]) -> Result<Self, Error> {
        let mut problems = Problems::new();
        for (q, v) in FeedbackQuestion::ALL.iter().zip(values) {
            if !RATING_SCALE.contains(&v) {
                problems.push(format!("{prefix}.{}", question_field(*q)), "must be between 1 and 5");
            }
        }
        problems.finish()?;
        Ok(Self(values))
    }

    /// The rating given to `question`.
    pub fn of(&self, question: FeedbackQuestion) -> i32 {
        let index = FeedbackQuestion::ALL.iter().position(|q| *q == question).unwrap_or(0);
        self.0[index]
    }
}

/// The input field a question's rating comes in.
pub fn question_field(question: FeedbackQuestion) -> &'static str {
    match question {
        FeedbackQuestion::Works => "works",
        FeedbackQuestion::Clear => "clear",
        FeedbackQuestion::PromotesConversation => "promotesConversation",
        FeedbackQuestion::Adaptable => "adaptable",
        FeedbackQuestion::Engaging => "engaging",
    }
}

/// One piece of feedback on one message of one test, as aggregation needs it: no author, no
/// time.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackEntry {
    /// The message as used in the test.
    pub message: MessageKey,
    /// The ratings.
    pub ratings: Ratings,
    /// The comment, if any (absent for readers not entitled to comments).
    pub comment: Option<String>,
}

/// A message as used in one test: the leaf group of the aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageKey {
    /// The test.
    pub test: uuid::Uuid,
    /// The message's place in the test (its test-message id).
    pub message: uuid::Uuid,
    /// The state message it is or adapts.
    pub theme: uuid::Uuid,
    /// The test's audience.
    pub audience: Audience,
}

/// One question's figures within a group.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionFigures {
    /// The question.
    pub question: FeedbackQuestion,
    /// Answers per rating 1–5.
    pub counts: [usize; 5],
}

impl QuestionFigures {
    /// The mean rating, if anyone answered.
    pub fn mean(&self) -> Option<f64> {
        let n: usize = self.counts.iter().sum();
        let total: usize = self.counts.iter().enumerate().map(|(i, c)| (i + 1) * c).sum();
        (n > 0).then(|| total as f64 / n as f64)
    }
}

/// Everything shown about one group of feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackFigures {
    /// Pieces of feedback in the group.
    pub n: usize,
    /// Per question, in [`FeedbackQuestion::ALL`] order.
    pub questions: Vec<QuestionFigures>,
}

impl FeedbackFigures {
    fn empty() -> Self {
        Self {
            n: 0,
            questions: FeedbackQuestion::ALL
                .iter()
                .map(|&question| QuestionFigures { question, counts: [0; 5] })
                .collect(),
        }
    }

    fn add(&mut self, ratings: &Ratings) {
        self.n += 1;
        for q in &mut self.questions {
            let v = ratings.of(q.question);
            if let Some(slot) = usize::try_from(v - 1).ok().and_then(|i| q.counts.get_mut(i)) {
                *slot += 1;
            }
        }
    }

    fn merge(&mut self, other: &Self) {
        self.n += other.n;
        for (q, o) in self.questions.iter_mut().zip(&other.questions) {
            for (c, oc) in q.counts.iter_mut().zip(o.counts) {
                *c += oc;
            }
        }
    }
}

/// Feedback on one message of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageGroup {
    /// Which message of which test.
    pub key: MessageKey,
    /// Its figures, or why withheld.
    pub figures: Released<FeedbackFigures>,
    /// Its comments, shuffled and unattributed; withheld with the figures. Empty for readers
    /// not entitled to comments.
    pub comments: Released<Vec<String>>,
}

/// Feedback on one theme from one audience, across the county's tests.
#[derive(Debug, Clone, PartialEq)]
pub struct AudienceGroup {
    /// The audience.
    pub audience: Audience,
    /// The theme (state message).
    pub theme: uuid::Uuid,
    /// Its figures, or why withheld.
    pub figures: Released<FeedbackFigures>,
}

/// Feedback on one theme across all of a county's tests.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeGroup {
    /// The theme (state message).
    pub theme: uuid::Uuid,
    /// Its figures, or why withheld.
    pub figures: Released<FeedbackFigures>,
}

/// A county's feedback, at every level, small groups withheld.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CountyFeedback {
    /// Per message of each test.
    pub by_message: Vec<MessageGroup>,
    /// Per audience and theme.
    pub by_audience: Vec<AudienceGroup>,
    /// Per theme.
    pub by_theme: Vec<ThemeGroup>,
}

/// Aggregates one county's feedback. `messages` are every message used in the county's tests
/// (a message nobody rated is a group of 0, shown); `entries` the feedback. Groups below `min`
/// are withheld, and whatever would let one be worked out by subtraction within the tree
/// message ⊂ audience ⊂ theme. Comments come only with a shown message group, shuffled.
pub fn county_feedback(
    messages: &[MessageKey],
    entries: &[FeedbackEntry],
    min: usize,
    rng: &mut impl rand::RngCore,
) -> CountyFeedback {
    use rand::seq::SliceRandom;
    let mut leaves: BTreeMap<MessageKey, (FeedbackFigures, Vec<String>)> =
        messages.iter().map(|k| (*k, (FeedbackFigures::empty(), Vec::new()))).collect();
    for entry in entries {
        let (figures, comments) = leaves.entry(entry.message).or_insert_with(|| (FeedbackFigures::empty(), Vec::new()));
        figures.add(&entry.ratings);
        comments.extend(entry.comment.clone());
    }
    let mut audiences: BTreeMap<(uuid::Uuid, Audience), FeedbackFigures> = BTreeMap::new();
    let mut themes: BTreeMap<uuid::Uuid, FeedbackFigures> = BTreeMap::new();
    for (key, (figures, _)) in &leaves {
        audiences.entry((key.theme, key.audience)).or_insert_with(FeedbackFigures::empty).merge(figures);
        themes.entry(key.theme).or_insert_with(FeedbackFigures::empty).merge(figures);
    }
    // Figures in one list (leaves, audience groups, themes) and the sums they obey.
    let leaf_keys: Vec<MessageKey> = leaves.keys().copied().collect();
    let audience_keys: Vec<(uuid::Uuid, Audience)> = audiences.keys().copied().collect();
    let theme_keys: Vec<uuid::Uuid> = themes.keys().copied().collect();
    let (nl, na) = (leaf_keys.len(), audience_keys.len());
    let mut value: Vec<i64> = leaves.values().map(|(f, _)| f.n as i64).collect();
    value.extend(audiences.values().map(|f| f.n as i64));
    value.extend(themes.values().map(|f| f.n as i64));
    let mut sums: Vec<Sum> = Vec::new();
    for (a, key) in audience_keys.iter().enumerate() {
        let parts = leaf_keys.iter().enumerate().filter(|(_, l)| (l.theme, l.audience) == *key).map(|(i, _)| i);
        sums.push(Sum { parts: parts.collect(), total: nl + a });
    }
    for (t, theme) in theme_keys.iter().enumerate() {
        let parts = audience_keys.iter().enumerate().filter(|(_, a)| a.0 == *theme).map(|(i, _)| nl + i);
        sums.push(Sum { parts: parts.collect(), total: nl + na + t });
    }
    let withheld = suppress_figures(&value, &vec![false; value.len()], &sums, min as i64);
    let release = |i: usize, n: usize| -> Option<Withheld> {
        match (withheld[i], n < min) {
            (false, _) => None,
            (true, true) => Some(Withheld::BelowMinimum),
            (true, false) => Some(Withheld::Complementary),
        }
    };
    let by_message = leaves
        .into_iter()
        .enumerate()
        .map(|(i, (key, (figures, mut comments)))| match release(i, figures.n) {
            None => {
                comments.shuffle(rng);
                MessageGroup { key, figures: Released::Shown(figures), comments: Released::Shown(comments) }
            }
            Some(why) => MessageGroup { key, figures: Released::Withheld(why), comments: Released::Withheld(why) },
        })
        .collect();
    let by_audience = audiences
        .into_iter()
        .enumerate()
        .map(|(i, ((theme, audience), figures))| AudienceGroup {
            audience,
            theme,
            figures: match release(nl + i, figures.n) {
                None => Released::Shown(figures),
                Some(why) => Released::Withheld(why),
            },
        })
        .collect();
    let by_theme = themes
        .into_iter()
        .enumerate()
        .map(|(i, (theme, figures))| ThemeGroup {
            theme,
            figures: match release(nl + na + i, figures.n) {
                None => Released::Shown(figures),
                Some(why) => Released::Withheld(why),
            },
        })
        .collect();
    CountyFeedback { by_message, by_audience, by_theme }
}

/// One theme across counties: each county's released total, and the released ones pooled.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeAcrossCounties<C> {
    /// The theme (state message).
    pub theme: uuid::Uuid,
    /// Each county's total for the theme, or why withheld.
    pub counties: Vec<(C, Released<FeedbackFigures>)>,
    /// The released county totals pooled (withheld ones are left out, so nothing can be
    /// subtracted): `None` when no county's total is released.
    pub pooled: Option<FeedbackFigures>,
}

/// Lines up counties' theme totals for faculty. Pooling only what is released keeps every
/// county's own suppression intact.
pub fn across_counties<C: Clone + Ord>(counties: &[(C, CountyFeedback)]) -> Vec<ThemeAcrossCounties<C>> {
    let mut themes: BTreeMap<uuid::Uuid, ThemeAcrossCounties<C>> = BTreeMap::new();
    for (county, feedback) in counties {
        for group in &feedback.by_theme {
            let entry = themes.entry(group.theme).or_insert_with(|| ThemeAcrossCounties {
                theme: group.theme,
                counties: Vec::new(),
                pooled: None,
            });
            entry.counties.push((county.clone(), group.figures.clone()));
            if let Released::Shown(figures) = &group.figures
                && figures.n > 0
            {
                entry.pooled.get_or_insert_with(FeedbackFigures::empty).merge(figures);
            }
        }
    }
    themes.into_values().collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn ratings(v: i32) -> Ratings {
        Ratings([v, v, v, v, v])
    }

    fn key(test: u128, message: u128, theme: u128, audience: Audience) -> MessageKey {
        MessageKey {
            test: uuid::Uuid::from_u128(test),
            message: uuid::Uuid::from_u128(message),
            theme: uuid::Uuid::from_u128(theme),
            audience,
        }
    }

    fn entries(key: MessageKey, values: &[i32]) -> Vec<FeedbackEntry> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| FeedbackEntry { message: key, ratings: ratings(v), comment: Some(format!("comment {i}")) })
            .collect()
    }

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn ratings_are_on_the_five_point_scale_and_every_problem_is_named() {
        assert!(Ratings::parse("feedback[0]", [1, 2, 3, 4, 5]).is_ok());
        match Ratings::parse("feedback[0]", [0, 2, 6, 4, 5]) {
            Err(Error::Invalid(problems)) => assert_eq!(
                problems.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(),
                ["feedback[0].works", "feedback[0].promotesConversation"]
            ),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn message_text_and_test_details_name_each_field() {
        let text = MessageText::parse("input", " Hope ", "The CPM gives us hope.", &["one".into(), "two".into()]);
        assert_eq!(text.map(|t| (t.theme, t.details.len())), Ok(("Hope".into(), 2)));
        match MessageText::parse("input", "", "", &["".into()]) {
            Err(Error::Invalid(problems)) => assert_eq!(
                problems.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(),
                ["input.theme", "input.bigTheme", "input.details[0]"]
            ),
            other => panic!("expected invalid input, got {other:?}"),
        }
        let day = NaiveDate::from_ymd_opt(2018, 3, 1).unwrap_or_default();
        match MessageTestDetails::parse(
            day,
            Audience::Supervisors,
            MessageFormat::Dialogue,
            Some(-1),
            None,
            &["a".into(), "a".into()],
        ) {
            Err(Error::Invalid(problems)) => assert_eq!(
                problems.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(),
                ["input.reached", "input.messages[1]"]
            ),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn a_message_rated_by_four_is_withheld_with_its_comments_and_five_are_shown() {
        let four = key(1, 1, 100, Audience::Supervisors);
        let five = key(2, 2, 200, Audience::LineStaff);
        let mut all = entries(four, &[5, 4, 4, 3]);
        all.extend(entries(five, &[5, 4, 4, 3, 2]));
        let out = county_feedback(&[four, five], &all, 5, &mut rng());
        let group = |k: MessageKey| out.by_message.iter().find(|g| g.key == k).cloned();
        let withheld = group(four).map(|g| (g.figures, g.comments));
        assert_eq!(
            withheld,
            Some((Released::Withheld(Withheld::BelowMinimum), Released::Withheld(Withheld::BelowMinimum)))
        );
        let shown = group(five).and_then(|g| g.figures.shown().cloned());
        let shown = shown.unwrap_or_else(FeedbackFigures::empty);
        assert_eq!(shown.n, 5);
        assert_eq!(shown.questions[0].counts, [0, 1, 1, 2, 1]);
        assert_eq!(shown.questions[0].mean(), Some(3.6));
        let comments = group(five).and_then(|g| g.comments.shown().cloned()).unwrap_or_default();
        let mut sorted = comments.clone();
        sorted.sort();
        assert_eq!(sorted, (0..5).map(|i| format!("comment {i}")).collect::<Vec<_>>(), "every comment, unattributed");
        // Theme 100 has only the small group: withheld at every level.
        assert!(out.by_theme.iter().any(|t| t.theme == four.theme && t.figures.shown().is_none()));
    }

    #[test]
    fn a_small_test_is_not_given_away_by_its_audience_total() {
        // Two supervisors' meetings on the same theme: 3 and 6. The audience total (9) less the
        // shown 6 would give the 3 away, so the 6 is withheld too; the total of 9 stands.
        let small = key(1, 1, 100, Audience::Supervisors);
        let large = key(2, 2, 100, Audience::Supervisors);
        let mut all = entries(small, &[1, 2, 3]);
        all.extend(entries(large, &[5, 5, 4, 4, 3, 3]));
        let out = county_feedback(&[small, large], &all, 5, &mut rng());
        let figures = |k: MessageKey| out.by_message.iter().find(|g| g.key == k).map(|g| g.figures.clone());
        assert_eq!(figures(small), Some(Released::Withheld(Withheld::BelowMinimum)));
        assert_eq!(figures(large), Some(Released::Withheld(Withheld::Complementary)));
        let audience = out.by_audience.iter().find(|a| a.audience == Audience::Supervisors);
        assert_eq!(audience.and_then(|a| a.figures.shown()).map(|f| f.n), Some(9), "pooled, the group is large enough");
    }

    #[test]
    fn a_small_audience_is_not_given_away_by_the_theme_total() {
        // Theme 100: supervisors 6, board 3. The theme's total less the supervisors' would give
        // the board away, so the supervisors' total is withheld beside it — and then its one
        // test too, or the total would follow from it.
        let supervisors = key(1, 1, 100, Audience::Supervisors);
        let board = key(2, 2, 100, Audience::BoardOfSupervisors);
        let mut all = entries(supervisors, &[5, 5, 4, 4, 3, 3]);
        all.extend(entries(board, &[2, 2, 3]));
        let out = county_feedback(&[supervisors, board], &all, 5, &mut rng());
        let theme = out.by_theme.first().map(|t| t.figures.clone());
        assert_eq!(theme.and_then(|f| f.shown().map(|f| f.n)), Some(9));
        for group in &out.by_audience {
            assert!(group.figures.shown().is_none(), "{:?} must be withheld", group.audience);
        }
        for group in &out.by_message {
            assert!(group.figures.shown().is_none(), "{:?} must be withheld", group.key.audience);
            assert!(group.comments.shown().is_none());
        }
    }

    #[test]
    fn a_message_nobody_rated_is_an_empty_group_shown() {
        let quiet = key(1, 1, 100, Audience::Educators);
        let out = county_feedback(&[quiet], &[], 5, &mut rng());
        let figures = out.by_message.first().and_then(|g| g.figures.shown().cloned());
        assert_eq!(figures.map(|f| (f.n, f.questions[0].mean())), Some((0, None)));
    }

    #[test]
    fn across_counties_pools_only_released_totals() {
        let a = key(1, 1, 100, Audience::Supervisors);
        let b = key(2, 2, 100, Audience::LineStaff);
        let county_a = county_feedback(&[a], &entries(a, &[5, 5, 5, 5, 5]), 5, &mut rng());
        let county_b = county_feedback(&[b], &entries(b, &[1, 1]), 5, &mut rng());
        let lined = across_counties(&[("a", county_a), ("b", county_b)]);
        assert_eq!(lined.len(), 1);
        let theme = &lined[0];
        assert_eq!(theme.counties[1], ("b", Released::Withheld(Withheld::BelowMinimum)));
        let pooled = theme.pooled.clone().unwrap_or_else(FeedbackFigures::empty);
        assert_eq!((pooled.n, pooled.questions[4].mean()), (5, Some(5.0)), "county b's 2 are left out");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the feedback, no group of the tree message ⊂ audience ⊂ theme below the
        /// minimum is shown, pinned down by the sums, or the union of a sum's withheld parts;
        /// a shown group is its true size and a withheld one says why truly.
        #[test]
        fn no_small_feedback_group_can_be_worked_out(
            leaves in proptest::collection::vec((0u128..3, 0usize..3, 0usize..8), 1..12),
            min in 3usize..8,
        ) {
            use crate::privacy::onlooker::figure_disclosures;
            let audiences = [Audience::Supervisors, Audience::LineStaff, Audience::BoardOfSupervisors];
            let mut messages = Vec::new();
            let mut all = Vec::new();
            for (test, &(theme, audience, n)) in leaves.iter().enumerate() {
                let k = key(test as u128, test as u128, 100 + theme, audiences[audience]);
                messages.push(k);
                all.extend(entries(k, &vec![3; n]));
            }
            let out = county_feedback(&messages, &all, min, &mut rng());
            // The tree as the onlooker reads it: every figure's truth, what was shown, the sums.
            let mut actual: Vec<i64> = Vec::new();
            let mut released: Vec<Option<i64>> = Vec::new();
            let mut sums: Vec<Sum> = Vec::new();
            let mut record = |truth: usize, figures: &Released<FeedbackFigures>| {
                let shown = figures.shown().map(|f| f.n as i64);
                let why_truthful = match figures {
                    Released::Shown(f) => f.n == truth,
                    Released::Withheld(Withheld::BelowMinimum) => truth < min,
                    Released::Withheld(Withheld::Complementary) => truth >= min,
                };
                actual.push(truth as i64);
                released.push(shown);
                why_truthful
            };
            let size = |pick: &dyn Fn(&MessageKey) -> bool| all.iter().filter(|e| pick(&e.message)).count();
            let mut truthful = Vec::new();
            for g in &out.by_message {
                truthful.push(record(size(&|m| *m == g.key), &g.figures));
                proptest::prop_assert_eq!(g.comments.shown().is_some(), g.figures.shown().is_some());
            }
            let nl = out.by_message.len();
            for (a, g) in out.by_audience.iter().enumerate() {
                truthful.push(record(size(&|m| m.theme == g.theme && m.audience == g.audience), &g.figures));
                let parts = out.by_message.iter().enumerate().filter(|(_, m)| m.key.theme == g.theme && m.key.audience == g.audience);
                sums.push(Sum { parts: parts.map(|(i, _)| i).collect(), total: nl + a });
            }
            let na = out.by_audience.len();
            for (t, g) in out.by_theme.iter().enumerate() {
                truthful.push(record(size(&|m| m.theme == g.theme), &g.figures));
                let parts = out.by_audience.iter().enumerate().filter(|(_, a)| a.theme == g.theme);
                sums.push(Sum { parts: parts.map(|(i, _)| nl + i).collect(), total: nl + na + t });
            }
            proptest::prop_assert!(truthful.iter().all(|&t| t), "{:?}", out);
            let found = figure_disclosures(&actual, &released, &sums, min as i64);
            proptest::prop_assert!(found.is_empty(), "{:?} with minimum {}: {:?}", leaves, min, found);
        }
    }
}
