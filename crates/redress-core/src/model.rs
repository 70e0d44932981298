//! The nouns of a complaint: references, people, channels, stages and statuses.
//!
//! Values that come from outside are parsed once, here, into types that cannot hold bad data
//! ("parse, don't validate"); the rest of the core relies on them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest free text a person may write in one field (a summary, a note, a letter body).
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest short field (a name, an account number, a staff identifier).
pub const MAX_SHORT_CHARS: usize = 200;

/// Why a value from outside was not accepted: a sentence for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid(message: impl Into<String>) -> InvalidValue {
    InvalidValue(message.into())
}

/// Checks a required short field: trimmed, not empty, no control characters, not too long.
pub fn short_text(field: &str, value: &str) -> Result<String, InvalidValue> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > MAX_SHORT_CHARS {
        return Err(invalid(format!(
            "{field} must be at most {MAX_SHORT_CHARS} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(value.to_owned())
}

/// Checks a free-text field: not empty once trimmed, not too long; line breaks are fine.
pub fn long_text(field: &str, value: &str) -> Result<String, InvalidValue> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "{field} must be at most {MAX_TEXT_CHARS} characters"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(value.to_owned())
}

/// A complaint's human-friendly reference, e.g. `CMP-2026-000123`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference(String);

impl Reference {
    /// The reference for the `sequence`th complaint first received in `year`.
    pub fn new(prefix: &str, year: i16, sequence: u64) -> Reference {
        Reference(format!("{prefix}-{year:04}-{sequence:06}"))
    }

    /// Accepts `PREFIX-YYYY-NNNNNN`: an upper-case prefix of 2 to 8 letters, a year, and a
    /// sequence of at least six digits. Lower case is accepted and upper-cased.
    pub fn parse(value: &str) -> Result<Reference, InvalidValue> {
        let upper = value.trim().to_ascii_uppercase();
        let bad = || {
            invalid(format!(
                "'{}' is not a complaint reference (they look like CMP-2026-000123)",
                value.chars().take(40).collect::<String>()
            ))
        };
        let mut parts = upper.split('-');
        let (Some(prefix), Some(year), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let prefix_ok =
            (2..=8).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_uppercase());
        let year_ok = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit());
        let seq_ok = (6..=12).contains(&seq.len()) && seq.bytes().all(|b| b.is_ascii_digit());
        if prefix_ok && year_ok && seq_ok {
            Ok(Reference(upper))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Reference {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Reference::parse(&value)
    }
}

impl From<Reference> for String {
    fn from(value: Reference) -> Self {
        value.0
    }
}

/// A UK postcode, normalised to upper case with one space before the inward code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(value: &str) -> Result<Postcode, InvalidValue> {
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let bad = || invalid(format!("'{}' is not a UK postcode", value.trim()));
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(bad());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let inward_ok = {
            let b = inward.as_bytes();
            b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
        };
        let outward_ok = outward.as_bytes()[0].is_ascii_alphabetic()
            && outward.bytes().all(|b| b.is_ascii_alphanumeric())
            && outward.bytes().any(|b| b.is_ascii_digit());
        if inward_ok && outward_ok {
            Ok(Postcode(format!("{outward} {inward}")))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Postcode {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Postcode::parse(&value)
    }
}

impl From<Postcode> for String {
    fn from(value: Postcode) -> Self {
        value.0
    }
}

/// An amount of money in whole pence. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub fn pence(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}£{}.{:02}", abs / 100, abs % 100)
    }
}

/// How a complaint (or a message in it) reached the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Telephone,
    Email,
    Letter,
    Web,
    /// Textphone or a text relay service.
    Textphone,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Telephone,
        Channel::Email,
        Channel::Letter,
        Channel::Web,
        Channel::Textphone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telephone => "telephone",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::Web => "web",
            Channel::Textphone => "textphone",
        }
    }
}

impl FromStr for Channel {
    type Err = InvalidValue;
    /// The snake_case name, exactly as the API writes it.
    fn from_str(text: &str) -> Result<Channel, InvalidValue> {
        parse_name(
            text,
            &Channel::ALL,
            Channel::as_str,
            "a channel",
            "channels",
        )
    }
}

/// What a person may do in Redress (the roles of README.md), plus the system's own clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Handler,
    TeamManager,
    CustomerResolutionManager,
    Compliance,
    Administrator,
    /// Redress itself: deadlines firing, letters it sends on its own.
    System,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Customer,
        Role::Handler,
        Role::TeamManager,
        Role::CustomerResolutionManager,
        Role::Compliance,
        Role::Administrator,
        Role::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Handler => "handler",
            Role::TeamManager => "team_manager",
            Role::CustomerResolutionManager => "customer_resolution_manager",
            Role::Compliance => "compliance",
            Role::Administrator => "administrator",
            Role::System => "system",
        }
    }

    /// Staff who handle complaints (not customers, compliance, administrators or the system).
    pub fn handles_complaints(self) -> bool {
        matches!(
            self,
            Role::Handler | Role::TeamManager | Role::CustomerResolutionManager
        )
    }

    /// Managers may read notes restricted to managers.
    pub fn is_manager(self) -> bool {
        matches!(self, Role::TeamManager | Role::CustomerResolutionManager)
    }
}

impl FromStr for Role {
    type Err = InvalidValue;
    /// The snake_case name, exactly as the API and the store write it.
    fn from_str(text: &str) -> Result<Role, InvalidValue> {
        parse_name(text, &Role::ALL, Role::as_str, "a role", "roles")
    }
}

/// Who asked for a command or caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: Role,
    /// The department key (as in the procedure file) of a member of staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// A staff identifier (e.g. an email address or payroll number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            role: Role::System,
            department: None,
            staff: None,
        }
    }

    pub fn customer() -> Actor {
        Actor {
            role: Role::Customer,
            department: None,
            staff: None,
        }
    }

    pub fn staff(role: Role, department: &str, staff: Option<&str>) -> Actor {
        Actor {
            role,
            department: Some(department.to_owned()),
            staff: staff.map(str::to_owned),
        }
    }
}

/// The customer who complains, and what they need from us to be treated fairly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub account: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<Postcode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_channel: Option<Channel>,
    /// Accessibility needs (large print, textphone, British Sign Language...), as told to us.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accessibility_needs: Vec<String>,
    /// Circumstances that make the customer vulnerable (Ofcom General Condition C5), recorded
    /// once we are told of them or could reasonably know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<String>,
}

impl Customer {
    /// Checks every field of a customer as given from outside.
    pub fn validated(self) -> Result<Customer, InvalidValue> {
        let optional = |field: &str, v: Option<String>| -> Result<Option<String>, InvalidValue> {
            match v {
                Some(v) if !v.trim().is_empty() => short_text(field, &v).map(Some),
                _ => Ok(None),
            }
        };
        let list = |field: &str, v: Vec<String>| -> Result<Vec<String>, InvalidValue> {
            if v.len() > 20 {
                return Err(invalid(format!("{field} may list at most 20 items")));
            }
            v.iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| short_text(field, s))
                .collect()
        };
        let email = optional("the customer's email address", self.email)?
            .map(|e| parse_email(&e))
            .transpose()?;
        Ok(Customer {
            account: short_text("the customer's account number", &self.account)?,
            name: short_text("the customer's name", &self.name)?,
            email,
            telephone: optional("the customer's telephone number", self.telephone)?,
            address: list("the customer's address", self.address)?,
            postcode: self.postcode,
            preferred_channel: self.preferred_channel,
            accessibility_needs: list("accessibility needs", self.accessibility_needs)?,
            vulnerabilities: list("vulnerabilities", self.vulnerabilities)?,
        })
    }
}

/// One email address, as an RFC 5322 addr-spec (`name@example.com`): no display name, no
/// list, no quoted or bracketed parts, a domain with a dot. The value is not repeated in the
/// error, which can reach logs.
pub fn parse_email(text: &str) -> Result<String, InvalidValue> {
    let text = text.trim();
    let plain = text.len() <= 254
        && !text.is_empty()
        && !text
            .contains(|c: char| c.is_whitespace() || c.is_control() || "\",;:<>()[]".contains(c))
        && text.matches('@').count() == 1;
    let domain_ok = text
        .rsplit_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if plain && domain_ok && email_address::EmailAddress::is_valid(text) {
        Ok(text.to_owned())
    } else {
        Err(invalid(
            "the customer's email address must be one address in the form name@example.com",
        ))
    }
}

/// A rung of the ladder, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Stage(u8);

impl Stage {
    pub const CUSTOMER_SERVICES: Stage = Stage(1);
    pub const ESCALATION_TEAM: Stage = Stage(2);
    pub const CUSTOMER_RESOLUTION: Stage = Stage(3);
    pub const RESOLUTION_MANAGER: Stage = Stage(4);
    pub const OMBUDSMAN: Stage = Stage(5);

    pub fn new(number: u8) -> Result<Stage, InvalidValue> {
        if (1..=5).contains(&number) {
            Ok(Stage(number))
        } else {
            Err(invalid(format!(
                "stage {number} does not exist; stages are 1 to 5"
            )))
        }
    }

    pub fn number(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Stage {
    type Error = InvalidValue;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Stage::new(value)
    }
}

impl From<Stage> for u8 {
    fn from(value: Stage) -> Self {
        value.0
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a complaint stands, separately from its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    ResolutionOffered,
    /// The customer accepted a resolution.
    Resolved,
    Deadlocked,
    ReferredToAdr,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Open,
        Status::ResolutionOffered,
        Status::Resolved,
        Status::Deadlocked,
        Status::ReferredToAdr,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::ResolutionOffered => "resolution_offered",
            Status::Resolved => "resolved",
            Status::Deadlocked => "deadlocked",
            Status::ReferredToAdr => "referred_to_adr",
            Status::Closed => "closed",
        }
    }
}

impl FromStr for Status {
    type Err = InvalidValue;
    /// The snake_case name, exactly as the API and the store write it.
    fn from_str(text: &str) -> Result<Status, InvalidValue> {
        parse_name(text, &Status::ALL, Status::as_str, "a status", "statuses")
    }
}

/// One of a fixed list of snake_case names, or a sentence naming them all. Exact, as serde
/// reads them: no trimming, no other case.
fn parse_name<T: Copy>(
    text: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    one: &str,
    many: &str,
) -> Result<T, InvalidValue> {
    all.iter()
        .copied()
        .find(|v| name(*v) == text)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            invalid(format!(
                "'{}' is not {one}; the {many} are {}",
                text.chars().take(40).collect::<String>(),
                names.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_field_holds_exactly_one_plain_address() {
        for good in [
            "ann@example.com",
            "ann.o'neil+complaints@mail.example.co.uk",
            " a@b.io ",
        ] {
            assert!(parse_email(good).is_ok(), "{good}");
        }
        for bad in [
            "a@b.com,evil@x.com",
            "a@b.com;evil@x.com",
            "a@b.com evil@x.com",
            "Ann <ann@example.com>",
            "\"a b\"@example.com",
            "ann@example",
            "@example.com",
            "ann@",
            "ann@@example.com",
            "ann@exa mple.com",
            "ann@example.com\r\nBcc: evil@x.com",
            "ann@[127.0.0.1]",
            "ann@example..com",
        ] {
            let error = parse_email(bad).expect_err(bad).to_string();
            // The value stays out of the message.
            assert!(
                error.ends_with("must be one address in the form name@example.com"),
                "{error}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(parse_email(&long).is_err());
    }

    #[test]
    fn references_parse_and_normalise() {
        assert_eq!(
            Reference::parse(" cmp-2026-000123 ").unwrap().as_str(),
            "CMP-2026-000123"
        );
        assert_eq!(Reference::new("CMP", 2026, 7).as_str(), "CMP-2026-000007");
        for bad in [
            "",
            "CMP",
            "CMP-26-000001",
            "CMP-2026-12",
            "C-2026-000001",
            "CMP-2026-00000A",
            "CMP-2026-000001-1",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn postcodes_parse_and_normalise() {
        assert_eq!(Postcode::parse("m224sy").unwrap().as_str(), "M22 4SY");
        assert_eq!(Postcode::parse("SW1A 1AA").unwrap().as_str(), "SW1A 1AA");
        assert_eq!(Postcode::parse("b1 1aa").unwrap().as_str(), "B1 1AA");
        for bad in ["", "M22", "12345", "M22 4S1", "ÄÄ1 1AA", "M22 4SYX"] {
            assert!(Postcode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn money_displays_in_pounds_and_pence() {
        assert_eq!(Money(1234).to_string(), "£12.34");
        assert_eq!(Money(5).to_string(), "£0.05");
        assert_eq!(Money(-250).to_string(), "-£2.50");
    }

    #[test]
    fn names_parse_back_as_serde_reads_them() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        for channel in Channel::ALL {
            assert_eq!(channel.as_str().parse::<Channel>(), Ok(channel));
        }
        assert_eq!(
            "Open".parse::<Status>().unwrap_err().to_string(),
            "'Open' is not a status; the statuses are open, resolution_offered, resolved, deadlocked, referred_to_adr, closed"
        );
        assert!(" handler".parse::<Role>().is_err());
        assert_eq!(
            "fax".parse::<Channel>().unwrap_err().to_string(),
            "'fax' is not a channel; the channels are telephone, email, letter, web, textphone"
        );
    }

    #[test]
    fn stages_are_one_to_five() {
        assert!(Stage::new(0).is_err());
        assert!(Stage::new(6).is_err());
        assert_eq!(Stage::new(3).unwrap(), Stage::CUSTOMER_RESOLUTION);
    }

    #[test]
    fn short_text_refuses_empty_long_and_control_characters() {
        assert!(short_text("name", "  ").is_err());
        assert!(short_text("name", &"x".repeat(MAX_SHORT_CHARS + 1)).is_err());
        assert!(short_text("name", "a\u{7}b").is_err());
        assert_eq!(short_text("name", " Ann ").unwrap(), "Ann");
        assert!(long_text("summary", "line one\nline two").is_ok());
    }
}
