//! Recording a complaint that reached us by telephone, letter, email, textphone or another way:
//! `GET /staff/complaints/new` (the form; `?account=` first shows the customer's other
//! complaints) and `POST /staff/complaints` (on success, the new case page). The customer's
//! details are checked as the portal checks them, in staff words; the core checks everything
//! again, including who may record a complaint and that it was not received in the future.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::{Date, Time};
use redress_core::{Channel, clock};
use std::collections::HashMap;

use super::{actor, chrome, refuse_non_reader, status_words};
use crate::state::AppState;
use crate::store::{
    ComplaintFilter, Idempotency, Keyed, QuarantineRow, Resolution, Resolved, Resolving,
    StoreError, random_token,
};
use crate::upload::Upload;
use crate::web::error::PageError;
use crate::web::portal::{
    CONTACTS, Choice, Errors, FormData, NEEDS, VULNERABILITY_CHARS, Values, Voice, check_in,
};
use crate::web::session::{StaffSession, same_secret};
use crate::web::{Chrome, error_page, render};
use crate::words;

/// How the complaint reached us: form value, label, channel.
const CHANNELS: [(&str, &str, Channel); 5] = [
    ("telephone", "Telephone", Channel::Telephone),
    ("letter", "Letter", Channel::Letter),
    ("email", "Email", Channel::Email),
    ("textphone", "Textphone or Relay UK", Channel::Textphone),
    ("web", "Web chat or another online form", Channel::Web),
];

/// A complaint from the same account, shown before a new one is recorded.
pub struct Other {
    pub reference: String,
    pub stage: String,
    pub status: &'static str,
    pub received: String,
}

#[derive(Template)]
#[template(path = "staff_record.html")]
struct RecordPage {
    chrome: Chrome,
    values: Values,
    received_date: String,
    received_time: String,
    errors: Errors,
    refusal: Option<String>,
    channels: Vec<Choice>,
    contacts: Vec<Choice>,
    categories: Vec<Choice>,
    needs: Vec<Choice>,
    vulnerability_chars: usize,
    looked_up: Option<String>,
    others: Vec<Other>,
    /// The quarantined email the complaint is started from, if any.
    quarantine: Option<i64>,
}

/// What was typed besides the customer's details.
struct Receipt {
    channel: String,
    date: String,
    time: String,
    /// The quarantined email this complaint is started from.
    quarantine: Option<i64>,
}

async fn show(
    state: &AppState,
    staff: &StaffSession,
    values: Values,
    receipt: Receipt,
    errors: Errors,
    refusal: Option<String>,
    looked_up: Option<String>,
) -> Response {
    let procedure = state.store.procedure();
    let mut others = Vec::new();
    if let Some(account) = looked_up.as_deref().filter(|a| !a.is_empty()) {
        let filter = ComplaintFilter {
            q: Some(account.to_owned()),
            limit: 50,
            ..Default::default()
        };
        match state.store.list_complaints(&filter).await {
            Ok(page) => {
                let tz = procedure.time_zone();
                others = page
                    .items
                    .into_iter()
                    .filter(|i| i.customer_account.eq_ignore_ascii_case(account))
                    .map(|i| Other {
                        reference: i.reference,
                        stage: format!("Stage {}", i.stage),
                        status: status_words(&i.status),
                        received: words::date(clock::local_date(tz, i.first_received_at)),
                    })
                    .collect();
            }
            Err(error) => return error_page(&error.into()),
        }
    }
    let choices = |list: &[(&str, &str)], chosen: &dyn Fn(&str) -> bool| -> Vec<Choice> {
        list.iter()
            .map(|(value, label)| Choice {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                checked: chosen(value),
            })
            .collect()
    };
    let channel_list: Vec<(&str, &str)> = CHANNELS.iter().map(|(v, l, _)| (*v, *l)).collect();
    let contact_list: Vec<(&str, &str)> = CONTACTS.iter().map(|(v, l, _)| (*v, *l)).collect();
    let categories: Vec<Choice> = procedure
        .categories
        .iter()
        .map(|c| Choice {
            value: c.code.clone(),
            label: c.name.clone(),
            checked: values.category == c.code,
        })
        .collect();
    let page = RecordPage {
        chrome: chrome(state, staff),
        channels: choices(&channel_list, &|v| v == receipt.channel),
        contacts: choices(&contact_list, &|v| v == values.contact),
        needs: choices(&NEEDS, &|v| values.needs.iter().any(|n| n == v)),
        categories,
        received_date: receipt.date,
        received_time: receipt.time,
        vulnerability_chars: VULNERABILITY_CHARS,
        values,
        errors,
        refusal,
        looked_up,
        others,
        quarantine: receipt.quarantine,
    };
    render(&page)
}

/// `GET /staff/complaints/new`
pub async fn form(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let now = state.clock.now();
    let tz = state.store.procedure().time_zone();
    let local = tz.to_datetime(now);
    let looked_up = query
        .get("account")
        .map(|a| a.trim().chars().take(100).collect::<String>());
    let mut values = Values {
        submission: random_token(),
        account: looked_up.clone().unwrap_or_default(),
        ..Values::default()
    };
    let mut receipt = Receipt {
        channel: "telephone".to_owned(),
        date: local.date().to_string(),
        time: format!("{:02}:{:02}", local.hour(), local.minute()),
        quarantine: None,
    };
    if let Some(id) = query.get("quarantine") {
        let row = match waiting_quarantine(&state, id, None).await {
            Ok(row) => row,
            Err(response) => return response,
        };
        let arrived = tz.to_datetime(row.received_at);
        receipt = Receipt {
            channel: "email".to_owned(),
            date: arrived.date().to_string(),
            time: format!("{:02}:{:02}", arrived.hour(), arrived.minute()),
            quarantine: Some(row.id),
        };
        let (name, email) = split_sender(row.sender.as_deref().unwrap_or(""));
        values.name = name;
        values.email = email;
        values.contact = "email".to_owned();
        let text = match crate::mail::quarantine::raw(&state.web.files_dir, &row).await {
            Ok(raw) => crate::mail::quarantine::show(&raw).text,
            Err(_) => String::new(),
        };
        let subject = row.subject.clone().unwrap_or_default();
        let summary = match (subject.is_empty(), text.trim().is_empty()) {
            (false, false) => format!("{subject}\n\n{}", text.trim()),
            (false, true) => subject,
            (true, _) => text.trim().to_owned(),
        };
        values.summary = summary
            .chars()
            .take(redress_core::model::MAX_TEXT_CHARS)
            .collect();
    }
    show(
        &state,
        &staff,
        values,
        receipt,
        Errors::default(),
        None,
        looked_up,
    )
    .await
}

/// `POST /staff/complaints`
/// The record form as sent: urlencoded, or multipart with a scan of the letter (`scan`).
async fn read_form(
    state: &AppState,
    request: Request,
) -> Result<(FormData, Option<Upload>, bool), Response> {
    let multipart = crate::upload::is_multipart(&request);
    if multipart {
        let mut parts = Multipart::from_request(request, state)
            .await
            .map_err(|_| super::bad_form())?;
        let form = crate::upload::read(&mut parts, "scan", TEXT_FIELD_BYTES)
            .await
            .map_err(|_| super::bad_form())?;
        Ok((
            FormData::from_pairs(form.fields),
            form.file,
            form.body_too_large,
        ))
    } else {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| super::bad_form())?;
        Ok((FormData::parse(&body), None, false))
    }
}

/// The most of a text field the record form reads.
const TEXT_FIELD_BYTES: usize = 4 * redress_core::model::MAX_TEXT_CHARS + 1024;

pub async fn record(
    State(state): State<AppState>,
    staff: StaffSession,
    request: Request,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let (form, scan, too_large) = match read_form(&state, request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let mut values = Values::from_form(&form);
    let receipt = Receipt {
        channel: form.get("channel").trim().to_owned(),
        date: form.get("received_date").trim().to_owned(),
        time: form.get("received_time").trim().to_owned(),
        quarantine: form.get("quarantine").trim().parse::<i64>().ok(),
    };
    let submission_ok =
        values.submission.len() == 64 && values.submission.bytes().all(|b| b.is_ascii_hexdigit());
    if !submission_ok {
        values.submission = random_token();
    }
    if !same_secret(form.get("csrf"), &staff.csrf) {
        let refusal = "The form had expired, so the complaint was not recorded. Check the answers and record it again.".to_owned();
        let page = show(
            &state,
            &staff,
            values,
            receipt,
            Errors::default(),
            Some(refusal),
            None,
        )
        .await;
        return (StatusCode::FORBIDDEN, page).into_response();
    }
    let procedure = state.store.procedure();
    let tz = procedure.time_zone();
    let now = state.clock.now();
    // The form's own checks first, in the order of the form.
    let mut errors = Errors::default();
    let channel = CHANNELS
        .iter()
        .find(|(v, _, _)| *v == receipt.channel)
        .map(|(_, _, c)| *c);
    if channel.is_none() {
        errors.add("channel", "Choose how the complaint reached us");
    }
    let date = receipt.date.parse::<Date>().ok();
    let time = receipt.time.parse::<Time>().ok();
    let received_at = match (date, time) {
        (None, _) => {
            errors.add(
                "received_date",
                "Enter the date the complaint reached us, like 2026-03-02",
            );
            None
        }
        (_, None) => {
            errors.add(
                "received_time",
                "Enter the time the complaint reached us, like 09:30",
            );
            None
        }
        (Some(date), Some(time)) => match tz.to_timestamp(date.to_datetime(time)) {
            Ok(at) if at > now => {
                errors.add(
                    "received_date",
                    "The complaint cannot have reached us later than now",
                );
                None
            }
            Ok(at) => Some(at),
            Err(_) => {
                errors.add(
                    "received_date",
                    "Enter a date and time that exist in London",
                );
                None
            }
        },
    };
    let mut receive = match check_in(&values, procedure, Voice::Staff) {
        Ok(receive) if errors.is_empty() => Some(receive),
        Ok(_) => None,
        Err(more) => {
            for e in more.items {
                errors.add(e.field, e.message);
            }
            None
        }
    };
    // A scan of the letter, checked as any file we keep.
    let scan = match scan {
        Some(upload) => match crate::upload::check(&upload, "The scan") {
            Ok(kind) => Some((upload, kind)),
            Err((_, message)) => {
                errors.add("scan", message);
                None
            }
        },
        None if too_large => {
            errors.add(
                "scan",
                format!(
                    "The scan must be {} MB or smaller",
                    crate::files::MAX_FILE_BYTES / (1024 * 1024)
                ),
            );
            None
        }
        None => None,
    };
    if scan.is_some() && !errors.is_empty() {
        // A browser cannot fill a file in again: said, so it is not lost unnoticed.
        errors.add(
            "scan",
            "Choose the scan again: a file cannot be kept while the form is corrected",
        );
    }
    let Some(receive) = receive.take().filter(|_| errors.is_empty()) else {
        let page = show(&state, &staff, values, receipt, errors, None, None).await;
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    };
    let receive = redress_core::Receive {
        channel: channel.unwrap_or(Channel::Telephone),
        received_at,
        by: actor(&staff.user),
        ..receive
    };
    // A complaint started from a quarantined email keeps the whole message, and is started
    // once however often the form is sent.
    let by = staff.user.email.clone();
    let quarantined = match receipt.quarantine {
        Some(id) => match waiting_quarantine(&state, &id.to_string(), Some(&by)).await {
            Ok(row) => Some(row),
            Err(response) => return response,
        },
        None => None,
    };
    // The decision is claimed before the complaint is started, so that of two people deciding
    // at once only one acts; the same person sending the form again finishes what was begun.
    if let Some(row) = &quarantined {
        match state
            .store
            .resolve_quarantine(row.id, Resolution::NewComplaint, &by, None, None, now)
            .await
        {
            Ok(Resolving::Done) => {}
            Ok(Resolving::Already(first)) if started_by(&first, &by) => {}
            Ok(Resolving::Already(_)) => return dealt_with_already(),
            Ok(Resolving::NotFound) => return super::quarantine::not_found(),
            Err(error) => return error_page(&error.into()),
        }
    }
    let from_quarantine = quarantined
        .as_ref()
        .map(|row| crate::mail::quarantine::start_from(row, &staff.user.email));
    // The same form sent twice records one complaint.
    let key = match &from_quarantine {
        Some((key, _)) => Some(key.clone()),
        None => submission_ok.then(|| Idempotency {
            scope: format!("web:record:{}", staff.user.id),
            key: values.submission.clone(),
            request_hash: "staff-form".to_owned(),
        }),
    };
    let mut attachments: Vec<_> = from_quarantine.iter().map(|(_, a)| a.clone()).collect();
    if let Some((upload, kind)) = scan {
        match crate::upload::keep(&state.web.files_dir, upload, kind, &staff.user.email).await {
            Ok(attachment) => attachments.push(attachment),
            Err(error) => return error_page(&PageError::Internal(error)),
        }
    }
    // The complaint and its scan commit together, once however often the form is sent.
    let key = key.or_else(|| {
        (!attachments.is_empty()).then(|| Idempotency {
            scope: format!("web:record:{}", staff.user.id),
            key: random_token(),
            request_hash: "staff-form".to_owned(),
        })
    });
    let result = match &key {
        Some(key) => {
            state
                .store
                .create_complaint_keyed(receive, now, key, attachments)
                .await
        }
        None => state
            .store
            .create_complaint(receive, now)
            .await
            .map(Keyed::First),
    };
    let reference = match result {
        Ok(Keyed::First(created)) => {
            metrics::counter!("redress_complaints_created_total").increment(1);
            created.complaint.reference
        }
        Ok(Keyed::Replayed(first)) => first.complaint.reference,
        Err(StoreError::Refused(refusal)) => {
            if let Some(row) = &quarantined
                && let Err(error) = state
                    .store
                    .release_quarantine(row.id, Resolution::NewComplaint, &by)
                    .await
            {
                return error_page(&error.into());
            }
            let refusal = format!(
                "The complaint was not recorded: {}",
                crate::web::portal::sentence(&refusal.reason)
            );
            let page = show(
                &state,
                &staff,
                values,
                receipt,
                Errors::default(),
                Some(refusal),
                None,
            )
            .await;
            return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
        }
        Err(error) => return error_page(&error.into()),
    };
    if let Some(row) = &quarantined
        && let Err(error) = state
            .store
            .name_started_complaint(row.id, &by, reference.as_str())
            .await
    {
        return error_page(&error.into());
    }
    Redirect::to(&format!("/staff/complaints/{reference}?done=recorded")).into_response()
}

fn dealt_with_already() -> Response {
    error_page(&PageError::Conflict(
        "this email was dealt with already; open it in the quarantine to see what was done".into(),
    ))
}

/// Whether `first` is a complaint started from the message by `by` (whose form, sent again,
/// finishes it).
fn started_by(first: &Resolved, by: &str) -> bool {
    first.resolution == Resolution::NewComplaint && first.by.eq_ignore_ascii_case(by)
}

/// A quarantined message nobody has dealt with yet (or that `by` is starting a complaint
/// from), or the page saying why not.
async fn waiting_quarantine(
    state: &AppState,
    id: &str,
    by: Option<&str>,
) -> Result<QuarantineRow, Response> {
    let row = super::quarantine::by_number(state, id).await?;
    match &row.resolved {
        None => Ok(row),
        Some(first) if by.is_some_and(|by| started_by(first, by)) => Ok(row),
        Some(_) => Err(dealt_with_already()),
    }
}

/// "Ann Example <ann@example.com>" as the name and the address.
fn split_sender(sender: &str) -> (String, String) {
    match (sender.rfind('<'), sender.rfind('>')) {
        (Some(open), Some(close)) if open < close => (
            sender[..open].trim().trim_matches('"').to_owned(),
            sender[open + 1..close].trim().to_owned(),
        ),
        _ if sender.contains('@') => (String::new(), sender.trim().to_owned()),
        _ => (String::new(), String::new()),
    }
}
