//! Collecting responses: a lead runs administrations and hands out codes; a respondent (no
//! account) exchanges a code for a token that opens exactly one response, saves, resumes and
//! submits it once.

use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use orb_domain::Error as Refusal;
use orb_domain::access::RespondentScope;
use orb_domain::collection::{
    AccessCode, AdministrationSettings, AdministrationStatus as DomainStatus, Answers, DEFAULT_MIN_GROUP,
    idempotency_key,
};
use orb_domain::ids::{AdministrationId, CountyId, InstrumentVersionId, OrgUnitId};
use orb_domain::instrument::InstrumentDocument;
use orb_store::collection::{self as store, AnswerUpdate, PaperForm};
use orb_store::entities::{administrations, responses};
use orb_store::page::encode_cursor;
use orb_store::results::{self as results_store, RespondentCursor};

use crate::connection::connection;
use crate::context::{found, id, loader, page, session, stored};
use crate::counties::County;
use crate::error::{ApiResult, IntoApi, coded};
use crate::instruments::{InstrumentVersion, PublishProblem};

/// Signs respondent tokens. The server provides it: it holds the keys.
pub trait RespondentTokens: Send + Sync {
    /// A token for `scope` and its lifetime in seconds.
    fn issue(&self, scope: &RespondentScope) -> Result<(String, u64), String>;
}

/// Limits on one client's guesses: failed survey and attendee code exchanges, and password
/// checks behind an access token. The server provides it, bound to the requesting client.
pub trait ClientLimits: Send + Sync {
    /// `Err(seconds to wait)` when the client has failed too many code exchanges lately.
    fn check_code_exchange(&self) -> Result<(), u64>;
    /// Told that an exchange failed: the code did not parse or opened nothing.
    fn code_exchange_failed(&self);
    /// `Err(seconds to wait)` when `account`'s password, or this client, was tried too often.
    fn check_password_attempt(&self, account: orb_domain::ids::UserId) -> Result<(), u64>;
}

/// The outcome of a code exchange, told to the client's limits when it failed because the code
/// is malformed or unknown (a guess: `NOT_FOUND`, or `BAD_USER_INPUT` on `code`); a refusal of
/// a real code (a closed survey) or of the rest of the input is no guess.
pub(crate) fn exchange_outcome<T>(ctx: &Context<'_>, outcome: ApiResult<T>) -> ApiResult<T> {
    if let Err(error) = &outcome {
        let text = |key: &str| match error.extensions.as_ref().and_then(|e| e.get(key)) {
            Some(async_graphql::Value::String(value)) => Some(value.clone()),
            _ => None,
        };
        let guess = match text("code").as_deref() {
            Some("NOT_FOUND") => true,
            Some("BAD_USER_INPUT") => text("field").as_deref() == Some("code"),
            _ => false,
        };
        if guess && let Ok(limits) = ctx.data::<Arc<dyn ClientLimits>>() {
            limits.code_exchange_failed();
        }
    }
    outcome
}

/// Told of the submissions an operation accepted, for the service's metrics. The server
/// provides it per request and counts what it was told only once the request's transaction
/// commits; retries that return an earlier submission are told again (they are acknowledged).
pub trait SubmissionTally: Send + Sync {
    /// `count` responses were submitted by respondents.
    fn responses_submitted(&self, count: u64);
    /// `count` paper forms were stored by a lead.
    fn paper_forms_stored(&self, count: u64);
}

fn tally<'a>(ctx: &'a Context<'_>) -> Option<&'a Arc<dyn SubmissionTally>> {
    ctx.data_opt::<Arc<dyn SubmissionTally>>()
}

/// The error of a request refused by a rate limit; the server answers it with 429 and
/// `Retry-After`.
pub fn rate_limited(retry_after: u64) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    coded(format!("too many attempts; try again in {retry_after} seconds"), "RATE_LIMITED")
        .extend_with(|_, ext| ext.set("retryAfter", retry_after))
}

/// The perspective a respondent answers from.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::collection::Perspective")]
pub enum Perspective {
    /// Directors and deputy directors.
    Executive,
    /// Program and section managers.
    Manager,
    /// Supervisors.
    Supervisor,
    /// Social workers.
    SocialWorker,
    /// Clerical and support staff.
    ClericalSupport,
    /// Community partners.
    CommunityPartner,
    /// Youth and families.
    YouthAndFamily,
    /// Anyone else.
    Other,
}

/// Whether anything links a response to a person.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::collection::Anonymity")]
pub enum Anonymity {
    /// Nothing does.
    Anonymous,
    /// The invitation is linked; only aggregates are ever shown.
    Confidential,
}

/// Where an administration is in its life.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::collection::AdministrationStatus")]
pub enum AdministrationStatus {
    /// Being set up.
    Draft,
    /// Taking answers within its window.
    Open,
    /// No longer taking answers.
    Closed,
}

/// Where a response is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    /// Saved, not submitted; never counted.
    InProgress,
    /// Submitted; final.
    Submitted,
}

fn perspectives_of(stored_values: &[String]) -> Vec<Perspective> {
    stored_values.iter().filter_map(|p| orb_domain::collection::Perspective::from_stored(p)).map(Into::into).collect()
}

/// A wave of an instrument in one county.
pub struct Administration(pub administrations::Model);

#[Object]
impl Administration {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn status(&self) -> ApiResult<AdministrationStatus> {
        stored(DomainStatus::from_stored(&self.0.status)).map(Into::into)
    }

    /// Whether it takes answers right now (open, and inside its window).
    async fn accepting_responses(&self) -> bool {
        store::check_accepting(&self.0, Utc::now()).is_ok()
    }

    async fn opens_at(&self) -> DateTime<Utc> {
        self.0.opens_at.into()
    }

    async fn closes_at(&self) -> DateTime<Utc> {
        self.0.closes_at.into()
    }

    /// Perspectives asked for.
    async fn perspectives(&self) -> Vec<Perspective> {
        perspectives_of(&self.0.perspectives)
    }

    /// Languages offered.
    async fn languages(&self) -> &[String] {
        &self.0.languages
    }

    async fn anonymity(&self) -> ApiResult<Anonymity> {
        stored(orb_domain::collection::Anonymity::from_stored(&self.0.anonymity)).map(Into::into)
    }

    /// No figure is released for a smaller group.
    async fn min_group_size(&self) -> i32 {
        self.0.min_group_size
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.county_id)).await?, "county").map(County)
    }

    /// The instrument version it runs.
    async fn instrument_version(&self, ctx: &Context<'_>) -> ApiResult<Option<InstrumentVersion>> {
        Ok(loader(ctx)?.load_one(InstrumentVersionId(self.0.instrument_version_id)).await?.map(InstrumentVersion))
    }

    /// When the lead froze an interim cut of the open survey; `null` if none.
    async fn interim_cut_at(&self) -> Option<DateTime<Utc>> {
        self.0.interim_cut_at.map(Into::into)
    }

    /// When the lead released the results to staff, buddies and faculty; `null` until then.
    async fn results_released_at(&self) -> Option<DateTime<Utc>> {
        self.0.results_released_at.map(Into::into)
    }

    /// Scores by group, domain and item, small groups withheld. The county's lead once the
    /// survey has closed; its staff, its buddy counties and state faculty once the lead has
    /// released them. Reads from outside the county are audited.
    async fn results(&self, ctx: &Context<'_>) -> ApiResult<Option<crate::results::AdministrationResults>> {
        let session = session(ctx)?;
        let results = orb_store::results::of_administration(session, AdministrationId(self.0.id)).await.api()?;
        Ok(Some((&results).into()))
    }

    /// How each domain moved since an earlier wave of the same county, on the concepts both
    /// versions share (0–100), with a Welch interval, Hedges' g and caveats where the item set or
    /// scale differs. Both waves' results must be readable by the caller.
    async fn change_since(
        &self,
        ctx: &Context<'_>,
        earlier_id: ID,
    ) -> ApiResult<Vec<crate::results::DomainChangeResult>> {
        let session = session(ctx)?;
        let earlier: AdministrationId = id("earlierId", &earlier_id)?;
        let changes = orb_store::results::change_between(session, earlier, AdministrationId(self.0.id)).await.api()?;
        Ok(changes
            .into_iter()
            .map(|(domain, change)| crate::results::DomainChangeResult::from_domain(domain, &change))
            .collect())
    }

    /// The smallest group whose free text is shown (never below `minGroupSize`).
    async fn free_text_min_group_size(&self) -> usize {
        orb_store::results::free_text_minimum(&self.0)
    }

    /// Whether the county shares its free-text answers with its buddy counties.
    async fn share_free_text_with_buddies(&self) -> bool {
        self.0.share_free_text_with_buddies
    }

    /// Answers to the open questions, shuffled and unattributed, for groups at or above the
    /// free-text minimum: the county's lead once closed, its staff once released, its buddies
    /// only if the county shares them; never faculty.
    async fn free_text(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<crate::results::FreeTextResult>>> {
        let session = session(ctx)?;
        let texts = orb_store::results::free_text_of(session, AdministrationId(self.0.id)).await.api()?;
        Ok(Some(texts.into_iter().map(Into::into).collect()))
    }

    /// Submitted responses with their raw answers, paged: the API's door to what the CSV export
    /// (`/exports/administrations/{id}/responses.csv`) gives. The county's lead only; each page
    /// read is audited (`export.raw`). Respondents are numbered for the listing and no response
    /// id is given. A cursor taken before more responses were submitted is refused (`CONFLICT`).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn responses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<Connection<String, SubmittedResponse, EmptyFields, EmptyFields>>> {
        let session = session(ctx)?;
        let lead = session.principal().as_lead_of(CountyId(self.0.county_id)).api()?;
        let request = page(first, after)?;
        let listing = results_store::raw_listing(session, &lead, &self.0, &request).await.api()?;
        let version = listing.version;
        let submitted = listing.submitted;
        Ok(Some(connection(
            listing.page,
            request.after.is_some(),
            |(seen, _)| encode_cursor(&RespondentCursor { seen: *seen, submitted }.to_string()),
            |(respondent, response)| SubmittedResponse { respondent, response, version: Arc::clone(&version) },
        )))
    }

    /// Whether the open link is on.
    async fn open_link_enabled(&self) -> bool {
        self.0.open_link_hash.is_some()
    }

    /// Most responses the open link takes, if capped.
    async fn open_link_cap(&self) -> Option<i32> {
        self.0.open_link_cap
    }

    /// Codes issued, started, submitted and revoked — never which code answered what. The
    /// county's lead only.
    async fn invitation_counts(&self, ctx: &Context<'_>) -> ApiResult<Option<InvitationCounts>> {
        let session = session(ctx)?;
        let lead = session.principal().as_lead_of(CountyId(self.0.county_id)).api()?;
        let counts = store::invitation_counts(session, &lead, AdministrationId(self.0.id)).await.api()?;
        Ok(Some(InvitationCounts {
            issued: counts.issued,
            started: counts.started,
            submitted: counts.submitted,
            revoked: counts.revoked,
        }))
    }

    /// Responses by status and perspective, small groups suppressed. The county's lead only.
    async fn response_counts(&self, ctx: &Context<'_>) -> ApiResult<Option<ResponseCounts>> {
        let session = session(ctx)?;
        let lead = session.principal().as_lead_of(CountyId(self.0.county_id)).api()?;
        let counts = store::response_counts(session, &lead, AdministrationId(self.0.id)).await.api()?;
        Ok(Some(ResponseCounts {
            in_progress: counts.in_progress,
            submitted: counts.submitted,
            by_perspective: counts
                .by_perspective
                .into_iter()
                .map(|(perspective, submitted)| PerspectiveCount {
                    perspective: orb_domain::collection::Perspective::from_stored(&perspective).map(Into::into),
                    submitted,
                    suppressed: submitted.is_none(),
                })
                .collect(),
        }))
    }
}

/// Invitation codes by status.
#[derive(SimpleObject)]
pub struct InvitationCounts {
    /// Issued, revoked ones included.
    pub issued: i64,
    /// Used to start a response, those since submitted included.
    pub started: i64,
    /// Used to submit.
    pub submitted: i64,
    /// Revoked.
    pub revoked: i64,
}

/// Responses by status and perspective.
#[derive(SimpleObject)]
pub struct ResponseCounts {
    /// Started, not submitted (never counted in results).
    pub in_progress: i64,
    /// Submitted; `null` only when it would give a suppressed group away.
    pub submitted: Option<i64>,
    /// Submitted, by perspective; small groups suppressed.
    pub by_perspective: Vec<PerspectiveCount>,
}

/// Submitted responses of one perspective.
#[derive(SimpleObject)]
pub struct PerspectiveCount {
    /// The perspective (none for responses that gave none).
    pub perspective: Option<Perspective>,
    /// How many; `null` when the group is too small to show.
    pub submitted: Option<i64>,
    /// Whether the count is withheld to protect a small group.
    pub suppressed: bool,
}

/// A batch of invitation codes, shown once.
#[derive(SimpleObject)]
pub struct InvitationBatch {
    /// Identifies the batch in the audit log.
    pub batch_id: ID,
    /// The codes, grouped for printing (`7KQ4-M2XD-9HTR-BW3E`). Only their hashes are kept.
    pub codes: Vec<String>,
}

/// An open link's code, shown once.
#[derive(SimpleObject)]
pub struct OpenLink {
    /// The public code (put it in a link or on a slide).
    pub code: String,
    /// Most responses it takes, if capped.
    pub cap: Option<i32>,
}

/// Collection queries.
#[derive(Default)]
pub struct CollectionQuery;

#[Object]
impl CollectionQuery {
    /// A county's administrations, newest first: its members, its buddies and faculty.
    async fn administrations(&self, ctx: &Context<'_>, county_slug: String) -> ApiResult<Vec<Administration>> {
        let session = session(ctx)?;
        let county = found(orb_store::counties::by_slug(session, county_slug.trim()).await.api()?, "county")?;
        Ok(store::list(session, CountyId(county.id)).await.api()?.into_iter().map(Administration).collect())
    }

    /// One administration.
    async fn administration(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Administration> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let administration: AdministrationId = crate::context::id("id", &id)?;
        found(store::by_id(session.db(), administration).await.api()?, "administration").map(Administration)
    }

    /// The respondent's own response (respondent token).
    async fn my_response(&self, ctx: &Context<'_>) -> ApiResult<RespondentResponse> {
        let session = session(ctx)?;
        Ok(RespondentResponse(store::my_response(session, Utc::now()).await.api()?))
    }
}

/// A submitted response as its county's lead reads raw answers: numbered for the listing,
/// with no id (in anonymous mode an id derives from the invitation code the lead handed out).
pub struct SubmittedResponse {
    respondent: u64,
    response: responses::Model,
    version: Arc<InstrumentDocument>,
}

/// A submitted response with its raw answers, as the county's lead reads them.
#[Object]
impl SubmittedResponse {
    /// Its number in this listing, from 1 (the CSV export's `respondent`).
    async fn respondent(&self) -> u64 {
        self.respondent
    }

    async fn perspective(&self) -> Option<Perspective> {
        self.response.perspective.as_deref().and_then(orb_domain::collection::Perspective::from_stored).map(Into::into)
    }

    /// The unit answered for.
    async fn org_unit_id(&self) -> Option<ID> {
        self.response.org_unit_id.map(|u| ID(u.to_string()))
    }

    async fn language(&self) -> &str {
        &self.response.language
    }

    /// The day it was submitted (anonymous surveys keep no finer time).
    async fn submitted_on(&self) -> ApiResult<chrono::NaiveDate> {
        stored(self.response.submitted_on)
    }

    /// Its answers in the version's item order, free text included; unanswered items are left out.
    async fn answers(&self) -> Vec<RawAnswer> {
        self.version
            .answers_in_order(&self.response.answers)
            .map(|(item, value)| RawAnswer { item: item.code.clone(), value: Json(value.clone()) })
            .collect()
    }
}

/// One stored answer.
#[derive(SimpleObject)]
pub struct RawAnswer {
    /// The item's code (`FIT1`).
    pub item: String,
    /// As stored: a number for Likert and number items, a string for text and single choice, a
    /// list of strings for multiple choice.
    pub value: Json<serde_json::Value>,
}

/// A respondent's response as they see it. Once submitted it shows only that it was submitted
/// (and on which day): whoever holds the code or the token — a printed slip, the lead's list
/// of codes — never reads the answers, perspective or unit again.
pub struct RespondentResponse(pub responses::Model);

impl RespondentResponse {
    fn submitted(&self) -> bool {
        self.0.status == "submitted"
    }
}

#[Object]
impl RespondentResponse {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn status(&self) -> ResponseStatus {
        if self.0.status == "submitted" { ResponseStatus::Submitted } else { ResponseStatus::InProgress }
    }

    async fn language(&self) -> &str {
        &self.0.language
    }

    /// The perspective answered from; `null` once submitted.
    async fn perspective(&self) -> Option<Perspective> {
        if self.submitted() {
            return None;
        }
        self.0.perspective.as_deref().and_then(orb_domain::collection::Perspective::from_stored).map(Into::into)
    }

    /// The unit answered for; `null` once submitted.
    async fn org_unit_id(&self) -> Option<ID> {
        if self.submitted() {
            return None;
        }
        self.0.org_unit_id.map(|u| ID(u.to_string()))
    }

    /// Answers saved so far, by item code; empty once submitted.
    async fn answers(&self) -> Json<serde_json::Value> {
        if self.submitted() {
            return Json(serde_json::json!({}));
        }
        Json(self.0.answers.clone())
    }

    /// The day it was submitted (anonymous surveys keep no finer time).
    async fn submitted_on(&self) -> Option<chrono::NaiveDate> {
        self.0.submitted_on
    }

    /// The survey: its administration and the instrument version to answer.
    async fn survey(&self, ctx: &Context<'_>) -> ApiResult<Survey> {
        let session = session(ctx)?;
        let (administration, version) = store::my_survey(session).await.api()?;
        let units = store::my_units(session).await.api()?;
        Ok(Survey {
            title: administration.title.clone(),
            closes_at: administration.closes_at.into(),
            languages: administration.languages.clone(),
            perspectives: perspectives_of(&administration.perspectives),
            instrument: InstrumentVersion(Arc::new(version)),
            units: units.into_iter().map(|u| UnitChoice { id: ID(u.id.to_string()), name: u.name }).collect(),
        })
    }
}

/// What a respondent answers.
#[derive(SimpleObject)]
pub struct Survey {
    /// The administration's title.
    pub title: String,
    /// When it closes.
    pub closes_at: DateTime<Utc>,
    /// Languages offered.
    pub languages: Vec<String>,
    /// Perspectives to choose from.
    pub perspectives: Vec<Perspective>,
    /// The questions.
    pub instrument: InstrumentVersion,
    /// Units to choose from.
    pub units: Vec<UnitChoice>,
}

/// A unit a respondent may say they answer for.
#[derive(SimpleObject)]
pub struct UnitChoice {
    /// Its id.
    pub id: ID,
    /// Its name.
    pub name: String,
}

/// A new administration.
#[derive(InputObject)]
pub struct CreateAdministrationInput {
    /// The county (the caller must be its lead).
    pub county_id: ID,
    /// A published version of the state's or the county's own.
    pub instrument_version_id: ID,
    /// Title.
    pub title: String,
    /// Opening time.
    pub opens_at: DateTime<Utc>,
    /// Closing time.
    pub closes_at: DateTime<Utc>,
    /// Perspectives asked for.
    pub perspectives: Vec<Perspective>,
    /// Languages offered (default: all of the version's).
    pub languages: Option<Vec<String>>,
    /// Anonymity mode (default `ANONYMOUS`).
    pub anonymity: Option<Anonymity>,
    /// Minimum reporting group size (default 5, never below 3).
    pub min_group_size: Option<i32>,
}

/// A batch of codes to issue.
#[derive(InputObject)]
pub struct IssueInvitationsInput {
    /// The administration.
    pub administration_id: ID,
    /// How many (1 to 1000).
    pub count: u32,
    /// Preset perspective.
    pub perspective: Option<Perspective>,
    /// Preset org unit.
    pub org_unit_id: Option<ID>,
}

/// Answers and who is answering.
#[derive(InputObject)]
pub struct AnswersInput {
    /// Answers by item code (`{"FIT1": 4, "FIT_HELP": "…"}`); `null` clears one.
    pub answers: Option<Json<serde_json::Value>>,
    /// The perspective answered from.
    pub perspective: Option<Perspective>,
    /// The unit answered for.
    pub org_unit_id: Option<ID>,
    /// The language answered in.
    pub language: Option<String>,
}

/// One paper form.
#[derive(InputObject)]
pub struct PaperFormInput {
    /// Idempotency key: re-entering the same form stores nothing new.
    pub idempotency_key: String,
    /// Answers and who answered.
    pub response: AnswersInput,
}

/// What happened to a batch of paper forms.
#[derive(SimpleObject)]
pub struct PaperEntryResult {
    /// Indexes of the forms stored (or already stored under the same key).
    pub stored: Vec<i32>,
    /// Forms refused, with their problems.
    pub refused: Vec<PaperFormRefused>,
}

/// A refused paper form.
#[derive(SimpleObject)]
pub struct PaperFormRefused {
    /// Its index in the batch.
    pub index: i32,
    /// What is wrong, each with its path.
    pub problems: Vec<PublishProblem>,
}

/// A respondent's way in.
#[derive(SimpleObject)]
pub struct RespondentStart {
    /// The respondent token: send it as `Authorization: Bearer …`. It opens this one response.
    pub token: String,
    /// Seconds until it expires (an invitation code resumes after that too).
    pub expires_in: u64,
    /// Where the response is: an invitation code reaches the same response every time.
    pub status: ResponseStatus,
}

fn answer_update(input: AnswersInput) -> ApiResult<AnswerUpdate> {
    let answers: Answers = match input.answers {
        Some(Json(serde_json::Value::Object(map))) => map.into_iter().collect(),
        Some(Json(serde_json::Value::Null)) | None => Answers::new(),
        Some(_) => return Err(Refusal::invalid("answers", "must be an object of item code → answer")).api(),
    };
    Ok(AnswerUpdate {
        answers,
        perspective: input.perspective.map(Into::into),
        org_unit_id: input.org_unit_id.as_ref().map(|raw| id::<OrgUnitId>("orgUnitId", raw)).transpose()?,
        language: input.language.map(|l| l.trim().to_owned()),
    })
}

async fn own(ctx: &Context<'_>, field: &str, raw: &ID) -> ApiResult<(AdministrationId, orb_domain::access::LeadOf)> {
    let session = session(ctx)?;
    session.principal().as_signed_in().api()?;
    let administration: AdministrationId = id(field, raw)?;
    let model = found(store::by_id(session.db(), administration).await.api()?, "administration")?;
    let lead = session.principal().as_lead_of(CountyId(model.county_id)).api()?;
    Ok((administration, lead))
}

/// Collection mutations.
#[derive(Default)]
pub struct CollectionMutation;

#[Object]
impl CollectionMutation {
    /// Creates an administration (a draft). The county's lead only.
    async fn create_administration(
        &self,
        ctx: &Context<'_>,
        input: CreateAdministrationInput,
    ) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let county: CountyId = id("input.countyId", &input.county_id)?;
        let lead = session.principal().as_lead_of(county).api()?;
        let version_id: InstrumentVersionId = id("input.instrumentVersionId", &input.instrument_version_id)?;
        let version = found(loader(ctx)?.load_one(version_id).await?, "instrument version")?;
        let settings = AdministrationSettings {
            title: input.title,
            opens_at: input.opens_at,
            closes_at: input.closes_at,
            perspectives: input.perspectives.into_iter().map(Into::into).collect(),
            languages: input.languages.unwrap_or_else(|| version.document.version.languages.clone()),
            anonymity: input.anonymity.map(Into::into).unwrap_or(orb_domain::collection::Anonymity::Anonymous),
            min_group_size: input.min_group_size.unwrap_or(DEFAULT_MIN_GROUP),
        };
        let change = session.change().await.api()?;
        let created = store::create(&change, &lead, &version, settings).await.api()?;
        change.commit().await.api()?;
        Ok(Administration(created))
    }

    /// Opens an administration (early, or again before results are released), optionally
    /// with a new closing time. The county's lead only.
    async fn open_administration(
        &self,
        ctx: &Context<'_>,
        id: ID,
        closes_at: Option<DateTime<Utc>>,
    ) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "id", &id).await?;
        let change = session.change().await.api()?;
        let model =
            store::set_status(&change, &lead, administration, DomainStatus::Open, closes_at, Utc::now()).await.api()?;
        change.commit().await.api()?;
        Ok(Administration(model))
    }

    /// Closes an administration (early): nothing more gets in. The county's lead only.
    async fn close_administration(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "id", &id).await?;
        let change = session.change().await.api()?;
        let model =
            store::set_status(&change, &lead, administration, DomainStatus::Closed, None, Utc::now()).await.api()?;
        change.commit().await.api()?;
        Ok(Administration(model))
    }

    /// Freezes an interim cut of an open survey: scores from the responses submitted so far,
    /// which never change as more arrive (one cut per survey). The county's lead only.
    async fn take_interim_cut(&self, ctx: &Context<'_>, administration_id: ID) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "administrationId", &administration_id).await?;
        let change = session.change().await.api()?;
        let model = orb_store::results::cut(&change, &lead, administration, Utc::now()).await.api()?;
        change.commit().await.api()?;
        Ok(Administration(model))
    }

    /// Releases a survey's results (once closed, or its interim cut) to the county's staff, its
    /// buddy counties and state faculty. The survey can no longer reopen. The county's lead only.
    async fn release_results(&self, ctx: &Context<'_>, administration_id: ID) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "administrationId", &administration_id).await?;
        let change = session.change().await.api()?;
        let model = orb_store::results::release(&change, &lead, administration, Utc::now()).await.api()?;
        change.commit().await.api()?;
        Ok(Administration(model))
    }

    /// Sets the free-text policy: its minimum group (never below the survey's minimum) and
    /// whether buddy counties may read it. The county's lead only.
    async fn set_free_text_policy(
        &self,
        ctx: &Context<'_>,
        administration_id: ID,
        min_group_size: Option<i32>,
        share_with_buddies: Option<bool>,
    ) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "administrationId", &administration_id).await?;
        let change = session.change().await.api()?;
        let model = orb_store::results::set_free_text_policy(
            &change,
            &lead,
            administration,
            min_group_size,
            share_with_buddies,
        )
        .await
        .api()?;
        change.commit().await.api()?;
        Ok(Administration(model))
    }

    /// Issues single-use invitation codes; they are shown this once. The county's lead only.
    async fn issue_invitations(&self, ctx: &Context<'_>, input: IssueInvitationsInput) -> ApiResult<InvitationBatch> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "input.administrationId", &input.administration_id).await?;
        let unit = input.org_unit_id.as_ref().map(|raw| id::<OrgUnitId>("input.orgUnitId", raw)).transpose()?;
        let change = session.change().await.api()?;
        let (batch, codes) = store::issue_invitations(
            &change,
            &lead,
            administration,
            input.count,
            input.perspective.map(Into::into),
            unit,
        )
        .await
        .api()?;
        change.commit().await.api()?;
        Ok(InvitationBatch { batch_id: ID(batch.to_string()), codes: codes.iter().map(AccessCode::display).collect() })
    }

    /// Revokes one code before it is used to submit. The county's lead only.
    async fn revoke_invitation(&self, ctx: &Context<'_>, administration_id: ID, code: String) -> ApiResult<bool> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "administrationId", &administration_id).await?;
        let code = AccessCode::parse("code", &code).api()?;
        let change = session.change().await.api()?;
        store::revoke_invitation(&change, &lead, administration, &code).await.api()?;
        change.commit().await.api()?;
        Ok(true)
    }

    /// Turns on the open link (a public code for many responses), replacing any earlier one;
    /// its code is shown this once. The county's lead only.
    async fn enable_open_link(
        &self,
        ctx: &Context<'_>,
        administration_id: ID,
        cap: Option<i32>,
    ) -> ApiResult<OpenLink> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "administrationId", &administration_id).await?;
        let change = session.change().await.api()?;
        let code = store::enable_open_link(&change, &lead, administration, cap).await.api()?;
        change.commit().await.api()?;
        Ok(OpenLink { code: code.display(), cap })
    }

    /// Turns the open link off. The county's lead only.
    async fn disable_open_link(&self, ctx: &Context<'_>, administration_id: ID) -> ApiResult<Administration> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "administrationId", &administration_id).await?;
        let change = session.change().await.api()?;
        let model = store::disable_open_link(&change, &lead, administration).await.api()?;
        change.commit().await.api()?;
        Ok(Administration(model))
    }

    /// Keys in paper forms: every valid form is stored and invalid ones reported by index; with
    /// `allOrNothing`, none unless all are valid. The county's lead only.
    async fn enter_paper_forms(
        &self,
        ctx: &Context<'_>,
        administration_id: ID,
        forms: Vec<PaperFormInput>,
        all_or_nothing: Option<bool>,
    ) -> ApiResult<PaperEntryResult> {
        let session = session(ctx)?;
        let (administration, lead) = own(ctx, "administrationId", &administration_id).await?;
        let mut parsed = Vec::with_capacity(forms.len());
        for (index, form) in forms.into_iter().enumerate() {
            let key = idempotency_key(&format!("forms[{index}].idempotencyKey"), &form.idempotency_key).api()?;
            parsed.push(PaperForm { key, update: answer_update(form.response)? });
        }
        let change = session.change().await.api()?;
        let outcome = store::enter_paper_forms(
            &change,
            &lead,
            administration,
            parsed,
            all_or_nothing.unwrap_or(false),
            Utc::now(),
        )
        .await
        .api()?;
        change.commit().await.api()?;
        if let Some(tally) = tally(ctx) {
            tally.paper_forms_stored(outcome.stored.len() as u64);
        }
        Ok(PaperEntryResult {
            stored: outcome.stored.iter().map(|(index, _)| *index as i32).collect(),
            refused: outcome
                .refused
                .into_iter()
                .map(|(index, problems)| PaperFormRefused {
                    index: index as i32,
                    problems: problems
                        .into_iter()
                        .map(|p| PublishProblem { field: p.field, message: p.message })
                        .collect(),
                })
                .collect(),
        })
    }

    /// Exchanges a survey code for a respondent token. No account needed. An invitation code
    /// always reaches the same response (to resume); an open link starts a new one.
    async fn start_response(
        &self,
        ctx: &Context<'_>,
        code: String,
        language: Option<String>,
    ) -> ApiResult<RespondentStart> {
        let session = session(ctx)?;
        if session.principal().user_id().is_some() {
            return Err(Refusal::forbidden("sign out to answer a survey: responses never belong to an account")).api();
        }
        if let Ok(limits) = ctx.data::<Arc<dyn ClientLimits>>() {
            limits.check_code_exchange().map_err(rate_limited)?;
        }
        let opened = match AccessCode::parse("code", &code).api() {
            Ok(code) => store::start_response(session, &code, language.as_deref(), Utc::now()).await.api(),
            Err(malformed) => Err(malformed),
        };
        let (scope, response) = exchange_outcome(ctx, opened)?;
        let tokens =
            ctx.data::<Arc<dyn RespondentTokens>>().map_err(|_| coded("internal error", "INTERNAL_SERVER_ERROR"))?;
        let (token, expires_in) = tokens.issue(&scope).map_err(|e| {
            tracing::error!(error = %e, "could not sign a respondent token");
            coded("internal error", "INTERNAL_SERVER_ERROR")
        })?;
        let status =
            if response.status == "submitted" { ResponseStatus::Submitted } else { ResponseStatus::InProgress };
        Ok(RespondentStart { token, expires_in, status })
    }

    /// Saves answers so far (respondent token). Any subset; `null` clears an answer.
    async fn save_response(&self, ctx: &Context<'_>, input: AnswersInput) -> ApiResult<RespondentResponse> {
        let session = session(ctx)?;
        session.principal().as_respondent().api()?;
        let update = answer_update(input)?;
        Ok(RespondentResponse(store::save_response(session, update, Utc::now()).await.api()?))
    }

    /// Submits the response, exactly once (respondent token). A retry with the same
    /// idempotency key and content returns the stored submission.
    async fn submit_response(
        &self,
        ctx: &Context<'_>,
        input: AnswersInput,
        idempotency_key: String,
    ) -> ApiResult<RespondentResponse> {
        let session = session(ctx)?;
        session.principal().as_respondent().api()?;
        let key = orb_domain::collection::idempotency_key("idempotencyKey", &idempotency_key).api()?;
        let update = answer_update(input)?;
        let submitted = store::submit_response(session, update, &key, Utc::now()).await.api()?;
        if let Some(tally) = tally(ctx) {
            tally.responses_submitted(1);
        }
        Ok(RespondentResponse(submitted))
    }
}
