//! The complaint every client records: client `c`'s `n`th has the account `BENCH-c-n`, so each
//! is a new customer's; everything else is the same for all. The HTTP body and the core's
//! `Receive` describe the same complaint.

use redress_core::{Actor, Channel, Customer, Procedure, Receive, Reference, Role};

pub const NAME: &str = "Ann Example";
pub const POSTCODE: &str = "M22 4SY";
const SUMMARY: &str = "Broadband drops every evening";
const CATEGORY: &str = "faults_service_provision";

/// The account of client `client`'s `n`th complaint.
pub fn account(client: usize, n: u64) -> String {
    format!("BENCH-{client}-{n}")
}

/// The body of `POST /api/v1/complaints`.
pub fn body(client: usize, n: u64) -> serde_json::Value {
    serde_json::json!({
        "channel": "telephone",
        "customer": {"account": account(client, n), "name": NAME, "postcode": POSTCODE},
        "summary": SUMMARY,
        "category": CATEGORY
    })
}

/// The same complaint as the core receives it from a customer services handler.
pub fn receive(procedure: &Procedure, client: usize, n: u64) -> Receive {
    Receive {
        reference: Reference::new(&procedure.reference_prefix, 2000, 0),
        channel: Channel::Telephone,
        customer: customer(client, n),
        summary: SUMMARY.into(),
        category: Some(CATEGORY.into()),
        received_at: None,
        staff_concerned: Vec::new(),
        by: intake_actor(),
    }
}

fn customer(client: usize, n: u64) -> Customer {
    Customer {
        account: account(client, n),
        name: NAME.into(),
        email: None,
        telephone: None,
        address: Vec::new(),
        postcode: redress_core::model::Postcode::parse(POSTCODE).ok(),
        preferred_channel: None,
        accessibility_needs: Vec::new(),
        vulnerabilities: Vec::new(),
    }
}

fn intake_actor() -> Actor {
    Actor {
        role: Role::Handler,
        department: Some("customer_services".into()),
        staff: Some("bench".into()),
    }
}
