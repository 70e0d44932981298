//! The command line: parses arguments and runs one subcommand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use redress_core::procedure::MAX_PROCEDURE_BYTES;
use redress_core::{Procedure, Role};

use crate::app::{Application, Config};
use crate::clock::{Clock, OffsetClock, SystemClock};
use crate::keys::{KEY_ENV, PublicKey, SigningKey};
use crate::simulate::{MAX_SCENARIO_BYTES, Scenario};
use crate::store::{Anchor, Signatures, Store, VerifyWith};

#[derive(Debug, Parser)]
#[command(
    name = "redress",
    version,
    about = "Complaints handling for UK communications providers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Commands,
}

/// Where the data lives; shared by every command that opens the database.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// A SQLite file path (created if missing) or a postgres:// URL.
    #[arg(long, env = "REDRESS_DATABASE_URL", default_value = "redress.db")]
    pub database: String,
}

/// What an export of the record (a case file, a subject access export) needs: where it goes,
/// the record it reads, and who is making it.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Where to write the zip.
    #[arg(long)]
    pub out: std::path::PathBuf,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
    pub procedure: String,
    /// Where the complaints' files and letters as sent are kept.
    #[arg(long, env = "REDRESS_FILES_DIR", default_value = "redress-files")]
    pub files_dir: std::path::PathBuf,
    /// Who is making it, for the record (e.g. your email address).
    #[arg(long, default_value = "command line")]
    pub by: String,
}

impl ExportArgs {
    /// The store, brought up to date, and who is making the export.
    async fn open(&self) -> anyhow::Result<(Store, redress_core::Actor)> {
        let procedure = Arc::new(load_procedure(&self.procedure)?);
        let store = Store::connect(&self.db.database, procedure).await?;
        store.migrate().await?;
        let actor = redress_core::Actor {
            role: Role::Compliance,
            department: None,
            staff: Some(self.by.trim().chars().take(200).collect()),
        };
        Ok((store, actor))
    }

    /// Writes the zip durably where `--out` says.
    fn write(&self, zip: &[u8]) -> anyhow::Result<()> {
        crate::durable::write_whole(&self.out, zip)
            .with_context(|| format!("cannot write {}", self.out.display()))
    }
}

/// The key that signs ledger blocks, kept outside the database (`redress keys create`). It can
/// also be given whole in the environment variable REDRESS_SIGNING_KEY (never as a flag, which
/// other users could read in the process list).
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The signing key file written by `redress keys create --out FILE`.
    #[arg(long, env = "REDRESS_SIGNING_KEY_FILE")]
    pub signing_key: Option<PathBuf>,
}

impl KeyArgs {
    /// The key from the file or REDRESS_SIGNING_KEY, if either is given.
    fn load(&self) -> anyhow::Result<Option<SigningKey>> {
        let text = std::env::var(KEY_ENV).ok().map(zeroize::Zeroizing::new);
        Ok(SigningKey::load(
            self.signing_key.as_deref(),
            text.as_ref().map(|t| t.as_str()),
        )?)
    }
}

/// How `redress serve` sends letters and emails.
#[derive(Debug, Clone, clap::Args)]
pub struct MailArgs {
    /// Send email through this SMTP server: smtp://HOST:PORT (smtps:// for TLS, or
    /// smtp://...?tls=required for STARTTLS; USER:PASSWORD@ before the host to sign in).
    /// Without it, each email is written as an .eml file to --mail-dir.
    #[arg(long, env = "REDRESS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address, e.g. "kinex complaints <complaints@kinex.example>" (default: the
    /// organisation's name at complaints@localhost).
    #[arg(long, env = "REDRESS_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Where emails are written as .eml files when no --smtp-url is given.
    #[arg(long, env = "REDRESS_MAIL_DIR", default_value = "redress-mail")]
    pub mail_dir: PathBuf,
    /// The print queue for post: a PDF per letter and manifest.json.
    #[arg(long, env = "REDRESS_PRINT_DIR", default_value = "redress-print")]
    pub print_dir: PathBuf,
    /// How often the sender looks for letters due, in milliseconds.
    #[arg(long, env = "REDRESS_MAIL_INTERVAL_MS", default_value_t = 1000)]
    pub mail_interval_ms: u64,
    /// The wait after a failed attempt, in milliseconds; it doubles with each failure.
    #[arg(long, env = "REDRESS_MAIL_RETRY_MS", default_value_t = 30_000)]
    pub mail_retry_ms: u64,
    /// The longest wait between attempts, in seconds.
    #[arg(long, env = "REDRESS_MAIL_RETRY_MAX_SECS", default_value_t = 3600)]
    pub mail_retry_max_secs: u64,
    /// How long a node holds a letter it is sending before another may take it, in seconds.
    #[arg(long, env = "REDRESS_MAIL_LEASE_SECS", default_value_t = 300)]
    pub mail_lease_secs: u64,
    /// How many letters are rendered and sent at once (default: 4 per core, at most 32).
    #[arg(long, env = "REDRESS_MAIL_WORKERS")]
    pub mail_workers: Option<usize>,
}

impl MailArgs {
    fn config(self) -> crate::mail::send::MailConfig {
        crate::mail::send::MailConfig {
            smtp_url: self.smtp_url.filter(|u| !u.trim().is_empty()),
            from: self.mail_from.filter(|f| !f.trim().is_empty()),
            mail_dir: self.mail_dir,
            print_dir: self.print_dir,
            interval: Duration::from_millis(self.mail_interval_ms.max(10)),
            retry_base: Duration::from_millis(self.mail_retry_ms.max(10)),
            retry_max: Duration::from_secs(self.mail_retry_max_secs.max(1)),
            lease: Duration::from_secs(self.mail_lease_secs.max(1)),
            workers: self
                .mail_workers
                .unwrap_or_else(crate::mail::send::default_workers)
                .clamp(1, 256),
            ..crate::mail::send::MailConfig::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RenderFormat {
    Text,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

// Parsed once at start-up: how big the `serve` variant is does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Serve the JSON API and run the deadline scheduler.
    Serve {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, env = "REDRESS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// `default` (the built-in procedure) or a procedure file.
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
        #[arg(long, env = "REDRESS_LOG_FORMAT", value_enum, default_value = "text")]
        log_format: LogFormat,
        /// How often the scheduler looks for deadlines that have come due, in milliseconds.
        #[arg(long, env = "REDRESS_SCHEDULER_INTERVAL_MS", default_value_t = 1000)]
        scheduler_interval_ms: u64,
        /// Run as if the time now were this instant (RFC 3339), advancing in real time: for
        /// rehearsing a procedure change or testing deadlines. Never in production.
        #[arg(long, env = "REDRESS_CLOCK_START")]
        clock_start: Option<jiff::Timestamp>,
        /// Where uploaded files are kept.
        #[arg(long, env = "REDRESS_FILES_DIR", default_value = "redress-files")]
        files_dir: std::path::PathBuf,
        /// The site is served over HTTPS (perhaps by a proxy in front): every cookie is marked
        /// Secure and every response carries Strict-Transport-Security. Implied by an https
        /// --public-url.
        #[arg(long, env = "REDRESS_SECURE_COOKIES")]
        secure_cookies: bool,
        /// The site's public address, for links in emails (default: http://LISTEN).
        #[arg(long, env = "REDRESS_PUBLIC_URL")]
        public_url: Option<String>,
        /// A proxy in front of the server (its IP address) whose X-Forwarded-For is believed, to
        /// know a client's address; repeat for each. REDRESS_TRUSTED_PROXIES takes a
        /// comma-separated list.
        #[arg(
            long = "trusted-proxy",
            value_name = "IP",
            env = "REDRESS_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// How long a client may take to send a request's headers, and how long an idle
        /// kept-alive connection is kept, in seconds (1 to 3600); then the connection is closed.
        #[arg(
            long,
            env = "REDRESS_HEADER_TIMEOUT_SECS",
            default_value_t = 10,
            value_parser = clap::value_parser!(u64).range(1..=3600)
        )]
        header_timeout_secs: u64,
        /// A mailbox to poll for email in: imaps://USER:PASSWORD@HOST:PORT/INBOX (or imap://).
        #[arg(long, env = "REDRESS_IMAP_URL", hide_env_values = true)]
        imap_url: Option<String>,
        /// How often the IMAP poller looks for new messages, in seconds.
        #[arg(long, env = "REDRESS_IMAP_INTERVAL_SECS", default_value_t = 60)]
        imap_interval_secs: u64,
        /// Extra certificates (PEM) to trust for imaps://, e.g. a private CA's.
        #[arg(long, env = "REDRESS_IMAP_CA_FILE")]
        imap_ca_file: Option<PathBuf>,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        key: KeyArgs,
        /// How often the ledger is sealed (a signed block of every complaint that changed), in
        /// seconds.
        #[arg(long, env = "REDRESS_SEAL_INTERVAL_SECS", default_value_t = 5)]
        seal_interval_secs: u64,
    },
    /// File one email (RFC 5322) read on standard input, as an MTA pipe: added to the complaint
    /// it names, a new complaint, or quarantined. Exits 0 once it is stored; 75 (try again
    /// later) when the database or the files folder cannot be reached.
    IngestMail {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
        /// Where attachments and quarantined messages are kept.
        #[arg(long, env = "REDRESS_FILES_DIR", default_value = "redress-files")]
        files_dir: std::path::PathBuf,
    },
    /// Make the ombudsman's case file of a complaint, as a zip: summary.pdf, correspondence/
    /// (letters as sent, emails received), evidence/, records/ (calls, course of events,
    /// notes; restricted notes left out) and manifest.json. Recorded on the complaint.
    CaseFile {
        /// The complaint, e.g. CMP-2026-000123.
        reference: String,
        #[command(flatten)]
        export: ExportArgs,
    },
    /// Export everything held about a customer, for their subject access request (UK GDPR),
    /// as a zip: data.json, complaints.pdf, letters/ as sent, files/, manifest.json. What is
    /// about other people (restricted notes, staff) stays out. Recorded on each complaint.
    SubjectAccess {
        /// The customer's account number.
        #[arg(long)]
        account: String,
        /// An email address they used, for complaints recorded under it.
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        export: ExportArgs,
    },
    /// Manage staff accounts for the web pages.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Bring the database schema up to date (also done by `serve`).
    Migrate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The complaint report for a period: received (by month, category and channel), open at
    /// the end, timeliness, outcomes, compensation, vulnerable customers.
    Report {
        /// The first London date of the period (YYYY-MM-DD); default the first complaint's.
        #[arg(long)]
        from: Option<jiff::civil::Date>,
        /// The last London date of the period; default today.
        #[arg(long)]
        to: Option<jiff::civil::Date>,
        /// json (the default), csv, or table (for people).
        #[arg(long, default_value = "json")]
        format: String,
        /// Customers served, for complaints per 100,000 customers.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
        customers: Option<u64>,
        /// Only complaints of this category.
        #[arg(long)]
        category: Option<String>,
        /// Only complaints received by this channel.
        #[arg(long)]
        channel: Option<String>,
        /// Write it to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
    },
    /// Ofcom's automatic compensation scheme.
    Compensation {
        #[command(subcommand)]
        command: CompensationCommand,
    },
    /// Retention: erase the personal data of complaints closed longer than the procedure's
    /// retention_months, unless something holds them (also run daily by `serve`).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Check the record, and anchor it.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage the key that signs the ledger.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run a dated scenario through the real core on a virtual clock; prints JSON lines.
    Simulate {
        /// The scenario file (JSON).
        scenario: PathBuf,
    },
    /// Fill the database with realistic complaints, each taken through the procedure by the
    /// real core and written through the store: received over the last --years years, at every
    /// stage and status, with their calls, notes, evidence, offers, compensation, letters and
    /// clocks. The same --seed and --complaints always give the same complaints.
    SeedData {
        #[command(flatten)]
        db: DatabaseArgs,
        /// How many complaints to add.
        #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = complaint_count)]
        complaints: u64,
        /// The seed of every random choice.
        #[arg(long, value_name = "S", default_value_t = 1, allow_hyphen_values = true, value_parser = seed_number)]
        seed: u64,
        /// Complaints are received over this many years before now.
        #[arg(long, value_name = "Y", default_value_t = 2, allow_hyphen_values = true, value_parser = year_count)]
        years: u32,
        /// `default` (the built-in procedure) or a procedure file.
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
        /// Seed as if the time now were this instant (RFC 3339), as `serve --clock-start` runs.
        #[arg(long, env = "REDRESS_CLOCK_START")]
        clock_start: Option<jiff::Timestamp>,
    },
    /// Work with procedure files.
    Procedure {
        #[command(subcommand)]
        command: ProcedureCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it (it is stored only as a hash: keep it safe).
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// handler, team_manager, customer_resolution_manager, compliance or administrator.
        #[arg(long)]
        role: String,
        /// The department key (from the procedure) of a handler or manager.
        #[arg(long)]
        department: Option<String>,
        /// Who holds it (a staff identifier, shown on events they cause).
        #[arg(long)]
        staff: Option<String>,
        /// A note on what the token is for.
        #[arg(long)]
        label: Option<String>,
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
    },
    /// List the tokens: id, role, department, holder, label, created and revoked (never the
    /// tokens themselves).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a token by its id (from `redress token list`). Running servers stop accepting
    /// it within ten seconds.
    Revoke {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The token's id.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account; the password is read from REDRESS_PASSWORD or standard input.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// handler, team_manager, customer_resolution_manager, compliance or administrator.
        #[arg(long)]
        role: String,
        /// The department key (from the procedure) of a handler or manager.
        #[arg(long)]
        department: Option<String>,
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CompensationCommand {
    /// The amount Ofcom's automatic compensation scheme pays, in pounds, and how it was worked
    /// out: `--kind delayed_repair --reported RFC3339 --restored RFC3339 [--nation N]`,
    /// `--kind missed_appointment --date DATE`, `--kind delayed_provision --due DATE --started DATE`.
    Quote {
        /// delayed_repair, missed_appointment or delayed_provision.
        #[arg(long)]
        kind: String,
        /// delayed_repair: when the total loss of service was reported.
        #[arg(long)]
        reported: Option<jiff::Timestamp>,
        /// delayed_repair: when the service was restored.
        #[arg(long)]
        restored: Option<jiff::Timestamp>,
        /// delayed_repair: whose bank holidays count: england_and_wales, scotland or
        /// northern_ireland.
        #[arg(long, default_value = "england_and_wales")]
        nation: String,
        /// missed_appointment: the appointment's date.
        #[arg(long)]
        date: Option<jiff::civil::Date>,
        /// delayed_provision: the date the service was due to start.
        #[arg(long)]
        due: Option<jiff::civil::Date>,
        /// delayed_provision: the date it started.
        #[arg(long)]
        started: Option<jiff::civil::Date>,
        /// Whose rates and extra bank holidays: `default` or a procedure file.
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
        /// Print the quote as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Erase the personal data of every closed complaint past its retention period with no
    /// hold (a legal hold, the ombudsman window after an ADR letter, a referral not decided,
    /// a remedy not completed); list those held. Then delete the files erasures left and clear
    /// the database's free space.
    Run {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
        /// Where the complaints' files and letters as sent are kept.
        #[arg(long, env = "REDRESS_FILES_DIR", default_value = "redress-files")]
        files_dir: PathBuf,
        /// The print queue folder (post letters' PDFs).
        #[arg(long, env = "REDRESS_PRINT_DIR", default_value = "redress-print")]
        print_dir: PathBuf,
        /// List what would be erased and held, changing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run as of this instant (RFC 3339) instead of now.
        #[arg(long)]
        as_of: Option<jiff::Timestamp>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify every complaint's hash chain, that each complaint is the fold of its events,
    /// that the ledger still seals every chain's head, and the ledger's blocks and signatures.
    Verify {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long, env = "REDRESS_PROCEDURE", default_value = "default")]
        procedure: String,
        /// Check signatures with the signing key's public half alone: the text printed by
        /// `redress keys create`, or a file holding it (takes the place of --signing-key).
        #[arg(long, env = "REDRESS_PUBLIC_KEY")]
        public_key: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
        /// An anchor printed by `redress audit anchor`: proves that nothing sealed up to it has
        /// changed since, and that the database is not an older copy.
        #[arg(long)]
        anchor: Option<PathBuf>,
    },
    /// Seal what is not sealed yet and print the store-wide head as JSON, for keeping outside
    /// the database (e.g. in compliance's own mailbox or a write-once store).
    Anchor {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new Ed25519 signing key. With --out, it is written to a new file readable by its
    /// owner alone (never over an existing one); without, it is printed on standard output for
    /// REDRESS_SIGNING_KEY. The public key is printed beside it, for whoever verifies.
    Create {
        /// The file to write the key to.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProcedureCommand {
    /// Check a procedure file and list every problem with its field and line.
    Check {
        /// The procedure file (TOML), or `default` for the built-in procedure.
        file: String,
    },
    /// Print the customer-facing complaints code generated from a procedure file.
    Render {
        /// The procedure file (TOML), or `default` for the built-in procedure.
        file: String,
        #[arg(long, value_enum, default_value = "text")]
        format: RenderFormat,
    },
}

/// The most complaints one `seed-data` run adds.
pub const MAX_SEED_COMPLAINTS: u64 = 100_000_000;

/// A whole number from `min` to `max`, or a sentence saying what it must be.
fn whole_number(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let text = text.trim();
    let Ok(n) = text.replace('_', "").parse::<i128>() else {
        return Err(format!("'{text}' is not a whole number"));
    };
    if n < i128::from(min) {
        return Err(format!("must be at least {min}"));
    }
    if n > i128::from(max) {
        return Err(format!("must be at most {max}"));
    }
    u64::try_from(n).map_err(|_| format!("must be at most {max}"))
}

fn complaint_count(text: &str) -> Result<u64, String> {
    whole_number(text, 1, MAX_SEED_COMPLAINTS)
}

fn seed_number(text: &str) -> Result<u64, String> {
    whole_number(text, 0, u64::MAX)
}

fn year_count(text: &str) -> Result<u32, String> {
    whole_number(text, 1, 50).map(|n| n as u32)
}

/// `redress seed-data`: checks everything before the database is opened.
fn seed_data(
    database: &str,
    options: crate::seed::Options,
    procedure: Procedure,
) -> anyhow::Result<ExitCode> {
    crate::seed::check(&options, &procedure).map_err(anyhow::Error::msg)?;
    runtime()?.block_on(async {
        let store = Store::connect(database, Arc::new(procedure)).await?;
        store.migrate().await?;
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(options.complaints),
            indicatif::ProgressDrawTarget::stderr_with_hz(4),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} complaints, {per_sec:0}, {eta} left",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        let seeded = crate::seed::seed(&store, &options, |n| bar.inc(n)).await;
        bar.finish_and_clear();
        store.close().await;
        println!("{}", seeded?.report());
        Ok(ExitCode::SUCCESS)
    })
}

/// Reads a whole file, refusing one larger than `limit` bytes.
fn read_limited(path: &Path, limit: usize) -> anyhow::Result<String> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.len() > limit as u64 {
        anyhow::bail!("{} is larger than {limit} bytes", path.display());
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

/// Loads `default` (the built-in procedure) or a procedure file.
pub fn load_procedure(name: &str) -> anyhow::Result<Procedure> {
    if name == "default" {
        return Ok(Procedure::default_procedure());
    }
    let text = read_limited(Path::new(name), MAX_PROCEDURE_BYTES)?;
    Procedure::from_toml(&text).map_err(|errors| anyhow::anyhow!("{name}: {errors}"))
}

/// Runs the command line; errors are printed by `main` as plain sentences.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Commands::Simulate { scenario } => simulate(&scenario),
        Commands::SeedData {
            db,
            complaints,
            seed,
            years,
            procedure,
            clock_start,
        } => {
            let procedure = load_procedure(&procedure)?;
            let options = crate::seed::Options {
                complaints,
                seed,
                years,
                now: clock_start.unwrap_or_else(|| SystemClock.now()),
            };
            seed_data(&db.database, options, procedure)
        }
        Commands::Procedure {
            command: ProcedureCommand::Check { file },
        } => check(&file),
        Commands::Procedure {
            command: ProcedureCommand::Render { file, format },
        } => render(&file, format),
        Commands::User {
            command:
                UserCommand::Create {
                    db,
                    email,
                    name,
                    role,
                    department,
                    procedure,
                },
        } => {
            let procedure = Arc::new(load_procedure(&procedure)?);
            let role = staff_role(&role, department.as_deref(), &procedure)?;
            let email = email.trim().to_lowercase();
            if !email.contains('@') || email.len() > 200 {
                anyhow::bail!("'{email}' is not an email address");
            }
            let password = match std::env::var("REDRESS_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("cannot read the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            if password.chars().count() < 12 || password.len() > 200 {
                anyhow::bail!("the password must be 12 to 200 characters long");
            }
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_owned());
            runtime()?.block_on(async {
                let store = Store::connect(&db.database, procedure).await?;
                store.migrate().await?;
                let user = store
                    .create_user(
                        &email,
                        &name,
                        &password,
                        role,
                        department.as_deref(),
                        SystemClock.now(),
                    )
                    .await
                    .map_err(|e| match e {
                        crate::store::StoreError::Database(sqlx::Error::Database(d))
                            if d.is_unique_violation() =>
                        {
                            anyhow::anyhow!("a user with the email {email} already exists")
                        }
                        other => anyhow::Error::new(other),
                    })?;
                println!(
                    "created {} ({}) as {}",
                    user.email,
                    user.name,
                    user.role.as_str()
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        Commands::Serve {
            db,
            listen,
            procedure,
            log_format,
            scheduler_interval_ms,
            clock_start,
            files_dir,
            secure_cookies,
            public_url,
            trusted_proxies,
            header_timeout_secs,
            imap_url,
            imap_interval_secs,
            imap_ca_file,
            mail,
            key,
            seal_interval_secs,
        } => {
            init_logging(log_format);
            let signing_key = key.load()?;
            if signing_key.is_none() {
                tracing::warn!(
                    "no signing key (--signing-key or REDRESS_SIGNING_KEY): the ledger is sealed unsigned"
                );
            }
            let procedure = Arc::new(load_procedure(&procedure)?);
            for warning in redress_core::regulation::check(&procedure) {
                tracing::warn!(
                    rule = warning.rule,
                    source = warning.source,
                    "{}",
                    warning.message
                );
            }
            let clock: Arc<dyn Clock> = match clock_start {
                Some(start) => {
                    tracing::warn!(%start, "running on a shifted clock: deadlines follow it, not the real time");
                    Arc::new(OffsetClock::starting_at(start))
                }
                None => Arc::new(SystemClock),
            };
            let mut config = Config::new(&db.database, &listen, procedure, clock);
            config.scheduler_interval = Duration::from_millis(scheduler_interval_ms.max(10));
            config.web.files_dir = files_dir;
            config.web.secure_cookies = secure_cookies;
            config.web.trusted_proxies = trusted_proxies;
            config.header_read_timeout = Duration::from_secs(header_timeout_secs);
            config.mail = mail.config();
            config.signing_key = signing_key.map(Arc::new);
            config.seal_interval = Duration::from_secs(seal_interval_secs.max(1));
            if let Some(url) = public_url {
                config.web.public_url = url.trim_end_matches('/').to_owned();
            }
            if let Some(url) = imap_url.filter(|u| !u.trim().is_empty()) {
                let account = crate::mail::imap::ImapAccount::parse(&url)
                    .map_err(anyhow::Error::msg)?
                    .with_ca_file(imap_ca_file);
                config.imap = Some(crate::mail::imap::ImapConfig {
                    account,
                    interval: Duration::from_secs(imap_interval_secs.max(1)),
                });
            }
            runtime()?.block_on(async {
                let app = Application::build(config).await?;
                app.run_until_stopped().await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Commands::IngestMail {
            db,
            procedure,
            files_dir,
        } => {
            init_logging(LogFormat::Text);
            let procedure = Arc::new(load_procedure(&procedure)?);
            Ok(runtime()?.block_on(ingest_mail(&db.database, procedure, files_dir)))
        }
        Commands::CaseFile { reference, export } => {
            let reference = redress_core::Reference::parse(reference.trim()).map_err(|e| {
                anyhow::anyhow!("{reference:?} is not a complaint reference: {}", e.0)
            })?;
            runtime()?.block_on(async {
                let (store, actor) = export.open().await?;
                let making = crate::casefile::generate(
                    &store,
                    &export.files_dir,
                    &reference,
                    &actor,
                    SystemClock.now(),
                );
                let made = crate::store::via::through(crate::store::via::COMMAND_LINE, making)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("cannot make the case file of {reference}: {e}")
                    })?;
                export.write(&made.zip)?;
                println!(
                    "wrote {} ({} files, {} bytes; chain head {})",
                    export.out.display(),
                    made.manifest.files.len() + 1,
                    made.zip.len(),
                    made.manifest.chain_head
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        Commands::SubjectAccess {
            account,
            email,
            export,
        } => {
            let subject = crate::subject_access::Subject {
                account: account.trim().to_owned(),
                email: email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()),
            };
            if subject.account.is_empty() {
                anyhow::bail!("--account must name the customer's account number");
            }
            runtime()?.block_on(async {
                let (store, actor) = export.open().await?;
                let making = crate::subject_access::generate(
                    &store,
                    &export.files_dir,
                    &subject,
                    &actor,
                    SystemClock.now(),
                );
                let made = crate::store::via::through(crate::store::via::COMMAND_LINE, making)
                    .await
                    .map_err(|e| match e {
                        crate::casefile::CaseFileError::NotFound => anyhow::anyhow!(
                            "no complaint is held for account {}{}",
                            subject.account,
                            subject
                                .email
                                .as_deref()
                                .map(|e| format!(" or {e}"))
                                .unwrap_or_default()
                        ),
                        other => anyhow::anyhow!("cannot export: {other}"),
                    })?;
                export.write(&made.zip)?;
                println!(
                    "wrote {} ({} complaints, {} files, {} bytes)",
                    export.out.display(),
                    made.manifest.complaints.len(),
                    made.manifest.files.len() + 1,
                    made.zip.len()
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        Commands::Report {
            from,
            to,
            format,
            customers,
            category,
            channel,
            out,
            db,
            procedure,
        } => {
            if !matches!(format.as_str(), "json" | "csv" | "table") {
                anyhow::bail!("--format must be json, csv or table (got '{format}')");
            }
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                anyhow::bail!("--from ({from}) is after --to ({to})");
            }
            runtime()?.block_on(async {
                let procedure = Arc::new(load_procedure(&procedure)?);
                let store = Store::connect(&db.database, procedure).await?;
                store.migrate().await?;
                let ask = crate::store::ReportAsk {
                    from,
                    to,
                    customers,
                    category: category.filter(|c| !c.trim().is_empty()),
                    channel: channel.filter(|c| !c.trim().is_empty()),
                };
                let report = store
                    .complaint_report(&ask, SystemClock.now())
                    .await
                    .context("cannot make the report")?;
                let text = match format.as_str() {
                    "csv" => crate::reports::csv(&report),
                    "table" => crate::reports::table(&report),
                    _ => serde_json::to_string_pretty(&report)? + "\n",
                };
                match out {
                    Some(path) => crate::durable::write_whole(&path, text.as_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?,
                    None => print!("{text}"),
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        Commands::Compensation {
            command:
                CompensationCommand::Quote {
                    kind,
                    reported,
                    restored,
                    nation,
                    date,
                    due,
                    started,
                    procedure,
                    json,
                },
        } => {
            let procedure = load_procedure(&procedure)?;
            let asked = crate::words::QuoteAsked {
                kind: &kind,
                reported,
                restored,
                nation: &nation,
                date,
                due,
                started,
            };
            let quote = crate::words::quote(&procedure, &asked).map_err(anyhow::Error::msg)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&quote)?);
            } else {
                println!("Amount: {}", redress_core::Money(quote.amount_pence));
                println!("Automatic compensation for {}", quote.kind.in_words());
                for line in &quote.working {
                    println!("  {line}");
                }
                if !quote.rates_confirmed {
                    println!(
                        "  Note: a rate used is not yet confirmed against Ofcom's own publication; check it before paying"
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Commands::Retention {
            command:
                RetentionCommand::Run {
                    db,
                    procedure,
                    files_dir,
                    print_dir,
                    dry_run,
                    as_of,
                    json,
                },
        } => runtime()?.block_on(async {
            let procedure = Arc::new(load_procedure(&procedure)?);
            let store = Store::connect(&db.database, procedure).await?;
            store.migrate().await?;
            let folders = crate::retention::Folders {
                files_dir,
                print_dir,
            };
            let as_of = as_of.unwrap_or_else(|| SystemClock.now());
            let report = crate::store::via::through(
                crate::store::via::COMMAND_LINE,
                crate::retention::run(&store, &folders, as_of, dry_run),
            )
            .await
            .context("the retention run failed")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for line in report.lines() {
                    println!("{line}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }),
        Commands::Migrate { db } => runtime()?.block_on(async {
            let store =
                Store::connect(&db.database, Arc::new(Procedure::default_procedure())).await?;
            store.migrate().await?;
            println!("the database schema is up to date");
            Ok(ExitCode::SUCCESS)
        }),
        Commands::Token {
            command:
                TokenCommand::Create {
                    db,
                    role,
                    department,
                    staff,
                    label,
                    procedure,
                },
        } => {
            let procedure = Arc::new(load_procedure(&procedure)?);
            let role = staff_role(&role, department.as_deref(), &procedure)?;
            runtime()?.block_on(async {
                let store = Store::connect(&db.database, procedure).await?;
                store.migrate().await?;
                let token = store
                    .create_token(
                        role,
                        department.as_deref(),
                        staff.as_deref(),
                        label.as_deref(),
                        SystemClock.now(),
                    )
                    .await?;
                println!("{token}");
                Ok(ExitCode::SUCCESS)
            })
        }
        Commands::Token {
            command: TokenCommand::List { db },
        } => runtime()?.block_on(async {
            let store =
                Store::connect(&db.database, Arc::new(Procedure::default_procedure())).await?;
            store.migrate().await?;
            let tokens = store.list_tokens().await?;
            if tokens.is_empty() {
                println!("no tokens yet: create one with `redress token create --role ...`");
            }
            for t in tokens {
                let state = match t.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\tcreated {}\t{state}",
                    t.id,
                    t.role,
                    t.department.as_deref().unwrap_or("-"),
                    t.staff.as_deref().unwrap_or("-"),
                    t.label.as_deref().unwrap_or("-"),
                    t.created_at,
                );
            }
            Ok(ExitCode::SUCCESS)
        }),
        Commands::Token {
            command: TokenCommand::Revoke { db, id },
        } => runtime()?.block_on(async {
            let store =
                Store::connect(&db.database, Arc::new(Procedure::default_procedure())).await?;
            store.migrate().await?;
            if store.revoke_token(id, SystemClock.now()).await? {
                println!("token {id} is revoked");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("error: no active token has the id {id} (see `redress token list`)");
                Ok(ExitCode::from(1))
            }
        }),
        Commands::Audit {
            command:
                AuditCommand::Verify {
                    db,
                    procedure,
                    public_key,
                    key,
                    anchor,
                },
        } => {
            let procedure = Arc::new(load_procedure(&procedure)?);
            let public = match public_key.filter(|k| !k.trim().is_empty()) {
                Some(text) => Some(PublicKey::from_argument(&text)?),
                None => key.load()?.map(|k| k.public()),
            };
            let anchor = anchor.map(|path| read_anchor(&path)).transpose()?;
            runtime()?.block_on(async {
                let store = Store::connect(&db.database, procedure).await?;
                store.migrate().await?;
                let report = store
                    .verify_record(VerifyWith {
                        key: public.as_ref(),
                        anchor: anchor.as_ref(),
                    })
                    .await?;
                for p in &report.problems {
                    eprintln!("{}", p.problem);
                }
                let verdict = if report.problems.is_empty() {
                    "the record is intact".to_owned()
                } else {
                    format!("{} problems", report.problems.len())
                };
                println!(
                    "checked {} complaints and {} events: {verdict}",
                    report.complaints, report.events
                );
                let signatures = match &report.signatures {
                    Signatures::Checked { key_id, signed } => {
                        format!("checked the signatures of {signed} blocks with key {key_id}")
                    }
                    Signatures::NotChecked { signed } => format!(
                        "block signatures were not checked: no key was given (--signing-key or --public-key); {signed} blocks are signed"
                    ),
                };
                println!("the ledger has {} blocks; {signatures}", report.blocks);
                if let Some(block) = report.anchor_matched {
                    println!(
                        "the anchor's block {block} is here unchanged: nothing sealed up to it has changed since"
                    );
                }
                if report.unsealed_events > 0 {
                    println!(
                        "{} events were recorded after the newest block and are not sealed yet",
                        report.unsealed_events
                    );
                }
                Ok(if report.problems.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            })
        }
        Commands::Audit {
            command: AuditCommand::Anchor { db, key },
        } => {
            let key = key.load()?;
            runtime()?.block_on(async {
                let store =
                    Store::connect(&db.database, Arc::new(Procedure::default_procedure())).await?;
                store.migrate().await?;
                match store.anchor(key.as_ref(), SystemClock.now()).await? {
                    Some(anchor) => {
                        println!("{}", serde_json::to_string(&anchor)?);
                        Ok(ExitCode::SUCCESS)
                    }
                    None => {
                        eprintln!(
                            "error: there is nothing to anchor yet: no event has been recorded"
                        );
                        Ok(ExitCode::FAILURE)
                    }
                }
            })
        }
        Commands::Keys {
            command: KeysCommand::Create { out },
        } => {
            let key = SigningKey::generate();
            let public = key.public();
            match out {
                Some(path) => {
                    key.write_new(&path)?;
                    println!(
                        "wrote a new signing key to {} (key id {}); give it to serve and audit with --signing-key or REDRESS_SIGNING_KEY_FILE",
                        path.display(),
                        key.id()
                    );
                    println!(
                        "public key (for whoever verifies, with --public-key): {}",
                        public.to_text()
                    );
                }
                None => {
                    println!("{}", key.to_text().as_str());
                    eprintln!(
                        "this is a new secret signing key (key id {}): keep it out of logs and shell history, and give it to serve and audit as REDRESS_SIGNING_KEY",
                        key.id()
                    );
                    eprintln!(
                        "public key (for whoever verifies, with --public-key): {}",
                        public.to_text()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The most an anchor file may hold: it is one line of JSON.
const MAX_ANCHOR_BYTES: usize = 64 * 1024;

/// Reads an anchor printed by `redress audit anchor`.
fn read_anchor(path: &Path) -> anyhow::Result<Anchor> {
    let text = read_limited(path, MAX_ANCHOR_BYTES)?;
    serde_json::from_str(text.trim()).map_err(|error| {
        anyhow::anyhow!(
            "{} is not an anchor printed by `redress audit anchor`: {error}",
            path.display()
        )
    })
}

/// The exit status an MTA takes as "try again later" (sysexits.h EX_TEMPFAIL).
const EX_TEMPFAIL: u8 = 75;

/// `redress ingest-mail`: files the message on standard input; prints where it went as JSON.
async fn ingest_mail(database: &str, procedure: Arc<Procedure>, files_dir: PathBuf) -> ExitCode {
    use crate::mail::inbound::{Collector, Inbox, MAX_MESSAGE_BYTES, Source};
    use std::io::Read;
    let tempfail = |what: &str, error: &dyn std::error::Error| {
        let mut cause = error.to_string();
        let mut source = error.source();
        while let Some(inner) = source {
            cause.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        eprintln!(
            "redress ingest-mail: {what}: {cause}; the message was not stored, try again later"
        );
        ExitCode::from(EX_TEMPFAIL)
    };
    // Read the message first: an MTA expects its pipe drained.
    let mut collector = Collector::new(files_dir.clone(), MAX_MESSAGE_BYTES, None);
    // A one-shot command: reading standard input on the runtime's thread blocks nothing else.
    let mut stdin = std::io::stdin().lock();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match stdin.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if let Err(error) = collector.push(&buffer[..n]).await {
                    return tempfail("cannot keep the message", &error);
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return tempfail("cannot read standard input", &error),
        }
    }
    let raw = match collector.finish().await {
        Ok(raw) => raw,
        Err(error) => return tempfail("cannot keep the message", &error),
    };
    let store = match Store::connect(database, procedure).await {
        Ok(store) => store,
        Err(error) => return tempfail("cannot open the database", &error),
    };
    if let Err(error) = store.migrate().await {
        return tempfail("cannot bring the database schema up to date", &error);
    }
    let inbox = Inbox::new(store.clone(), files_dir);
    let filed = inbox.file(raw, Source::Pipe, None, SystemClock.now()).await;
    store.close().await;
    match filed {
        Ok(filed) => {
            println!("{}", serde_json::to_string(&filed).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(error) => tempfail("cannot file the message", &error),
    }
}

/// A staff role from the command line, with the department it needs.
fn staff_role(role: &str, department: Option<&str>, procedure: &Procedure) -> anyhow::Result<Role> {
    let parsed: Role = role.parse().map_err(|_| {
        anyhow::anyhow!(
            "'{role}' is not a role; use handler, team_manager, customer_resolution_manager, compliance or administrator"
        )
    })?;
    if matches!(parsed, Role::System | Role::Customer) {
        anyhow::bail!("this is for staff; customers use the customer portal");
    }
    if parsed.handles_complaints() {
        match department {
            None => anyhow::bail!(
                "a {role} needs --department (one of {})",
                departments(procedure)
            ),
            Some(d) if procedure.department(d).is_none() => {
                anyhow::bail!(
                    "'{d}' is not a department; use one of {}",
                    departments(procedure)
                )
            }
            Some(_) => {}
        }
    }
    Ok(parsed)
}

fn departments(procedure: &Procedure) -> String {
    procedure
        .departments
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Logs to stderr, as text or JSON lines; `RUST_LOG` overrides the level (default info).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn simulate(path: &Path) -> anyhow::Result<ExitCode> {
    let text = read_limited(path, MAX_SCENARIO_BYTES)?;
    let scenario = Scenario::parse(&text)?;
    for ignored in &scenario.ignored {
        eprintln!("warning: {ignored} is not used by this command and was ignored");
    }
    // A relative procedure path is read relative to the scenario file.
    let procedure_name =
        if scenario.procedure == "default" || Path::new(&scenario.procedure).is_absolute() {
            scenario.procedure.clone()
        } else {
            let base = path.parent().unwrap_or(Path::new("."));
            let beside = base.join(&scenario.procedure);
            if beside.exists() {
                beside.display().to_string()
            } else {
                scenario.procedure.clone()
            }
        };
    let procedure =
        load_procedure(&procedure_name).context("invalid scenario: field `procedure`")?;
    let lines = scenario.run(&procedure)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in lines {
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn render(file: &str, format: RenderFormat) -> anyhow::Result<ExitCode> {
    let procedure = load_procedure(file)?;
    let today = redress_core::clock::local_date(procedure.time_zone(), SystemClock.now());
    let code = crate::web::code::CodeView::new(&procedure, today);
    let text = match format {
        RenderFormat::Text => {
            askama::Template::render(&crate::web::code::CodeText { code: &code })?
        }
        RenderFormat::Html => {
            let chrome = crate::web::Chrome::standalone(&procedure.organisation.name);
            askama::Template::render(&crate::web::code::CodePage {
                code: &code,
                chrome,
            })?
        }
    };
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn check(file: &str) -> anyhow::Result<ExitCode> {
    let text = if file == "default" {
        redress_core::procedure::DEFAULT_PROCEDURE_TOML.to_owned()
    } else {
        read_limited(Path::new(file), MAX_PROCEDURE_BYTES)?
    };
    match Procedure::from_toml(&text) {
        Ok(p) => {
            println!(
                "{file}: valid procedure '{}' for {} ({} rule version{})",
                p.version,
                p.organisation.name,
                p.rules.len(),
                if p.rules.len() == 1 { "" } else { "s" }
            );
            for warning in p.warnings() {
                println!("warning: {warning}");
            }
            for warning in redress_core::regulation::check(&p) {
                println!("warning: {warning}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprint!("{file}: {errors}");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proxies and header timeout `redress serve` reads from these arguments.
    fn serve_args(args: &[&str]) -> Result<(Vec<std::net::IpAddr>, u64), clap::Error> {
        let cli = Cli::try_parse_from(["redress", "serve"].iter().chain(args))?;
        match cli.command {
            Commands::Serve {
                trusted_proxies,
                header_timeout_secs,
                ..
            } => Ok((trusted_proxies, header_timeout_secs)),
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn trusted_proxies_repeat_or_are_a_comma_separated_list() {
        let ip = |text: &str| text.parse::<std::net::IpAddr>().expect("an address");
        // Unless the environment says otherwise, no proxy is trusted.
        if std::env::var_os("REDRESS_TRUSTED_PROXIES").is_none() {
            assert!(serve_args(&[]).expect("parses").0.is_empty());
        }
        let (proxies, _) =
            serve_args(&["--trusted-proxy", "10.0.0.2", "--trusted-proxy", "::1"]).expect("parses");
        assert_eq!(proxies, vec![ip("10.0.0.2"), ip("::1")]);
        let (proxies, _) = serve_args(&["--trusted-proxy", "10.0.0.2,10.0.0.3"]).expect("parses");
        assert_eq!(proxies, vec![ip("10.0.0.2"), ip("10.0.0.3")]);
        // A name or a network is not an address: refused rather than trusting nothing.
        for bad in ["proxy.internal", "10.0.0.0/8", ""] {
            assert!(serve_args(&["--trusted-proxy", bad]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_header_timeout_is_ten_seconds_unless_set() {
        if std::env::var_os("REDRESS_HEADER_TIMEOUT_SECS").is_none() {
            assert_eq!(serve_args(&[]).expect("parses").1, 10);
        }
        let (_, secs) = serve_args(&["--header-timeout-secs", "3"]).expect("parses");
        assert_eq!(secs, 3);
        // None (0) or one so long a deadline cannot be computed is refused, not a crash later.
        for bad in ["0", "3601", "18446744073709551615", "-1", "ten"] {
            assert!(
                serve_args(&["--header-timeout-secs", bad]).is_err(),
                "{bad}"
            );
        }
    }
}
