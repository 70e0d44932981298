//! People: staff accounts (argon2id password hashes), sessions for staff and customers,
//! sign-in throttling, customers' one-time links, and the complaints a customer may see.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use redress_core::Role;
use redress_core::model::Postcode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::read::ComplaintSummary;
use super::{Store, StoreError, from_micros, micros};

/// How long a session lasts without signing in again.
pub const SESSION_HOURS: i64 = 8;
/// How long a customer's one-time link works.
pub const LINK_MINUTES: i64 = 30;
/// Requests for sign-in links allowed per address in the window.
pub const MAX_FAILURES: i64 = 5;
/// How long a failed sign-in counts against an account or an address.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub department: Option<String>,
}

/// Which complaints a customer session may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CustomerScope {
    /// Signed in through a link sent to this address: the complaints recorded with it (the
    /// link proves control of the address).
    Email { email: String },
    /// Signed in with a reference and postcode: that one complaint. An account number proves
    /// nothing (anyone can type one into the public form), so it never links complaints.
    Reference { reference: String },
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOwner {
    Staff(User),
    Customer(CustomerScope),
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub owner: SessionOwner,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// A random token, as lower-case hex (256 bits).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An argon2id hash (PHC string) of a password with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("cannot hash a password: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

pub(crate) fn role_from(text: &str) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown role '{text}'")))
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: role_from(&row.try_get::<String, _>("role")?)?,
        department: row.try_get("department")?,
    })
}

impl Store {
    /// Creates a staff account. The email is kept in lower case.
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password: &str,
        role: Role,
        department: Option<&str>,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let hash = hash_password(password)?;
        let mut w = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO users (email, name, password_hash, role, department, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, email, name, role, department",
        )
        .bind(email.trim().to_lowercase())
        .bind(name.trim())
        .bind(hash)
        .bind(role.as_str())
        .bind(department)
        .bind(micros(now))
        .fetch_one(&mut *w.tx)
        .await?;
        let user = user_from(&row)?;
        w.tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT id, email, name, role, department FROM users WHERE id = $1 AND disabled_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// The active members of a department, by name.
    pub async fn department_staff(&self, department: &str) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, email, name, role, department FROM users \
             WHERE department = $1 AND disabled_at IS NULL ORDER BY name, email",
        )
        .bind(department.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from).collect()
    }

    /// The active staff with these identifiers (email addresses, any case), by lower-case
    /// address: how pages show people by name. At most 200 are looked up.
    pub async fn staff_by_email(
        &self,
        emails: &[String],
    ) -> Result<std::collections::HashMap<String, User>, StoreError> {
        let mut wanted: Vec<String> = emails.iter().map(|e| e.trim().to_lowercase()).collect();
        wanted.sort();
        wanted.dedup();
        wanted.truncate(200);
        let mut out = std::collections::HashMap::new();
        if wanted.is_empty() {
            return Ok(out);
        }
        let list: Vec<String> = (1..=wanted.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, email, name, role, department FROM users \
             WHERE lower(email) IN ({}) AND disabled_at IS NULL",
            list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for email in &wanted {
            query = query.bind(email.clone());
        }
        for row in query.fetch_all(&self.pool).await? {
            let user = user_from(&row)?;
            out.insert(user.email.trim().to_lowercase(), user);
        }
        Ok(out)
    }

    /// Failed sign-ins for a throttle key (an account or an address) within the window, and
    /// when the last of them was.
    pub async fn failures(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<(i64, Option<Timestamp>), StoreError> {
        let since = now - SignedDuration::from_mins(FAILURE_WINDOW_MINUTES);
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM sign_in_failures WHERE key = $1 AND at > $2",
        )
        .bind(key)
        .bind(micros(since))
        .fetch_one(&self.pool)
        .await?;
        let last: Option<i64> = row.try_get("last")?;
        Ok((row.try_get("n")?, last.map(from_micros).transpose()?))
    }

    /// Recent failed sign-ins for a throttle key.
    pub async fn recent_failures(&self, key: &str, now: Timestamp) -> Result<i64, StoreError> {
        Ok(self.failures(key, now).await?.0)
    }

    /// Forgets a key's failures (after a successful sign-in).
    pub async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query("DELETE FROM sign_in_failures WHERE key = $1").bind(key.to_owned()),
        )
        .await?;
        Ok(())
    }

    pub async fn record_failure(&self, keys: &[&str], now: Timestamp) -> Result<(), StoreError> {
        let mut w = self.begin_write().await?;
        let old = now - SignedDuration::from_hours(24);
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(micros(old))
            .execute(&mut *w.tx)
            .await?;
        for key in keys {
            sqlx::query("INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)")
                .bind(*key)
                .bind(micros(now))
                .execute(&mut *w.tx)
                .await?;
        }
        w.tx.commit().await?;
        Ok(())
    }

    /// Checks an email and password. Always spends an argon2 verification, so an unknown
    /// address takes as long as a wrong password.
    pub async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, name, role, department, password_hash FROM users WHERE email = $1 AND disabled_at IS NULL",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        // A fixed hash of a random password stands in for an unknown account.
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default());
        let (user, hash) = match &row {
            Some(row) => (
                Some(user_from(row)?),
                row.try_get::<String, _>("password_hash")?,
            ),
            None => (None, dummy.clone()),
        };
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        Ok(if ok { user } else { None })
    }

    /// Starts a session; returns the cookie value (only its hash is stored).
    pub async fn create_session(
        &self,
        owner: &SessionOwner,
        now: Timestamp,
    ) -> Result<(String, Session), StoreError> {
        let token = random_token();
        let csrf = random_token();
        let expires = now + SignedDuration::from_hours(SESSION_HOURS);
        let (user_id, scope) = match owner {
            SessionOwner::Staff(user) => (Some(user.id), None),
            SessionOwner::Customer(scope) => (
                None,
                Some(serde_json::to_string(scope).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            ),
        };
        let mut w = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(micros(now))
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, customer_scope, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sha256_hex(&token))
        .bind(user_id)
        .bind(scope)
        .bind(&csrf)
        .bind(micros(now))
        .bind(micros(expires))
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok((
            token,
            Session {
                owner: owner.clone(),
                csrf_token: csrf,
                expires_at: expires,
            },
        ))
    }

    /// The live session for a cookie value, if any.
    pub async fn session(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        if token.len() > 128 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT user_id, customer_scope, csrf_token, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(sha256_hex(token))
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: Option<i64> = row.try_get("user_id")?;
        let scope: Option<String> = row.try_get("customer_scope")?;
        let owner = match (user_id, scope) {
            (Some(id), _) => match self.user(id).await? {
                Some(user) => SessionOwner::Staff(user),
                None => return Ok(None),
            },
            // A scope this version does not know (one stored before customers' reach was
            // narrowed) grants nothing: the customer signs in again.
            (None, Some(scope)) => match serde_json::from_str(&scope) {
                Ok(scope) => SessionOwner::Customer(scope),
                Err(_) => return Ok(None),
            },
            (None, None) => return Ok(None),
        };
        Ok(Some(Session {
            owner,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: from_micros(row.try_get("expires_at")?)?,
        }))
    }

    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(sha256_hex(token)),
        )
        .await?;
        Ok(())
    }

    /// Makes a one-time sign-in link token for an email address, and records the email to
    /// send in the outbox of every complaint with that address (none: nothing is sent, and the
    /// caller says the same either way, so addresses cannot be probed).
    pub async fn create_customer_link(
        &self,
        email: &str,
        link_base: &str,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let email = email.trim().to_lowercase();
        let token = random_token();
        let mut w = self.begin_write().await?;
        let complaint = sqlx::query(
            "SELECT id FROM complaints WHERE customer_email = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(&email)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(complaint) = complaint else {
            return Ok(None);
        };
        let complaint_id: i64 = complaint.try_get("id")?;
        sqlx::query("INSERT INTO customer_links (token_hash, email, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(sha256_hex(&token))
            .bind(&email)
            .bind(micros(now))
            .bind(micros(now + SignedDuration::from_mins(LINK_MINUTES)))
            .execute(&mut *w.tx)
            .await?;
        let payload = serde_json::json!({ "to": email, "link": format!("{link_base}{token}"), "letter": "sign_in_link" });
        sqlx::query(
            "INSERT INTO outbox (complaint_id, event_sequence, kind, channel, payload, created_at, next_attempt_at) \
             VALUES ($1, $2, 'sign_in_link', 'email', $3, $4, $4)",
        )
        .bind(complaint_id)
        // Links are not events: a negative, unique sequence keeps them apart in the outbox.
        .bind(-micros(now))
        .bind(payload.to_string())
        .bind(micros(now))
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(Some(token))
    }

    /// Uses a one-time link: the email it was for, once, while it is fresh.
    pub async fn use_customer_link(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        if token.len() > 128 {
            return Ok(None);
        }
        let mut w = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE customer_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING email",
        )
        .bind(micros(now))
        .bind(sha256_hex(token))
        .fetch_optional(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(row.map(|r| r.try_get("email")).transpose()?)
    }

    /// The scope for a reference and postcode that match one complaint: that complaint only.
    pub async fn customer_scope_for(
        &self,
        reference: &str,
        postcode: &Postcode,
    ) -> Result<Option<CustomerScope>, StoreError> {
        let row = sqlx::query(
            "SELECT reference FROM complaints WHERE reference = $1 AND customer_postcode = $2",
        )
        .bind(reference)
        .bind(postcode.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| r.try_get::<String, _>("reference"))
            .transpose()?
            .map(|reference| CustomerScope::Reference { reference }))
    }

    /// The complaints a customer scope may see (at most 100), soonest deadline first.
    pub async fn customer_complaints(
        &self,
        scope: &CustomerScope,
    ) -> Result<Vec<ComplaintSummary>, StoreError> {
        let mut filter = super::ComplaintFilter {
            limit: 100,
            ..Default::default()
        };
        match scope {
            CustomerScope::Email { email } => filter.customer_email = Some(email.clone()),
            CustomerScope::Reference { reference } => filter.reference = Some(reference.clone()),
        }
        Ok(self.list_complaints(&filter).await?.items)
    }

    /// Whether a customer scope covers a complaint.
    pub fn scope_covers(scope: &CustomerScope, complaint: &redress_core::Complaint) -> bool {
        match scope {
            CustomerScope::Email { email } => complaint
                .customer
                .email
                .as_deref()
                .is_some_and(|e| e.trim().eq_ignore_ascii_case(email)),
            CustomerScope::Reference { reference } => complaint.reference.as_str() == reference,
        }
    }

    /// The files attached to a complaint, oldest first.
    pub async fn attachments(&self, reference: &str) -> Result<Vec<AttachmentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.sha256, a.filename, a.content_type, a.size_bytes, a.uploaded_at, a.uploaded_by \
             FROM attachments a JOIN complaints c ON c.id = a.complaint_id WHERE c.reference = $1 ORDER BY a.id",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttachmentRow {
                    id: r.try_get("id")?,
                    sha256: r.try_get("sha256")?,
                    filename: r.try_get("filename")?,
                    content_type: r.try_get("content_type")?,
                    size: r.try_get("size_bytes")?,
                    uploaded_at: from_micros(r.try_get("uploaded_at")?)?,
                    uploaded_by: r.try_get("uploaded_by")?,
                })
            })
            .collect()
    }
}

/// A recorded file.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentRow {
    /// The file's number, for its address (`/staff/complaints/{reference}/files/{id}`).
    pub id: i64,
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}
