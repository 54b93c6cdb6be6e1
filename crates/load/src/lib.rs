//! The state-scale benchmark of orb (issue #8): a generator of the state's readiness data, a
//! load driver of respondents and readers over HTTP, the same work done straight in PostgreSQL
//! (the ceiling) and through PostGraphile (the peer), and the run that puts them in one table.

pub mod counties;
pub mod drive;
pub mod generator;
pub mod graphql;
pub mod peer;
pub mod readers;
pub mod respondents;
pub mod run;
pub mod server;
pub mod stats;
pub mod table;
