//! The customer's words for events and letters.

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
