//! Administrations, codes and responses. A respondent's request runs on a session whose
//! settings name their one response; a lead's on their county. Every write locks the row it
//! changes, so retries and concurrent submissions of one code end in exactly one response.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orb_domain::Error as Refusal;
use orb_domain::access::{LeadOf, RespondentScope};
use orb_domain::collection::{
    AccessCode, AdministrationSettings, AdministrationStatus, Anonymity, Answers, Completeness, Perspective, Source,
    accepting, check_answers, submission_fingerprint, transition,
};
use orb_domain::error::FieldProblem;
use orb_domain::ids::{AdministrationId, CountyId, InvitationId, OrgUnitId, ResponseId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::entities::{administrations, invitations, responses};
use crate::error::{FOREIGN_KEY_VIOLATION, StoreError, StoreResult, refuse_on, sqlstate};
use crate::instruments::{self, VersionRecord, VersionStatus};
use crate::session::{Change, Session};

/// The purpose under which invitation and open-link codes are hashed for lookup.
pub const CODE_PURPOSE: &str = "orb.access-code";

fn status_of(model: &administrations::Model) -> AdministrationStatus {
    AdministrationStatus::from_stored(&model.status).unwrap_or(AdministrationStatus::Closed)
}

fn anonymity_of(model: &administrations::Model) -> Anonymity {
    Anonymity::from_stored(&model.anonymity).unwrap_or(Anonymity::Anonymous)
}

/// Whether the administration takes answers now.
pub fn check_accepting(model: &administrations::Model, now: DateTime<Utc>) -> Result<(), Refusal> {
    accepting(status_of(model), model.opens_at.into(), model.closes_at.into(), now)
}

/// Administrations of a county the caller may see, newest first.
pub async fn list(session: &Session, county: CountyId) -> StoreResult<Vec<administrations::Model>> {
    session.principal().as_signed_in()?;
    Ok(administrations::Entity::find()
        .filter(administrations::Column::CountyId.eq(county.0))
        .order_by_desc(administrations::Column::OpensAt)
        .all(session.db())
        .await?)
}

/// One administration, if the caller may see it (members, buddies, faculty, its respondents).
pub async fn by_id(db: &impl ConnectionTrait, id: AdministrationId) -> StoreResult<Option<administrations::Model>> {
    Ok(administrations::Entity::find().filter(administrations::Column::Id.eq(id.0)).one(db).await?)
}

/// One administration of the lead's county, locked for the change; another county's is not found.
pub(crate) async fn lock_own(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
) -> StoreResult<administrations::Model> {
    administrations::Entity::find()
        .filter(administrations::Column::CountyId.eq(lead.county_id().0))
        .filter(administrations::Column::Id.eq(id.0))
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or_else(|| Refusal::NotFound("administration").into())
}

/// Creates an administration (a draft) of a published version of the state's or the county's own.
pub async fn create(
    change: &Change<'_>,
    lead: &LeadOf,
    version: &VersionRecord,
    settings: AdministrationSettings,
) -> StoreResult<administrations::Model> {
    if version.status() != VersionStatus::Published {
        return Err(Refusal::invalid(
            "input.instrumentVersionId",
            "must be a published version (not a draft or a retired one)",
        )
        .into());
    }
    if version.owner().is_some_and(|owner| owner != lead.county_id()) {
        return Err(Refusal::invalid("input.instrumentVersionId", "must be the state's or your county's own").into());
    }
    settings.check(&version.document)?;
    let id = AdministrationId::new();
    let model = administrations::ActiveModel {
        county_id: Set(lead.county_id().0),
        id: Set(id.0),
        instrument_version_id: Set(version.model.id),
        title: Set(settings.title.trim().to_owned()),
        status: Set(AdministrationStatus::Draft.as_str().to_owned()),
        opens_at: Set(settings.opens_at.into()),
        closes_at: Set(settings.closes_at.into()),
        perspectives: Set(settings.perspectives.iter().map(|p| p.as_str().to_owned()).collect()),
        languages: Set(settings.languages.clone()),
        anonymity: Set(settings.anonymity.as_str().to_owned()),
        min_group_size: Set(settings.min_group_size),
        ..Default::default()
    }
    .insert(change.db())
    .await?;
    record(change, "administration.create", &model, json!({ "title": model.title, "anonymity": model.anonymity }))
        .await?;
    Ok(model)
}

/// Opens (early, or again before results are released) or closes (early) an administration.
pub async fn set_status(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    to: AdministrationStatus,
    closes_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> StoreResult<administrations::Model> {
    let current = lock_own(change, lead, id).await?;
    transition(status_of(&current), to, current.results_released_at.is_some())?;
    if to == AdministrationStatus::Open && current.raw_rows_read_at.is_some() {
        // Raw rows read at this close and again at a later one would differ by exactly the
        // late respondents' rows.
        return Err(Refusal::conflict("the raw rows of this survey have been read; it cannot reopen").into());
    }
    let mut model: administrations::ActiveModel = current.clone().into();
    model.status = Set(to.as_str().to_owned());
    match to {
        AdministrationStatus::Open => {
            if DateTime::<Utc>::from(current.opens_at) > now {
                model.opens_at = Set(now.into());
            }
            let closes = closes_at.unwrap_or_else(|| current.closes_at.into());
            if closes <= now {
                return Err(Refusal::invalid(
                    "closesAt",
                    "the survey would close at once: give a closing time in the future",
                )
                .into());
            }
            model.closes_at = Set(closes.into());
            model.opened_at = Set(Some(now.into()));
        }
        AdministrationStatus::Closed => {
            if DateTime::<Utc>::from(current.closes_at) > now {
                model.closes_at = Set(now.into());
            }
            model.closed_at = Set(Some(now.into()));
        }
        AdministrationStatus::Draft => {}
    }
    let updated = model.update(change.db()).await?;
    let action = if to == AdministrationStatus::Open { "administration.open" } else { "administration.close" };
    record(change, action, &updated, json!({ "closesAt": DateTime::<Utc>::from(updated.closes_at) })).await?;
    Ok(updated)
}

/// Issues a batch of single-use invitation codes, optionally preset to a perspective and an
/// org unit. The codes are returned once; only their hashes are kept.
pub async fn issue_invitations(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    count: u32,
    perspective: Option<Perspective>,
    unit: Option<OrgUnitId>,
) -> StoreResult<(uuid::Uuid, Vec<AccessCode>)> {
    if !(1..=1000).contains(&count) {
        return Err(Refusal::invalid("input.count", "must be between 1 and 1000").into());
    }
    let codes: Vec<AccessCode> = (0..count).map(|_| AccessCode::random()).collect();
    let batch = register_invitations(change, lead, id, &codes, perspective, unit).await?;
    Ok((batch, codes))
}

/// Registers given codes as a batch of invitations (the demo prints the same codes every time).
pub async fn register_invitations(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    codes: &[AccessCode],
    perspective: Option<Perspective>,
    unit: Option<OrgUnitId>,
) -> StoreResult<uuid::Uuid> {
    let administration = lock_own(change, lead, id).await?;
    if status_of(&administration) == AdministrationStatus::Closed {
        return Err(Refusal::conflict("the survey has closed; reopen it to issue codes").into());
    }
    if let Some(p) = perspective
        && !administration.perspectives.iter().any(|a| a == p.as_str())
    {
        return Err(Refusal::invalid("input.perspective", "the survey does not ask for this perspective").into());
    }
    let batch = uuid::Uuid::now_v7();
    let rows = codes.iter().map(|code| invitations::ActiveModel {
        county_id: Set(lead.county_id().0),
        id: Set(uuid::Uuid::new_v4()),
        administration_id: Set(administration.id),
        batch_id: Set(batch),
        code_hash: Set(code.hash(CODE_PURPOSE)),
        perspective: Set(perspective.map(|p| p.as_str().to_owned())),
        org_unit_id: Set(unit.map(|u| u.0)),
        ..Default::default()
    });
    invitations::Entity::insert_many(rows).exec_without_returning(change.db()).await.map_err(
        |err| match sqlstate(&err).as_deref() {
            Some("23503") => StoreError::Refused(Refusal::invalid("input.orgUnitId", "no such unit in this county")),
            Some("23505") => StoreError::Refused(Refusal::conflict("one of these codes is already in use")),
            _ => StoreError::from(err),
        },
    )?;
    record(
        change,
        "invitation.issue",
        &administration,
        json!({ "batchId": batch, "count": codes.len(), "perspective": perspective.map(Perspective::as_str), "orgUnitId": unit }),
    )
    .await?;
    Ok(batch)
}

/// Revokes one code (the lead has the printed code): from now on it cannot start or submit.
/// It answers the same whatever the code's state (never used, in progress, submitted, already
/// revoked), so a revocation does not tell the lead who has submitted; a response submitted
/// before still counts. Only a code that is not of this survey is refused.
pub async fn revoke_invitation(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    code: &AccessCode,
) -> StoreResult<()> {
    let administration = lock_own(change, lead, id).await?;
    let revoked = invitations::Entity::update_many()
        .col_expr(invitations::Column::Revoked, sea_orm::sea_query::Expr::value(true))
        .filter(invitations::Column::AdministrationId.eq(administration.id))
        .filter(invitations::Column::CodeHash.eq(code.hash(CODE_PURPOSE)))
        .exec(change.db())
        .await?;
    if revoked.rows_affected == 0 {
        return Err(Refusal::invalid("code", "is not a code of this survey").into());
    }
    record(change, "invitation.revoke", &administration, json!({})).await
}

/// Invitation codes of an administration by status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationCounts {
    /// Codes issued, revoked ones included.
    pub issued: i64,
    /// Codes used to start a response, those since submitted included.
    pub started: i64,
    /// Codes used to submit.
    pub submitted: i64,
    /// Codes revoked.
    pub revoked: i64,
}

/// How many codes were issued, started, submitted and revoked (never which code answered
/// what). Revocation is counted apart and moves no other count, so it gives away nothing of
/// the revoked code's progress.
pub async fn invitation_counts(
    session: &Session,
    lead: &LeadOf,
    id: AdministrationId,
) -> StoreResult<InvitationCounts> {
    let row = session
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS issued, \
                    count(*) FILTER (WHERE status IN ('started', 'submitted')) AS started, \
                    count(*) FILTER (WHERE status = 'submitted') AS submitted, \
                    count(*) FILTER (WHERE revoked OR status = 'revoked') AS revoked \
             FROM invitations WHERE county_id = $1 AND administration_id = $2",
            [Value::from(lead.county_id().0), Value::from(id.0)],
        ))
        .await?;
    let Some(row) = row else { return Ok(InvitationCounts::default()) };
    Ok(InvitationCounts {
        issued: row.try_get("", "issued")?,
        started: row.try_get("", "started")?,
        submitted: row.try_get("", "submitted")?,
        revoked: row.try_get("", "revoked")?,
    })
}

/// Gives the administration an open link (a public code for many responses), replacing any
/// earlier one, with an optional cap on responses through it. The code is returned once.
pub async fn enable_open_link(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    cap: Option<i32>,
) -> StoreResult<AccessCode> {
    let code = AccessCode::random();
    set_open_link(change, lead, id, &code, cap).await?;
    Ok(code)
}

/// Sets a given code as the open link (the demo's is the same every time).
pub async fn set_open_link(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    code: &AccessCode,
    cap: Option<i32>,
) -> StoreResult<()> {
    let administration = lock_own(change, lead, id).await?;
    if cap.is_some_and(|c| c < 1) {
        return Err(Refusal::invalid("cap", "must be at least 1").into());
    }
    let mut model: administrations::ActiveModel = administration.into();
    model.open_link_hash = Set(Some(code.hash(CODE_PURPOSE)));
    model.open_link_cap = Set(cap);
    let updated = model.update(change.db()).await?;
    record(change, "open_link.enable", &updated, json!({ "cap": cap })).await
}

/// Turns the open link off.
pub async fn disable_open_link(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
) -> StoreResult<administrations::Model> {
    let administration = lock_own(change, lead, id).await?;
    let mut model: administrations::ActiveModel = administration.into();
    model.open_link_hash = Set(None);
    model.open_link_cap = Set(None);
    let updated = model.update(change.db()).await?;
    record(change, "open_link.disable", &updated, json!({})).await?;
    Ok(updated)
}

/// What a code opens.
#[derive(Debug, Clone)]
struct CodeTarget {
    kind: String,
    county_id: uuid::Uuid,
    administration_id: uuid::Uuid,
    invitation_id: Option<uuid::Uuid>,
    perspective: Option<String>,
    org_unit_id: Option<uuid::Uuid>,
    invitation_status: Option<String>,
}

async fn resolve(session: &Session, code: &AccessCode) -> StoreResult<Option<CodeTarget>> {
    let row = session
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT kind, county_id, administration_id, invitation_id, perspective, org_unit_id, invitation_status \
             FROM orb.resolve_access_code($1)",
            [Value::from(code.hash(CODE_PURPOSE))],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(CodeTarget {
            kind: row.try_get("", "kind")?,
            county_id: row.try_get("", "county_id")?,
            administration_id: row.try_get("", "administration_id")?,
            invitation_id: row.try_get("", "invitation_id")?,
            perspective: row.try_get("", "perspective")?,
            org_unit_id: row.try_get("", "org_unit_id")?,
            invitation_status: row.try_get("", "invitation_status")?,
        }),
        None => None,
    })
}

/// What a respondent hears when their code or token reaches a response already submitted: no
/// token, no answers, no perspective or unit — only that it is in.
pub const ALREADY_SUBMITTED: &str =
    "this survey has already been submitted with this code: thank you, your answers are in";

/// Exchanges a code for a response: an invitation code reaches its one response while it is in
/// progress (a resume, or a retry), an open link starts a new one. The window is checked first,
/// so a closed (or not yet open) survey answers the same `CONFLICT` for used and unused codes;
/// a code whose response is submitted opens nothing again ([`ALREADY_SUBMITTED`]). The
/// request's transaction becomes the respondent's. Returns the scope a respondent token grants.
pub async fn start_response(
    session: &Session,
    code: &AccessCode,
    language: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<(RespondentScope, responses::Model)> {
    let target = resolve(session, code)
        .await?
        .ok_or(Refusal::invalid("code", "is not a valid survey code; check it, or ask for a new one"))?;
    let source = if target.kind == "invitation" { Source::Invitation } else { Source::OpenLink };
    let scope = RespondentScope {
        response_id: match source {
            Source::Invitation => code.response_id(session.response_key()),
            _ => ResponseId(uuid::Uuid::new_v4()),
        },
        administration_id: AdministrationId(target.administration_id),
        county_id: CountyId(target.county_id),
        invitation_id: target.invitation_id.map(InvitationId),
    };
    session.assume_respondent(&scope).await?;
    let administration = by_id(session.db(), scope.administration_id)
        .await?
        .ok_or(Refusal::invalid("code", "is not a valid survey code"))?;
    check_accepting(&administration, now)?;
    if target.invitation_status.as_deref() == Some("submitted") {
        return Err(Refusal::conflict(ALREADY_SUBMITTED).into());
    }
    let change = session.change().await?;
    if let Some(existing) = own_response(change.db(), &scope).await? {
        if existing.status == "submitted" {
            return Err(Refusal::conflict(ALREADY_SUBMITTED).into());
        }
        change.commit().await?;
        return Ok((scope, existing));
    }
    let language = match language {
        Some(l) if administration.languages.iter().any(|a| a == l) => l.to_owned(),
        Some(_) => {
            return Err(Refusal::invalid(
                "language",
                format!("this survey is offered in {}", administration.languages.join(", ")),
            )
            .into());
        }
        None => administration.languages.first().cloned().unwrap_or_else(|| "en".into()),
    };
    if source == Source::OpenLink
        && let Some(cap) = administration.open_link_cap
    {
        change
            .db()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext($1::text))",
                [Value::from(administration.id.to_string())],
            ))
            .await?;
        let used = open_link_responses(change.db(), &administration).await?;
        if used >= i64::from(cap) {
            return Err(Refusal::conflict("this survey link has reached its number of responses").into());
        }
    }
    let confidential = anonymity_of(&administration) == Anonymity::Confidential;
    let inserted = responses::Entity::insert(responses::ActiveModel {
        county_id: Set(scope.county_id.0),
        id: Set(scope.response_id.0),
        administration_id: Set(scope.administration_id.0),
        source: Set(source.as_str().to_owned()),
        perspective: Set(target.perspective.clone()),
        org_unit_id: Set(target.org_unit_id),
        language: Set(language),
        invitation_id: Set(if confidential { target.invitation_id } else { None }),
        ..Default::default()
    })
    .on_conflict_do_nothing()
    .exec_with_returning(change.db())
    .await;
    let response = match inserted {
        Ok(sea_orm::TryInsertResult::Inserted(response)) => {
            if let Some(invitation) = target.invitation_id {
                invitations::Entity::update_many()
                    .col_expr(invitations::Column::Status, sea_orm::sea_query::Expr::value("started"))
                    .filter(invitations::Column::Id.eq(invitation))
                    .filter(invitations::Column::Status.eq("issued"))
                    .exec(change.db())
                    .await?;
            }
            response
        }
        // A concurrent exchange of the same invitation code inserted it first: `ON CONFLICT DO
        // NOTHING` returned no row, which sea-orm reports as "not found" when asked to return it.
        Ok(sea_orm::TryInsertResult::Conflicted | sea_orm::TryInsertResult::Empty)
        | Err(sea_orm::DbErr::RecordNotFound(_)) => {
            own_response(change.db(), &scope).await?.ok_or(Refusal::NotFound("response"))?
        }
        Err(err) => return Err(err.into()),
    };
    change.commit().await?;
    Ok((scope, response))
}

async fn open_link_responses(db: &impl ConnectionTrait, administration: &administrations::Model) -> StoreResult<i64> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT orb.open_link_responses($1) AS n",
            [Value::from(administration.id)],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

async fn own_response(db: &impl ConnectionTrait, scope: &RespondentScope) -> StoreResult<Option<responses::Model>> {
    Ok(responses::Entity::find()
        .filter(responses::Column::CountyId.eq(scope.county_id.0))
        .filter(responses::Column::Id.eq(scope.response_id.0))
        .one(db)
        .await?)
}

/// The respondent's own response, as saved so far: only while it is in progress and the survey
/// takes answers. Once submitted (or once the survey has closed) the token opens nothing.
pub async fn my_response(session: &Session, now: DateTime<Utc>) -> StoreResult<responses::Model> {
    let scope = session.principal().as_respondent()?;
    let response = own_response(session.db(), &scope).await?.ok_or(Refusal::NotFound("response"))?;
    if response.status == "submitted" {
        return Err(Refusal::conflict(ALREADY_SUBMITTED).into());
    }
    let administration =
        by_id(session.db(), scope.administration_id).await?.ok_or(Refusal::NotFound("administration"))?;
    check_accepting(&administration, now)?;
    Ok(response)
}

/// What a respondent sends with a save or a submission.
#[derive(Debug, Clone, Default)]
pub struct AnswerUpdate {
    /// Answers by item code; `null` clears an answer.
    pub answers: Answers,
    /// The perspective they answer from (self-reported unless their invitation set it).
    pub perspective: Option<Perspective>,
    /// Their org unit (self-reported unless their invitation set it).
    pub org_unit_id: Option<OrgUnitId>,
    /// The language they answer in.
    pub language: Option<String>,
}

struct Prepared {
    response: responses::Model,
    administration: administrations::Model,
    answers: Answers,
    perspective: Option<String>,
    org_unit_id: Option<uuid::Uuid>,
    language: String,
}

/// The respondent's response, locked until the request ends, so concurrent saves and submissions
/// of one response take turns.
async fn lock_own_response(change: &Change<'_>, scope: &RespondentScope) -> StoreResult<responses::Model> {
    Ok(responses::Entity::find()
        .filter(responses::Column::CountyId.eq(scope.county_id.0))
        .filter(responses::Column::Id.eq(scope.response_id.0))
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("response"))?)
}

/// Checks an update against the locked `response`, its administration (window, perspectives,
/// languages), its invitation (not revoked) and its instrument version (the answers).
async fn prepare(
    change: &Change<'_>,
    scope: &RespondentScope,
    response: responses::Model,
    update: &AnswerUpdate,
    completeness: Completeness,
    now: DateTime<Utc>,
) -> StoreResult<Prepared> {
    let administration =
        by_id(change.db(), scope.administration_id).await?.ok_or(Refusal::NotFound("administration"))?;
    if let Some(invitation) = scope.invitation_id {
        let status =
            invitations::Entity::find().filter(invitations::Column::Id.eq(invitation.0)).one(change.db()).await?;
        if status.is_some_and(|i| i.revoked || i.status == "revoked") {
            return Err(Refusal::conflict("the code this response was started with has been revoked").into());
        }
    }
    Ok(Prepared {
        answers: merged_answers(change, &response, &administration, update, completeness, now).await?,
        perspective: pick_perspective(&response, &administration, update.perspective, completeness)?,
        org_unit_id: pick_unit(&response, update.org_unit_id)?,
        language: pick_language(&response, &administration, update.language.as_deref())?,
        response,
        administration,
    })
}

async fn merged_answers(
    change: &Change<'_>,
    response: &responses::Model,
    administration: &administrations::Model,
    update: &AnswerUpdate,
    completeness: Completeness,
    now: DateTime<Utc>,
) -> StoreResult<Answers> {
    if response.status == "submitted" {
        return Err(Refusal::conflict(ALREADY_SUBMITTED).into());
    }
    check_accepting(administration, now)?;
    let version =
        change.documents().of_administrations_version(change.db(), administration.instrument_version_id).await?;
    let mut answers: Answers = serde_json::from_value(response.answers.clone()).unwrap_or_default();
    for (code, value) in &update.answers {
        answers.insert(code.clone(), value.clone());
    }
    Ok(check_answers(&version, &answers, completeness)?)
}

fn pick_perspective(
    response: &responses::Model,
    administration: &administrations::Model,
    asked: Option<Perspective>,
    completeness: Completeness,
) -> Result<Option<String>, Refusal> {
    let chosen = match (&response.perspective, asked) {
        (Some(preset), Some(p)) if response.source == "invitation" && preset != p.as_str() => {
            return Err(Refusal::invalid(
                "perspective",
                "your invitation already says which perspective you answer from",
            ));
        }
        (_, Some(p)) => Some(p.as_str().to_owned()),
        (current, None) => current.clone(),
    };
    if let Some(p) = &chosen
        && !administration.perspectives.iter().any(|a| a == p)
    {
        return Err(Refusal::invalid(
            "perspective",
            format!("this survey asks {}", administration.perspectives.join(", ")),
        ));
    }
    if completeness == Completeness::Final && chosen.is_none() {
        return Err(Refusal::invalid("perspective", "say which perspective you answer from"));
    }
    Ok(chosen)
}

fn pick_unit(response: &responses::Model, asked: Option<OrgUnitId>) -> Result<Option<uuid::Uuid>, Refusal> {
    match (response.org_unit_id, asked) {
        (Some(preset), Some(u)) if response.source == "invitation" && preset != u.0 => {
            Err(Refusal::invalid("orgUnitId", "your invitation already says which unit you answer for"))
        }
        (_, Some(u)) => Ok(Some(u.0)),
        (current, None) => Ok(current),
    }
}

fn pick_language(
    response: &responses::Model,
    administration: &administrations::Model,
    asked: Option<&str>,
) -> Result<String, Refusal> {
    match asked {
        Some(l) if administration.languages.iter().any(|a| a == l) => Ok(l.to_owned()),
        Some(_) => Err(Refusal::invalid(
            "language",
            format!("this survey is offered in {}", administration.languages.join(", ")),
        )),
        None => Ok(response.language.clone()),
    }
}

fn unit_refused(err: sea_orm::DbErr) -> StoreError {
    refuse_on(FOREIGN_KEY_VIOLATION, || Refusal::invalid("orgUnitId", "no such unit in this county"))(err)
}

/// Saves answers so far (any subset; `null` clears one). Refused once submitted or outside the window.
pub async fn save_response(
    session: &Session,
    update: AnswerUpdate,
    now: DateTime<Utc>,
) -> StoreResult<responses::Model> {
    let scope = session.principal().as_respondent()?;
    let change = session.change().await?;
    let response = lock_own_response(&change, &scope).await?;
    let prepared = prepare(&change, &scope, response, &update, Completeness::Partial, now).await?;
    let mut model: responses::ActiveModel = prepared.response.into();
    model.answers = Set(json!(prepared.answers));
    model.perspective = Set(prepared.perspective);
    model.org_unit_id = Set(prepared.org_unit_id);
    model.language = Set(prepared.language);
    let saved = model.update(change.db()).await.map_err(unit_refused)?;
    change.commit().await?;
    Ok(saved)
}

/// Submits the response, exactly once. A retry with the same key and content returns the
/// stored submission; the same key with other content, or another key, is a conflict.
pub async fn submit_response(
    session: &Session,
    update: AnswerUpdate,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<responses::Model> {
    let scope = session.principal().as_respondent()?;
    let change = session.change().await?;
    let current = lock_own_response(&change, &scope).await?;
    let fingerprint = request_fingerprint(&update);
    if current.status == "submitted" {
        return if current.submit_key.as_deref() == Some(key)
            && current.submit_fingerprint.as_deref() == Some(&fingerprint[..])
        {
            change.commit().await?;
            Ok(current)
        } else if current.submit_key.as_deref() == Some(key) {
            Err(Refusal::conflict_on("idempotencyKey", "this key was used for a different submission").into())
        } else {
            Err(Refusal::conflict("this response has already been submitted").into())
        };
    }
    let prepared = prepare(&change, &scope, current, &update, Completeness::Final, now).await?;
    let confidential = anonymity_of(&prepared.administration) == Anonymity::Confidential;
    let mut model: responses::ActiveModel = prepared.response.into();
    model.answers = Set(json!(prepared.answers));
    model.perspective = Set(prepared.perspective);
    model.org_unit_id = Set(prepared.org_unit_id);
    model.language = Set(prepared.language);
    model.status = Set("submitted".into());
    model.submit_key = Set(Some(key.to_owned()));
    model.submit_fingerprint = Set(Some(fingerprint));
    model.submitted_on = Set(Some(now.date_naive()));
    model.submitted_at = Set(confidential.then(|| now.into()));
    let saved = model.update(change.db()).await.map_err(|err| match sqlstate(&err).as_deref() {
        Some("23505") => {
            StoreError::Refused(Refusal::conflict_on("idempotencyKey", "this key was used for another response"))
        }
        _ => unit_refused(err),
    })?;
    if let Some(invitation) = scope.invitation_id {
        invitations::Entity::update_many()
            .col_expr(invitations::Column::Status, sea_orm::sea_query::Expr::value("submitted"))
            .filter(invitations::Column::Id.eq(invitation.0))
            .filter(invitations::Column::Revoked.eq(false))
            .exec(change.db())
            .await?;
    }
    change.commit().await?;
    Ok(saved)
}

fn request_fingerprint(update: &AnswerUpdate) -> Vec<u8> {
    submission_fingerprint(
        &update.answers,
        update.perspective,
        update.org_unit_id.map(|u| u.0),
        update.language.as_deref().unwrap_or(""),
    )
}

/// One paper form keyed in by a lead.
#[derive(Debug, Clone)]
pub struct PaperForm {
    /// Idempotency key: re-entering the same form stores nothing new.
    pub key: String,
    /// The respondent's answers and who they are.
    pub update: AnswerUpdate,
}

/// What happened to a batch of paper forms.
#[derive(Debug, Clone, Default)]
pub struct PaperOutcome {
    /// Forms stored (or already stored under the same key), by index.
    pub stored: Vec<(usize, responses::Model)>,
    /// Forms refused, by index, with their problems.
    pub refused: Vec<(usize, Vec<FieldProblem>)>,
}

/// Stores a lead's paper forms: every valid form, reporting the invalid ones by index; or,
/// with `all_or_nothing`, none unless all are valid.
pub async fn enter_paper_forms(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    forms: Vec<PaperForm>,
    all_or_nothing: bool,
    now: DateTime<Utc>,
) -> StoreResult<PaperOutcome> {
    let administration = lock_own(change, lead, id).await?;
    check_accepting(&administration, now)?;
    if forms.is_empty() || forms.len() > 500 {
        return Err(Refusal::invalid("forms", "send between 1 and 500 forms").into());
    }
    let version = instruments::version_row(change.db(), administration.instrument_version_id).await?;
    let confidential = anonymity_of(&administration) == Anonymity::Confidential;
    let mut outcome = PaperOutcome::default();
    for (index, form) in forms.into_iter().enumerate() {
        let savepoint = change.nested().await?;
        match store_paper_form(&savepoint, lead, &administration, &version, &form, confidential, now).await {
            Ok(model) => {
                savepoint.commit().await?;
                outcome.stored.push((index, model));
            }
            Err(StoreError::Refused(refusal)) => {
                drop(savepoint);
                outcome.refused.push((index, problems_of(refusal, index)));
            }
            Err(other) => return Err(other),
        }
    }
    if all_or_nothing && !outcome.refused.is_empty() {
        let problems = outcome.refused.into_iter().flat_map(|(_, p)| p).collect();
        return Err(Refusal::Invalid(problems).into());
    }
    record(
        change,
        "paper.enter",
        &administration,
        json!({ "stored": outcome.stored.len(), "refused": outcome.refused.len(), "allOrNothing": all_or_nothing }),
    )
    .await?;
    Ok(outcome)
}

fn problems_of(refusal: Refusal, index: usize) -> Vec<FieldProblem> {
    let prefix = format!("forms[{index}]");
    match refusal {
        Refusal::Invalid(problems) => {
            problems.into_iter().map(|p| FieldProblem::new(format!("{prefix}.{}", p.field), p.message)).collect()
        }
        Refusal::Conflict { message, field } => {
            vec![FieldProblem::new(format!("{prefix}.{}", field.unwrap_or_else(|| "idempotencyKey".into())), message)]
        }
        other => vec![FieldProblem::new(prefix, other.to_string())],
    }
}

async fn store_paper_form(
    change: &Change<'_>,
    lead: &LeadOf,
    administration: &administrations::Model,
    version: &VersionRecord,
    form: &PaperForm,
    confidential: bool,
    now: DateTime<Utc>,
) -> StoreResult<responses::Model> {
    let fingerprint = request_fingerprint(&form.update);
    let existing = responses::Entity::find()
        .filter(responses::Column::AdministrationId.eq(administration.id))
        .filter(responses::Column::SubmitKey.eq(form.key.as_str()))
        .one(change.db())
        .await?;
    if let Some(existing) = existing {
        return if existing.submit_fingerprint.as_deref() == Some(&fingerprint[..]) {
            Ok(existing)
        } else {
            Err(Refusal::conflict_on("idempotencyKey", "this key was used for a different form").into())
        };
    }
    let answers = check_answers(&version.document, &form.update.answers, Completeness::Final)?;
    let placeholder = responses::Model {
        county_id: lead.county_id().0,
        id: uuid::Uuid::new_v4(),
        administration_id: administration.id,
        source: Source::Paper.as_str().to_owned(),
        status: "in_progress".into(),
        perspective: None,
        org_unit_id: None,
        language: administration.languages.first().cloned().unwrap_or_else(|| "en".into()),
        answers: json!({}),
        invitation_id: None,
        submit_key: None,
        submit_fingerprint: None,
        started_on: now.date_naive(),
        submitted_on: None,
        submitted_at: None,
    };
    let perspective = pick_perspective(&placeholder, administration, form.update.perspective, Completeness::Final)?;
    let language = pick_language(&placeholder, administration, form.update.language.as_deref())?;
    let model = responses::ActiveModel {
        county_id: Set(placeholder.county_id),
        id: Set(placeholder.id),
        administration_id: Set(administration.id),
        source: Set(placeholder.source),
        status: Set("submitted".into()),
        perspective: Set(perspective),
        org_unit_id: Set(form.update.org_unit_id.map(|u| u.0)),
        language: Set(language),
        answers: Set(json!(answers)),
        submit_key: Set(Some(form.key.clone())),
        submit_fingerprint: Set(Some(fingerprint)),
        started_on: Set(now.date_naive()),
        submitted_on: Set(Some(now.date_naive())),
        submitted_at: Set(confidential.then(|| now.into())),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(unit_refused)?;
    Ok(model)
}

/// Responses of an administration by status and perspective, for its lead. Groups smaller than
/// the minimum reporting size are suppressed (`None`), and so is the next smallest when one
/// suppressed group could otherwise be recovered from the total.
#[derive(Debug, Clone, Default)]
pub struct ResponseCounts {
    /// Started and not submitted.
    pub in_progress: i64,
    /// Submitted; `None` when it would give a suppressed group away.
    pub submitted: Option<i64>,
    /// Submitted, by perspective asked for; `None` when suppressed.
    pub by_perspective: BTreeMap<String, Option<i64>>,
}

/// Response counts of one administration of the lead's county.
pub async fn response_counts(session: &Session, lead: &LeadOf, id: AdministrationId) -> StoreResult<ResponseCounts> {
    let administration = by_id(session.db(), id)
        .await?
        .filter(|a| a.county_id == lead.county_id().0)
        .ok_or(Refusal::NotFound("administration"))?;
    let rows = session
        .db()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT status, coalesce(perspective, '') AS perspective, count(*) AS n FROM responses \
             WHERE county_id = $1 AND administration_id = $2 GROUP BY status, perspective",
            [Value::from(administration.county_id), Value::from(administration.id)],
        ))
        .await?;
    let mut counts = ResponseCounts::default();
    let mut groups: BTreeMap<String, i64> = administration.perspectives.iter().map(|p| (p.clone(), 0)).collect();
    for row in rows {
        let (status, perspective, n): (String, String, i64) =
            (row.try_get("", "status")?, row.try_get("", "perspective")?, row.try_get("", "n")?);
        if status == "submitted" {
            *groups.entry(perspective).or_default() += n;
        } else {
            counts.in_progress += n;
        }
    }
    let suppressed = orb_domain::privacy::suppress_counts(&groups, i64::from(administration.min_group_size));
    counts.by_perspective = suppressed.groups;
    counts.submitted = suppressed.total;
    Ok(counts)
}

/// Audits a change to an administration.
pub(crate) async fn record(
    change: &Change<'_>,
    action: &'static str,
    administration: &administrations::Model,
    details: serde_json::Value,
) -> StoreResult<()> {
    audit::record(change, audit_entry(action, administration, details)).await
}

/// The audit entry of something done to, or read from, an administration.
pub(crate) fn audit_entry(
    action: &'static str,
    administration: &administrations::Model,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        action,
        county_id: Some(CountyId(administration.county_id)),
        subject_type: "administration",
        subject_id: Some(administration.id.to_string()),
        details,
    }
}

/// The respondent's administration and the instrument version it runs.
pub async fn my_survey(session: &Session) -> StoreResult<(administrations::Model, VersionRecord)> {
    let scope = session.principal().as_respondent()?;
    let administration =
        by_id(session.db(), scope.administration_id).await?.ok_or(Refusal::NotFound("administration"))?;
    let version = instruments::version_row(session.db(), administration.instrument_version_id).await?;
    Ok((administration, version))
}

/// The units of the respondent's county, to say which one they answer for.
pub async fn my_units(session: &Session) -> StoreResult<Vec<crate::entities::org_units::Model>> {
    let scope = session.principal().as_respondent()?;
    Ok(crate::entities::org_units::Entity::find()
        .filter(crate::entities::org_units::Column::CountyId.eq(scope.county_id.0))
        .order_by_asc(crate::entities::org_units::Column::Name)
        .all(session.db())
        .await?)
}
