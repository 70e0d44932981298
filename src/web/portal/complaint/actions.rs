//! What the customer may do from the page: accept or reject a resolution, escalate, ask for
//! the manager's review, accept compensation. Each runs one core command.

use super::*;

/// Runs a customer's command; on success back to the page with a confirmation, on refusal the
/// page again with the core's sentence and what they typed.
pub(super) async fn run(
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
pub(super) async fn act(
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

pub(super) fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// POST /my/complaints/{reference}/accept
pub(crate) async fn accept(
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
pub(crate) async fn reject(
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
pub(crate) async fn escalate(
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
pub(crate) async fn review(
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
pub(crate) async fn accept_compensation(
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
