//! Communication for engagement: key messages, counties' adaptations, message tests and the
//! feedback on each message, read as aggregates with small groups withheld.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use orb_domain::Error as Refusal;
use orb_domain::collection::AccessCode;
use orb_domain::engagement::{self as domain, FeedbackFigures, MessageTestDetails, MessageText, Ratings};
use orb_domain::error::Problems;
use orb_domain::ids::{CountyId, CountyKeyMessageId, KeyMessageId, MessageTestId, TestMessageId};
use orb_domain::results::{Released, Withheld};
use orb_store::engagement as store;
use orb_store::entities::{county_key_messages, key_messages, message_test_messages, message_tests};
use orb_store::page::encode_cursor;

use crate::collection::{ClientLimits, rate_limited};
use crate::connection::connection;
use crate::context::{found, id, loader, page, session, stored};
use crate::counties::County;
use crate::error::{ApiResult, IntoApi, coded};
use crate::results::{OptionCount, WithheldReason};

/// Whom a county tested messages on.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::engagement::Audience")]
pub enum Audience {
    /// The county's Board of Supervisors.
    BoardOfSupervisors,
    /// The executive team.
    ExecutiveTeam,
    /// Managers.
    Managers,
    /// Supervisors.
    Supervisors,
    /// Line staff.
    LineStaff,
    /// Clerical and support staff.
    Clerical,
    /// Community partners.
    CommunityPartners,
    /// Educators.
    Educators,
    /// Youth and families.
    YouthAndFamilies,
    /// Anyone else.
    Other,
}

/// How the messages were delivered.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::engagement::MessageFormat")]
pub enum MessageFormat {
    /// A formal presentation.
    Presentation,
    /// A dialogue.
    Dialogue,
    /// A video.
    Video,
    /// An elevator speech.
    ElevatorSpeech,
    /// A focus group.
    FocusGroup,
    /// An email.
    Email,
    /// Anything else.
    Other,
}

/// The five questions asked about each message.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::engagement::FeedbackQuestion")]
pub enum FeedbackQuestion {
    /// Does it work?
    Works,
    /// Is it clear and understandable?
    Clear,
    /// Does it promote conversation?
    PromotesConversation,
    /// Could it be altered for other audiences?
    Adaptable,
    /// Is it engaging?
    Engaging,
}

/// A key message of the state's library: a big theme with its detail points.
#[derive(Clone)]
pub struct KeyMessage(pub key_messages::Model);

#[Object]
impl KeyMessage {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its place in the library (1 is first).
    async fn position(&self) -> i32 {
        self.0.position
    }

    /// A short title.
    async fn theme(&self) -> &str {
        &self.0.theme
    }

    /// The big-theme statement.
    async fn big_theme(&self) -> &str {
        &self.0.big_theme
    }

    /// The detail points, in order.
    async fn details(&self) -> &[String] {
        &self.0.details
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at.into()
    }
}

/// A county's adaptation of a state key message; keeps its link to the state message.
pub struct CountyKeyMessage(pub county_key_messages::Model);

#[Object]
impl CountyKeyMessage {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.county_id)).await?, "county").map(County)
    }

    /// The state message it adapts.
    async fn key_message(&self, ctx: &Context<'_>) -> ApiResult<KeyMessage> {
        key_message(ctx, self.0.key_message_id).await
    }

    async fn theme(&self) -> &str {
        &self.0.theme
    }

    async fn big_theme(&self) -> &str {
        &self.0.big_theme
    }

    async fn details(&self) -> &[String] {
        &self.0.details
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at.into()
    }
}

async fn key_message(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<KeyMessage> {
    let session = session(ctx)?;
    let rows = store::key_messages_by_ids(session.db(), &[KeyMessageId(id)]).await.api()?;
    found(rows.into_iter().next(), "key message").map(KeyMessage)
}

/// One message as used in a test: a state message, or a county adaptation of one.
pub struct TestMessage(pub message_test_messages::Model);

#[Object]
impl TestMessage {
    /// Feedback names the message by this id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn position(&self) -> i32 {
        self.0.position
    }

    /// The state message it is, or adapts.
    async fn key_message(&self, ctx: &Context<'_>) -> ApiResult<KeyMessage> {
        key_message(ctx, self.0.key_message_id).await
    }

    /// Whether a county adaptation was used.
    async fn adapted(&self) -> bool {
        self.0.county_key_message_id.is_some()
    }

    /// The adaptation used; `null` for a state message, and for readers outside the county.
    async fn adaptation(&self, ctx: &Context<'_>) -> ApiResult<Option<CountyKeyMessage>> {
        let Some(adaptation) = self.0.county_key_message_id else { return Ok(None) };
        let session = session(ctx)?;
        let rows = store::adaptations_by_ids(session.db(), &[CountyKeyMessageId(adaptation)]).await.api()?;
        Ok(rows.into_iter().next().map(CountyKeyMessage))
    }
}

/// A message test: where a county tried which messages on whom.
pub struct MessageTest(pub message_tests::Model);

#[Object]
impl MessageTest {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.county_id)).await?, "county").map(County)
    }

    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }

    async fn audience(&self) -> ApiResult<Audience> {
        stored(domain::Audience::from_stored(&self.0.audience)).map(Into::into)
    }

    async fn format(&self) -> ApiResult<MessageFormat> {
        stored(domain::MessageFormat::from_stored(&self.0.format)).map(Into::into)
    }

    /// How many people it reached, if counted.
    async fn reached(&self) -> Option<i32> {
        self.0.reached
    }

    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }

    /// Whether attendees can give feedback through a code.
    async fn code_enabled(&self) -> bool {
        self.0.code_hash.is_some()
    }

    /// The messages used, in order.
    async fn messages(&self, ctx: &Context<'_>) -> ApiResult<Vec<TestMessage>> {
        let session = session(ctx)?;
        let rows = store::test_messages(session.db(), &[MessageTestId(self.0.id)]).await.api()?;
        Ok(rows.into_iter().map(TestMessage).collect())
    }

    /// Feedback per message: n, mean and distribution per question; groups below the minimum
    /// (or that would give one away) withheld. Comments, shuffled and unattributed, only for
    /// the county's members and only with a shown group. Reads from outside the county are audited.
    async fn feedback(&self, ctx: &Context<'_>) -> ApiResult<Vec<MessageFeedbackResult>> {
        let session = session(ctx)?;
        let loaded = store::county_feedback_of(session, CountyId(self.0.county_id)).await.api()?;
        let themes = themes(ctx).await?;
        let messages = store::test_messages(session.db(), &[MessageTestId(self.0.id)]).await.api()?;
        let mut out = Vec::new();
        for m in messages {
            let Some(group) = loaded.feedback.by_message.iter().find(|g| g.key.message == m.id) else { continue };
            let (withheld, n, questions) = figures(&group.figures);
            out.push(MessageFeedbackResult {
                key_message: themes.get(&group.key.theme).cloned(),
                message: TestMessage(m),
                withheld,
                n,
                questions,
                comments: match (&group.comments, loaded.read.comments) {
                    (Released::Shown(c), true) => Some(c.clone()),
                    _ => None,
                },
            });
        }
        Ok(out)
    }

    /// The caller's own feedback on this test (to revise it).
    async fn my_feedback(&self, ctx: &Context<'_>) -> ApiResult<Vec<MyFeedback>> {
        let session = session(ctx)?;
        let rows = store::my_feedback(session, MessageTestId(self.0.id)).await.api()?;
        Ok(rows
            .into_iter()
            .map(|f| MyFeedback {
                message_id: ID(f.test_message_id.to_string()),
                works: f.works.into(),
                clear: f.clear.into(),
                promotes_conversation: f.promotes_conversation.into(),
                adaptable: f.adaptable.into(),
                engaging: f.engaging.into(),
                comment: f.comment,
            })
            .collect())
    }
}

/// Feedback the caller gave on one message.
#[derive(SimpleObject)]
pub struct MyFeedback {
    /// The message (its id within the test).
    pub message_id: ID,
    /// Does it work? (1–5)
    pub works: i32,
    /// Is it clear and understandable? (1–5)
    pub clear: i32,
    /// Does it promote conversation? (1–5)
    pub promotes_conversation: i32,
    /// Could it be altered for other audiences? (1–5)
    pub adaptable: i32,
    /// Is it engaging? (1–5)
    pub engaging: i32,
    /// The comment.
    pub comment: Option<String>,
}

/// One question's answers within a group.
#[derive(SimpleObject)]
pub struct QuestionResult {
    /// The question.
    pub question: FeedbackQuestion,
    /// Mean rating (1–5); `null` when nobody answered.
    pub mean: Option<f64>,
    /// Answers per rating 1–5.
    pub distribution: Vec<OptionCount>,
}

/// Feedback on one message of one test.
#[derive(SimpleObject)]
pub struct MessageFeedbackResult {
    /// The message.
    pub message: TestMessage,
    /// The state message it is or adapts.
    pub key_message: Option<KeyMessage>,
    /// Why the figures are withheld; `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// Pieces of feedback (withheld with the figures).
    pub n: Option<usize>,
    /// Per question.
    pub questions: Vec<QuestionResult>,
    /// Comments, shuffled and unattributed: the county's members only, shown groups only.
    pub comments: Option<Vec<String>>,
}

/// Feedback on one state message from one audience, across a county's tests.
#[derive(SimpleObject)]
pub struct AudienceFeedbackResult {
    /// The audience.
    pub audience: Audience,
    /// The state message (adaptations count towards the message they adapt).
    pub key_message: Option<KeyMessage>,
    /// Why the figures are withheld; `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// Pieces of feedback (withheld with the figures).
    pub n: Option<usize>,
    /// Per question.
    pub questions: Vec<QuestionResult>,
}

/// Feedback on one state message across a county's tests, or across counties.
#[derive(SimpleObject)]
pub struct ThemeFeedbackResult {
    /// The county, when this is one county's total.
    pub county: Option<County>,
    /// The state message.
    pub key_message: Option<KeyMessage>,
    /// Why the figures are withheld; `null` when shown.
    pub withheld: Option<WithheldReason>,
    /// Pieces of feedback (withheld with the figures).
    pub n: Option<usize>,
    /// Per question.
    pub questions: Vec<QuestionResult>,
}

/// A county's message feedback by audience and by state message.
#[derive(SimpleObject)]
pub struct CountyMessageFeedback {
    /// Per audience and state message.
    pub by_audience: Vec<AudienceFeedbackResult>,
    /// Per state message, across all the county's tests.
    pub by_key_message: Vec<ThemeFeedbackResult>,
}

/// One state message across counties: each county's total, and the released ones pooled.
#[derive(SimpleObject)]
pub struct KeyMessageAcrossCounties {
    /// The state message.
    pub key_message: Option<KeyMessage>,
    /// Each county's total, or why it is withheld.
    pub counties: Vec<ThemeFeedbackResult>,
    /// The released county totals pooled (withheld counties are left out); `null` if none.
    pub pooled: Option<ThemeFeedbackResult>,
}

fn figures(released: &Released<FeedbackFigures>) -> (Option<WithheldReason>, Option<usize>, Vec<QuestionResult>) {
    match released {
        Released::Withheld(why) => (Some(withheld_reason(*why)), None, Vec::new()),
        Released::Shown(f) => (None, Some(f.n), questions(f)),
    }
}

fn withheld_reason(why: Withheld) -> WithheldReason {
    why.into()
}

fn questions(f: &FeedbackFigures) -> Vec<QuestionResult> {
    f.questions
        .iter()
        .map(|q| QuestionResult {
            question: q.question.into(),
            mean: q.mean(),
            distribution: q
                .counts
                .iter()
                .enumerate()
                .map(|(i, &count)| OptionCount { value: i32::try_from(i + 1).unwrap_or(0), count })
                .collect(),
        })
        .collect()
}

async fn themes(ctx: &Context<'_>) -> ApiResult<BTreeMap<uuid::Uuid, KeyMessage>> {
    let session = session(ctx)?;
    let rows = store::key_messages(session).await.api()?;
    Ok(rows.into_iter().map(|m| (m.id, KeyMessage(m))).collect())
}

/// A message test as an attendee holding its code sees it.
pub struct AttendeeMessageTest(pub message_tests::Model);

#[Object]
impl AttendeeMessageTest {
    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }

    async fn audience(&self) -> ApiResult<Audience> {
        stored(domain::Audience::from_stored(&self.0.audience)).map(Into::into)
    }

    async fn format(&self) -> ApiResult<MessageFormat> {
        stored(domain::MessageFormat::from_stored(&self.0.format)).map(Into::into)
    }

    /// The messages to give feedback on, in order.
    async fn messages(&self, ctx: &Context<'_>) -> ApiResult<Vec<TestMessage>> {
        let session = session(ctx)?;
        let rows = store::test_messages(session.db(), &[MessageTestId(self.0.id)]).await.api()?;
        Ok(rows.into_iter().map(TestMessage).collect())
    }
}

/// Engagement queries.
#[derive(Default)]
pub struct EngagementQuery;

#[Object]
impl EngagementQuery {
    /// The state's key messages, in order. Anyone signed in.
    async fn key_messages(&self, ctx: &Context<'_>) -> ApiResult<Vec<KeyMessage>> {
        let session = session(ctx)?;
        Ok(store::key_messages(session).await.api()?.into_iter().map(KeyMessage).collect())
    }

    /// A county's adaptations of the key messages, in the state library's order. Its members.
    async fn county_key_messages(&self, ctx: &Context<'_>, county_id: ID) -> ApiResult<Vec<CountyKeyMessage>> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        Ok(store::adaptations(session, county).await.api()?.into_iter().map(CountyKeyMessage).collect())
    }

    /// A county's message tests, oldest recorded first: its members, its active buddies and
    /// faculty.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn message_tests(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, MessageTest, EmptyFields, EmptyFields>> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        let request = page(first, after)?;
        let rows = store::message_tests(session, county, &request).await.api()?;
        Ok(connection(rows, request.after.is_some(), |t| encode_cursor(&t.id.to_string()), MessageTest))
    }

    /// One message test.
    async fn message_test(&self, ctx: &Context<'_>, id: ID) -> ApiResult<MessageTest> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let test: MessageTestId = crate::context::id("id", &id)?;
        found(store::message_test(session, test).await.api()?, "message test").map(MessageTest)
    }

    /// A county's feedback by audience and by state message, small groups withheld: its
    /// members, its active buddies and faculty (no comments at this level for anyone).
    async fn message_feedback(&self, ctx: &Context<'_>, county_id: ID) -> ApiResult<CountyMessageFeedback> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        let loaded = store::county_feedback_of(session, county).await.api()?;
        let themes = themes(ctx).await?;
        let county_row = loader(ctx)?.load_one(county).await?;
        let by_audience = loaded
            .feedback
            .by_audience
            .iter()
            .map(|g| {
                let (withheld, n, questions) = figures(&g.figures);
                AudienceFeedbackResult {
                    audience: g.audience.into(),
                    key_message: themes.get(&g.theme).cloned(),
                    withheld,
                    n,
                    questions,
                }
            })
            .collect();
        let by_key_message = loaded
            .feedback
            .by_theme
            .iter()
            .map(|g| {
                let (withheld, n, questions) = figures(&g.figures);
                ThemeFeedbackResult {
                    county: county_row.clone().map(County),
                    key_message: themes.get(&g.theme).cloned(),
                    withheld,
                    n,
                    questions,
                }
            })
            .collect();
        Ok(CountyMessageFeedback { by_audience, by_key_message })
    }

    /// Every county's feedback per state message side by side, each county's small groups
    /// withheld, and the released totals pooled. Faculty only; each county read is audited.
    async fn message_feedback_across_counties(&self, ctx: &Context<'_>) -> ApiResult<Vec<KeyMessageAcrossCounties>> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let lined = store::across(session, &faculty).await.api()?;
        let themes = themes(ctx).await?;
        let loader = loader(ctx)?;
        let mut out = Vec::with_capacity(lined.len());
        for theme in lined {
            let mut counties = Vec::with_capacity(theme.counties.len());
            for (county, released) in &theme.counties {
                let (withheld, n, questions) = figures(released);
                counties.push(ThemeFeedbackResult {
                    county: loader.load_one(*county).await?.map(County),
                    key_message: themes.get(&theme.theme).cloned(),
                    withheld,
                    n,
                    questions,
                });
            }
            let pooled = theme.pooled.as_ref().map(|f| ThemeFeedbackResult {
                county: None,
                key_message: themes.get(&theme.theme).cloned(),
                withheld: None,
                n: Some(f.n),
                questions: questions(f),
            });
            out.push(KeyMessageAcrossCounties { key_message: themes.get(&theme.theme).cloned(), counties, pooled });
        }
        Ok(out)
    }

    /// The test an attendee code opens, with the messages to give feedback on. No account needed;
    /// a signed-in caller is refused (members read it as `messageTest`).
    async fn message_test_by_code(&self, ctx: &Context<'_>, code: String) -> ApiResult<AttendeeMessageTest> {
        let session = session(ctx)?;
        if session.principal().user_id().is_some() {
            return Err(Refusal::forbidden("sign out to use an attendee code; members read the test as messageTest"))
                .api();
        }
        if let Ok(limits) = ctx.data::<Arc<dyn ClientLimits>>() {
            limits.check_code_exchange().map_err(rate_limited)?;
        }
        let opened = match AccessCode::parse("code", &code).api() {
            Ok(code) => store::open_by_code(session, &code).await.api(),
            Err(malformed) => Err(malformed),
        };
        let (_, test) = crate::collection::exchange_outcome(ctx, opened)?;
        Ok(AttendeeMessageTest(test))
    }
}

/// A key message's text.
#[derive(InputObject)]
pub struct MessageTextInput {
    /// A short title.
    pub theme: String,
    /// The big-theme statement.
    pub big_theme: String,
    /// The detail points, in order.
    #[graphql(default)]
    pub details: Vec<String>,
}

/// A key message of the state's library.
#[derive(InputObject)]
pub struct KeyMessageInput {
    /// Its place (default: last). Two messages cannot share a place.
    pub position: Option<i32>,
    /// A short title.
    pub theme: String,
    /// The big-theme statement.
    pub big_theme: String,
    /// The detail points, in order.
    #[graphql(default)]
    pub details: Vec<String>,
}

/// A message a test used: exactly one of a state message or one of the county's adaptations.
#[derive(InputObject)]
pub struct MessageUsedInput {
    /// A state key message.
    pub key_message_id: Option<ID>,
    /// One of the county's adaptations.
    pub county_key_message_id: Option<ID>,
}

/// A message test.
#[derive(InputObject)]
pub struct MessageTestInput {
    /// When it took place.
    pub held_on: NaiveDate,
    /// Whom it addressed.
    pub audience: Audience,
    /// How.
    pub format: MessageFormat,
    /// The messages used, in order.
    pub messages: Vec<MessageUsedInput>,
    /// How many people it reached.
    pub reached: Option<i32>,
    /// Notes.
    pub notes: Option<String>,
}

/// Feedback on one message: each question on 1–5, and a comment.
#[derive(InputObject)]
pub struct MessageFeedbackInput {
    /// The message (its id within the test).
    pub message_id: ID,
    /// Does it work?
    pub works: i32,
    /// Is it clear and understandable?
    pub clear: i32,
    /// Does it promote conversation?
    pub promotes_conversation: i32,
    /// Could it be altered for other audiences?
    pub adaptable: i32,
    /// Is it engaging?
    pub engaging: i32,
    /// A comment (shown to the county only, unattributed, in groups of at least the minimum).
    pub comment: Option<String>,
}

/// A test's new attendee code, shown once.
#[derive(SimpleObject)]
pub struct MessageTestCode {
    /// The code (`7KQ4-M2XD-9HTR-BW3E`); only its hash is kept.
    pub code: String,
    /// The test.
    pub message_test: MessageTest,
}

/// What an attendee's feedback did.
#[derive(SimpleObject)]
pub struct FeedbackReceipt {
    /// Messages rated.
    pub received: usize,
}

fn text(prefix: &str, theme: &str, big_theme: &str, details: &[String]) -> ApiResult<MessageText> {
    MessageText::parse(prefix, theme, big_theme, details).api()
}

fn test_input(input: &MessageTestInput) -> ApiResult<(MessageTestDetails, Vec<store::MessageRef>)> {
    let mut problems = Problems::new();
    let mut refs = Vec::new();
    let mut keys = Vec::new();
    for (i, m) in input.messages.iter().enumerate() {
        let field = format!("input.messages[{i}]");
        match (&m.key_message_id, &m.county_key_message_id) {
            (Some(raw), None) => {
                if let Some(id) = problems.take(orb_domain::ids::parse_id::<KeyMessageId>(&field, raw)) {
                    refs.push(store::MessageRef::State(id));
                }
                keys.push(format!("s:{}", raw.as_str()));
            }
            (None, Some(raw)) => {
                if let Some(id) = problems.take(orb_domain::ids::parse_id::<CountyKeyMessageId>(&field, raw)) {
                    refs.push(store::MessageRef::County(id));
                }
                keys.push(format!("c:{}", raw.as_str()));
            }
            _ => {
                problems.push(field, "give exactly one of keyMessageId and countyKeyMessageId");
                keys.push(format!("?{i}"));
            }
        }
    }
    let details = problems.take(MessageTestDetails::parse(
        input.held_on,
        input.audience.into(),
        input.format.into(),
        input.reached,
        input.notes.as_deref(),
        &keys,
    ));
    problems.finish().api()?;
    let details = details.ok_or_else(|| coded("invalid input", "BAD_USER_INPUT"))?;
    Ok((details, refs))
}

fn feedback_input(feedback: &[MessageFeedbackInput]) -> ApiResult<Vec<store::GivenFeedback>> {
    let mut problems = Problems::new();
    let mut out = Vec::with_capacity(feedback.len());
    for (i, f) in feedback.iter().enumerate() {
        let prefix = format!("feedback[{i}]");
        let message =
            problems.take(orb_domain::ids::parse_id::<TestMessageId>(&format!("{prefix}.messageId"), &f.message_id));
        let ratings = problems
            .take(Ratings::parse(&prefix, [f.works, f.clear, f.promotes_conversation, f.adaptable, f.engaging]));
        let comment = problems.take(domain::optional_text(
            &format!("{prefix}.comment"),
            f.comment.as_deref(),
            domain::MAX_COMMENT,
        ));
        if let (Some(message), Some(ratings), Some(comment)) = (message, ratings, comment) {
            out.push(store::GivenFeedback { message, ratings, comment });
        }
    }
    problems.finish().api()?;
    Ok(out)
}

/// Loads a message test for a lead's change: not found if the caller may not read it,
/// forbidden if they may read but not lead its county.
async fn led_test(ctx: &Context<'_>, raw: &ID) -> ApiResult<(orb_domain::access::LeadOf, MessageTestId)> {
    let session = session(ctx)?;
    // Sign-in comes first: an anonymous caller is told to sign in, not that the test is missing.
    session.principal().as_signed_in().api()?;
    let test: MessageTestId = id("id", raw)?;
    let row = found(store::message_test(session, test).await.api()?, "message test")?;
    let lead = session.principal().as_lead_of(CountyId(row.county_id)).api()?;
    Ok((lead, test))
}

/// Engagement mutations.
#[derive(Default)]
pub struct EngagementMutation;

#[Object]
impl EngagementMutation {
    /// Adds a key message to the state's library. Faculty.
    async fn create_key_message(&self, ctx: &Context<'_>, input: KeyMessageInput) -> ApiResult<KeyMessage> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let text = text("input", &input.theme, &input.big_theme, &input.details)?;
        let change = session.change().await.api()?;
        let created = store::create_key_message(&change, &faculty, input.position, text).await.api()?;
        change.commit().await.api()?;
        Ok(KeyMessage(created))
    }

    /// Rewrites (and, with a position, moves) a key message. Faculty.
    async fn update_key_message(&self, ctx: &Context<'_>, id: ID, input: KeyMessageInput) -> ApiResult<KeyMessage> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let message: KeyMessageId = crate::context::id("id", &id)?;
        let text = text("input", &input.theme, &input.big_theme, &input.details)?;
        let change = session.change().await.api()?;
        let updated = store::update_key_message(&change, &faculty, message, input.position, text).await.api()?;
        change.commit().await.api()?;
        Ok(KeyMessage(updated))
    }

    /// Removes a key message no county has adapted or tested. Faculty.
    async fn delete_key_message(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let session = session(ctx)?;
        let faculty = session.principal().as_faculty().api()?;
        let message: KeyMessageId = crate::context::id("id", &id)?;
        let change = session.change().await.api()?;
        store::delete_key_message(&change, &faculty, message).await.api()?;
        change.commit().await.api()?;
        Ok(id)
    }

    /// Adapts a state key message for a county. The county's lead.
    async fn adapt_key_message(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        key_message_id: ID,
        input: MessageTextInput,
    ) -> ApiResult<CountyKeyMessage> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        let lead = session.principal().as_lead_of(county).api()?;
        let state: KeyMessageId = id("keyMessageId", &key_message_id)?;
        let text = text("input", &input.theme, &input.big_theme, &input.details)?;
        let change = session.change().await.api()?;
        let created = store::adapt(&change, &lead, state, text).await.api()?;
        change.commit().await.api()?;
        Ok(CountyKeyMessage(created))
    }

    /// Rewrites a county's adaptation. The county's lead.
    async fn update_county_key_message(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: MessageTextInput,
    ) -> ApiResult<CountyKeyMessage> {
        let session = session(ctx)?;
        let adaptation: CountyKeyMessageId = crate::context::id("id", &id)?;
        let row = found(store::adaptation(session, adaptation).await.api()?, "adapted message")?;
        let lead = session.principal().as_lead_of(CountyId(row.county_id)).api()?;
        let text = text("input", &input.theme, &input.big_theme, &input.details)?;
        let change = session.change().await.api()?;
        let updated = store::update_adaptation(&change, &lead, adaptation, text).await.api()?;
        change.commit().await.api()?;
        Ok(CountyKeyMessage(updated))
    }

    /// Removes an adaptation no test has used. The county's lead.
    async fn delete_county_key_message(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let session = session(ctx)?;
        let adaptation: CountyKeyMessageId = crate::context::id("id", &id)?;
        let row = found(store::adaptation(session, adaptation).await.api()?, "adapted message")?;
        let lead = session.principal().as_lead_of(CountyId(row.county_id)).api()?;
        let change = session.change().await.api()?;
        store::delete_adaptation(&change, &lead, adaptation).await.api()?;
        change.commit().await.api()?;
        Ok(id)
    }

    /// Records a message test. The county's lead.
    async fn create_message_test(
        &self,
        ctx: &Context<'_>,
        county_id: ID,
        input: MessageTestInput,
    ) -> ApiResult<MessageTest> {
        let session = session(ctx)?;
        let county: CountyId = id("countyId", &county_id)?;
        let lead = session.principal().as_lead_of(county).api()?;
        let (details, messages) = test_input(&input)?;
        let change = session.change().await.api()?;
        let created = store::create_message_test(&change, &lead, details, &messages).await.api()?;
        change.commit().await.api()?;
        Ok(MessageTest(created))
    }

    /// Changes a message test (a message with feedback cannot be removed). The county's lead.
    async fn update_message_test(&self, ctx: &Context<'_>, id: ID, input: MessageTestInput) -> ApiResult<MessageTest> {
        let session = session(ctx)?;
        let (lead, test) = led_test(ctx, &id).await?;
        let (details, messages) = test_input(&input)?;
        let change = session.change().await.api()?;
        let updated = store::update_message_test(&change, &lead, test, details, &messages).await.api()?;
        change.commit().await.api()?;
        Ok(MessageTest(updated))
    }

    /// Removes a message test without feedback. The county's lead.
    async fn delete_message_test(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let session = session(ctx)?;
        let (lead, test) = led_test(ctx, &id).await?;
        let change = session.change().await.api()?;
        store::delete_message_test(&change, &lead, test).await.api()?;
        change.commit().await.api()?;
        Ok(id)
    }

    /// Gives a test a fresh attendee code (replacing any earlier one), shown once. The lead.
    async fn issue_message_test_code(&self, ctx: &Context<'_>, id: ID) -> ApiResult<MessageTestCode> {
        let session = session(ctx)?;
        let (lead, test) = led_test(ctx, &id).await?;
        let change = session.change().await.api()?;
        let code = store::issue_code(&change, &lead, test).await.api()?;
        change.commit().await.api()?;
        let row = found(store::message_test(session, test).await.api()?, "message test")?;
        Ok(MessageTestCode { code: code.display(), message_test: MessageTest(row) })
    }

    /// Turns a test's attendee code off. The lead.
    async fn revoke_message_test_code(&self, ctx: &Context<'_>, id: ID) -> ApiResult<MessageTest> {
        let session = session(ctx)?;
        let (lead, test) = led_test(ctx, &id).await?;
        let change = session.change().await.api()?;
        let updated = store::set_code(&change, &lead, test, None).await.api()?;
        change.commit().await.api()?;
        Ok(MessageTest(updated))
    }

    /// A member's feedback on messages of one of their county's tests. Giving it again for a
    /// message replaces the earlier one (one per account per message per test).
    async fn give_message_feedback(
        &self,
        ctx: &Context<'_>,
        message_test_id: ID,
        feedback: Vec<MessageFeedbackInput>,
    ) -> ApiResult<MessageTest> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let test: MessageTestId = id("messageTestId", &message_test_id)?;
        let row = found(store::message_test(session, test).await.api()?, "message test")?;
        let member = session.principal().as_member_of(CountyId(row.county_id)).api()?;
        let given = feedback_input(&feedback)?;
        let change = session.change().await.api()?;
        store::give_feedback(&change, &member, test, &given).await.api()?;
        change.commit().await.api()?;
        Ok(MessageTest(row))
    }

    /// An attendee's feedback through a test's code, without an account. Each submission is
    /// new feedback; nothing links it to the attendee.
    async fn submit_message_feedback(
        &self,
        ctx: &Context<'_>,
        code: String,
        feedback: Vec<MessageFeedbackInput>,
    ) -> ApiResult<FeedbackReceipt> {
        let session = session(ctx)?;
        if session.principal().user_id().is_some() {
            return Err(Refusal::forbidden(
                "sign out to use an attendee code; members give feedback with giveMessageFeedback",
            ))
            .api();
        }
        if let Ok(limits) = ctx.data::<Arc<dyn ClientLimits>>() {
            limits.check_code_exchange().map_err(rate_limited)?;
        }
        let code = crate::collection::exchange_outcome(ctx, AccessCode::parse("code", &code).api())?;
        let given = feedback_input(&feedback)?;
        crate::collection::exchange_outcome(ctx, store::give_feedback_by_code(session, &code, &given).await.api())?;
        Ok(FeedbackReceipt { received: given.len() })
    }
}
