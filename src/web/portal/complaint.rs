//! One of the customer's complaints: where it is, what is due and when, when they may go to
//! the ombudsman, the letters we wrote, what happened (an allow-list of events in plain
//! words), and the forms for what they may do now.

use askama::Template;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use redress_core::actions::ActionKind;
use redress_core::deadline::{DeadlineKind, referral_window_ends};
use redress_core::event::EvidenceSource;
use redress_core::{
    Action, Actor, Channel, Command, Complaint, Event, EventKind, Money, Procedure, RefusalCode,
    Stage, Standing, Status, available, clock, owed,
};

use super::complain::contact_words;
use super::{
    Errors, FormData, complaint_not_found, customer_chrome, form_expired, internal, sentence,
    session_csrf_ok, status_words, with_status,
};
use crate::files::{self, FileProblem, MAX_FILE_BYTES};
use crate::state::AppState;
use crate::store::{ComplaintView, NewAttachment, StoreError};
use crate::web::PageError;
use crate::web::session::CustomerSession;
use crate::web::{Chrome, render};
use crate::words;

/// Who recorded a file the customer sent (the `uploaded_by` of the attachment).
const UPLOADED_BY_CUSTOMER: &str = "customer";

// ----- What the page shows -----

pub(crate) struct TimelineItem {
    /// ISO 8601, for `<time datetime>`.
    pub datetime: String,
    pub when: String,
    pub text: String,
}

pub(crate) struct LetterItem {
    pub what: String,
    pub how: &'static str,
    pub written: String,
    pub sent: Option<String>,
}

pub(crate) struct FileItem {
    pub name: String,
    pub size: String,
    pub when: String,
}

pub(crate) struct OfferView {
    pub by: String,
    pub date: String,
    pub text: String,
}

pub(crate) struct CompensationView {
    pub offer: u32,
    pub amount: String,
}

/// The ombudsman's details, from the procedure.
pub(crate) struct AdrContact {
    pub description: Option<String>,
    pub address: Vec<String>,
    pub telephone: String,
    pub telephone_href: String,
    pub textphone: Option<String>,
    pub facsimile: Option<String>,
    pub website: Option<String>,
}

/// Which forms the customer may use now.
#[derive(Default)]
pub(crate) struct Can {
    pub accept: bool,
    pub reject: bool,
    pub escalate: bool,
    pub review: bool,
    pub send_evidence: bool,
}

/// What the customer typed into a form that was refused, to show again.
#[derive(Default)]
pub(crate) struct Typed {
    pub reason: String,
    pub review: String,
    pub evidence: String,
}

/// What a page shows besides the complaint: a confirmation, problems, a refusal.
#[derive(Default)]
struct Extras {
    flash: Option<String>,
    errors: Errors,
    refusal: Option<String>,
    typed: Typed,
}

#[derive(Template)]
#[template(path = "portal_complaint.html")]
struct ComplaintPage {
    chrome: Chrome,
    csrf: String,
    reference: String,
    received: String,
    about: String,
    summary: String,
    stage_number: u8,
    stage_name: String,
    handled_by: String,
    status: &'static str,
    happening: Vec<String>,
    offer: Option<OfferView>,
    compensation: Option<CompensationView>,
    ombudsman: Vec<String>,
    adr: AdrContact,
    letters: Vec<LetterItem>,
    files: Vec<FileItem>,
    timeline: Vec<TimelineItem>,
    can: Can,
    stage_two: String,
    reviewer: String,
    errors: Errors,
    refusal: Option<String>,
    typed: Typed,
    max_file_mb: usize,
    telephone: String,
}

/// "The Escalation Team" in the middle of a sentence: "the Escalation Team".
fn mid(name: &str) -> String {
    match name.strip_prefix("The ") {
        Some(rest) => format!("the {rest}"),
        None => name.to_owned(),
    }
}

fn department_name(procedure: &Procedure, stage: Stage) -> String {
    procedure
        .department(procedure.department_of(stage))
        .map_or_else(|| procedure.stage(stage).name.clone(), |d| d.name.clone())
}

/// The customer's words for an event, if the core's visibility rule shows it to customers
/// (`redress_core::visibility::customer_sees`).
fn customer_sentence(event: &Event, procedure: &Procedure) -> Option<String> {
    if !redress_core::visibility::customer_sees(&event.kind) {
        return None;
    }
    if let EventKind::CompensationApproved { amount_pence, .. } = &event.kind {
        return Some(format!(
            "We offered compensation of {}",
            Money(*amount_pence)
        ));
    }
    Some(words::event_sentence(event, procedure, true))
}

/// A letter's kind in words.
fn letter_words(kind: &str, procedure: &Procedure) -> String {
    match kind {
        "acknowledgement" => "Acknowledgement of your complaint".to_owned(),
        "resolution_offer" => "Our offer to resolve your complaint".to_owned(),
        "escalation_acknowledgement" => "Confirmation that your complaint was escalated".to_owned(),
        "transfer_notice" => format!(
            "Notice that {} is investigating your complaint",
            mid(&department_name(procedure, Stage::CUSTOMER_RESOLUTION))
        ),
        "evidence_request" => "Request for more information".to_owned(),
        "formal_response" => "Our formal written response".to_owned(),
        "adr_notice" => format!("Your right to go to {}", procedure.adr_scheme.name),
        "deadlock_letter" => "Deadlock letter (our final position)".to_owned(),
        "compensation_offer" => "Our offer of compensation".to_owned(),
        "remedy_confirmation" => {
            "Confirmation that we carried out the ombudsman's decision".to_owned()
        }
        other => sentence(&other.replace('_', " "))
            .trim_end_matches('.')
            .to_owned(),
    }
}

fn size_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// What is happening now and what is due, in sentences.
fn happening(
    procedure: &Procedure,
    c: &Complaint,
    events: &[Event],
    now: Timestamp,
) -> Vec<String> {
    let mut out = Vec::new();
    let adr = &procedure.adr_scheme.name;
    let handling = department_name(procedure, c.stage);
    match c.status {
        Status::Resolved => out.push(
            "You accepted our resolution, so your complaint is resolved. If things go wrong again, please contact us and we can look at it again."
                .to_owned(),
        ),
        Status::Closed => out.push("Your complaint is closed. If you think it should not be, please contact us.".to_owned()),
        Status::ReferredToAdr => {
            out.push(format!("Your complaint is with {adr}. They will look at it independently and tell you their decision."));
        }
        Status::Deadlocked => out.push(
            "We have sent you a deadlock letter: our final position on your complaint. You can take your complaint to the ombudsman (see below)."
                .to_owned(),
        ),
        Status::ResolutionOffered => {
            out.push("We have offered a resolution. Please tell us below whether you accept it.".to_owned());
        }
        Status::Open => match c.stage.number() {
            1 | 2 => out.push(format!(
                "{handling} are looking into your complaint and will contact you {}.",
                contact_words(c.customer.preferred_channel)
            )),
            3 if c.formal_response_at.is_none() => out.push(format!(
                "{handling} are investigating your complaint in detail. They may contact you to go through what happened, or ask you for documents."
            )),
            3 => out.push(format!(
                "We have sent you our formal written response. If you are unhappy with the outcome, you can ask {} to review your complaint (see below).",
                mid(&department_name(procedure, Stage::RESOLUTION_MANAGER))
            )),
            4 => out.push(format!("{handling} is reviewing your complaint.")),
            _ => {}
        },
    }
    // What we owe them, from the core's one answer: due, or late and still not done.
    let live =
        !c.is_settled() && c.status != Status::ReferredToAdr && c.deadlock_issued_at.is_none();
    for item in owed(c, procedure, now) {
        let due = words::date(item.due_by);
        let late = item.standing == Standing::Overdue;
        match item.kind {
            DeadlineKind::Acknowledgement if late => out.push(format!(
                "We should have acknowledged your complaint by {due}. We are sorry this is late."
            )),
            DeadlineKind::Acknowledgement => {
                out.push(format!("We will acknowledge your complaint by {due}."))
            }
            DeadlineKind::FormalResponse if late => {
                let mut text = format!(
                    "Our formal written response was due by {due} and is late. We are sorry."
                );
                if live {
                    text.push_str(&format!(
                        " If {} have passed since you first complained, you can take your complaint to {adr}.",
                        c.rules.adr_period_in_words()
                    ));
                }
                out.push(text);
            }
            DeadlineKind::FormalResponse => out.push(format!(
                "We will send our formal written response by {due}."
            )),
            DeadlineKind::Remedy if late => out.push(
                "We have not yet carried out the ombudsman's decision, and it is late. We are sorry."
                    .to_owned(),
            ),
            DeadlineKind::Remedy => out.push(format!(
                "We will carry out the ombudsman's decision by {due}."
            )),
            DeadlineKind::Evidence => {
                let asked = events.iter().find_map(|e| match &e.kind {
                    EventKind::EvidenceRequested {
                        request,
                        from,
                        description,
                        ..
                    } if Some(*request) == item.request => Some((*from, description.clone())),
                    _ => None,
                });
                match asked {
                    Some((EvidenceSource::Customer, description)) => {
                        let what = description.map(|d| format!(": {d}")).unwrap_or_default();
                        out.push(if late {
                            format!("We asked you for more information{what} by {due}. Please send it as soon as you can, using the form below.")
                        } else {
                            format!("We have asked you for more information{what}. Please send it by {due}, using the form below.")
                        });
                    }
                    _ if late => out.push(format!(
                        "We are still waiting for information from someone else, which was due by {due}."
                    )),
                    _ => out.push(format!(
                        "We are waiting for information from someone else, which is due by {due}."
                    )),
                }
            }
            // The ADR point is said in its own section (see `ombudsman`).
            DeadlineKind::Adr => {}
        }
    }
    out
}

/// When the customer may go to the ombudsman, in sentences.
fn ombudsman(procedure: &Procedure, c: &Complaint) -> Vec<String> {
    let adr = &procedure.adr_scheme.name;
    let rules = &c.rules;
    let months = rules.adr_referral_window_months;
    if c.referred_at.is_some() || c.stage == Stage::OMBUDSMAN {
        return vec![format!(
            "Your complaint is with {adr}. You can contact them about it using the details below."
        )];
    }
    if c.adr_eligible_at.is_some() {
        let mut out = vec![if c.deadlock_issued_at.is_some() {
            format!(
                "Because we have sent you a deadlock letter, you can take your complaint to {adr} now."
            )
        } else {
            format!(
                "{} have passed since you first complained, so you can take your complaint to {adr} now if you are not happy with how we have handled it.",
                rules.adr_period_in_words()
            )
        }];
        if let Some(letter_at) = c.adr_letter_sent_at() {
            out.push(format!(
                "You have until {} to do so ({months} months from the date of our letter). It is free for you.",
                words::date(referral_window_ends(c, letter_at, procedure))
            ));
        } else {
            out.push("It is free for you.".to_owned());
        }
        return out;
    }
    if c.is_settled() {
        return vec![format!(
            "If you think we have not resolved your complaint, you can take it to {adr}, an independent ombudsman, once {} have passed since you first complained, or after we send you a deadlock letter. It is free for you.",
            rules.adr_period_in_words()
        )];
    }
    let from = redress_core::owed::adr_reached_on(c, procedure);
    vec![
        format!(
            "If your complaint is not resolved by {} ({} after you first complained), you can take it to {adr}, an independent ombudsman. It is free for you.",
            words::date(from),
            rules.adr_period_in_words()
        ),
        format!(
            "You can go sooner if we send you a deadlock letter (our final position). You then have {months} months from the date of our letter to go to them."
        ),
    ]
}

fn adr_contact(procedure: &Procedure) -> AdrContact {
    let adr = &procedure.adr_scheme;
    AdrContact {
        description: adr.description.clone(),
        address: adr.address.clone(),
        telephone: adr.telephone.clone(),
        telephone_href: adr
            .telephone
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
        textphone: adr.textphone.clone(),
        facsimile: adr.facsimile.clone(),
        website: adr.website.clone(),
    }
}

/// The complaint, if the reference is well formed, exists and is the customer's; otherwise the
/// page to answer with (the same "not found" whether it exists or not).
async fn load(
    state: &AppState,
    session: &CustomerSession,
    reference: &str,
) -> Result<ComplaintView, Response> {
    let Ok(reference) = redress_core::Reference::parse(reference) else {
        return Err(complaint_not_found());
    };
    match state.store.get_complaint(&reference).await {
        Ok(view) if crate::store::Store::scope_covers(&session.scope, &view.complaint) => Ok(view),
        Ok(_) | Err(StoreError::NotFound) => Err(complaint_not_found()),
        Err(error) => Err(internal(error)),
    }
}

async fn show(
    state: &AppState,
    session: &CustomerSession,
    view: &ComplaintView,
    extras: Extras,
) -> Response {
    let procedure = state.store.procedure();
    let tz = procedure.time_zone();
    let c = &view.complaint;
    let reference = c.reference.to_string();
    let letters = match state.store.customer_letters(&reference).await {
        Ok(letters) => letters,
        Err(error) => return internal(error),
    };
    let attachments = match state.store.attachments(&reference).await {
        Ok(attachments) => attachments,
        Err(error) => return internal(error),
    };
    let events: Vec<Event> = view.events.iter().map(|row| row.event.clone()).collect();
    let now = state.clock.now();
    let names = available(c, &Actor::customer(), now, procedure);
    let may = |kind: ActionKind| names.contains(&kind.name());
    let offer = c
        .current_offer()
        .filter(|o| o.answer == redress_core::complaint::OfferAnswer::Pending)
        .map(|o| OfferView {
            by: department_name(procedure, o.stage),
            date: words::date(clock::local_date(tz, o.at)),
            text: o.text.clone(),
        });
    let compensation = c
        .compensation
        .iter()
        .rev()
        .find(|o| o.approved && !o.accepted)
        .filter(|_| may(ActionKind::AcceptCompensation))
        .map(|o| CompensationView {
            offer: o.id,
            amount: Money(o.amount_pence).to_string(),
        });
    let escalate = may(ActionKind::RequestEscalation);
    let can = Can {
        accept: may(ActionKind::AcceptResolution) && offer.is_some(),
        // At stage 1 asking to escalate is the way to say no to an offer.
        reject: may(ActionKind::RejectResolution) && offer.is_some() && !escalate,
        escalate,
        review: may(ActionKind::RequestManagerReview),
        send_evidence: may(ActionKind::ReceiveEvidence),
    };
    let timeline = events
        .iter()
        .filter_map(|event| {
            customer_sentence(event, procedure).map(|text| TimelineItem {
                datetime: event.at.to_string(),
                when: words::instant(event.at, tz),
                text,
            })
        })
        .rev()
        .collect();
    let page = ComplaintPage {
        chrome: customer_chrome(state, session).with_flash(extras.flash),
        csrf: session.csrf.clone(),
        received: words::date(clock::local_date(tz, c.first_received_at)),
        about: c
            .category
            .as_deref()
            .and_then(|code| procedure.category(code))
            .map_or_else(|| "Not given".to_owned(), |cat| cat.name.clone()),
        summary: c.summary.clone(),
        stage_number: c.stage.number(),
        stage_name: procedure.stage(c.stage).name.clone(),
        handled_by: if c.stage == Stage::OMBUDSMAN {
            procedure.adr_scheme.name.clone()
        } else {
            department_name(procedure, c.stage)
        },
        status: status_words(c.status),
        happening: happening(procedure, c, &events, now),
        offer,
        compensation,
        ombudsman: ombudsman(procedure, c),
        adr: adr_contact(procedure),
        letters: letters
            .iter()
            .map(|l| LetterItem {
                what: letter_words(&l.kind, procedure),
                how: if l.channel == "email" {
                    "Email"
                } else {
                    "Post"
                },
                written: words::date(clock::local_date(tz, l.created_at)),
                sent: l.sent_at.map(|t| words::date(clock::local_date(tz, t))),
            })
            .collect(),
        files: attachments
            .iter()
            .filter(|a| a.uploaded_by == UPLOADED_BY_CUSTOMER)
            .map(|a| FileItem {
                name: a.filename.clone(),
                size: size_words(a.size),
                when: words::date(clock::local_date(tz, a.uploaded_at)),
            })
            .collect(),
        timeline,
        can,
        stage_two: mid(&department_name(procedure, Stage::ESCALATION_TEAM)),
        reviewer: mid(&department_name(procedure, Stage::RESOLUTION_MANAGER)),
        errors: extras.errors,
        refusal: extras.refusal,
        typed: extras.typed,
        max_file_mb: MAX_FILE_BYTES / (1024 * 1024),
        telephone: super::help_telephone(state),
        reference,
    };
    render(&page)
}

#[derive(serde::Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The confirmation shown after a form worked (fixed sentences: nothing from the address).
fn done_words(done: &str, procedure: &Procedure) -> Option<String> {
    Some(match done {
        "accepted" => "Thank you. You have accepted our resolution.".to_owned(),
        "rejected" => {
            "Thank you. We have noted that you do not accept our offer, and we will be in touch."
                .to_owned()
        }
        "escalated" => format!(
            "Your complaint has been escalated to {}. They will be in touch.",
            mid(&department_name(procedure, Stage::ESCALATION_TEAM))
        ),
        "review" => format!(
            "We have passed your message to {}, who will review your complaint.",
            mid(&department_name(procedure, Stage::RESOLUTION_MANAGER))
        ),
        "compensation" => "Thank you. You have accepted our offer of compensation.".to_owned(),
        "evidence" => {
            "Thank you. We have received what you sent and added it to your complaint.".to_owned()
        }
        _ => return None,
    })
}

/// GET /my/complaints/{reference}
pub(super) async fn page(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let view = match load(&state, &session, &reference).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let flash = query
        .done
        .as_deref()
        .and_then(|d| done_words(d, state.store.procedure()));
    show(
        &state,
        &session,
        &view,
        Extras {
            flash,
            ..Extras::default()
        },
    )
    .await
}

/// Runs a customer's command; on success back to the page with a confirmation, on refusal the
/// page again with the core's sentence and what they typed.
async fn run(
    state: &AppState,
    session: &CustomerSession,
    view: ComplaintView,
    action: Action,
    done: &'static str,
    typed: Typed,
) -> Response {
    let reference = view.complaint.reference.clone();
    let command = Command {
        by: Actor::customer(),
        action,
    };
    let now = state.clock.now();
    let result = state.store.run_command(&reference, command, now).await;
    let refusal = match result {
        Ok(outcome) => match outcome.refusal {
            None => {
                return Redirect::to(&format!("/my/complaints/{reference}?done={done}"))
                    .into_response();
            }
            Some(refusal) => refusal,
        },
        Err(StoreError::Refused(refusal)) => refusal,
        Err(StoreError::NotFound) => return complaint_not_found(),
        Err(error) => return internal(error),
    };
    let status = match refusal.code {
        RefusalCode::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        RefusalCode::NotPermitted => StatusCode::FORBIDDEN,
        _ => StatusCode::CONFLICT,
    };
    // Deadlines that came due were recorded even though the command was refused: show them.
    let view = match state.store.get_complaint(&reference).await {
        Ok(fresh) => fresh,
        Err(_) => view,
    };
    let extras = Extras {
        refusal: Some(format!(
            "We could not do that: {}",
            sentence(&refusal.reason)
        )),
        typed,
        ..Extras::default()
    };
    with_status(status, show(state, session, &view, extras).await)
}

/// The common part of the simple forms: the CSRF check, the complaint, the command.
async fn act(
    state: AppState,
    session: CustomerSession,
    reference: String,
    body: Bytes,
    done: &'static str,
    build: impl FnOnce(&FormData) -> (Action, Typed),
) -> Response {
    let form = FormData::parse(&body);
    if !session_csrf_ok(&session, form.get("csrf")) {
        return form_expired();
    }
    let view = match load(&state, &session, &reference).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let (action, typed) = build(&form);
    run(&state, &session, view, action, done, typed).await
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// POST /my/complaints/{reference}/accept
pub(super) async fn accept(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    act(state, session, reference, body, "accepted", |_| {
        (Action::AcceptResolution {}, Typed::default())
    })
    .await
}

/// POST /my/complaints/{reference}/reject
pub(super) async fn reject(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    act(state, session, reference, body, "rejected", |form| {
        let reason = form.get("reason").to_owned();
        (
            Action::RejectResolution {
                reason: optional(&reason),
            },
            Typed {
                reason,
                ..Typed::default()
            },
        )
    })
    .await
}

/// POST /my/complaints/{reference}/escalate: "I'm still not happy" at stage 1.
pub(super) async fn escalate(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    act(state, session, reference, body, "escalated", |form| {
        let reason = form.get("reason").to_owned();
        (
            Action::RequestEscalation {
                channel: Some(Channel::Web),
                reason: optional(&reason),
            },
            Typed {
                reason,
                ..Typed::default()
            },
        )
    })
    .await
}

/// POST /my/complaints/{reference}/review: "I'm still not happy" after the formal response.
pub(super) async fn review(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    act(state, session, reference, body, "review", |form| {
        let text = form.get("text").to_owned();
        (
            Action::RequestManagerReview {
                text: optional(&text),
            },
            Typed {
                review: text,
                ..Typed::default()
            },
        )
    })
    .await
}

/// POST /my/complaints/{reference}/accept-compensation
pub(super) async fn accept_compensation(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    act(state, session, reference, body, "compensation", |form| {
        let offer = form.get("offer").trim().parse::<u32>().ok();
        (Action::AcceptCompensation { offer }, Typed::default())
    })
    .await
}

/// A file as it arrived.
struct Upload {
    name: String,
    bytes: Vec<u8>,
    size: usize,
}

/// What the "send more information" form held.
#[derive(Default)]
struct EvidenceForm {
    csrf: String,
    text: String,
    file: Option<Upload>,
    /// The text was longer than we read.
    text_too_long: bool,
    /// The request was larger than we take: it was not read to the end.
    body_too_large: bool,
}

/// The most of a text field we read (the longest text the core takes, in UTF-8, and more).
const TEXT_FIELD_BYTES: usize = 4 * redress_core::model::MAX_TEXT_CHARS + 1024;

/// Reads the multipart form, keeping at most [`MAX_FILE_BYTES`] of the file (the rest is read
/// and counted, so the customer is told its size rather than cut off).
async fn read_evidence(multipart: &mut Multipart) -> Result<EvidenceForm, StatusCode> {
    let mut form = EvidenceForm::default();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(form),
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                form.body_too_large = true;
                return Ok(form);
            }
            Err(error) => return Err(error.status()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let mut bytes = Vec::new();
        let mut size = 0usize;
        // Text fields are small; only the file may be large.
        let keep = if name == "file" {
            MAX_FILE_BYTES
        } else {
            TEXT_FIELD_BYTES
        };
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size = size.saturating_add(chunk.len());
                    if size <= keep {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    form.body_too_large = true;
                    return Ok(form);
                }
                Err(error) => return Err(error.status()),
            }
        }
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf" => form.csrf = text(),
            "description" => {
                form.text = text();
                form.text_too_long = size > TEXT_FIELD_BYTES;
            }
            "file" => {
                let name = file_name.unwrap_or_default();
                // A file input left empty sends an empty part with no name.
                if !(name.is_empty() && size == 0) {
                    form.file = Some(Upload {
                        name: files::clean_name(&name),
                        bytes,
                        size,
                    });
                }
            }
            _ => {}
        }
    }
}

/// POST /my/complaints/{reference}/evidence (multipart/form-data): "send more information",
/// with an optional file.
pub(super) async fn evidence(
    State(state): State<AppState>,
    session: CustomerSession,
    Path(reference): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let view = match load(&state, &session, &reference).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let too_big = format!(
        "The file must be {} MB or smaller. Choose a smaller file, or send it to us by post",
        MAX_FILE_BYTES / (1024 * 1024)
    );
    let read = match multipart {
        Ok(mut multipart) => read_evidence(&mut multipart).await,
        Err(_) => Err(StatusCode::BAD_REQUEST),
    };
    let form = match read {
        Ok(form) => form,
        Err(_) => {
            let mut errors = Errors::default();
            errors.add(
                "evidence-text",
                "We could not read what you sent. Please try again",
            );
            return with_status(
                StatusCode::BAD_REQUEST,
                show(
                    &state,
                    &session,
                    &view,
                    Extras {
                        errors,
                        ..Extras::default()
                    },
                )
                .await,
            );
        }
    };
    if form.body_too_large {
        // Nothing is done, so the form's token need not be read first.
        let mut errors = Errors::default();
        errors.add("evidence-file", too_big);
        return with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            show(
                &state,
                &session,
                &view,
                Extras {
                    errors,
                    ..Extras::default()
                },
            )
            .await,
        );
    }
    if !session_csrf_ok(&session, &form.csrf) {
        return form_expired();
    }
    let text = form.text.trim().to_owned();
    let mut errors = Errors::default();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if form.text_too_long || text.chars().count() > redress_core::model::MAX_TEXT_CHARS {
        errors.add(
            "evidence-text",
            "What you write must be 20,000 characters or fewer",
        );
    }
    let file = match form.file {
        Some(upload) if upload.size > MAX_FILE_BYTES => {
            status = StatusCode::PAYLOAD_TOO_LARGE;
            errors.add("evidence-file", too_big.clone());
            None
        }
        Some(upload) => {
            match files::check(&upload.name, &upload.bytes) {
                Ok(kind) => Some((upload, kind)),
                Err(FileProblem::Empty) => {
                    errors.add(
                        "evidence-file",
                        "The file you chose is empty. Choose another file",
                    );
                    None
                }
                Err(FileProblem::TooBig) => {
                    status = StatusCode::PAYLOAD_TOO_LARGE;
                    errors.add("evidence-file", too_big);
                    None
                }
                Err(FileProblem::WrongType) => {
                    errors.add("evidence-file", "The file must be a PDF, a JPEG or PNG picture, or a plain text (.txt) file");
                    None
                }
            }
        }
        None => None,
    };
    if errors.is_empty() && text.is_empty() && file.is_none() {
        errors.add(
            "evidence-text",
            "Tell us what you are sending, or choose a file to send",
        );
    }
    if !errors.is_empty() {
        let typed = Typed {
            evidence: form.text,
            ..Typed::default()
        };
        return with_status(
            status,
            show(
                &state,
                &session,
                &view,
                Extras {
                    errors,
                    typed,
                    ..Extras::default()
                },
            )
            .await,
        );
    }
    let description = match (&file, text.is_empty()) {
        (Some((upload, _)), true) => format!("File sent: {}", upload.name),
        (Some((upload, _)), false) => format!("{text}\n\nFile sent: {}", upload.name),
        (None, _) => text.clone(),
    };
    let reference = view.complaint.reference.clone();
    let action = Action::ReceiveEvidence {
        request: None,
        description: Some(description),
        channel: Some(Channel::Web),
    };
    let command = Command {
        by: Actor::customer(),
        action,
    };
    let now = state.clock.now();
    // Tried on the complaint as it stands before anything is written to disk, so a refused
    // upload leaves no file behind.
    let mut refusal = redress_core::execute(
        view.complaint.clone(),
        command.clone(),
        now,
        state.store.procedure(),
    )
    .refusal;
    let mut stored = None;
    if refusal.is_none() {
        if let Some((upload, kind)) = file {
            match files::keep(state.web.files_dir.clone(), upload.bytes).await {
                Ok(hash) => stored = Some((hash, upload.name, kind, upload.size)),
                Err(error) => {
                    return internal(PageError::Internal(
                        anyhow::Error::new(error).context("cannot keep an uploaded file"),
                    ));
                }
            }
        }
        // The evidence event and the file's row commit together; a refusal records neither.
        let attachments: Vec<NewAttachment> = stored
            .iter()
            .map(|(hash, name, kind, size)| NewAttachment {
                sha256: hash.clone(),
                filename: name.clone(),
                content_type: kind.content_type().to_owned(),
                size: i64::try_from(*size).unwrap_or(i64::MAX),
                uploaded_by: UPLOADED_BY_CUSTOMER.to_owned(),
            })
            .collect();
        let result = state
            .store
            .run_command_with_files(&reference, command, now, &attachments)
            .await;
        refusal = match result {
            Ok(outcome) => outcome.refusal,
            Err(StoreError::Refused(refusal)) => Some(refusal),
            Err(StoreError::NotFound) => return complaint_not_found(),
            Err(error) => return internal(error),
        };
    }
    if let Some(refusal) = refusal {
        let extras = Extras {
            refusal: Some(format!(
                "We could not do that: {}",
                sentence(&refusal.reason)
            )),
            typed: Typed {
                evidence: form.text,
                ..Typed::default()
            },
            ..Extras::default()
        };
        return with_status(
            StatusCode::CONFLICT,
            show(&state, &session, &view, extras).await,
        );
    }
    Redirect::to(&format!("/my/complaints/{reference}?done=evidence")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_only_events_are_never_shown_to_customers() {
        let procedure = Procedure::default_procedure();
        let at = "2026-03-02T09:00:00Z".parse().expect("instant");
        let by = Actor::staff(
            redress_core::Role::Handler,
            "customer_services",
            Some("jo.bloggs"),
        );
        let hidden = [
            EventKind::NoteAdded {
                text: "private".into(),
                restricted: true,
                about_staff: None,
            },
            EventKind::CallRecorded {
                direction: Default::default(),
                summary: "call".into(),
                duration_minutes: None,
            },
            EventKind::HandlerAssigned {
                handler: "jo.bloggs".into(),
            },
            EventKind::StaffConcernedNamed {
                staff: "sam".into(),
                unassigned: false,
            },
            EventKind::CourseOfEventsRecorded {
                text: "internal".into(),
            },
            EventKind::CompensationOffered {
                offer: 1,
                amount_pence: 900_000,
                reason: None,
                approved: false,
            },
            EventKind::EvidenceRequested {
                request: 1,
                from: EvidenceSource::ThirdParty,
                description: Some("Openreach".into()),
                due_by: jiff::civil::date(2026, 4, 1),
            },
        ];
        for kind in hidden {
            let event = Event {
                at,
                by: by.clone(),
                kind,
            };
            assert_eq!(
                customer_sentence(&event, &procedure),
                None,
                "{:?}",
                event.kind
            );
        }
        let offer = Event {
            at,
            by,
            kind: EventKind::ResolutionOffered {
                text: "A refund".into(),
                offered_at_stage: Stage::CUSTOMER_SERVICES,
            },
        };
        let text = customer_sentence(&offer, &procedure).expect("shown");
        assert!(
            text.contains("A refund") && !text.contains("jo.bloggs"),
            "{text}"
        );
    }

    #[test]
    fn letters_are_named_in_words() {
        let procedure = Procedure::default_procedure();
        assert_eq!(
            letter_words("formal_response", &procedure),
            "Our formal written response"
        );
        assert_eq!(
            letter_words("adr_notice", &procedure),
            "Your right to go to Ombudsman Services: Communications"
        );
        assert_eq!(letter_words("something_new", &procedure), "Something new");
    }
}
