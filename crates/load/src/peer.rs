//! The peer: PostGraphile 5 serving the same database, started by `bench/postgraphile/start
//! DATABASE_URL PORT` (which installs it with npm under `target/`), and the two operations
//! the peer is measured on, read from that folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::server::free_port;

/// The peer's operations, as GraphQL documents.
#[derive(Debug, Clone)]
pub struct PeerDocuments {
    /// An administration with its responses and answers, one page.
    pub nested_read: String,
    /// One response inserted through the generated mutation.
    pub insert_response: String,
}

impl PeerDocuments {
    /// Reads `nested_read.graphql` and `insert_response.graphql` from `folder`.
    pub fn read(folder: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| {
            std::fs::read_to_string(folder.join(name))
                .with_context(|| format!("reading {}", folder.join(name).display()))
        };
        Ok(Self { nested_read: read("nested_read.graphql")?, insert_response: read("insert_response.graphql")? })
    }
}

/// A running PostGraphile.
pub struct Peer {
    child: Child,
    /// Its GraphQL endpoint.
    pub graphql_url: String,
}

impl Peer {
    /// Starts `folder/start DATABASE_URL PORT` with its output in `log`, and waits (npm install
    /// included, up to ten minutes) until its endpoint answers GraphQL.
    pub async fn start(folder: &Path, database_url: &str, log: &Path) -> anyhow::Result<Self> {
        let script: PathBuf = folder.join("start");
        if !script.exists() {
            bail!("{} is missing", script.display());
        }
        let port = free_port()?;
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(&script)
            .args([database_url, &port.to_string()])
            .stdout(Stdio::from(log_file.try_clone()?))
            .stderr(Stdio::from(log_file))
            .spawn()
            .with_context(|| format!("starting {}", script.display()))?;
        let mut peer = Self { child, graphql_url: format!("http://127.0.0.1:{port}/graphql") };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = peer.child.try_wait() {
                bail!("PostGraphile exited ({status}) before it answered; see {}", log.display());
            }
            let probe =
                http.post(&peer.graphql_url).json(&serde_json::json!({ "query": "{ __typename }" })).send().await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return Ok(peer);
            }
            if started.elapsed() > Duration::from_secs(600) {
                bail!("PostGraphile did not answer within 10 minutes; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The start script runs node as its child: end the whole process group it leads, then it.
        let _ = Command::new("pkill").args(["-TERM", "-P", &self.child.id().to_string()]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
