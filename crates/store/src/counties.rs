//! Counties: the tenants. Their public facts are readable by every signed-in user.

use orb_domain::Error as Refusal;
use orb_domain::access::Operator;
use orb_domain::county::{NewCounty, Region, SizeClass};
use orb_domain::ids::CountyId;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::entities::counties;
use crate::error::{StoreResult, conflict_on};
use crate::page::{Page, PageRequest};
use crate::session::{Change, Session};

/// Counties in slug order, one page at a time.
pub async fn list(session: &Session, page: &PageRequest) -> StoreResult<Page<counties::Model>> {
    session.principal().as_signed_in()?;
    let mut query = counties::Entity::find().order_by_asc(counties::Column::Slug);
    if let Some(after) = &page.after {
        query = query.filter(counties::Column::Slug.gt(after.as_str()));
    }
    let rows = query.limit(page.limit()).all(session.db()).await?;
    Ok(Page::from_fetched(rows, page))
}

/// The county with this slug.
pub async fn by_slug(session: &Session, slug: &str) -> StoreResult<Option<counties::Model>> {
    session.principal().as_signed_in()?;
    Ok(counties::Entity::find().filter(counties::Column::Slug.eq(slug)).one(session.db()).await?)
}

/// Counties by id, for batched loading.
pub async fn by_ids(session: &Session, ids: &[CountyId]) -> StoreResult<Vec<counties::Model>> {
    session.principal().as_signed_in()?;
    Ok(counties::Entity::find().filter(counties::Column::Id.is_in(ids.iter().map(|id| id.0))).all(session.db()).await?)
}

/// Registers a county.
pub async fn create(change: &Change<'_>, _operator: &Operator, new: NewCounty) -> StoreResult<counties::Model> {
    let id = CountyId::new();
    let model = counties::ActiveModel {
        id: Set(id.0),
        slug: Set(new.slug.to_string()),
        name: Set(new.name.clone()),
        region: Set(new.region.as_str().to_owned()),
        size_class: Set(new.size_class.as_str().to_owned()),
        staff_count: Set(new.staff_count),
        ..Default::default()
    }
    .insert(change.db())
    .await
    .map_err(conflict_on("input.slug", "a county with this slug already exists"))?;
    audit::record(
        change,
        AuditEntry {
            action: "county.create",
            county_id: Some(id),
            subject_type: "county",
            subject_id: Some(id.to_string()),
            details: json!({ "slug": new.slug.as_str(), "name": new.name }),
        },
    )
    .await?;
    Ok(model)
}

/// What an operator may change about a county; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CountyPatch {
    /// New display name.
    pub name: Option<String>,
    /// New region.
    pub region: Option<Region>,
    /// New size class.
    pub size_class: Option<SizeClass>,
    /// New staff count.
    pub staff_count: Option<i32>,
}

/// Edits a county's public facts.
pub async fn update(
    change: &Change<'_>,
    _operator: &Operator,
    id: CountyId,
    patch: CountyPatch,
) -> StoreResult<counties::Model> {
    let existing = counties::Entity::find_by_id(id.0).one(change.db()).await?.ok_or(Refusal::NotFound("county"))?;
    let mut model: counties::ActiveModel = existing.into();
    if let Some(name) = &patch.name {
        model.name = Set(name.clone());
    }
    if let Some(region) = patch.region {
        model.region = Set(region.as_str().to_owned());
    }
    if let Some(size_class) = patch.size_class {
        model.size_class = Set(size_class.as_str().to_owned());
    }
    if let Some(staff_count) = patch.staff_count {
        model.staff_count = Set(Some(staff_count));
    }
    let updated = model.update(change.db()).await?;
    audit::record(
        change,
        AuditEntry {
            action: "county.update",
            county_id: Some(id),
            subject_type: "county",
            subject_id: Some(id.to_string()),
            details: json!({
                "name": patch.name,
                "region": patch.region.map(|r| r.as_str()),
                "sizeClass": patch.size_class.map(|s| s.as_str()),
                "staffCount": patch.staff_count,
            }),
        },
    )
    .await?;
    Ok(updated)
}
