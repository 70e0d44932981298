//! The IMAP poller (`redress serve --imap-url imaps://user:pass@host:993/INBOX`): every
//! interval it fetches the unseen messages of one mailbox, files each (see [`super::inbound`])
//! and marks it seen only once it is stored. A crash or a database outage between the two
//! leaves the message unseen, to be fetched again; filing is idempotent by Message-ID, so it is
//! still filed once. A message that cannot be filed is quarantined (and so marked seen): one
//! bad message never blocks the next.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures_util::TryStreamExt;
use jiff::Timestamp;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;

use super::inbound::{Inbox, Outcome, Raw, Source};
use crate::clock::Clock;

/// How long one exchange with the server may take before the poll is abandoned.
const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// A mailbox to poll, from `imap://` or `imaps://user:password@host:port/MAILBOX`.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapAccount {
    /// `imaps://` (TLS from the start, checked against the web's root certificates).
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    password: String,
    pub mailbox: String,
    /// Extra trusted certificates (PEM) for `imaps://`, beside the web's root certificates:
    /// for a server with a private CA or a self-signed certificate.
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for ImapAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapAccount")
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("mailbox", &self.mailbox)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl fmt::Display for ImapAccount {
    /// The URL without the password, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "imaps" } else { "imap" };
        write!(
            f,
            "{scheme}://{}@{}:{}/{}",
            self.user, self.host, self.port, self.mailbox
        )
    }
}

impl ImapAccount {
    /// Reads an `imap://` or `imaps://` URL; the user name and password are percent-decoded and
    /// the mailbox (the path) defaults to INBOX. Errors never repeat the password.
    pub fn parse(text: &str) -> Result<ImapAccount, String> {
        let url =
            url::Url::parse(text.trim()).map_err(|e| format!("the IMAP URL is not a URL ({e})"))?;
        let tls = match url.scheme() {
            "imaps" => true,
            "imap" => false,
            other => {
                return Err(format!(
                    "the IMAP URL must start with imaps:// or imap://, not {other}://"
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the IMAP URL names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port().unwrap_or(if tls { 993 } else { 143 });
        let user = percent_decode(url.username())?;
        if user.is_empty() {
            return Err("the IMAP URL names no user (imaps://USER:PASSWORD@host/INBOX)".into());
        }
        let password = percent_decode(url.password().unwrap_or(""))?;
        if password.is_empty() {
            return Err("the IMAP URL has no password (imaps://USER:PASSWORD@host/INBOX)".into());
        }
        let mailbox = percent_decode(url.path().trim_matches('/'))?;
        let mailbox = if mailbox.is_empty() {
            "INBOX".to_owned()
        } else {
            mailbox
        };
        Ok(ImapAccount {
            tls,
            host,
            port,
            user,
            password,
            mailbox,
            ca_file: None,
        })
    }

    /// Also trusts the certificates in this PEM file.
    pub fn with_ca_file(mut self, ca_file: Option<PathBuf>) -> ImapAccount {
        self.ca_file = ca_file;
        self
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("the IMAP URL has a bad %-escape")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the IMAP URL is not UTF-8 once decoded".to_owned())
}

/// The poller's settings.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub account: ImapAccount,
    pub interval: Duration,
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    /// Messages added to a complaint or starting one.
    pub filed: usize,
    pub quarantined: usize,
    /// Messages filed before (same Message-ID), now marked seen.
    pub duplicates: usize,
    /// Messages left unseen to try again (the database or files folder failed).
    pub failed: usize,
}

/// Why a poll could not talk to the server.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to the IMAP server: {0}")]
    Connect(#[source] std::io::Error),
    #[error("the IMAP server's name is not valid for TLS")]
    ServerName,
    #[error("cannot read the IMAP CA file {0}: {1}")]
    CaFile(String, String),
    #[error("the IMAP server did not greet")]
    NoGreeting,
    #[error("the IMAP server refused: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("the IMAP server did not answer in time")]
    Timeout,
}

async fn within<T>(future: impl Future<Output = T>) -> Result<T, ImapError> {
    tokio::time::timeout(IO_TIMEOUT, future)
        .await
        .map_err(|_| ImapError::Timeout)
}

/// Connects, files every unseen message of the mailbox and marks each seen once stored.
pub async fn poll_once(
    inbox: &Inbox,
    clock: &dyn Clock,
    account: &ImapAccount,
) -> Result<PollReport, ImapError> {
    let tcp = within(TcpStream::connect((account.host.as_str(), account.port)))
        .await?
        .map_err(ImapError::Connect)?;
    if account.tls {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &account.ca_file {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let shown = path.display().to_string();
            let pem = tokio::fs::read(path)
                .await
                .map_err(|e| ImapError::CaFile(shown.clone(), e.to_string()))?;
            let mut added = 0;
            for certificate in CertificateDer::pem_slice_iter(&pem) {
                let certificate =
                    certificate.map_err(|e| ImapError::CaFile(shown.clone(), e.to_string()))?;
                roots
                    .add(certificate)
                    .map_err(|e| ImapError::CaFile(shown.clone(), e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(ImapError::CaFile(shown, "it holds no certificate".into()));
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Connect(std::io::Error::other(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(account.host.clone())
            .map_err(|_| ImapError::ServerName)?;
        let stream = within(TlsConnector::from(Arc::new(config)).connect(name, tcp))
            .await?
            .map_err(ImapError::Connect)?;
        session(Client::new(stream), inbox, clock, account).await
    } else {
        session(Client::new(tcp), inbox, clock, account).await
    }
}

async fn session<T>(
    mut client: Client<T>,
    inbox: &Inbox,
    clock: &dyn Clock,
    account: &ImapAccount,
) -> Result<PollReport, ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    within(client.read_response())
        .await?
        .map_err(|e| ImapError::Imap(e.into()))?
        .ok_or(ImapError::NoGreeting)?;
    let mut session = within(client.login(&account.user, &account.password))
        .await?
        .map_err(|(error, _)| error)?;
    within(session.select(&account.mailbox)).await??;
    let mut uids: Vec<u32> = within(session.uid_search("UNSEEN"))
        .await??
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut report = PollReport::default();
    for uid in uids {
        let fetched = {
            let stream =
                within(session.uid_fetch(uid.to_string(), "(UID INTERNALDATE BODY.PEEK[])"))
                    .await??;
            let fetches: Vec<_> = within(stream.try_collect::<Vec<_>>()).await??;
            fetches.into_iter().find(|f| f.uid == Some(uid))
        };
        // Gone since the search (another client expunged it): nothing to do.
        let Some(fetch) = fetched else { continue };
        let Some(body) = fetch.body() else {
            tracing::warn!(
                uid,
                "the IMAP server sent a message without its body; will retry"
            );
            report.failed += 1;
            continue;
        };
        let arrived = fetch
            .internal_date()
            .and_then(|d| Timestamp::from_second(d.timestamp()).ok());
        let filed = inbox
            .file(
                Raw::Bytes(body.to_vec()),
                Source::Imap,
                arrived,
                clock.now(),
            )
            .await;
        match filed {
            Ok(filed) => {
                match (filed.duplicate, filed.outcome) {
                    (true, _) => report.duplicates += 1,
                    (false, Outcome::Quarantined) => report.quarantined += 1,
                    (false, _) => report.filed += 1,
                }
                // Only now that it is stored.
                let updates =
                    within(session.uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")).await??;
                within(updates.try_collect::<Vec<_>>()).await??;
            }
            Err(error) => {
                tracing::error!(uid, error = %error, cause = ?error, "an IMAP message could not be filed; it stays unseen and will be tried again");
                report.failed += 1;
            }
        }
    }
    let _ = within(session.logout()).await;
    Ok(report)
}

/// Polls every `interval` until `stop` turns true. Errors are logged and the next poll tries
/// again; a poll in progress finishes before the poller stops.
pub async fn run(
    inbox: Inbox,
    clock: Arc<dyn Clock>,
    config: ImapConfig,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(mailbox = %config.account, interval_s = config.interval.as_secs(), "IMAP poller started");
    loop {
        match poll_once(&inbox, clock.as_ref(), &config.account).await {
            Ok(report) if report != PollReport::default() => tracing::info!(
                filed = report.filed,
                quarantined = report.quarantined,
                duplicates = report.duplicates,
                failed = report.failed,
                "IMAP poll"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %error, mailbox = %config.account, "IMAP poll failed; will retry");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(config.interval) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    tracing::info!("IMAP poller stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_mailbox_and_hide_the_password() {
        let a = ImapAccount::parse("imaps://complaints%40p.example:s%2Fcret@mail.p.example/INBOX")
            .expect("valid");
        assert!(a.tls);
        assert_eq!(a.port, 993);
        assert_eq!(a.user, "complaints@p.example");
        assert_eq!(a.password, "s/cret");
        assert_eq!(a.mailbox, "INBOX");
        assert!(!format!("{a:?} {a}").contains("s/cret"));
        let b = ImapAccount::parse("imap://u:p@127.0.0.1:1143").expect("valid");
        assert_eq!((b.tls, b.port, b.mailbox.as_str()), (false, 1143, "INBOX"));
        for bad in [
            "http://u:p@h/",
            "imap://h/INBOX",
            "imap://u@h/",
            "not a url",
        ] {
            ImapAccount::parse(bad).expect_err(bad);
        }
    }
}
