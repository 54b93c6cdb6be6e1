//! orb's PostgreSQL store. Every request runs in a [`Session`]: one transaction on the runtime
//! role with the caller's identity set for row-level security. Reads take the session; writes
//! take a [`Change`] (a savepoint) and the capability the domain's access policy granted, so
//! the county written to comes from the capability, never from input.

pub mod audit;
pub mod auth;
pub mod closing_the_loop;
pub mod cohorts;
pub mod collection;
pub mod counties;
pub mod engagement;
pub mod entities;
pub mod error;
pub mod frozen;
pub mod instruments;
pub mod org_units;
pub mod page;
pub mod people;
pub mod published;
pub mod results;
pub mod session;
pub mod statements;

pub use error::{StoreError, StoreResult};
pub use page::{Page, PageRequest};
pub use session::{Caller, Change, PoolStatus, Session, Store, StoreOptions, connect_options};
