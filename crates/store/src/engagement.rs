//! Communication for engagement: the state's key messages (faculty), counties' adaptations
//! (their leads), message tests (their leads) and feedback on each message (the county's members
//! signed in, or attendees through a test's code). Feedback is read only as aggregates computed
//! from one database feed that checks the entitlement itself and gives comments to the county's
//! members only; reads from outside the county (a buddy, faculty) are audited.

use orb_domain::Error as Refusal;
use orb_domain::access::{EngagementRead, Faculty, LeadOf, MemberOf};
use orb_domain::collection::{AccessCode, DEFAULT_MIN_GROUP};
use orb_domain::engagement::{
    Audience, CountyFeedback, FeedbackEntry, FeedbackQuestion, MessageKey, MessageTestDetails, MessageText, Ratings,
    ThemeAcrossCounties, across_counties, county_feedback,
};
use orb_domain::ids::{CountyId, CountyKeyMessageId, KeyMessageId, MessageTestId, TestMessageId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::entities::{county_key_messages, key_messages, message_test_messages, message_tests};
use crate::error::{FOREIGN_KEY_VIOLATION, StoreError, StoreResult, refuse_on, sqlstate};
use crate::page::{Page, PageRequest};
use crate::session::{Change, Session};

/// The purpose an attendee code's hash is taken for (see [`AccessCode::hash`]).
const CODE_PURPOSE: &str = "message-test";

/// The smallest group of feedback shown, as for results.
pub fn min_group() -> usize {
    usize::try_from(DEFAULT_MIN_GROUP).unwrap_or(5)
}

// ---------------------------------------------------------------------------------------------
// Key messages (the state's library)

/// The state's key messages, in order. Every signed-in user.
pub async fn key_messages(session: &Session) -> StoreResult<Vec<key_messages::Model>> {
    session.principal().as_signed_in()?;
    Ok(key_messages::Entity::find().order_by_asc(key_messages::Column::Position).all(session.db()).await?)
}

/// Key messages by id, for batched loading (also an attendee's, through their test).
pub async fn key_messages_by_ids(
    db: &impl ConnectionTrait,
    ids: &[KeyMessageId],
) -> StoreResult<Vec<key_messages::Model>> {
    Ok(key_messages::Entity::find().filter(key_messages::Column::Id.is_in(ids.iter().map(|id| id.0))).all(db).await?)
}

/// Adds a key message to the state's library, at `position` (default: last).
pub async fn create_key_message(
    change: &Change<'_>,
    _faculty: &Faculty,
    position: Option<i32>,
    text: MessageText,
) -> StoreResult<key_messages::Model> {
    let position = match position {
        Some(p) => check_position(p)?,
        None => next_position(change).await?,
    };
    let id = KeyMessageId::new();
    let model = key_messages::ActiveModel {
        id: Set(id.0),
        position: Set(position),
        theme: Set(text.theme.clone()),
        big_theme: Set(text.big_theme),
        details: Set(text.details),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(position_taken)?;
    record(change, "key_message.create", None, "key_message", id.to_string(), json!({ "position": position })).await?;
    Ok(model)
}

/// Rewrites a key message (and moves it, when `position` is given).
pub async fn update_key_message(
    change: &Change<'_>,
    _faculty: &Faculty,
    id: KeyMessageId,
    position: Option<i32>,
    text: MessageText,
) -> StoreResult<key_messages::Model> {
    let existing = key_messages::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("key message"))?;
    let mut model: key_messages::ActiveModel = existing.into();
    if let Some(p) = position {
        model.position = Set(check_position(p)?);
    }
    model.theme = Set(text.theme);
    model.big_theme = Set(text.big_theme);
    model.details = Set(text.details);
    model.updated_at = Set(chrono::Utc::now().into());
    let updated = model.update(change.db()).await.map_err(position_taken)?;
    record(change, "key_message.update", None, "key_message", id.to_string(), json!({ "position": updated.position }))
        .await?;
    Ok(updated)
}

/// Removes a key message nobody has adapted or tested.
pub async fn delete_key_message(change: &Change<'_>, _faculty: &Faculty, id: KeyMessageId) -> StoreResult<()> {
    let removed = key_messages::Entity::delete_by_id(id.0)
        .exec(change.db())
        .await
        .map_err(in_use("a county has adapted or tested this message; it stays in the library"))?
        .rows_affected;
    if removed == 0 {
        return Err(Refusal::NotFound("key message").into());
    }
    record(change, "key_message.delete", None, "key_message", id.to_string(), json!({})).await
}

fn check_position(position: i32) -> StoreResult<i32> {
    if (1..=1000).contains(&position) {
        Ok(position)
    } else {
        Err(Refusal::invalid("input.position", "must be between 1 and 1000").into())
    }
}

async fn next_position(change: &Change<'_>) -> StoreResult<i32> {
    let row = change
        .db()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT coalesce(max(position), 0) + 1 AS next FROM key_messages",
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i32>("", "next")).transpose()?.unwrap_or(1))
}

fn position_taken(err: sea_orm::DbErr) -> StoreError {
    if sqlstate(&err).as_deref() == Some("23505") {
        StoreError::Refused(Refusal::conflict_on("input.position", "another key message has this position"))
    } else {
        StoreError::from(err)
    }
}

fn in_use(message: &'static str) -> impl Fn(sea_orm::DbErr) -> StoreError {
    refuse_on(FOREIGN_KEY_VIOLATION, move || Refusal::conflict(message))
}

// ---------------------------------------------------------------------------------------------
// County adaptations

/// A county's adaptations, in the order of the state messages they adapt. Its members only.
pub async fn adaptations(session: &Session, county: CountyId) -> StoreResult<Vec<county_key_messages::Model>> {
    if session.principal().role_in(county).is_none() {
        session.principal().as_signed_in()?;
        return Err(Refusal::forbidden("only the county's members read its adapted messages").into());
    }
    let mut rows = county_key_messages::Entity::find()
        .filter(county_key_messages::Column::CountyId.eq(county.0))
        .order_by_asc(county_key_messages::Column::Id)
        .all(session.db())
        .await?;
    let order: Vec<uuid::Uuid> = key_messages(session).await?.into_iter().map(|m| m.id).collect();
    rows.sort_by_key(|r| order.iter().position(|id| *id == r.key_message_id));
    Ok(rows)
}

/// Adaptations by id, for batched loading; row-level security shows only readable ones.
pub async fn adaptations_by_ids(
    db: &impl ConnectionTrait,
    ids: &[CountyKeyMessageId],
) -> StoreResult<Vec<county_key_messages::Model>> {
    Ok(county_key_messages::Entity::find()
        .filter(county_key_messages::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?)
}

/// One adaptation, if the caller may read it.
pub async fn adaptation(session: &Session, id: CountyKeyMessageId) -> StoreResult<Option<county_key_messages::Model>> {
    session.principal().as_signed_in()?;
    Ok(adaptations_by_ids(session.db(), &[id]).await?.into_iter().next())
}

/// Adapts a state key message for the lead's county.
pub async fn adapt(
    change: &Change<'_>,
    lead: &LeadOf,
    state: KeyMessageId,
    text: MessageText,
) -> StoreResult<county_key_messages::Model> {
    key_messages::Entity::find_by_id(state.0)
        .one(change.db())
        .await?
        .ok_or_else(|| Refusal::invalid("input.keyMessageId", "no such key message"))?;
    let id = CountyKeyMessageId::new();
    let model = county_key_messages::ActiveModel {
        county_id: Set(lead.county_id().0),
        id: Set(id.0),
        key_message_id: Set(state.0),
        theme: Set(text.theme),
        big_theme: Set(text.big_theme),
        details: Set(text.details),
        ..Default::default()
    }
    .insert(change.db())
    .await?;
    record(
        change,
        "county_key_message.create",
        Some(lead.county_id()),
        "county_key_message",
        id.to_string(),
        json!({ "keyMessageId": state }),
    )
    .await?;
    Ok(model)
}

/// Rewrites one of the lead's county's adaptations; it stays linked to its state message.
pub async fn update_adaptation(
    change: &Change<'_>,
    lead: &LeadOf,
    id: CountyKeyMessageId,
    text: MessageText,
) -> StoreResult<county_key_messages::Model> {
    let existing = county_key_messages::Entity::find()
        .filter(county_key_messages::Column::CountyId.eq(lead.county_id().0))
        .filter(county_key_messages::Column::Id.eq(id.0))
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("adapted message"))?;
    let mut model: county_key_messages::ActiveModel = existing.into();
    model.theme = Set(text.theme);
    model.big_theme = Set(text.big_theme);
    model.details = Set(text.details);
    model.updated_at = Set(chrono::Utc::now().into());
    let updated = model.update(change.db()).await?;
    record(
        change,
        "county_key_message.update",
        Some(lead.county_id()),
        "county_key_message",
        id.to_string(),
        json!({}),
    )
    .await?;
    Ok(updated)
}

/// Removes an adaptation no test has used.
pub async fn delete_adaptation(change: &Change<'_>, lead: &LeadOf, id: CountyKeyMessageId) -> StoreResult<()> {
    let removed = county_key_messages::Entity::delete_many()
        .filter(county_key_messages::Column::CountyId.eq(lead.county_id().0))
        .filter(county_key_messages::Column::Id.eq(id.0))
        .exec(change.db())
        .await
        .map_err(in_use("a message test used this adaptation; it stays"))?
        .rows_affected;
    if removed == 0 {
        return Err(Refusal::NotFound("adapted message").into());
    }
    record(change, "county_key_message.delete", Some(lead.county_id()), "county_key_message", id.to_string(), json!({}))
        .await
}

// ---------------------------------------------------------------------------------------------
// Message tests

/// A message a test uses: a state message or one of the county's adaptations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRef {
    /// A state key message.
    State(KeyMessageId),
    /// One of the county's adaptations.
    County(CountyKeyMessageId),
}

/// A county's message tests, oldest recorded first. Its members, its buddies and faculty.
pub async fn message_tests(
    session: &Session,
    county: CountyId,
    page: &PageRequest,
) -> StoreResult<Page<message_tests::Model>> {
    session.principal().may_read_engagement(county)?;
    let mut query = message_tests::Entity::find()
        .filter(message_tests::Column::CountyId.eq(county.0))
        .order_by_asc(message_tests::Column::Id);
    if let Some(after) = page.after_key::<uuid::Uuid>()? {
        query = query.filter(message_tests::Column::Id.gt(after));
    }
    let rows = query.limit(page.limit()).all(session.db()).await?;
    Ok(Page::from_fetched(rows, page))
}

/// One message test, if the caller may read it (else `None`: not found).
pub async fn message_test(session: &Session, id: MessageTestId) -> StoreResult<Option<message_tests::Model>> {
    let found = message_tests::Entity::find().filter(message_tests::Column::Id.eq(id.0)).one(session.db()).await?;
    Ok(found.filter(|t| session.principal().may_read_engagement(CountyId(t.county_id)).is_ok()))
}

/// The messages of tests, in order, for batched loading.
pub async fn test_messages(
    db: &impl ConnectionTrait,
    tests: &[MessageTestId],
) -> StoreResult<Vec<message_test_messages::Model>> {
    Ok(message_test_messages::Entity::find()
        .filter(message_test_messages::Column::MessageTestId.is_in(tests.iter().map(|id| id.0)))
        .order_by_asc(message_test_messages::Column::Position)
        .order_by_asc(message_test_messages::Column::Id)
        .all(db)
        .await?)
}

/// Records a message test in the lead's county.
pub async fn create_message_test(
    change: &Change<'_>,
    lead: &LeadOf,
    details: MessageTestDetails,
    messages: &[MessageRef],
) -> StoreResult<message_tests::Model> {
    let id = MessageTestId::new();
    let model = message_tests::ActiveModel {
        county_id: Set(lead.county_id().0),
        id: Set(id.0),
        held_on: Set(details.held_on),
        audience: Set(details.audience.as_str().to_owned()),
        format: Set(details.format.as_str().to_owned()),
        reached: Set(details.reached),
        notes: Set(details.notes.clone()),
        ..Default::default()
    }
    .insert(change.db())
    .await?;
    set_messages(change, lead, id, messages).await?;
    record(change, "message_test.create", Some(lead.county_id()), "message_test", id.to_string(), summary(&details))
        .await?;
    Ok(model)
}

/// Changes a message test. A message that has feedback cannot be removed from it.
pub async fn update_message_test(
    change: &Change<'_>,
    lead: &LeadOf,
    id: MessageTestId,
    details: MessageTestDetails,
    messages: &[MessageRef],
) -> StoreResult<message_tests::Model> {
    let existing = lock_own(change, lead, id).await?;
    let mut model: message_tests::ActiveModel = existing.into();
    model.held_on = Set(details.held_on);
    model.audience = Set(details.audience.as_str().to_owned());
    model.format = Set(details.format.as_str().to_owned());
    model.reached = Set(details.reached);
    model.notes = Set(details.notes.clone());
    model.updated_at = Set(chrono::Utc::now().into());
    let updated = model.update(change.db()).await?;
    set_messages(change, lead, id, messages).await?;
    record(change, "message_test.update", Some(lead.county_id()), "message_test", id.to_string(), summary(&details))
        .await?;
    Ok(updated)
}

/// Removes a message test that has no feedback.
pub async fn delete_message_test(change: &Change<'_>, lead: &LeadOf, id: MessageTestId) -> StoreResult<()> {
    lock_own(change, lead, id).await?;
    message_tests::Entity::delete_many()
        .filter(message_tests::Column::CountyId.eq(lead.county_id().0))
        .filter(message_tests::Column::Id.eq(id.0))
        .exec(change.db())
        .await
        .map_err(in_use("the test has feedback; it stays on record"))?;
    record(change, "message_test.delete", Some(lead.county_id()), "message_test", id.to_string(), json!({})).await
}

/// Gives the test a fresh attendee code (replacing any earlier one). Returned once; only its
/// hash is kept.
pub async fn issue_code(change: &Change<'_>, lead: &LeadOf, id: MessageTestId) -> StoreResult<AccessCode> {
    let code = AccessCode::random();
    set_code(change, lead, id, Some(&code)).await?;
    Ok(code)
}

/// Sets a given code (the demo's is the same every time), or none: attendees can no longer
/// give feedback.
pub async fn set_code(
    change: &Change<'_>,
    lead: &LeadOf,
    id: MessageTestId,
    code: Option<&AccessCode>,
) -> StoreResult<message_tests::Model> {
    let existing = lock_own(change, lead, id).await?;
    let mut model: message_tests::ActiveModel = existing.into();
    model.code_hash = Set(code.map(|c| c.hash(CODE_PURPOSE)));
    let updated = model.update(change.db()).await?;
    let action = if code.is_some() { "message_test.issue_code" } else { "message_test.revoke_code" };
    record(change, action, Some(lead.county_id()), "message_test", id.to_string(), json!({})).await?;
    Ok(updated)
}

async fn lock_own(change: &Change<'_>, lead: &LeadOf, id: MessageTestId) -> StoreResult<message_tests::Model> {
    message_tests::Entity::find()
        .filter(message_tests::Column::CountyId.eq(lead.county_id().0))
        .filter(message_tests::Column::Id.eq(id.0))
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or_else(|| Refusal::NotFound("message test").into())
}

/// Makes the test's messages `messages`, in order: kept ones keep their feedback, new ones are
/// added, absent ones removed (refused for one with feedback).
async fn set_messages(
    change: &Change<'_>,
    lead: &LeadOf,
    test: MessageTestId,
    messages: &[MessageRef],
) -> StoreResult<()> {
    let county = lead.county_id();
    let existing = test_messages(change.db(), &[test]).await?;
    let mut wanted: Vec<(uuid::Uuid, Option<uuid::Uuid>)> = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let field = format!("input.messages[{i}]");
        wanted.push(match m {
            MessageRef::State(id) => {
                key_messages::Entity::find_by_id(id.0)
                    .one(change.db())
                    .await?
                    .ok_or_else(|| Refusal::invalid(field, "no such key message"))?;
                (id.0, None)
            }
            MessageRef::County(id) => {
                let adaptation = county_key_messages::Entity::find()
                    .filter(county_key_messages::Column::CountyId.eq(county.0))
                    .filter(county_key_messages::Column::Id.eq(id.0))
                    .one(change.db())
                    .await?
                    .ok_or_else(|| Refusal::invalid(field, "no such adapted message in this county"))?;
                (adaptation.key_message_id, Some(adaptation.id))
            }
        });
    }
    for row in &existing {
        if !wanted.contains(&(row.key_message_id, row.county_key_message_id)) {
            message_test_messages::Entity::delete_many()
                .filter(message_test_messages::Column::CountyId.eq(county.0))
                .filter(message_test_messages::Column::Id.eq(row.id))
                .exec(change.db())
                .await
                .map_err(refuse_on(FOREIGN_KEY_VIOLATION, || {
                    Refusal::conflict_on(
                        "input.messages",
                        "a message that has feedback cannot be removed from the test",
                    )
                }))?;
        }
    }
    for (i, (state, adaptation)) in wanted.iter().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
        match existing.iter().find(|r| (r.key_message_id, r.county_key_message_id) == (*state, *adaptation)) {
            Some(row) => {
                let mut model: message_test_messages::ActiveModel = row.clone().into();
                model.position = Set(position);
                model.update(change.db()).await?;
            }
            None => {
                message_test_messages::ActiveModel {
                    county_id: Set(county.0),
                    id: Set(TestMessageId::new().0),
                    message_test_id: Set(test.0),
                    position: Set(position),
                    key_message_id: Set(*state),
                    county_key_message_id: Set(*adaptation),
                }
                .insert(change.db())
                .await?;
            }
        }
    }
    Ok(())
}

fn summary(details: &MessageTestDetails) -> serde_json::Value {
    json!({
        "heldOn": details.held_on,
        "audience": details.audience.as_str(),
        "format": details.format.as_str(),
        "reached": details.reached,
    })
}

// ---------------------------------------------------------------------------------------------
// Feedback

/// One message's feedback as given.
#[derive(Debug, Clone)]
pub struct GivenFeedback {
    /// The message within the test.
    pub message: TestMessageId,
    /// The five ratings.
    pub ratings: Ratings,
    /// The comment, if any.
    pub comment: Option<String>,
}

/// A member's feedback on messages of one of their county's tests. Giving it again for a
/// message replaces the earlier one: one feedback per account per message per test.
pub async fn give_feedback(
    change: &Change<'_>,
    member: &MemberOf,
    test: MessageTestId,
    feedback: &[GivenFeedback],
) -> StoreResult<()> {
    let exists = message_tests::Entity::find()
        .filter(message_tests::Column::CountyId.eq(member.county_id().0))
        .filter(message_tests::Column::Id.eq(test.0))
        .one(change.db())
        .await?;
    if exists.is_none() {
        return Err(Refusal::NotFound("message test").into());
    }
    check_messages(change, member.county_id(), test, feedback).await?;
    for item in feedback {
        change
            .db()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO message_feedback (county_id, id, message_test_id, test_message_id, source, user_id, \
                     works, clear, promotes_conversation, adaptable, engaging, comment) \
                 VALUES ($1, $2, $3, $4, 'staff', $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (test_message_id, user_id) DO UPDATE SET \
                     works = EXCLUDED.works, clear = EXCLUDED.clear, \
                     promotes_conversation = EXCLUDED.promotes_conversation, adaptable = EXCLUDED.adaptable, \
                     engaging = EXCLUDED.engaging, comment = EXCLUDED.comment, given_on = current_date",
                feedback_values(member.county_id(), test, item, Some(member.user_id().0)),
            ))
            .await?;
    }
    record(
        change,
        "message_feedback.give",
        Some(member.county_id()),
        "message_test",
        test.to_string(),
        json!({ "messages": feedback.len(), "source": "staff" }),
    )
    .await
}

/// What an attendee code opens.
#[derive(Debug, Clone, Copy)]
pub struct CodeScope {
    /// The county.
    pub county_id: CountyId,
    /// The message test.
    pub test_id: MessageTestId,
}

/// Exchanges an attendee code for the test it opens, and lets this request's transaction read
/// that test and add feedback to it (and nothing else).
pub async fn open_by_code(session: &Session, code: &AccessCode) -> StoreResult<(CodeScope, message_tests::Model)> {
    let row = session
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT county_id, message_test_id FROM orb.resolve_message_test_code($1)",
            [Value::from(code.hash(CODE_PURPOSE))],
        ))
        .await?
        .ok_or_else(|| Refusal::invalid("code", "is not a valid message test code; check it, or ask for a new one"))?;
    let scope = CodeScope {
        county_id: CountyId(row.try_get("", "county_id")?),
        test_id: MessageTestId(row.try_get("", "message_test_id")?),
    };
    session
        .db()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('orb.feedback_test', $1, true)",
            [Value::from(scope.test_id.to_string())],
        ))
        .await?;
    let test = message_tests::Entity::find()
        .filter(message_tests::Column::CountyId.eq(scope.county_id.0))
        .filter(message_tests::Column::Id.eq(scope.test_id.0))
        .one(session.db())
        .await?
        .ok_or(Refusal::invalid("code", "is not a valid message test code"))?;
    Ok((scope, test))
}

/// An attendee's feedback through a test's code: each submission is new feedback (attendees
/// have no account to tell them apart), and nothing links it to the attendee.
pub async fn give_feedback_by_code(
    session: &Session,
    code: &AccessCode,
    feedback: &[GivenFeedback],
) -> StoreResult<message_tests::Model> {
    let (scope, test) = open_by_code(session, code).await?;
    let change = session.change().await?;
    check_messages(&change, scope.county_id, scope.test_id, feedback).await?;
    for item in feedback {
        change
            .db()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO message_feedback (county_id, id, message_test_id, test_message_id, source, user_id, \
                     works, clear, promotes_conversation, adaptable, engaging, comment) \
                 VALUES ($1, $2, $3, $4, 'attendee', $5, $6, $7, $8, $9, $10, $11)",
                feedback_values(scope.county_id, scope.test_id, item, None),
            ))
            .await?;
    }
    record(
        &change,
        "message_feedback.give",
        Some(scope.county_id),
        "message_test",
        scope.test_id.to_string(),
        json!({ "messages": feedback.len(), "source": "attendee" }),
    )
    .await?;
    change.commit().await?;
    Ok(test)
}

async fn check_messages(
    change: &Change<'_>,
    county: CountyId,
    test: MessageTestId,
    feedback: &[GivenFeedback],
) -> StoreResult<()> {
    if feedback.is_empty() {
        return Err(Refusal::invalid("feedback", "give feedback on at least one message").into());
    }
    let messages: Vec<uuid::Uuid> = test_messages(change.db(), &[test])
        .await?
        .into_iter()
        .filter(|m| m.county_id == county.0)
        .map(|m| m.id)
        .collect();
    let mut problems = orb_domain::error::Problems::new();
    for (i, item) in feedback.iter().enumerate() {
        if !messages.contains(&item.message.0) {
            problems.push(format!("feedback[{i}].messageId"), "is not a message of this test");
        } else if feedback[..i].iter().any(|other| other.message == item.message) {
            problems.push(format!("feedback[{i}].messageId"), "is rated twice");
        }
    }
    Ok(problems.finish()?)
}

fn feedback_values(
    county: CountyId,
    test: MessageTestId,
    item: &GivenFeedback,
    user: Option<uuid::Uuid>,
) -> Vec<Value> {
    let rating = |q: FeedbackQuestion| Value::from(i16::try_from(item.ratings.of(q)).unwrap_or(0));
    vec![
        Value::from(county.0),
        Value::from(uuid::Uuid::new_v4()),
        Value::from(test.0),
        Value::from(item.message.0),
        Value::from(user),
        rating(FeedbackQuestion::Works),
        rating(FeedbackQuestion::Clear),
        rating(FeedbackQuestion::PromotesConversation),
        rating(FeedbackQuestion::Adaptable),
        rating(FeedbackQuestion::Engaging),
        Value::from(item.comment.clone()),
    ]
}

/// The caller's own feedback on a test (a staff member revising theirs).
pub async fn my_feedback(
    session: &Session,
    test: MessageTestId,
) -> StoreResult<Vec<crate::entities::message_feedback::Model>> {
    use crate::entities::message_feedback;
    let Some(user) = session.principal().user_id() else { return Ok(Vec::new()) };
    Ok(message_feedback::Entity::find()
        .filter(message_feedback::Column::MessageTestId.eq(test.0))
        .filter(message_feedback::Column::UserId.eq(user.0))
        .all(session.db())
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Aggregates

/// A county's feedback aggregated, with the tests it covers, after checking the caller may read
/// it (and auditing a read from outside the county).
pub struct LoadedFeedback {
    /// How the caller reads it.
    pub read: EngagementRead,
    /// The aggregates.
    pub feedback: CountyFeedback,
}

/// Loads and aggregates one county's feedback for the caller.
pub async fn county_feedback_of(session: &Session, county: CountyId) -> StoreResult<LoadedFeedback> {
    let read = session.principal().may_read_engagement(county)?;
    let tests =
        message_tests::Entity::find().filter(message_tests::Column::CountyId.eq(county.0)).all(session.db()).await?;
    let audience_of = |test: uuid::Uuid| {
        tests.iter().find(|t| t.id == test).and_then(|t| Audience::from_stored(&t.audience)).unwrap_or(Audience::Other)
    };
    let ids: Vec<MessageTestId> = tests.iter().map(|t| MessageTestId(t.id)).collect();
    let messages: Vec<MessageKey> = test_messages(session.db(), &ids)
        .await?
        .into_iter()
        .map(|m| MessageKey {
            test: m.message_test_id,
            message: m.id,
            theme: m.key_message_id,
            audience: audience_of(m.message_test_id),
        })
        .collect();
    let rows = session
        .db()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT message_test_id, test_message_id, works, clear, promotes_conversation, adaptable, engaging, comment \
             FROM orb.message_feedback_feed($1)",
            [Value::from(county.0)],
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let message: uuid::Uuid = row.try_get("", "test_message_id")?;
        let Some(key) = messages.iter().find(|k| k.message == message) else { continue };
        let rating = |column: &str| row.try_get::<i16>("", column).map(i32::from);
        let ratings = Ratings::parse(
            "feedback",
            [
                rating("works")?,
                rating("clear")?,
                rating("promotes_conversation")?,
                rating("adaptable")?,
                rating("engaging")?,
            ],
        )?;
        let comment: Option<String> = row.try_get("", "comment")?;
        entries.push(FeedbackEntry { message: *key, ratings, comment: comment.filter(|_| read.comments) });
    }
    let feedback = county_feedback(&messages, &entries, min_group(), &mut rand::rngs::OsRng);
    if read.cross_county {
        let change = session.change().await?;
        record(&change, "message_feedback.read", Some(county), "county", county.to_string(), json!({})).await?;
        change.commit().await?;
    }
    Ok(LoadedFeedback { read, feedback })
}

/// Every county's theme totals side by side, for faculty: each county's own suppression kept,
/// and only released totals pooled. Each county read is audited.
pub async fn across(session: &Session, _faculty: &Faculty) -> StoreResult<Vec<ThemeAcrossCounties<CountyId>>> {
    let rows = session
        .db()
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT DISTINCT county_id FROM message_tests ORDER BY county_id",
        ))
        .await?;
    let mut counties = Vec::with_capacity(rows.len());
    for row in rows {
        let county = CountyId(row.try_get("", "county_id")?);
        counties.push((county, county_feedback_of(session, county).await?.feedback));
    }
    Ok(across_counties(&counties))
}

async fn record(
    change: &Change<'_>,
    action: &'static str,
    county: Option<CountyId>,
    subject_type: &'static str,
    subject_id: String,
    details: serde_json::Value,
) -> StoreResult<()> {
    audit::record(change, AuditEntry { action, county_id: county, subject_type, subject_id: Some(subject_id), details })
        .await
}
