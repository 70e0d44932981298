//! The pure half of email in: parsing a raw message and every filing decision that needs no
//! database (see [`super::inbound`] for the other half). No I/O, no clock, no `crate::` paths:
//! the fuzz target `ingest_mail` (fuzz/) compiles this file on its own.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use redress_core::model::{MAX_SHORT_CHARS, MAX_TEXT_CHARS};
use redress_core::{Channel, Customer, Reference};
use sha2::{Digest, Sha256};

/// The largest message Redress files; a larger one is quarantined (and kept whole).
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;
/// The largest attachment kept.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most attachments kept from one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// The most attachment bytes kept from one message.
pub const MAX_ATTACHMENTS_TOTAL_BYTES: usize = 25 * 1024 * 1024;
/// The account number of a customer known only by an email address, until staff verify them.
pub const UNVERIFIED_ACCOUNT: &str = "UNVERIFIED";
/// At most this many complaint references are taken from one message.
const MAX_NAMED: usize = 8;
/// At most this many refused attachments are listed one by one in the note.
const MAX_LISTED_REFUSALS: usize = 50;
/// At most this much body text is gathered before truncating (bytes).
const MAX_GATHERED_BODY: usize = 256 * 1024;
const TRUNCATED: &str = "\n[... truncated]";

/// The limits a message and its attachments are held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub message_bytes: usize,
    pub attachment_bytes: usize,
    pub attachments: usize,
    pub attachments_total_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            message_bytes: MAX_MESSAGE_BYTES,
            attachment_bytes: MAX_ATTACHMENT_BYTES,
            attachments: MAX_ATTACHMENTS,
            attachments_total_bytes: MAX_ATTACHMENTS_TOTAL_BYTES,
        }
    }
}

/// What [`examine`] made of a message.
#[derive(Debug, Clone)]
pub struct Examined {
    /// What makes filing idempotent: `message-id:<id>`, or `sha256:<hex>` of the raw message.
    pub key: String,
    /// The Message-ID, without angle brackets, when it has one.
    pub message_id: Option<String>,
    /// The sender as shown to staff (`Name <address>`), when one could be read.
    pub sender: Option<String>,
    /// The subject on one line, when it has one.
    pub subject: Option<String>,
    pub decision: Decision,
}

/// Whether a message can be filed.
#[derive(Debug, Clone)]
pub enum Decision {
    /// It cannot; the reason is a sentence for staff.
    Quarantine(String),
    File(Box<Filing>),
}

/// A message that can be filed: everything but which of the complaints it names exist.
#[derive(Debug, Clone)]
pub struct Filing {
    /// Complaints the message names, most reliable first: In-Reply-To and References naming
    /// an outbound letter, then references written in the subject.
    pub names: Vec<Reference>,
    /// An auto-reply, delivery report or bulk mail: filed only to a complaint it names.
    pub automatic: bool,
    /// The customer of a new complaint (account [`UNVERIFIED_ACCOUNT`]), already valid.
    pub customer: Customer,
    /// The summary of a new complaint: subject and text, within the core's limits.
    pub summary: String,
    /// The evidence recorded on an existing complaint, within the core's limits.
    pub description: String,
    /// Attachments within the limits, to keep.
    pub attachments: Vec<Attachment>,
    /// Attachments not kept, with why.
    pub refused: Vec<RefusedAttachment>,
    /// Refused attachments beyond those listed in `refused`.
    pub refused_unlisted: usize,
}

/// An attachment to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An attachment not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAttachment {
    pub filename: String,
    pub size: usize,
    pub reason: String,
}

/// Where a message that can be filed goes, once it is known which named complaints exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    AddTo(Reference),
    NewComplaint,
    Quarantine(String),
}

impl Filing {
    /// The first named complaint that exists; otherwise a new complaint, unless the message
    /// is automatic (a new complaint from an auto-reply would start a mail loop).
    pub fn choose(&self, mut exists: impl FnMut(&Reference) -> bool) -> Choice {
        if let Some(reference) = self.names.iter().find(|r| exists(r)) {
            return Choice::AddTo(reference.clone());
        }
        if self.automatic {
            Choice::Quarantine(
                "an automatic message (an auto-reply, delivery report or bulk mail) that names no complaint"
                    .into(),
            )
        } else {
            Choice::NewComplaint
        }
    }

    /// A note for staff listing the attachments not kept, if any were refused.
    /// The staff note for an email filed on an existing complaint whose sender is not the
    /// address recorded for the customer (`recorded`): anyone can write a reference in a
    /// subject, so staff confirm with the customer before relying on it.
    pub fn sender_note(&self, recorded: Option<&str>) -> Option<String> {
        let sender = self.customer.email.as_deref()?;
        if recorded.is_some_and(|r| r.trim().eq_ignore_ascii_case(sender.trim())) {
            return None;
        }
        let recorded = match recorded {
            Some(_) => "the address recorded for the customer",
            None => "the customer, who has no email address recorded",
        };
        Some(clean_text(
            &format!(
                "Sender does not match: this email came from {sender}, not from {recorded}. \
                 Confirm with the customer before relying on it."
            ),
            MAX_TEXT_CHARS,
        ))
    }

    pub fn note(&self) -> Option<String> {
        if self.refused.is_empty() && self.refused_unlisted == 0 {
            return None;
        }
        let mut text = String::from("Attachments of the email that were not kept:");
        for r in self.refused.iter().take(MAX_LISTED_REFUSALS) {
            text.push_str(&format!(
                "\n- {} ({}): {}",
                r.filename,
                human_size(r.size),
                r.reason
            ));
        }
        let more = self.refused.len().saturating_sub(MAX_LISTED_REFUSALS) + self.refused_unlisted;
        if more > 0 {
            text.push_str(&format!("\n- and {more} more"));
        }
        text.push_str("\nAsk the customer to send them another way if they are needed.");
        Some(clean_text(&text, MAX_TEXT_CHARS))
    }
}

/// Parses a message and decides everything that needs no database. `prefix` is the
/// procedure's reference prefix (e.g. `CMP`). Never panics, whatever the bytes: should the
/// email parser fail on a message (mail-parser 0.11 has debug assertions that hostile input
/// reaches, found by the fuzz target), the message is quarantined, never lost.
pub fn examine(raw: &[u8], prefix: &str, limits: &Limits) -> Examined {
    let examined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        examine_unguarded(raw, prefix, limits)
    }));
    examined.unwrap_or_else(|_| Examined {
        key: format!("sha256:{}", sha256_hex(raw)),
        message_id: None,
        sender: None,
        subject: None,
        decision: Decision::Quarantine(
            "the email parser failed on this message, so it cannot be filed; it is kept whole for staff to read"
                .into(),
        ),
    })
}

fn examine_unguarded(raw: &[u8], prefix: &str, limits: &Limits) -> Examined {
    let raw_key = || format!("sha256:{}", sha256_hex(raw));
    let quarantine = |key: String, reason: String| Examined {
        key,
        message_id: None,
        sender: None,
        subject: None,
        decision: Decision::Quarantine(reason),
    };
    if raw.len() > limits.message_bytes {
        return quarantine(
            raw_key(),
            format!(
                "the message is {}, more than the {} Redress files",
                human_size(raw.len()),
                human_size(limits.message_bytes)
            ),
        );
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return quarantine(raw_key(), "the message is empty".into());
    }
    let Some(message) = MessageParser::default().parse(raw) else {
        return quarantine(
            raw_key(),
            "the message cannot be read as an email (RFC 5322)".into(),
        );
    };
    if message.headers().is_empty() {
        return quarantine(
            raw_key(),
            "the message has no header fields, so it cannot be read as an email (RFC 5322)".into(),
        );
    }
    let message_id = message
        .message_id()
        .map(|id| clean_line(id.trim().trim_start_matches('<').trim_end_matches('>'), 998))
        .filter(|id| !id.is_empty());
    let key = match &message_id {
        Some(id) if id.len() <= 200 => format!("message-id:{id}"),
        Some(id) => format!("message-id-sha256:{}", sha256_hex(id.as_bytes())),
        None => raw_key(),
    };
    let subject = message
        .subject()
        .map(|s| clean_line(s, 998))
        .filter(|s| !s.is_empty());
    let from = message
        .from()
        .and_then(|a| a.first())
        .or_else(|| message.sender().and_then(|a| a.first()));
    let address = from
        .and_then(|a| a.address.as_deref())
        .map(|a| clean_line(a, 998));
    let display_name = from
        .and_then(|a| a.name.as_deref())
        .map(|n| clean_line(n.trim_matches('"'), MAX_SHORT_CHARS))
        .filter(|n| !n.is_empty());
    let sender = address.as_ref().map(|address| {
        let shown = match &display_name {
            Some(name) => format!("{name} <{address}>"),
            None => address.clone(),
        };
        clean_line(&shown, MAX_SHORT_CHARS)
    });
    let mut examined = Examined {
        key,
        message_id,
        sender,
        subject: subject.as_ref().map(|s| clean_line(s, MAX_SHORT_CHARS)),
        decision: Decision::Quarantine(String::new()),
    };
    let Some(address) = address.filter(|a| usable_address(a)) else {
        examined.decision = Decision::Quarantine(
            "the message has no usable sender: its From address is missing or not an email address"
                .into(),
        );
        return examined;
    };
    let customer = Customer {
        account: UNVERIFIED_ACCOUNT.into(),
        name: display_name.unwrap_or_else(|| address.clone()),
        email: Some(address.clone()),
        telephone: None,
        address: Vec::new(),
        postcode: None,
        preferred_channel: Some(Channel::Email),
        accessibility_needs: Vec::new(),
        vulnerabilities: Vec::new(),
    };
    let customer = match customer.validated() {
        Ok(customer) => customer,
        Err(problem) => {
            examined.decision =
                Decision::Quarantine(format!("the message has no usable sender: {problem}"));
            return examined;
        }
    };

    // The complaints it names: replies to our letters first, then the subject.
    let mut names: Vec<Reference> = Vec::new();
    let mut name = |r: Reference| {
        if names.len() < MAX_NAMED && !names.contains(&r) {
            names.push(r);
        }
    };
    for id in header_ids(message.in_reply_to())
        .into_iter()
        .chain(header_ids(message.references()).into_iter().rev())
    {
        if let Some(r) = letter_reference(id, prefix) {
            name(r);
        }
    }
    if let Some(subject) = &subject {
        for r in subject_references(subject, prefix) {
            name(r);
        }
    }

    let automatic = is_automatic(&message, &address);

    // The text: every text body (HTML ones converted), up to a bound.
    let mut body = String::new();
    for i in 0..message.text_body_count() {
        if body.len() >= MAX_GATHERED_BODY {
            break;
        }
        if let Some(text) = message.body_text(i) {
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            let room = MAX_GATHERED_BODY.saturating_sub(body.len());
            body.push_str(truncate_bytes(&text, room));
        }
    }
    let body = clean_text(&body, MAX_TEXT_CHARS);

    // Attachments, within the limits; the rest are listed, never silently dropped.
    let mut attachments: Vec<Attachment> = Vec::new();
    let mut refused: Vec<RefusedAttachment> = Vec::new();
    let mut refused_unlisted = 0usize;
    let mut total = 0usize;
    for (index, part) in message.attachments().enumerate() {
        let contents = part.contents();
        let size = contents.len();
        let default_name = if part.is_message() {
            format!("attachment-{}.eml", index + 1)
        } else {
            format!("attachment-{}", index + 1)
        };
        let filename = clean_filename(part.attachment_name().unwrap_or(""), &default_name);
        let reason = if size == 0 {
            Some("it is empty".to_owned())
        } else if size > limits.attachment_bytes {
            Some(format!(
                "it is larger than {}",
                human_size(limits.attachment_bytes)
            ))
        } else if attachments.len() >= limits.attachments {
            Some(format!(
                "only {} attachments are kept from one email",
                limits.attachments
            ))
        } else if total + size > limits.attachments_total_bytes {
            Some(format!(
                "the attachments kept from one email may add up to {}",
                human_size(limits.attachments_total_bytes)
            ))
        } else {
            None
        };
        match reason {
            Some(reason) if refused.len() < MAX_LISTED_REFUSALS => {
                refused.push(RefusedAttachment {
                    filename,
                    size,
                    reason,
                });
            }
            Some(_) => refused_unlisted += 1,
            None => {
                total += size;
                attachments.push(Attachment {
                    filename,
                    content_type: content_type(part),
                    bytes: contents.to_vec(),
                });
            }
        }
    }

    let subject_text = subject.clone().unwrap_or_else(|| "(no subject)".into());
    let mut files_line = String::new();
    if !attachments.is_empty() {
        let kept: Vec<&str> = attachments.iter().map(|a| a.filename.as_str()).collect();
        files_line.push_str(&format!("Attached: {}\n", kept.join(", ")));
    }
    let not_kept = refused.len() + refused_unlisted;
    if not_kept > 0 {
        files_line.push_str(&format!(
            "Not kept: {not_kept} attachment{} (see the note)\n",
            if not_kept == 1 { "" } else { "s" }
        ));
    }
    let shown_sender = examined.sender.clone().unwrap_or_else(|| address.clone());
    let description = clean_text(
        &format!(
            "Email from {shown_sender}\nSubject: {subject_text}\n{files_line}\n{}",
            if body.is_empty() {
                "(no text)"
            } else {
                body.as_str()
            }
        ),
        MAX_TEXT_CHARS,
    );
    let summary = match (&subject, body.is_empty()) {
        (Some(subject), false) => format!("{subject}\n\n{body}"),
        (Some(subject), true) => subject.clone(),
        (None, false) => body.clone(),
        (None, true) => format!("An email with no subject and no text\n{files_line}"),
    };
    let summary = clean_text(&summary, MAX_TEXT_CHARS);

    examined.decision = Decision::File(Box::new(Filing {
        names,
        automatic,
        customer,
        summary,
        description,
        attachments,
        refused,
        refused_unlisted,
    }));
    examined
}

/// Message ids in an In-Reply-To or References header.
fn header_ids<'a>(value: &'a HeaderValue<'_>) -> Vec<&'a str> {
    match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    }
}

/// The complaint named by the Message-ID of one of our letters,
/// `<letter-{id}.{reference}@host>`.
pub fn letter_reference(id: &str, prefix: &str) -> Option<Reference> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _host) = id.rsplit_once('@')?;
    let rest = local.strip_prefix("letter-")?;
    let (number, reference) = rest.split_once('.')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Reference::parse(reference)
        .ok()
        .filter(|r| has_prefix(r, prefix))
}

/// Complaint references written anywhere in a subject (`Re: CMP-2026-000123 ...`).
pub fn subject_references(subject: &str, prefix: &str) -> Vec<Reference> {
    subject
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|token| token.len() <= 40)
        .filter_map(|token| Reference::parse(token.trim_matches('-')).ok())
        .filter(|r| has_prefix(r, prefix))
        .take(MAX_NAMED)
        .collect()
}

fn has_prefix(reference: &Reference, prefix: &str) -> bool {
    reference
        .as_str()
        .split('-')
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// An auto-reply, delivery report or bulk mail (RFC 3834 and common practice).
fn is_automatic(message: &mail_parser::Message<'_>, address: &str) -> bool {
    let raw = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let auto_submitted = raw("Auto-Submitted").is_some_and(|v| !v.is_empty() && v != "no");
    let precedence =
        raw("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"));
    let autoreply = raw("X-Autoreply").is_some() || raw("X-Autorespond").is_some();
    let report = message.is_content_type("multipart", "report");
    let local = address
        .rsplit_once('@')
        .map_or("", |(l, _)| l)
        .to_ascii_lowercase();
    let daemon = matches!(local.as_str(), "mailer-daemon" | "postmaster");
    auto_submitted || precedence || autoreply || report || daemon
}

/// Whether an address can be kept as the customer's email address.
fn usable_address(address: &str) -> bool {
    if address.is_empty()
        || address.chars().count() > MAX_SHORT_CHARS
        || address.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
}

/// A part's content type as `type/subtype`, or `application/octet-stream`.
fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    let fallback = if part.is_message() {
        "message/rfc822"
    } else {
        "application/octet-stream"
    };
    let Some(ct) = part.content_type() else {
        return fallback.into();
    };
    let token_ok = |t: &str| {
        !t.is_empty()
            && t.len() <= 60
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match ct.subtype() {
        Some(sub) if token_ok(ct.ctype()) && token_ok(sub) => {
            format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase()
        }
        _ => fallback.into(),
    }
}

/// One line: control characters and runs of white space become one space; at most `max`
/// characters.
pub fn clean_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        for c in (!out.is_empty())
            .then_some(' ')
            .into_iter()
            .chain(word.chars())
        {
            if count == max {
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

/// Free text as the core takes it: line breaks kept (as `\n`), tabs kept, other control
/// characters dropped, trimmed, and at most `max` characters (marked when truncated).
pub fn clean_text(text: &str, max: usize) -> String {
    let normalised = text.replace("\r\n", "\n");
    let cleaned: String = normalised
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.chars().count() <= max {
        return trimmed.to_owned();
    }
    let keep = max.saturating_sub(TRUNCATED.chars().count());
    let mut out: String = trimmed.chars().take(keep).collect();
    out.truncate(out.trim_end().len());
    out.push_str(TRUNCATED);
    out
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A file name safe to keep and show: its last path part, no control characters, at most
/// 100 characters; `fallback` when nothing is left.
fn clean_filename(name: &str, fallback: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned = clean_line(last, 100);
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if cleaned.is_empty() {
        fallback.to_owned()
    } else {
        cleaned.to_owned()
    }
}

pub fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB {
        let tenths = bytes * 10 / MIB;
        if tenths.is_multiple_of(10) {
            format!("{} MiB", tenths / 10)
        } else {
            format!("{}.{} MiB", tenths / 10, tenths % 10)
        }
    } else if bytes >= 1024 {
        format!("{} KiB", bytes.div_ceil(1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// The SHA-256 of the bytes, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(examined: &Examined) -> &Filing {
        match &examined.decision {
            Decision::File(filing) => filing,
            Decision::Quarantine(reason) => panic!("quarantined: {reason}"),
        }
    }

    #[test]
    fn a_reply_names_the_complaint_of_the_letter() {
        let raw = b"From: Ann Smith <ann@example.com>\r\nSubject: Re: your letter\r\nMessage-ID: <abc@example.com>\r\nIn-Reply-To: <letter-42.CMP-2026-000123@redress.example>\r\n\r\nHere is my bill.\r\n";
        let examined = examine(raw, "CMP", &Limits::default());
        assert_eq!(examined.key, "message-id:abc@example.com");
        let filing = file_of(&examined);
        assert_eq!(filing.names[0].as_str(), "CMP-2026-000123");
        assert!(filing.description.contains("Here is my bill."));
        assert!(
            filing
                .description
                .starts_with("Email from Ann Smith <ann@example.com>")
        );
        assert_eq!(filing.customer.account, UNVERIFIED_ACCOUNT);
        assert_eq!(filing.customer.name, "Ann Smith");
        assert_eq!(filing.customer.email.as_deref(), Some("ann@example.com"));
    }

    #[test]
    fn references_in_the_subject_are_found_with_the_procedures_prefix() {
        let found = subject_references(
            "Re: [cmp-2026-000123] and XYZ-2026-000001, CMP-2026-000124.",
            "CMP",
        );
        let found: Vec<&str> = found.iter().map(Reference::as_str).collect();
        assert_eq!(found, ["CMP-2026-000123", "CMP-2026-000124"]);
        assert!(letter_reference("<letter-x.CMP-2026-000123@h>", "CMP").is_none());
        assert!(letter_reference("<other-1.CMP-2026-000123@h>", "CMP").is_none());
    }

    #[test]
    fn garbage_and_senderless_messages_are_quarantined() {
        for raw in [
            &b""[..],
            b"   \r\n",
            b"\x00\x01\x02 not an email at all",
            b"Subject: hello\r\n\r\nno sender\r\n",
        ] {
            let examined = examine(raw, "CMP", &Limits::default());
            assert!(
                matches!(examined.decision, Decision::Quarantine(_)),
                "{raw:?}"
            );
        }
        let big = Limits {
            message_bytes: 10,
            ..Limits::default()
        };
        let examined = examine(b"From: a@b.com\r\n\r\nlonger than ten", "CMP", &big);
        assert!(
            matches!(examined.decision, Decision::Quarantine(ref r) if r.contains("more than"))
        );
    }

    #[test]
    fn a_message_the_parser_fails_on_is_quarantined() {
        // Found by the fuzz target: mail-parser 0.11.9 reaches a debug assertion on it.
        let raw = include_bytes!(
            "../../fuzz/seeds/ingest_mail/regression-mail-parser-multipart-assert.eml"
        );
        let examined = examine(raw, "CMP", &Limits::default());
        if cfg!(debug_assertions) {
            assert!(
                matches!(examined.decision, Decision::Quarantine(ref r) if r.contains("parser failed"))
            );
            assert!(examined.key.starts_with("sha256:"));
        }
    }

    #[test]
    fn automatic_messages_start_no_complaint() {
        let raw = b"From: ann@example.com\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway.\r\n";
        let filing = file_of(&examine(raw, "CMP", &Limits::default())).clone();
        assert!(filing.automatic);
        assert!(matches!(filing.choose(|_| false), Choice::Quarantine(_)));
    }

    #[test]
    fn text_is_cleaned_and_truncated_to_the_cores_limits() {
        let long = "x".repeat(MAX_TEXT_CHARS * 2);
        let cleaned = clean_text(&format!("a\r\nb\u{7}c\r{long}"), MAX_TEXT_CHARS);
        assert!(cleaned.starts_with("a\nbc\n"));
        assert_eq!(cleaned.chars().count(), MAX_TEXT_CHARS);
        assert!(cleaned.ends_with(TRUNCATED));
        assert!(redress_core::model::long_text("t", &cleaned).is_ok());
        assert_eq!(clean_line(" a \t b\n c ", 100), "a b c");
        assert_eq!(clean_line("abcdef", 3), "abc");
    }

    #[test]
    fn attachments_over_the_limits_are_listed_not_kept() {
        let limits = Limits {
            attachment_bytes: 8,
            attachments: 2,
            attachments_total_bytes: 12,
            ..Limits::default()
        };
        let part = |name: &str, body: &str| {
            format!(
                "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\r\n{body}\r\n"
            )
        };
        let raw = format!(
            "From: ann@example.com\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n{}{}{}{}--b--\r\n",
            part("big.bin", "0123456789"),
            part("a.txt", "aaaaaaa"),
            part("b.txt", "bbbbbbb"),
            part("c.txt", "cc"),
        );
        let examined = examine(raw.as_bytes(), "CMP", &limits);
        let filing = file_of(&examined);
        let kept: Vec<&str> = filing
            .attachments
            .iter()
            .map(|a| a.filename.as_str())
            .collect();
        assert_eq!(kept, ["a.txt", "c.txt"]);
        let refused: Vec<&str> = filing.refused.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(refused, ["big.bin", "b.txt"]);
        let note = filing.note().expect("a note");
        assert!(note.contains("big.bin") && note.contains("b.txt"), "{note}");
    }
}
