//! The audit log, as operators and county leads read it.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};
use orb_domain::ids::{CountyId, UserId};
use orb_store::entities::audit_log;
use orb_store::{audit, counties};

use crate::connection::connection;
use crate::context::{found, loader, page, session};
use crate::counties::County;
use crate::error::{ApiResult, IntoApi};
use crate::people::User;

/// One change: who made it, to what, in which county, in which request.
pub struct AuditEntry(pub audit_log::Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at.into()
    }

    /// Who made the change (none for the operator's command-line tools; hidden when the reader
    /// may not see the account).
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        match self.0.actor_user_id {
            Some(id) => Ok(loader(ctx)?.load_one(UserId(id)).await?.map(User)),
            None => Ok(None),
        }
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<Option<County>> {
        match self.0.county_id {
            Some(id) => Ok(loader(ctx)?.load_one(CountyId(id)).await?.map(County)),
            None => Ok(None),
        }
    }

    /// What was done (`county.create`, `membership.remove`, …).
    async fn action(&self) -> &str {
        &self.0.action
    }

    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }

    async fn subject_id(&self) -> Option<&str> {
        self.0.subject_id.as_deref()
    }

    /// The request that made the change (its `x-request-id`).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// What changed.
    async fn details(&self) -> Json<serde_json::Value> {
        Json(self.0.details.clone())
    }
}

/// Audit queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The newest changes first. Operators read everything (or one county's); a county lead
    /// reads their county's and must name it.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        county_slug: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, AuditEntry, EmptyFields, EmptyFields>> {
        let session = session(ctx)?;
        let principal = session.principal();
        principal.as_signed_in().api()?;
        let county = match county_slug {
            Some(slug) => Some(CountyId(found(counties::by_slug(session, slug.trim()).await.api()?, "county")?.id)),
            None => None,
        };
        match county {
            Some(county) if principal.as_operator().is_err() => {
                principal.as_lead_of(county).api()?;
            }
            None => {
                principal.as_operator().api()?;
            }
            Some(_) => {}
        }
        let request = page(first, after)?;
        let rows = audit::list(session, county, &request).await.api()?;
        Ok(connection(rows, request.after.is_some(), |e| e.id.to_string(), AuditEntry))
    }
}
