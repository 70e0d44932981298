//! The real `redress` binary as child processes: one-shot commands (tokens, `audit verify`)
//! and `redress serve` with its log (JSON lines) in a file. A guard kills a server if the test
//! ends early, so a failed assertion never leaves one running.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_redress");

/// A port nobody is listening on now (bound to port 0, read, released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

/// Runs a one-shot `redress` command to completion.
pub fn redress(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("REDRESS_DATABASE_URL")
        .env_remove("REDRESS_PROCEDURE")
        .output()
        .expect("run the redress binary")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `redress token create` for a role (and department, for handlers); returns the token.
pub fn create_token(database: &str, role: &str, department: Option<&str>, staff: &str) -> String {
    let mut args = vec![
        "token",
        "create",
        "--database",
        database,
        "--role",
        role,
        "--staff",
        staff,
    ];
    if let Some(department) = department {
        args.extend(["--department", department]);
    }
    let out = redress(&args);
    assert!(
        out.status.success(),
        "token create failed: {}",
        text(&out.stderr)
    );
    let token = text(&out.stdout).trim().to_owned();
    assert!(!token.is_empty(), "token create printed no token");
    token
}

/// A token for a customer services handler.
pub fn handler_token(database: &str) -> String {
    create_token(
        database,
        "handler",
        Some("customer_services"),
        "process-test",
    )
}

/// `redress audit verify`; asserts it exits 0 and returns its summary line.
pub fn assert_audit_intact(database: &str) -> String {
    let started = Instant::now();
    let out = redress(&["audit", "verify", "--database", database]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "audit verify failed ({}):\n{stdout}\n{}",
        out.status,
        text(&out.stderr)
    );
    eprintln!(
        "audit verify ({:.1?}): {}",
        started.elapsed(),
        stdout.trim()
    );
    stdout.trim().to_owned()
}

/// An HTTP client whose requests give up after 30 s.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// A `redress serve` child process. Dropping it kills the process if it is still running.
pub struct Server {
    pub name: String,
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    /// `serve` on `database`, its letters (files and the print queue) beside the logs.
    pub fn start(
        name: &str,
        database: &str,
        log_dir: &Path,
        clock_start: Option<&str>,
        interval_ms: Option<u64>,
    ) -> Server {
        Server::start_with(name, database, log_dir, |command| {
            command
                .arg("--mail-dir")
                .arg(log_dir.join("mail"))
                .arg("--print-dir")
                .arg(log_dir.join("print"));
            if let Some(start) = clock_start {
                command.args(["--clock-start", start]);
            }
            if let Some(ms) = interval_ms {
                command.args(["--scheduler-interval-ms", &ms.to_string()]);
            }
        })
    }

    /// `serve` on `database` with its log (JSON lines) in `log_dir/{name}.log`; `configure`
    /// adds arguments and environment.
    pub fn start_with(
        name: &str,
        database: &str,
        log_dir: &Path,
        configure: impl FnOnce(&mut Command),
    ) -> Server {
        Server::spawn(name, database, log_dir, "json", configure)
    }

    /// Like [`Server::start_with`], with the log in its default format (text), as an operator
    /// reads it.
    pub fn start_with_text_log(
        name: &str,
        database: &str,
        log_dir: &Path,
        configure: impl FnOnce(&mut Command),
    ) -> Server {
        Server::spawn(name, database, log_dir, "text", configure)
    }

    fn spawn(
        name: &str,
        database: &str,
        log_dir: &Path,
        log_format: &str,
        configure: impl FnOnce(&mut Command),
    ) -> Server {
        let port = free_port();
        let log = log_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("create a log file");
        let listen = format!("127.0.0.1:{port}");
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--database", database, "--listen", &listen])
            .args(["--procedure", "default", "--log-format", log_format])
            .env_remove("REDRESS_DATABASE_URL")
            .env_remove("REDRESS_CLOCK_START")
            .env_remove("REDRESS_SCHEDULER_INTERVAL_MS")
            .env_remove("REDRESS_SQLITE_SYNCHRONOUS")
            .env_remove("REDRESS_SMTP_URL")
            .env_remove("REDRESS_MAIL_FROM")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        configure(&mut command);
        let child = command.spawn().expect("start redress serve");
        Server {
            name: name.to_owned(),
            child,
            port,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `GET /readyz` until it answers 200; fails if the process exits first.
    pub async fn wait_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited before it was ready ({status}):\n{}",
                    self.name,
                    self.log_text()
                );
            }
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 60 s:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, and waits until the process is gone.
    pub async fn kill_9(&mut self) {
        self.signal("-KILL");
        self.wait_exit(Duration::from_secs(10)).await;
    }

    /// Sends a signal with the `kill` command.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {} failed", self.name);
    }

    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} still running {limit:?} after being told to stop:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub async fn stop(&mut self) {
        self.signal("-TERM");
        let status = self.wait_exit(Duration::from_secs(60)).await;
        assert!(
            status.success(),
            "{} did not stop cleanly ({status}):\n{}",
            self.name,
            self.log_text()
        );
    }

    /// The JSON log lines with this message.
    pub fn log_lines(&self, message: &str) -> Vec<Value> {
        self.log_text()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["fields"]["message"] == message)
            .collect()
    }

    /// Log lines at ERROR or WARN level (shown in the report).
    pub fn problems(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|line| {
                line.contains("\"level\":\"ERROR\"") || line.contains("\"level\":\"WARN\"")
            })
            .filter(|line| !line.contains("shifted clock"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
