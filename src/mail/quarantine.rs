//! Quarantined email, as staff deal with it: a message read for people (its header fields and
//! text as plain text, never as HTML), filed into a complaint as evidence with the whole message
//! attached, or kept with a complaint started from it. What staff decided is recorded with the
//! quarantine row ([`Store::resolve_quarantine`]); filing and starting are the core's commands
//! by the member of staff, so the procedure decides whether they may.

use std::path::Path;

use jiff::Timestamp;
use mail_parser::{Address, MessageParser, MimeHeaders};
use redress_core::{Action, Actor, Channel, Command, Reference};

use super::examine::{MAX_MESSAGE_BYTES, clean_line, clean_text};
use crate::store::{
    Idempotency, NewAttachment, QuarantineRow, Resolution, Resolving, Store, StoreError,
};

/// The most of a message's text shown on its page.
pub const SHOWN_TEXT_CHARS: usize = 20_000;

/// The idempotency scope of staff decisions on quarantined messages.
const SCOPE: &str = "quarantine";

/// A quarantined message as a person reads it. Every value is plain text (control characters
/// removed, lengths bounded); pages escape it.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    /// From, To, Cc, Reply-To, Date, Subject, Message-ID, in that order, as present.
    pub headers: Vec<(String, String)>,
    /// The text bodies (HTML ones as text), up to [`SHOWN_TEXT_CHARS`].
    pub text: String,
    /// True when the text was cut to [`SHOWN_TEXT_CHARS`].
    pub cut: bool,
    /// Attachments: name, type and size in bytes.
    pub attachments: Vec<(String, String, usize)>,
    /// Why the message cannot be shown, if it cannot.
    pub unreadable: Option<String>,
}

/// The raw message, read from the files folder and checked against its hash.
pub async fn raw(files_dir: &Path, row: &QuarantineRow) -> Result<Vec<u8>, std::io::Error> {
    if row.sha256.len() != 64 || !row.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(std::io::Error::other("not a name the files folder uses"));
    }
    let bytes = tokio::fs::read(files_dir.join(&row.sha256)).await?;
    if crate::files::sha256_hex(&bytes) != row.sha256 {
        return Err(std::io::Error::other(
            "the kept message does not match its hash",
        ));
    }
    Ok(bytes)
}

fn addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (a.name.as_deref(), a.address.as_deref()) {
            (Some(name), Some(address)) => format!("{} <{address}>", name.trim_matches('"')),
            (None, Some(address)) => address.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a raw message for people.
pub fn show(raw: &[u8]) -> Shown {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Shown {
            unreadable: Some(
                "The message is too large to show here; download it to read it.".to_owned(),
            ),
            ..Shown::default()
        };
    }
    let Some(message) = MessageParser::default().parse(raw) else {
        return Shown {
            unreadable: Some("The message cannot be read as an email.".to_owned()),
            ..Shown::default()
        };
    };
    let line = |text: &str| clean_line(text, 998);
    let mut headers = Vec::new();
    let mut push = |name: &str, value: Option<String>| {
        if let Some(value) = value.map(|v| line(&v)).filter(|v| !v.is_empty()) {
            headers.push((name.to_owned(), value));
        }
    };
    push("From", message.from().map(addresses));
    push("To", message.to().map(addresses));
    push("Cc", message.cc().map(addresses));
    push("Reply-To", message.reply_to().map(addresses));
    push("Date", message.date().map(|d| d.to_rfc3339()));
    push("Subject", message.subject().map(str::to_owned));
    push("Message-ID", message.message_id().map(str::to_owned));
    let mut text = String::new();
    for i in 0..message.text_body_count() {
        if let Some(body) = message.body_text(i) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&body);
        }
        if text.chars().count() > SHOWN_TEXT_CHARS {
            break;
        }
    }
    let cut = text.chars().count() > SHOWN_TEXT_CHARS;
    let text = clean_text(&text, SHOWN_TEXT_CHARS);
    let attachments = message
        .attachments()
        .map(|part| {
            let name = part
                .attachment_name()
                .map(|n| clean_line(n, 200))
                .unwrap_or_else(|| "(no name)".to_owned());
            let kind = part
                .content_type()
                .map(|t| match t.subtype() {
                    Some(sub) => format!("{}/{sub}", t.ctype()),
                    None => t.ctype().to_owned(),
                })
                .map(|t| clean_line(&t, 100))
                .unwrap_or_else(|| "unknown".to_owned());
            (name, kind, part.contents().len())
        })
        .take(50)
        .collect();
    Shown {
        headers,
        text,
        cut,
        attachments,
        unreadable: None,
    }
}

/// The whole message as an attachment of the complaint it goes to (the bytes are already in
/// the files folder under this hash).
fn as_attachment(row: &QuarantineRow, by: &str) -> NewAttachment {
    NewAttachment {
        sha256: row.sha256.clone(),
        filename: format!("email-{}.eml", row.id),
        content_type: "message/rfc822".to_owned(),
        size: row.size,
        uploaded_by: by.to_owned(),
    }
}

/// What filing a quarantined message did.
#[derive(Debug)]
pub enum Filing {
    /// Filed (now, or by this same decision before).
    Filed,
    /// The procedure refused: the reason, in the core's words.
    Refused(String),
    /// Someone had dealt with it already.
    Already(crate::store::Resolved),
    NotFound,
}

/// Files a quarantined message into a complaint: the core's `receive_evidence` by `actor`,
/// by email, with the whole message attached. The decision is claimed first, so that of two
/// people deciding at once only one acts: the other is told what the first did. Sent again by
/// the same person (a double click, or after a failure), it finishes what was begun and
/// records the evidence once.
pub async fn file_into(
    store: &Store,
    row: &QuarantineRow,
    reference: &Reference,
    actor: Actor,
    by: &str,
    now: Timestamp,
) -> Result<Filing, StoreError> {
    let ours = |first: &crate::store::Resolved| {
        first.resolution == Resolution::Filed
            && first.by.eq_ignore_ascii_case(by)
            && first.reference.as_deref() == Some(reference.as_str())
    };
    if let Some(first) = row.resolved.as_ref().filter(|first| !ours(first)) {
        return Ok(Filing::Already(first.clone()));
    }
    let sender = row.sender.as_deref().unwrap_or("an unknown sender");
    let subject = row
        .subject
        .as_deref()
        .map(|s| format!(", subject \"{s}\""))
        .unwrap_or_default();
    let description = clean_line(
        &format!("Email from {sender}{subject}, filed from the quarantine"),
        500,
    );
    let command = Command {
        by: actor,
        action: Action::ReceiveEvidence {
            request: None,
            description: Some(description),
            channel: Some(Channel::Email),
        },
    };
    // Tried against the complaint as it stands first: a refusal is told and nothing is kept,
    // so the same person may try again once the complaint allows it.
    let current = store.get_complaint(reference).await?.complaint;
    if let Some(refusal) =
        redress_core::execute(current, command.clone(), now, store.procedure()).refusal
    {
        return Ok(Filing::Refused(refusal.reason));
    }
    // The claim: the first decision stands.
    match store
        .resolve_quarantine(
            row.id,
            Resolution::Filed,
            by,
            Some(reference.as_str()),
            None,
            now,
        )
        .await?
    {
        Resolving::Done => {}
        Resolving::Already(first) if ours(&first) => {}
        Resolving::Already(first) => return Ok(Filing::Already(first)),
        Resolving::NotFound => return Ok(Filing::NotFound),
    }
    // The same person filing the same message into the same complaint files it once.
    let key = Idempotency {
        scope: SCOPE.to_owned(),
        key: format!(
            "quarantine:{}:file:{}:{}",
            row.id,
            by.to_lowercase(),
            reference.as_str()
        ),
        request_hash: reference.as_str().to_owned(),
    };
    let attachment = as_attachment(row, by);
    let result = store
        .run_command_keyed(
            reference,
            command,
            now,
            &key,
            std::slice::from_ref(&attachment),
        )
        .await;
    let refused = match result {
        Ok(answer) => answer.into_inner().refusal.map(|r| r.reason),
        Err(StoreError::Refused(refusal)) => Some(refusal.reason),
        Err(error) => return Err(error),
    };
    if let Some(reason) = refused {
        // The complaint changed in between: the message waits again.
        store
            .release_quarantine(row.id, Resolution::Filed, by)
            .await?;
        return Ok(Filing::Refused(reason));
    }
    Ok(Filing::Filed)
}

/// The key and attachment a complaint started from a quarantined message is created with.
pub fn start_from(row: &QuarantineRow, by: &str) -> (Idempotency, NewAttachment) {
    (
        Idempotency {
            scope: SCOPE.to_owned(),
            key: format!("quarantine:{}:new", row.id),
            request_hash: "staff-form".to_owned(),
        },
        as_attachment(row, by),
    )
}

#[cfg(test)]
mod tests {
    use super::show;

    #[test]
    fn a_message_is_read_as_plain_text() {
        let raw = b"From: \"Ann <b>Example</b>\" <ann@example.com>\r\nTo: complaints@kinex.example\r\nSubject: <script>alert(1)</script>\r\nMessage-ID: <m1@example.com>\r\nContent-Type: text/html\r\n\r\n<p>My <b>broadband</b> drops</p><script>alert(2)</script>\r\n";
        let shown = show(raw);
        assert!(shown.unreadable.is_none());
        let subject = shown.headers.iter().find(|(n, _)| n == "Subject").unwrap();
        // Kept as the text it is: the page escapes it.
        assert_eq!(subject.1, "<script>alert(1)</script>");
        assert!(shown.text.contains("broadband"), "{}", shown.text);
        assert!(
            !shown.text.contains("<b>"),
            "HTML turned into text: {}",
            shown.text
        );
        assert_eq!(shown.headers[0].0, "From");
    }

    #[test]
    fn what_is_not_an_email_is_said_so() {
        assert!(show(b"").unreadable.is_some() || show(b"").headers.is_empty());
        let long = vec![b'a'; super::MAX_MESSAGE_BYTES + 1];
        assert!(show(&long).unreadable.is_some());
    }
}
