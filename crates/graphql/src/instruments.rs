//! Instruments: the state's readiness assessment and the counties' adaptations, version by
//! version. Texts take an optional `language` and fall back to the version's default language.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Json, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use orb_domain::Error as Refusal;
use orb_domain::ids::{CountyId, InstrumentId, InstrumentVersionId};
use orb_domain::instrument::diff::{ItemChange as DomainChange, diff};
use orb_domain::instrument::document::{self as doc, InstrumentDocument};
use orb_domain::instrument::edit::{self, HeaderPatch, ItemPatch};
use orb_domain::instrument::merge::ConflictKind as DomainConflictKind;
use orb_domain::instrument::validate::{Ownership, check_publishable};
use orb_store::entities::instruments as instrument_rows;
use orb_store::instruments::{self as store, OwnerFilter, VersionRecord, VersionStatus as StoreStatus};

use crate::context::{found, id, loader, session};
use crate::counties::County;
use crate::error::{ApiResult, IntoApi};
use crate::loaders::VersionsOf;

/// Where a version is in its life.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum VersionStatus {
    /// Being edited; only its authors read it.
    Draft,
    /// Fixed for good; administrations run it.
    Published,
    /// Still readable; no new administrations.
    Retired,
}

/// What kind of answer an item takes.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::instrument::document::ItemKind")]
pub enum ItemKind {
    /// A value on a named response scale.
    Likert,
    /// One of a list of choices.
    SingleChoice,
    /// Any number of a list of choices.
    MultiChoice,
    /// A number within bounds.
    Number,
    /// Free text up to a length.
    Text,
}

/// How an item changed between two versions.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::instrument::diff::ChangeKind")]
pub enum ItemChangeKind {
    /// New in the later version.
    Added,
    /// Gone in the later version.
    Dropped,
    /// Wording changed.
    Reworded,
    /// Answers on different values.
    Rescaled,
    /// Moved to another domain or place.
    Moved,
    /// Became required or optional.
    RequirementChanged,
    /// Became reverse-scored or stopped being so.
    ReverseScoringChanged,
}

/// Why an adopted item needs the lead's decision.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::instrument::merge::ConflictKind")]
pub enum ConflictKind {
    /// Both reworded it; the county's wording was kept.
    BothReworded,
    /// Both changed its scale; the county's was kept.
    BothRescaled,
    /// The state retired an item the county had changed; kept as a local item.
    ChangedButRetiredUpstream,
}

/// One item's change.
#[derive(SimpleObject)]
pub struct ItemChange {
    /// What happened.
    pub kind: ItemChangeKind,
    /// Its code in the later version.
    pub code: Option<String>,
    /// Its code in the earlier version.
    pub origin: Option<String>,
    /// The concept it measures.
    pub concept: Option<String>,
}

impl From<DomainChange> for ItemChange {
    fn from(c: DomainChange) -> Self {
        Self { kind: c.kind.into(), code: c.code, origin: c.origin, concept: c.concept }
    }
}

/// A text in one language.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "TranslationInput")]
pub struct Translation {
    /// Language tag (`en`, `es`, `vi`).
    pub language: String,
    /// The text; an empty text in an edit removes that language.
    pub text: String,
}

/// A problem that blocks publishing, with its path in the document.
#[derive(SimpleObject)]
pub struct PublishProblem {
    /// Path (`items[FIT1].prompt.es`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn text_in(text: &doc::Text, language: Option<&str>, default: &str) -> Option<String> {
    language.and_then(|l| text.get(l)).or_else(|| text.get(default)).cloned()
}

fn translations(text: &doc::Text) -> Vec<Translation> {
    text.iter().map(|(language, text)| Translation { language: language.clone(), text: text.clone() }).collect()
}

fn to_text(list: &[Translation]) -> doc::Text {
    list.iter().map(|t| (t.language.trim().to_owned(), t.text.clone())).collect()
}

/// An instrument: the state's, or one county's.
pub struct Instrument(pub instrument_rows::Model);

#[Object]
impl Instrument {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Stable key, unique per owner (`orb-readiness`).
    async fn key(&self) -> &str {
        &self.0.key
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether the state owns it.
    async fn is_state(&self) -> bool {
        self.0.county_id.is_none()
    }

    /// The owning county; none for the state's.
    async fn county(&self, ctx: &Context<'_>) -> ApiResult<Option<County>> {
        match self.0.county_id {
            Some(county) => Ok(loader(ctx)?.load_one(CountyId(county)).await?.map(County)),
            None => Ok(None),
        }
    }

    /// Versions the caller may read, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> ApiResult<Vec<InstrumentVersion>> {
        let versions = loader(ctx)?.load_one(VersionsOf(InstrumentId(self.0.id))).await?.unwrap_or_default();
        Ok(versions.into_iter().map(InstrumentVersion).collect())
    }

    /// The newest published version.
    async fn latest_published(&self, ctx: &Context<'_>) -> ApiResult<Option<InstrumentVersion>> {
        let versions = loader(ctx)?.load_one(VersionsOf(InstrumentId(self.0.id))).await?.unwrap_or_default();
        Ok(versions.into_iter().find(|v| v.status() == StoreStatus::Published).map(InstrumentVersion))
    }

    /// The open draft, if the caller authors this instrument.
    async fn draft(&self, ctx: &Context<'_>) -> ApiResult<Option<InstrumentVersion>> {
        let versions = loader(ctx)?.load_one(VersionsOf(InstrumentId(self.0.id))).await?.unwrap_or_default();
        Ok(versions.into_iter().find(|v| v.status() == StoreStatus::Draft).map(InstrumentVersion))
    }
}

/// One version of an instrument.
#[derive(Clone)]
pub struct InstrumentVersion(pub Arc<VersionRecord>);

impl InstrumentVersion {
    fn doc(&self) -> &InstrumentDocument {
        &self.0.document
    }

    fn fallback_language(&self) -> &str {
        &self.0.document.version.default_language
    }
}

#[Object]
impl InstrumentVersion {
    async fn id(&self) -> ID {
        ID(self.0.model.id.to_string())
    }

    async fn number(&self) -> i32 {
        self.0.model.number
    }

    async fn status(&self) -> VersionStatus {
        match self.0.status() {
            StoreStatus::Draft => VersionStatus::Draft,
            StoreStatus::Published => VersionStatus::Published,
            StoreStatus::Retired => VersionStatus::Retired,
        }
    }

    async fn instrument(&self, ctx: &Context<'_>) -> ApiResult<Instrument> {
        found(loader(ctx)?.load_one(InstrumentId(self.0.model.instrument_id)).await?, "instrument").map(Instrument)
    }

    /// Instrument name as this version has it.
    async fn name(&self) -> &str {
        &self.doc().instrument.name
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.model.created_at.into()
    }

    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.model.published_at.map(Into::into)
    }

    async fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.0.model.retired_at.map(Into::into)
    }

    /// Languages every respondent-facing text is given in.
    async fn languages(&self) -> &[String] {
        &self.doc().version.languages
    }

    async fn default_language(&self) -> &str {
        self.fallback_language()
    }

    async fn title(&self, language: Option<String>) -> Option<String> {
        text_in(&self.doc().version.title, language.as_deref(), self.fallback_language())
    }

    async fn instructions(&self, language: Option<String>) -> Option<String> {
        text_in(&self.doc().version.instructions, language.as_deref(), self.fallback_language())
    }

    /// The version this one was adapted from or started from, if the caller may read it.
    async fn derived_from(&self, ctx: &Context<'_>) -> ApiResult<Option<InstrumentVersion>> {
        match self.0.model.derived_from_id {
            Some(parent) => Ok(loader(ctx)?.load_one(InstrumentVersionId(parent)).await?.map(InstrumentVersion)),
            None => Ok(None),
        }
    }

    async fn domains(&self) -> Vec<InstrumentDomain> {
        (0..self.doc().domains.len()).map(|i| InstrumentDomain { version: self.0.clone(), index: i }).collect()
    }

    /// Items in order, optionally of one domain.
    async fn items(&self, domain: Option<String>) -> Vec<InstrumentItem> {
        items_of(&self.0, domain.as_deref())
    }

    async fn scales(&self) -> Vec<ResponseScale> {
        (0..self.doc().scales.len()).map(|i| ResponseScale { version: self.0.clone(), index: i }).collect()
    }

    /// The whole version as one `orb.instrument/v1` document (the export format).
    async fn document(&self) -> Json<&InstrumentDocument> {
        Json(self.doc())
    }

    /// Item changes since the version this one derives from.
    async fn changes_from_parent(&self, ctx: &Context<'_>) -> ApiResult<Vec<ItemChange>> {
        let Some(parent) = self.0.model.derived_from_id else { return Ok(Vec::new()) };
        let parent = loader(ctx)?.load_one(InstrumentVersionId(parent)).await?;
        Ok(parent.map(|p| diff(&p.document, self.doc()).into_iter().map(Into::into).collect()).unwrap_or_default())
    }

    /// What the instrument this one was adapted from has changed in its newer published versions.
    async fn upstream_changes(&self, ctx: &Context<'_>) -> ApiResult<Option<UpstreamChanges>> {
        let session = session(ctx)?;
        let newer = store::newer_upstream(session, &self.0).await.api()?;
        Ok(newer.map(|(base, latest)| UpstreamChanges {
            changes: diff(&base.document, &latest.document).into_iter().map(Into::into).collect(),
            version: InstrumentVersion(Arc::new(latest)),
        }))
    }

    /// What would stop this version from being published (empty when it can be).
    async fn publish_problems(&self) -> Vec<PublishProblem> {
        let ownership = if self.0.owner().is_some() { Ownership::County } else { Ownership::State };
        match check_publishable(self.doc(), ownership) {
            Ok(()) => Vec::new(),
            Err(Refusal::Invalid(problems)) => {
                problems.into_iter().map(|p| PublishProblem { field: p.field, message: p.message }).collect()
            }
            Err(other) => vec![PublishProblem { field: String::new(), message: other.to_string() }],
        }
    }
}

fn items_of(version: &Arc<VersionRecord>, domain: Option<&str>) -> Vec<InstrumentItem> {
    version
        .document
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| domain.is_none_or(|d| item.domain == d))
        .map(|(index, _)| InstrumentItem { version: version.clone(), index })
        .collect()
}

/// A newer published upstream version and what it changed.
#[derive(SimpleObject)]
pub struct UpstreamChanges {
    /// The newest published version upstream.
    pub version: InstrumentVersion,
    /// Its changes since the version this one derives from.
    pub changes: Vec<ItemChange>,
}

/// A domain (section) of a version.
pub struct InstrumentDomain {
    version: Arc<VersionRecord>,
    index: usize,
}

impl InstrumentDomain {
    fn domain(&self) -> &doc::Domain {
        &self.version.document.domains[self.index]
    }
}

#[Object]
impl InstrumentDomain {
    async fn code(&self) -> &str {
        &self.domain().code
    }

    async fn title(&self, language: Option<String>) -> Option<String> {
        text_in(&self.domain().title, language.as_deref(), &self.version.document.version.default_language)
    }

    async fn description(&self, language: Option<String>) -> Option<String> {
        text_in(&self.domain().description, language.as_deref(), &self.version.document.version.default_language)
    }

    /// Title in every language given.
    async fn title_translations(&self) -> Vec<Translation> {
        translations(&self.domain().title)
    }

    async fn items(&self) -> Vec<InstrumentItem> {
        items_of(&self.version, Some(&self.domain().code))
    }
}

/// One question of a version.
pub struct InstrumentItem {
    version: Arc<VersionRecord>,
    index: usize,
}

impl InstrumentItem {
    fn item(&self) -> &doc::Item {
        &self.version.document.items[self.index]
    }
}

#[Object]
impl InstrumentItem {
    async fn code(&self) -> &str {
        &self.item().code
    }

    /// The domain's code.
    async fn domain(&self) -> &str {
        &self.item().domain
    }

    async fn kind(&self) -> ItemKind {
        self.item().kind.into()
    }

    async fn prompt(&self, language: Option<String>) -> Option<String> {
        text_in(&self.item().prompt, language.as_deref(), &self.version.document.version.default_language)
    }

    /// The prompt in every language given.
    async fn prompt_translations(&self) -> Vec<Translation> {
        translations(&self.item().prompt)
    }

    async fn required(&self) -> bool {
        self.item().required
    }

    async fn reverse_scored(&self) -> bool {
        self.item().reverse_scored
    }

    /// The state concept it measures; none for a local item.
    async fn concept(&self) -> Option<&str> {
        self.item().concept.as_deref()
    }

    /// Its code in the version this one derives from.
    async fn origin(&self) -> Option<&str> {
        self.item().origin.as_deref()
    }

    /// Likert: its scale.
    async fn scale(&self) -> Option<ResponseScale> {
        let code = self.item().scale.as_deref()?;
        let index = self.version.document.scales.iter().position(|s| s.code == code)?;
        Some(ResponseScale { version: self.version.clone(), index })
    }

    /// Choice items: the choices.
    async fn options(&self, language: Option<String>) -> Vec<ChoiceOption> {
        let default = &self.version.document.version.default_language;
        self.item()
            .options
            .iter()
            .map(|c| ChoiceOption {
                value: c.value.clone(),
                label: text_in(&c.label, language.as_deref(), default),
                label_translations: translations(&c.label),
            })
            .collect()
    }

    async fn min(&self) -> Option<f64> {
        self.item().min
    }

    async fn max(&self) -> Option<f64> {
        self.item().max
    }

    async fn max_length(&self) -> Option<u32> {
        self.item().max_length
    }
}

/// One choice of a choice item.
#[derive(SimpleObject)]
pub struct ChoiceOption {
    /// Stored value.
    pub value: String,
    /// Label in the language asked for.
    pub label: Option<String>,
    /// Label in every language given.
    pub label_translations: Vec<Translation>,
}

/// A response scale.
pub struct ResponseScale {
    version: Arc<VersionRecord>,
    index: usize,
}

impl ResponseScale {
    fn scale(&self) -> &doc::ResponseScale {
        &self.version.document.scales[self.index]
    }
}

#[Object]
impl ResponseScale {
    async fn code(&self) -> &str {
        &self.scale().code
    }

    /// Whether the middle option is neutral.
    async fn neutral_midpoint(&self) -> bool {
        self.scale().neutral_midpoint
    }

    async fn options(&self, language: Option<String>) -> Vec<ScalePoint> {
        let default = &self.version.document.version.default_language;
        self.scale()
            .options
            .iter()
            .map(|o| ScalePoint {
                value: o.value,
                label: text_in(&o.label, language.as_deref(), default),
                label_translations: translations(&o.label),
            })
            .collect()
    }
}

/// One point of a scale.
#[derive(SimpleObject)]
pub struct ScalePoint {
    /// Numeric value used in scoring.
    pub value: i32,
    /// Label in the language asked for.
    pub label: Option<String>,
    /// Label in every language given.
    pub label_translations: Vec<Translation>,
}

/// Who owns the instruments to list.
#[derive(InputObject, Default)]
pub struct InstrumentOwnerInput {
    /// Only the state's.
    pub state: Option<bool>,
    /// Only this county's.
    pub county_slug: Option<String>,
}

/// Instrument queries.
#[derive(Default)]
pub struct InstrumentQuery;

#[Object]
impl InstrumentQuery {
    /// Instruments the caller may see, by name.
    async fn instruments(&self, ctx: &Context<'_>, owner: Option<InstrumentOwnerInput>) -> ApiResult<Vec<Instrument>> {
        let session = session(ctx)?;
        let owner = owner.unwrap_or_default();
        let filter = match (owner.state, owner.county_slug) {
            (_, Some(slug)) => {
                let county = found(orb_store::counties::by_slug(session, slug.trim()).await.api()?, "county")?;
                OwnerFilter::County(CountyId(county.id))
            }
            (Some(true), None) => OwnerFilter::State,
            _ => OwnerFilter::Any,
        };
        Ok(store::list(session, filter).await.api()?.into_iter().map(Instrument).collect())
    }

    /// One instrument.
    async fn instrument(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Instrument> {
        session(ctx)?.principal().as_signed_in().api()?;
        let instrument_id: InstrumentId = crate::context::id("id", &id)?;
        found(loader(ctx)?.load_one(instrument_id).await?, "instrument").map(Instrument)
    }

    /// One version. Drafts only for their authors; another county's draft is not found.
    async fn instrument_version(&self, ctx: &Context<'_>, id: ID) -> ApiResult<InstrumentVersion> {
        session(ctx)?.principal().as_signed_in().api()?;
        let version_id: InstrumentVersionId = crate::context::id("id", &id)?;
        found(loader(ctx)?.load_one(version_id).await?, "instrument version").map(InstrumentVersion)
    }

    /// Item changes from one version to another (any two the caller may read).
    async fn instrument_version_diff(&self, ctx: &Context<'_>, from_id: ID, to_id: ID) -> ApiResult<Vec<ItemChange>> {
        session(ctx)?.principal().as_signed_in().api()?;
        let (from, to) = (read_version(ctx, "fromId", &from_id).await?, read_version(ctx, "toId", &to_id).await?);
        Ok(diff(&from.document, &to.document).into_iter().map(Into::into).collect())
    }
}

async fn read_version(ctx: &Context<'_>, field: &str, raw: &ID) -> ApiResult<Arc<VersionRecord>> {
    let version_id: InstrumentVersionId = id(field, raw)?;
    found(loader(ctx)?.load_one(version_id).await?, "instrument version")
}

/// A new instrument.
#[derive(InputObject)]
pub struct CreateInstrumentInput {
    /// The owning county; leave out for a state instrument (faculty).
    pub county_id: Option<ID>,
    /// Stable key, unique per owner.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Languages offered (default `["en"]`).
    pub languages: Option<Vec<String>>,
    /// Default language (default the first language).
    pub default_language: Option<String>,
}

/// An adaptation of a published version into a county's own instrument.
#[derive(InputObject)]
pub struct AdaptInstrumentInput {
    /// The published version to adapt (the state's, or the county's own).
    pub version_id: ID,
    /// The county adapting it.
    pub county_id: ID,
    /// Key of the new instrument.
    pub key: String,
    /// Name of the new instrument.
    pub name: String,
}

/// Changes to a draft's header.
#[derive(InputObject)]
pub struct DraftHeaderInput {
    /// New instrument name.
    pub name: Option<String>,
    /// Title translations to set.
    pub title: Option<Vec<Translation>>,
    /// Instruction translations to set.
    pub instructions: Option<Vec<Translation>>,
    /// Languages offered.
    pub languages: Option<Vec<String>>,
    /// Default language.
    pub default_language: Option<String>,
}

/// A domain to add or change.
#[derive(InputObject)]
pub struct DomainInput {
    /// Code; an existing domain with it is changed.
    pub code: String,
    /// Title translations to set.
    pub title: Vec<Translation>,
    /// Description translations to set.
    pub description: Option<Vec<Translation>>,
    /// Place among the domains (0 first; default last).
    pub position: Option<u32>,
}

/// A scale point.
#[derive(InputObject)]
pub struct ScalePointInput {
    /// Numeric value.
    pub value: i32,
    /// Label translations.
    pub label: Vec<Translation>,
}

/// A scale to add or replace.
#[derive(InputObject)]
pub struct ScaleInput {
    /// Code; an existing scale with it is replaced.
    pub code: String,
    /// Whether the middle option is neutral.
    pub neutral_midpoint: bool,
    /// Points from lowest to highest.
    pub options: Vec<ScalePointInput>,
}

/// A choice of a choice item.
#[derive(InputObject)]
pub struct ChoiceInput {
    /// Stored value.
    pub value: String,
    /// Label translations.
    pub label: Vec<Translation>,
}

/// A new item.
#[derive(InputObject)]
pub struct ItemInput {
    /// Code, unique in the version.
    pub code: String,
    /// Its domain's code.
    pub domain: String,
    /// Kind of answer.
    pub kind: ItemKind,
    /// Prompt translations.
    pub prompt: Vec<Translation>,
    /// Needed to submit (default false).
    pub required: Option<bool>,
    /// Reverse-scored (Likert; default false).
    pub reverse_scored: Option<bool>,
    /// Concept key (state instruments only; a county's new item is local).
    pub concept: Option<String>,
    /// Likert: scale code.
    pub scale: Option<String>,
    /// Choice items: choices.
    pub options: Option<Vec<ChoiceInput>>,
    /// Number: lowest allowed.
    pub min: Option<f64>,
    /// Number: highest allowed.
    pub max: Option<f64>,
    /// Text: most characters.
    pub max_length: Option<u32>,
}

/// Changes to an item; fields left out stay; `null` clears an optional field.
#[derive(InputObject)]
pub struct ItemPatchInput {
    /// New code.
    pub code: Option<String>,
    /// Prompt translations to set (an empty text removes a language).
    pub prompt: Option<Vec<Translation>>,
    /// Required or optional.
    pub required: Option<bool>,
    /// Reverse-scored or not.
    pub reverse_scored: Option<bool>,
    /// New kind.
    pub kind: Option<ItemKind>,
    /// New scale.
    pub scale: MaybeUndefined<String>,
    /// New choices.
    pub options: Option<Vec<ChoiceInput>>,
    /// New lower bound.
    pub min: MaybeUndefined<f64>,
    /// New upper bound.
    pub max: MaybeUndefined<f64>,
    /// New length cap.
    pub max_length: MaybeUndefined<u32>,
    /// New concept (state instruments only).
    pub concept: MaybeUndefined<String>,
}

fn maybe<T: Clone>(value: &MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.clone())),
    }
}

fn choices(list: &[ChoiceInput]) -> Vec<doc::Choice> {
    list.iter().map(|c| doc::Choice { value: c.value.clone(), label: to_text(&c.label) }).collect()
}

/// The result of taking the state's newer version into a county's instrument.
#[derive(SimpleObject)]
pub struct AdoptUpstreamResult {
    /// The new draft.
    pub draft: InstrumentVersion,
    /// Upstream changes taken.
    pub applied: Vec<ItemChange>,
    /// Items needing the lead's decision.
    pub conflicts: Vec<MergeConflict>,
}

/// An item needing the lead's decision after adopting upstream changes.
#[derive(SimpleObject)]
pub struct MergeConflict {
    /// What clashed.
    pub kind: ConflictKind,
    /// Its code in the new draft.
    pub code: String,
    /// Its code upstream.
    pub upstream_code: Option<String>,
}

fn parse_document(raw: serde_json::Value, field: &str) -> ApiResult<InstrumentDocument> {
    serde_json::from_value(raw)
        .map_err(|e| Refusal::invalid(field, format!("is not an orb.instrument/v1 document: {e}")))
        .api()
}

/// Resolves a version for authoring: readable (else NOT_FOUND) and authored by the caller (else FORBIDDEN).
async fn authored(
    ctx: &Context<'_>,
    field: &str,
    raw: &ID,
) -> ApiResult<(Arc<VersionRecord>, orb_domain::access::InstrumentAuthor)> {
    let session = session(ctx)?;
    session.principal().as_signed_in().api()?;
    let version = read_version(ctx, field, raw).await?;
    let author = session.principal().as_instrument_author(version.owner()).api()?;
    Ok((version, author))
}

fn owner_of(input: &Option<ID>, field: &str) -> ApiResult<Option<CountyId>> {
    input.as_ref().map(|raw| id(field, raw)).transpose()
}

/// Instrument mutations: faculty author the state's instruments, a county's lead their county's.
#[derive(Default)]
pub struct InstrumentMutation;

impl InstrumentMutation {
    async fn edit(
        ctx: &Context<'_>,
        version_id: &ID,
        action: &'static str,
        apply: impl FnOnce(&mut InstrumentDocument, Ownership) -> Result<(), Refusal>,
    ) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        let (version, author) = authored(ctx, "versionId", version_id).await?;
        let change = session.change().await.api()?;
        let saved = store::edit_draft(&change, &author, version.id(), action, apply).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(saved)))
    }
}

#[Object]
impl InstrumentMutation {
    /// Creates an instrument with an empty first draft.
    async fn create_instrument(&self, ctx: &Context<'_>, input: CreateInstrumentInput) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        let owner = owner_of(&input.county_id, "input.countyId")?;
        let author = session.principal().as_instrument_author(owner).api()?;
        let languages = input.languages.unwrap_or_else(|| vec!["en".into()]);
        let default_language =
            input.default_language.or_else(|| languages.first().cloned()).unwrap_or_else(|| "en".into());
        let new =
            store::NewInstrument { key: input.key.trim().to_owned(), name: input.name, languages, default_language };
        let change = session.change().await.api()?;
        let record = store::create(&change, &author, new).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(record)))
    }

    /// Starts the next draft of an instrument from one of its versions (default: the newest published).
    async fn create_instrument_draft(
        &self,
        ctx: &Context<'_>,
        instrument_id: ID,
        from_version_id: Option<ID>,
    ) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let instrument_key: InstrumentId = id("instrumentId", &instrument_id)?;
        let instrument = found(loader(ctx)?.load_one(instrument_key).await?, "instrument")?;
        let author = session.principal().as_instrument_author(instrument.county_id.map(CountyId)).api()?;
        let from = match &from_version_id {
            Some(raw) => read_version(ctx, "fromVersionId", raw).await?,
            None => {
                let versions = loader(ctx)?.load_one(VersionsOf(instrument_key)).await?.unwrap_or_default();
                versions
                    .into_iter()
                    .find(|v| v.status() != StoreStatus::Draft)
                    .ok_or(Refusal::invalid("fromVersionId", "the instrument has no published version to start from"))
                    .api()?
            }
        };
        let change = session.change().await.api()?;
        let record = store::create_draft(&change, &author, instrument_key, &from).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(record)))
    }

    /// Adapts a published version into a county's own instrument; every item keeps its concept
    /// and remembers the item it came from. The county's lead only.
    async fn adapt_instrument_version(
        &self,
        ctx: &Context<'_>,
        input: AdaptInstrumentInput,
    ) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        let county: CountyId = id("input.countyId", &input.county_id)?;
        let author = session.principal().as_instrument_author(Some(county)).api()?;
        let source = read_version(ctx, "input.versionId", &input.version_id).await?;
        let change = session.change().await.api()?;
        let record = store::adapt(&change, &author, &source, input.key.trim(), &input.name).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(record)))
    }

    /// Imports an `orb.instrument/v1` document as a draft (a new version of the owner's
    /// instrument with the same key, or a new instrument).
    async fn import_instrument_version(
        &self,
        ctx: &Context<'_>,
        county_id: Option<ID>,
        document: Json<serde_json::Value>,
    ) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        let owner = owner_of(&county_id, "countyId")?;
        let author = session.principal().as_instrument_author(owner).api()?;
        let document = parse_document(document.0, "document")?;
        let change = session.change().await.api()?;
        let record = store::import(&change, session, &author, document).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(record)))
    }

    /// Replaces a draft's whole document.
    async fn replace_instrument_draft(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        document: Json<serde_json::Value>,
    ) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        let (version, author) = authored(ctx, "versionId", &version_id).await?;
        let document = parse_document(document.0, "document")?;
        let change = session.change().await.api()?;
        let record = store::replace_draft(&change, &author, version.id(), document).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(record)))
    }

    /// Changes a draft's name, title, instructions or languages.
    async fn update_instrument_draft(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        input: DraftHeaderInput,
    ) -> ApiResult<InstrumentVersion> {
        let patch = HeaderPatch {
            name: input.name,
            title: input.title.as_deref().map(to_text),
            instructions: input.instructions.as_deref().map(to_text),
            languages: input.languages,
            default_language: input.default_language,
        };
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, _| edit::patch_header(doc, &patch)).await
    }

    /// Adds a domain to a draft, or changes the one with the same code.
    async fn put_instrument_domain(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        input: DomainInput,
    ) -> ApiResult<InstrumentVersion> {
        let domain = doc::Domain {
            code: input.code.trim().to_owned(),
            title: to_text(&input.title),
            description: input.description.as_deref().map(to_text).unwrap_or_default(),
        };
        let position = input.position.map(|p| p as usize);
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, _| edit::put_domain(doc, domain, position))
            .await
    }

    /// Removes a domain with no items from a draft.
    async fn remove_instrument_domain(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        code: String,
    ) -> ApiResult<InstrumentVersion> {
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, _| edit::remove_domain(doc, &code)).await
    }

    /// Adds a response scale to a draft, or replaces the one with the same code.
    async fn put_response_scale(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        input: ScaleInput,
    ) -> ApiResult<InstrumentVersion> {
        let scale = doc::ResponseScale {
            code: input.code.trim().to_owned(),
            neutral_midpoint: input.neutral_midpoint,
            options: input
                .options
                .iter()
                .map(|o| doc::ScaleOption { value: o.value, label: to_text(&o.label) })
                .collect(),
        };
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, _| edit::put_scale(doc, scale)).await
    }

    /// Removes a scale no item uses from a draft.
    async fn remove_response_scale(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        code: String,
    ) -> ApiResult<InstrumentVersion> {
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, _| edit::remove_scale(doc, &code)).await
    }

    /// Adds an item to a draft at `position` among all items (default last). A county's new
    /// item is local: it has no concept.
    async fn add_instrument_item(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        input: ItemInput,
        position: Option<u32>,
    ) -> ApiResult<InstrumentVersion> {
        let item = doc::Item {
            code: input.code.trim().to_owned(),
            domain: input.domain.trim().to_owned(),
            kind: input.kind.into(),
            prompt: to_text(&input.prompt),
            required: input.required.unwrap_or(false),
            reverse_scored: input.reverse_scored.unwrap_or(false),
            concept: input.concept,
            origin: None,
            scale: input.scale,
            options: input.options.as_deref().map(choices).unwrap_or_default(),
            min: input.min,
            max: input.max,
            max_length: input.max_length,
        };
        let position = position.map(|p| p as usize);
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, ownership| {
            edit::add_item(doc, item, position, ownership)
        })
        .await
    }

    /// Changes an item of a draft. Its concept stays: rewording, re-scaling or making it
    /// optional do not change what it measures.
    async fn update_instrument_item(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        code: String,
        input: ItemPatchInput,
    ) -> ApiResult<InstrumentVersion> {
        let patch = ItemPatch {
            code: input.code.map(|c| c.trim().to_owned()),
            prompt: input.prompt.as_deref().map(to_text),
            required: input.required,
            reverse_scored: input.reverse_scored,
            kind: input.kind.map(Into::into),
            scale: maybe(&input.scale),
            options: input.options.as_deref().map(choices),
            min: maybe(&input.min),
            max: maybe(&input.max),
            max_length: maybe(&input.max_length),
            concept: maybe(&input.concept),
        };
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, ownership| {
            edit::update_item(doc, &code, &patch, ownership)
        })
        .await
    }

    /// Removes an item from a draft.
    async fn remove_instrument_item(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        code: String,
    ) -> ApiResult<InstrumentVersion> {
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, _| edit::remove_item(doc, &code)).await
    }

    /// Moves an item of a draft to another domain and/or place among that domain's items.
    async fn move_instrument_item(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        code: String,
        domain: Option<String>,
        position: Option<u32>,
    ) -> ApiResult<InstrumentVersion> {
        let position = position.map(|p| p as usize);
        Self::edit(ctx, &version_id, "instrument_version.edit", move |doc, _| {
            edit::move_item(doc, &code, domain.as_deref(), position)
        })
        .await
    }

    /// Publishes a draft if every publishing rule holds (all problems are reported at once,
    /// each with its path); a published version never changes.
    async fn publish_instrument_version(&self, ctx: &Context<'_>, version_id: ID) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        let (version, author) = authored(ctx, "versionId", &version_id).await?;
        let change = session.change().await.api()?;
        let record = store::publish(&change, &author, version.id()).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(record)))
    }

    /// Retires a published version: readable still, offered to no new administration.
    async fn retire_instrument_version(&self, ctx: &Context<'_>, version_id: ID) -> ApiResult<InstrumentVersion> {
        let session = session(ctx)?;
        let (version, author) = authored(ctx, "versionId", &version_id).await?;
        let change = session.change().await.api()?;
        let record = store::retire(&change, &author, version.id()).await.api()?;
        change.commit().await.api()?;
        Ok(InstrumentVersion(Arc::new(record)))
    }

    /// Deletes a draft.
    async fn delete_instrument_draft(&self, ctx: &Context<'_>, version_id: ID) -> ApiResult<ID> {
        let session = session(ctx)?;
        let (version, author) = authored(ctx, "versionId", &version_id).await?;
        let change = session.change().await.api()?;
        store::delete_draft(&change, &author, version.id()).await.api()?;
        change.commit().await.api()?;
        Ok(version_id)
    }

    /// Starts a new draft of a county's instrument from `versionId` (its latest adaptation)
    /// that takes the newer upstream version (default: the newest published) while keeping the
    /// county's own changes; clashes are listed for the lead.
    async fn adopt_upstream_version(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        upstream_version_id: Option<ID>,
    ) -> ApiResult<AdoptUpstreamResult> {
        let session = session(ctx)?;
        let (ours, author) = authored(ctx, "versionId", &version_id).await?;
        let base_id = ours
            .model
            .derived_from_id
            .ok_or(Refusal::invalid("versionId", "this version was not adapted from another"))
            .api()?;
        let base = read_version(ctx, "versionId", &ID(base_id.to_string())).await?;
        let upstream = match &upstream_version_id {
            Some(raw) => read_version(ctx, "upstreamVersionId", raw).await?,
            None => Arc::new(
                store::newer_upstream(session, &ours)
                    .await
                    .api()?
                    .map(|(_, latest)| latest)
                    .ok_or(Refusal::conflict("there is no newer published upstream version"))
                    .api()?,
            ),
        };
        if upstream.model.instrument_id != base.model.instrument_id || upstream.model.number <= base.model.number {
            return Err(Refusal::invalid(
                "upstreamVersionId",
                "must be a newer version of the instrument this one was adapted from",
            ))
            .api();
        }
        let change = session.change().await.api()?;
        let (record, merge) = store::adopt_upstream(&change, &author, &ours, &base, &upstream).await.api()?;
        change.commit().await.api()?;
        Ok(AdoptUpstreamResult {
            draft: InstrumentVersion(Arc::new(record)),
            applied: merge.applied.into_iter().map(Into::into).collect(),
            conflicts: merge
                .conflicts
                .into_iter()
                .map(|c| MergeConflict {
                    kind: match c.kind {
                        DomainConflictKind::BothReworded => ConflictKind::BothReworded,
                        DomainConflictKind::BothRescaled => ConflictKind::BothRescaled,
                        DomainConflictKind::ChangedButRetiredUpstream => ConflictKind::ChangedButRetiredUpstream,
                    },
                    code: c.code,
                    upstream_code: c.upstream_code,
                })
                .collect(),
        })
    }
}
