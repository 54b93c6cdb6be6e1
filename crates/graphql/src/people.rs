//! Accounts, roles and memberships: who the caller is and who belongs where.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use orb_domain::error::Problems;
use orb_domain::ids::{CountyId, MembershipId, UserId};
use orb_domain::people::{self, Email, Password};
use orb_store::entities::{memberships, users};
use orb_store::page::encode_cursor;
use orb_store::people as people_store;

use crate::connection::connection;
use crate::context::{found, id, loader, off_executor, page, session, stored};
use crate::counties::County;
use crate::error::{ApiResult, IntoApi, coded};
use crate::loaders::{GlobalRolesOf, MembershipsOf};

/// A role inside one county.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::people::CountyRole")]
pub enum CountyRole {
    /// Answers administrations, reads shared results.
    Staff,
    /// The county's implementation lead.
    Lead,
}

/// A role held at state level.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "orb_domain::people::GlobalRole")]
pub enum GlobalRole {
    /// State faculty.
    Faculty,
    /// Operator.
    Admin,
}

/// An account of a county staff member, lead, faculty member or operator.
pub struct User(pub users::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// Whether the account is disabled (it cannot sign in or use a token).
    async fn disabled(&self) -> bool {
        self.0.disabled_at.is_some()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.into()
    }

    /// The memberships of this user the caller may see.
    async fn memberships(&self, ctx: &Context<'_>) -> ApiResult<Vec<Membership>> {
        let rows = loader(ctx)?.load_one(MembershipsOf(UserId(self.0.id))).await?.unwrap_or_default();
        Ok(rows.into_iter().map(Membership).collect())
    }

    /// The global roles of this user (visible to the user and operators).
    async fn global_roles(&self, ctx: &Context<'_>) -> ApiResult<Vec<GlobalRole>> {
        let roles = loader(ctx)?.load_one(GlobalRolesOf(UserId(self.0.id))).await?.unwrap_or_default();
        Ok(roles.into_iter().map(Into::into).collect())
    }
}

/// A user's role in one county.
pub struct Membership(pub memberships::Model);

#[Object]
impl Membership {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn role(&self) -> ApiResult<CountyRole> {
        stored(people::CountyRole::from_stored(&self.0.role)).map(Into::into)
    }

    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        found(loader(ctx)?.load_one(CountyId(self.0.county_id)).await?, "county").map(County)
    }

    async fn user(&self, ctx: &Context<'_>) -> ApiResult<User> {
        found(loader(ctx)?.load_one(UserId(self.0.user_id)).await?, "user").map(User)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.into()
    }
}

/// The signed-in caller: who they are and what they may do.
#[derive(SimpleObject)]
pub struct Me {
    /// The account.
    pub user: User,
    /// County memberships.
    pub memberships: Vec<Membership>,
    /// State-level roles.
    pub global_roles: Vec<GlobalRole>,
}

/// People queries.
#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// The signed-in caller.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Me> {
        let session = session(ctx)?;
        let user_id = session.principal().as_signed_in().api()?.user_id();
        let user_id = user_id.ok_or_else(|| coded("authentication required", "UNAUTHENTICATED"))?;
        let loader = loader(ctx)?;
        let user = found(loader.load_one(user_id).await?, "user")?;
        let memberships = loader.load_one(MembershipsOf(user_id)).await?.unwrap_or_default();
        Ok(Me {
            user: User(user),
            memberships: memberships.into_iter().map(Membership).collect(),
            global_roles: session.principal().global_roles().iter().map(|r| (*r).into()).collect(),
        })
    }

    /// Every account, by email, optionally filtered by a search term. Operators only.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, User, EmptyFields, EmptyFields>> {
        let session = session(ctx)?;
        let operator = session.principal().as_operator().api()?;
        let request = page(first, after)?;
        let rows = people_store::list_users(session, &operator, search.as_deref(), &request).await.api()?;
        Ok(connection(rows, request.after.is_some(), |u| encode_cursor(&u.email), User))
    }

    /// One account. Visible: oneself; operators: all; a lead: the members of their county.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let user_id: UserId = crate::context::id("id", &id)?;
        found(loader(ctx)?.load_one(user_id).await?, "user").map(User)
    }
}

/// A new account.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Login email.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Initial password: at least 15 characters and hard to guess (not the email, the
    /// service's name, a common password, a repeat or a sequence).
    #[graphql(secret)]
    pub password: String,
}

/// A county membership to grant.
#[derive(InputObject)]
pub struct AddCountyMemberInput {
    /// The county.
    pub county_id: ID,
    /// The member's login email (the account must exist).
    pub email: String,
    /// Their role; leads may grant `STAFF` only.
    pub role: CountyRole,
}

/// People mutations.
#[derive(Default)]
pub struct PeopleMutation;

#[Object]
impl PeopleMutation {
    /// Creates an account. Operators only.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> ApiResult<User> {
        let session = session(ctx)?;
        let operator = session.principal().as_operator().api()?;
        let mut problems = Problems::new();
        let email = problems.take(Email::parse("input.email", &input.email));
        let display_name = problems.take(people::display_name("input.displayName", &input.display_name));
        let password = problems.take(Password::parse("input.password", &input.password, &input.email));
        problems.finish().api()?;
        let (Some(email), Some(display_name), Some(password)) = (email, display_name, password) else {
            return Err(coded("invalid input", "BAD_USER_INPUT"));
        };
        let password_hash = off_executor(move || password.hash()).await?;
        let change = session.change().await.api()?;
        let user =
            people_store::create_user(&change, &operator, people_store::NewUser { email, display_name, password_hash })
                .await
                .api()?;
        change.commit().await.api()?;
        Ok(User(user))
    }

    /// Disables or re-enables an account; takes effect on its next request. Operators only.
    async fn set_user_disabled(&self, ctx: &Context<'_>, user_id: ID, disabled: bool) -> ApiResult<User> {
        let session = session(ctx)?;
        let operator = session.principal().as_operator().api()?;
        let user_id: UserId = id("userId", &user_id)?;
        let change = session.change().await.api()?;
        let user = people_store::set_disabled(&change, &operator, user_id, disabled).await.api()?;
        change.commit().await.api()?;
        Ok(User(user))
    }

    /// Grants a state-level role. Operators only.
    async fn grant_global_role(&self, ctx: &Context<'_>, user_id: ID, role: GlobalRole) -> ApiResult<User> {
        let session = session(ctx)?;
        let operator = session.principal().as_operator().api()?;
        let user_id: UserId = id("userId", &user_id)?;
        let change = session.change().await.api()?;
        people_store::grant_global_role(&change, &operator, user_id, role.into()).await.api()?;
        change.commit().await.api()?;
        found(loader(ctx)?.load_one(user_id).await?, "user").map(User)
    }

    /// Revokes a state-level role. Operators only.
    async fn revoke_global_role(&self, ctx: &Context<'_>, user_id: ID, role: GlobalRole) -> ApiResult<User> {
        let session = session(ctx)?;
        let operator = session.principal().as_operator().api()?;
        let user_id: UserId = id("userId", &user_id)?;
        let change = session.change().await.api()?;
        people_store::revoke_global_role(&change, &operator, user_id, role.into()).await.api()?;
        change.commit().await.api()?;
        found(loader(ctx)?.load_one(user_id).await?, "user").map(User)
    }

    /// Adds an existing account to a county. A lead adds staff to their county; an operator
    /// adds anyone with any role (or changes the role of an existing member).
    async fn add_county_member(&self, ctx: &Context<'_>, input: AddCountyMemberInput) -> ApiResult<Membership> {
        let session = session(ctx)?;
        let county_id: CountyId = id("input.countyId", &input.county_id)?;
        let manager = session.principal().as_membership_manager(county_id).api()?;
        let email = Email::parse("input.email", &input.email).api()?;
        let change = session.change().await.api()?;
        let user_id = people_store::user_id_by_email(change.db(), &email).await.api()?.ok_or_else(|| {
            crate::error::refusal(orb_domain::Error::invalid("input.email", "no account has this email"))
        })?;
        let membership = people_store::grant_membership(&change, &manager, user_id, input.role.into()).await.api()?;
        change.commit().await.api()?;
        Ok(Membership(membership))
    }

    /// Removes a membership; the member loses access on their next request. A lead removes
    /// staff of their county; an operator removes anyone.
    async fn remove_county_member(&self, ctx: &Context<'_>, membership_id: ID) -> ApiResult<ID> {
        let session = session(ctx)?;
        session.principal().as_signed_in().api()?;
        let id_value: MembershipId = id("membershipId", &membership_id)?;
        let membership = found(people_store::membership_by_id(session.db(), id_value).await.api()?, "membership")?;
        let manager = session.principal().as_membership_manager(people_store::county_of(&membership)).api()?;
        let change = session.change().await.api()?;
        people_store::remove_membership(&change, &manager, id_value).await.api()?;
        change.commit().await.api()?;
        Ok(membership_id)
    }

    /// Changes the caller's own password; other sessions keep working until their tokens expire.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] current_password: String,
        #[graphql(secret)] new_password: String,
    ) -> ApiResult<bool> {
        let session = session(ctx)?;
        let user_id = session.principal().as_signed_in().api()?.user_id();
        let user_id = user_id.ok_or_else(|| coded("authentication required", "UNAUTHENTICATED"))?;
        let me = found(loader(ctx)?.load_one(user_id).await?, "user")?;
        let new_password = Password::parse("newPassword", &new_password, &me.email).api()?;
        let credentials = orb_store::auth::credentials(session, &me.email).await.api()?;
        let stored_hash = credentials.and_then(|c| c.password_hash);
        let verified = off_executor(move || people::verify_password(&current_password, stored_hash.as_deref())).await?;
        if !verified {
            return Err(crate::error::refusal(orb_domain::Error::invalid(
                "currentPassword",
                "is not your current password",
            )));
        }
        let hash = off_executor(move || new_password.hash()).await?;
        let change = session.change().await.api()?;
        people_store::set_password_hash(&change, user_id, hash).await.api()?;
        change.commit().await.api()?;
        Ok(true)
    }
}
