//! Concurrent clients for a fixed time: each client repeats a unit of work (one request, one
//! respondent's whole visit, one transaction) until the time is up or the work runs out, and
//! records how long each took. A GraphQL scenario is an endpoint, a document, a generator of
//! variables and bearer token, and an optional check of the data.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::graphql::Endpoint;
use crate::stats::{Recorder, Summary};

/// Runs `clients` concurrent loops of `work(i)` (i counts units across clients) for `duration`.
/// `work` answers `None` when there is no more to do, else `Ok` or the failure's code.
pub async fn drive<F, Fut>(name: &str, clients: usize, duration: Duration, work: F) -> Summary
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Result<(), String>>> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (work, next) = (Arc::clone(&work), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut recorder = Recorder::new();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let began = Instant::now();
                match work(i).await {
                    None => break,
                    Some(Ok(())) => recorder.success(began.elapsed()),
                    Some(Err(code)) => recorder.failure(&code),
                }
            }
            recorder
        }));
    }
    let mut total = Recorder::new();
    for task in tasks {
        match task.await {
            Ok(recorder) => total.merge(&recorder),
            Err(_) => total.failure("CLIENT_PANICKED"),
        }
    }
    total.summary(name, clients, started.elapsed())
}

/// One request of a scenario: its variables and whom it is sent as.
#[derive(Debug, Clone)]
pub struct Request {
    /// The operation's variables.
    pub variables: Value,
    /// The bearer token, if any.
    pub bearer: Option<String>,
    /// Other headers (the peer reads the caller's claims from headers).
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// A request with a bearer token (or none) and no other header.
    pub fn new(variables: Value, bearer: Option<String>) -> Self {
        Self { variables, bearer, headers: Vec::new() }
    }
}

/// Makes the `i`th request of a scenario.
pub type RequestFn = Arc<dyn Fn(u64) -> Request + Send + Sync>;
/// Says whether the data answered is what the scenario expects.
pub type CheckFn = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// A GraphQL scenario: the same operation sent over and over, to orb or to the peer.
#[derive(Clone)]
pub struct GraphqlScenario {
    /// Its name in the table.
    pub name: String,
    /// Where it is sent.
    pub endpoint: Endpoint,
    /// The operation.
    pub document: Arc<str>,
    /// Variables and token of the `i`th request.
    pub request: RequestFn,
    /// A check of the data; a request whose data fails it counts as `UNEXPECTED_DATA`.
    pub check: Option<CheckFn>,
}

/// Runs a GraphQL scenario with `clients` concurrent clients for `duration`.
pub async fn run_graphql(scenario: GraphqlScenario, clients: usize, duration: Duration) -> Summary {
    let name = scenario.name.clone();
    let scenario = Arc::new(scenario);
    drive(&name, clients, duration, move |i| {
        let scenario = Arc::clone(&scenario);
        async move {
            let request = (scenario.request)(i);
            let answer = scenario
                .endpoint
                .call_with(&scenario.document, &request.variables, request.bearer.as_deref(), &request.headers)
                .await;
            Some(match answer {
                Ok(data) if scenario.check.as_ref().is_none_or(|check| check(&data)) => Ok(()),
                Ok(_) => Err("UNEXPECTED_DATA".to_owned()),
                Err(err) => Err(err.code),
            })
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clients_stop_when_the_work_runs_out() {
        let summary = drive("count", 4, Duration::from_secs(10), |i| async move {
            match i {
                0..10 => Some(Ok(())),
                10..12 => Some(Err("CONFLICT".to_owned())),
                _ => None,
            }
        })
        .await;
        assert_eq!(summary.successes, 10);
        assert_eq!(summary.failures.get("CONFLICT"), Some(&2));
        assert_eq!(summary.clients, 4);
    }
}
