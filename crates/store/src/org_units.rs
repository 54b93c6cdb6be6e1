//! Org units: the hierarchy inside one county. Every query starts from a capability that names
//! the county, and row-level security repeats the wall underneath.

use orb_domain::Error as Refusal;
use orb_domain::access::{CountyReader, LeadOf};
use orb_domain::county::{UnitKind, check_unit_move};
use orb_domain::ids::{CountyId, OrgUnitId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    Statement, Value,
};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::entities::org_units;
use crate::error::{FOREIGN_KEY_VIOLATION, StoreError, StoreResult, refuse_on, sqlstate};
use crate::page::{Page, PageRequest, encode_cursor};
use crate::session::{Change, Session};

/// The cursor of a unit in a county's list (ordered by name, then id).
pub fn cursor(unit: &org_units::Model) -> String {
    encode_cursor(&format!("{}\u{1f}{}", unit.name.to_lowercase(), unit.id))
}

/// A county's units, ordered by name.
pub async fn list(session: &Session, reader: &CountyReader, page: &PageRequest) -> StoreResult<Page<org_units::Model>> {
    let mut sql =
        String::from("SELECT county_id, id, parent_id, name, kind, created_at FROM org_units WHERE county_id = $1");
    let mut values: Vec<Value> = vec![reader.county_id().0.into()];
    if let Some(after) = &page.after {
        let (name, id) = after
            .split_once('\u{1f}')
            .and_then(|(name, id)| Some((name.to_owned(), id.parse::<uuid::Uuid>().ok()?)))
            .ok_or_else(crate::page::not_a_cursor)?;
        sql.push_str(" AND (lower(name), id) > ($2, $3)");
        values.push(name.into());
        values.push(id.into());
    }
    sql.push_str(&format!(" ORDER BY lower(name), id LIMIT {}", page.limit()));
    let rows = org_units::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
        .all(session.db())
        .await?;
    Ok(Page::from_fetched(rows, page))
}

/// The first page (`first` rows and one more, as [`Page::from_fetched`] wants) of each
/// county's units in the order of [`list`], in one query: a list of counties with their units
/// reads them all at once.
pub async fn first_pages(
    session: &Session,
    readers: &[CountyReader],
    first: u64,
) -> StoreResult<Vec<org_units::Model>> {
    if readers.is_empty() {
        return Ok(Vec::new());
    }
    let counties: Vec<uuid::Uuid> = readers.iter().map(|r| r.county_id().0).collect();
    let request = PageRequest { first, after: None };
    let (sql, values) =
        crate::page::first_rows_of_each("org_units", "county_id", "lower(name), id", &counties, request.limit());
    Ok(org_units::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(DbBackend::Postgres, sql, values))
        .all(session.db())
        .await?)
}

/// One unit, if the caller may see it. Units of other counties are simply not found.
pub async fn by_id(session: &Session, id: OrgUnitId) -> StoreResult<Option<org_units::Model>> {
    let unit = org_units::Entity::find().filter(org_units::Column::Id.eq(id.0)).one(session.db()).await?;
    Ok(unit.filter(|u| session.principal().as_reader_of(CountyId(u.county_id)).is_ok()))
}

/// Units by id, for batched loading; units the caller may not read are left out.
pub async fn by_ids(session: &Session, ids: &[OrgUnitId]) -> StoreResult<Vec<org_units::Model>> {
    let rows = org_units::Entity::find()
        .filter(org_units::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(session.db())
        .await?;
    Ok(rows.into_iter().filter(|u| session.principal().as_reader_of(CountyId(u.county_id)).is_ok()).collect())
}

/// Direct children of units, for batched loading.
pub async fn children_of(session: &Session, parents: &[OrgUnitId]) -> StoreResult<Vec<org_units::Model>> {
    let rows = org_units::Entity::find()
        .filter(org_units::Column::ParentId.is_in(parents.iter().map(|id| id.0)))
        .order_by_asc(org_units::Column::Name)
        .all(session.db())
        .await?;
    Ok(rows.into_iter().filter(|u| session.principal().as_reader_of(CountyId(u.county_id)).is_ok()).collect())
}

/// Ancestors of a unit, nearest first.
pub async fn ancestors(
    db: &impl ConnectionTrait,
    county: CountyId,
    unit: OrgUnitId,
) -> StoreResult<Vec<org_units::Model>> {
    Ok(org_units::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            r#"
            WITH RECURSIVE up(county_id, id, parent_id, name, kind, created_at, depth) AS (
                SELECT county_id, id, parent_id, name, kind, created_at, 0 FROM org_units
                WHERE county_id = $1 AND id = (SELECT parent_id FROM org_units WHERE county_id = $1 AND id = $2)
                UNION ALL
                SELECT o.county_id, o.id, o.parent_id, o.name, o.kind, o.created_at, up.depth + 1
                FROM org_units o JOIN up ON o.county_id = up.county_id AND o.id = up.parent_id
                WHERE up.depth < 64
            )
            SELECT county_id, id, parent_id, name, kind, created_at FROM up ORDER BY depth
            "#,
            [county.0.into(), unit.0.into()],
        ))
        .all(db)
        .await?)
}

/// A new unit in the lead's county.
#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    /// Display name, unique among its siblings.
    pub name: String,
    /// What the unit is.
    pub kind: UnitKind,
    /// The unit it sits under, if any.
    pub parent_id: Option<OrgUnitId>,
}

/// Creates a unit in the lead's county.
pub async fn create(change: &Change<'_>, lead: &LeadOf, new: NewOrgUnit) -> StoreResult<org_units::Model> {
    let county = lead.county_id();
    if let Some(parent) = new.parent_id {
        require_parent(change, county, parent).await?;
    }
    let id = OrgUnitId::new();
    let model = org_units::ActiveModel {
        county_id: Set(county.0),
        id: Set(id.0),
        parent_id: Set(new.parent_id.map(|p| p.0)),
        name: Set(new.name.clone()),
        kind: Set(new.kind.as_str().to_owned()),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(sibling_conflict)?;
    audit::record(
        change,
        AuditEntry {
            action: "org_unit.create",
            county_id: Some(county),
            subject_type: "org_unit",
            subject_id: Some(id.to_string()),
            details: json!({ "name": new.name, "kind": new.kind.as_str(), "parentId": new.parent_id }),
        },
    )
    .await?;
    Ok(model)
}

/// Changes to a unit; `None` leaves a field as it is. `parent_id: Some(None)` moves it to the top.
#[derive(Debug, Clone, Default)]
pub struct OrgUnitPatch {
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<UnitKind>,
    /// New parent.
    pub parent_id: Option<Option<OrgUnitId>>,
}

/// Renames, re-kinds or moves a unit of the lead's county.
pub async fn update(
    change: &Change<'_>,
    lead: &LeadOf,
    id: OrgUnitId,
    patch: OrgUnitPatch,
) -> StoreResult<org_units::Model> {
    let county = lead.county_id();
    let existing = require_unit(change, county, id).await?;
    if let Some(Some(parent)) = patch.parent_id {
        require_parent(change, county, parent).await?;
        let above: Vec<OrgUnitId> =
            ancestors(change.db(), county, parent).await?.into_iter().map(|u| OrgUnitId(u.id)).collect();
        check_unit_move(id, parent, &above)?;
    }
    let mut model: org_units::ActiveModel = existing.into();
    if let Some(name) = &patch.name {
        model.name = Set(name.clone());
    }
    if let Some(kind) = patch.kind {
        model.kind = Set(kind.as_str().to_owned());
    }
    if let Some(parent) = patch.parent_id {
        model.parent_id = Set(parent.map(|p| p.0));
    }
    let updated = model.update(change.db()).await.map_err(sibling_conflict)?;
    audit::record(
        change,
        AuditEntry {
            action: "org_unit.update",
            county_id: Some(county),
            subject_type: "org_unit",
            subject_id: Some(id.to_string()),
            details: json!({ "name": patch.name, "kind": patch.kind.map(|k| k.as_str()), "parentId": patch.parent_id }),
        },
    )
    .await?;
    Ok(updated)
}

/// Removes a unit that has no units under it.
pub async fn delete(change: &Change<'_>, lead: &LeadOf, id: OrgUnitId) -> StoreResult<()> {
    let county = lead.county_id();
    let existing = require_unit(change, county, id).await?;
    org_units::Entity::delete_many()
        .filter(org_units::Column::CountyId.eq(county.0))
        .filter(org_units::Column::Id.eq(id.0))
        .exec(change.db())
        .await
        .map_err(refuse_on(FOREIGN_KEY_VIOLATION, || {
            Refusal::conflict_on("id", "the unit still has units under it; move or remove them first")
        }))?;
    audit::record(
        change,
        AuditEntry {
            action: "org_unit.delete",
            county_id: Some(county),
            subject_type: "org_unit",
            subject_id: Some(id.to_string()),
            details: json!({ "name": existing.name }),
        },
    )
    .await?;
    Ok(())
}

/// The unit `id` of `county`; a unit of another county is not found.
async fn find_unit(change: &Change<'_>, county: CountyId, id: OrgUnitId) -> StoreResult<Option<org_units::Model>> {
    Ok(org_units::Entity::find()
        .filter(org_units::Column::CountyId.eq(county.0))
        .filter(org_units::Column::Id.eq(id.0))
        .one(change.db())
        .await?)
}

async fn require_parent(change: &Change<'_>, county: CountyId, parent: OrgUnitId) -> StoreResult<org_units::Model> {
    find_unit(change, county, parent)
        .await?
        .ok_or_else(|| Refusal::invalid("input.parentId", "no such unit in this county").into())
}

async fn require_unit(change: &Change<'_>, county: CountyId, id: OrgUnitId) -> StoreResult<org_units::Model> {
    find_unit(change, county, id).await?.ok_or_else(|| Refusal::NotFound("org unit").into())
}

fn sibling_conflict(err: sea_orm::DbErr) -> StoreError {
    if sqlstate(&err).as_deref() == Some("23505") {
        StoreError::Refused(Refusal::conflict_on("input.name", "a unit with this name already sits at this place"))
    } else {
        StoreError::from(err)
    }
}
