//! Making a complaint on the web: the form, its checks in plain words, and the confirmation
//! with the reference and what happens next. The complaint is recorded through the core
//! (channel web, by the customer), which checks everything again.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use redress_core::model::{Customer, MAX_SHORT_CHARS, MAX_TEXT_CHARS, Postcode};
use redress_core::{Actor, Channel, Complaint, Procedure, Receive, Reference, Stage, clock};

use super::{Errors, FormData, internal, optional_session, public_chrome, sentence, with_status};
use crate::state::AppState;
use crate::store::{Idempotency, Keyed, StoreError, random_token};
use crate::web::session::{anonymous_csrf, anonymous_csrf_ok, with_cookie};
use crate::web::{Chrome, render};
use crate::words;

/// How the customer would like us to contact them: form value, label, channel.
pub(crate) const CONTACTS: [(&str, &str, Channel); 4] = [
    ("email", "Email", Channel::Email),
    ("letter", "Letter", Channel::Letter),
    ("telephone", "Telephone", Channel::Telephone),
    ("textphone", "Textphone or Relay UK", Channel::Textphone),
];

/// Accessibility needs offered as checkboxes: form value and the words recorded.
pub(crate) const NEEDS: [(&str, &str); 6] = [
    ("large_print", "Large print"),
    ("braille", "Braille"),
    ("audio", "Audio"),
    ("easy_read", "Easy read"),
    ("relay", "Textphone or Relay UK"),
    ("bsl", "British Sign Language (BSL)"),
];

/// The longest "anything that makes things harder" text we take.
pub(crate) const VULNERABILITY_CHARS: usize = 1000;
/// The most address lines we take.
const ADDRESS_LINES: usize = 8;

/// One radio button or checkbox.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// What the customer typed, kept to show again.
#[derive(Debug, Clone, Default)]
pub(crate) struct Values {
    /// A random key for this form: sending it twice records one complaint.
    pub submission: String,
    pub name: String,
    pub account: String,
    pub email: String,
    pub telephone: String,
    pub postcode: String,
    pub address: String,
    pub contact: String,
    pub summary: String,
    pub category: String,
    pub needs: Vec<String>,
    pub needs_other: String,
    pub vulnerabilities: String,
}

impl Values {
    pub(crate) fn from_form(form: &FormData) -> Values {
        let line = |name: &str| form.get(name).trim().to_owned();
        Values {
            submission: line("submission"),
            name: line("name"),
            account: line("account"),
            email: line("email"),
            telephone: line("telephone"),
            postcode: line("postcode"),
            address: form.get("address").trim().to_owned(),
            contact: line("contact"),
            summary: form.get("summary").trim().to_owned(),
            category: line("category"),
            needs: form.all("needs"),
            needs_other: line("needs_other"),
            vulnerabilities: form.get("vulnerabilities").trim().to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "portal_complain.html")]
struct ComplainPage {
    chrome: Chrome,
    csrf: String,
    values: Values,
    errors: Errors,
    refusal: Option<String>,
    contacts: Vec<Choice>,
    categories: Vec<Choice>,
    needs: Vec<Choice>,
    vulnerability_chars: usize,
    telephone: String,
}

async fn show_form(
    state: &AppState,
    headers: &HeaderMap,
    values: Values,
    errors: Errors,
    refusal: Option<String>,
) -> Response {
    let session = optional_session(state, headers).await;
    let (csrf, set) = anonymous_csrf(headers, state.web.https());
    let procedure = state.store.procedure();
    let page = ComplainPage {
        chrome: public_chrome(state, session.as_ref(), &csrf),
        contacts: CONTACTS
            .iter()
            .map(|(value, label, _)| Choice {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                checked: values.contact == *value,
            })
            .collect(),
        categories: procedure
            .categories
            .iter()
            .map(|c| Choice {
                value: c.code.clone(),
                label: c.name.clone(),
                checked: values.category == c.code,
            })
            .collect(),
        needs: NEEDS
            .iter()
            .map(|(value, label)| Choice {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                checked: values.needs.iter().any(|n| n == value),
            })
            .collect(),
        csrf,
        values,
        errors,
        refusal,
        vulnerability_chars: VULNERABILITY_CHARS,
        telephone: super::help_telephone(state),
    };
    let response = render(&page);
    match set {
        Some(cookie) => with_cookie(response, cookie),
        None => response,
    }
}

/// GET /complain
pub(super) async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let values = Values {
        submission: random_token(),
        ..Values::default()
    };
    show_form(&state, &headers, values, Errors::default(), None).await
}

fn too_long(text: &str, max: usize) -> bool {
    text.chars().count() > max
}

fn looks_like_telephone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (9..=15).contains(&digits)
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-".contains(c))
}

/// Free text as short pieces the core records (each at most the short-field length, split
/// between words), with runs of white space made single spaces.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(MAX_SHORT_CHARS).collect();
        if !current.is_empty()
            && current.chars().count() + 1 + word.chars().count() > MAX_SHORT_CHARS
        {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whose words the form's messages are in: the customer's own form ("your name"), or a member
/// of staff recording a complaint for them ("the customer's name").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Voice {
    Customer,
    Staff,
}

impl Voice {
    fn your(self) -> &'static str {
        match self {
            Voice::Customer => "your",
            Voice::Staff => "the customer's",
        }
    }

    fn you(self) -> &'static str {
        match self {
            Voice::Customer => "you",
            Voice::Staff => "them",
        }
    }

    fn your_capital(self) -> &'static str {
        match self {
            Voice::Customer => "Your",
            Voice::Staff => "The customer's",
        }
    }
}

/// Checks the form; returns the complaint to record, or the problems in the order of the form.
fn check(values: &Values, procedure: &Procedure) -> Result<Receive, Errors> {
    check_in(values, procedure, Voice::Customer)
}

/// The customer's details, needs and complaint from the form, checked, with messages in
/// `voice`; the receipt is the customer's own on the web (a member of staff sets the channel,
/// the time and who recorded it).
pub(crate) fn check_in(
    values: &Values,
    procedure: &Procedure,
    voice: Voice,
) -> Result<Receive, Errors> {
    let (your, you, your_capital) = (voice.your(), voice.you(), voice.your_capital());
    let mut errors = Errors::default();
    if values.name.is_empty() {
        errors.add("name", format!("Enter {your} full name"));
    } else if too_long(&values.name, MAX_SHORT_CHARS) {
        errors.add(
            "name",
            format!("{your_capital} name must be {MAX_SHORT_CHARS} characters or fewer"),
        );
    }
    if values.account.is_empty() {
        errors.add(
            "account",
            format!(
                "Enter {your} account number. It is on {} bill",
                if voice == Voice::Customer {
                    "your"
                } else {
                    "their"
                }
            ),
        );
    } else if too_long(&values.account, MAX_SHORT_CHARS) {
        errors.add(
            "account",
            format!("{your_capital} account number must be {MAX_SHORT_CHARS} characters or fewer"),
        );
    }
    let contact = CONTACTS
        .iter()
        .find(|(value, _, _)| *value == values.contact)
        .map(|(_, _, channel)| *channel);
    if !values.email.is_empty() && !super::looks_like_email(&values.email) {
        errors.add(
            "email",
            "Enter an email address in the right form, like name@example.com",
        );
    } else if values.email.is_empty() && contact == Some(Channel::Email) {
        errors.add(
            "email",
            format!("Enter {your} email address, so that we can email {you}"),
        );
    }
    if !values.telephone.is_empty() && !looks_like_telephone(&values.telephone) {
        errors.add(
            "telephone",
            "Enter a telephone number, like 0161 465 6655 or +44 161 465 6655",
        );
    } else if values.telephone.is_empty()
        && matches!(contact, Some(Channel::Telephone | Channel::Textphone))
    {
        errors.add(
            "telephone",
            format!("Enter a telephone number, so that we can call {you}"),
        );
    }
    let postcode = if values.postcode.is_empty() {
        errors.add("postcode", format!("Enter {your} postcode"));
        None
    } else {
        match Postcode::parse(&values.postcode) {
            Ok(postcode) => Some(postcode),
            Err(_) => {
                errors.add("postcode", "Enter a real postcode, like M22 4SY");
                None
            }
        }
    };
    let address: Vec<String> = values
        .address
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    if address.is_empty() && contact == Some(Channel::Letter) {
        errors.add(
            "address",
            format!("Enter {your} address, so that we can write to {you}"),
        );
    } else if address.len() > ADDRESS_LINES {
        errors.add(
            "address",
            format!("{your_capital} address must be {ADDRESS_LINES} lines or fewer"),
        );
    } else if address.iter().any(|l| too_long(l, MAX_SHORT_CHARS)) {
        errors.add(
            "address",
            format!("Each line of {your} address must be {MAX_SHORT_CHARS} characters or fewer"),
        );
    }
    if contact.is_none() {
        errors.add(
            "contact",
            match voice {
                Voice::Customer => "Choose how you would like us to contact you",
                Voice::Staff => "Choose how the customer would like us to contact them",
            },
        );
    }
    if values.summary.is_empty() {
        errors.add(
            "summary",
            match voice {
                Voice::Customer => "Tell us what went wrong",
                Voice::Staff => "Say what went wrong, in the customer's words",
            },
        );
    } else if too_long(&values.summary, MAX_TEXT_CHARS) {
        errors.add(
            "summary",
            "What went wrong must be 20,000 characters or fewer",
        );
    }
    let category = procedure.category(&values.category).map(|c| c.code.clone());
    if category.is_none() {
        errors.add(
            "category",
            format!("Choose what {your} complaint is about. If you are not sure, choose ‘Other’"),
        );
    }
    if too_long(&values.needs_other, MAX_SHORT_CHARS) {
        errors.add(
            "needs_other",
            format!("Other needs must be {MAX_SHORT_CHARS} characters or fewer"),
        );
    }
    if too_long(&values.vulnerabilities, VULNERABILITY_CHARS) {
        errors.add(
            "vulnerabilities",
            format!("This must be {VULNERABILITY_CHARS} characters or fewer"),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut needs: Vec<String> = NEEDS
        .iter()
        .filter(|(value, _)| values.needs.iter().any(|n| n == value))
        .map(|(_, label)| (*label).to_owned())
        .collect();
    needs.extend(pieces(&values.needs_other));
    let customer = Customer {
        account: values.account.clone(),
        name: values.name.clone(),
        email: (!values.email.is_empty()).then(|| values.email.clone()),
        telephone: (!values.telephone.is_empty()).then(|| values.telephone.clone()),
        address,
        postcode,
        preferred_channel: contact,
        accessibility_needs: needs,
        vulnerabilities: pieces(&values.vulnerabilities),
    };
    Ok(Receive {
        // The store gives the real reference.
        reference: Reference::new(&procedure.reference_prefix, 2000, 0),
        channel: Channel::Web,
        customer,
        summary: values.summary.clone(),
        category,
        received_at: None,
        staff_concerned: Vec::new(),
        by: Actor::customer(),
    })
}

/// POST /complain
pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let mut values = Values::from_form(&form);
    let submission_ok =
        values.submission.len() == 64 && values.submission.bytes().all(|b| b.is_ascii_hexdigit());
    if !submission_ok {
        values.submission = random_token();
    }
    if !anonymous_csrf_ok(&headers, Some(form.get("csrf"))) {
        let refusal = "For your security, this form had expired, so we have not received your complaint yet. \
                       Please check your answers and send it again."
            .to_owned();
        return with_status(
            StatusCode::FORBIDDEN,
            show_form(&state, &headers, values, Errors::default(), Some(refusal)).await,
        );
    }
    let receive = match check(&values, state.store.procedure()) {
        Ok(receive) => receive,
        Err(errors) => {
            return with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                show_form(&state, &headers, values, errors, None).await,
            );
        }
    };
    // The same form sent twice (a double click, or the page refreshed) records one complaint
    // and shows the same confirmation.
    let key = submission_ok.then(|| Idempotency {
        scope: "web:complain".to_owned(),
        key: values.submission.clone(),
        request_hash: "web-form".to_owned(),
    });
    let now = state.clock.now();
    let result = match &key {
        Some(key) => {
            state
                .store
                .create_complaint_keyed(receive, now, key, Vec::new())
                .await
        }
        None => state
            .store
            .create_complaint(receive, now)
            .await
            .map(Keyed::First),
    };
    let complaint = match result {
        Ok(Keyed::First(created)) => {
            metrics::counter!("redress_complaints_created_total").increment(1);
            created.complaint
        }
        Ok(Keyed::Replayed(first)) => {
            match state.store.get_complaint(&first.complaint.reference).await {
                Ok(view) => view.complaint,
                Err(error) => return internal(error),
            }
        }
        Err(StoreError::Refused(refusal)) => {
            let refusal = format!(
                "We could not record your complaint: {}",
                sentence(&refusal.reason)
            );
            return with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                show_form(&state, &headers, values, Errors::default(), Some(refusal)).await,
            );
        }
        Err(error) => return internal(error),
    };
    let session = optional_session(&state, &headers).await;
    let page = confirmation(
        &state,
        &complaint,
        public_chrome(&state, session.as_ref(), ""),
    );
    render(&page)
}

/// One step of what happens next.
pub(crate) struct Step {
    pub heading: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "portal_complain_done.html")]
struct ConfirmationPage {
    chrome: Chrome,
    reference: String,
    contact: String,
    received: String,
    steps: Vec<Step>,
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

/// How we will contact the customer, in words ("by email").
pub(crate) fn contact_words(channel: Option<Channel>) -> &'static str {
    match channel {
        Some(Channel::Email) => "by email",
        Some(Channel::Letter) => "by letter",
        Some(Channel::Telephone) => "by telephone",
        Some(Channel::Textphone) => "by textphone or Relay UK",
        Some(Channel::Web) | None => "in the way you asked",
    }
}

/// What happens next, from the procedure and the rules the complaint keeps.
pub(crate) fn next_steps(procedure: &Procedure, complaint: &Complaint) -> Vec<Step> {
    let rules = &complaint.rules;
    let [first, second, third, fourth] = [
        Stage::CUSTOMER_SERVICES,
        Stage::ESCALATION_TEAM,
        Stage::CUSTOMER_RESOLUTION,
        Stage::RESOLUTION_MANAGER,
    ]
    .map(|s| department_name(procedure, s));
    let adr_date = redress_core::owed::adr_reached_on(complaint, procedure);
    vec![
        Step {
            heading: first.clone(),
            text: format!(
                "{first} will look into your complaint and contact you {}. They will try to put things right and tell you what they can offer.",
                contact_words(complaint.customer.preferred_channel)
            ),
        },
        Step {
            heading: second.clone(),
            text: format!(
                "If you are not happy with what {} offer, you can ask for your complaint to be escalated to {}. You can do this on this website, by telephone, by email or by letter.",
                mid(&first),
                mid(&second)
            ),
        },
        Step {
            heading: third.clone(),
            text: format!(
                "If {} cannot resolve your complaint, they pass it to {}, who will look into it in detail and send you a formal written response within {} of taking it on.",
                mid(&second),
                mid(&third),
                rules.formal_response_in_words()
            ),
        },
        Step {
            heading: fourth.clone(),
            text: format!(
                "If you are unhappy with the outcome of that investigation, you can write to {}, who will review your complaint.",
                mid(&fourth)
            ),
        },
        Step {
            heading: procedure.adr_scheme.name.clone(),
            text: format!(
                "If your complaint is not resolved by {} ({} after you complained), or we send you a deadlock letter (our final position), you can take it to {}, an independent ombudsman. It is free for you.",
                words::date(adr_date),
                rules.adr_period_in_words(),
                procedure.adr_scheme.name
            ),
        },
    ]
}

fn confirmation(state: &AppState, complaint: &Complaint, chrome: Chrome) -> ConfirmationPage {
    let procedure = state.store.procedure();
    let received: Timestamp = complaint.first_received_at;
    ConfirmationPage {
        chrome,
        reference: complaint.reference.to_string(),
        contact: contact_words(complaint.customer.preferred_channel).to_owned(),
        received: words::date(clock::local_date(procedure.time_zone(), received)),
        steps: next_steps(procedure, complaint),
        telephone: super::help_telephone(state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_kept_in_short_pieces() {
        let text = "word ".repeat(100);
        let parts = pieces(&text);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_SHORT_CHARS));
        assert_eq!(parts.join(" "), text.trim());
        assert_eq!(pieces("two\nlines"), vec!["two lines"]);
        assert!(pieces("  ").is_empty());
    }

    #[test]
    fn telephone_numbers_are_checked_loosely() {
        assert!(looks_like_telephone("0161 465 6655"));
        assert!(looks_like_telephone("+44 (0)161 465-6655"));
        assert!(!looks_like_telephone("12345"));
        assert!(!looks_like_telephone("call me"));
    }

    #[test]
    fn a_good_form_becomes_a_web_complaint_by_the_customer() {
        let procedure = Procedure::default_procedure();
        let values = Values {
            name: "Ann Smith".into(),
            account: "AC-1".into(),
            email: "ann@example.com".into(),
            postcode: "m22 4sy".into(),
            contact: "email".into(),
            summary: "No broadband".into(),
            category: "faults_service_provision".into(),
            needs: vec!["large_print".into(), "bsl".into(), "made_up".into()],
            needs_other: "Please call after 2pm".into(),
            ..Values::default()
        };
        let receive = check(&values, &procedure).expect("valid");
        assert_eq!(receive.channel, Channel::Web);
        assert_eq!(receive.by, Actor::customer());
        assert_eq!(receive.customer.preferred_channel, Some(Channel::Email));
        assert_eq!(
            receive.customer.postcode.as_ref().map(Postcode::as_str),
            Some("M22 4SY")
        );
        assert_eq!(
            receive.customer.accessibility_needs,
            vec![
                "Large print",
                "British Sign Language (BSL)",
                "Please call after 2pm"
            ]
        );
        let errors = check(
            &Values {
                contact: "letter".into(),
                ..Values::default()
            },
            &procedure,
        )
        .expect_err("empty");
        let fields: Vec<&str> = errors.items.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                "name", "account", "postcode", "address", "summary", "category"
            ]
        );
    }
}
