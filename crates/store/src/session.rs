//! Request sessions. Every request runs in one PostgreSQL transaction on the runtime role, in
//! which the caller's identity is set with `set_config(…, true)` before any other statement, so
//! row-level security sees it on every query of the request and forgets it at commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use orb_domain::Error as Refusal;
use orb_domain::access::{CountyMembership, Principal, RespondentScope};
use orb_domain::collection::ResponseKey;
use orb_domain::ids::{CountyId, UserId};
use orb_domain::people::{CountyRole, GlobalRole};
use percent_encoding::percent_decode_str;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait, Value,
};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{StoreError, StoreResult};
use crate::frozen::FrozenAnswers;
use crate::published::PublishedDocuments;

/// Who a request says it is, before the database has confirmed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No credentials.
    Anonymous,
    /// A user proven by a valid access token.
    User(UserId),
    /// A respondent proven by a valid respondent token, scoped to one response.
    Respondent(RespondentScope),
}

/// How to reach PostgreSQL as the runtime role.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connection URL of the runtime role; secret, since it holds the role's password.
    pub url: SecretString,
    /// Most connections held open.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing fast.
    pub acquire_timeout: Duration,
    /// `statement_timeout` set in every request's transaction.
    pub statement_timeout: Duration,
    /// How many responses' frozen answers to keep in memory for results ([`FrozenAnswers`]).
    pub frozen_answers: usize,
    /// The service's secret that keys invitation responses' ids and the order of raw rows.
    pub response_key: ResponseKey,
}

/// The connection pool of the runtime role; the one way into county data.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    statement_timeout: Duration,
    frozen: Arc<FrozenAnswers>,
    documents: Arc<PublishedDocuments>,
    response_key: Arc<ResponseKey>,
}

/// sea-orm options for `url` with its password handed to the driver apart from the URL.
/// sea-orm records the options it connects with, URL included, on a trace-level span, so a
/// password left in the URL is printed with any event logged while connecting.
pub fn connect_options(url: &str) -> ConnectOptions {
    let Ok(mut without_password) = url::Url::parse(url) else {
        return ConnectOptions::new(url.to_owned());
    };
    let Some(password) = without_password.password().map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned())
    else {
        return ConnectOptions::new(url.to_owned());
    };
    if without_password.set_password(None).is_err() {
        return ConnectOptions::new(url.to_owned());
    }
    let mut options = ConnectOptions::new(without_password.to_string());
    options.map_sqlx_postgres_opts(move |driver| driver.password(&password));
    options
}

impl Store {
    /// Opens the pool. Connections are made lazily, so the service starts (and reports
    /// not-ready) while the database is down.
    pub async fn connect(options: &StoreOptions) -> StoreResult<Self> {
        let mut connect = connect_options(options.url.expose_secret());
        connect
            .max_connections(options.max_connections)
            .min_connections(0)
            .connect_timeout(options.acquire_timeout)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(Duration::from_secs(300))
            .connect_lazy(true)
            .sqlx_logging(false);
        let mut db = Database::connect(connect).await?;
        db.set_metric_callback(|_| crate::statements::record());
        Ok(Self {
            db,
            statement_timeout: options.statement_timeout,
            frozen: Arc::new(FrozenAnswers::new(options.frozen_answers)),
            documents: Arc::default(),
            response_key: Arc::new(options.response_key.clone()),
        })
    }

    /// Starts a request's session: begins the transaction and, in one more statement, sets the
    /// statement timeout and the tenant settings — for a signed-in user, after confirming they
    /// still exist and are enabled and loading their roles fresh (`orb.open_user_request`).
    pub async fn begin(&self, caller: Caller, request_id: Option<String>) -> StoreResult<Session> {
        let tx = self.db.begin().await?;
        let timeout = format!("{}ms", self.statement_timeout.as_millis());
        let principal = match caller {
            Caller::User(id) => open_user_request(&tx, id, timeout).await?,
            Caller::Anonymous | Caller::Respondent(_) => {
                let principal = match caller {
                    Caller::Respondent(scope) => Principal::respondent(scope),
                    _ => Principal::anonymous(),
                };
                apply_tenant_settings(&tx, &principal, Some(timeout)).await?;
                principal
            }
        };
        Ok(self.session(tx, principal, request_id))
    }

    /// Starts a session for the operator's own tools (command line, demo loader) with every role
    /// in the given counties. Never used for a request from the network.
    pub async fn begin_system(&self, counties: Vec<CountyId>) -> StoreResult<Session> {
        let tx = self.db.begin().await?;
        let principal = Principal::system(counties);
        apply_tenant_settings(&tx, &principal, None).await?;
        Ok(self.session(tx, principal, None))
    }

    fn session(&self, tx: DatabaseTransaction, principal: Principal, request_id: Option<String>) -> Session {
        Session {
            tx,
            principal,
            request_id,
            frozen: Arc::clone(&self.frozen),
            documents: Arc::clone(&self.documents),
            response_key: Arc::clone(&self.response_key),
            direct_change: AtomicBool::new(false),
            spoiled: AtomicBool::new(false),
        }
    }

    /// Whether PostgreSQL answers, and the names of the migrations it has applied.
    pub async fn applied_migrations(&self) -> StoreResult<Vec<String>> {
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .await?;
        rows.iter().map(|row| row.try_get::<String>("", "version").map_err(StoreError::from)).collect()
    }

    /// Closes every connection (on shutdown).
    pub async fn close(self) -> StoreResult<()> {
        self.db.close().await.map_err(StoreError::from)
    }

    /// How many connections the pool holds, how many of them are idle, and the most it may open.
    pub fn pool_status(&self) -> PoolStatus {
        // The store only ever connects to PostgreSQL (see `connect`), so this is the pool.
        let pool = self.db.get_postgres_connection_pool();
        let open = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(open).min(open);
        PoolStatus { open, idle, max: pool.options().get_max_connections() }
    }
}

/// A snapshot of the connection pool, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open (in use and idle).
    pub open: u32,
    /// Open connections waiting for a request.
    pub idle: u32,
    /// The most connections the pool may open.
    pub max: u32,
}

impl PoolStatus {
    /// Connections lent to requests right now.
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

/// Opens a signed-in user's request in one statement (migration 0013): sets the user and the
/// statement timeout, reads their roles under row-level security, and sets the tenant settings
/// from those same rows; the roles come back for the service's own checks.
async fn open_user_request(tx: &DatabaseTransaction, user: UserId, timeout: String) -> StoreResult<Principal> {
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT active, global_roles, memberships, partners FROM orb.open_user_request($1, $2)",
            [Value::from(user.0), timeout.into()],
        ))
        .await?
        .ok_or(StoreError::Refused(Refusal::Unauthenticated))?;
    if row.try_get::<Option<bool>>("", "active")? != Some(true) {
        return Err(Refusal::Unauthenticated.into());
    }
    let global_roles =
        split(&row.try_get::<String>("", "global_roles")?).filter_map(GlobalRole::from_stored).collect::<Vec<_>>();
    let memberships = split(&row.try_get::<String>("", "memberships")?)
        .filter_map(|entry| {
            let (county, role) = entry.split_once(':')?;
            Some(CountyMembership { county_id: county.parse().ok()?, role: CountyRole::from_stored(role)? })
        })
        .collect();
    let partners =
        split(&row.try_get::<String>("", "partners")?).filter_map(|id| id.parse().ok()).collect::<Vec<CountyId>>();
    Ok(Principal::user(user, global_roles, memberships, partners))
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|s| !s.is_empty())
}

/// Sets the tenant settings of `principal` for the rest of the transaction, and the statement
/// timeout when given (a request's; the operator's tools run without one).
async fn apply_tenant_settings(
    tx: &DatabaseTransaction,
    principal: &Principal,
    statement_timeout: Option<String>,
) -> StoreResult<()> {
    let s = principal.tenant_settings();
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('orb.user_id', $1, true), set_config('orb.global_roles', $2, true), \
                set_config('orb.member_counties', $3, true), set_config('orb.lead_counties', $4, true), \
                set_config('orb.partner_counties', $5, true), set_config('orb.respondent_response', $6, true), \
                set_config('orb.respondent_administration', $7, true), set_config('orb.respondent_county', $8, true), \
                set_config('orb.respondent_invitation', $9, true), \
                set_config('statement_timeout', coalesce($10, current_setting('statement_timeout')), true)",
        [
            s.user_id.into(),
            s.global_roles.into(),
            s.member_counties.into(),
            s.lead_counties.into(),
            s.partner_counties.into(),
            s.respondent_response.into(),
            s.respondent_administration.into(),
            s.respondent_county.into(),
            s.respondent_invitation.into(),
            statement_timeout.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// One request's transaction and the caller it was opened for. Reads run on it directly;
/// writes run in a [`Change`] (a savepoint), so a refused mutation leaves nothing behind while
/// the request's other mutations stand. A request of one mutation skips the savepoint
/// ([`Session::expect_one_change`]): there is nothing else to keep if it fails, so the whole
/// transaction rolls back instead ([`Session::spoiled`]).
pub struct Session {
    tx: DatabaseTransaction,
    principal: Principal,
    request_id: Option<String>,
    frozen: Arc<FrozenAnswers>,
    documents: Arc<PublishedDocuments>,
    response_key: Arc<ResponseKey>,
    /// The next change writes into the request's transaction directly (set for one mutation).
    direct_change: AtomicBool,
    /// A change that wrote directly was dropped without being kept.
    spoiled: AtomicBool,
}

impl Session {
    /// The caller, as loaded at the start of the request.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The service's frozen answers, shared by every session.
    pub(crate) fn frozen(&self) -> &FrozenAnswers {
        &self.frozen
    }

    /// The service's published instrument documents, shared by every session.
    pub(crate) fn documents(&self) -> &PublishedDocuments {
        &self.documents
    }

    /// The service's response key (never in the database).
    pub(crate) fn response_key(&self) -> &ResponseKey {
        &self.response_key
    }

    /// The request's transaction, for reads.
    pub fn db(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Who is asking (none for the operator's tools and respondents), for the audit log.
    pub(crate) fn actor(&self) -> Option<UserId> {
        self.principal.user_id()
    }

    /// The request this session serves, for the audit log.
    pub(crate) fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Declares the request one mutation: its first change writes straight into the request's
    /// transaction, saving the savepoint's two round trips. If that change is not kept, the
    /// session is [`spoiled`](Self::spoiled) and must be rolled back, never committed.
    pub fn expect_one_change(&mut self) {
        *self.direct_change.get_mut() = true;
    }

    /// Starts one change: commit it for the change to stand; dropping it undoes it (a savepoint
    /// is rolled back; a direct change spoils the session).
    pub async fn change(&self) -> StoreResult<Change<'_>> {
        let place = if self.direct_change.swap(false, Ordering::AcqRel) {
            Place::Request { tx: &self.tx, spoiled: &self.spoiled }
        } else {
            Place::Savepoint(self.tx.begin().await?)
        };
        Ok(Change {
            place: Some(place),
            actor: self.principal.user_id(),
            request_id: self.request_id.clone(),
            documents: Arc::clone(&self.documents),
        })
    }

    /// Whether a change that wrote into the request's transaction directly was left unkept:
    /// the transaction holds part of a refused change and only a rollback may end it.
    pub fn spoiled(&self) -> bool {
        self.spoiled.load(Ordering::Acquire)
    }

    /// Makes this transaction a respondent's: from here on row-level security sees exactly the
    /// scope's response, administration and county. Used once a survey code has been exchanged.
    pub async fn assume_respondent(&self, scope: &RespondentScope) -> StoreResult<()> {
        apply_tenant_settings(&self.tx, &Principal::respondent(*scope), None).await
    }

    /// Commits the request. Only after this returns may the response acknowledge a write.
    /// Refused for a spoiled session: part of a refused change would be kept.
    pub async fn commit(self) -> StoreResult<()> {
        if self.spoiled() {
            self.tx.rollback().await?;
            return Err(StoreError::Database(sea_orm::DbErr::Custom(
                "a change was left unfinished; the request was rolled back".into(),
            )));
        }
        self.tx.commit().await.map_err(StoreError::from)
    }

    /// Ends the request keeping nothing.
    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await.map_err(StoreError::from)
    }
}

/// Where a change writes.
enum Place<'s> {
    /// Its own savepoint, released when kept.
    Savepoint(DatabaseTransaction),
    /// The request's transaction itself (a request of one mutation).
    Request { tx: &'s DatabaseTransaction, spoiled: &'s AtomicBool },
}

/// One change inside a request, with who made it for the audit log.
pub struct Change<'s> {
    /// `None` once kept.
    place: Option<Place<'s>>,
    actor: Option<UserId>,
    request_id: Option<String>,
    documents: Arc<PublishedDocuments>,
}

impl Change<'_> {
    /// The connection the change writes on.
    pub fn db(&self) -> &DatabaseTransaction {
        match &self.place {
            Some(Place::Savepoint(tx)) => tx,
            Some(Place::Request { tx, .. }) => tx,
            // Only `commit` takes the place, and it consumes the change.
            None => unreachable!("a kept change is not used again"),
        }
    }

    /// Who is making the change (none for the operator's tools).
    pub fn actor(&self) -> Option<UserId> {
        self.actor
    }

    /// The request it belongs to, for the audit log.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The service's published instrument documents.
    pub(crate) fn documents(&self) -> &PublishedDocuments {
        &self.documents
    }

    /// A change inside this one (always a savepoint), for work that may fail alone, such as one
    /// form of a batch.
    pub async fn nested(&self) -> StoreResult<Change<'static>> {
        Ok(Change {
            place: Some(Place::Savepoint(self.db().begin().await?)),
            actor: self.actor,
            request_id: self.request_id.clone(),
            documents: Arc::clone(&self.documents),
        })
    }

    /// Keeps the change.
    pub async fn commit(mut self) -> StoreResult<()> {
        match self.place.take() {
            Some(Place::Savepoint(tx)) => tx.commit().await.map_err(StoreError::from),
            Some(Place::Request { .. }) | None => Ok(()),
        }
    }
}

impl Drop for Change<'_> {
    fn drop(&mut self) {
        if let Some(Place::Request { spoiled, .. }) = &self.place {
            spoiled.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::connect_options;

    #[test]
    fn the_password_stays_out_of_the_printed_options() {
        let printed = format!("{:?}", connect_options("postgres://orb_app:s3cr%40t-pw@db.example:5432/orb"));
        assert!(!printed.contains("s3cr"), "{printed}");
        assert!(printed.contains("postgres://orb_app@db.example:5432/orb"), "the rest of the URL is kept: {printed}");
    }
}
