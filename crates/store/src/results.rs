//! Results: the service computes aggregates from the database's one results feed, which
//! checks entitlement itself and returns no ids, times or links; the domain withholds small
//! groups. Reads across counties (a buddy, faculty) are audited.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use orb_domain::Error as Refusal;
use orb_domain::access::LeadOf;
use orb_domain::comparison::{DomainChange, Lineup, Wave, lineup, wave_change};
use orb_domain::ids::{AdministrationId, CountyId};
use orb_domain::instrument::InstrumentDocument;
use orb_domain::raw_rows::{RawGroup, RawRowMask, ShownAttributes, raw_row_mask};
use orb_domain::results::{
    AdministrationResults, FreeText, LikertAnswers, Released, ScoredResponse, administration_results, free_text,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
    Value,
};
use serde_json::json;

use crate::audit;
use crate::collection;
use crate::entities::{administrations, responses};
use crate::error::{StoreError, StoreResult};
use crate::frozen::FreezeKey;
use crate::instruments::{self, VersionRecord};
use crate::page::{Page, PageRequest};
use crate::session::{Change, Session};

/// One administration's submitted answers as the results feed gives them, with its version,
/// after checking the caller may read its scores (and auditing a read from outside the county).
pub struct LoadedWave {
    /// The administration.
    pub administration: administrations::Model,
    /// The version it ran.
    pub version: VersionRecord,
    /// Its submitted responses' Likert answers (with perspective and unit), shared with the
    /// cache of frozen answers rather than copied per read.
    pub answers: Arc<LikertAnswers>,
}

impl LoadedWave {
    /// The minimum reporting group size.
    pub fn min_group(&self) -> usize {
        usize::try_from(self.administration.min_group_size).unwrap_or(5)
    }

    /// The domain's view of it.
    pub fn wave(&self) -> Wave<'_> {
        Wave { version: &self.version.document, answers: &self.answers }
    }
}

/// Loads one administration for results.
pub async fn load(session: &Session, id: AdministrationId) -> StoreResult<LoadedWave> {
    let mut waves = load_many(session, &[id]).await?;
    waves.pop().ok_or_else(|| Refusal::NotFound("administration").into())
}

/// Loads administrations for results, in the order given, in a fixed number of queries
/// whatever their number: the administrations, the database's own entitlement check, their
/// versions, and the answers of those not already frozen in memory ([`crate::frozen`]); with
/// one audit entry per read from outside the caller's county. Only Likert answers come back.
/// Refused as a whole if any administration is not readable.
pub async fn load_many(session: &Session, ids: &[AdministrationId]) -> StoreResult<Vec<LoadedWave>> {
    let found: HashMap<uuid::Uuid, administrations::Model> = administrations::Entity::find()
        .filter(administrations::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(session.db())
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut read_across = Vec::new();
    for id in ids {
        let administration = found.get(&id.0).ok_or(Refusal::NotFound("administration"))?;
        let read = session.principal().may_read_results(
            CountyId(administration.county_id),
            scores_available(administration),
            administration.results_released_at.is_some(),
        )?;
        if read.cross_county {
            read_across.push(collection::audit_entry("results.read", administration, json!({})));
        }
    }
    let ids_json = Value::from(json!(found.keys().collect::<Vec<_>>()));
    // The database decides too: what is cached is data, not permission.
    let refused = session
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS refused FROM jsonb_array_elements_text($1::jsonb) AS a(id)
             WHERE NOT orb.may_read_results(a.id::uuid)",
            [ids_json],
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "refused"))
        .transpose()?
        .unwrap_or_default();
    if refused > 0 {
        return Err(Refusal::forbidden("the results of an administration asked for are not released to you").into());
    }
    let versions: HashMap<uuid::Uuid, VersionRecord> = instruments::version_rows(
        session.db(),
        found.values().map(|a| a.instrument_version_id).collect::<BTreeSet<_>>(),
    )
    .await?
    .into_iter()
    .map(|v| (v.model.id, v))
    .collect();
    let version_of = |a: &administrations::Model| {
        versions.get(&a.instrument_version_id).ok_or(StoreError::Refused(Refusal::NotFound("instrument version")))
    };
    let mut kept: HashMap<uuid::Uuid, Arc<LikertAnswers>> = HashMap::new();
    let mut missing = Vec::new();
    for administration in found.values() {
        match session.frozen().get(&FreezeKey::of(administration)) {
            Some(answers) => {
                kept.insert(administration.id, answers);
            }
            None => missing.push(AdministrationId(administration.id)),
        }
    }
    let mut fed = feed(session, &missing).await?;
    for id in &missing {
        let administration = &found[&id.0];
        let responses = fed.remove(&id.0).unwrap_or_default();
        let answers = Arc::new(LikertAnswers::of(&version_of(administration)?.document, &responses));
        session.frozen().keep(FreezeKey::of(administration), Arc::clone(&answers));
        kept.insert(id.0, answers);
    }
    audit::record_reads(session, read_across).await?;
    ids.iter()
        .map(|id| {
            let administration = found[&id.0].clone();
            let version = version_of(&administration)?.clone();
            Ok(LoadedWave { administration, version, answers: Arc::clone(&kept[&id.0]) })
        })
        .collect()
}

/// The results feed of `ids`: each administration's submitted answers as the database lets
/// the caller read them (free text stripped unless entitled), by administration.
async fn feed(session: &Session, ids: &[AdministrationId]) -> StoreResult<HashMap<uuid::Uuid, Vec<ScoredResponse>>> {
    let mut answers: HashMap<uuid::Uuid, Vec<ScoredResponse>> = HashMap::new();
    if ids.is_empty() {
        return Ok(answers);
    }
    let rows = session
        .db()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT a.id AS administration_id, f.perspective, f.org_unit_id, f.answers::text AS answers
             FROM jsonb_array_elements_text($1::jsonb) AS a(id)
             CROSS JOIN LATERAL orb.results_feed(a.id::uuid) f",
            [Value::from(json!(ids.iter().map(|id| id.0).collect::<Vec<_>>()))],
        ))
        .await?;
    for row in rows {
        let id: String = row.try_get("", "administration_id")?;
        let text: String = row.try_get("", "answers")?;
        answers.entry(id.parse().unwrap_or_default()).or_default().push(ScoredResponse {
            perspective: row.try_get("", "perspective")?,
            unit: row.try_get("", "org_unit_id")?,
            answers: serde_json::from_str(&text).unwrap_or_default(),
        });
    }
    Ok(answers)
}

/// Whether scores can be read at all: the survey has closed, or an interim cut is frozen.
pub fn scores_available(administration: &administrations::Model) -> bool {
    administration.status == "closed" || administration.interim_cut_at.is_some()
}

/// Freezes an interim cut of an open survey: its scores, from the responses submitted so far,
/// become readable and never change as more answers arrive. One cut per survey.
pub async fn cut(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    now: DateTime<Utc>,
) -> StoreResult<administrations::Model> {
    let administration = collection::lock_own(change, lead, id).await?;
    if administration.status != "open" {
        return Err(Refusal::conflict("an interim cut is taken while the survey is open").into());
    }
    if administration.interim_cut_at.is_some() {
        return Err(Refusal::conflict(
            "the survey already has an interim cut; a second would reveal the answers between the two",
        )
        .into());
    }
    change
        .db()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO results_cuts (county_id, administration_id, response_id) \
             SELECT county_id, administration_id, id FROM responses \
             WHERE county_id = $1 AND administration_id = $2 AND status = 'submitted'",
            [Value::from(administration.county_id), Value::from(administration.id)],
        ))
        .await?;
    let mut model: administrations::ActiveModel = administration.into();
    model.interim_cut_at = Set(Some(now.into()));
    let updated = model.update(change.db()).await?;
    collection::record(change, "results.interim_cut", &updated, json!({})).await?;
    Ok(updated)
}

/// The smallest group whose free text is shown: the lead's setting, or the larger of 5 and the
/// score minimum.
pub fn free_text_minimum(administration: &administrations::Model) -> usize {
    let floor = administration.min_group_size.max(5);
    usize::try_from(administration.free_text_min_group_size.unwrap_or(floor).max(administration.min_group_size))
        .unwrap_or(5)
}

/// The free-text answers of one administration, if the caller may read them.
pub async fn free_text_of(session: &Session, id: AdministrationId) -> StoreResult<Vec<FreeText>> {
    let administration = collection::by_id(session.db(), id).await?.ok_or(Refusal::NotFound("administration"))?;
    session.principal().may_read_free_text(
        CountyId(administration.county_id),
        scores_available(&administration),
        administration.results_released_at.is_some(),
        administration.share_free_text_with_buddies,
    )?;
    let wave = load(session, id).await?;
    let responses = feed(session, &[id]).await?.remove(&id.0).unwrap_or_default();
    Ok(free_text(&wave.version.document, &responses, free_text_minimum(&wave.administration), &mut rand::rngs::OsRng))
}

/// Sets the free-text policy: its minimum group (never below the score minimum) and whether
/// the county's buddies may read it.
pub async fn set_free_text_policy(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    minimum: Option<i32>,
    share_with_buddies: Option<bool>,
) -> StoreResult<administrations::Model> {
    let administration = collection::lock_own(change, lead, id).await?;
    if let Some(m) = minimum
        && m < administration.min_group_size
    {
        return Err(Refusal::invalid(
            "minGroupSize",
            format!("must be at least the survey's minimum reporting group ({})", administration.min_group_size),
        )
        .into());
    }
    let mut model: administrations::ActiveModel = administration.into();
    if let Some(m) = minimum {
        model.free_text_min_group_size = Set(Some(m));
    }
    if let Some(shared) = share_with_buddies {
        model.share_free_text_with_buddies = Set(shared);
    }
    let updated = model.update(change.db()).await?;
    collection::record(
        change,
        "free_text.policy",
        &updated,
        json!({ "minGroupSize": minimum, "shareWithBuddies": share_with_buddies }),
    )
    .await?;
    Ok(updated)
}

/// The scores of one administration, as the caller may see them.
pub async fn of_administration(session: &Session, id: AdministrationId) -> StoreResult<AdministrationResults> {
    let wave = load(session, id).await?;
    Ok(administration_results(&wave.version.document, &wave.answers, wave.min_group()))
}

/// How a county's domains moved from an earlier wave to a later one, on shared concepts.
pub async fn change_between(
    session: &Session,
    earlier: AdministrationId,
    later: AdministrationId,
) -> StoreResult<Vec<(String, Released<DomainChange>)>> {
    let (before, after) = (load(session, earlier).await?, load(session, later).await?);
    if before.administration.county_id != after.administration.county_id {
        return Err(Refusal::invalid(
            "earlierId",
            "compare waves of the same county; use compareCounties across counties",
        )
        .into());
    }
    let min_group = before.min_group().max(after.min_group());
    Ok(wave_change(before.wave(), after.wave(), min_group))
}

/// Administrations (one per county, typically each county's latest) lined up on one domain.
pub async fn lineup_on(
    session: &Session,
    ids: &[AdministrationId],
    domain: &str,
) -> StoreResult<Lineup<administrations::Model>> {
    if ids.is_empty() || ids.len() > 200 {
        return Err(Refusal::invalid("administrationIds", "give between 1 and 200 administrations").into());
    }
    let waves = load_many(session, ids).await?;
    let keyed: Vec<(administrations::Model, Wave<'_>)> =
        waves.iter().map(|w| (w.administration.clone(), w.wave())).collect();
    let minimum = |a: &administrations::Model| usize::try_from(a.min_group_size).unwrap_or(5);
    Ok(lineup(&keyed, domain, &minimum))
}

/// Releases a closed administration's results to the county's staff, its buddies and faculty.
/// From then on it cannot reopen, so released results never change.
pub async fn release(
    change: &Change<'_>,
    lead: &LeadOf,
    id: AdministrationId,
    now: DateTime<Utc>,
) -> StoreResult<administrations::Model> {
    let administration = collection::lock_own(change, lead, id).await?;
    if !scores_available(&administration) {
        return Err(Refusal::conflict("close the survey, or take an interim cut, before releasing its results").into());
    }
    if administration.results_released_at.is_some() {
        return Err(Refusal::conflict("the results are already released").into());
    }
    let mut model: administrations::ActiveModel = administration.into();
    model.results_released_at = Set(Some(now.into()));
    let released = model.update(change.db()).await?;
    collection::record(change, "results.release", &released, json!({})).await?;
    Ok(released)
}

/// Through which door raw answers leave: the streamed CSV export or the API's
/// `Administration.responses`. Both are audited as `export.raw`, with the door in the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawDoor {
    /// `GET /exports/administrations/{id}/responses.csv`.
    Csv,
    /// `Administration.responses` in GraphQL.
    Api,
}

impl RawDoor {
    fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Api => "api",
        }
    }
}

/// The administration and the caller's lead capability over its county: who may read raw
/// answers at all (the county's lead).
async fn raw_access(
    session: &Session,
    lead_of: impl Fn(CountyId) -> Result<LeadOf, Refusal>,
    id: AdministrationId,
) -> StoreResult<(administrations::Model, LeadOf)> {
    let administration = collection::by_id(session.db(), id).await?.ok_or(Refusal::NotFound("administration"))?;
    let lead = lead_of(CountyId(administration.county_id))?;
    Ok((administration, lead))
}

/// Raw rows are read only once the survey has closed: while it is open (an interim cut
/// included) reading before and after one more submission would give that response whole.
fn check_raw_readable(administration: &administrations::Model) -> StoreResult<()> {
    if administration.status != "closed" {
        return Err(Refusal::conflict(
            "raw rows are read once the survey has closed (an interim cut opens scores, not rows)",
        )
        .into());
    }
    Ok(())
}

/// How a closed wave's raw rows are read: in an order fixed for the closed wave and unrelated
/// to response ids, codes or submission order, with the group attributes that would place a
/// row in a group below the minimum blanked ([`RawRowMask`]).
#[derive(Debug, Clone)]
pub struct RawReading {
    salt: Vec<u8>,
    /// What the rows leave blank, for the whole wave.
    pub mask: RawRowMask,
}

/// Opens a closed wave's raw rows for its lead: checks it is closed, notes the first read (from
/// then on the wave cannot reopen, so rows read at two closes never differ by the late
/// respondents) and works out the order and the mask.
async fn open_raw(
    session: &Session,
    lead: &LeadOf,
    administration: &administrations::Model,
) -> StoreResult<RawReading> {
    check_raw_readable(administration)?;
    session
        .db()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE administrations SET raw_rows_read_at = now() \
             WHERE county_id = $1 AND id = $2 AND raw_rows_read_at IS NULL",
            [Value::from(lead.county_id().0), Value::from(administration.id)],
        ))
        .await?;
    let groups = session
        .db()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT perspective, org_unit_id, language, count(*) AS n FROM responses \
             WHERE county_id = $1 AND administration_id = $2 AND status = 'submitted' \
             GROUP BY perspective, org_unit_id, language",
            [Value::from(lead.county_id().0), Value::from(administration.id)],
        ))
        .await?
        .iter()
        .map(|row| {
            Ok(RawGroup {
                perspective: row.try_get("", "perspective")?,
                unit: row.try_get("", "org_unit_id")?,
                language: row.try_get("", "language")?,
                n: row.try_get("", "n")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    let mask = raw_row_mask(&groups, i64::from(administration.min_group_size));
    Ok(RawReading { salt: raw_order_salt(session, administration), mask })
}

fn raw_order_salt(session: &Session, administration: &administrations::Model) -> Vec<u8> {
    let closed = administration.closed_at.unwrap_or(administration.closes_at);
    session.response_key().raw_order_salt(administration.id, closed.into())
}

/// Where a response stands in its wave's raw order: `sha256(salt || id)`, as PostgreSQL
/// computes it in [`RAW_ORDER`].
fn order_key(salt: &[u8], id: uuid::Uuid) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(salt);
    hash.update(id.as_bytes());
    hash.finalize().to_vec()
}

/// The raw order in SQL; `$3` is the salt.
const RAW_ORDER: &str = "sha256($3::bytea || uuid_send(r.id))";

/// One raw row as the lead reads it: no id, and the group attributes the mask leaves.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Perspective, unit and language, each blank where it would single out a small group.
    pub shown: ShownAttributes,
    /// The day it was submitted.
    pub submitted_on: Option<chrono::NaiveDate>,
    /// The answers by item code, free text included.
    pub answers: serde_json::Value,
    order: Vec<u8>,
}

fn raw_row(reading: &RawReading, response: responses::Model) -> RawRow {
    RawRow {
        shown: reading.mask.show(response.perspective.as_deref(), response.org_unit_id, &response.language),
        submitted_on: response.submitted_on,
        order: order_key(&reading.salt, response.id),
        answers: response.answers,
    }
}

/// What a raw export needs to start: the administration, its version and how its rows are read,
/// after checking the caller leads its county and the survey has closed, and an audit entry
/// saying the lead exported raw answers.
pub async fn start_raw_export(
    session: &Session,
    lead_of: impl Fn(CountyId) -> Result<LeadOf, Refusal>,
    id: AdministrationId,
) -> StoreResult<(administrations::Model, VersionRecord, RawReading)> {
    let (administration, lead) = raw_access(session, lead_of, id).await?;
    let reading = open_raw(session, &lead, &administration).await?;
    let version = instruments::version_row(session.db(), administration.instrument_version_id).await?;
    audit::record_reads(session, vec![raw_read(&administration, RawDoor::Csv)]).await?;
    Ok((administration, version, reading))
}

/// What the raw export's dictionary needs: the administration and its version, after checking
/// the caller leads its county (open or closed: it holds no row), audited as a raw export is.
pub async fn start_dictionary(
    session: &Session,
    lead_of: impl Fn(CountyId) -> Result<LeadOf, Refusal>,
    id: AdministrationId,
) -> StoreResult<(administrations::Model, VersionRecord)> {
    let (administration, _) = raw_access(session, lead_of, id).await?;
    let version = instruments::version_row(session.db(), administration.instrument_version_id).await?;
    audit::record_reads(session, vec![raw_read(&administration, RawDoor::Csv)]).await?;
    Ok((administration, version))
}

/// Where a page of raw responses starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFrom {
    /// At the first response.
    Start,
    /// After this row: the CSV export's keyset (a place in the raw order), which never leaves
    /// the service.
    AfterRow(Vec<u8>),
}

impl RawFrom {
    /// After `row`.
    pub fn after(row: &RawRow) -> Self {
        Self::AfterRow(row.order.clone())
    }
}

/// One page of a closed administration's submitted responses for the lead's raw answers, in
/// the wave's raw order, starting at `from`, read as `reading` says. The CSV export pages with it.
pub async fn raw_page(
    session: &Session,
    lead: &LeadOf,
    id: AdministrationId,
    reading: &RawReading,
    from: RawFrom,
    limit: u64,
) -> StoreResult<Vec<RawRow>> {
    use sea_orm::FromQueryResult;
    let administration = collection::by_id(session.db(), id).await?.ok_or(Refusal::NotFound("administration"))?;
    check_raw_readable(&administration)?;
    let after = match from {
        RawFrom::Start => Vec::new(),
        RawFrom::AfterRow(key) => key,
    };
    let rows = session
        .db()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT r.* FROM responses r
                 WHERE r.county_id = $1 AND r.administration_id = $2 AND r.status = 'submitted'
                   AND {RAW_ORDER} > $4::bytea
                 ORDER BY {RAW_ORDER} LIMIT $5"
            ),
            [
                Value::from(lead.county_id().0),
                Value::from(id.0),
                Value::from(reading.salt.clone()),
                Value::from(after),
                Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        ))
        .await?;
    rows.iter().map(|row| Ok(raw_row(reading, responses::Model::from_query_result(row, "")?))).collect()
}

fn submitted_responses(lead: &LeadOf, id: AdministrationId) -> sea_orm::Select<responses::Entity> {
    responses::Entity::find()
        .filter(responses::Column::CountyId.eq(lead.county_id().0))
        .filter(responses::Column::AdministrationId.eq(id.0))
        .filter(responses::Column::Status.eq("submitted"))
}

/// A position in an administration's raw responses as the API gives it out: how many the
/// caller has read, and how many were submitted when they started. It names no response, and
/// the order it counts in is the closed wave's raw order, unrelated to ids or codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RespondentCursor {
    /// Responses read so far (the respondent number of the last one).
    pub seen: u64,
    /// Submitted responses when the first page was read.
    pub submitted: u64,
}

impl std::fmt::Display for RespondentCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.seen, self.submitted)
    }
}

impl std::str::FromStr for RespondentCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (seen, submitted) = s.split_once('/').ok_or(())?;
        Ok(Self { seen: seen.parse().map_err(|_| ())?, submitted: submitted.parse().map_err(|_| ())? })
    }
}

/// One page of raw responses for the API, each with its respondent number.
pub struct RawListing {
    /// The version the administration runs, for the items' order and meaning.
    pub version: Arc<InstrumentDocument>,
    /// Submitted responses when the listing started.
    pub submitted: u64,
    /// The page: respondent number (from 1) and row.
    pub page: Page<(u64, RawRow)>,
}

/// One page of an administration's submitted responses for its county's lead (`lead` must
/// lead the administration's county, read by the caller in this request), as the CSV export
/// gives them (same order, same mask, same audit), positioned by respondent number. Only once
/// the survey has closed (`CONFLICT` before). A position taken before more responses were
/// submitted is refused (`CONFLICT` on `after`): the numbers would have moved.
///
/// The page and the number submitted come from one statement; the version's document from
/// memory once read ([`crate::published`]); the audit entry goes into the request's transaction.
pub async fn raw_listing(
    session: &Session,
    lead: &LeadOf,
    administration: &administrations::Model,
    request: &PageRequest,
) -> StoreResult<RawListing> {
    use sea_orm::{FromQueryResult, PaginatorTrait};
    if lead.county_id().0 != administration.county_id {
        return Err(Refusal::forbidden("raw answers are read by the county's lead").into());
    }
    let id = AdministrationId(administration.id);
    let after: Option<RespondentCursor> = request.after_key()?;
    let reading = open_raw(session, lead, administration).await?;
    let seen = after.map_or(0, |a| a.seen);
    let rows = session
        .db()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT r.*, (SELECT count(*) FROM responses c
                          WHERE c.county_id = $1 AND c.administration_id = $2 AND c.status = 'submitted') AS submitted
             FROM responses r
             WHERE r.county_id = $1 AND r.administration_id = $2 AND r.status = 'submitted'
             ORDER BY sha256($3::bytea || uuid_send(r.id)) LIMIT $4 OFFSET $5",
            [
                Value::from(administration.county_id),
                Value::from(administration.id),
                Value::from(reading.salt.clone()),
                Value::from(i64::try_from(request.limit()).unwrap_or(i64::MAX)),
                Value::from(i64::try_from(seen).unwrap_or(i64::MAX)),
            ],
        ))
        .await?;
    let submitted = match rows.first() {
        Some(row) => u64::try_from(row.try_get::<i64>("", "submitted")?).unwrap_or(0),
        // Past the end, or nothing submitted: the count alone.
        None => submitted_responses(lead, id).count(session.db()).await?,
    };
    if after.is_some_and(|a| a.submitted != submitted) {
        return Err(Refusal::conflict_on(
            "after",
            "responses were submitted since this listing started; read it again from the first page",
        )
        .into());
    }
    let fetched = rows
        .iter()
        .map(|row| Ok(raw_row(&reading, responses::Model::from_query_result(row, "")?)))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    let numbered = (seen + 1..).zip(fetched).collect();
    let version =
        session.documents().of_administrations_version(session.db(), administration.instrument_version_id).await?;
    audit::record_reads(session, vec![raw_read(administration, RawDoor::Api)]).await?;
    Ok(RawListing { version, submitted, page: Page::from_fetched(numbered, request) })
}

/// The audit entry of a read of an administration's raw answers.
fn raw_read(administration: &administrations::Model, door: RawDoor) -> audit::AuditEntry {
    collection::audit_entry("export.raw", administration, json!({ "via": door.as_str() }))
}
