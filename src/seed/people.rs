//! Who the seeded complaints are from and who handles them: customers with addresses,
//! contact details, accessibility needs and circumstances that make them vulnerable, and a
//! staff roster for every department of the procedure.
//!
//! Nothing here is anyone's personal data: names are common first names and surnames paired
//! at random, email addresses are at the reserved example domains, and telephone numbers are
//! in the ranges Ofcom keeps for drama (07700 900xxx, 0161 496 0xxx, 020 7946 0xxx).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use redress_core::{Actor, Channel, Customer, Procedure, Role, Stage, model::Postcode};

const FIRST: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophia", "Lily", "Freya", "Emily", "Ella",
    "Poppy", "Evie", "Florence", "Ruby", "Alice", "Margaret", "Susan", "Patricia", "Jean",
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Muhammad", "Oscar", "Charlie",
    "Jacob", "Thomas", "Henry", "William", "James", "David", "John", "Peter", "Michael", "Robert",
    "Priya", "Aisha", "Fatima", "Zara", "Amir", "Ravi", "Wei", "Chen", "Kwame", "Tomasz",
    "Siobhan", "Niamh", "Eilidh", "Cerys", "Dylan", "Rhys", "Callum", "Fraser", "Seren", "Aoife",
];

const LAST: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Khan",
    "Ali",
    "Begum",
    "Campbell",
    "Stewart",
    "MacDonald",
    "Kowalski",
    "Nguyen",
    "Okafor",
    "Singh",
];

/// Towns with outward codes of theirs.
const TOWNS: &[(&str, &[&str])] = &[
    ("Manchester", &["M14", "M20", "M22", "M8"]),
    ("Leeds", &["LS6", "LS8", "LS11"]),
    ("Birmingham", &["B15", "B29", "B13"]),
    ("Glasgow", &["G12", "G41", "G31"]),
    ("Bristol", &["BS6", "BS7", "BS3"]),
    ("Cardiff", &["CF14", "CF24", "CF5"]),
    ("Liverpool", &["L15", "L18", "L8"]),
    ("Sheffield", &["S10", "S11", "S7"]),
    ("Newcastle upon Tyne", &["NE6", "NE4"]),
    ("Nottingham", &["NG7", "NG5"]),
    ("London", &["SE15", "N16", "E17", "SW2", "NW10", "W12"]),
    ("Edinburgh", &["EH6", "EH11"]),
    ("Belfast", &["BT9", "BT7"]),
    ("Norwich", &["NR2", "NR3"]),
    ("Plymouth", &["PL4", "PL2"]),
    ("Leicester", &["LE2", "LE3"]),
    ("Stoke-on-Trent", &["ST4", "ST6"]),
    ("Brighton", &["BN2", "BN1"]),
    ("Southampton", &["SO17", "SO15"]),
    ("Aberdeen", &["AB24", "AB10"]),
    ("Swansea", &["SA1", "SA2"]),
    ("York", &["YO10", "YO31"]),
    ("Exeter", &["EX4", "EX2"]),
    ("Hull", &["HU5", "HU3"]),
    ("Reading", &["RG1", "RG30"]),
];

const STREETS: &[&str] = &[
    "Church Road",
    "Station Road",
    "Victoria Street",
    "Park Avenue",
    "Mill Lane",
    "High Street",
    "Queens Road",
    "Grange Road",
    "Manor Way",
    "Kings Drive",
    "Oak Close",
    "Chapel Street",
    "Albert Road",
    "Windsor Gardens",
    "Springfield Road",
    "The Crescent",
    "Meadow View",
    "School Lane",
    "North Street",
    "Orchard Close",
];

/// Accessibility needs, with the share of customers who have each (about 6% have one).
const NEEDS: &[(&str, f64)] = &[
    ("large print", 0.020),
    ("braille", 0.003),
    ("British Sign Language interpreter", 0.005),
    ("text relay", 0.008),
    ("easy read", 0.004),
    ("audio format", 0.003),
    ("extra time on calls", 0.012),
    ("calls to a nominated family member", 0.005),
];

/// Circumstances that make a customer vulnerable, with shares (about 11% have one).
const VULNERABILITIES: &[(&str, f64)] = &[
    ("bereavement", 0.012),
    ("serious illness", 0.015),
    ("mental health condition", 0.020),
    ("over 75 and lives alone", 0.015),
    ("financial difficulty", 0.020),
    ("recent job loss", 0.008),
    ("hearing impairment", 0.006),
    ("sight impairment", 0.004),
    ("cognitive impairment", 0.004),
    ("relies on the line for a personal alarm", 0.004),
    ("domestic abuse: contact only as agreed", 0.002),
];

/// Picks one of `items` with probability proportional to its weight.
pub fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (item, weight) in items {
        if x < *weight {
            return *item;
        }
        x -= weight;
    }
    items[items.len() - 1].0
}

pub fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A customer, drawn for the complaint at `index` arriving by `channel`.
pub fn customer(rng: &mut ChaCha8Rng, index: u64, channel: Channel) -> Customer {
    let first = *pick(rng, FIRST);
    let last = *pick(rng, LAST);
    // A bijection of the index onto eight digits, so accounts differ but do not count up.
    let account = format!(
        "KX{:08}",
        (index.wrapping_mul(48_271) + 12_345_678) % 100_000_000
    );
    let email = rng.random_bool(0.82).then(|| {
        let domain = *pick(rng, &["example.com", "example.org", "example.net"]);
        format!(
            "{}.{}{}@{domain}",
            first.to_lowercase(),
            last.to_lowercase(),
            rng.random_range(1..100)
        )
    });
    let telephone = rng.random_bool(0.9).then(|| match rng.random_range(0..3) {
        0 => format!("0161 496 0{:03}", rng.random_range(0..1000)),
        1 => format!("020 7946 0{:03}", rng.random_range(0..1000)),
        _ => format!("07700 900{:03}", rng.random_range(0..1000)),
    });
    let (town, outwards) = *pick(rng, TOWNS);
    let outward = *pick(rng, outwards);
    let letters = b"ABDEFGHJLNPQRSTUWXYZ";
    let inward = format!(
        "{}{}{}",
        rng.random_range(0..10),
        letters[rng.random_range(0..letters.len())] as char,
        letters[rng.random_range(0..letters.len())] as char
    );
    let postcode = Postcode::parse(&format!("{outward} {inward}")).ok();
    let address = vec![
        format!("{} {}", rng.random_range(1..180), pick(rng, STREETS)),
        town.to_owned(),
    ];
    let mut accessibility_needs: Vec<String> = NEEDS
        .iter()
        .filter(|(_, share)| rng.random_bool(*share))
        .map(|(need, _)| (*need).to_owned())
        .collect();
    if channel == Channel::Textphone && !accessibility_needs.iter().any(|n| n == "text relay") {
        accessibility_needs.push("text relay".to_owned());
    }
    let vulnerabilities = VULNERABILITIES
        .iter()
        .filter(|(_, share)| rng.random_bool(*share))
        .map(|(v, _)| (*v).to_owned())
        .collect();
    // Post for those who ask for it, and always for braille and large print readers without
    // email; email for most of the rest.
    let wants_paper = accessibility_needs
        .iter()
        .any(|n| n == "braille" || n == "large print");
    let preferred_channel = match (&email, wants_paper) {
        (_, true) => Some(Channel::Letter),
        (Some(_), false) if rng.random_bool(0.06) => Some(Channel::Letter),
        (Some(_), false) if rng.random_bool(0.3) => Some(Channel::Email),
        (None, false) if rng.random_bool(0.4) => Some(Channel::Letter),
        (None, false) if rng.random_bool(0.3) => Some(Channel::Telephone),
        _ => None,
    };
    Customer {
        account,
        name: format!("{first} {last}"),
        email,
        telephone,
        address,
        postcode,
        preferred_channel,
        accessibility_needs,
        vulnerabilities,
    }
}

/// One department's people.
pub struct Team {
    pub department: String,
    /// Handlers (for the Customer Resolution Manager's department, the managers themselves).
    pub handlers: Vec<String>,
    pub managers: Vec<String>,
    pub handler_role: Role,
    pub manager_role: Role,
}

/// Everyone who acts on the seeded complaints. The same for every seed.
pub struct Staff {
    /// By stage, 1 to 5 (index 0 is stage 1).
    teams: Vec<Team>,
    pub compliance: Vec<String>,
    /// Who prints and posts letters.
    pub post_room: String,
}

impl Staff {
    pub fn new(procedure: &Procedure) -> Staff {
        let mut next = 0_usize;
        let mut names = |n: usize| -> Vec<String> {
            (0..n)
                .map(|_| {
                    let k = next;
                    next += 1;
                    // Every pair once: first names run fastest, surnames step on each round.
                    let first = FIRST[k % FIRST.len()];
                    let last = LAST[(k / FIRST.len() + k * 7) % LAST.len()];
                    format!("{}.{}", first.to_lowercase(), last.to_lowercase())
                })
                .collect()
        };
        let review = procedure
            .department_of(Stage::RESOLUTION_MANAGER)
            .to_owned();
        let mut teams: Vec<Team> = Vec::with_capacity(5);
        for (number, (handlers, managers)) in
            (1..=5u8).zip([(60, 6), (16, 3), (12, 2), (3, 0), (0, 0)])
        {
            let stage = Stage::new(number).unwrap_or(Stage::CUSTOMER_SERVICES);
            let department = procedure.department_of(stage).to_owned();
            // A department owning two stages (the ombudsman's side is the Customer Resolution
            // department's) has one team.
            if let Some(team) = teams.iter().find(|t| t.department == department) {
                teams.push(Team {
                    department: team.department.clone(),
                    handlers: team.handlers.clone(),
                    managers: team.managers.clone(),
                    handler_role: team.handler_role,
                    manager_role: team.manager_role,
                });
                continue;
            }
            let is_review = department == review;
            let handler_role = if is_review {
                Role::CustomerResolutionManager
            } else {
                Role::Handler
            };
            let manager_role = if is_review {
                Role::CustomerResolutionManager
            } else {
                Role::TeamManager
            };
            let handlers = names(handlers.max(2));
            let managers = if is_review {
                handlers.clone()
            } else {
                names(managers.max(1))
            };
            teams.push(Team {
                department,
                handlers,
                managers,
                handler_role,
                manager_role,
            });
        }
        Staff {
            teams,
            compliance: names(3),
            post_room: names(1).pop().unwrap_or_else(|| "post.room".to_owned()),
        }
    }

    pub fn team(&self, stage: Stage) -> &Team {
        &self.teams[usize::from(stage.number().clamp(1, 5)) - 1]
    }

    /// The Customer Resolution Manager's team (who may approve the largest compensation).
    pub fn review(&self) -> &Team {
        self.team(Stage::RESOLUTION_MANAGER)
    }
}

impl Team {
    /// A handler not among `avoid`.
    pub fn handler(&self, rng: &mut ChaCha8Rng, avoid: &[String]) -> Actor {
        let name = choose(rng, &self.handlers, avoid);
        Actor::staff(self.handler_role, &self.department, Some(&name))
    }

    /// A manager not among `avoid`.
    pub fn manager(&self, rng: &mut ChaCha8Rng, avoid: &[String]) -> Actor {
        let name = choose(rng, &self.managers, avoid);
        Actor::staff(self.manager_role, &self.department, Some(&name))
    }

    /// The named member of this team, as a handler.
    pub fn as_handler(&self, name: &str) -> Actor {
        Actor::staff(self.handler_role, &self.department, Some(name))
    }
}

/// Someone from `names` not among `avoid` (the staff a complaint is about never handle it).
fn choose(rng: &mut ChaCha8Rng, names: &[String], avoid: &[String]) -> String {
    for _ in 0..8 {
        let name = pick(rng, names);
        if !avoid.contains(name) {
            return name.clone();
        }
    }
    names
        .iter()
        .find(|n| !avoid.contains(n))
        .cloned()
        .unwrap_or_else(|| "duty.manager".to_owned())
}
