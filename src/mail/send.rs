//! Sending the outbox: each row becomes an email (SMTP through lettre, or the file transport
//! that writes `.eml` files, so `redress serve` works with no mail server) or a PDF in the print
//! queue for post.
//!
//! Exactly once, and the one window where it is not. A sender claims due rows in a transaction
//! of its own (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two nodes never claim the same row;
//! SQLite has a single writer): one more attempt and a lease (`next_attempt_at` moved ahead),
//! committed before anything is sent. Then it sends, and records `sent_at`; several workers
//! send at once (`workers`), each its own letters, and the letters that went meanwhile are
//! recorded in one commit. A node that dies holding a lease loses nothing: when the lease runs
//! out the row is due again and is sent by whichever node claims it next. The file transport
//! and the print queue write each letter to a file named by its id, so doing that twice leaves
//! one file, and sync it and its folder (once for all the letters of a commit) before `sent_at`
//! is recorded, so a letter marked sent is on the disk even after a power cut. SMTP cannot be
//! made exactly once from this side: if the process dies (or the database cannot be reached)
//! after the server accepted the message and before `sent_at` is committed, the letter is sent
//! again when its lease runs out. That window is the time between the server's "250 OK" and
//! our commit: a few milliseconds, at most the commit already under way and then its own.
//! (A letter whose lease has run for a tenth of its length is renewed just before it is sent,
//! and a sender that finds its lease taken does not send; a single send slower than most of
//! the lease could still overlap another node's, so leases are minutes long.) Every message
//! carries a stable `Message-ID: <letter-{id}.{reference}@{host}>`, the same on every attempt,
//! so a receiving system (or a person) can recognise and discard a duplicate.
//!
//! Failures are retried with exponential backoff (`retry_base`, doubling each attempt, at most
//! `retry_max`), and the last error is kept on the row for staff to see. Nothing is ever given
//! up: a letter Ofcom requires (an ADR letter) must go out, so a letter that keeps failing stays
//! due, visible in the letters API with its error.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use redress_core::letters::{LetterKind, Recipient};

use super::letters::{self, Letter, LetterHtml, paragraphs};
use super::pdf;
use super::print::{PrintQueue, sync_dir, write_synced};
use crate::store::{OutboxItem, Store};

/// How `redress serve` sends letters.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (or `smtps://`, with `?tls=required` for STARTTLS); `None` for the
    /// file transport.
    pub smtp_url: Option<String>,
    /// The From address, e.g. `kinex complaints <complaints@kinex.example>`; by default the
    /// organisation's name at `complaints@localhost`.
    pub from: Option<String>,
    /// Where the file transport writes `.eml` files.
    pub mail_dir: PathBuf,
    /// The print queue folder for post.
    pub print_dir: PathBuf,
    /// How often the sender looks for letters due.
    pub interval: Duration,
    /// The wait after a first failure; it doubles with each failure after that.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_max: Duration,
    /// How long a claimed letter is held before another node may take it.
    pub lease: Duration,
    /// Letters claimed in one transaction.
    pub batch: i64,
    /// Letters rendered and sent at once (and SMTP connections kept open for them).
    pub workers: usize,
    /// Where the staff pages are (`serve --public-url`), for links in emails to staff.
    pub public_url: String,
    /// Where copies of letters as sent are kept (`serve --files-dir`), by SHA-256.
    pub files_dir: PathBuf,
    /// Whether the sender looks for letters as soon as it starts (as `serve` does), or only
    /// after its first interval (tests that send letters themselves, at moments they choose).
    pub send_at_start: bool,
}

impl Default for MailConfig {
    fn default() -> MailConfig {
        MailConfig {
            smtp_url: None,
            from: None,
            mail_dir: PathBuf::from("redress-mail"),
            print_dir: PathBuf::from("redress-print"),
            interval: Duration::from_secs(1),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
            batch: 20,
            workers: default_workers(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            files_dir: PathBuf::from("redress-files"),
            send_at_start: true,
        }
    }
}

/// Letters sent at once unless `--mail-workers` says otherwise: a few per core, since a
/// letter spends most of its time waiting (on the mail server, the disk, the database) and the
/// rest rendering its PDF.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_mul(4)
        .clamp(1, 32)
}

impl MailConfig {
    /// The wait before the next attempt after `attempts` failed ones.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.retry_base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.retry_max)
            .min(self.retry_max)
    }
}

/// Why a letter was not sent this time.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the letter cannot be prepared: {0}")]
    Prepare(String),
    #[error("the mail server refused or failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the file cannot be written: {0}")]
    File(#[from] std::io::Error),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

impl SendError {
    /// The error in words fit for the log: no addresses, names or server replies (a mail
    /// server's refusal quotes the recipient). The whole error is kept on the outbox row, for
    /// staff.
    pub fn for_log(&self) -> String {
        match self {
            SendError::Prepare(_) => "the letter cannot be prepared".to_owned(),
            SendError::Smtp(error) => match error.status() {
                Some(code) => format!("the mail server refused it ({code})"),
                None if error.is_timeout() => "the mail server timed out".to_owned(),
                None => "the mail server could not be reached or failed".to_owned(),
            },
            SendError::File(error) => format!("the file cannot be written ({:?})", error.kind()),
            SendError::Store(error) => error.to_string(),
        }
    }
}

/// What became of a letter that went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub large_print: bool,
    /// For post: the PDF's name in the print queue.
    pub print_file: Option<String>,
    /// The copy of a letter about a complaint, as it went (kept in the files folder).
    pub copy: Option<crate::store::LetterCopy>,
}

/// The copy of a letter as sent, as kept in the files folder: exactly what went.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SentCopy {
    pub subject: String,
    /// The email's plain text (the letter's words, with its letterhead and address).
    pub text: String,
    pub html: String,
    /// The letter's words and parts, from which it can be printed again (in large print).
    pub letter: Letter,
    pub pdf_sha256: String,
}

impl SentCopy {
    /// Reads a kept copy back, checking it is the one its name (the SHA-256) says.
    pub async fn read(
        files_dir: &Path,
        copy: &crate::store::LetterCopy,
    ) -> anyhow::Result<(SentCopy, Vec<u8>)> {
        use anyhow::Context as _;
        let document = tokio::fs::read(files_dir.join(&copy.copy_sha256))
            .await
            .context("cannot read the copy of a letter as sent")?;
        let pdf = tokio::fs::read(files_dir.join(&copy.pdf_sha256))
            .await
            .context("cannot read the PDF of a letter as sent")?;
        if crate::files::sha256_hex(&document) != copy.copy_sha256
            || crate::files::sha256_hex(&pdf) != copy.pdf_sha256
        {
            anyhow::bail!("the copy of a letter as sent does not match its SHA-256");
        }
        let sent: SentCopy =
            serde_json::from_slice(&document).context("the copy of a letter as sent")?;
        Ok((sent, pdf))
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Turns outbox rows into emails and printed letters.
pub struct Mailer {
    store: Store,
    transport: Transport,
    from: Mailbox,
    /// The domain of Message-IDs (the From address's).
    host: String,
    print: PrintQueue,
    config: MailConfig,
    /// Who this sender is, in `claimed_by`.
    node: String,
}

impl Mailer {
    pub fn new(store: Store, config: MailConfig) -> anyhow::Result<Mailer> {
        let from_text = config.from.clone().unwrap_or_else(|| {
            format!(
                "{} complaints <complaints@localhost>",
                store.procedure().organisation.name
            )
        });
        let from: Mailbox = from_text
            .parse()
            .map_err(|e| anyhow::anyhow!("--mail-from '{from_text}' is not an address: {e}"))?;
        let host = from.email.domain().to_owned();
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("--smtp-url is not usable: {e}"))?
                    .timeout(Some(Duration::from_secs(30)))
                    // A connection kept open for each letter in flight, reused letter after
                    // letter.
                    .pool_config(
                        PoolConfig::new()
                            .max_size(u32::try_from(config.workers.max(1)).unwrap_or(u32::MAX)),
                    )
                    .build(),
            ),
            None => Transport::Files(config.mail_dir.clone()),
        };
        let node = format!(
            "{}:{}:{:04x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "node".to_owned()),
            std::process::id(),
            rand::random::<u16>()
        );
        Ok(Mailer {
            print: PrintQueue::new(config.print_dir.clone()),
            store,
            transport,
            from,
            host,
            config,
            node,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &MailConfig {
        &self.config
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn print_queue(&self) -> &PrintQueue {
        &self.print
    }

    /// The Message-ID every attempt at this letter carries.
    pub fn message_id(&self, id: i64, reference: &str) -> String {
        format!("<letter-{id}.{reference}@{}>", self.host)
    }

    /// Sends one claimed row; a file it writes (the PDF of a post letter, an `.eml` of the
    /// file transport) is on the disk, name and all, when this returns.
    pub async fn deliver(&self, item: &OutboxItem) -> Result<Delivered, SendError> {
        let delivered = self.deliver_unsynced(item).await?;
        self.sync_written(&[item]).await?;
        Ok(delivered)
    }

    /// Sends one claimed row, leaving the folder of a file it writes unsynced: the file's bytes
    /// are on the disk, its name is once [`Mailer::sync_written`] has run for it. The sender
    /// syncs each folder once for all the letters it records together.
    pub async fn deliver_unsynced(&self, item: &OutboxItem) -> Result<Delivered, SendError> {
        if item.kind == "sign_in_link" {
            return self.sign_in_link(item).await;
        }
        if item.kind == crate::store::ASSIGNMENT_NOTICE {
            return self.assignment_notice(item).await;
        }
        let kind = LetterKind::parse(&item.kind)
            .ok_or_else(|| SendError::Prepare(format!("'{}' is not a letter kind", item.kind)))?;
        let recipient = match item.recipient() {
            "third_party" => Recipient::ThirdParty,
            _ => Recipient::Customer,
        };
        let (complaint, event) = self
            .store
            .letter_source(item.complaint_id, item.event_sequence)
            .await?;
        let letter = letters::render(&complaint, &event, kind, recipient, self.store.procedure())
            .map_err(|e| SendError::Prepare(e.to_string()))?;
        let large_print = letter.large_print;
        let pdf = render_pdf(letter.clone(), large_print).await?;
        let copy = self.keep_copy(&letter, &pdf).await?;
        if item.channel == "post" {
            let file = self.print.put_synced(item, pdf).await?;
            return Ok(Delivered {
                large_print,
                print_file: Some(file),
                copy: Some(copy),
            });
        }
        let to = complaint
            .customer
            .email
            .as_deref()
            .ok_or_else(|| SendError::Prepare("the customer has no email address".into()))?;
        let to = mailbox(Some(&complaint.customer.name), to)?;
        let replying_to = self
            .store
            .latest_message_id(&item.reference)
            .await?
            .map(|id| format!("<{}>", id.trim_matches(['<', '>'])));
        let message = self.letter_message(item, &letter, to, pdf, replying_to)?;
        self.send(item, message).await?;
        Ok(Delivered {
            large_print,
            print_file: None,
            copy: Some(copy),
        })
    }

    /// Keeps exactly what goes: the PDF, and the subject, text and HTML with the letter's
    /// words, each in the files folder by SHA-256 (fsynced, with the folder).
    async fn keep_copy(
        &self,
        letter: &Letter,
        pdf: &[u8],
    ) -> Result<crate::store::LetterCopy, SendError> {
        let html = letter
            .html()
            .map_err(|e| SendError::Prepare(e.to_string()))?;
        let dir = self.config.files_dir.clone();
        let pdf_size = i64::try_from(pdf.len()).unwrap_or(i64::MAX);
        let pdf_sha256 = crate::files::keep(dir.clone(), pdf.to_vec()).await?;
        let copy = SentCopy {
            subject: letter.subject.clone(),
            text: letter.text(),
            html,
            letter: letter.clone(),
            pdf_sha256: pdf_sha256.clone(),
        };
        let document = serde_json::to_vec(&copy).map_err(|e| SendError::Prepare(e.to_string()))?;
        let copy_sha256 = crate::files::keep(dir, document).await?;
        Ok(crate::store::LetterCopy {
            copy_sha256,
            pdf_sha256,
            pdf_size,
        })
    }

    /// The folder a delivered row's file is in, if sending it wrote one.
    fn folder_of(&self, item: &OutboxItem) -> Option<&Path> {
        if item.kind != "sign_in_link" && item.channel == "post" {
            return Some(self.print.dir());
        }
        match &self.transport {
            Transport::Files(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Makes the files that delivering `items` wrote durable by name: each folder synced once.
    pub async fn sync_written(&self, items: &[&OutboxItem]) -> Result<(), SendError> {
        let mut folders: Vec<&Path> = items.iter().filter_map(|i| self.folder_of(i)).collect();
        folders.sort();
        folders.dedup();
        for folder in folders {
            sync_dir(folder).await?;
        }
        Ok(())
    }

    fn letter_message(
        &self,
        item: &OutboxItem,
        letter: &Letter,
        to: Mailbox,
        pdf: Vec<u8>,
        replying_to: Option<String>,
    ) -> Result<Message, SendError> {
        let html = letter
            .html()
            .map_err(|e| SendError::Prepare(e.to_string()))?;
        let attachment = Attachment::new(format!("{}-{}.pdf", letter.reference, letter.kind)).body(
            pdf,
            ContentType::parse("application/pdf").map_err(|e| SendError::Prepare(e.to_string()))?,
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject.clone())
            .message_id(Some(self.message_id(item.id, &item.reference)));
        // An answer to a customer who wrote to us threads with their latest message.
        if let Some(id) = replying_to {
            builder = builder.in_reply_to(id.clone()).references(id);
        }
        builder
            .multipart(
                MultiPart::mixed()
                    .multipart(MultiPart::alternative_plain_html(letter.text(), html))
                    .singlepart(attachment),
            )
            .map_err(|e| SendError::Prepare(e.to_string()))
    }

    /// A customer's one-time sign-in link: always by email (it is how they reach the portal).
    async fn sign_in_link(&self, item: &OutboxItem) -> Result<Delivered, SendError> {
        let field = |name: &str| {
            item.payload
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| SendError::Prepare(format!("the sign-in link has no `{name}`")))
        };
        let to = mailbox(None, &field("to")?)?;
        let link = field("link")?;
        let organisation = &self.store.procedure().organisation.name;
        let subject = format!("Your link to see your complaints with {organisation}");
        let body = format!(
            "Use this link to sign in and see your complaints with {organisation}:\n\n{link}\n\n\
             It works once, within {} minutes. If you did not ask for it, you can ignore this \
             email: nobody can sign in without the link.",
            crate::store::LINK_MINUTES
        );
        self.send_short(item, to, subject, body, "").await
    }

    /// A member of staff told that a complaint was given to them: its reference and a link to
    /// it, and nothing about the customer (the page shows them what they may see).
    async fn assignment_notice(&self, item: &OutboxItem) -> Result<Delivered, SendError> {
        let field = |name: &str| {
            item.payload
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let to = field("to")
            .ok_or_else(|| SendError::Prepare("the assignment notice has no `to`".into()))?;
        let to = mailbox(None, &to)?;
        let reference = &item.reference;
        let subject = format!("Complaint {reference} has been given to you");
        let by = field("by").map_or_else(String::new, |by| format!(" by {by}"));
        let link = format!(
            "{}/staff/complaints/{reference}",
            self.config.public_url.trim_end_matches('/')
        );
        let body = format!(
            "Complaint {reference} has been assigned to you{by}.\n\nOpen it from the staff pages:\n\n{link}\n\n\
             It is also listed under My cases."
        );
        self.send_short(item, to, subject, body, reference).await
    }

    /// A short email that is not a letter (a sign-in link, a notice to staff): its text as
    /// plain text and HTML, no PDF and no copy kept.
    async fn send_short(
        &self,
        item: &OutboxItem,
        to: Mailbox,
        subject: String,
        body: String,
        reference: &str,
    ) -> Result<Delivered, SendError> {
        let html = LetterHtml {
            subject: &subject,
            organisation: &self.store.procedure().organisation.name,
            reference,
            date: "",
            paragraphs: paragraphs(&body),
            large_print: false,
        }
        .render()
        .map_err(|e| SendError::Prepare(e.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(self.message_id(item.id, &item.reference)))
            .multipart(MultiPart::alternative_plain_html(body, html))
            .map_err(|e| SendError::Prepare(e.to_string()))?;
        self.send(item, message).await?;
        Ok(Delivered {
            large_print: false,
            print_file: None,
            copy: None,
        })
    }

    async fn send(&self, item: &OutboxItem, message: Message) -> Result<(), SendError> {
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Files(dir) => {
                let name = format!("letter-{:08}-{}.eml", item.id, item.reference);
                write_synced(&dir.join(name), message.formatted()).await?;
            }
        }
        Ok(())
    }
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, SendError> {
    let address = address
        .trim()
        .parse()
        // The address itself stays out of the error: it is logged.
        .map_err(|e| SendError::Prepare(format!("the recipient is not an email address ({e})")))?;
    Ok(Mailbox::new(name.map(str::to_owned), address))
}

/// Renders a PDF off the async threads (it is CPU work).
pub async fn render_pdf(letter: Letter, large_print: bool) -> Result<Vec<u8>, SendError> {
    let letter = Arc::new(letter);
    tokio::task::spawn_blocking(move || pdf::render(&letter, large_print))
        .await
        .map_err(|e| SendError::Prepare(format!("the PDF could not be made: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_limit() {
        let config = MailConfig {
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(600),
            ..MailConfig::default()
        };
        assert_eq!(config.backoff(1), Duration::from_secs(30));
        assert_eq!(config.backoff(2), Duration::from_secs(60));
        assert_eq!(config.backoff(3), Duration::from_secs(120));
        assert_eq!(config.backoff(6), Duration::from_secs(600));
        assert_eq!(config.backoff(1000), Duration::from_secs(600));
    }
}
