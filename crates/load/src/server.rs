//! The orb under test: the built `orb` binary started as a child on a free port, on a scratch
//! database, and its memory read from `/proc` while it serves.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A running `orb serve`.
pub struct Orb {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
}

/// A port free on loopback now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The `orb` binary next to this one (both are built by the same `cargo build`).
pub fn sibling_orb() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let orb = me.with_file_name("orb");
    if !orb.exists() {
        bail!("no orb binary at {}: build it with the same profile (cargo build -p orb-server)", orb.display());
    }
    Ok(orb)
}

impl Orb {
    /// Starts `orb serve --demo` on `database_url` (migrating it and loading the demo), with its
    /// log in `log`, and waits until it is ready. Code-exchange and sign-in rate limits are
    /// raised: every simulated respondent comes from 127.0.0.1.
    pub async fn start(orb: &Path, database_url: &str, log: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(orb)
            .args(["serve", "--demo"])
            .env_remove("DATABASE_URL")
            .env("ORB_DATABASE_URL", database_url)
            .env("ORB_BIND", format!("127.0.0.1:{port}"))
            .env("ORB_LOG_LEVEL", "warn")
            .env("ORB_RATE_LIMITS__CODE_EXCHANGE_PER_MINUTE", "100000000")
            .env("ORB_RATE_LIMITS__LOGIN_PER_MINUTE", "100000")
            .stdout(Stdio::from(log_file.try_clone()?))
            .stderr(Stdio::from(log_file))
            .spawn()
            .with_context(|| format!("starting {}", orb.display()))?;
        let mut server = Self { child, base: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("orb exited ({status}) before it was ready; see {}", log.display());
            }
            if http.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(300) {
                server.stop();
                bail!("orb was not ready after 5 minutes; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it as an operator would (SIGTERM), and waits for it.
    pub fn stop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Orb {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Resident memory of a process in KiB: `(VmRSS, VmHWM)` from `/proc/PID/status`.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field =
        |name: &str| status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse::<u64>().ok();
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples a process's resident memory every 100 ms, keeping the highest since the last reset.
pub struct MemorySampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl MemorySampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (Arc::clone(&peak), Arc::clone(&stop));
        tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory_kib(pid) {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Self { peak, stop }
    }

    /// The highest resident memory seen since the last call, in KiB; starts a new window.
    pub fn take_peak(&self) -> u64 {
        self.peak.swap(0, Ordering::Relaxed)
    }
}

impl Drop for MemorySampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_resident_memory() {
        let (rss, hwm) = memory_kib(std::process::id()).unwrap_or_default();
        assert!(rss > 0 && hwm >= rss, "{rss} {hwm}");
    }
}
