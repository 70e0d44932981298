//! A complaint's page for staff: the customer and their needs first, the clocks, a form for
//! each command the signed-in person may take now, and the timeline in words. Commands are
//! posted here and run through the store; a refusal comes back as the core's own sentence.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use redress_core::{
    Action, Command, EventKind, Reference, RefusalCode, Sight, Status, authorise, available,
    fire_due,
};

use super::forms::{self, FieldError, FormView};
use super::{
    ClockView, ErrorLink, actor, bad_form, chrome, clocks, csrf_ok, csrf_refused,
    refuse_non_reader, status_words, today,
};
use crate::state::AppState;
use crate::store::{ComplaintView, StoreError};
use crate::web::PageError;
use crate::web::session::StaffSession;
use crate::web::{Chrome, error_page, render};
use crate::words;

#[derive(Debug, Clone)]
pub struct Detail {
    pub term: &'static str,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct TimelineItem {
    pub datetime: String,
    pub when: String,
    pub sentence: String,
    /// A note's text, or the words another event carries (the customer's reason for not
    /// accepting, their letter asking for a review, what they sent), a paragraph per line
    /// (empty when hidden or there are none).
    pub note: Vec<String>,
    /// A note for managers only, shown to someone who is not a manager.
    pub note_hidden: bool,
    pub about: Option<String>,
    pub by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LetterView {
    pub href: String,
    pub what: String,
    pub to: &'static str,
    pub how: &'static str,
    pub sent: String,
}

pub struct AttachmentView {
    pub href: String,
    pub filename: String,
    pub size: String,
    pub when: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "staff_case.html")]
struct CasePage {
    calculator: Calculator,
    chrome: Chrome,
    reference: String,
    customer_name: String,
    refusal: Option<String>,
    errors: Vec<ErrorLink>,
    stage: String,
    status: &'static str,
    department: String,
    handler: Option<String>,
    accessibility: Vec<String>,
    vulnerabilities: Vec<String>,
    customer: Vec<Detail>,
    details: Vec<Detail>,
    summary: Vec<String>,
    staff_concerned: Vec<String>,
    me_concerned: bool,
    clocks: Vec<ClockView>,
    forms: Vec<FormView>,
    nothing_to_do: String,
    timeline: Vec<TimelineItem>,
    history: Vec<HistoryChoice>,
    /// Whether the history shows only part of what happened.
    history_filtered: bool,
    attachments: Vec<AttachmentView>,
    letters: Vec<LetterView>,
    /// The signed-in person may make the ombudsman's case file.
    case_file: bool,
    /// For compliance: every event with who did it, when, and through what.
    audit: Vec<AuditRow>,
}

/// One event of the audit trail.
struct AuditRow {
    sequence: i64,
    datetime: String,
    when: String,
    recorded: String,
    what: String,
    who: String,
    through: &'static str,
}

/// Through what an event came, in words.
fn through_words(via: Option<&str>) -> &'static str {
    match via {
        Some("web") => "Web pages",
        Some("api") => "API",
        Some("email") => "Email",
        Some("scheduler") => "Scheduler",
        Some("sender") => "Letter sender",
        Some("command line") => "Command line",
        _ => "Not recorded",
    }
}

/// What went wrong with a command just posted, to show on the page.
#[derive(Default)]
struct Posted<'a> {
    refusal: Option<String>,
    /// The command and the fields sent, when its form comes back with problems.
    form: Option<(&'a str, &'a HashMap<String, String>)>,
    errors: Vec<FieldError>,
    flash: Option<String>,
    /// Which part of the history to show (`?history=`).
    history: History,
    /// The letters the posted form's command would send, when staff asked to see them first.
    preview: Vec<forms::PreviewLetter>,
    /// The automatic compensation calculator's inputs and answer (`?quote_kind=...`).
    calculator: Calculator,
}

/// The case page's automatic compensation calculator: what was asked (as typed) and the answer
/// or what was wrong with the question.
#[derive(Debug, Clone, Default)]
struct Calculator {
    asked: HashMap<String, String>,
    amount: Option<String>,
    working: Vec<String>,
    unconfirmed: bool,
    problem: Option<String>,
}

impl Calculator {
    /// Works out the quote the query asks for, if it asks; times are London's, as typed.
    fn from_query(
        query: &HashMap<String, String>,
        procedure: &redress_core::Procedure,
    ) -> Calculator {
        let asked: HashMap<String, String> = query
            .iter()
            .filter(|(k, _)| k.starts_with("quote_"))
            .map(|(k, v)| (k.clone(), v.chars().take(40).collect()))
            .collect();
        let Some(kind) = asked.get("quote_kind").cloned() else {
            return Calculator::default();
        };
        let get = |name: &str| asked.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let tz = procedure.time_zone();
        let instant = |name: &str| -> Result<Option<jiff::Timestamp>, String> {
            get(name)
                .map(|v| {
                    v.parse::<jiff::civil::DateTime>()
                        .ok()
                        .and_then(|dt| tz.to_ambiguous_zoned_datetime(dt).compatible().ok())
                        .map(|z| z.timestamp())
                        .ok_or_else(|| format!("'{v}' is not a date and time"))
                })
                .transpose()
        };
        let date = |name: &str| -> Result<Option<jiff::civil::Date>, String> {
            get(name)
                .map(|v| v.parse().map_err(|_| format!("'{v}' is not a date")))
                .transpose()
        };
        let nation = get("quote_nation")
            .unwrap_or("england_and_wales")
            .to_owned();
        let answer = (|| {
            let asked = crate::words::QuoteAsked {
                kind: &kind,
                reported: instant("quote_reported")?,
                restored: instant("quote_restored")?,
                nation: &nation,
                date: date("quote_date")?,
                due: date("quote_due")?,
                started: date("quote_started")?,
            };
            crate::words::quote(procedure, &asked)
        })();
        match answer {
            Ok(quote) => Calculator {
                amount: Some(redress_core::Money(quote.amount_pence).to_string()),
                working: quote.working,
                unconfirmed: !quote.rates_confirmed,
                asked,
                problem: None,
            },
            Err(problem) => Calculator {
                asked,
                problem: Some(sentence(&problem.replace("--", ""))),
                ..Calculator::default()
            },
        }
    }

    fn value(&self, name: &str) -> String {
        self.asked.get(name).cloned().unwrap_or_default()
    }
}

/// The parts of a complaint's history a member of staff may look at alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum History {
    #[default]
    All,
    /// What the customer did or sent.
    Customer,
    /// What staff did.
    Staff,
    /// What Redress did by itself: clocks that ran out, email filed.
    System,
    /// Notes and calls.
    Notes,
}

impl History {
    const ALL: [(History, &'static str, &'static str); 5] = [
        (History::All, "all", "Everything"),
        (History::Customer, "customer", "What the customer did"),
        (History::Staff, "staff", "What staff did"),
        (History::System, "system", "What Redress did by itself"),
        (History::Notes, "notes", "Notes and calls"),
    ];

    fn parse(text: &str) -> Option<History> {
        History::ALL
            .iter()
            .find(|(_, value, _)| *value == text)
            .map(|(h, _, _)| *h)
    }

    fn shows(self, event: &redress_core::Event) -> bool {
        match self {
            History::All => true,
            History::Customer => event.by.role == redress_core::Role::Customer,
            History::System => event.by.role == redress_core::Role::System,
            History::Staff => !matches!(
                event.by.role,
                redress_core::Role::Customer | redress_core::Role::System
            ),
            History::Notes => matches!(
                event.kind,
                EventKind::NoteAdded { .. } | EventKind::CallRecorded { .. }
            ),
        }
    }
}

/// A choice of the history filter, for the page.
pub struct HistoryChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn paragraphs(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The free text an event carries that its sentence does not already say: what the customer
/// wrote when they did not accept, asked for a review or sent evidence, and what staff wrote
/// with a finding, a response or a letter. (Notes are handled apart: some are for managers.)
fn words_carried(kind: &EventKind) -> Option<&str> {
    let text = match kind {
        EventKind::ResolutionRejected { reason }
        | EventKind::Transferred { reason, .. }
        | EventKind::NoFaultFound { reason }
        | EventKind::CompensationOffered { reason, .. }
        | EventKind::Closed { reason }
        | EventKind::Reopened { reason } => reason.as_deref(),
        EventKind::EvidenceReceived { description, .. }
        | EventKind::FaultEstablished { description } => description.as_deref(),
        EventKind::CourseOfEventsRecorded { text } => Some(text.as_str()),
        EventKind::FormalResponseIssued { text }
        | EventKind::ManagerReviewRequested { text, .. }
        | EventKind::DeadlockIssued { text }
        | EventKind::RemedyCompleted { text } => text.as_deref(),
        EventKind::OmbudsmanDecided { remedy, .. } => remedy.as_deref(),
        _ => None,
    };
    text.filter(|t| !t.trim().is_empty())
}

fn size_words(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{} KB", b / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn no_such_complaint() -> Response {
    error_page(&PageError::NotFound(
        "there is no complaint with that reference".into(),
    ))
}

/// The commands offered as forms to this person now: what the core lists, and `assign` when
/// they may act on the complaint at all.
fn offered(view: &ComplaintView, staff: &StaffSession, state: &AppState) -> Vec<&'static str> {
    let procedure = state.store.procedure();
    let now = state.clock.now();
    let by = actor(&staff.user);
    // Clocks already due count first, as they will when a command runs.
    let (c, _) = fire_due(view.complaint.clone(), now, procedure);
    let mut names = available(&c, &by, now, procedure);
    let probe = Action::Assign {
        handler: staff.user.email.clone(),
    };
    if c.status != Status::Closed && authorise(&c, &by, &probe, procedure).is_ok() {
        names.push("assign");
    }
    names
}

/// Whom `user` may give the complaint to, as (identifier, "Name (address)"): the people of the
/// department that holds its stage who may hold it (the core's `staffing::may_hold`); a handler
/// only themselves.
async fn assignees(
    state: &AppState,
    c: &redress_core::Complaint,
    user: &crate::store::User,
) -> Result<Vec<(String, String)>, StoreError> {
    let procedure = state.store.procedure();
    let staff = state
        .store
        .department_staff(procedure.department_of(c.stage))
        .await?;
    Ok(staff
        .into_iter()
        .filter(|u| {
            redress_core::staffing::may_hold(u.role, u.department.as_deref(), c.stage, procedure)
        })
        .filter(|u| {
            user.role != redress_core::Role::Handler || u.email.eq_ignore_ascii_case(&user.email)
        })
        .map(|u| {
            let label = format!("{} ({})", u.name, u.email);
            (u.email, label)
        })
        .collect())
}

/// `GET /staff/complaints/{reference}/letters/{id}` and `.../{id}.pdf`: a letter or email the
/// complaint caused, to read or as its PDF.
pub async fn letter(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    use crate::web::letters::{self, Asked};
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let Ok(Path((reference, file))) = path else {
        return letters::no_letter();
    };
    let Ok(reference) = Reference::parse(&reference) else {
        return no_such_complaint();
    };
    let Some(asked) = Asked::parse(&file) else {
        return letters::no_letter();
    };
    let (item, letter, sent) = match letters::find(&state, reference.as_str(), &asked, false).await
    {
        Ok(Some(found)) => found,
        Ok(None) => return letters::no_letter(),
        Err(response) => return response,
    };
    match asked {
        Asked::Pdf(_) => letters::pdf(&item, letter, sent).await,
        Asked::Page(_) => letters::page(
            &state,
            chrome(&state, &staff),
            &item,
            &letter,
            "/staff",
            true,
        ),
    }
}

async fn show(
    state: &AppState,
    staff: &StaffSession,
    reference: &Reference,
    status: StatusCode,
    posted: Posted<'_>,
) -> Response {
    let view = match state.store.get_complaint(reference).await {
        Ok(view) => view,
        Err(error) => return error_page(&error.into()),
    };
    let attachments = match state.store.attachments(reference.as_str()).await {
        Ok(rows) => rows,
        Err(error) => return error_page(&error.into()),
    };
    let letters = match state.store.complaint_letters(reference.as_str()).await {
        Ok(rows) => rows,
        Err(error) => return error_page(&error.into()),
    };
    let procedure = state.store.procedure();
    let tz = procedure.time_zone();
    let c = &view.complaint;
    let user = &staff.user;
    let viewer = actor(user);

    let mut forms = Vec::new();
    let mut errors = Vec::new();
    let offered = offered(&view, staff, state);
    let people = if offered.contains(&"assign") {
        match assignees(state, c, user).await {
            Ok(people) => people,
            Err(error) => return error_page(&error.into()),
        }
    } else {
        Vec::new()
    };
    for name in offered {
        let Some(spec) = forms::spec(name, c, procedure, user.role, &user.email) else {
            continue;
        };
        let spec = spec.with_assignees(people.clone());
        let form = match posted.form {
            Some((command, values)) if command == name => {
                for e in &posted.errors {
                    errors.push(ErrorLink {
                        href: format!("#{}", forms::field_id(name, e.field)),
                        message: e.message.clone(),
                    });
                }
                let mut view = spec.view(Some(values), &posted.errors);
                view.preview = posted.preview.clone();
                view
            }
            _ => spec.view(None, &[]),
        };
        forms.push(form);
    }
    // Problems with a form no longer offered are said in the refusal box instead.
    let mut refusal = posted.refusal;
    if errors.is_empty() && !posted.errors.is_empty() {
        let text: Vec<String> = posted.errors.iter().map(|e| e.message.clone()).collect();
        refusal = Some(text.join("; "));
    }
    let me_concerned = c
        .staff_concerned
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&user.email));
    let nothing_to_do = if me_concerned {
        "You are named as a staff member concerned in this complaint, so you cannot act on it."
            .to_owned()
    } else {
        let owner = procedure
            .department(procedure.department_of(c.stage))
            .map_or_else(
                || procedure.department_of(c.stage).to_owned(),
                |d| d.name.clone(),
            );
        format!(
            "There is nothing you can do on this complaint now. At stage {} it is handled by {owner}.",
            c.stage
        )
    };

    // Compliance reads the whole trail: who (staff by name, a token by its label, the
    // customer, Redress itself), when, and through what.
    let audit = if user.role == redress_core::Role::Compliance {
        let staff: Vec<String> = view
            .events
            .iter()
            .filter_map(|row| row.event.by.staff.clone())
            .collect();
        let names = match super::Names::of(state, &staff).await {
            Ok(names) => names,
            Err(error) => return error_page(&error.into()),
        };
        view.events
            .iter()
            .rev()
            .map(|row| {
                let by = &row.event.by;
                let who = match (by.role, &by.staff) {
                    (redress_core::Role::System, _) => "Redress itself".to_owned(),
                    (redress_core::Role::Customer, _) => "The customer".to_owned(),
                    (role, Some(staff)) => format!(
                        "{} ({})",
                        names.name(staff),
                        role.as_str().replace('_', " ")
                    ),
                    (role, None) => format!("A {} token", role.as_str().replace('_', " ")),
                };
                AuditRow {
                    sequence: row.sequence,
                    datetime: row.event.at.to_string(),
                    when: words::instant(row.event.at, tz),
                    recorded: words::instant(row.recorded_at, tz),
                    what: words::event_sentence(&row.event, procedure, false),
                    who,
                    through: through_words(row.via.as_deref()),
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    // Newest first: what happened last is what a handler picking the case up reads first.
    let timeline = view
        .events
        .iter()
        .rev()
        .filter(|row| posted.history.shows(&row.event))
        .filter_map(|row| {
            let sight = redress_core::sight(&viewer, c, &row.event, procedure);
            (sight != Sight::Hidden).then_some((row, sight))
        })
        .map(|(row, sight)| {
            let event = &row.event;
            let mut item = TimelineItem {
                datetime: event.at.to_string(),
                when: words::instant(event.at, tz),
                sentence: words::event_sentence(event, procedure, false),
                note: Vec::new(),
                note_hidden: false,
                about: None,
                by: event.by.staff.clone(),
            };
            if let EventKind::NoteAdded {
                text, about_staff, ..
            } = &event.kind
            {
                if sight == Sight::Withheld {
                    item.note_hidden = true;
                } else {
                    item.note = paragraphs(text);
                    item.about = about_staff.clone();
                }
            } else if let Some(text) = words_carried(&event.kind) {
                item.note = paragraphs(text);
            }
            item
        })
        .collect();

    let customer = &c.customer;
    let mut customer_details = vec![Detail {
        term: "Name",
        value: customer.name.clone(),
    }];
    customer_details.push(Detail {
        term: "Account number",
        value: customer.account.clone(),
    });
    if let Some(email) = &customer.email {
        customer_details.push(Detail {
            term: "Email",
            value: email.clone(),
        });
    }
    if let Some(telephone) = &customer.telephone {
        customer_details.push(Detail {
            term: "Telephone",
            value: telephone.clone(),
        });
    }
    if !customer.address.is_empty() {
        customer_details.push(Detail {
            term: "Address",
            value: customer.address.join(", "),
        });
    }
    if let Some(postcode) = &customer.postcode {
        customer_details.push(Detail {
            term: "Postcode",
            value: postcode.as_str().to_owned(),
        });
    }
    if let Some(channel) = customer.preferred_channel {
        customer_details.push(Detail {
            term: "Prefers to hear from us by",
            value: channel.as_str().to_owned(),
        });
    }
    let mut details = vec![Detail {
        term: "Received",
        value: format!(
            "{} by {}",
            words::instant(c.first_received_at, tz),
            c.channel.as_str()
        ),
    }];
    if let Some(code) = &c.category {
        let name = procedure
            .category(code)
            .map_or_else(|| code.clone(), |cat| cat.name.clone());
        details.push(Detail {
            term: "Category",
            value: name,
        });
    }

    let department = procedure
        .department(procedure.department_of(c.stage))
        .map_or_else(
            || procedure.department_of(c.stage).to_owned(),
            |d| d.name.clone(),
        );
    // The handler by name, with the address that identifies them.
    let handler = match &c.handler {
        Some(h) => match state.store.staff_by_email(std::slice::from_ref(h)).await {
            Ok(people) => Some(
                people
                    .get(&h.trim().to_lowercase())
                    .map_or_else(|| h.clone(), |u| format!("{} ({})", u.name, u.email)),
            ),
            Err(error) => return error_page(&error.into()),
        },
        None => None,
    };
    let mut chrome = chrome(state, staff);
    chrome.flash = posted.flash;
    let page = CasePage {
        chrome,
        reference: c.reference.as_str().to_owned(),
        customer_name: customer.name.clone(),
        refusal,
        errors,
        stage: format!("Stage {}: {}", c.stage, procedure.stage(c.stage).name),
        status: status_words(c.status.as_str()),
        department,
        handler,
        accessibility: customer.accessibility_needs.clone(),
        vulnerabilities: customer.vulnerabilities.clone(),
        customer: customer_details,
        details,
        summary: paragraphs(&c.summary),
        staff_concerned: c.staff_concerned.clone(),
        me_concerned,
        clocks: clocks(
            c,
            &view.deadlines,
            &redress_core::owed(c, procedure, state.clock.now()),
            today(state),
            tz,
        ),
        forms,
        nothing_to_do,
        case_file: redress_core::visibility::may_make_case_file(user.role),
        calculator: posted.calculator.clone(),
        audit,
        timeline,
        history: History::ALL
            .iter()
            .map(|(h, value, label)| HistoryChoice {
                value,
                label,
                selected: *h == posted.history,
            })
            .collect(),
        history_filtered: posted.history != History::All,
        attachments: attachments
            .into_iter()
            .map(|a| AttachmentView {
                href: format!("/staff/complaints/{}/files/{}", c.reference, a.id),
                filename: a.filename,
                size: size_words(a.size),
                when: words::instant(a.uploaded_at, tz),
                by: a.uploaded_by,
            })
            .collect(),
        letters: letters
            .into_iter()
            .map(|l| LetterView {
                href: format!("/staff/complaints/{}/letters/{}", c.reference, l.id),
                what: crate::web::portal::letter_words(&l.kind, procedure),
                to: if l.recipient == "third_party" {
                    "Third party"
                } else {
                    "Customer"
                },
                how: if l.channel == "email" {
                    "Email"
                } else {
                    "Post"
                },
                sent: match (l.sent_at, l.cancelled_at, &l.last_error) {
                    (None, Some(_), _) => {
                        "Not sent: the offer was withdrawn before it went".to_owned()
                    }
                    (Some(_), Some(_), _) if l.channel == "post" => {
                        "Not posted: the offer was withdrawn before it was printed".to_owned()
                    }
                    (Some(t), _, _) => words::instant(t, tz),
                    (None, None, Some(_)) => "Not yet: the last attempt failed".to_owned(),
                    (None, None, None) => "Not yet".to_owned(),
                },
            })
            .collect(),
    };
    (status, render(&page)).into_response()
}

pub async fn case_page(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let Ok(Path(reference)) = path else {
        return error_page(&PageError::NotFound(
            "there is nothing at this address".into(),
        ));
    };
    let Ok(reference) = Reference::parse(&reference) else {
        return no_such_complaint();
    };
    let query = query.ok().map(|Query(q)| q).unwrap_or_default();
    let history = query
        .get("history")
        .and_then(|h| History::parse(h))
        .unwrap_or_default();
    let flash = query
        .get("done")
        .cloned()
        .and_then(|done| match done.as_str() {
            "recorded" => Some("The complaint is recorded. Its clocks have started.".to_owned()),
            _ => forms::done_sentence(&done, state.store.procedure()),
        });
    let calculator = Calculator::from_query(&query, state.store.procedure());
    show(
        &state,
        &staff,
        &reference,
        StatusCode::OK,
        Posted {
            flash,
            history,
            calculator,
            ..Default::default()
        },
    )
    .await
}

/// The command that takes a file (a scan of what was received) beside its fields.
const TAKES_FILE: &str = "receive_evidence";

/// A command's form as sent: urlencoded, or multipart with a file (`file`) for
/// [`TAKES_FILE`]; the first value of each field; whether the body was more than we take.
async fn read_command_form(
    state: &AppState,
    request: Request,
) -> Result<(HashMap<String, String>, Option<crate::upload::Upload>, bool), Response> {
    let multipart = crate::upload::is_multipart(&request);
    if !multipart {
        let Ok(Form(form)) = Form::<HashMap<String, String>>::from_request(request, state).await
        else {
            return Err(bad_form());
        };
        return Ok((form, None, false));
    }
    let mut parts = Multipart::from_request(request, state)
        .await
        .map_err(|_| bad_form())?;
    let read = crate::upload::read(
        &mut parts,
        "file",
        4 * redress_core::model::MAX_TEXT_CHARS + 1024,
    )
    .await
    .map_err(|_| bad_form())?;
    let mut form = HashMap::new();
    for (name, value) in read.fields {
        form.entry(name).or_insert(value);
    }
    Ok((form, read.file, read.body_too_large))
}

pub async fn command(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Response {
    let (form, file, too_large) = match read_command_form(&state, request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    if !csrf_ok(&staff, &form) {
        return csrf_refused();
    }
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let not_found = || {
        error_page(&PageError::NotFound(
            "there is nothing at this address".into(),
        ))
    };
    let Ok(Path((reference, name))) = path else {
        return not_found();
    };
    let Ok(reference) = Reference::parse(&reference) else {
        return no_such_complaint();
    };
    if !forms::is_form_command(&name) {
        return not_found();
    }
    let view = match state.store.get_complaint(&reference).await {
        Ok(view) => view,
        Err(error) => return error_page(&error.into()),
    };
    let user = &staff.user;
    let procedure = state.store.procedure();
    let Some(spec) = forms::spec(&name, &view.complaint, procedure, user.role, &user.email) else {
        return not_found();
    };
    let spec = if spec.name == "assign" {
        match assignees(&state, &view.complaint, user).await {
            Ok(people) => spec.with_assignees(people),
            Err(error) => return error_page(&error.into()),
        }
    } else {
        spec
    };
    let offered = offered(&view, &staff, &state);
    let action = match spec.parse(&form) {
        Ok(action) => action,
        Err(errors) if offered.contains(&spec.name) => {
            return form_problem(&state, &staff, &reference, spec.name, &form, errors).await;
        }
        Err(_) => {
            let refusal = format!(
                "You cannot {} on this complaint now.",
                spec.title.to_lowercase()
            );
            let posted = Posted {
                refusal: Some(refusal),
                ..Default::default()
            };
            return show(&state, &staff, &reference, StatusCode::CONFLICT, posted).await;
        }
    };
    // A file goes only with the command that takes one, checked as every file we keep.
    let file = match (file, spec.name == TAKES_FILE, too_large) {
        (_, true, true) => Err(format!(
            "The file must be {} MB or smaller",
            crate::files::MAX_FILE_BYTES / (1024 * 1024)
        )),
        (Some(upload), true, false) => crate::upload::check(&upload, "The file")
            .map(|kind| Some((upload, kind)))
            .map_err(|(_, message)| message),
        _ => Ok(None),
    };
    let file = match file {
        Ok(file) => file,
        Err(message) => {
            let errors = vec![FieldError {
                field: "file",
                message,
            }];
            return form_problem(&state, &staff, &reference, spec.name, &form, errors).await;
        }
    };
    let action = match (action, &file) {
        (
            Action::ReceiveEvidence {
                request,
                description,
                channel,
            },
            Some((upload, _)),
        ) => Action::ReceiveEvidence {
            request,
            description: Some(match description {
                Some(text) => format!("{text}\n\nFile attached: {}", upload.name),
                None => format!("File attached: {}", upload.name),
            }),
            channel,
        },
        (action, _) => action,
    };
    let command = Command {
        by: actor(user),
        action,
    };
    let now = state.clock.now();
    if let Some((upload, kind)) = file {
        // Tried first, so a refused command leaves no file behind; then the event and the
        // file's row commit together.
        if let Some(refusal) =
            redress_core::execute(view.complaint.clone(), command.clone(), now, procedure).refusal
        {
            let posted = Posted {
                refusal: Some(sentence(&refusal.reason)),
                ..Default::default()
            };
            return show(&state, &staff, &reference, StatusCode::CONFLICT, posted).await;
        }
        let attachment =
            match crate::upload::keep(&state.web.files_dir, upload, kind, &user.email).await {
                Ok(attachment) => attachment,
                Err(error) => return error_page(&PageError::Internal(error)),
            };
        return match state
            .store
            .run_command_with_files(&reference, command, now, &[attachment])
            .await
        {
            Ok(outcome) if outcome.refusal.is_none() => {
                Redirect::to(&format!("/staff/complaints/{reference}?done={}", spec.name))
                    .into_response()
            }
            Ok(outcome) => {
                let posted = Posted {
                    refusal: outcome.refusal.map(|r| sentence(&r.reason)),
                    ..Default::default()
                };
                show(&state, &staff, &reference, StatusCode::CONFLICT, posted).await
            }
            Err(StoreError::NotFound) => no_such_complaint(),
            Err(error) => error_page(&error.into()),
        };
    }
    if form.contains_key("preview") && forms::PREVIEWED.contains(&spec.name) {
        let posted = match preview(&view.complaint, command, now, procedure) {
            Ok(preview) => Posted {
                form: Some((spec.name, &form)),
                preview,
                ..Default::default()
            },
            Err(refusal) => Posted {
                refusal: Some(sentence(&refusal.reason)),
                ..Default::default()
            },
        };
        return show(&state, &staff, &reference, StatusCode::OK, posted).await;
    }
    let ran = state.store.run_command(&reference, command, now).await;
    let outcome = match ran {
        Ok(outcome) => outcome,
        Err(StoreError::NotFound) => return no_such_complaint(),
        Err(error) => return error_page(&error.into()),
    };
    if let Err(error) =
        crate::retention::after_command(&state.store, &state.web.folders(), &outcome).await
    {
        return error_page(&error.into());
    }
    match outcome.refusal {
        None => Redirect::to(&format!("/staff/complaints/{reference}?done={}", spec.name))
            .into_response(),
        Some(refusal)
            if refusal.code == RefusalCode::InvalidInput
                && offered.contains(&spec.name)
                && spec.main_field().is_some() =>
        {
            let field = spec.main_field().unwrap_or_default();
            let message = sentence(&refusal.reason);
            let posted = Posted {
                form: Some((spec.name, &form)),
                errors: vec![FieldError { field, message }],
                ..Default::default()
            };
            show(
                &state,
                &staff,
                &reference,
                StatusCode::UNPROCESSABLE_ENTITY,
                posted,
            )
            .await
        }
        Some(refusal) => {
            let status = if refusal.code == RefusalCode::InvalidInput {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            let posted = Posted {
                refusal: Some(sentence(&refusal.reason)),
                ..Default::default()
            };
            show(&state, &staff, &reference, status, posted).await
        }
    }
}

/// The customer's letters `command` would cause, rendered as they would be sent; nothing is
/// recorded. A command the core would refuse gives its refusal.
fn preview(
    complaint: &redress_core::Complaint,
    command: Command,
    now: jiff::Timestamp,
    procedure: &redress_core::procedure::Procedure,
) -> Result<Vec<forms::PreviewLetter>, redress_core::Refusal> {
    let outcome = redress_core::execute(complaint.clone(), command, now, procedure);
    if let Some(refusal) = outcome.refusal {
        return Err(refusal);
    }
    let mut state = complaint.clone();
    let mut letters = Vec::new();
    for event in &outcome.events {
        state = redress_core::apply(state, event);
        let Some(caused) = redress_core::correspondence::caused_by(event, &state) else {
            continue;
        };
        if caused.recipient != redress_core::letters::Recipient::Customer {
            continue;
        }
        if let Ok(letter) =
            crate::mail::letters::render(&state, event, caused.kind, caused.recipient, procedure)
        {
            letters.push(forms::PreviewLetter {
                subject: letter.subject.clone(),
                how: match caused.route {
                    redress_core::correspondence::Route::Email => "By email",
                    redress_core::correspondence::Route::Post => "By post",
                },
                paragraphs: paragraphs(&letter.text()),
            });
        }
    }
    if letters.is_empty() {
        // An offer above the person's limit, say: it writes once someone approves it.
        letters.push(forms::PreviewLetter {
            subject: "This sends the customer no letter now".to_owned(),
            how: "",
            paragraphs: Vec::new(),
        });
    }
    Ok(letters)
}

/// The case page again with the posted form open, what was typed kept, and its problems.
async fn form_problem(
    state: &AppState,
    staff: &StaffSession,
    reference: &Reference,
    name: &'static str,
    form: &HashMap<String, String>,
    errors: Vec<FieldError>,
) -> Response {
    let posted = Posted {
        form: Some((name, form)),
        errors,
        ..Default::default()
    };
    show(
        state,
        staff,
        reference,
        StatusCode::UNPROCESSABLE_ENTITY,
        posted,
    )
    .await
}

/// `POST /staff/complaints/{reference}/case-file`: the ombudsman's case file as a zip, for
/// those the core lets make one; making it is recorded on the complaint.
pub async fn case_file(
    State(state): State<AppState>,
    staff: StaffSession,
    path: Result<Path<String>, PathRejection>,
    form: Result<axum::Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return bad_form();
    };
    if !csrf_ok(&staff, &form) {
        return csrf_refused();
    }
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    if !redress_core::visibility::may_make_case_file(staff.user.role) {
        return error_page(&PageError::Forbidden(
            "only compliance staff, team managers and the Customer Resolution Manager make case files".into(),
        ));
    }
    let Some(reference) = path.ok().and_then(|Path(r)| Reference::parse(&r).ok()) else {
        return no_such_complaint();
    };
    match crate::casefile::generate(
        &state.store,
        &state.web.files_dir,
        &reference,
        &actor(&staff.user),
        state.clock.now(),
    )
    .await
    {
        Ok(made) => crate::casefile::download(&reference, made.zip),
        Err(crate::casefile::CaseFileError::NotFound) => no_such_complaint(),
        Err(crate::casefile::CaseFileError::Store(error)) => error_page(&error.into()),
        Err(crate::casefile::CaseFileError::Erased(why)) => error_page(&PageError::Conflict(why)),
        Err(crate::casefile::CaseFileError::Other(error)) => {
            error_page(&PageError::Internal(error))
        }
    }
}

/// The core's reason as a sentence: a capital letter first, a full stop last.
fn sentence(reason: &str) -> String {
    let mut chars = reason.trim().chars();
    let mut text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_core::Stage;

    #[test]
    fn the_words_an_event_carries_reach_staff() {
        let rejected = EventKind::ResolutionRejected {
            reason: Some("An engineer came before".into()),
        };
        assert_eq!(words_carried(&rejected), Some("An engineer came before"));
        let review = EventKind::ManagerReviewRequested {
            from_stage: Stage::CUSTOMER_RESOLUTION,
            to_stage: Stage::RESOLUTION_MANAGER,
            text: Some("Please look again".into()),
        };
        assert_eq!(words_carried(&review), Some("Please look again"));
        let blank = EventKind::Closed {
            reason: Some("  ".into()),
        };
        assert_eq!(words_carried(&blank), None);
        // A note's words are not carried here: some are for managers only.
        let note = EventKind::NoteAdded {
            text: "private".into(),
            restricted: true,
            about_staff: None,
        };
        assert_eq!(words_carried(&note), None);
    }
}
