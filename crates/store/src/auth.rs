//! Credentials and refresh tokens. Login and refresh must find a row before anyone is known,
//! which they do through the database's narrow SECURITY DEFINER functions; everything else runs
//! under the user's own row-level security.

use chrono::{DateTime, Utc};
use orb_domain::ids::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use uuid::Uuid;

use crate::entities::refresh_tokens;
use crate::error::StoreResult;
use crate::session::Session;

/// What login needs to know of an account.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account.
    pub user_id: UserId,
    /// Its argon2id hash, if a password was ever set.
    pub password_hash: Option<String>,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// The credentials of the account with this (normalised) email, if one exists.
pub async fn credentials(session: &Session, email: &str) -> StoreResult<Option<Credentials>> {
    let row = session
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT user_id, password_hash, disabled FROM orb.login_credentials($1)",
            [email.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(Credentials {
            user_id: UserId(row.try_get("", "user_id")?),
            password_hash: row.try_get("", "password_hash")?,
            disabled: row.try_get("", "disabled")?,
        }),
        None => None,
    })
}

/// A stored refresh token, found by its hash.
#[derive(Debug, Clone)]
pub struct StoredRefreshToken {
    /// The token's row.
    pub id: Uuid,
    /// The login it descends from.
    pub family_id: Uuid,
    /// Its user.
    pub user_id: UserId,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// When its family was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The refresh token with this SHA-256 hash, if any.
pub async fn refresh_token_by_hash(session: &Session, hash: &[u8]) -> StoreResult<Option<StoredRefreshToken>> {
    let row = session
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM orb.refresh_token_by_hash($1)",
            [hash.to_vec().into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(StoredRefreshToken {
            id: row.try_get("", "id")?,
            family_id: row.try_get("", "family_id")?,
            user_id: UserId(row.try_get("", "user_id")?),
            expires_at: row.try_get("", "expires_at")?,
            used_at: row.try_get("", "used_at")?,
            revoked_at: row.try_get("", "revoked_at")?,
        }),
        None => None,
    })
}

/// Stores a new refresh token (by hash) for the session's user.
pub async fn store_refresh_token(
    session: &Session,
    family_id: Uuid,
    user: UserId,
    hash: Vec<u8>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family_id),
        user_id: Set(user.0),
        token_hash: Set(hash),
        expires_at: Set(expires_at.into()),
        ..Default::default()
    })
    .exec_without_returning(session.db())
    .await?;
    Ok(())
}

/// Marks a token used. Returns false when it was already used or revoked, which means it is
/// being replayed: exactly one of two concurrent refreshes with the same token wins.
pub async fn consume_refresh_token(session: &Session, id: Uuid) -> StoreResult<bool> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::current_timestamp())
        .filter(refresh_tokens::Column::Id.eq(id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(session.db())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of a login (reuse detected, or logout).
pub async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid) -> StoreResult<u64> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::current_timestamp())
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
