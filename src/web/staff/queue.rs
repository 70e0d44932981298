//! The queue: the complaints at the stages the signed-in person's department owns (compliance
//! and the Customer Resolution Manager see every stage), soonest deadline first, with filters,
//! the time left in words, and a page at a time.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_core::deadline::DeadlineKind;
use redress_core::{Reference, Role, Stage, Standing};

use super::{ErrorLink, STATUSES, chrome, refuse_non_reader, status_words, today};
use crate::state::AppState;
use crate::store::ComplaintFilter;
use crate::web::session::StaffSession;
use crate::web::{Chrome, error_page, render};
use crate::words;

/// Complaints per page.
const PAGE_SIZE: i64 = 25;

#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone)]
pub struct StageCount {
    pub stage: i64,
    pub name: String,
    pub open: i64,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub reference: String,
    pub customer: String,
    pub account: String,
    pub stage: String,
    pub status: &'static str,
    /// Compensation awaiting approval, in pounds.
    pub awaiting: Option<String>,
    pub handler: Option<String>,
    pub time_left: String,
    pub tag: Option<(&'static str, &'static str)>,
    pub overdue: bool,
    pub received: String,
}

#[derive(Template)]
#[template(path = "staff_queue.html")]
struct QueuePage {
    chrome: Chrome,
    heading: String,
    scope_note: String,
    counts: Vec<StageCount>,
    errors: Vec<ErrorLink>,
    stages: Vec<Choice>,
    statuses: Vec<Choice>,
    overdue: Vec<Choice>,
    q: String,
    rows: Vec<Row>,
    next_href: Option<String>,
    first_href: Option<String>,
    filtered: bool,
    /// Where the filters form goes: the queue or the search.
    action: &'static str,
    /// A manager's list: the people of the department the chosen rows may be given to.
    bulk: Vec<Choice>,
    /// Where the bulk form comes back to (this page, filters and all).
    back: String,
}

impl QueuePage {
    fn error_for(&self, href: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.href == href)
            .map(|e| e.message.as_str())
    }
}

fn choices(list: &[(String, String)], chosen: &str) -> Vec<Choice> {
    list.iter()
        .map(|(v, l)| Choice {
            value: v.clone(),
            label: l.clone(),
            selected: v == chosen,
        })
        .collect()
}

/// What a queue row says of the most urgent thing owed (the core's [`redress_core::owed`]):
/// its words, its tag and whether it counts as overdue.
fn row_words(
    owed: &[redress_core::Owed],
    rules: &redress_core::Rules,
    today: jiff::civil::Date,
) -> (String, Option<(&'static str, &'static str)>, bool) {
    let Some(first) = owed.first() else {
        return ("Nothing owed now".to_owned(), None, false);
    };
    match first.standing {
        Standing::PastAdrPoint => (
            format!(
                "{} passed on {} with the complaint unresolved: the customer may go to the ombudsman",
                rules.adr_period_in_words(),
                words::date(first.due_by)
            ),
            Some(("overdue", "Past the ombudsman point")),
            false,
        ),
        Standing::Overdue => (
            words::time_left(first.kind, first.due_by, today, rules),
            Some(("overdue", "Overdue")),
            true,
        ),
        Standing::Due => {
            let days = (first.due_by - today).get_days();
            let tag = match first.kind {
                DeadlineKind::Adr => None,
                _ if days <= 3 => Some(("soon", "Due soon")),
                _ => Some(("ok", "On time")),
            };
            (
                words::time_left(first.kind, first.due_by, today, rules),
                tag,
                false,
            )
        }
    }
}

/// Which list a page shows: the person's own queue, or a search of every complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Queue,
    Search,
    /// The complaints assigned to the person signed in.
    Mine,
    /// Open complaints of the person's department that nobody holds.
    Unassigned,
    /// Compensation offers the person may approve, waiting for someone to.
    Approvals,
}

impl Scope {
    fn path(self) -> &'static str {
        match self {
            Scope::Queue => "/staff",
            Scope::Search => "/staff/search",
            Scope::Mine => "/staff/my",
            Scope::Unassigned => "/staff/unassigned",
            Scope::Approvals => "/staff/approvals",
        }
    }
}

/// `GET /staff/my`: the complaints assigned to the person signed in.
pub async fn mine(
    State(state): State<AppState>,
    staff: StaffSession,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    list_page(state, staff, query, Scope::Mine).await
}

/// `GET /staff/unassigned`: open complaints of the department that nobody holds.
pub async fn unassigned(
    State(state): State<AppState>,
    staff: StaffSession,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    list_page(state, staff, query, Scope::Unassigned).await
}

/// `GET /staff/approvals`: complaints with a compensation offer the signed-in person may approve
/// (within their limit, not their own offer, at their department's stages).
pub async fn approvals(
    State(state): State<AppState>,
    staff: StaffSession,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    list_page(state, staff, query, Scope::Approvals).await
}

/// What a bulk assignment did, in words: `assigned` is how many were given; `not` the
/// references that could not be.
fn bulk_words(assigned: &str, not: &str) -> Option<String> {
    let n: usize = assigned.strip_prefix("assigned-")?.parse().ok()?;
    let mut text = match n {
        1 => "1 complaint was assigned.".to_owned(),
        n => format!("{n} complaints were assigned."),
    };
    let refused: Vec<&str> = not
        .split(',')
        .filter(|r| Reference::parse(r).is_ok())
        .collect();
    if !refused.is_empty() {
        text.push_str(&format!(
            " Not assigned, because that person may not hold them at their stage now: {}.",
            refused.join(", ")
        ));
    }
    Some(text)
}

/// The most complaints one bulk assignment takes (a page and more).
const MAX_BULK: usize = 100;

/// `POST /staff/assign`: a manager gives the chosen complaints to one person of their
/// department; each is assigned by the core as one `assign` would be, and refused alone.
pub async fn bulk_assign(
    State(state): State<AppState>,
    staff: StaffSession,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(fields)) = form else {
        return super::bad_form();
    };
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    if !crate::web::session::same_secret(&value("csrf"), &staff.csrf) {
        return super::csrf_refused();
    }
    if !matches!(
        staff.user.role,
        Role::TeamManager | Role::CustomerResolutionManager
    ) {
        return error_page(&crate::web::PageError::Forbidden(
            "only a team manager or the Customer Resolution Manager assigns complaints in bulk"
                .into(),
        ));
    }
    // Back to the list it came from (only ever one of the staff lists).
    let back = value("back");
    let back = if [Scope::Queue, Scope::Unassigned]
        .iter()
        .any(|s| back == s.path() || back.starts_with(&format!("{}?", s.path())))
    {
        back
    } else {
        Scope::Queue.path().to_owned()
    };
    let join = if back.contains('?') { '&' } else { '?' };
    let handler = value("handler");
    let references: Vec<Reference> = fields
        .iter()
        .filter(|(k, _)| k == "reference")
        .filter_map(|(_, v)| Reference::parse(v.trim()).ok())
        .take(MAX_BULK)
        .collect();
    if handler.is_empty() {
        return axum::response::Redirect::to(&format!(
            "{back}{join}bulk=choose-person#bulk-handler"
        ))
        .into_response();
    }
    if references.is_empty() {
        return axum::response::Redirect::to(&format!("{back}{join}bulk=choose-complaints"))
            .into_response();
    }
    let department = staff.user.department.clone().unwrap_or_default();
    let people = match state.store.department_staff(&department).await {
        Ok(people) => people,
        Err(error) => return error_page(&error.into()),
    };
    if !people
        .iter()
        .any(|u| u.email.eq_ignore_ascii_case(&handler))
    {
        return axum::response::Redirect::to(&format!(
            "{back}{join}bulk=choose-person#bulk-handler"
        ))
        .into_response();
    }
    let mut assigned = 0;
    let mut refused = Vec::new();
    for reference in references {
        let command = redress_core::Command {
            by: super::actor(&staff.user),
            action: redress_core::Action::Assign {
                handler: handler.clone(),
            },
        };
        match state
            .store
            .run_command(&reference, command, state.clock.now())
            .await
        {
            Ok(outcome) if outcome.refusal.is_none() => assigned += 1,
            Ok(_) | Err(crate::store::StoreError::NotFound) => refused.push(reference.to_string()),
            Err(error) => return error_page(&error.into()),
        }
    }
    let not = refused.join(",");
    axum::response::Redirect::to(&format!("{back}{join}bulk=assigned-{assigned}&not={not}"))
        .into_response()
}

/// `GET /staff`: the department's queue, soonest deadline first.
pub async fn queue(
    State(state): State<AppState>,
    staff: StaffSession,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    list_page(state, staff, query, Scope::Queue).await
}

/// `GET /staff/search?q=`: every complaint at every stage, for anyone who reads complaints
/// (acting on one stays limited to its stage's department).
pub async fn search(
    State(state): State<AppState>,
    staff: StaffSession,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    list_page(state, staff, query, Scope::Search).await
}

async fn list_page(
    state: AppState,
    staff: StaffSession,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    scope: Scope,
) -> Response {
    if let Some(refused) = refuse_non_reader(&staff.user) {
        return refused;
    }
    let params = query.map(|Query(q)| q).unwrap_or_default();
    let get = |name: &str| {
        params
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let procedure = state.store.procedure();
    let tz = procedure.time_zone();
    let today = today(&state);
    let now = state.clock.now();
    let mut errors = Vec::new();
    let mut filter = ComplaintFilter {
        limit: PAGE_SIZE,
        ..Default::default()
    };

    // Whose queue: the person's department, or everything for those who oversee all stages.
    let sees_all = matches!(
        staff.user.role,
        Role::Compliance | Role::CustomerResolutionManager
    );
    let department_name = staff.user.department.as_deref().map(|d| {
        procedure
            .department(d)
            .map_or_else(|| d.to_owned(), |dep| dep.name.clone())
    });
    // The most this person may approve under any of the procedure's rules: the list asks the
    // store for offers up to it, then the core for each complaint.
    let approval_limit = procedure
        .rules
        .iter()
        .map(|r| r.approval_limits_pence.for_role(staff.user.role))
        .max()
        .unwrap_or(0);
    if scope == Scope::Approvals {
        filter.awaiting_approval_up_to = Some(approval_limit);
    }
    let (heading, scope_note) = if scope == Scope::Approvals {
        if !sees_all && let Some(key) = &staff.user.department {
            filter.department = Some(key.clone());
        }
        (
            "Compensation awaiting your approval".to_owned(),
            if approval_limit > 0 {
                format!(
                    "Offers of up to {} that someone else made and you may approve, soonest deadline first.",
                    redress_core::Money(approval_limit)
                )
            } else {
                "Your role cannot approve compensation, so no offers wait for you.".to_owned()
            },
        )
    } else if scope == Scope::Search {
        (
            "Search all complaints".to_owned(),
            "Every complaint at every stage, whoever holds it. You can act on those at your department's stages.".to_owned(),
        )
    } else if scope == Scope::Mine {
        filter.handler = Some(staff.user.email.clone());
        (
            "My cases".to_owned(),
            "The complaints assigned to you, soonest deadline first; resolved ones last."
                .to_owned(),
        )
    } else if scope == Scope::Unassigned && sees_all {
        filter.unassigned = true;
        (
            "Unassigned complaints".to_owned(),
            "Open complaints at every stage that nobody has been given yet.".to_owned(),
        )
    } else if sees_all {
        (
            "All complaints".to_owned(),
            "You see complaints at every stage.".to_owned(),
        )
    } else {
        match (&staff.user.department, &department_name) {
            (Some(key), Some(name)) => {
                filter.department = Some(key.clone());
                let stages: Vec<String> = (1..=5u8)
                    .filter_map(|n| Stage::new(n).ok())
                    .filter(|s| procedure.department_of(*s) == key)
                    .map(|s| s.number().to_string())
                    .collect();
                let stages = match stages.as_slice() {
                    [] => "no stage".to_owned(),
                    [one] => format!("stage {one}"),
                    [rest @ .., last] => format!("stages {} and {last}", rest.join(", ")),
                };
                if scope == Scope::Unassigned {
                    filter.unassigned = true;
                    (
                        format!("Unassigned: {name}"),
                        format!("Open complaints at {stages} that nobody in {name} has been given yet."),
                    )
                } else {
                    (format!("Queue: {name}"), format!("Complaints at {stages}, which {name} owns."))
                }
            }
            _ => (
                "Your queue".to_owned(),
                "You do not belong to a department, so no complaints are yours to handle. Ask an administrator to set your department.".to_owned(),
            ),
        }
    };

    let stage = get("stage");
    if !stage.is_empty() {
        match stage.parse::<u8>().ok().and_then(|n| Stage::new(n).ok()) {
            Some(s) => filter.stage = Some(i64::from(s.number())),
            None => errors.push(ErrorLink {
                href: "#stage".into(),
                message: "Choose a stage from the list".into(),
            }),
        }
    }
    let status = get("status");
    if !status.is_empty() {
        if STATUSES.contains(&status.as_str()) {
            filter.status = Some(status.clone());
        } else {
            errors.push(ErrorLink {
                href: "#status".into(),
                message: "Choose a status from the list".into(),
            });
        }
    }
    let overdue = get("overdue");
    match overdue.as_str() {
        "" => {}
        "yes" => filter.overdue = Some(true),
        "no" => filter.overdue = Some(false),
        _ => errors.push(ErrorLink {
            href: "#overdue".into(),
            message: "Choose whether to show overdue complaints from the list".into(),
        }),
    }
    let q = get("q");
    if q.chars().count() > 100 {
        errors.push(ErrorLink {
            href: "#q".into(),
            message: "Search for at most 100 characters".into(),
        });
    } else if !q.is_empty() {
        filter.q = Some(q.clone());
    }
    let after = get("after");
    if let Some((key, reference)) = after.split_once('.')
        && let (Ok(key), Ok(reference)) = (key.parse::<i64>(), Reference::parse(reference))
    {
        filter.after = Some((key, reference.as_str().to_owned()));
    }

    let page = if scope == Scope::Approvals && approval_limit == 0 {
        None
    } else if matches!(scope, Scope::Search | Scope::Mine)
        || sees_all
        || filter.department.is_some()
    {
        match state.store.list_complaints(&filter).await {
            Ok(page) => Some(page),
            Err(error) => return error_page(&error.into()),
        }
    } else {
        None
    };
    let references: Vec<String> = page
        .iter()
        .flat_map(|p| p.items.iter().map(|i| i.reference.clone()))
        .collect();
    let entries = match state.store.queue_entries(&references).await {
        Ok(entries) => entries,
        Err(error) => return error_page(&error.into()),
    };
    // Everyone by name: the handlers of this page looked up once.
    let handlers: Vec<String> = entries
        .values()
        .filter_map(|e| e.complaint.handler.clone())
        .collect();
    let people = match state.store.staff_by_email(&handlers).await {
        Ok(people) => people,
        Err(error) => return error_page(&error.into()),
    };
    let name_of = |handler: &str| {
        people
            .get(&handler.trim().to_lowercase())
            .map_or_else(|| handler.to_owned(), |u| u.name.clone())
    };
    let stage_name = |n: i64| {
        u8::try_from(n)
            .ok()
            .and_then(|n| Stage::new(n).ok())
            .map_or_else(String::new, |s| procedure.stage(s).name.clone())
    };
    // An offer is listed to those the core would let approve it (not the person who made it).
    let approver = super::actor(&staff.user);
    let may_approve = |c: &redress_core::Complaint| {
        let (c, _) = redress_core::deadline::fire_due(c.clone(), now, procedure);
        redress_core::available(&c, &approver, now, procedure).contains(&"approve_compensation")
    };
    let rows: Vec<Row> = page
        .iter()
        .flat_map(|p| p.items.iter())
        .filter(|item| {
            scope != Scope::Approvals
                || entries
                    .get(&item.reference)
                    .is_some_and(|e| may_approve(&e.complaint))
        })
        .map(|item| {
            let entry = entries.get(&item.reference);
            let (time_left, tag, owed_overdue) = entry.map_or_else(
                || ("Nothing owed now".to_owned(), None, false),
                |e| {
                    let owed = redress_core::owed(&e.complaint, procedure, now);
                    row_words(&owed, &e.complaint.rules, today)
                },
            );
            let overdue = item.overdue || owed_overdue;
            Row {
                reference: item.reference.clone(),
                customer: item.customer_name.clone(),
                account: item.customer_account.clone(),
                stage: format!("{}: {}", item.stage, stage_name(item.stage)),
                status: status_words(&item.status),
                awaiting: entry
                    .and_then(|e| e.complaint.awaiting_approval())
                    .map(|pence| redress_core::Money(pence).to_string()),
                handler: entry.and_then(|e| e.complaint.handler.as_deref().map(name_of)),
                time_left,
                tag: if overdue && tag.is_none() {
                    Some(("overdue", "Overdue"))
                } else {
                    tag
                },
                overdue,
                received: words::date(redress_core::clock::local_date(tz, item.first_received_at)),
            }
        })
        .collect();

    let mut kept: Vec<(&str, String)> = Vec::new();
    for (name, value) in [
        ("stage", &stage),
        ("status", &status),
        ("overdue", &overdue),
        ("q", &q),
    ] {
        if !value.is_empty() {
            kept.push((name, value.clone()));
        }
    }
    let href = |extra: Option<(&str, String)>| {
        let mut pairs = kept.clone();
        pairs.extend(extra);
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            scope.path().to_owned()
        } else {
            format!("{}?{query}", scope.path())
        }
    };
    let next_href = page
        .as_ref()
        .and_then(|p| p.next.as_ref())
        .map(|(key, reference)| href(Some(("after", format!("{key}.{reference}")))));
    let first_href = filter.after.is_some().then(|| href(None));

    let mut counts: Vec<StageCount> = (1..=5)
        .map(|n| StageCount {
            stage: n,
            name: stage_name(n),
            open: 0,
        })
        .collect();
    match state.store.open_per_stage().await {
        Ok(per_stage) => {
            for (stage, n) in per_stage {
                if let Some(c) = counts.iter_mut().find(|c| c.stage == stage) {
                    c.open = n;
                }
            }
        }
        Err(error) => return error_page(&error.into()),
    }

    let mut stage_list = vec![(String::new(), "Any stage".to_owned())];
    stage_list.extend((1..=5).map(|n| (n.to_string(), format!("{n}: {}", stage_name(n)))));
    let mut status_list = vec![(String::new(), "Any status".to_owned())];
    status_list.extend(
        STATUSES
            .iter()
            .map(|s| ((*s).to_owned(), status_words(s).to_owned())),
    );
    let overdue_list = vec![
        (String::new(), "Overdue or not".to_owned()),
        ("yes".to_owned(), "Overdue only".to_owned()),
        ("no".to_owned(), "Not overdue".to_owned()),
    ];
    // Managers give many complaints at once to someone of their department.
    let bulk = match (&staff.user.department, scope) {
        (Some(department), Scope::Queue | Scope::Unassigned)
            if matches!(
                staff.user.role,
                Role::TeamManager | Role::CustomerResolutionManager
            ) && !rows.is_empty() =>
        {
            match state.store.department_staff(department).await {
                Ok(people) => {
                    let mut list = vec![(String::new(), "Choose a person".to_owned())];
                    list.extend(
                        people
                            .into_iter()
                            .filter(|u| u.role.handles_complaints())
                            .map(|u| {
                                let label = format!("{} ({})", u.name, u.email);
                                (u.email, label)
                            }),
                    );
                    choices(&list, "")
                }
                Err(error) => return error_page(&error.into()),
            }
        }
        _ => Vec::new(),
    };
    let mut chrome = chrome(&state, &staff);
    match get("bulk").as_str() {
        "" => {}
        "choose-person" => errors.push(ErrorLink {
            href: "#bulk-handler".into(),
            message: "Choose the person to give the complaints to".into(),
        }),
        "choose-complaints" => errors.push(ErrorLink {
            href: "#bulk-first".into(),
            message: "Choose at least one complaint to assign".into(),
        }),
        other => chrome.flash = bulk_words(other, &get("not")),
    }
    let status_code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = QueuePage {
        chrome,
        heading,
        scope_note,
        counts,
        errors,
        stages: choices(&stage_list, &stage),
        statuses: choices(&status_list, &status),
        overdue: choices(&overdue_list, &overdue),
        q,
        rows,
        next_href,
        first_href,
        filtered: !kept.is_empty(),
        action: scope.path(),
        bulk,
        back: href(
            filter
                .after
                .as_ref()
                .map(|(key, reference)| ("after", format!("{key}.{reference}"))),
        ),
    };
    (status_code, render(&page)).into_response()
}
