//! Instruments and their versions. A version's content is one `orb.instrument/v1` document;
//! every change to a draft loads it under a row lock, applies a pure edit from the domain,
//! checks it and writes it back, so concurrent edits never lose each other's work. A published
//! version is refused any change here and, behind that, by a database trigger.

use chrono::Utc;
use orb_domain::Error as Refusal;
use orb_domain::access::InstrumentAuthor;
use orb_domain::ids::{CountyId, InstrumentId, InstrumentVersionId};
use orb_domain::instrument::InstrumentDocument;
use orb_domain::instrument::document::DerivedFrom;
use orb_domain::instrument::merge::{Merge, merge_upstream};
use orb_domain::instrument::validate::{Ownership, check_publishable, check_well_formed, is_instrument_key};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::entities::{counties, instrument_versions, instruments};
use crate::error::{StoreError, StoreResult, conflict_on, sqlstate};
use crate::session::{Change, Session};

/// Where a version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionStatus {
    /// Being edited; only its authors read it.
    Draft,
    /// Fixed for good; responses point at it.
    Published,
    /// No longer offered for new administrations; still readable.
    Retired,
}

impl VersionStatus {
    fn parse(stored: &str) -> Self {
        match stored {
            "published" => Self::Published,
            "retired" => Self::Retired,
            _ => Self::Draft,
        }
    }
}

/// A version with its document parsed.
#[derive(Debug, Clone)]
pub struct VersionRecord {
    /// The row.
    pub model: instrument_versions::Model,
    /// Its content.
    pub document: InstrumentDocument,
}

impl VersionRecord {
    /// The version's id.
    pub fn id(&self) -> InstrumentVersionId {
        InstrumentVersionId(self.model.id)
    }

    /// Where it is in its life.
    pub fn status(&self) -> VersionStatus {
        VersionStatus::parse(&self.model.status)
    }

    /// The county owning it; `None` for the state.
    pub fn owner(&self) -> Option<CountyId> {
        self.model.county_id.map(CountyId)
    }
}

fn ownership(owner: Option<CountyId>) -> Ownership {
    if owner.is_some() { Ownership::County } else { Ownership::State }
}

fn parse(model: instrument_versions::Model) -> StoreResult<VersionRecord> {
    match serde_json::from_value::<InstrumentDocument>(model.document.clone()) {
        Ok(document) => Ok(VersionRecord { model, document }),
        Err(e) => Err(StoreError::Database(sea_orm::DbErr::Custom(format!(
            "instrument version {} holds an unreadable document: {e}",
            model.id
        )))),
    }
}

fn to_json(document: &InstrumentDocument) -> StoreResult<serde_json::Value> {
    serde_json::to_value(document).map_err(|e| StoreError::Database(sea_orm::DbErr::Custom(e.to_string())))
}

/// Which instruments to list.
#[derive(Debug, Clone, Copy, Default)]
pub enum OwnerFilter {
    /// Every instrument the caller may see.
    #[default]
    Any,
    /// The state's.
    State,
    /// One county's.
    County(CountyId),
}

/// Instruments the caller may see, by name.
pub async fn list(session: &Session, filter: OwnerFilter) -> StoreResult<Vec<instruments::Model>> {
    session.principal().as_signed_in()?;
    let mut query = instruments::Entity::find().order_by_asc(instruments::Column::Name);
    query = match filter {
        OwnerFilter::Any => query,
        OwnerFilter::State => query.filter(instruments::Column::CountyId.is_null()),
        OwnerFilter::County(county) => query.filter(instruments::Column::CountyId.eq(county.0)),
    };
    Ok(query.all(session.db()).await?)
}

/// Instruments by id, for batched loading.
pub async fn by_ids(session: &Session, ids: &[InstrumentId]) -> StoreResult<Vec<instruments::Model>> {
    session.principal().as_signed_in()?;
    Ok(instruments::Entity::find()
        .filter(instruments::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(session.db())
        .await?)
}

/// Versions of instruments the caller may read, newest first, for batched loading.
pub async fn versions_of(session: &Session, ids: &[InstrumentId]) -> StoreResult<Vec<VersionRecord>> {
    let rows = instrument_versions::Entity::find()
        .filter(instrument_versions::Column::InstrumentId.is_in(ids.iter().map(|id| id.0)))
        .order_by_desc(instrument_versions::Column::Number)
        .all(session.db())
        .await?;
    readable(session, rows)
}

/// Versions by id that the caller may read.
pub async fn versions_by_ids(session: &Session, ids: &[InstrumentVersionId]) -> StoreResult<Vec<VersionRecord>> {
    let rows = instrument_versions::Entity::find()
        .filter(instrument_versions::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(session.db())
        .await?;
    readable(session, rows)
}

/// A version by id, as row-level security lets the connection see it, without the service's
/// reader check: for the store's own use (validating answers against the version a respondent's
/// administration runs).
pub(crate) async fn version_row(db: &impl ConnectionTrait, id: uuid::Uuid) -> StoreResult<VersionRecord> {
    let row =
        instrument_versions::Entity::find_by_id(id).one(db).await?.ok_or(Refusal::NotFound("instrument version"))?;
    parse(row)
}

/// Versions by id, as [`version_row`] reads one: for loading many administrations' versions at once.
pub(crate) async fn version_rows(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = uuid::Uuid>,
) -> StoreResult<Vec<VersionRecord>> {
    let rows = instrument_versions::Entity::find().filter(instrument_versions::Column::Id.is_in(ids)).all(db).await?;
    rows.into_iter().map(parse).collect()
}

/// One version, if the caller may read it.
pub async fn version(session: &Session, id: InstrumentVersionId) -> StoreResult<Option<VersionRecord>> {
    Ok(versions_by_ids(session, &[id]).await?.into_iter().next())
}

fn readable(session: &Session, rows: Vec<instrument_versions::Model>) -> StoreResult<Vec<VersionRecord>> {
    rows.into_iter()
        .filter(|row| {
            session.principal().may_read_instrument_version(row.county_id.map(CountyId), row.status == "draft")
        })
        .map(parse)
        .collect()
}

/// A new instrument with an empty first draft.
#[derive(Debug, Clone)]
pub struct NewInstrument {
    /// Stable key, unique per owner.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Languages offered.
    pub languages: Vec<String>,
    /// Default language.
    pub default_language: String,
}

/// Creates an instrument of the author's owner with an empty draft (version 1).
pub async fn create(change: &Change<'_>, author: &InstrumentAuthor, new: NewInstrument) -> StoreResult<VersionRecord> {
    let document = InstrumentDocument::empty(&new.key, new.name.trim(), new.languages, &new.default_language);
    check_well_formed(&document)?;
    let instrument = insert_instrument(change, author.owner(), &document).await?;
    let record = insert_version(change, &instrument, 1, None, document).await?;
    record_change(change, "instrument.create", &record, json!({ "key": instrument.key })).await?;
    Ok(record)
}

async fn insert_instrument(
    change: &Change<'_>,
    owner: Option<CountyId>,
    document: &InstrumentDocument,
) -> StoreResult<instruments::Model> {
    if !is_instrument_key(&document.instrument.key) {
        return Err(Refusal::invalid("input.key", "must be lower-case letters and digits joined by hyphens").into());
    }
    let model = instruments::ActiveModel {
        id: Set(InstrumentId::new().0),
        county_id: Set(owner.map(|c| c.0)),
        key: Set(document.instrument.key.clone()),
        name: Set(document.instrument.name.clone()),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(conflict_on("input.key", "this owner already has an instrument with this key"))?;
    Ok(model)
}

async fn insert_version(
    change: &Change<'_>,
    instrument: &instruments::Model,
    number: i32,
    derived_from: Option<InstrumentVersionId>,
    mut document: InstrumentDocument,
) -> StoreResult<VersionRecord> {
    document.instrument.key = instrument.key.clone();
    let model = instrument_versions::ActiveModel {
        id: Set(InstrumentVersionId::new().0),
        instrument_id: Set(instrument.id),
        county_id: Set(instrument.county_id),
        number: Set(number),
        status: Set("draft".into()),
        derived_from_id: Set(derived_from.map(|v| v.0)),
        document: Set(to_json(&document)?),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(|err| match sqlstate(&err).as_deref() {
        Some("23505") => {
            StoreError::Refused(Refusal::conflict("the instrument already has a draft; publish or delete it first"))
        }
        _ => StoreError::from(err),
    })?;
    Ok(VersionRecord { model, document })
}

/// How the source of an adaptation or a new version is named in its document.
async fn reference(change: &Change<'_>, record: &VersionRecord) -> StoreResult<DerivedFrom> {
    let owner = match record.owner() {
        None => "state".to_owned(),
        Some(county) => counties::Entity::find_by_id(county.0)
            .one(change.db())
            .await?
            .map(|c| c.slug)
            .ok_or(Refusal::NotFound("county"))?,
    };
    Ok(DerivedFrom { owner, instrument: record.document.instrument.key.clone(), version: record.model.number })
}

async fn instrument_of(db: &impl ConnectionTrait, id: uuid::Uuid) -> StoreResult<instruments::Model> {
    instruments::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Refusal::NotFound("instrument").into())
}

async fn next_number(change: &Change<'_>, instrument: uuid::Uuid) -> StoreResult<i32> {
    let latest = instrument_versions::Entity::find()
        .filter(instrument_versions::Column::InstrumentId.eq(instrument))
        .order_by_desc(instrument_versions::Column::Number)
        .one(change.db())
        .await?;
    Ok(latest.map_or(1, |v| v.number + 1))
}

/// Starts the next draft of an instrument from one of its versions (by default its latest
/// published one); every item remembers the code it was copied from.
pub async fn create_draft(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    instrument_id: InstrumentId,
    from: &VersionRecord,
) -> StoreResult<VersionRecord> {
    let instrument = instrument_of(change.db(), instrument_id.0).await?;
    require_owner(author, instrument.county_id.map(CountyId))?;
    if from.model.instrument_id != instrument.id {
        return Err(Refusal::invalid("fromVersionId", "is a version of another instrument").into());
    }
    let document = from.document.derive(reference(change, from).await?);
    let number = next_number(change, instrument.id).await?;
    let record = insert_version(change, &instrument, number, Some(from.id()), document).await?;
    record_change(change, "instrument_version.create", &record, json!({ "from": from.model.number })).await?;
    Ok(record)
}

/// Adapts a published version into a new instrument of the author's (a county's): a draft whose
/// items keep their concepts and remember where they came from.
pub async fn adapt(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    source: &VersionRecord,
    key: &str,
    name: &str,
) -> StoreResult<VersionRecord> {
    if source.status() == VersionStatus::Draft {
        return Err(Refusal::invalid("versionId", "only a published version can be adapted").into());
    }
    let mut document = source.document.derive(reference(change, source).await?);
    document.instrument.key = key.to_owned();
    document.instrument.name = name.trim().to_owned();
    check_well_formed(&document)?;
    let instrument = insert_instrument(change, author.owner(), &document).await?;
    let record = insert_version(change, &instrument, 1, Some(source.id()), document).await?;
    record_change(change, "instrument.adapt", &record, json!({ "from": source.model.id })).await?;
    Ok(record)
}

/// Loads a draft of the author's for changing, locked until the change ends.
async fn lock_draft(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    id: InstrumentVersionId,
) -> StoreResult<VersionRecord> {
    let row = instrument_versions::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("instrument version"))?;
    require_owner(author, row.county_id.map(CountyId))?;
    if row.status != "draft" {
        return Err(Refusal::conflict(format!(
            "version {} is {} and can no longer change; start a new draft",
            row.number, row.status
        ))
        .into());
    }
    parse(row)
}

fn require_owner(author: &InstrumentAuthor, owner: Option<CountyId>) -> StoreResult<()> {
    if author.owner() == owner { Ok(()) } else { Err(Refusal::NotFound("instrument version").into()) }
}

/// Applies `edit` to a draft and saves it if the result is well-formed.
pub async fn edit_draft(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    id: InstrumentVersionId,
    action: &'static str,
    edit: impl FnOnce(&mut InstrumentDocument, Ownership) -> Result<(), Refusal>,
) -> StoreResult<VersionRecord> {
    let mut record = lock_draft(change, author, id).await?;
    let key = record.document.instrument.key.clone();
    edit(&mut record.document, ownership(author.owner()))?;
    record.document.instrument.key = key;
    check_well_formed(&record.document)?;
    save(change, record, action).await
}

/// Replaces a draft's whole document (an editor saving, or a reviewed file).
pub async fn replace_draft(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    id: InstrumentVersionId,
    mut document: InstrumentDocument,
) -> StoreResult<VersionRecord> {
    let record = lock_draft(change, author, id).await?;
    document.instrument.key = record.document.instrument.key.clone();
    document.version.derived_from = record.document.version.derived_from.clone();
    check_well_formed(&document)?;
    save(change, VersionRecord { model: record.model, document }, "instrument_version.replace").await
}

async fn save(change: &Change<'_>, record: VersionRecord, action: &'static str) -> StoreResult<VersionRecord> {
    let name = record.document.instrument.name.clone();
    let mut model: instrument_versions::ActiveModel = record.model.clone().into();
    model.document = Set(to_json(&record.document)?);
    let saved = model.update(change.db()).await?;
    instruments::Entity::update_many()
        .col_expr(instruments::Column::Name, sea_orm::sea_query::Expr::value(name))
        .filter(instruments::Column::Id.eq(saved.instrument_id))
        .exec(change.db())
        .await?;
    let record = VersionRecord { model: saved, document: record.document };
    record_change(change, action, &record, json!({})).await?;
    Ok(record)
}

/// Publishes a draft once every publishing rule holds; from then on it never changes.
pub async fn publish(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    id: InstrumentVersionId,
) -> StoreResult<VersionRecord> {
    let record = lock_draft(change, author, id).await?;
    check_publishable(&record.document, ownership(author.owner()))?;
    let mut model: instrument_versions::ActiveModel = record.model.clone().into();
    model.status = Set("published".into());
    model.published_at = Set(Some(Utc::now().into()));
    let saved = model.update(change.db()).await?;
    let record = VersionRecord { model: saved, document: record.document };
    record_change(change, "instrument_version.publish", &record, json!({})).await?;
    Ok(record)
}

/// Retires a published version: it stays readable, but new administrations cannot use it.
pub async fn retire(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    id: InstrumentVersionId,
) -> StoreResult<VersionRecord> {
    let row = instrument_versions::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("instrument version"))?;
    require_owner(author, row.county_id.map(CountyId))?;
    if row.status != "published" {
        return Err(
            Refusal::conflict(format!("only a published version can be retired; this one is {}", row.status)).into()
        );
    }
    let mut model: instrument_versions::ActiveModel = row.into();
    model.status = Set("retired".into());
    model.retired_at = Set(Some(Utc::now().into()));
    let record = parse(model.update(change.db()).await?)?;
    record_change(change, "instrument_version.retire", &record, json!({})).await?;
    Ok(record)
}

/// Deletes a draft.
pub async fn delete_draft(change: &Change<'_>, author: &InstrumentAuthor, id: InstrumentVersionId) -> StoreResult<()> {
    let record = lock_draft(change, author, id).await?;
    instrument_versions::Entity::delete_by_id(record.model.id).exec(change.db()).await?;
    record_change(change, "instrument_version.delete", &record, json!({})).await
}

/// Imports a document as a draft of the author's: a new version of their instrument with the
/// document's key, or a new instrument. Lineage named in the document is linked when that
/// version exists and is readable.
pub async fn import(
    change: &Change<'_>,
    session: &Session,
    author: &InstrumentAuthor,
    document: InstrumentDocument,
) -> StoreResult<VersionRecord> {
    check_well_formed(&document)?;
    let derived_from = match &document.version.derived_from {
        Some(source) => find_by_reference(session, source).await?.map(|r| r.id()),
        None => None,
    };
    let existing = instruments::Entity::find()
        .filter(match author.owner() {
            Some(county) => instruments::Column::CountyId.eq(county.0),
            None => instruments::Column::CountyId.is_null(),
        })
        .filter(instruments::Column::Key.eq(document.instrument.key.as_str()))
        .one(change.db())
        .await?;
    let (instrument, number) = match existing {
        Some(instrument) => {
            let number = next_number(change, instrument.id).await?;
            (instrument, number)
        }
        None => (insert_instrument(change, author.owner(), &document).await?, 1),
    };
    let record = insert_version(change, &instrument, number, derived_from, document).await?;
    record_change(change, "instrument_version.import", &record, json!({ "key": instrument.key })).await?;
    Ok(record)
}

/// The version a document's `derivedFrom` names, if it exists and the caller may read it.
pub async fn find_by_reference(session: &Session, reference: &DerivedFrom) -> StoreResult<Option<VersionRecord>> {
    let owner = if reference.owner == "state" {
        None
    } else {
        match crate::counties::by_slug(session, &reference.owner).await? {
            Some(county) => Some(county.id),
            None => return Ok(None),
        }
    };
    let instrument = instruments::Entity::find()
        .filter(match owner {
            Some(county) => instruments::Column::CountyId.eq(county),
            None => instruments::Column::CountyId.is_null(),
        })
        .filter(instruments::Column::Key.eq(reference.instrument.as_str()))
        .one(session.db())
        .await?;
    let Some(instrument) = instrument else { return Ok(None) };
    let row = instrument_versions::Entity::find()
        .filter(instrument_versions::Column::InstrumentId.eq(instrument.id))
        .filter(instrument_versions::Column::Number.eq(reference.version))
        .one(session.db())
        .await?;
    Ok(readable(session, row.into_iter().collect())?.into_iter().next())
}

/// The newest published version of the instrument a version was adapted from, if newer than
/// the one it was adapted from: what changed upstream since.
pub async fn newer_upstream(
    session: &Session,
    record: &VersionRecord,
) -> StoreResult<Option<(VersionRecord, VersionRecord)>> {
    let Some(base_id) = record.model.derived_from_id else { return Ok(None) };
    let Some(base) = version(session, InstrumentVersionId(base_id)).await? else { return Ok(None) };
    let latest = instrument_versions::Entity::find()
        .filter(instrument_versions::Column::InstrumentId.eq(base.model.instrument_id))
        .filter(instrument_versions::Column::Status.eq("published"))
        .order_by_desc(instrument_versions::Column::Number)
        .one(session.db())
        .await?;
    match latest {
        Some(latest) if latest.number > base.model.number => Ok(Some((base, parse(latest)?))),
        _ => Ok(None),
    }
}

/// Starts a new draft of a county's instrument that takes the state's newer version while
/// keeping the county's adaptations; clashes are returned for the lead to resolve.
pub async fn adopt_upstream(
    change: &Change<'_>,
    author: &InstrumentAuthor,
    ours: &VersionRecord,
    base: &VersionRecord,
    upstream: &VersionRecord,
) -> StoreResult<(VersionRecord, Merge)> {
    require_owner(author, ours.owner())?;
    if upstream.status() == VersionStatus::Draft {
        return Err(Refusal::invalid("upstreamVersionId", "only a published version can be adopted").into());
    }
    let merge = merge_upstream(&base.document, &upstream.document, &ours.document, reference(change, upstream).await?);
    let instrument = instrument_of(change.db(), ours.model.instrument_id).await?;
    let number = next_number(change, instrument.id).await?;
    let record = insert_version(change, &instrument, number, Some(upstream.id()), merge.draft.clone()).await?;
    record_change(
        change,
        "instrument_version.adopt_upstream",
        &record,
        json!({ "upstream": upstream.model.id, "applied": merge.applied.len(), "conflicts": merge.conflicts.len() }),
    )
    .await?;
    Ok((record, merge))
}

async fn record_change(
    change: &Change<'_>,
    action: &'static str,
    record: &VersionRecord,
    mut details: serde_json::Value,
) -> StoreResult<()> {
    if let Some(map) = details.as_object_mut() {
        map.insert("number".into(), json!(record.model.number));
        map.insert("instrumentId".into(), json!(record.model.instrument_id));
    }
    audit::record(
        change,
        AuditEntry {
            action,
            county_id: record.owner(),
            subject_type: "instrument_version",
            subject_id: Some(record.model.id.to_string()),
            details,
        },
    )
    .await
}
