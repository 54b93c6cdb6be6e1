//! Accounts, global roles and county memberships.

use orb_domain::Error as Refusal;
use orb_domain::access::{MembershipManager, Operator};
use orb_domain::ids::{CountyId, MembershipId, UserId};
use orb_domain::people::{CountyRole, Email, GlobalRole};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::entities::{memberships, user_global_roles, users};
use crate::error::{StoreError, StoreResult, conflict_on, sqlstate};
use crate::page::{Page, PageRequest};
use crate::session::{Change, Session};

/// Accounts in email order, optionally those whose email or name contains `search`. Operators only.
pub async fn list_users(
    session: &Session,
    _operator: &Operator,
    search: Option<&str>,
    page: &PageRequest,
) -> StoreResult<Page<users::Model>> {
    let mut query = users::Entity::find().order_by_asc(users::Column::Email);
    if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        query = query.filter(
            sea_orm::Condition::any()
                .add(users::Column::Email.like(pattern.clone()))
                .add(users::Column::DisplayName.like(pattern)),
        );
    }
    if let Some(after) = &page.after {
        query = query.filter(users::Column::Email.gt(after.as_str()));
    }
    let rows = query.limit(page.limit()).all(session.db()).await?;
    Ok(Page::from_fetched(rows, page))
}

/// Accounts by id that the caller may see, for batched loading.
pub async fn users_by_ids(db: &impl ConnectionTrait, ids: &[UserId]) -> StoreResult<Vec<users::Model>> {
    Ok(users::Entity::find().filter(users::Column::Id.is_in(ids.iter().map(|id| id.0))).all(db).await?)
}

/// The id of the account with this email, without being able to list accounts.
pub async fn user_id_by_email(db: &impl ConnectionTrait, email: &Email) -> StoreResult<Option<UserId>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT orb.user_id_by_email($1) AS id",
            [email.as_str().into()],
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get::<Option<uuid::Uuid>>("", "id").ok().flatten()).map(UserId))
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login email.
    pub email: Email,
    /// Name shown to colleagues.
    pub display_name: String,
    /// argon2id hash of the initial password.
    pub password_hash: String,
}

/// Creates an account. Operators only.
pub async fn create_user(change: &Change<'_>, _operator: &Operator, new: NewUser) -> StoreResult<users::Model> {
    let id = UserId::new();
    // The runtime role may write a password hash but never read one back, so the insert names
    // its columns and returns only readable ones.
    change
        .db()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)",
            [Value::from(id.0), new.email.as_str().into(), new.display_name.clone().into(), new.password_hash.into()],
        ))
        .await
        .map_err(conflict_on("input.email", "an account with this email already exists"))?;
    audit::record(
        change,
        AuditEntry {
            action: "user.create",
            county_id: None,
            subject_type: "user",
            subject_id: Some(id.to_string()),
            details: json!({ "email": new.email.as_str() }),
        },
    )
    .await?;
    users::Entity::find_by_id(id.0).one(change.db()).await?.ok_or_else(|| Refusal::NotFound("user").into())
}

/// Disables or re-enables an account; a disabled account is refused on its next request.
pub async fn set_disabled(
    change: &Change<'_>,
    operator: &Operator,
    id: UserId,
    disabled: bool,
) -> StoreResult<users::Model> {
    if disabled && operator.user_id() == Some(id) {
        return Err(Refusal::invalid("userId", "an operator cannot disable their own account").into());
    }
    let user = users::Entity::find_by_id(id.0).one(change.db()).await?.ok_or(Refusal::NotFound("user"))?;
    let mut model: users::ActiveModel = user.into();
    model.disabled_at = Set(disabled.then(|| chrono::Utc::now().into()));
    let updated = model.update(change.db()).await?;
    audit::record(
        change,
        AuditEntry {
            action: if disabled { "user.disable" } else { "user.enable" },
            county_id: None,
            subject_type: "user",
            subject_id: Some(id.to_string()),
            details: json!({}),
        },
    )
    .await?;
    Ok(updated)
}

/// Replaces a user's password hash (their own, or any as an operator tool).
pub async fn set_password_hash(change: &Change<'_>, user: UserId, password_hash: String) -> StoreResult<()> {
    let result = change
        .db()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            [Value::from(user.0), password_hash.into()],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(Refusal::NotFound("user").into());
    }
    audit::record(
        change,
        AuditEntry {
            action: "user.password_change",
            county_id: None,
            subject_type: "user",
            subject_id: Some(user.to_string()),
            details: json!({}),
        },
    )
    .await?;
    Ok(())
}

/// Global roles of users, for batched loading (visible: one's own; operators: all).
pub async fn global_roles_of(db: &impl ConnectionTrait, ids: &[UserId]) -> StoreResult<Vec<(UserId, GlobalRole)>> {
    let rows = user_global_roles::Entity::find()
        .filter(user_global_roles::Column::UserId.is_in(ids.iter().map(|id| id.0)))
        .order_by_asc(user_global_roles::Column::Role)
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((UserId(r.user_id), GlobalRole::from_stored(&r.role)?))).collect())
}

/// Grants a global role; granting one already held changes nothing.
pub async fn grant_global_role(
    change: &Change<'_>,
    _operator: &Operator,
    user: UserId,
    role: GlobalRole,
) -> StoreResult<()> {
    require_user(change, user).await?;
    let inserted = user_global_roles::Entity::insert(user_global_roles::ActiveModel {
        user_id: Set(user.0),
        role: Set(role.as_str().to_owned()),
        ..Default::default()
    })
    .on_conflict_do_nothing()
    .exec_without_returning(change.db())
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        audit::record(
            change,
            AuditEntry {
                action: "global_role.grant",
                county_id: None,
                subject_type: "user",
                subject_id: Some(user.to_string()),
                details: json!({ "role": role.as_str() }),
            },
        )
        .await?;
    }
    Ok(())
}

/// Revokes a global role. An operator cannot revoke their own `admin` role, so there is always
/// someone left to run the service.
pub async fn revoke_global_role(
    change: &Change<'_>,
    operator: &Operator,
    user: UserId,
    role: GlobalRole,
) -> StoreResult<()> {
    if role == GlobalRole::Admin && operator.user_id() == Some(user) {
        return Err(Refusal::invalid("userId", "an operator cannot revoke their own admin role").into());
    }
    require_user(change, user).await?;
    let removed = user_global_roles::Entity::delete_many()
        .filter(user_global_roles::Column::UserId.eq(user.0))
        .filter(user_global_roles::Column::Role.eq(role.as_str()))
        .exec(change.db())
        .await?
        .rows_affected;
    if removed > 0 {
        audit::record(
            change,
            AuditEntry {
                action: "global_role.revoke",
                county_id: None,
                subject_type: "user",
                subject_id: Some(user.to_string()),
                details: json!({ "role": role.as_str() }),
            },
        )
        .await?;
    }
    Ok(())
}

async fn require_user(change: &Change<'_>, user: UserId) -> StoreResult<users::Model> {
    users::Entity::find_by_id(user.0).one(change.db()).await?.ok_or_else(|| Refusal::NotFound("user").into())
}

/// Memberships of users, for batched loading (visible: one's own, a lead's county's, all for operators).
pub async fn memberships_of_users(db: &impl ConnectionTrait, ids: &[UserId]) -> StoreResult<Vec<memberships::Model>> {
    Ok(memberships::Entity::find()
        .filter(memberships::Column::UserId.is_in(ids.iter().map(|id| id.0)))
        .order_by_asc(memberships::Column::Id)
        .all(db)
        .await?)
}

/// One page of a county's members, oldest membership first.
pub async fn members_of_county(
    session: &Session,
    manager: &MembershipManager,
    page: &PageRequest,
) -> StoreResult<Page<memberships::Model>> {
    let mut query = memberships::Entity::find()
        .filter(memberships::Column::CountyId.eq(manager.county_id().0))
        .order_by_asc(memberships::Column::Id);
    if let Some(after) = page.after_key::<uuid::Uuid>()? {
        query = query.filter(memberships::Column::Id.gt(after));
    }
    let rows = query.limit(page.limit()).all(session.db()).await?;
    Ok(Page::from_fetched(rows, page))
}

/// The first page (`first` rows and one more) of each county's members in the order of
/// [`members_of_county`], in one query, for a list of counties with their members.
pub async fn first_pages_of_members(
    session: &Session,
    managers: &[MembershipManager],
    first: u64,
) -> StoreResult<Vec<memberships::Model>> {
    if managers.is_empty() {
        return Ok(Vec::new());
    }
    let counties: Vec<uuid::Uuid> = managers.iter().map(|m| m.county_id().0).collect();
    let request = PageRequest { first, after: None };
    let (sql, values) = crate::page::first_rows_of_each("memberships", "county_id", "id", &counties, request.limit());
    Ok(memberships::Entity::find()
        .from_raw_sql(sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values))
        .all(session.db())
        .await?)
}

/// Adds a user to the manager's county with `role`. A user already in the county is a conflict
/// for a lead; an operator changes their role instead.
pub async fn grant_membership(
    change: &Change<'_>,
    manager: &MembershipManager,
    user: UserId,
    role: CountyRole,
) -> StoreResult<memberships::Model> {
    manager.may_manage(role)?;
    let county = manager.county_id();
    let existing = memberships::Entity::find()
        .filter(memberships::Column::CountyId.eq(county.0))
        .filter(memberships::Column::UserId.eq(user.0))
        .one(change.db())
        .await?;
    let model = match existing {
        Some(current) if current.role == role.as_str() => {
            return Err(Refusal::conflict_on("input.email", format!("already a {role} member of this county")).into());
        }
        Some(current) => {
            let current_role = CountyRole::from_stored(&current.role).unwrap_or(CountyRole::Lead);
            manager.may_manage(current_role)?;
            let mut model: memberships::ActiveModel = current.into();
            model.role = Set(role.as_str().to_owned());
            model.update(change.db()).await?
        }
        None => memberships::ActiveModel {
            county_id: Set(county.0),
            id: Set(MembershipId::new().0),
            user_id: Set(user.0),
            role: Set(role.as_str().to_owned()),
            ..Default::default()
        }
        .insert(change.db())
        .await
        .map_err(|err| match sqlstate(&err).as_deref() {
            Some("23503") => StoreError::Refused(Refusal::NotFound("user")),
            Some("23505") => {
                StoreError::Refused(Refusal::conflict_on("input.email", "already a member of this county"))
            }
            _ => StoreError::from(err),
        })?,
    };
    audit::record(
        change,
        AuditEntry {
            action: "membership.grant",
            county_id: Some(county),
            subject_type: "membership",
            subject_id: Some(model.id.to_string()),
            details: json!({ "userId": user, "role": role.as_str() }),
        },
    )
    .await?;
    Ok(model)
}

/// The membership with this id, if visible to the caller.
pub async fn membership_by_id(db: &impl ConnectionTrait, id: MembershipId) -> StoreResult<Option<memberships::Model>> {
    Ok(memberships::Entity::find().filter(memberships::Column::Id.eq(id.0)).one(db).await?)
}

/// Removes a membership of the manager's county. Takes effect on the member's next request.
pub async fn remove_membership(change: &Change<'_>, manager: &MembershipManager, id: MembershipId) -> StoreResult<()> {
    let county = manager.county_id();
    let membership = memberships::Entity::find()
        .filter(memberships::Column::CountyId.eq(county.0))
        .filter(memberships::Column::Id.eq(id.0))
        .one(change.db())
        .await?
        .ok_or(Refusal::NotFound("membership"))?;
    manager.may_manage(CountyRole::from_stored(&membership.role).unwrap_or(CountyRole::Lead))?;
    memberships::Entity::delete_many()
        .filter(memberships::Column::CountyId.eq(county.0))
        .filter(memberships::Column::Id.eq(id.0))
        .exec(change.db())
        .await?;
    audit::record(
        change,
        AuditEntry {
            action: "membership.remove",
            county_id: Some(county),
            subject_type: "membership",
            subject_id: Some(id.to_string()),
            details: json!({ "userId": membership.user_id, "role": membership.role }),
        },
    )
    .await?;
    Ok(())
}

/// Counties of memberships, as typed ids.
pub fn county_of(membership: &memberships::Model) -> CountyId {
    CountyId(membership.county_id)
}
