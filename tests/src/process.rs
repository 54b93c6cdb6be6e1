//! Processes a test runs itself: the built `orb` binary as a child (to signal, kill and restart
//! as an operator or a crash would), and a PostgreSQL cluster the test owns (to stop and start
//! under a running service without disturbing the shared server).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("an address").port()
}

/// The `orb` binary, built once per test process if needed (a no-op when fresh):
/// `cargo test -p orb-tests` alone does not build another package's binaries, and
/// `CARGO_BIN_EXE_*` is only set for a package's own tests.
pub fn orb_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_orb_binary).clone()
}

fn build_orb_binary() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_owned();
    let output = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "orb-server", "--bin", "orb", "--message-format=json"])
        .current_dir(&workspace)
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo build of the orb binary failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == "orb")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the orb executable")
}

/// The `orb` binary serving on a fixed port as a child process, with everything it writes
/// (stdout and stderr, across restarts) in one log file. Killed, and its log removed, when
/// dropped.
pub struct OrbProcess {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    port: u16,
    database_url: String,
    settings: Vec<(String, String)>,
    process: Option<std::process::Child>,
    log: PathBuf,
}

impl OrbProcess {
    /// Starts `orb serve --no-migrate` on `database_url` (as the schema owner) and a free
    /// port, with only the given settings besides the database and address (no configuration
    /// file, a clean environment); returns once `/readyz` answers 200.
    pub async fn start(database_url: &str, settings: &[(&str, String)]) -> Self {
        Self::start_with(database_url, &["serve", "--no-migrate"], settings).await
    }

    /// Starts `orb <args>` as [`OrbProcess::start`] does (`serve --demo` prepares a database:
    /// migrations and the demo may take a while on a busy machine, so it waits up to 2 minutes).
    pub async fn start_with(database_url: &str, args: &[&str], settings: &[(&str, String)]) -> Self {
        let port = free_port();
        let mut orb = Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            database_url: database_url.to_owned(),
            settings: settings.iter().map(|(key, value)| ((*key).to_owned(), value.clone())).collect(),
            process: None,
            log: std::env::temp_dir().join(format!("orb-child-{}.log", uuid::Uuid::new_v4().simple())),
        };
        orb.spawn(args);
        orb.wait_until_ready(Duration::from_secs(120)).await;
        orb
    }

    fn spawn(&mut self, args: &[&str]) {
        let log = std::fs::File::options().create(true).append(true).open(&self.log).expect("a log file");
        let process = Command::new(orb_binary())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ORB_CONFIG", "/nonexistent/orb.toml")
            .env("DATABASE_URL", &self.database_url)
            .env("ORB_BIND", format!("127.0.0.1:{}", self.port))
            .env("ORB_LOG_LEVEL", "info,sqlx=warn,sea_orm=warn")
            .envs(self.settings.iter().map(|(key, value)| (key.as_str(), value.as_str())))
            .stdout(Stdio::from(log.try_clone().expect("the log file")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("orb starts");
        self.process = Some(process);
    }

    /// Everything the process (and its earlier runs) wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal by name (`TERM`, `INT`) to the running process.
    pub fn signal(&self, signal: &str) {
        let process = self.process.as_ref().expect("orb is running");
        let status =
            Command::new("kill").args([format!("-{signal}"), process.id().to_string()]).status().expect("kill runs");
        assert!(status.success(), "kill -{signal} succeeds");
    }

    /// SIGKILL, as a crash or the out-of-memory killer would: nothing gets to finish. Returns
    /// once the process is gone.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts `orb serve` again on the same port and database (applying no migration: there is
    /// none pending), as a supervisor would after a crash; returns once ready.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn(&["serve", "--no-migrate"]);
        self.wait_until_ready(Duration::from_secs(30)).await;
    }

    /// Waits for the process to exit, at most `limit`.
    pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let process = self.process.as_mut()?;
            if let Some(status) = process.try_wait().expect("the child can be waited for") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    async fn wait_until_ready(&mut self, limit: Duration) {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("an HTTP client");
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(response) = http.get(format!("{}/readyz", self.address)).send().await
                && response.status() == StatusCode::OK
            {
                return;
            }
            let process = self.process.as_mut().expect("orb was started");
            if let Some(status) = process.try_wait().expect("the child can be waited for") {
                panic!("orb exited early ({status}):\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("orb did not become ready within {limit:?}:\n{}", self.log());
    }
}

impl Drop for OrbProcess {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A PostgreSQL cluster this test owns: made with `initdb` in a temporary directory, on its own
/// port, stopped and removed when dropped. PostgreSQL refuses to run as root: as root, its tools
/// run as the `postgres` user over a directory that user owns.
pub struct OwnedPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl OwnedPostgres {
    /// Creates and starts a cluster with trust authentication for `postgres` on 127.0.0.1.
    pub fn create() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server tools are installed under /usr/lib/postgresql")
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok().map(|v| (v, entry.path())))
            .max_by_key(|(version, _)| *version)
            .map(|(_, path)| path.join("bin"))
            .expect("a PostgreSQL version directory");
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = std::env::temp_dir().join(format!("orb-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        if as_postgres {
            let chown = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().expect("chown runs");
            assert!(chown.success(), "the directory is given to postgres");
        }
        let cluster = Self { bin, dir, port: free_port(), as_postgres };
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &["-D", path(&data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"],
        );
        cluster.start();
        cluster
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool).args(args).current_dir(&self.dir).output().expect("the PostgreSQL tool runs");
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the cluster and waits (at most 30 s) until it accepts connections, after crash
    /// recovery if it was stopped immediately.
    pub fn start(&self) {
        // fsync off: the tests stop PostgreSQL's processes, never the machine, so what was
        // written reaches the files through the kernel either way.
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, path(&self.dir));
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        self.run("pg_ctl", &["-D", path(&data), "-o", &options, "-l", path(&log), "-w", "-t", "30", "start"]);
    }

    /// Stops the cluster cleanly: sessions are ended and their transactions rolled back.
    pub fn stop(&self) {
        let data = self.dir.join("data");
        self.run("pg_ctl", &["-D", path(&data), "-m", "fast", "-w", "stop"]);
    }

    /// Stops the cluster as a crash would (`pg_ctl stop -m immediate`): every server process
    /// quits at once, nothing is checkpointed, and the next start recovers from the WAL.
    pub fn stop_immediately(&self) {
        let data = self.dir.join("data");
        self.run("pg_ctl", &["-D", path(&data), "-m", "immediate", "-w", "stop"]);
    }

    /// A superuser's URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

impl Drop for OwnedPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.command("pg_ctl").args(["-D", path(&data), "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
